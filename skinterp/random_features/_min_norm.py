"""Minimum-norm least squares on random features, with the features generated block by block.

The core is :func:`fit_min_norm`, a plain function of arrays. With ``C`` the ``n x N`` matrix of
*unscaled* features (see :mod:`._features`) it solves, for the least-squares problem
``min ||C w - Y||`` of minimum norm,

* the **primal** system ``(C^T C) w = C^T Y`` (``N x N``), accumulated over chunks of rows, when
  ``N < n``;
* the **dual** system ``(C C^T) a = Y`` (``n x n``), accumulated over blocks of columns, when
  ``N >= n``, and then ``w = C^T a``: the solution lies in the row space of ``C``, which is what
  makes it the interpolant of minimum norm.

Either way the ``n x N`` feature matrix is not held whole: only one block of it (plus, in the
dual, the first blocks while they fit in half the memory budget), the Gram matrix and the fitted
coefficients. Both systems are solved as by a symmetric eigendecomposition
that drops the eigenvalues below ``cutoff**2`` times the largest one: the singular values of the
feature matrix below ``cutoff`` times the largest, as the ``cond`` of :func:`scipy.linalg.lstsq`.
When the Gram matrix is far better conditioned than that (nothing would be dropped), a Cholesky
factorisation gives the same solution several times faster; the eigendecomposition is used
otherwise (near the interpolation threshold).

Far above the threshold (``N >= 2n``) and when the whole feature matrix fits in the memory
budget, the dual Gram matrix, the ``n**2 N`` flops that dominate, is accumulated in float32
(twice the speed of float64 here) and the float64 solution is recovered by mixed-precision
iterative refinement: solve with the float32 Gram's Cholesky factor, compute the residual
``Y - C (C^T a)`` with the stored float64 features, correct, repeat. Each step shrinks the error
by about ``cond(G) * 6e-8``; it stops at a relative residual of ``1e-12``, as a float64 solve
would give. When the float32 Gram is too ill-conditioned for that (``cond > 1e7``) or the
refinement stalls, the float64 Gram is formed from the stored features and solved as above.
"""

import contextlib
import copy
import sys
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from skinterp._base import (
    InterpolatingRegressorMixin,
    SquareLossClassifierMixin,
    check_memory,
    memory_budget_bytes,
)
from skinterp._parallel import single_threaded_blas
from skinterp.random_features._features import (
    FEATURE_KINDS,
    draw_weights,
    feature_scale,
    nonzero_inputs,
    resolve_bandwidth,
    sparse_if_mostly_zero,
    unscaled_features,
)

DEFAULT_CUTOFF = 1e-7
"""Default relative cut-off on the singular values of the feature matrix.

The Gram matrices square the singular values; their eigenvalues are accurate to about
``1e-16`` times the largest, so ``1e-7`` (eigenvalues above ``1e-14`` of the largest) is about the
smallest cut-off that is not rounding noise."""

INTERPOLATION_TOLERANCE = 1e-6
"""``interpolates_`` is true when ``||Y - Phi W||_F <= INTERPOLATION_TOLERANCE * ||Y||_F``."""

_MAX_BLOCK = 2048  # columns per block: BLAS is at full speed well before this

MIXED_PRECISION_MIN_RATIO = 2.0
"""The float32 Gram matrix is tried only for ``N >= 2 n``, where it is well conditioned."""

MIXED_PRECISION_MIN_RCOND = 1e-7
"""Smallest reciprocal condition number (LAPACK's 1-norm estimate) of the float32 Gram matrix
for which refinement is tried. Each step shrinks the error by about ``cond * 6e-8``: measured
on MNIST at ``N = 20 n`` (estimate 1.4e5, 2-norm condition 2.5e4), the relative residual went
8e-7, 1e-11, 5e-16. A refinement that stops shrinking the residual falls back to float64."""

REFINEMENT_TOLERANCE = 1e-12
"""Relative residual ``||Y - G a|| / ||Y||`` at which the iterative refinement stops."""

_MAX_REFINEMENTS = 10


@dataclass
class MinNormSolution:
    """What :func:`fit_min_norm` returns.

    ``coef`` (``N x m``) are the coefficients on the *scaled* features ``sqrt(2 / N) C``;
    ``rank`` is the number of singular values kept by the cut-off; ``residual`` is the relative
    training residual ``||Y - Phi coef||_F / ||Y||_F``.
    """

    coef: np.ndarray
    solver: str
    rank: int
    residual: float


def _dask_backend_active():
    """Whether joblib's dask backend is active (``joblib.parallel_config(backend="dask")``)."""
    if "distributed" not in sys.modules:
        return False
    from joblib.parallel import get_active_backend

    return type(get_active_backend()[0]).__name__ == "DaskDistributedBackend"


def min_norm_solve(gram, rhs, cutoff):
    """Minimum-norm solution of ``gram @ x = rhs`` for a positive semi-definite ``gram``.

    The eigenvalues at or below ``cutoff**2`` times the largest one (and all non-positive ones,
    which are rounding) are dropped. Returns ``x``, the eigenvalues (ascending) and the rank kept.
    ``gram`` is overwritten.
    """
    # One BLAS thread: LAPACK's eigensolver is ~1.5x slower so when the cores are free, but up
    # to 10x faster when they are shared (its many small synchronised steps stall).
    with single_threaded_blas():
        eigenvalues, eigenvectors = linalg.eigh(
            gram, overwrite_a=True, check_finite=False, driver="evd"
        )
    top = eigenvalues[-1] if eigenvalues.size else 0.0
    if not top > 0.0:
        return np.zeros((gram.shape[0], rhs.shape[1])), eigenvalues, 0
    keep = eigenvalues > max(cutoff**2 * top, 0.0)
    kept = eigenvectors[:, keep]
    x = kept @ ((kept.T @ rhs) / eigenvalues[keep][:, None])
    return x, eigenvalues, int(keep.sum())


def _small_lapack(size):
    """One BLAS thread for LAPACK on a ``size x size`` matrix up to 3000 (a Cholesky then costs
    at most ~0.2 s on one thread).

    scipy links its own OpenBLAS: its workers, once woken, keep spinning after the call and
    halved the speed of numpy's next products (0.06 -> 0.12 s per pass over the features).
    """
    return single_threaded_blas() if size <= 3000 else contextlib.nullcontext()


def min_norm_solve_fast(gram, rhs, cutoff):
    """:func:`min_norm_solve`, through a Cholesky factorisation when that gives the same result.

    When ``gram`` is positive definite and LAPACK's estimate of its (1-norm) condition number is
    100 times below ``1 / cutoff**2``, no eigenvalue would be dropped (the 2-norm condition number
    is at most the 1-norm one, which the estimate rarely misses by a factor of 10) and the
    Cholesky solve is the same solution, about ten times faster than the eigendecomposition
    (more under contention for the cores); the eigendecomposition is used otherwise.
    Returns ``x`` and the rank kept. ``gram`` is not modified.
    """
    if cutoff > 0:
        one_norm = float(np.abs(gram).sum(axis=0).max())
        with _small_lapack(gram.shape[0]):
            try:
                factor = linalg.cho_factor(gram, lower=True, check_finite=False)
            except linalg.LinAlgError:
                factor = None
            if factor is not None:
                reciprocal_condition, info = linalg.lapack.dpocon(factor[0], one_norm, uplo="L")
                if info == 0 and reciprocal_condition > 100 * cutoff**2:
                    return linalg.cho_solve(factor, rhs, check_finite=False), gram.shape[0]
        del factor  # free it before the eigendecomposition
    x, _, rank = min_norm_solve(gram.copy(), rhs, cutoff)
    return x, rank


def column_block_size(n_rows, memory_limit=None):
    """Columns per block of features so that one block of ``n_rows`` rows takes 1/8 of the budget."""
    columns = memory_budget_bytes(memory_limit) // (8 * 8 * max(n_rows, 1))
    return int(min(max(columns, 32), _MAX_BLOCK))


def row_chunk_size(n_columns, memory_limit=None):
    """Rows per chunk so that ``n_columns`` features of a chunk take 1/8 of the budget."""
    rows = memory_budget_bytes(memory_limit) // (8 * 8 * max(n_columns, 1))
    return int(min(max(rows, 16), 16384))


def _relative(residual_norm, targets_norm):
    return float(residual_norm / targets_norm) if targets_norm > 0 else float(residual_norm)


def _gram(blocks, dtype):
    """``C C^T`` accumulated over the column blocks of ``C`` in ``dtype`` (float64 result)."""
    n_samples = blocks[0].shape[0]
    gram = np.zeros((n_samples, n_samples), dtype=dtype)
    for features in blocks:
        features = features.astype(dtype, copy=False)
        gram += features @ features.T  # numpy calls syrk for this pattern
    return gram.astype(np.float64, copy=False)


def _gram_product(blocks, dual):
    """``(C^T a, C C^T a)`` in float64, ``C^T a`` as a list of per-block pieces."""
    projections = [features.T @ dual for features in blocks]
    fitted = np.zeros_like(dual)
    for features, projection in zip(blocks, projections):
        fitted += features @ projection
    return projections, fitted


def refined_dual_solve(blocks, Y, cutoff):
    """Dual solve with a float32 Gram matrix and float64 iterative refinement.

    ``blocks`` are the column blocks of the float64 feature matrix ``C``. Returns
    ``(C^T a, relative residual)`` with ``(C C^T) a = Y`` solved to ``REFINEMENT_TOLERANCE``, or
    ``None`` when the float32 Gram matrix is too ill-conditioned (or its condition number is
    within the cut-off, which would drop singular values) or the refinement stalls.
    """
    gram = _gram(blocks, np.float32)
    one_norm = float(np.abs(gram).sum(axis=0).max())
    with _small_lapack(gram.shape[0]):
        try:
            factor = linalg.cho_factor(gram, lower=True, overwrite_a=True, check_finite=False)
        except linalg.LinAlgError:
            return None
        reciprocal_condition, info = linalg.lapack.dpocon(factor[0], one_norm, uplo="L")
        dual = linalg.cho_solve(factor, Y, check_finite=False)
    if info != 0 or reciprocal_condition < max(MIXED_PRECISION_MIN_RCOND, 100 * cutoff**2):
        return None
    targets_norm = np.linalg.norm(Y)
    previous = np.inf
    for _ in range(_MAX_REFINEMENTS):
        projections, fitted = _gram_product(blocks, dual)
        residual = Y - fitted
        relative = _relative(np.linalg.norm(residual), targets_norm)
        if relative <= REFINEMENT_TOLERANCE:
            break
        if relative > 0.5 * previous:
            # Stalled at the rounding floor of the float64 residual (accept when that floor is
            # low), or diverging (the estimate of the condition number was too optimistic).
            if relative <= 1e3 * REFINEMENT_TOLERANCE:
                break
            return None
        previous = relative
        with _small_lapack(gram.shape[0]):
            dual += linalg.cho_solve(factor, residual, check_finite=False)
    else:
        return None
    return np.concatenate(projections), relative


def _float64_dual_solve(block_of, n_samples, n_components, block, Y, cutoff, cache_bytes):
    """The float64 dual solve: the Gram matrix over the blocks, then ``coef = C^T a``.

    ``block_of(start)`` gives the block of features ``start:start + block``, generated or
    stored. Blocks are kept for the second pass while they fit in ``cache_bytes`` (all of them
    when they are stored anyway), so that it regenerates fewer. Returns ``(coef, rank,
    residual)``.
    """
    starts = range(0, n_components, block)
    cached = []
    gram = np.zeros((n_samples, n_samples))
    for start in starts:
        features = block_of(start)
        gram += features @ features.T  # numpy calls syrk for this pattern
        if len(cached) * block == start and (len(cached) + 1) * features.nbytes <= cache_bytes:
            cached.append(features)
    dual, rank = min_norm_solve_fast(gram, Y, cutoff)
    residual = _relative(np.linalg.norm(Y - gram @ dual), np.linalg.norm(Y))
    del gram
    coef = np.empty((n_components, Y.shape[1]))
    for index, start in enumerate(starts):
        if index < len(cached):
            features, cached[index] = cached[index], None
        else:
            features = block_of(start)
        np.matmul(features.T, dual, out=coef[start : start + block])
    return coef, rank, residual


def fit_min_norm(
    X, Y, weights, offsets, kind, *, solver="auto", cutoff=DEFAULT_CUTOFF, memory_limit=None,
    n_jobs=None,
):
    """Minimum-norm least squares of ``Y`` on the random features of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64
    Y : ndarray of shape (n, m), float64
    weights, offsets : the features' weights, shapes (d, N) and (N,)
    kind : {"fourier", "relu"}
    solver : {"auto", "primal", "dual"}
        ``"auto"`` is ``"dual"`` when ``N >= n``, else ``"primal"``.
    cutoff : float
        Relative cut-off on the singular values of the feature matrix.
    memory_limit : float or None
        Memory budget in MiB (scikit-learn's ``working_memory`` when None).
    n_jobs : int or None
        Threads applying the activation.

    Returns
    -------
    MinNormSolution
    """
    n_samples, n_components = X.shape[0], weights.shape[1]
    if solver == "auto":
        solver = "dual" if n_components >= n_samples else "primal"
    scale = feature_scale(n_components)
    targets_norm = np.linalg.norm(Y)
    X, inputs = nonzero_inputs(X)
    X = sparse_if_mostly_zero(X)

    def features_of(rows, start=0, stop=None):
        return unscaled_features(
            rows, weights, offsets, kind, start, stop, inputs=inputs, n_jobs=n_jobs
        )

    if solver == "dual":
        check_memory(
            3 * 8 * n_samples**2, memory_limit, what="The n_samples x n_samples Gram matrix of the "
            "dual solver (and its eigenvectors)", advice="Use solver='primal' when n_components "
            "is smaller than n_samples, fit on fewer samples, or raise memory_limit.",
        )
        block = column_block_size(n_samples, memory_limit)
        gram_bytes = 3 * 8 * n_samples**2
        stored = 8 * n_samples * n_components + gram_bytes <= memory_budget_bytes(memory_limit)
        blocks, solution = None, None
        if stored:
            blocks = [features_of(X, start, start + block)
                      for start in range(0, n_components, block)]
            if n_components >= MIXED_PRECISION_MIN_RATIO * n_samples:
                solution = refined_dual_solve(blocks, Y, cutoff)

        def block_of(start):
            return blocks[start // block] if stored else features_of(X, start, start + block)

        if solution is None:
            # Stored blocks are all kept; generated ones while they fit in half the budget.
            cache_bytes = np.inf if stored else memory_budget_bytes(memory_limit) // 2 - gram_bytes
            coef, rank, residual = _float64_dual_solve(
                block_of, n_samples, n_components, block, Y, cutoff, cache_bytes
            )
        else:
            (coef, residual), rank = solution, n_samples
        del blocks
    else:
        check_memory(
            3 * 8 * n_components**2, memory_limit, what="The n_components x n_components Gram "
            "matrix of the primal solver (and its eigenvectors)", advice="Use solver='dual' when "
            "n_components is larger than n_samples, fewer n_components, or raise memory_limit.",
        )
        chunk = row_chunk_size(n_components, memory_limit)
        gram = np.zeros((n_components, n_components))
        moments = np.zeros((n_components, Y.shape[1]))
        for start in range(0, n_samples, chunk):
            features = features_of(X[start : start + chunk])
            gram += features.T @ features
            moments += features.T @ Y[start : start + chunk]
        coef, rank = min_norm_solve_fast(gram, moments, cutoff)
        # ||Y - C w||^2 = ||Y||^2 - 2 <w, C^T Y> + <w, C^T C w>: exact enough to tell a clear
        # misfit; a small value is confirmed by a pass over the features (it cancels badly).
        squared = targets_norm**2 - 2.0 * np.vdot(coef, moments) + np.vdot(coef, gram @ coef)
        residual = _relative(np.sqrt(max(squared, 0.0)), targets_norm)
        if residual < 1e-3:
            residual_squared = 0.0
            for start in range(0, n_samples, chunk):
                features = features_of(X[start : start + chunk])
                residual_squared += np.sum((Y[start : start + chunk] - features @ coef) ** 2)
            residual = _relative(np.sqrt(residual_squared), targets_norm)
    coef /= scale
    return MinNormSolution(coef=coef, solver=solver, rank=rank, residual=residual)


def predict_min_norm(X, coef, weights, offsets, kind, *, memory_limit=None, n_jobs=None):
    """``Phi(X) @ coef`` over chunks of rows and blocks of features, in bounded memory."""
    n_components = weights.shape[1]
    scale = feature_scale(n_components)
    block = min(n_components, _MAX_BLOCK)
    chunk = row_chunk_size(block, memory_limit)
    out = np.zeros((X.shape[0], coef.shape[1]))
    for row in range(0, X.shape[0], chunk):
        rows, inputs = nonzero_inputs(X[row : row + chunk])
        rows = sparse_if_mostly_zero(rows)
        for start in range(0, n_components, block):
            features = unscaled_features(
                rows, weights, offsets, kind, start, start + block, inputs=inputs, n_jobs=n_jobs
            )
            out[row : row + chunk] += features @ coef[start : start + block]
    out *= scale
    return out


class _MinNormRFFBase(BaseEstimator):
    """The maths shared by the regressor and the classifier: fit solves, predict sums blocks."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions({"scale"})],
        "features": [StrOptions(set(FEATURE_KINDS))],
        "solver": [StrOptions({"auto", "primal", "dual"})],
        "cutoff": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "memory_limit": [Interval(Real, 0, None, closed="neither"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        n_components=1000,
        *,
        bandwidth="scale",
        features="fourier",
        solver="auto",
        cutoff=DEFAULT_CUTOFF,
        random_state=None,
        memory_limit=None,
        n_jobs=None,
    ):
        self.n_components = n_components
        self.bandwidth = bandwidth
        self.features = features
        self.solver = solver
        self.cutoff = cutoff
        self.random_state = random_state
        self.memory_limit = memory_limit
        self.n_jobs = n_jobs

    def _fit_targets(self, X, Y):
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        self.bandwidth_ = resolve_bandwidth(self.bandwidth, X)
        rng = check_random_state(self.random_state)
        seed = self.random_state if isinstance(self.random_state, Integral) else copy.deepcopy(rng)
        self.random_weights_, self.random_offset_ = draw_weights(
            self.features, X.shape[1], self.n_components, self.bandwidth_, rng
        )
        if _dask_backend_active() and self.solver != "primal" and self.n_components >= len(X):
            # Under joblib.parallel_config(backend="dask"): the Gram summed by the workers,
            # which draw the same weights from the seed (the optional skinterp[dask] extra).
            from skinterp.distributed import fit_min_norm as distributed_fit_min_norm

            solution, _ = distributed_fit_min_norm(
                X, Y, self.features, self.n_components, self.bandwidth_, seed,
                cutoff=self.cutoff, memory_limit=self.memory_limit,
            )
        else:
            solution = fit_min_norm(
                X, Y, self.random_weights_, self.random_offset_, self.features,
                solver=self.solver, cutoff=self.cutoff, memory_limit=self.memory_limit,
                n_jobs=self.n_jobs,
            )
        self.coef_ = solution.coef
        self.coef_norm_ = float(np.linalg.norm(solution.coef))
        self.solver_ = solution.solver
        self.rank_ = solution.rank
        self.train_residual_ = solution.residual
        self.interpolates_ = bool(solution.residual <= INTERPOLATION_TOLERANCE)

    def _predict_targets(self, X):
        return predict_min_norm(
            np.asarray(X, dtype=np.float64), self.coef_, self.random_weights_,
            self.random_offset_, self.features, memory_limit=self.memory_limit,
            n_jobs=self.n_jobs,
        )


_PARAMETERS_DOC = """
    Parameters
    ----------
    n_components : int, default=1000
        Number ``N`` of random features (the number of parameters per output).
    bandwidth : float > 0 or "scale", default="scale"
        The bandwidth ``sigma`` (directions ``v_k ~ N(0, I / sigma**2)``). ``"scale"`` uses
        ``sqrt(n_features * X.var() / 2)`` (scikit-learn's ``gamma="scale"``).
    features : {"fourier", "relu"}, default="fourier"
        ``sqrt(2 / N) cos(<v_k, x> + b_k)`` (:class:`RandomFourierFeatures`, the Gaussian
        kernel) or ``sqrt(2 / N) max(<v_k, x> + b_k, 0)`` (:class:`RandomReLUFeatures`).
    solver : {"auto", "primal", "dual"}, default="auto"
        ``"primal"`` solves the ``N x N`` normal equations, ``"dual"`` the ``n x n`` Gram system
        and maps it back; both give the minimum-norm least-squares solution. ``"auto"`` takes
        the smaller: dual when ``N >= n_samples``.
    cutoff : float in [0, 1), default=1e-7
        Singular values of the (scaled) feature matrix below ``cutoff`` times the largest are
        treated as zero, as the ``cond`` of :func:`scipy.linalg.lstsq`. The height of the
        double-descent peak at ``N = n`` depends on it; values below about ``1e-8`` are rounding
        noise (the Gram matrices square the singular values). ``0`` keeps every positive one.
    random_state : int, RandomState instance or None, default=None
        Seed of the features. With an int, the features of ``n_components=N'`` are the first
        ``N'`` of ``n_components=N >= N'``.
    memory_limit : float or None, default=None
        Memory budget in MiB for the blocks of features (scikit-learn's ``working_memory`` when
        None, 1024 by default). The Gram matrix (``min(n, N)`` squared, three copies) must fit
        in it, or fit raises ``MemoryError`` before allocating.
    n_jobs : int or None, default=None
        Threads applying the activation to each block (joblib's convention); the matrix
        products use the BLAS threads.
"""

_ATTRIBUTES_DOC = """
    Attributes
    ----------
    coef_ : ndarray of shape (n_components, n_outputs)
        Coefficients ``W`` on the scaled features ``phi`` (always 2-D; one column per output):
        ``predict(X) = phi(X) @ coef_``.
    coef_norm_ : float
        ``||coef_||_F``, the norm the paper plots. Because the features carry the factor
        ``sqrt(2 / N)``, it tends to the RKHS norm of the kernel interpolant as ``N`` grows.
    solver_ : str
        The solver used, ``"primal"`` or ``"dual"``.
    rank_ : int
        Number of singular values kept by the cut-off.
    train_residual_ : float
        Relative training residual ``||Y - phi(X) W||_F / ||Y||_F``.
    interpolates_ : bool
        Whether ``train_residual_ <= 1e-6``.
    bandwidth_ : float
        The bandwidth used.
    random_weights_ : ndarray of shape (n_features, n_components)
        The directions ``v_k``, one per column.
    random_offset_ : ndarray of shape (n_components,)
        The offsets ``b_k``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string feature names.
"""

_NOTES_DOC = """
    With ``Phi`` the ``n x N`` matrix of features of the training points, the fit is the
    minimum-norm least-squares solution

    .. math:: W = \\Phi^+ Y = \\begin{cases} (\\Phi^T \\Phi)^{+} \\Phi^T Y & N < n
              \\text{ (least squares)} \\\\ \\Phi^T (\\Phi \\Phi^T)^{+} Y & N \\ge n
              \\text{ (the interpolant of minimum norm)} \\end{cases}

    Belkin, Hsu, Ma & Mandal (2019) and Belkin (2021, Section 3.7, Fig. 5-7) show that its test
    risk and ``||W||`` peak at the interpolation threshold ``N = n`` and fall again beyond it,
    towards the kernel interpolant (the Gaussian kernel of bandwidth ``sigma`` for Fourier
    features, as ``N`` tends to infinity): *double descent*.

    Dual solver (``N >= n``): when the ``n x N`` feature matrix fits in the memory budget
    (``memory_limit``, with the Gram matrices) its blocks are kept; otherwise they are
    generated twice, for the Gram matrix and for ``W = Phi^T a`` (the first blocks kept while
    they fit in half the budget). For ``N >= 2n`` with the blocks kept, the Gram matrix
    ``Phi Phi^T`` is summed in float32 (``syrk``, twice the float64 speed) and the float64
    solution is recovered by iterative refinement against the kept float64 features, to a
    relative residual of ``1e-12``; an ill-conditioned float32 Gram matrix, or a refinement
    that stalls, falls back to the float64 Gram matrix. The primal Gram ``Phi^T Phi``
    (``N < n``) is summed over chunks of rows. Memory: the Gram matrix (three copies of
    ``min(n, N)**2`` floats), the weights (``d x N``), and the kept blocks. Input columns that
    are zero in every row (blank pixels) are left out of the products.
    Time: ``n N d`` (features) + ``min(n, N)**2 max(n, N)`` (Gram) + ``min(n, N)**3``
    (Cholesky, or eigendecomposition near the threshold, where the cut-off can matter).
    Features and solutions are float64 whatever the input dtype.

    Matches ``LinearRegression(fit_intercept=False, tol=cutoff)`` on
    ``RandomFourierFeatures(...).fit_transform(X)`` (same weights), which is much slower when
    ``N`` is large (a dense SVD of the ``n x N`` matrix).
"""

_REFERENCES_DOC = """
    M. Belkin, D. Hsu, S. Ma and S. Mandal, "Reconciling modern machine-learning practice and the
    classical bias-variance trade-off", PNAS 116 (2019).

    M. Belkin, "Fit without fear: remarkable mathematical phenomena of deep learning through the
    prism of interpolation", Acta Numerica 30 (2021).

    A. Rahimi and B. Recht, "Random features for large-scale kernel machines", NeurIPS 2007.
"""


class MinNormRFFRegressor(InterpolatingRegressorMixin, _MinNormRFFBase):
    __doc__ = (
        """Minimum-norm least squares on random features: interpolation beyond ``N = n``.
"""
        + _PARAMETERS_DOC
        + _ATTRIBUTES_DOC
        + """
    See Also
    --------
    MinNormRFFClassifier : The classifier twin (one-hot targets, square loss).
    RandomFourierFeatures : The features, as a transformer.
    skinterp.experiments.double_descent : The sweep over ``N`` that shows double descent.

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
    >>> from skinterp import MinNormRFFRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(100, 2))
    >>> y = np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=100)
    >>> model = MinNormRFFRegressor(n_components=2000, bandwidth=0.2, random_state=0).fit(X, y)
    >>> model.solver_, model.interpolates_  # N >= n: the minimum-norm interpolant
    ('dual', True)
    >>> bool(np.allclose(model.predict(X), y, atol=1e-6))
    True
"""
    )

class MinNormRFFClassifier(SquareLossClassifierMixin, _MinNormRFFBase):
    __doc__ = (
        """Classification by minimum-norm least squares on random features (square loss).

    :class:`MinNormRFFRegressor` fitted to one-hot class indicators, as in the experiments of
    Belkin, Hsu, Ma & Mandal (2019); the predicted class has the largest output.
"""
        + _PARAMETERS_DOC
        + _ATTRIBUTES_DOC
        + """    classes_ : ndarray of shape (n_classes,)
        Class labels (``coef_`` has one column per class).

    See Also
    --------
    MinNormRFFRegressor : The regressor this classifier is built on.
    skinterp.experiments.double_descent : The sweep over ``N`` that shows double descent.

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
    >>> from skinterp import MinNormRFFClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> model = MinNormRFFClassifier(n_components=10000, random_state=0).fit(X_train, y_train)
    >>> model.interpolates_, model.score(X_train, y_train)
    (True, 1.0)
    >>> model.score(X_test, y_test) > 0.97
    True
"""
    )
