"""Random features: the weights, the blocks of features, and the two transformers.

The weights of ``N`` features are drawn from two streams seeded once from ``random_state``: the
directions ``v_1, ..., v_N`` (rows of a standard normal ``(N, d)`` array, divided by the
bandwidth) and the offsets ``b_1, ..., b_N``. numpy's generators fill arrays in order, so the
first ``N'`` features of a draw of ``N >= N'`` features *are* the draw of ``N'`` features: the
feature sets of one seed are nested. The double-descent sweep relies on this to grow one feature
set instead of drawing a new one per grid point, and a block of columns can be regenerated from
the stored weights at any time.

Inside the package the features are computed *unscaled* (``cos(<v, x> + b)`` or
``max(<v, x> + b, 0)``); the factor ``sqrt(2 / N)`` is folded into the Gram matrix and the
coefficients, which saves a pass over every block.
"""

from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skinterp._base import DocLinkMixin, check_model_memory, output_dtype, validate_features
from skinterp._duplicates import merge_duplicate_points
from skinterp._parallel import run_in_chunks
from skinterp._progress import progress
from skinterp.kernels._bandwidth import auto_bandwidth
from skinterp.random_features._cos import add_offsets_cos
from skinterp.random_features._projection import sparse_rows_times_dense

FOURIER = "fourier"
RELU = "relu"
FEATURE_KINDS = (FOURIER, RELU)

SPARSE_MAX_DENSITY = 0.3
"""Inputs with at most this share of nonzero entries are multiplied as sparse rows (measured:
the sparse product is faster below about a third, 0.66x the dense time at 24%)."""

SPARSE_MIN_SIZE = 10_000  # entries: below this the conversion costs more than it saves

_DRAW_CHUNK = 4096  # rows of weights per random stream

FLOPS_PER_CALL = 3e9
"""Most multiply-adds in one BLAS call of the fits and predictions (about 0.2-0.6 s on two
shared cores): Python sees Ctrl-C only between calls, so a loop of such calls stops within a
second (see :func:`unscaled_features` and the Gram accumulation of :mod:`._min_norm`)."""

BANDWIDTH_RULES = ("auto", "scale")


def resolve_bandwidth(bandwidth, X):
    """The bandwidth ``sigma`` as a float, from a number or a rule computed on ``X``.

    ``"auto"`` (the default of the estimators and transformers) is the package's one
    data-aware rule, :func:`skinterp.kernels._bandwidth.auto_bandwidth` (the median distance
    between rows). ``"scale"`` is ``sqrt(n_features * X.var() / 2)``, scikit-learn's
    ``gamma="scale"`` of :class:`~sklearn.svm.SVC` (``gamma = 1 / (n_features * X.var())``)
    written for ``exp(-||x - z||^2 / (2 sigma^2))``. Both rules are computed on the *distinct*
    rows of ``X`` (:func:`skinterp._duplicates.merge_duplicate_points`), so that repeated rows
    and integer sample weights give the same bandwidth. Constant ``X`` gives 1.0.
    """
    if not isinstance(bandwidth, str):
        return float(bandwidth)
    X = np.asarray(X)
    if X.shape[0] > 1:
        X = merge_duplicate_points(X, np.zeros((X.shape[0], 0))).points
    if bandwidth == "auto":
        return float(auto_bandwidth(X, rule="median"))
    # The standard deviation of X / its largest magnitude, times that magnitude: the
    # variance of data at a scale of 1e-300 (or 1e300) under- (over-)flows.
    magnitude = float(np.max(np.abs(X))) if X.size else 0.0
    if not (np.isfinite(magnitude) and magnitude > 0.0):
        return 1.0
    variance = float(np.var(X / magnitude, dtype=np.float64))
    if not np.isfinite(variance) or variance <= 0.0:
        return 1.0
    return float(np.sqrt(X.shape[1] * variance / 2.0)) * magnitude


def draw_weights(kind, n_features, n_components, bandwidth, random_state, n_jobs=None):
    """Draw the weights of ``n_components`` random features of ``n_features`` inputs.

    Returns ``weights`` of shape ``(n_features, n_components)``, Fortran-ordered (column ``k``
    is ``v_k ~ N(0, I / bandwidth**2)``) and ``offsets`` of shape ``(n_components,)``:
    ``b_k ~ U[0, 2 pi)`` for Fourier features, ``b_k ~ N(0, 1)`` for ReLU features. The draws of
    one ``random_state`` (an int) are nested: the first ``N'`` columns of a draw of ``N`` features
    are the draw of ``N'`` features. ``n_jobs`` threads fill the chunks (joblib's meaning); the
    draw does not depend on it.
    """
    if kind not in FEATURE_KINDS:
        raise ValueError(f"features must be one of {FEATURE_KINDS}, got {kind!r}.")
    check_model_memory(
        8 * (n_features + 1) * int(n_components),
        what=f"The random weights of {n_components:,} features of {n_features} inputs",
        advice="Lower n_components.",
    )
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=2)
    # Rows k of the (N, d) array are the v_k, drawn in chunks of _DRAW_CHUNK rows, chunk c from
    # its own stream (child c of the seed): the draws are nested, and two threads fill the
    # chunks in half the time (numpy releases the GIL while filling). The array is returned as
    # its transpose, a Fortran-ordered (d, N) view: no transposed copy (0.4 s at d = 784,
    # N = 40,000), and a block of columns is still one contiguous piece.
    directions = np.empty((n_components, n_features))

    def fill(start, stop):
        stream = np.random.SeedSequence(int(seeds[0]), spawn_key=(start // _DRAW_CHUNK,))
        np.random.default_rng(stream).standard_normal(out=directions[start:stop])
        directions[start:stop] /= bandwidth

    run_in_chunks(fill, n_components, _DRAW_CHUNK, n_jobs=n_jobs)
    weights = directions.T
    offsets_rng = np.random.default_rng(seeds[1])
    if kind == FOURIER:
        offsets = offsets_rng.uniform(0.0, 2.0 * np.pi, size=n_components)
    else:
        offsets = offsets_rng.standard_normal(n_components)
    return weights, offsets


def feature_scale(n_components):
    """The factor ``sqrt(2 / N)`` of the features.

    So that ``E[phi(x) . phi(z)]`` is the kernel.
    """
    return float(np.sqrt(2.0 / n_components))


def nonzero_inputs(X):
    """``(X[:, inputs], inputs)`` without the input columns that are zero in every row of ``X``.

    Those columns add nothing to ``X @ W``; on images (a fifth of MNIST's pixels are blank in
    every image of a sample of 2000) dropping them saves that share of the product. Returns
    ``(X, None)`` when fewer than a tenth of the columns would go.
    """
    inputs = np.flatnonzero(np.any(X != 0, axis=0))
    if inputs.size > 0.9 * X.shape[1]:
        return X, None
    return np.ascontiguousarray(X[:, inputs]), inputs


def sparse_if_mostly_zero(X):
    """``X`` as a CSR matrix when at most ``SPARSE_MAX_DENSITY`` of its entries are nonzero.

    Its products with the weights then go through :mod:`._projection`, which skips the zeros.
    Small arrays and denser ones are returned as they are.
    """
    if X.size < SPARSE_MIN_SIZE or np.count_nonzero(X) > SPARSE_MAX_DENSITY * X.size:
        return X
    return sparse.csr_matrix(X)


def unscaled_features(X, weights, offsets, kind, start=0, stop=None, *, inputs=None, n_jobs=None):
    """The unscaled features ``start:stop`` of the rows of ``X``, in ``X``'s dtype.

    ``cos(X @ W[:, start:stop] + b[start:stop])`` for Fourier features and
    ``max(X @ W[:, start:stop] + b[start:stop], 0)`` for ReLU features. A dense ``X`` makes the
    product one BLAS call; a CSR ``X`` (see :func:`sparse_if_mostly_zero`) goes through the
    numba kernel of :mod:`._projection` on ``n_jobs`` threads (all cores when None, as BLAS).
    The offset and the activation run in place over ``n_jobs`` threads (the numba cosine of
    :mod:`._cos` and numpy's ufuncs release the GIL). ``inputs``: the input columns ``X``
    holds (see :func:`nonzero_inputs`), all when None.
    """
    stop = weights.shape[1] if stop is None else stop
    if inputs is None:
        block_weights = weights[:, start:stop]
    else:
        block_weights = weights[inputs, start:stop]
    block_offsets = offsets[start:stop]
    if block_weights.dtype != X.dtype:
        block_weights = block_weights.astype(X.dtype)
        block_offsets = block_offsets.astype(X.dtype)
    n_rows = X.shape[0]
    chunk = max(-(-n_rows // 8), 64)

    def activate(Z):
        if kind == FOURIER:
            add_offsets_cos(Z, block_offsets)  # 12x faster than np.cos in float64
        else:
            Z += block_offsets
            np.maximum(Z, 0.0, out=Z)

    if sparse.issparse(X):
        block_weights = np.ascontiguousarray(block_weights)
        features = np.empty((n_rows, block_weights.shape[1]), dtype=block_weights.dtype)

        def project_and_activate(lo, hi):
            sparse_rows_times_dense(
                X.indptr, X.indices, X.data, block_weights, features[lo:hi], lo
            )
            activate(features[lo:hi])

        run_in_chunks(project_and_activate, n_rows, chunk, n_jobs)
        return features
    # The product in calls of at most FLOPS_PER_CALL (Ctrl-C is seen between them).
    features = np.empty((n_rows, block_weights.shape[1]), dtype=X.dtype)
    product_rows = max(int(FLOPS_PER_CALL // max(X.shape[1] * block_weights.shape[1], 1)), 64)
    for lo in range(0, n_rows, product_rows):
        np.matmul(X[lo : lo + product_rows], block_weights, out=features[lo : lo + product_rows])
    run_in_chunks(lambda lo, hi: activate(features[lo:hi]), n_rows, chunk, n_jobs)
    return features


class _RandomFeaturesBase(
    DocLinkMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Fit draws the weights; transform maps ``X`` to ``sqrt(2 / N) * activation(X W + b)``."""

    _kind: str = FOURIER

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions(set(BANDWIDTH_RULES))],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self, n_components=100, *, bandwidth="auto", random_state=None, n_jobs=None, verbose=0
    ):
        self.n_components = n_components
        self.bandwidth = bandwidth
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw the random weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (only their number of features, and their spread for
            ``bandwidth="auto"`` or ``"scale"``, are used).
        y : None
            Ignored.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X = validate_features(self, X, reset=True)
        bandwidth = resolve_bandwidth(self.bandwidth, X)
        weights, offsets = draw_weights(
            self._kind,
            X.shape[1],
            self.n_components,
            bandwidth,
            self.random_state,
            n_jobs=self.n_jobs,
        )
        self.bandwidth_ = bandwidth
        self.random_weights_, self.random_offset_ = weights, offsets
        self._n_features_out = self.n_components
        return self

    def transform(self, X):
        """Map ``X`` to the random features.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            The features, of the dtype of ``X`` (float32 stays float32, anything else is
            float64).
        """
        check_is_fitted(self)
        X = validate_features(self, X, reset=False)
        scale = X.dtype.type(feature_scale(self.n_components))
        out = np.empty((X.shape[0], self.n_components), dtype=output_dtype(X))
        # Rows in chunks: progress lines with verbose, and Ctrl-C seen between chunks.
        rows = max(int(FLOPS_PER_CALL // max(X.shape[1] * self.n_components, 1)), 256)
        chunks = range(0, X.shape[0], rows)
        for start in progress(
            chunks,
            f"{type(self).__name__}.transform: rows",
            verbose=self.verbose,
            total=len(chunks),
            min_interval=1.0,
        ):
            features = unscaled_features(
                sparse_if_mostly_zero(X[start : start + rows]),
                self.random_weights_,
                self.random_offset_,
                self._kind,
                n_jobs=self.n_jobs,
            )
            features *= scale
            out[start : start + rows] = features
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


_PARAMETERS_DOC = """
    Parameters
    ----------
    n_components : int, default=100
        Number ``N`` of random features.
    bandwidth : float > 0, "auto" or "scale", default="auto"
        The bandwidth ``sigma``: directions are drawn from ``N(0, I / sigma**2)``. ``"auto"``
        is the package's data-aware rule (:func:`skinterp.kernels._bandwidth.auto_bandwidth`,
        the median distance between the distinct training rows; about 10 on MNIST scaled to
        [0, 1], 3 on standardised California housing). ``"scale"`` uses
        ``sqrt(n_features * X.var() / 2)``, scikit-learn's ``gamma="scale"`` of
        :class:`~sklearn.svm.SVC` (about 6 on MNIST scaled to [0, 1]).
    random_state : int, RandomState instance or None, default=None
        Seed of the weights. With an int, the first ``N'`` features of ``N >= N'`` features are
        the features of ``n_components=N'``: feature sets of one seed are nested.
    n_jobs : int or None, default=None
        Threads of the estimator's parallel sections (feature maps; the product ``X W`` uses BLAS's
        threads), numbers as in joblib (``-1``: every core). ``None``: the ``n_jobs`` of an
        enclosing ``joblib.parallel_config``, else as many threads as BLAS uses here (every core
        unless limited, e.g. inside a ``GridSearchCV`` worker process); see the user guide's thread
        model. Results do not depend on it.
    verbose : int, default=0
        With ``verbose > 0``, ``transform`` writes a progress line with the time left (at most
        one a second) to stderr for each chunk of rows.

    Attributes
    ----------
    bandwidth_ : float
        The bandwidth used (``"auto"`` and ``"scale"`` resolved on the training data).
    random_weights_ : ndarray of shape (n_features, n_components)
        The directions ``v_k``, one per column (float64).
    random_offset_ : ndarray of shape (n_components,)
        The offsets ``b_k`` (float64).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string feature names.
"""


class RandomFourierFeatures(_RandomFeaturesBase):
    __doc__ = (
        """Random Fourier features of the Gaussian kernel (Rahimi & Recht, 2007).

    ``phi_k(x) = sqrt(2 / N) cos(<v_k, x> + b_k)`` with ``v_k ~ N(0, I / sigma**2)`` and
    ``b_k ~ U[0, 2 pi)``, so that ``E[phi(x) . phi(z)] = exp(-||x - z||^2 / (2 sigma^2))``.
"""
        + _PARAMETERS_DOC
        + """
    See Also
    --------
    RandomReLUFeatures : Random ReLU features.
    MinNormRFFRegressor : Minimum-norm least squares on these features.
    sklearn.kernel_approximation.RBFSampler : The same features with ``gamma = 1 / (2 sigma^2)``.

    Notes
    -----
    The features of :class:`~sklearn.kernel_approximation.RBFSampler` with
    ``gamma = 1 / (2 sigma**2)``, with two differences: the bandwidth is a length (as in
    Belkin, 2021, Section 3.7) and one seed gives nested feature sets. float32 inputs give float32
    features.

    References
    ----------
    A. Rahimi and B. Recht, "Random features for large-scale kernel machines", NeurIPS 2007.

    M. Belkin, D. Hsu, S. Ma and S. Mandal, "Reconciling modern machine-learning practice and the
    classical bias-variance trade-off", PNAS 116 (2019).

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp import RandomFourierFeatures
    >>> X = np.array([[0.0, 0.0], [0.5, 0.0]])
    >>> features = RandomFourierFeatures(n_components=20000, bandwidth=1.0, random_state=0)
    >>> Phi = features.fit_transform(X)
    >>> Phi.shape
    (2, 20000)
    >>> bool(abs(Phi[0] @ Phi[1] - np.exp(-0.5**2 / 2)) < 0.02)  # the Gaussian kernel
    True
"""
    )

    _kind = FOURIER


class RandomReLUFeatures(_RandomFeaturesBase):
    __doc__ = (
        """Random ReLU features: one hidden layer of fixed random ReLU units.

    ``phi_k(x) = sqrt(2 / N) max(<v_k, x> + b_k, 0)`` with ``v_k ~ N(0, I / sigma**2)`` and
    ``b_k ~ N(0, 1)``: the random ReLU network of Belkin, Hsu, Ma & Mandal (2019), Fig. 6 of
    Belkin (2021).
"""
        + _PARAMETERS_DOC
        + """
    See Also
    --------
    RandomFourierFeatures : Random Fourier features.
    MinNormRFFRegressor : Minimum-norm least squares on these features (``features="relu"``).

    Notes
    -----
    With ``x~ = (x / sigma, 1)``, ``<v_k, x> + b_k = <g_k, x~>`` with ``g_k ~ N(0, I)``, so
    ``E[phi(x) . phi(z)]`` is the arc-cosine kernel of order 1 (Cho & Saul, 2009) of ``x~`` and
    ``z~``:

    .. math:: k(x, z) = \\frac{\\|\\tilde x\\| \\|\\tilde z\\|}{\\pi}
              \\left(\\sin\\theta + (\\pi - \\theta)\\cos\\theta\\right),

    ``theta`` the angle between ``x~`` and ``z~``. The fitted minimum-norm interpolant on these
    features is piecewise linear in one dimension, with kinks at ``-b_k / v_k``.

    References
    ----------
    Y. Cho and L. K. Saul, "Kernel methods for deep learning", NeurIPS 2009.

    M. Belkin, D. Hsu, S. Ma and S. Mandal, "Reconciling modern machine-learning practice and the
    classical bias-variance trade-off", PNAS 116 (2019).

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp import RandomReLUFeatures
    >>> X = np.linspace(-1, 1, 5).reshape(-1, 1).astype(np.float32)
    >>> Phi = RandomReLUFeatures(n_components=3, bandwidth=1.0, random_state=0).fit_transform(X)
    >>> Phi.shape, Phi.dtype
    ((5, 3), dtype('float32'))
    >>> bool((Phi >= 0).all())
    True
"""
    )

    _kind = RELU


def limit_kernel(X, Z, kind, bandwidth):
    """The kernel the features approximate as ``N`` grows, ``K[i, j] = k(X[i], Z[j])`` (float64).

    Gaussian ``exp(-||x - z||^2 / (2 sigma^2))`` for Fourier features, the arc-cosine kernel of
    order 1 of ``(x / sigma, 1)`` for ReLU features. Dense: for reference computations and the
    kernel limit of the double-descent experiment.
    """
    X = np.asarray(X, dtype=np.float64)
    Z = np.asarray(Z, dtype=np.float64)
    if kind == FOURIER:
        squared = (X * X).sum(axis=1)[:, None] + (Z * Z).sum(axis=1)[None, :] - 2.0 * (X @ Z.T)
        np.maximum(squared, 0.0, out=squared)
        return np.exp(-squared / (2.0 * bandwidth**2))
    X_tilde = np.hstack([X / bandwidth, np.ones((X.shape[0], 1))])
    Z_tilde = np.hstack([Z / bandwidth, np.ones((Z.shape[0], 1))])
    norms = np.linalg.norm(X_tilde, axis=1)[:, None] * np.linalg.norm(Z_tilde, axis=1)[None, :]
    cosine = np.clip((X_tilde @ Z_tilde.T) / norms, -1.0, 1.0)
    theta = np.arccos(cosine)
    return norms / np.pi * (np.sin(theta) + (np.pi - theta) * cosine)
