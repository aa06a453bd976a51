"""SimplicialInterpolator and SimplicialClassifier: Delaunay interpolation in any dimension.

The estimators validate (the mixins of :mod:`skinterp._base`) and copy the fitted model's
fields to attributes; ``fit`` (:func:`~._core.fit_simplicial`, returning a
:class:`~._core.SimplicialModel`) and ``predict`` (:func:`~._core.predict_simplicial`) live in
:mod:`._core`.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import (
    InterpolatingRegressorMixin,
    SquareLossClassifierMixin,
    fitted_model,
    output_dtype,
    report_interpolation,
    set_fitted,
    validate_features,
    warn_user,
)
from ..exceptions import InterpolationWarning
from . import _core


class _SimplicialBase(BaseEstimator):
    """Shared fit/locate of the simplicial regressor and classifier (the maths is in _core)."""

    _parameter_constraints: dict = {
        "method": [StrOptions({"auto", "triangulation", "lifted"})],
        "outside": [StrOptions({"project", "nearest", "nan", "raise"})],
        "n_jobs": [None, Integral],
        "memory_limit": [None, Interval(Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
    }

    def __init__(
        self, *, method="auto", outside="project", n_jobs=None, memory_limit=None, verbose=0
    ):
        self.method = method
        self.outside = outside
        self.n_jobs = n_jobs
        self.memory_limit = memory_limit
        self.verbose = verbose

    def _fit_targets(self, X, Y, sample_weight=None):
        # Every fitted attribute is set after the model is complete: an interrupted fit
        # (Ctrl-C) leaves the arrays of the previous fit, if any.
        model = _core.fit_simplicial(
            X, Y, self.method, self.memory_limit, self.verbose, sample_weight=sample_weight
        )
        if model.n_near_duplicates:
            warn_user(
                f"{model.n_near_duplicates} training points lie within "
                f"{_core.NEAR_DUPLICATE_RTOL:g} times the data's radius of another point "
                "(near-duplicates) and were merged into it, their targets averaged: predict(X) "
                "returns the averaged target there (relative training residual "
                f"{model.train_residual:.3g}, in train_residual_).",
                InterpolationWarning,
            )
        set_fitted(self, model)
        report_interpolation(self, model.train_residual, np.float64)
        return self

    def _model(self):
        return fitted_model(self, _core.SimplicialModel)

    def _values_and_outside(self, X):
        return _core.predict_simplicial(
            self._model(),
            X,
            self.outside,
            memory_limit=self.memory_limit,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )

    def _predict_targets(self, X):
        return self._values_and_outside(X)[0]

    def is_outside(self, X):
        """Which queries lie outside the convex hull of the training points.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        outside : ndarray of bool, shape (n_queries,)
            True where the query is outside the hull (its distance to the hull exceeds ``1e-9``
            times the radius of the training data) or, for data in a lower-dimensional affine
            subspace, off that subspace.
        """
        check_is_fitted(self)
        X = validate_features(self, X, reset=False)
        return _core.outside_mask(
            self._model(),
            X,
            memory_limit=self.memory_limit,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


_NOTES = r"""
    The interpolant is the function that is linear on each simplex of the Delaunay triangulation
    of the training points and equals :math:`y_i` at :math:`x_i` (Belkin, 2021, Section 3.5.2;
    Belkin, Hsu and Mitra, 2018). At a query :math:`q` in the simplex with vertices
    :math:`x_{i_0}, \dots, x_{i_d}`, the prediction is :math:`\sum_k \lambda_k y_{i_k}` with
    :math:`\lambda` the barycentric coordinates of :math:`q`. Its excess risk on label-noisy
    classification falls with the dimension, so it is meant to work in high dimension.

    Two ways to find the simplex (``method``):

    * ``"triangulation"`` (low dimension): Qhull's Delaunay triangulation is built once at fit
      and kept as arrays; queries are sorted along a Morton curve and located by a numba
      visibility walk from the previous answer (brute force for the rare walk that fails).
      Inside the hull the output equals :class:`scipy.interpolate.LinearNDInterpolator` on
      well-scaled data (up to rounding; and up to the choice among co-spherical triangulations).
      The triangulation has about 2, 6.5, 27, 135 simplices per point in dimension 2, 3, 4, 5.
    * ``"lifted"`` (any dimension, no triangulation): the Delaunay simplex containing
      :math:`q` and its barycentric weights solve the linear program

      .. math:: \min_\lambda \sum_i \lambda_i \|x_i - q\|^2 \quad \text{s.t.}\quad
                \sum_i \lambda_i x_i = q,\ \sum_i \lambda_i = 1,\ \lambda \ge 0,

      the lifting map onto the paraboloid. A revised simplex method solves it on the nearest
      points and certifies the answer against all training points (no lifted point below the
      lifted facet: an empty circumsphere), adding violators until certified, so the answer is
      exact. It starts from the simplex of Wolfe's projection (below), which contains the
      query; a pivot prices about :math:`4(d+1)` nearby candidates in :math:`O(d^2)`, a
      certificate is one :math:`O(n d)` pass. About 2-3 ms per query at ``n = 2000``,
      ``d = 50`` (``benchmarks/bench_simplicial.py``).
    * ``"auto"``: ``"triangulation"`` up to dimension 5 when the predicted triangulation
      fits in ``memory_limit`` (and, in dimension 4 and 5, has at most a million and 300,000
      simplices: about 36,000 and 2,200 points), else ``"lifted"``. The choice is
      in ``method_``.

    Outside the convex hull (in dimension 20 and more, almost every test point), ``outside``
    decides: ``"project"`` interpolates at the Euclidean projection of the query onto the hull
    (Wolfe's minimum-norm-point algorithm, an exact active-set method, as DelaunaySparse does),
    ``"nearest"`` returns the target of the nearest training point. :meth:`is_outside` reports
    which queries are outside.

    Duplicates and near-duplicates: exact duplicate inputs are merged
    (:func:`skinterp._duplicates.merge_duplicate_points`), and so are distinct inputs closer
    than ``1e-8`` times the radius of the data (the largest distance of a training input to
    their mean; measured in the centred, scaled coordinates below), which Qhull cannot
    separate (it drops one of them, missing its target by up to the targets' spread) and which
    would give the interpolant gradients of :math:`|y_i - y_j| / \|x_i - x_j\|`. A merged
    point keeps the first input (in the merger's canonical order, so independent of the row
    order) and the mean target of the rows it stands for; near-duplicate merges raise an
    :class:`~skinterp.exceptions.InterpolationWarning` saying how many points were merged (exact
    duplicates merge silently). The ``predict(X_train) == y`` contract is therefore: at every
    distinct training input (farther than the tolerance from the others) the prediction is its
    target, to rounding; at merged rows it is the mean target of the group (up to the gradient
    times the sub-tolerance distance for the row not kept). ``train_residual_`` reports
    :math:`\max_i |y_i - \bar y_{g(i)}| / \max_i |y_i|` over the rows (the interpolant equals the
    merged targets at the distinct points by construction, so no prediction is needed), and
    ``interpolates_`` whether it is at most ``1e-6``.

    ``sample_weight`` are frequency weights: weight ``r`` acts as the row repeated ``r`` times,
    weight 0 as the row removed. The interpolant of distinct points does not depend on them;
    they weigh the mean target of merged (exact or near-) duplicates.

    Degenerate data: data in a lower-dimensional affine subspace, including fewer than
    ``d + 1`` points, are interpolated in the coordinates of their affine hull
    (``affine_dim_``); one distinct point gives a constant, a line gives piecewise-linear
    interpolation along it.

    Co-spherical points (ties): when more than ``d + 1`` points lie on an empty sphere (every
    square of a grid), the Delaunay triangulation is not unique. Both methods break such ties
    one and the same way, so that they agree on every query, the interpolant is continuous and
    it does not depend on the order of the rows: each such Delaunay cell is triangulated by the
    *regular* triangulation of its points with heights ``tie_heights_`` (a hash of each
    point's rank in the lexicographic order of the points, in ``[0, 1)``), i.e. the limit of
    the Delaunay triangulation of the perturbed lifting :math:`\|x_i\|^2 + \epsilon h_i`,
    :math:`\epsilon \to 0`. ``"triangulation"`` re-triangulates Qhull's co-spherical cells at
    fit (cells of ``d + 2`` points together, larger cells one by one: about 0.1-0.2 ms per cube
    of a 3-D grid); ``"lifted"`` solves a second, lexicographic program per query (minimise
    :math:`\sum_i \lambda_i h_i` over the points of the optimal cell). Points count as
    co-spherical when their lifted residual is at most ``1e-9`` times the squared circumradius.
    This differs from scipy: :class:`scipy.spatial.Delaunay` (``"Qbb Qc Qz Q12"`` with ``"Qt"``)
    keeps Qhull's own triangulation of a merged facet, which depends on the input order and
    can contain zero-volume simplices, so :class:`~scipy.interpolate.LinearNDInterpolator` and
    this estimator differ inside co-spherical cells (both are piecewise-linear interpolants;
    they agree on affine targets and wherever the Delaunay triangulation is unique). Points
    co-spherical only to within about ``1e-9`` (relative) sit at the tolerance of both
    detections and may be resolved differently by the two methods.

    Floating point: the interpolant is invariant under translation and scaling of the inputs, and
    so is its computation here: every method works in coordinates centred on the bounding box of
    the training points and divided by a power of two (``affine_offset_``, ``affine_extent_``),
    so that data at an offset of ``1e8`` or a scale from ``1e-310`` (subnormal) to ``1e300``
    give the same predictions as the same data near the unit cube, to about ``1e-9`` relative
    to the targets' range (tested with hypothesis: translations up to ``1e8``, scales ``2**k``,
    ``|k| <= 500``). scipy's :class:`~scipy.interpolate.LinearNDInterpolator` works in the raw
    coordinates and loses the geometry at such offsets and scales.

    Ctrl-C: prediction runs in chunks of queries short enough (a chunk of lifted programs is
    about ``1e7 / (n d)`` queries) that ``KeyboardInterrupt`` is raised within about a second,
    with ``n_jobs`` threads too, and a fitted estimator stays as it was. The fitted attributes
    are set only when a fit completes. Qhull's triangulation (one C call of scipy, which
    releases the GIL but never checks for signals) runs in a worker thread that the fit waits
    for in slices of 0.05 s, so Ctrl-C stops a fit within a fraction of a second there too;
    the abandoned Qhull call keeps one core busy until it finishes in the background (as long
    as the triangulation would have taken: about 4 s for 200,000 points in 2-D, 40,000 in 3-D
    or 10,000 in 4-D, 11 s for 3,000 points in 5-D on the benchmark machine) and its result
    is dropped. ``verbose`` prints a line per step (Qhull, the re-triangulation of tied
    cells, and each chunked phase of prediction: walk, projections, lifted programs) on stderr,
    with the time left.

    dtypes: the geometry is computed in float64; float32 inputs give float32 predictions and
    probabilities (the package's policy).

    The first call compiles numba kernels, cached on disk afterwards: without the cache, about
    8 s of CPU for ``"triangulation"`` (2 s when no query is outside the hull) and 16 s for
    ``"lifted"`` (measured; more wall time on a loaded machine, see the user guide);
    ``python -m skinterp warmup`` compiles them once.
"""

_REFERENCES = """
    .. [1] M. Belkin, "Fit without fear: remarkable mathematical phenomena of deep learning
       through the prism of interpolation", Acta Numerica 30 (2021), Section 3.5.2.
    .. [2] M. Belkin, D. Hsu and P. Mitra, "Overfitting or perfect fitting? Risk bounds for
       classification and regression rules that interpolate", NeurIPS 2018.
    .. [3] T. Chang, L. Watson, T. Lux et al., "Algorithm 1012: DELAUNAYSPARSE", ACM TOMS 46
       (2020).
    .. [4] P. Wolfe, "Finding the nearest point in a polytope", Math. Programming 11 (1976).
"""


class SimplicialInterpolator(InterpolatingRegressorMixin, _SimplicialBase):
    __doc__ = (
        r"""Simplicial (Delaunay) interpolation: piecewise-linear on the Delaunay triangulation.

    Parameters
    ----------
    method : {"auto", "triangulation", "lifted"}, default="auto"
        How the Delaunay simplex of a query is found: a full triangulation built at fit (low
        dimension), or one linear program per query (any dimension). See Notes.
    outside : {"project", "nearest", "nan", "raise"}, default="project"
        Prediction for queries outside the convex hull of the training points: interpolate at
        their Euclidean projection onto the hull, return the nearest training target, return
        NaN, or raise a ``ValueError``.
    n_jobs : int or None, default=None
        Threads of the estimator's parallel sections (prediction), numbers as in joblib (``-1``:
        every core). ``None``: the ``n_jobs`` of an enclosing ``joblib.parallel_config``, else as
        many threads as BLAS uses here (every core unless limited, e.g. inside a ``GridSearchCV``
        worker process); see the user guide's thread model. Results do not depend on it.
    memory_limit : float, default=None
        Memory budget in MiB. The triangulation's arrays: ``method="auto"`` builds a
        triangulation only within it, ``method="triangulation"`` raises ``MemoryError`` before
        calling Qhull when the predicted size exceeds it. Prediction works through chunks of
        queries whose work arrays fit in it. ``None`` takes scikit-learn's ``working_memory``
        (1024 MiB by default).
    verbose : int, default=0
        Progress of long fits and predictions on stderr, with the time left.

    Attributes
    ----------
    method_ : str
        The method used: ``"triangulation"``, ``"lifted"``, ``"interval"`` (the data lie on a
        line) or ``"point"`` (a single distinct input).
    affine_dim_ : int
        Dimension ``r`` of the affine hull of the training inputs.
    n_samples_fit_ : int
        Number of training rows (of positive sample weight), duplicates included.
    n_points_fit_ : int
        Number ``m`` of distinct training inputs (duplicates merged).
    points_ : ndarray of shape (m, r)
        Distinct training inputs in the coordinates of their affine hull.
    targets_ : ndarray of shape (m, n_outputs)
        Their targets (the mean over duplicates).
    affine_offset_ : ndarray of shape (n_features,)
        Origin of the affine coordinates.
    affine_basis_ : ndarray of shape (r, n_features)
        ``points_ = ((X - affine_offset_) / affine_extent_) @ affine_basis_.T``.
    affine_extent_ : float
        Power of two that scales the centred inputs into ``[-1, 1]`` (see Notes).
    affine_subspace_ : ndarray of shape (r, n_features)
        Orthonormal basis of the affine hull's direction.
    data_radius_ : float
        Largest distance of a training input to the centre of their bounding box.
    simplices_ : ndarray of shape (n_simplices, r + 1)
        Delaunay simplices (``"triangulation"`` only; else empty).
    neighbors_ : ndarray of shape (n_simplices, r + 1)
        Neighbour opposite each vertex, ``-1`` on the hull.
    transform_ : ndarray of shape (n_simplices, r + 1, r)
        Barycentric transforms, as in :attr:`scipy.spatial.Delaunay.transform`.
    hull_vertices_ : ndarray of shape (n_hull,)
        Indices of ``points_`` on the boundary of the convex hull (all points unless
        ``"triangulation"`` or ``"interval"``).
    tie_heights_ : ndarray of shape (m,)
        Tie-breaking heights of ``points_`` for co-spherical points (see Notes).
    n_near_duplicates_ : int
        Number of distinct inputs merged into another one as near-duplicates (see Notes).
    train_residual_ : float
        Relative training residual :math:`\max_i |f(x_i) - y_i| / \max_i |y_i|`; non-zero only
        when duplicates or near-duplicates with different targets were merged.
    interpolates_ : bool
        Whether ``train_residual_`` is at most ``1e-6``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SimplicialClassifier : The classifier twin (interpolates one-hot labels).
    scipy.interpolate.LinearNDInterpolator : The same interpolant in low dimension, NaN outside.

    Notes
    -----"""
        + _NOTES
        + """
    References
    ----------"""
        + _REFERENCES
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skinterp import SimplicialInterpolator
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.5]])
    >>> y = np.array([0.0, 1.0, 2.0, 4.0])
    >>> model = SimplicialInterpolator().fit(X, y)
    >>> model.method_
    'triangulation'
    >>> model.predict(X).round(12).tolist()  # training targets, to rounding (~1e-16)
    [0.0, 1.0, 2.0, 4.0]
    >>> model.predict([[0.25, 0.25], [3.0, -1.0]]).round(6).tolist()
    [0.75, 1.0]
    >>> model.is_outside([[0.25, 0.25], [3.0, -1.0]]).tolist()
    [False, True]
    >>> model.train_residual_, model.interpolates_
    (0.0, True)

    Co-spherical points (a square) have two Delaunay triangulations; both methods pick the
    same one:

    >>> square = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> values = np.array([1.0, 2.0, -3.0, 5.0])
    >>> for method in ("triangulation", "lifted"):
    ...     fitted = SimplicialInterpolator(method=method).fit(square, values)
    ...     print(method, fitted.predict([[0.5, 0.5], [0.75, 0.5]]).round(12).tolist())
    triangulation [3.0, 3.25]
    lifted [3.0, 3.25]
    """
    )

    def predict(self, X, return_outside=False):
        """Interpolate at ``X``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.
        return_outside : bool, default=False
            Also return which queries are outside the convex hull.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,) or (n_queries, n_outputs)
            Interpolated values.
        outside : ndarray of bool, shape (n_queries,)
            Only when ``return_outside``: True for queries outside the hull.
        """
        check_is_fitted(self)
        X = validate_features(self, X, reset=False)
        values, outside = self._values_and_outside(X)
        values = self._as_fitted_shape(values).astype(output_dtype(X), copy=False)
        return (values, outside) if return_outside else values


class SimplicialClassifier(SquareLossClassifierMixin, _SimplicialBase):
    __doc__ = (
        r"""Simplicial (Delaunay) interpolation classifier: interpolated one-hot labels, argmax.

    The one-hot encoding of the labels is interpolated on the Delaunay triangulation (see
    :class:`SimplicialInterpolator`) and the class of largest interpolated score is predicted.
    For two classes this is the sign of the interpolated :math:`\pm 1` label, the paper's rule.
    The interpolated scores are convex combinations of one-hot vectors, hence probabilities.

    Parameters
    ----------
    method : {"auto", "triangulation", "lifted"}, default="auto"
        How the Delaunay simplex of a query is found. See :class:`SimplicialInterpolator`.
    outside : {"project", "nearest", "raise"}, default="project"
        Prediction for queries outside the convex hull: at their projection onto the hull, the
        nearest training label, or a ``ValueError``.
    n_jobs : int or None, default=None
        Threads of the estimator's parallel sections (prediction), numbers as in joblib (``-1``:
        every core). ``None``: the ``n_jobs`` of an enclosing ``joblib.parallel_config``, else as
        many threads as BLAS uses here (every core unless limited, e.g. inside a ``GridSearchCV``
        worker process); see the user guide's thread model. Results do not depend on it.
    memory_limit : float, default=None
        Memory budget in MiB of the triangulation's arrays (see
        :class:`SimplicialInterpolator`).
    verbose : int, default=0
        Progress of long fits and predictions on stderr, with the time left.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    method_ : str
        The method used (see :class:`SimplicialInterpolator`).
    affine_dim_ : int
        Dimension ``r`` of the affine hull of the training inputs.
    n_samples_fit_ : int
        Number of training rows (of positive sample weight), duplicates included.
    n_points_fit_ : int
        Number ``m`` of distinct training inputs; duplicates get the mean one-hot vector.
    points_ : ndarray of shape (m, r)
        Distinct training inputs in affine coordinates.
    targets_ : ndarray of shape (m, n_classes)
        Their (averaged) one-hot labels.
    affine_offset_ : ndarray of shape (n_features,)
        Origin of the affine coordinates.
    affine_basis_ : ndarray of shape (r, n_features)
        Basis of the affine coordinates.
    affine_extent_ : float
        Power of two that scales the centred inputs into ``[-1, 1]``.
    affine_subspace_ : ndarray of shape (r, n_features)
        Orthonormal basis of the affine hull's direction.
    data_radius_ : float
        Largest distance of a training input to the centre of their bounding box.
    simplices_ : ndarray of shape (n_simplices, r + 1)
        Delaunay simplices (``"triangulation"`` only).
    neighbors_ : ndarray of shape (n_simplices, r + 1)
        Neighbour opposite each vertex.
    transform_ : ndarray of shape (n_simplices, r + 1, r)
        Barycentric transforms.
    hull_vertices_ : ndarray of shape (n_hull,)
        Indices of ``points_`` on the hull boundary.
    tie_heights_ : ndarray of shape (m,)
        Tie-breaking heights of ``points_`` for co-spherical points.
    n_near_duplicates_ : int
        Number of distinct inputs merged into another one as near-duplicates.
    train_residual_ : float
        Relative training residual of the one-hot scores; non-zero only when (near-)duplicates
        with different labels were merged (their scores are averaged).
    interpolates_ : bool
        Whether ``train_residual_`` is at most ``1e-6``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SimplicialInterpolator : The regressor whose core this classifier shares.

    Notes
    -----"""
        + _NOTES
        + """
    References
    ----------"""
        + _REFERENCES
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skinterp import SimplicialClassifier
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> clf = SimplicialClassifier().fit(X, ["a", "b", "b"])
    >>> clf.predict([[0.1, 0.1], [0.5, 0.3]]).tolist()
    ['a', 'b']
    >>> clf.predict_proba([[0.1, 0.1]]).round(2).tolist()
    [[0.8, 0.2]]
    >>> clf.predict_proba(np.array([[0.1, 0.1]], dtype=np.float32)).dtype
    dtype('float32')
    """
    )

    _parameter_constraints: dict = {
        **_SimplicialBase._parameter_constraints,
        "outside": [StrOptions({"project", "nearest", "raise"})],
    }

    def predict_proba(self, X):
        """Interpolated one-hot scores (convex weights of the simplex' labels).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Non-negative scores summing to one, in the order of ``classes_`` (float32 for
            float32 ``X``).
        """
        return self._normalised_class_scores(X).astype(output_dtype(X), copy=False)
