"""Weighted interpolating nearest neighbours: the singular-kernel Nadaraya–Watson estimator.

The estimators validate (the mixins of :mod:`skinterp._base`) and copy the fitted model's
fields to attributes; ``fit`` and ``predict`` live in :mod:`skinterp.neighbors._core`.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

from skinterp._base import (
    InterpolatingRegressorMixin,
    SquareLossClassifierMixin,
    fitted_model,
    output_dtype,
    report_interpolation,
    set_fitted,
)
from skinterp.neighbors._core import (
    SingularKernelNNModel,
    fit_singular_kernel_nn,
    predict_singular_kernel_nn,
)


class _SingularKernelNNBase(BaseEstimator):
    """The maths shared by the regressor and the classifier: fit stores, predict averages."""

    _parameter_constraints: dict = {
        "n_neighbors": [Interval(Integral, 1, None, closed="left"), None],
        "alpha": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "weight": [StrOptions({"power", "log"})],
        "algorithm": [StrOptions({"auto", "kd_tree", "brute"})],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    _fit_validation = {"ensure_min_samples": 2}

    def __init__(
        self,
        n_neighbors=10,
        *,
        alpha="auto",
        weight="power",
        algorithm="auto",
        n_jobs=None,
        verbose=0,
    ):
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.weight = weight
        self.algorithm = algorithm
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _fit_targets(self, X, Y, sample_weight, *, check_n_neighbors=True):
        model = fit_singular_kernel_nn(
            X,
            Y,
            sample_weight,
            n_neighbors=self.n_neighbors,
            alpha=self.alpha,
            weight=self.weight,
            algorithm=self.algorithm,
            check_count=check_n_neighbors,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            name=type(self).__name__,
        )
        # Fitted attributes only now: an interrupted fit leaves the estimator as it was.
        set_fitted(self, model)
        report_interpolation(self, model.train_residual, np.float64)

    def _model(self):
        return fitted_model(self, SingularKernelNNModel)

    def _predict_targets(self, X, search=None):
        """float64 predictions (or class scores) of the validated ``X``; ``search`` as in
        :func:`skinterp.neighbors._core.average`."""
        return predict_singular_kernel_nn(
            self._model(),
            X,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
            search=search,
            name=type(self).__name__,
        )


_PARAMETERS_DOC = """
    Parameters
    ----------
    n_neighbors : int or None, default=10
        Number ``k`` of neighbours averaged. ``None`` averages over all training points (power
        weight only): with ``alpha`` equal to the dimension this is the Hilbert kernel
        estimate of Devroye, Györfi & Krzyżak (1998).
    alpha : float > 0 or "auto", default="auto"
        Exponent of the power weight ``phi(t) = t ** -alpha``. ``"auto"`` sets it to half the
        Levina–Bickel estimate of the intrinsic dimension of the training points (see Notes);
        the value used is ``alpha_``. Ignored by the log weight.
    weight : {"power", "log"}, default="power"
        The singular function ``phi``: ``t ** -alpha`` or ``-log(t)``, with ``t`` the distance
        to a neighbour divided by the distance to the ``(k+1)``-th neighbour.
    algorithm : {"auto", "kd_tree", "brute"}, default="auto"
        Exact neighbour search: scipy's KD-tree (low dimension) or blocked BLAS distances with a
        numba selection (high dimension). ``"auto"`` picks the KD-tree up to 8 features.
    n_jobs : int or None, default=None
        Threads of the estimator's parallel sections (search and averaging; each thread calls BLAS
        with one thread), numbers as in joblib (``-1``: every core). ``None``: the ``n_jobs`` of an
        enclosing ``joblib.parallel_config``, else as many threads as BLAS uses here (every core
        unless limited, e.g. inside a ``GridSearchCV`` worker process); see the user guide's thread
        model. Results do not depend on it.
    verbose : int, default=0
        Progress on stderr: the steps of ``fit`` and, for ``predict``, one line per chunk of
        queries (at most one a second) with the time left.
"""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    alpha_ : float
        The exponent used.
    intrinsic_dimension_ : float or None
        The intrinsic dimension estimate behind ``alpha="auto"``; None otherwise.
    n_neighbors_ : int
        The number ``k`` of training rows averaged (``n_samples_fit_`` when
        ``n_neighbors=None``).
    n_samples_fit_ : int
        Number of training rows (of positive sample weight), duplicates included.
    n_points_fit_ : int
        Number of distinct training points: exact duplicates are merged into one point that
        carries their number (or summed sample weight) and their mean target.
    algorithm_ : str
        The search used, ``"kd_tree"`` or ``"brute"``.
    weight_ : str
        The weight used (``weight``).
    all_points_ : bool
        Whether every training point is averaged (``n_neighbors=None``).
    points_ : ndarray of shape (n_points_fit_, n_features)
        The distinct training points, centred and scaled by ``2 ** -exponent_`` (exact).
    masses_ : ndarray of shape (n_points_fit_,)
        The rows each point stands for (its multiplicity, or its summed sample weight).
    targets_ : ndarray of shape (n_points_fit_, n_outputs)
        Their (weighted) mean targets, float64 (one-hot scores for the classifier).
    centre_ : ndarray of shape (n_features,)
        The centre subtracted from inputs.
    exponent_ : int
        Inputs are scaled by ``2 ** -exponent_`` after centring.
    index_ : object
        The search index over ``points_`` (a k-d tree or the brute-force tiles).
    train_residual_ : float
        Relative training residual ``max_i |f(x_i) - y_i| / max_i |y_i|``. It is 0 unless
        duplicate rows carry different targets: they get their (weighted) mean. Computed from
        the merge, without a predict.
    interpolates_ : bool
        Whether ``train_residual_`` is within 1e-6 (the package's float64 tolerance).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string feature names.
"""

_NOTES_DOC = """
    Over the ``k`` nearest neighbours ``x_(1), ..., x_(k)`` of ``x``,

    .. math:: f(x) = \\frac{\\sum_i w_i y_{(i)}}{\\sum_i w_i}, \\qquad
              w_i = \\phi\\left(\\frac{\\|x - x_{(i)}\\|}{\\|x - x_{(k+1)}\\|}\\right).

    Because ``phi`` is singular at 0, ``f(x_i) = y_i`` at every training point: the estimator
    interpolates, yet with ``alpha < d/2`` (``d`` the intrinsic dimension) it is consistent, even
    with label noise (Belkin, Hsu & Mitra, 2018; Belkin, Rakhlin & Tsybakov, 2019; Belkin, 2021,
    Section 3.5). Weights are computed relative to the nearest neighbour, so tiny distances cannot
    overflow; a query at distance 0 from a training point returns that point's target.

    **Duplicates and sample weights.** Exact duplicate rows are merged into one point that keeps
    its multiplicity: the ``k`` neighbours are ``k`` *rows*. Distinct points are taken in order
    of distance until their multiplicities cover ``k`` rows (the last one contributing only the
    rows still needed), and each weighs its number of rows used times ``phi``; ``x_(k+1)`` of
    the log weight is the row after those ``k``. With ``alpha = 1`` and the power weight,
    predictions therefore equal those of ``KNeighborsRegressor(n_neighbors=k,
    weights="distance")`` (``KNeighborsClassifier`` for the classifier) on any data, duplicates
    included, up to the choice among equidistant rows. A merged point's target is the mean of
    its rows' targets: where those differ the fit cannot interpolate, and ``train_residual_``
    and ``interpolates_`` say so. ``sample_weight`` are frequency weights: weight ``r`` acts as
    the row repeated ``r`` times, in the count of ``k`` rows (fractional weights count
    fractionally) and in the average (``w_i * phi``); weight 0 removes the row; negative weights
    raise ``ValueError``, and so do all-zero weights and a total weight below ``n_neighbors``
    (below or equal for the log weight). Distance ties between distinct points go to the point
    first in the merged (canonical) order, which does not depend on the order of the rows.

    **Any scale.** The method depends only on the order of distances and their ratios, so it
    is invariant under translation and scaling of the inputs. ``fit`` centres each feature at
    its midrange and divides by a power of two (exact) so that the points lie in [-1, 1], and
    applies the same to the queries: data of scale 2**-1000 or 2**1000, or offset by 1e12,
    give the predictions of the same data near 1 (bitwise, when the transformed inputs are
    exact; tested for offsets up to 1e12 and scales ``2**k``, ``|k| <= 1000``). Distances are exact
    float64 differences of the normalised inputs (brute force selects candidates on expanded
    float32 scores but certifies and recomputes them exactly): at offset 1e6 in 20 dimensions
    the predictions stay exact where scikit-learn's brute force is off by 0.16. Queries more than
    2**500 times the data's extent away from it raise ``ValueError`` (their squared distances
    would overflow).

    **dtypes.** float32 inputs give float32 predictions and probabilities; the arithmetic is
    float64 throughout.

    **Ctrl-C.** ``predict`` runs in chunks of about 0.1 s of work (and ``fit``'s search for the
    intrinsic dimension in point tiles), so ``KeyboardInterrupt`` arrives within about a
    second; an interrupted ``fit`` leaves the estimator as it was.

    ``alpha="auto"``: ``alpha = d_hat / 2`` with ``d_hat`` the Levina–Bickel maximum-likelihood
    intrinsic dimension (10 neighbours, at most 1000 points), the edge of the theory's range.
    Measured with k = 10: on the MNIST 5000/5000 sample ``d_hat = 11.6``, alpha = 5.8 gives 91.3%
    test accuracy (alpha = 1: 90.4%, alpha = 8-16: 91.5-91.6%, 1-NN: 91.1%); on digits with 20%
    label noise ``d_hat = 6.9`` and alpha = d_hat / 2 gives 96.7% where alpha = d_hat gives
    91.1%; on California housing and on noisy synthetic regression in 2-10 dimensions
    ``d_hat / 2`` is within 5% of the best test error of the grid {1, d/4, d/2, d, 2d}, while
    ``d_hat`` is up to 2x worse. The ambient dimension (784 on MNIST) would make the estimator
    1-NN.

    The first use in a process compiles numba kernels: about 4 s of CPU in all (brute-force
    search 2 s, the rest 1.5 s; measured with the cache off), loaded from the on-disk cache
    afterwards (``python -m skinterp warmup`` compiles them ahead).
"""

_REFERENCES_DOC = """
    M. Belkin, D. Hsu and P. Mitra, "Overfitting or perfect fitting? Risk bounds for
    classification and regression rules that interpolate", NeurIPS 2018.

    M. Belkin, A. Rakhlin and A. B. Tsybakov, "Does data interpolation contradict statistical
    optimality?", AISTATS 2019.

    M. Belkin, "Fit without fear: remarkable mathematical phenomena of deep learning through the
    prism of interpolation", Acta Numerica 30 (2021).
"""


class SingularKernelNN(InterpolatingRegressorMixin, _SingularKernelNNBase):
    __doc__ = (
        """Regression by weighted interpolating nearest neighbours (a singular kernel).
"""
        + _PARAMETERS_DOC
        + _ATTRIBUTES_DOC
        + """
    See Also
    --------
    SingularKernelNNClassifier : The classifier twin.
    sklearn.neighbors.KNeighborsRegressor : Its ``weights="distance"`` is ``alpha=1``.

    Notes
    -----"""
        + _NOTES_DOC
        + """
    References
    ----------"""
        + _REFERENCES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skinterp import SingularKernelNN
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(size=(200, 2))
    >>> y = X.sum(axis=1) + 0.1 * rng.normal(size=200)
    >>> model = SingularKernelNN(n_neighbors=10, alpha=1.0).fit(X, y)
    >>> bool(np.allclose(model.predict(X), y))  # it interpolates the noisy targets
    True
    >>> bool(abs(model.predict([[0.5, 0.5]])[0] - 1.0) < 0.2)  # yet close to x1 + x2 between them
    True
    >>> model.interpolates_, model.train_residual_
    (True, 0.0)

    Duplicate rows count as the rows they are (as in ``KNeighborsRegressor``); a merged point
    predicts its rows' mean target, which the fit reports:

    >>> X_dup, y_dup = np.array([[0.0], [0.0], [1.0], [3.0]]), np.array([1.0, 3.0, 5.0, 7.0])
    >>> dup = SingularKernelNN(n_neighbors=2, alpha=1.0).fit(X_dup, y_dup)
    >>> dup.n_samples_fit_, dup.n_points_fit_, round(dup.train_residual_, 3), dup.interpolates_
    (4, 3, 0.143, False)
    >>> dup.predict([[0.4], [0.0]])  # k = 2 rows: both copies of the point 0
    array([2., 2.])
    >>> dup.predict(np.float32([[0.4]])).dtype  # float32 in, float32 out
    dtype('float32')
"""
    )

    def predict(self, X):
        """Evaluate the interpolant.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,) or (n_queries, n_outputs)
            Predictions, float32 for float32 ``X`` (float64 otherwise); at a training point,
            its target.
        """
        predictions = self._predict_outputs(X)
        return self._as_fitted_shape(predictions.astype(output_dtype(X), copy=False))


class SingularKernelNNClassifier(SquareLossClassifierMixin, _SingularKernelNNBase):
    __doc__ = (
        """Classification by weighted interpolating nearest neighbours (a singular kernel).

    The regressor :class:`SingularKernelNN` applied to one-hot class indicators (the square loss);
    the predicted class has the largest weighted vote, and ``predict_proba`` returns the
    normalised class weights.
"""
        + _PARAMETERS_DOC
        + _ATTRIBUTES_DOC
        + """    classes_ : ndarray of shape (n_classes,)
        Class labels (of the rows with positive sample weight).

    See Also
    --------
    SingularKernelNN : The regressor this classifier is built on.
    sklearn.neighbors.KNeighborsClassifier : Its ``weights="distance"`` is ``alpha=1``.

    Notes
    -----"""
        + _NOTES_DOC
        + """
    References
    ----------"""
        + _REFERENCES_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skinterp import SingularKernelNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> model = SingularKernelNNClassifier(n_neighbors=10).fit(X_train, y_train)
    >>> model.score(X_train, y_train)  # interpolates the training labels
    1.0
    >>> model.score(X_test, y_test) > 0.97
    True
    >>> model.predict_proba(X_test[:1]).round(3)  # convex weights of the one-hot labels
    array([[0., 0., 1., 0., 0., 0., 0., 0., 0., 0.]])
"""
    )

    def predict_proba(self, X):
        """Class probabilities: the normalised singular-kernel weights of each class.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Rows sum to 1; columns follow ``classes_``; float32 for float32 ``X``.
        """
        return self._normalised_class_scores(X).astype(output_dtype(X), copy=False)

    def _fit_targets(self, X, Y, sample_weight):
        # With one class every query gets it, however few the rows: no neighbour count to check.
        super()._fit_targets(X, Y, sample_weight, check_n_neighbors=Y.shape[1] > 1)
