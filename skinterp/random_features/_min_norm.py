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

The estimators below validate (the mixins of :mod:`skinterp._base`), call :func:`fit_min_norm`
and copy the :class:`MinNormRFFModel` built by :func:`rff_model` to attributes of the same
names; ``predict`` calls :func:`predict_min_norm`.
"""

import copy
import sys
import time
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets

from skinterp._base import (
    InterpolatingRegressorMixin,
    SquareLossClassifierMixin,
    as_2d_targets,
    check_class_labels,
    check_finite_targets,
    check_memory,
    fitted_model,
    memory_budget_bytes,
    output_dtype,
    positive_weight_rows,
    relative_residual,
    report_interpolation,
    restored_on_error,
    set_fitted,
    validate_features,
    warn_user,
)
from skinterp._linalg import CONDITION_SAFETY, cholesky_solve, min_norm_psd_solve
from skinterp._parallel import small_dense_blas
from skinterp._progress import progress
from skinterp.exceptions import InterpolationThresholdWarning, InterpolationWarning
from skinterp.random_features._features import (
    BANDWIDTH_RULES,
    FEATURE_KINDS,
    FLOPS_PER_CALL,
    draw_weights,
    feature_scale,
    nonzero_inputs,
    resolve_bandwidth,
    sparse_if_mostly_zero,
    unscaled_features,
)

DEFAULT_CUTOFF = 1e-7
"""The smallest relative cut-off on the singular values of the feature matrix that is not
rounding noise: the pseudo-inverse of the paper's experiments (:mod:`skinterp.experiments`).

The Gram matrices square the singular values; their eigenvalues are accurate to about
``1e-16`` times the largest, so ``1e-7`` (eigenvalues above ``1e-14`` of the largest) is about the
smallest cut-off that is not rounding noise."""

ESTIMATOR_CUTOFF = 1e-3
"""The estimators' default ``cutoff``. Measured (5-fold cross-validation, ``bandwidth="auto"``):
on standardised California housing the minimum-norm solution with ``cutoff=1e-7`` has R^2
between -670 and -38 at ``n_components=1000`` (15,000 rows), and far worse near ``N = n``;
with ``1e-3`` it has 0.70-0.74 there and 0.23-0.70 at the threshold. On digits the accuracy
rises from 0.981 to 0.988 (``N = 1000``) and from 0.986 to 0.991 (``N = 3000``). The smooth
Gaussian features of low-dimensional data have many tiny singular values; without a cut-off
their directions fit the noise with huge coefficients."""

INTERPOLATION_TOLERANCE = 1e-6
"""``interpolates_``: the relative training residual (max-norm,
:func:`skinterp._base.relative_residual`) at most this (``RESIDUAL_RTOL`` of float64, the
working dtype of the fits)."""

NEAR_THRESHOLD = (0.5, 2.0)
"""``n / 2 <= N <= 2 n``: the band around the interpolation threshold in which fit warns."""

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


@dataclass(frozen=True)
class MinNormSolution:
    """What :func:`fit_min_norm` returns.

    ``coef`` (``N x m``) are the coefficients on the *scaled* features ``sqrt(2 / N) C``;
    ``rank`` is the number of singular values kept by the cut-off; ``train_residual`` is the
    relative training residual (max-norm, :func:`skinterp._base.relative_residual`);
    ``n_directions_cut`` the number of singular directions of the feature matrix the cut-off
    dropped (``min(n, N) - rank``).
    """

    coef: np.ndarray
    solver: str
    rank: int
    train_residual: float
    n_directions_cut: int = 0


@dataclass(frozen=True)
class MinNormRFFModel:
    """A fitted MinNormRFF: the estimators copy every field to the attribute of the same name
    with a trailing underscore (documented there). Built by :func:`rff_model`."""

    bandwidth: float
    random_weights: np.ndarray
    random_offset: np.ndarray
    coef: np.ndarray
    coef_norm: float
    solver: str
    rank: int
    n_directions_cut: int
    n_samples_fit: int
    train_residual: float


def rff_model(bandwidth, random_weights, random_offset, solution, n_samples):
    """The :class:`MinNormRFFModel` of a :class:`MinNormSolution` on ``n_samples`` rows."""
    return MinNormRFFModel(
        bandwidth=bandwidth,
        random_weights=random_weights,
        random_offset=random_offset,
        coef=solution.coef,
        coef_norm=float(np.linalg.norm(solution.coef)),
        solver=solution.solver,
        rank=int(solution.rank),
        n_directions_cut=int(solution.n_directions_cut),
        n_samples_fit=int(n_samples),
        train_residual=float(solution.train_residual),
    )


def _dask_backend_active():
    """Whether joblib's dask backend is active (``joblib.parallel_config(backend="dask")``)."""
    if "distributed" not in sys.modules:
        return False
    from joblib.parallel import get_active_backend

    return type(get_active_backend()[0]).__name__ == "DaskDistributedBackend"


def min_norm_solve(gram, rhs, cutoff):
    """The minimum-norm solution of ``gram @ x = rhs`` with the singular values of the features
    below ``cutoff`` times the largest dropped: :func:`skinterp._linalg.min_norm_psd_solve` with
    the eigenvalue cut-off ``cutoff**2`` (the Gram matrix's eigenvalues are the squared singular
    values). Returns ``x`` and the rank kept; ``gram`` is not modified."""
    solution = min_norm_psd_solve(gram, rhs, cutoff=cutoff**2)
    return solution.x, solution.rank


def column_block_size(n_rows, memory_limit=None):
    """Columns per block of features.

    So that one block of ``n_rows`` rows takes 1/8 of the memory budget.
    """
    columns = memory_budget_bytes(memory_limit) // (8 * 8 * max(n_rows, 1))
    return int(min(max(columns, 32), _MAX_BLOCK))


def row_chunk_size(n_columns, memory_limit=None):
    """Rows per chunk so that ``n_columns`` features of a chunk take 1/8 of the budget."""
    rows = memory_budget_bytes(memory_limit) // (8 * 8 * max(n_columns, 1))
    return int(min(max(rows, 16), 16384))


def _relative(residual_norm, targets_norm):
    return float(residual_norm / targets_norm) if targets_norm > 0 else float(residual_norm)


def add_outer(gram, M):
    """``gram += M @ M.T`` in BLAS calls of about :data:`FLOPS_PER_CALL` multiply-adds at most.

    The inner dimension is split: ``syrk`` on ``M[:, j:j + step]`` (``g**2 step / 2``
    multiply-adds), ``step`` at least 256 columns, where ``syrk`` is at nearly full speed
    (measured within 1.5x of one call on 2500 x 2048, 6000 x 2048 and 1500 x 16384). Beyond
    ``g`` of about 7000 even 256 columns are too long a call: the lower triangle is then summed
    in panels of rows (``gram[i:j, :j] += M[i:j] @ M[:j].T``) and :func:`symmetrise_lower`
    completes the matrix. Returns whether panels were used (the upper triangle is then stale).
    """
    g, k = M.shape
    step = max(int(2 * FLOPS_PER_CALL // max(g * g, 1)), 256)
    if g * g * step <= 4 * FLOPS_PER_CALL:
        for j in range(0, k, step):
            part = M[:, j : j + step]
            gram += part @ part.T  # numpy calls syrk for this pattern
        return False
    rows = max(int(FLOPS_PER_CALL // max(g * k, 1)), 16)
    for lo in range(0, g, rows):
        hi = min(lo + rows, g)
        gram[lo:hi, :hi] += M[lo:hi] @ M[:hi].T
    return True


def symmetrise_lower(gram):
    """Copy the lower triangle of ``gram`` onto the upper one, in panels."""
    g = gram.shape[0]
    rows = max(int(FLOPS_PER_CALL // max(8 * g, 1)), 64)
    for lo in range(0, g, rows):
        hi = min(lo + rows, g)
        gram[lo:hi, hi:] = gram[hi:, lo:hi].T
        block = gram[lo:hi, lo:hi]
        block[np.triu_indices(hi - lo, 1)] = block.T[np.triu_indices(hi - lo, 1)]


def _gram(blocks, dtype):
    """``C C^T`` accumulated over the column blocks of ``C`` in ``dtype`` (float64 result)."""
    n_samples = blocks[0].shape[0]
    gram = np.zeros((n_samples, n_samples), dtype=dtype)
    panels = False
    for features in blocks:
        panels |= add_outer(gram, features.astype(dtype, copy=False))
    if panels:
        symmetrise_lower(gram)
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
    ``(C^T a, C C^T a, relative residual)`` with ``(C C^T) a = Y`` solved to
    ``REFINEMENT_TOLERANCE``, or ``None`` when the float32 Gram matrix is too ill-conditioned
    (or its condition number is within the cut-off, which would drop singular values) or the
    refinement stalls.
    """
    gram = _gram(blocks, np.float32)
    # skinterp._linalg's Cholesky step with a cut-off of its own: the float32 factor only
    # preconditions the float64 refinement, which needs cond < 1 / MIXED_PRECISION_MIN_RCOND,
    # and a cut-off that would drop singular values sends the solve to the float64 path.
    # (Both cut-offs are far above the rounding level, so the check is CONDITION_SAFETY times
    # the larger: max(MIXED_PRECISION_MIN_RCOND, 100 * cutoff**2).)
    solved = cholesky_solve(
        gram,
        Y,
        cutoff=max(MIXED_PRECISION_MIN_RCOND / CONDITION_SAFETY, cutoff**2),
        overwrite_a=True,
    )
    if solved is None:
        return None
    factor, dual = solved.factor, solved.x
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
        with small_dense_blas(gram.shape[0]):
            dual += linalg.cho_solve(factor, residual, check_finite=False)
    else:
        return None
    return np.concatenate(projections), fitted, relative


def _float64_dual_solve(block_of, n_samples, n_components, block, Y, cutoff, cache_bytes, report):
    """The float64 dual solve: the Gram matrix over the blocks, then ``coef = C^T a``.

    ``block_of(start)`` gives the block of features ``start:start + block``, generated or
    stored. Blocks are kept for the second pass while they fit in ``cache_bytes`` (all of them
    when they are stored anyway), so that it regenerates fewer. Returns ``(coef, fitted, rank)``
    with ``fitted = C C^T a``. ``report(items, what)`` wraps the loops (progress lines).
    """
    starts = range(0, n_components, block)
    cached = []
    gram = np.zeros((n_samples, n_samples))
    panels = False
    for start in report(starts, "Gram matrix C C^T, feature block"):
        features = block_of(start)
        panels |= add_outer(gram, features)
        if len(cached) * block == start and (len(cached) + 1) * features.nbytes <= cache_bytes:
            cached.append(features)
    if panels:
        symmetrise_lower(gram)
    dual, rank = _timed_solve(report, gram, Y, cutoff)
    fitted = gram @ dual
    del gram
    coef = np.empty((n_components, Y.shape[1]))
    regenerated = [start for index, start in enumerate(starts) if index >= len(cached)]
    for index, start in enumerate(starts[: len(cached)]):
        features, cached[index] = cached[index], None
        np.matmul(features.T, dual, out=coef[start : start + block])
    for start in report(regenerated, "coefficients C^T a, feature block"):
        np.matmul(block_of(start).T, dual, out=coef[start : start + block])
    return coef, fitted, rank


def _timed_solve(report, gram, rhs, cutoff):
    """:func:`min_norm_solve`, with a progress line."""
    start = time.perf_counter()
    x, rank = min_norm_solve(gram, rhs, cutoff)
    report.line(
        f"solved the {gram.shape[0]} x {gram.shape[0]} system in "
        f"{time.perf_counter() - start:.1f} s (rank {rank})"
    )
    return x, rank


class _Reporter:
    """Progress lines of one fit or prediction, headed by the estimator's name."""

    def __init__(self, verbose, name="MinNormRFF"):
        self.verbose = verbose
        self.name = name

    def __call__(self, items, what):
        return progress(
            items, f"{self.name}: {what}", verbose=self.verbose, total=len(items), min_interval=1.0
        )

    def line(self, text):
        if self.verbose:
            print(f"{self.name}: {text}", file=sys.stderr, flush=True)


def fit_min_norm(
    X,
    Y,
    weights,
    offsets,
    kind,
    *,
    solver="auto",
    cutoff=DEFAULT_CUTOFF,
    memory_limit=None,
    n_jobs=None,
    sample_weight=None,
    verbose=0,
):
    """Minimum-norm (weighted) least squares of ``Y`` on the random features of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64
    Y : ndarray of shape (n, m), float64
    weights, offsets : the features' weights, shapes (d, N) and (N,)
    kind : {"fourier", "relu"}
    solver : {"auto", "primal", "dual"}
        ``"auto"`` is ``"dual"`` when ``N >= n``, else ``"primal"``.
    cutoff : float
        Relative cut-off on the singular values of the (weighted) feature matrix.
    memory_limit : float or None
        Memory budget in MiB (scikit-learn's ``working_memory`` when None).
    n_jobs : int or None
        Threads applying the activation.
    sample_weight : ndarray of shape (n,) or None
        Positive weights ``s_i``: the solution of minimum norm among the minimisers of
        ``sum_i s_i ||phi(x_i) w - y_i||^2`` (the rows of ``C`` and ``Y`` multiplied by
        ``sqrt(s_i)``). Rows of weight zero must have been removed.
    verbose : int
        Progress lines (with the time left) on stderr when > 0.

    Returns
    -------
    MinNormSolution
        ``residual`` is :func:`skinterp._base.relative_residual` of the fitted values at the
        training rows.
    """
    n_samples, n_components = X.shape[0], weights.shape[1]
    if solver == "auto":
        solver = "dual" if n_components >= n_samples else "primal"
    report = verbose if isinstance(verbose, _Reporter) else _Reporter(verbose)
    scale = feature_scale(n_components)
    root_weights = None if sample_weight is None else np.sqrt(sample_weight)
    Y_fit = Y if root_weights is None else Y * root_weights[:, None]
    X, inputs = nonzero_inputs(X)
    X = sparse_if_mostly_zero(X)

    def features_of(rows, start=0, stop=None, row_start=0):
        features = unscaled_features(
            rows, weights, offsets, kind, start, stop, inputs=inputs, n_jobs=n_jobs
        )
        if root_weights is not None:
            features *= root_weights[row_start : row_start + features.shape[0], None]
        return features

    if solver == "dual":
        check_memory(
            3 * 8 * n_samples**2,
            memory_limit,
            what="The n_samples x n_samples Gram matrix of the dual solver (and its eigenvectors)",
            advice="Use solver='primal' when n_components "
            "is smaller than n_samples, fit on fewer samples, or raise memory_limit.",
        )
        block = column_block_size(n_samples, memory_limit)
        gram_bytes = 3 * 8 * n_samples**2
        stored = 8 * n_samples * n_components + gram_bytes <= memory_budget_bytes(memory_limit)
        blocks, solution = None, None
        starts = range(0, n_components, block)
        if stored:
            blocks = [
                features_of(X, start, start + block) for start in report(starts, "features, block")
            ]
            if n_components >= MIXED_PRECISION_MIN_RATIO * n_samples:
                solution = refined_dual_solve(blocks, Y_fit, cutoff)

        def block_of(start):
            return blocks[start // block] if stored else features_of(X, start, start + block)

        if solution is None:
            # Stored blocks are all kept; generated ones while they fit in half the budget.
            cache_bytes = np.inf if stored else memory_budget_bytes(memory_limit) // 2 - gram_bytes
            coef, fitted, rank = _float64_dual_solve(
                block_of, n_samples, n_components, block, Y_fit, cutoff, cache_bytes, report
            )
        else:
            (coef, fitted, _), rank = solution, n_samples
            report.line("solved by float32 Gram matrix and float64 refinement")
        del blocks
    else:
        check_memory(
            3 * 8 * n_components**2,
            memory_limit,
            what="The n_components x n_components Gram "
            "matrix of the primal solver (and its eigenvectors)",
            advice="Use solver='dual' when "
            "n_components is larger than n_samples, fewer n_components, or raise memory_limit.",
        )
        chunk = row_chunk_size(n_components, memory_limit)
        gram = np.zeros((n_components, n_components))
        moments = np.zeros((n_components, Y.shape[1]))
        cached, cache_bytes = [], memory_budget_bytes(memory_limit) // 2 - 3 * 8 * n_components**2
        starts = range(0, n_samples, chunk)
        panels = False
        for start in report(starts, "Gram matrix C^T C, rows"):
            features = features_of(X[start : start + chunk], row_start=start)
            panels |= add_outer(gram, features.T)
            moments += features.T @ Y_fit[start : start + chunk]
            if len(cached) * chunk == start and (len(cached) + 1) * features.nbytes <= cache_bytes:
                cached.append(features)
            del features
        if panels:
            symmetrise_lower(gram)
        coef, rank = _timed_solve(report, gram, moments, cutoff)
        del gram, moments
        fitted = np.empty_like(Y_fit)
        for index, start in enumerate(starts[: len(cached)]):
            features, cached[index] = cached[index], None
            np.matmul(features, coef, out=fitted[start : start + chunk])
        for start in report(starts[len(cached) :], "training residual, rows"):
            features = features_of(X[start : start + chunk], row_start=start)
            np.matmul(features, coef, out=fitted[start : start + chunk])
    if root_weights is not None:
        fitted /= root_weights[:, None]
    coef /= scale
    residual = relative_residual(fitted, Y)
    n_cut = max(min(n_samples, n_components) - rank, 0)
    return MinNormSolution(
        coef=coef, solver=solver, rank=rank, train_residual=residual, n_directions_cut=n_cut
    )


def predict_min_norm(model, X, kind, *, memory_limit=None, n_jobs=None, verbose=0):
    """``Phi(X) @ coef`` of a :class:`MinNormRFFModel` at the float64 queries ``X``, over chunks
    of rows and blocks of features, in bounded memory; ``kind`` is the estimator's
    ``features`` ("fourier" or "relu").

    Each BLAS call does at most :data:`FLOPS_PER_CALL` multiply-adds (Ctrl-C is seen between
    them); ``verbose`` writes progress lines over the chunks of rows.
    """
    coef, weights, offsets = model.coef, model.random_weights, model.random_offset
    n_components = weights.shape[1]
    scale = feature_scale(n_components)
    block = min(n_components, _MAX_BLOCK)
    chunk = row_chunk_size(block, memory_limit)
    chunk = min(
        chunk, max(int(FLOPS_PER_CALL // max(block * (X.shape[1] + coef.shape[1]), 1)), 64)
    )
    out = np.zeros((X.shape[0], coef.shape[1]))
    report = verbose if isinstance(verbose, _Reporter) else _Reporter(verbose)
    for row in report(range(0, X.shape[0], chunk), "predict, rows"):
        rows, inputs = nonzero_inputs(X[row : row + chunk])
        rows = sparse_if_mostly_zero(rows)
        for start in range(0, n_components, block):
            features = unscaled_features(
                rows, weights, offsets, kind, start, start + block, inputs=inputs, n_jobs=n_jobs
            )
            out[row : row + chunk] += features @ coef[start : start + block]
    out *= scale
    return out


def simplex_projection(scores):
    """The Euclidean projection of each row of ``scores`` onto the probability simplex.

    ``p = max(s - tau, 0)`` with ``tau`` such that ``sum p = 1`` (Held, Wolfe & Crowder, 1974;
    Duchi et al., 2008): the probability vector nearest to the scores in the square loss. It
    keeps the order of the scores (so the largest score has the largest probability), depends
    only on their differences, is ``s`` itself when ``s`` is already a probability vector, and
    for two classes is ``p_1 = clip((1 + s_1 - s_0) / 2, 0, 1)``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    n_classes = scores.shape[1]
    ordered = -np.sort(-scores, axis=1)
    cumulative = np.cumsum(ordered, axis=1) - 1.0
    index = np.arange(1, n_classes + 1)
    support = ordered - cumulative / index > 0
    last = n_classes - 1 - np.argmax(support[:, ::-1], axis=1)  # the largest index in support
    tau = cumulative[np.arange(scores.shape[0]), last] / (last + 1)
    return np.maximum(scores - tau[:, None], 0.0)


class _MinNormRFFBase(BaseEstimator):
    """The maths shared by the regressor and the classifier: fit solves, predict sums blocks."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions(set(BANDWIDTH_RULES))],
        "features": [StrOptions(set(FEATURE_KINDS))],
        "solver": [StrOptions({"auto", "primal", "dual"})],
        "cutoff": [Interval(Real, 0, 1, closed="left")],
        "random_state": ["random_state"],
        "memory_limit": [Interval(Real, 0, None, closed="neither"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=1000,
        *,
        bandwidth="auto",
        features="fourier",
        solver="auto",
        cutoff=ESTIMATOR_CUTOFF,
        random_state=None,
        memory_limit=None,
        n_jobs=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.bandwidth = bandwidth
        self.features = features
        self.solver = solver
        self.cutoff = cutoff
        self.random_state = random_state
        self.memory_limit = memory_limit
        self.n_jobs = n_jobs
        self.verbose = verbose

    # ----------------------------------------------------------------------------------------
    # fit
    # ----------------------------------------------------------------------------------------
    def _fit_targets(self, X, Y, sample_weight=None):
        """Solve for ``Y`` (2-D) with the positive ``sample_weight`` (or None); every fitted
        attribute is assigned at the end."""
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        weights = sample_weight
        report = _Reporter(self.verbose, type(self).__name__)
        bandwidth = resolve_bandwidth(self.bandwidth, X)
        rng = check_random_state(self.random_state)
        seed = self.random_state if isinstance(self.random_state, Integral) else copy.deepcopy(rng)
        random_weights, random_offset = draw_weights(
            self.features, X.shape[1], self.n_components, bandwidth, rng, n_jobs=self.n_jobs
        )
        if (
            _dask_backend_active()
            and weights is None
            and self.solver != "primal"
            and self.n_components >= len(X)
        ):
            # Under joblib.parallel_config(backend="dask"): the Gram summed by the workers,
            # which draw the same weights from the seed (the optional skinterp[dask] extra).
            from skinterp.distributed import fit_min_norm as distributed_fit_min_norm

            solution, _ = distributed_fit_min_norm(
                X,
                Y,
                self.features,
                self.n_components,
                bandwidth,
                seed,
                cutoff=self.cutoff,
                memory_limit=self.memory_limit,
            )
        else:
            solution = fit_min_norm(
                X,
                Y,
                random_weights,
                random_offset,
                self.features,
                solver=self.solver,
                cutoff=self.cutoff,
                memory_limit=self.memory_limit,
                n_jobs=self.n_jobs,
                sample_weight=weights,
                verbose=report,
            )
        self._set_model(rff_model(bandwidth, random_weights, random_offset, solution, len(X)))
        self._drop_partial_state()
        self._warn_if_not_interpolating(X.shape[0])

    def _set_model(self, model):
        set_fitted(self, model)
        report_interpolation(self, model.train_residual, np.float64)

    def _drop_partial_state(self):
        for name in ("_partial_gram", "_partial_moments", "_partial_norm2"):
            self.__dict__.pop(name, None)

    def _warn_if_not_interpolating(self, n_samples):
        """Say what the fit did when it is not the minimum-norm interpolant the class promises.

        Near the threshold (``n / 2 <= N <= 2 n``): :class:`InterpolationThresholdWarning`,
        whatever the residual. Above it (``N > 2 n``), where an interpolant exists:
        :class:`InterpolationWarning` when the cut-off left a training residual. Below it the fit
        is least squares by construction (documented), and says nothing.
        """
        low, high = NEAR_THRESHOLD
        if low * n_samples <= self.n_components <= high * n_samples:
            self._warn_near_threshold(n_samples)
        elif self.n_components > high * n_samples and not self.interpolates_:
            if self.cutoff > DEFAULT_CUTOFF:
                advice = (
                    "which regularises the fit (often the better test error on noisy, "
                    f"low-dimensional data). Pass cutoff={DEFAULT_CUTOFF:g} for the "
                    "minimum-norm interpolant."
                )
            else:
                advice = (
                    "which is numerically rank-deficient at this cut-off (duplicate or nearly "
                    "identical rows, or a bandwidth much larger than the data's spread): "
                    "check bandwidth or merge those rows."
                )
            warn_user(
                f"{type(self).__name__} did not interpolate its {n_samples} training samples "
                f"(relative training residual {self.train_residual_:.2g}): the cut-off "
                f"(cutoff={self.cutoff:g}) dropped {self.n_directions_cut_} of the {n_samples} "
                f"singular directions of the feature matrix, {advice}",
                InterpolationWarning,
            )

    def _warn_near_threshold(self, n_samples):
        low, high = NEAR_THRESHOLD
        size = min(n_samples, self.n_components)
        if self.n_directions_cut_:
            what = (
                f"the cut-off (cutoff={self.cutoff:g}) dropped {self.n_directions_cut_} of "
                f"its {size} singular directions (effective rank {self.rank_}), which "
                "regularises the fit: the solution and its test error depend on cutoff here"
            )
        else:
            what = (
                f"the cut-off (cutoff={self.cutoff:g}) dropped none of its {size} singular "
                f"directions: the solution has norm {self.coef_norm_:.3g} and its test error "
                "can be orders of magnitude above that of n_components far from n_samples"
            )
        warn_user(
            f"n_components={self.n_components} is near the interpolation threshold "
            f"n_samples={n_samples} (within a factor {high:g}; the peak of double descent): "
            f"{what}. Choose n_components below n_samples / {1 / low:g} or above "
            f"{high:g} * n_samples, or raise cutoff.",
            InterpolationThresholdWarning,
        )

    # ----------------------------------------------------------------------------------------
    # partial_fit: the accumulated normal equations
    # ----------------------------------------------------------------------------------------
    def _partial_fit_targets(self, X, Y, sample_weight, first):
        """Add the batch to ``C^T S C`` and ``C^T S Y`` and solve them; assign at the end."""
        X, Y, weights = positive_weight_rows(
            np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64), sample_weight
        )
        report = _Reporter(self.verbose, f"{type(self).__name__}.partial_fit")
        N = self.n_components
        if first:
            check_memory(
                3 * 8 * N**2,
                self.memory_limit,
                what="partial_fit's n_components x n_components normal equations (and their "
                "eigenvectors)",
                advice="Lower n_components, raise memory_limit, or use fit.",
            )
            bandwidth = resolve_bandwidth(self.bandwidth, X)
            random_weights, random_offset = draw_weights(
                self.features, X.shape[1], N, bandwidth, self.random_state, n_jobs=self.n_jobs
            )
            gram = np.zeros((N, N))
            moments = np.zeros((N, Y.shape[1]))
            norm2, n_seen = 0.0, 0
        else:
            bandwidth = self.bandwidth_
            random_weights, random_offset = self.random_weights_, self.random_offset_
            gram = self._partial_gram.copy()  # the state changes only when the call completes
            moments = self._partial_moments.copy()
            norm2, n_seen = self._partial_norm2, self.n_samples_fit_
        root = np.ones(X.shape[0]) if weights is None else np.sqrt(weights)
        X_rows, inputs = nonzero_inputs(X)
        X_rows = sparse_if_mostly_zero(X_rows)
        chunk = row_chunk_size(N, self.memory_limit)
        panels = False
        for start in report(range(0, X.shape[0], chunk), "normal equations C^T C, rows"):
            features = unscaled_features(
                X_rows[start : start + chunk],
                random_weights,
                random_offset,
                self.features,
                inputs=inputs,
                n_jobs=self.n_jobs,
            )
            features *= root[start : start + chunk, None]
            panels |= add_outer(gram, features.T)
            moments += features.T @ (Y[start : start + chunk] * root[start : start + chunk, None])
        if panels:
            symmetrise_lower(gram)
        norm2 += float(np.sum(root[:, None] ** 2 * Y**2))
        coef, rank = _timed_solve(report, gram, moments, self.cutoff)
        # ||S^1/2 (Y - C w)||^2 = ||S^1/2 Y||^2 - 2 <w, C^T S Y> + <w, C^T S C w>
        squared = norm2 - 2.0 * np.vdot(coef, moments) + np.vdot(coef, gram @ coef)
        residual = _relative(np.sqrt(max(squared, 0.0)), np.sqrt(norm2))
        n_seen += X.shape[0]
        solution = MinNormSolution(
            coef=coef / feature_scale(N),
            solver="primal",
            rank=rank,
            train_residual=residual,
            n_directions_cut=max(min(n_seen, N) - rank, 0),
        )
        self._set_model(rff_model(bandwidth, random_weights, random_offset, solution, n_seen))
        self._partial_gram, self._partial_moments, self._partial_norm2 = gram, moments, norm2
        self._warn_if_not_interpolating(n_seen)

    def _predict_targets(self, X):
        scores = predict_min_norm(
            fitted_model(self, MinNormRFFModel),
            np.asarray(X, dtype=np.float64),
            self.features,
            memory_limit=self.memory_limit,
            n_jobs=self.n_jobs,
            verbose=_Reporter(self.verbose, type(self).__name__),
        )
        return scores.astype(output_dtype(X), copy=False)


_PARAMETERS_DOC = """
    Parameters
    ----------
    n_components : int, default=1000
        Number ``N`` of random features (the number of parameters per output). Within a factor
        2 of the number of training samples (the interpolation threshold ``N = n``, the peak
        of double descent) fit warns (:class:`InterpolationThresholdWarning`).
    bandwidth : float > 0, "auto" or "scale", default="auto"
        The bandwidth ``sigma`` (directions ``v_k ~ N(0, I / sigma**2)``). ``"auto"`` is the
        package's data-aware rule (:func:`skinterp.kernels._bandwidth.auto_bandwidth`: the
        median distance between the distinct training rows), ``"scale"`` is
        ``sqrt(n_features * X.var() / 2)`` (scikit-learn's ``gamma="scale"``). The value used is
        ``bandwidth_``.
    features : {"fourier", "relu"}, default="fourier"
        ``sqrt(2 / N) cos(<v_k, x> + b_k)`` (:class:`RandomFourierFeatures`, the Gaussian
        kernel) or ``sqrt(2 / N) max(<v_k, x> + b_k, 0)`` (:class:`RandomReLUFeatures`).
    solver : {"auto", "primal", "dual"}, default="auto"
        ``"primal"`` solves the ``N x N`` normal equations, ``"dual"`` the ``n x n`` Gram system
        and maps it back; both give the minimum-norm least-squares solution. ``"auto"`` takes
        the smaller: dual when ``N >= n_samples``.
    cutoff : float in [0, 1), default=1e-3
        Singular values of the (scaled, weighted) feature matrix below ``cutoff`` times the
        largest are treated as zero, as the ``cond`` of :func:`scipy.linalg.lstsq`: the fit is
        the minimum-norm least-squares solution of the feature matrix truncated to its larger
        singular values (``rank_`` kept, ``n_directions_cut_`` dropped). The default ``1e-3``
        keeps the fit stable on smooth, low-dimensional data and near ``N = n``; ``1e-7``
        (about the rounding floor: the Gram matrices square the singular values) gives the
        paper's pseudo-inverse and its tall double-descent peak. ``0`` keeps every positive
        one.
    random_state : int, RandomState instance or None, default=None
        Seed of the features. With an int, the features of ``n_components=N'`` are the first
        ``N'`` of ``n_components=N >= N'``.
    memory_limit : float or None, default=None
        Memory budget in MiB for the blocks of features (scikit-learn's ``working_memory`` when
        None, 1024 by default). The Gram matrix (``min(n, N)`` squared, three copies) must fit
        in it, or fit raises ``MemoryError`` before allocating.
    n_jobs : int or None, default=None
        Threads of the estimator's parallel sections (feature maps; the Gram products use BLAS's
        threads), numbers as in joblib (``-1``: every core). ``None``: the ``n_jobs`` of an
        enclosing ``joblib.parallel_config``, else as many threads as BLAS uses here (every core
        unless limited, e.g. inside a ``GridSearchCV`` worker process); see the user guide's thread
        model. Results do not depend on it.
    verbose : int, default=0
        With ``verbose > 0``, fit, partial_fit and predict write progress lines to stderr: one
        per block of features or chunk of rows (at most one a second) with the time spent and
        the time left, and one for the linear solve.
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
        The solver used, ``"primal"`` or ``"dual"`` (``"primal"`` after ``partial_fit``).
    rank_ : int
        The effective rank: the number of singular values of the feature matrix kept by the
        cut-off.
    n_directions_cut_ : int
        ``min(n, N) - rank_``: the singular directions the cut-off dropped (0 when it did not
        act). Above the threshold a positive value means the fit does not interpolate.
    n_samples_fit_ : int
        Number of training samples of positive weight (summed over ``partial_fit`` calls).
    train_residual_ : float
        Relative training residual ``max_i |f(x_i) - y_i| / max |y|`` over the samples of
        positive weight (:func:`skinterp._base.relative_residual`). After ``partial_fit``,
        whose data are not kept, the weighted root-mean-square version
        ``||S^(1/2) (Y - f(X))||_F / ||S^(1/2) Y||_F`` from the accumulated normal equations.
    interpolates_ : bool
        Whether ``train_residual_ <= 1e-6`` (the fits compute in float64). Below the threshold
        (``N < n``) the fit is least squares, not interpolation: ``False`` on generic data.
    bandwidth_ : float
        The bandwidth used (``"auto"`` and ``"scale"`` resolved on the training data).
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

    with the pseudo-inverse ``+`` cut at ``cutoff`` (relative to the largest singular value).
    Belkin, Hsu, Ma & Mandal (2019) and Belkin (2021, Section 3.7, Fig. 5-7) show that its test
    risk and ``||W||`` peak at the interpolation threshold ``N = n`` and fall again beyond it,
    towards the kernel interpolant (the Gaussian kernel of bandwidth ``sigma`` for Fourier
    features, as ``N`` tends to infinity): *double descent*.

    **Defaults.** ``bandwidth="auto"`` and ``cutoff=1e-3``. With the former defaults
    (``bandwidth="scale"``, ``cutoff=1e-7``) the 5-fold cross-validated R^2 on standardised
    California housing was between -670 and -1.9 (15,000 rows) and below -200 on 2,000 rows,
    without a word: the Gaussian features of 8-dimensional data have many tiny singular
    values, and the minimum-norm solution spends huge coefficients on them to fit the noise
    (the Gaussian kernel interpolant itself is catastrophic there). ``cutoff=1e-3`` drops those
    directions (``n_directions_cut_``) and gives R^2 of 0.70-0.74; see the user guide for the
    table. To reproduce the paper's pseudo-inverse, pass ``cutoff=1e-7``. Near the threshold
    (``n / 2 <= N <= 2 n``) fit warns (:class:`~skinterp.exceptions.InterpolationThresholdWarning`)
    and says whether the cut-off acted; ``n_components=1000`` is near it for about 500 to 2,000
    training samples (digits: 1,437 per fold). Above it (``N > 2 n``) an interpolant exists:
    when the cut-off keeps the fit from interpolating (``interpolates_`` false, typical of
    smooth features of low-dimensional data) fit warns
    (:class:`~skinterp.exceptions.InterpolationWarning`) with the number of directions cut.
    Below the threshold the fit is least squares by construction and does not warn.

    **Sample weights.** ``fit(X, y, sample_weight=s)`` returns the solution of minimum norm
    among the minimisers of ``sum_i s_i ||phi(x_i) W - y_i||^2`` (rows of ``Phi`` and ``Y``
    multiplied by ``sqrt(s_i)``): integer weights give the fit on repeated rows; samples of
    weight zero are left out (also of the threshold: ``n`` counts positive weights).
    ``bandwidth="auto"``/``"scale"`` are computed on the distinct rows of positive weight, so
    repeated rows do not change them either.

    **partial_fit.** Accumulates the normal equations ``Phi^T S Phi`` and ``Phi^T S Y`` (the
    features drawn once, at the first call, whose batch also resolves ``bandwidth``) and
    solves them after each call, so after the batches ``X_1, ..., X_k`` the model is
    ``fit(concatenation, solver="primal")`` up to rounding. That is the minimum-norm
    least-squares solution whatever ``N`` and ``n``, but the ``N x N`` normal equations must
    fit in ``memory_limit`` (``MemoryError`` otherwise, before allocating): below the
    threshold they are the smaller system; far above it, use ``fit`` (the ``n x n`` dual
    system). ``fit`` discards the accumulated state; a ``partial_fit`` after ``fit`` starts a
    new accumulation.

    **Cost and memory.** Dual solver (``N >= n``): when the ``n x N`` feature matrix fits in
    the memory budget (``memory_limit``, with the Gram matrices) its blocks are kept; otherwise
    they are generated twice, for the Gram matrix and for ``W = Phi^T a`` (the first blocks
    kept while they fit in half the budget). For ``N >= 2n`` with the blocks kept, the Gram
    matrix ``Phi Phi^T`` is summed in float32 (``syrk``, twice the float64 speed) and the
    float64 solution is recovered by iterative refinement against the kept float64 features, to
    a relative residual of ``1e-12``; an ill-conditioned float32 Gram matrix, or a refinement
    that stalls, falls back to the float64 Gram matrix. The primal Gram ``Phi^T Phi``
    (``N < n``) is summed over chunks of rows, which are kept (within half the budget) for the
    training residual. Memory: the Gram matrix (three copies of ``min(n, N)**2`` floats), the
    weights (``d x N``), and the kept blocks. Input columns that are zero in every row (blank
    pixels) are left out of the products.
    Time: ``n N d`` (features) + ``min(n, N)**2 max(n, N)`` (Gram) + ``min(n, N)**3``
    (Cholesky, or eigendecomposition near the threshold, where the cut-off can matter).

    **Interrupts.** Every BLAS call of fit and predict does at most a few ``1e9`` multiply-adds
    and the linear solve runs in a worker thread, so Ctrl-C raises ``KeyboardInterrupt`` within
    about a second and leaves the estimator as it was (unfitted, or its previous fit). An
    interrupted solve finishes in the background (LAPACK cannot be stopped) and is discarded.

    **dtype.** Fits and predictions compute in float64 whatever the input dtype (the Gram
    matrices square the condition number of the features); float32 inputs give float32
    ``predict``, ``decision_function`` and ``predict_proba``, as everywhere in the package.

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
    >>> model = MinNormRFFRegressor(n_components=2000, bandwidth=0.1, random_state=0).fit(X, y)
    >>> model.solver_, model.interpolates_  # N >= n: the minimum-norm interpolant
    ('dual', True)
    >>> bool(np.allclose(model.predict(X), y, atol=1e-6))
    True

    A wider bandwidth makes the features smoother: one singular direction falls below the
    default cut-off, which drops it, and the fit no longer interpolates (the paper's
    ``cutoff=1e-7`` keeps it):

    >>> wide = MinNormRFFRegressor(n_components=2000, bandwidth=0.2, random_state=0).fit(X, y)
    >>> wide.n_directions_cut_, wide.rank_, wide.interpolates_
    (1, 99, False)
    >>> MinNormRFFRegressor(n_components=2000, bandwidth=0.2, cutoff=1e-7,
    ...                     random_state=0).fit(X, y).interpolates_
    True

    Below the threshold the fit is least squares, and ``partial_fit`` over batches gives the
    same model:

    >>> small = MinNormRFFRegressor(n_components=20, random_state=0).fit(X, y)
    >>> small.solver_, small.interpolates_
    ('primal', False)
    >>> batches = MinNormRFFRegressor(n_components=20, bandwidth=small.bandwidth_, random_state=0)
    >>> for rows in np.array_split(np.arange(100), 4):
    ...     batches = batches.partial_fit(X[rows], y[rows])
    >>> bool(np.allclose(batches.predict(X), small.predict(X)))
    True
"""
    )

    def partial_fit(self, X, y, sample_weight=None):
        """Add a batch to the accumulated normal equations and solve them.

        The first call (or the first after ``fit``) resolves ``bandwidth`` on its batch and
        draws the features; every call then gives the model fitted to all batches so far
        (``solver_ = "primal"``; see Notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets (the same number of outputs in every batch).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the batch's squared errors.

        Returns
        -------
        self : object
            The estimator, fitted to all batches so far.
        """
        first = not hasattr(self, "_partial_gram")
        if first:
            self._validate_params()
        with restored_on_error(self):
            X, y = validate_features(self, X, y, reset=first, multi_output=True, y_numeric=True)
            targets, single_output = as_2d_targets(check_finite_targets(y))
            if not first and targets.shape[1] != self.coef_.shape[1]:
                raise ValueError(
                    f"y has {targets.shape[1]} outputs; the previous batches had "
                    f"{self.coef_.shape[1]}."
                )
            self._partial_fit_targets(X, targets, sample_weight, first)
            self._single_output = single_output
        return self


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
    **Scores and probabilities.** ``decision_function`` returns the fitted one-hot outputs
    ``f(x) = phi(x) W`` (one column per class; for two classes the scikit-learn convention
    ``f_1(x) - f_0(x)``, positive for ``classes_[1]``). ``predict_proba`` is their Euclidean
    projection onto the probability simplex, ``p = max(f(x) - tau, 0)`` with ``tau`` such
    that the row sums to 1: the probability vector nearest to the outputs in the square loss
    the model was fitted with. Where the outputs are already a probability vector (least
    squares on one-hot targets tends to give non-negative outputs summing to 1) it is the
    outputs themselves; it keeps their order (``argmax`` is ``predict``), is uniform far from
    the data (all outputs near 0), and for two classes is
    ``p_1 = clip((1 + decision_function) / 2, 0, 1)``, monotone in the decision function. It is
    not calibrated. (The package's neighbour and simplicial classifiers clip and normalise
    instead: their scores are convex weights and never all negative.)

    References
    ----------"""
        + _REFERENCES_DOC
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skinterp import MinNormRFFClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> model = MinNormRFFClassifier(n_components=10000, random_state=0).fit(X_train, y_train)
    >>> model.solver_, model.score(X_train, y_train)
    ('dual', 1.0)
    >>> model.score(X_test, y_test) > 0.97
    True
    >>> proba = model.predict_proba(X_test[:3])
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
    ((3, 10), True)
"""
    )

    @staticmethod
    def _one_hot(encoded, n_classes):
        one_hot = np.zeros((encoded.shape[0], n_classes))
        one_hot[np.arange(encoded.shape[0]), encoded] = 1.0
        return one_hot

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Add a batch to the accumulated normal equations and solve them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A batch of training inputs.
        y : array-like of shape (n_samples,)
            Its class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            Every class of the whole data: required at the first call (after ``fit``, its
            ``classes_`` are taken when None), ignored afterwards (scikit-learn's convention).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the batch's squared errors.

        Returns
        -------
        self : object
            The classifier, fitted to all batches so far.
        """
        first = not hasattr(self, "_partial_gram")
        if first:
            self._validate_params()
            if classes is None:
                classes = getattr(self, "classes_", None)  # after fit: its classes
            if classes is None:
                raise ValueError("classes must be passed to the first call of partial_fit.")
        with restored_on_error(self):
            X, y = validate_features(self, X, y, reset=first)
            check_class_labels(y)
            check_classification_targets(y)
            known = np.unique(classes) if first else self.classes_
            unknown = np.setdiff1d(np.unique(y), known)
            if unknown.size:
                raise ValueError(
                    f"y holds labels {unknown.tolist()} not in classes {known.tolist()}."
                )
            encoded = np.searchsorted(known, y)
            self._partial_fit_targets(
                X, self._one_hot(encoded, known.shape[0]), sample_weight, first
            )
            self.classes_ = known
        return self

    def decision_function(self, X):
        """The fitted one-hot outputs.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        scores : ndarray of shape (n_queries, n_classes) or (n_queries,)
            ``phi(x) W``, one column per class of ``classes_``; for two classes the second
            class's output minus the first's (positive: ``classes_[1]``), as scikit-learn
            expects. float32 for float32 ``X``.
        """
        return self._decision_scores(X)

    def predict_proba(self, X):
        """Class probabilities: the outputs projected onto the probability simplex.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Non-negative, rows summing to 1, columns in the order of ``classes_``; the class
            ``predict`` gives has the largest (tied only where outputs differ by rounding; see
            Notes). float32 for float32 ``X``.
        """
        scores = self._class_scores(X)
        return simplex_projection(scores).astype(scores.dtype, copy=False)
