"""Matrix-free preconditioned conjugate gradient for the (regularised, tailed) kernel system.

The system: ``(K + Lambda) a + P b = Y`` with ``P^T a = 0`` (``P``: the polynomial tail, ``Q``
columns, possibly none; ``Lambda``: the ridge, a non-negative diagonal). With ``P = Q1 R`` and
the projector ``Pi = I - Q1 Q1^T`` onto ``{a : P^T a = 0}`` it is equivalent to

    Pi (K + Lambda) Pi a = Pi Y,   a in range(Pi),   then  b = R^{-1} Q1^T (Y - (K + Lambda) a),

and ``Pi (K + Lambda) Pi`` is symmetric positive definite on ``range(Pi)`` whenever the kernel is
conditionally positive definite of the tail's order. Projected conjugate gradient (Gould,
Hribar and Nocedal, SIAM J. Sci. Comput. 23, 2001) runs CG on that subspace: every residual and
preconditioned residual is projected by ``Pi``. Each iteration is one matrix-free pass
``K p`` over the upper triangle of kernel tiles (:mod:`._symmetric`: each tile used for
``K_IJ p_J`` and ``K_IJ^T p_I``, so ``n**2 / 2`` kernel values; memory one tile per thread),
plus ``O(n (s + Q))`` for the projector and the preconditioner.

Preconditioners (:mod:`._preconditioner`), both on ``s`` landmark points ``S`` and their
Nystrom factor ``B`` (``K ~ B B^T``):

* Nystrom (Frangella, Tropp and Udell, "Randomized Nystrom preconditioning", SIAM J. Matrix
  Anal. Appl. 44, 2023): ``B B^T = U diag(lam) U^T`` (``U``: ``n x s``, orthonormal),

      M^{-1} = (lam_s + mu) U (diag(lam) + mu)^{-1} U^T + (I - U U^T),   mu = mean ridge,

  which maps the top ``s`` eigenvalues of ``K + mu`` to about ``lam_s + mu`` (with a ridge
  this is ``(lam_s + mu) (B B^T + mu I)^{-1}`` on ``range(U)``: the ridge-aware Woodbury
  inverse, but with the identity, not ``(lam_s + mu) / mu``, on the complement, which took
  56 iterations where the plain Woodbury inverse took 68 on California 12k, ridge 1e-3).
  Applied as ``R + B W B^T R`` (one ``n x s`` block). Its landmarks are drawn by randomly
  pivoted Cholesky (:func:`._preconditioner.rpcholesky_factor`: ``B`` is the Cholesky factor
  itself), ``s = 1,000`` by default. Used in more than ``SCHWARZ_MAX_FEATURES`` (3)
  dimensions;
* two-level, in at most 3 dimensions: overlapping additive Schwarz solves on kd-tree
  neighbourhoods of the Nystrom residual ``K - B B^T + Lambda``, plus ``B B^T`` by Woodbury.
  The local solves take the small eigenvalues (near pairs of points, high frequencies) that
  Nystrom alone leaves, which for a thin-plate spline cost hundreds of iterations growing with
  ``n``; with them the count stays in the tens (16 at n = 2,000, 23 at 10,000, 38 at 50,000, to
  1e-8).

A conditionally positive definite kernel is not positive semi-definite, so for it the
Nystrom approximation is built on the positive definite kernel that agrees with ``K`` on
``range(Pi)`` (Wendland, "Scattered Data Approximation", 2005, Theorem 10.20): with ``Q``
unisolvent landmarks ``Xi`` and the Lagrange basis ``L(x) = p(x) P_Xi^{-1}`` of the tail's
polynomials,

    K~(x, y) = k(x, y) - L(x) k(Xi, y) - k(x, Xi) L(y)^T + L(x) k(Xi, Xi) L(y)^T + L(x) L(y)^T,

and ``a^T K~ a = a^T K a`` for every ``a`` with ``P^T a = 0`` (the local blocks use ``K~``
too); the preconditioner is then projected, ``Pi M^{-1} Pi``, which keeps projected CG exact.

Mixed precision (:func:`uses_mixed_precision`: float64 points, a built-in positive definite
kernel, no tail): the kernel passes of the iterations run on float32 copies of the points
(float32 kernel values at twice the SIMD width: 0.98 against 2.8 ns a value, California 12k,
8-D, Laplacian, one thread), the vectors and every other step in float64. The float32
rounding (about 1e-7 of ``K``) makes the recursive residual drift from the true one, so
*reliable updates* (Sleijpen and van der Vorst, "Reliable updated residuals in hybrid Bi-CG
methods", Computing 56, 1996; the form of lattice QCD's mixed-precision CG) replace it by the
exact residual ``Pi (Y - (K + Lambda) a)``, one float64 pass, whenever it has fallen
``RELIABLE_DROP`` (1e-2) below the last exact one, and restore the residual's orthogonality to
the search direction; the iteration goes on along the same direction. The exact residual is
what stops the iteration, so the result meets ``tol`` as in float64. Measured: 59 iterations
(4 float64 passes) against 58 to 1e-7 on California 12k with ridge 1e-3, 7.2 against 13.0
CPU s; 85 (5) against 82 to 1e-10 without a ridge, 9.5 against 17.9 s; MNIST 5k to 1e-10: 43
(6) against 38, 15.5 against 21.1 s. When float32 cannot resolve the system (a reliable update
that does not halve the exact residual, ``RELIABLE_PATIENCE`` iterations without progress, or
a direction of non-positive curvature), the passes switch to float64 and CG restarts from the
current coefficients.

Stopping: the relative residual ``max_j ||Pi (Y - (K + Lambda) a)_j|| / ||Y_j||`` (2-norms
per output column) at most ``tol``, confirmed by one exact pass (CG's recursive residual
drifts): if the exact residual is above ``tol``, CG restarts from the current ``a``.
"""

import sys
import time
from dataclasses import dataclass

import numpy as np
from scipy import linalg
from sklearn.utils import check_random_state

from .._base import check_memory, memory_budget_bytes
from .._parallel import one_blas_thread
from ._preconditioner import (
    SCHWARZ_MAX_FEATURES,
    NystromPreconditioner,
    SchwarzPreconditioner,
    nystrom_factor,
    rpcholesky_factor,
    schwarz_memory_bytes,
)
from ._symmetric import symmetric_kernel_product

DEFAULT_LANDMARKS = 1000
"""Landmarks of the Nystrom preconditioner by default (randomly pivoted Cholesky)."""
TWO_LEVEL_LANDMARKS = 500
"""Landmarks of the two-level preconditioner's Nystrom factor by default (uniform draw)."""
RELIABLE_DROP = 1e-2
"""Mixed precision: an exact (float64) residual whenever the recursive one has fallen this
far below the last exact one."""
RELIABLE_STALL = 0.5
"""Mixed precision: float64 passes from the first reliable update that does not bring the
exact residual below this fraction of the last one."""
RELIABLE_PATIENCE = 20
"""Mixed precision: a reliable update, and float64 passes from there, when the recursive
residual has not reached a new low for this many iterations (float32 rounding can stall it
above the next reliable update's threshold)."""


def default_landmarks(n_features):
    """The default ``s`` of :func:`cg_fit` for ``n_features`` (before the memory budget):
    :data:`TWO_LEVEL_LANDMARKS` for the two-level preconditioner, :data:`DEFAULT_LANDMARKS`
    otherwise."""
    return TWO_LEVEL_LANDMARKS if uses_two_level(n_features) else DEFAULT_LANDMARKS


@dataclass(frozen=True)
class CGResult:
    """What :func:`cg_fit` returns: ``coef``, ``tail_coef``, ``fitted`` (``K a + P b``),
    ``n_iter``, ``residual`` (the exact relative residual of the system), ``residual_curve``
    (the recursive relative residual of every iteration), ``converged``, ``n_landmarks``,
    ``preconditioner`` (``"nystrom"`` or ``"schwarz"``), ``setup_seconds`` (landmarks and
    preconditioner), ``iteration_seconds`` (per iteration, the confirming passes included),
    ``exact_passes`` (float64 passes for exact residuals) and ``mixed_precision`` (whether the
    iterations' passes ran in float32)."""

    coef: np.ndarray
    tail_coef: np.ndarray
    fitted: np.ndarray
    n_iter: int
    residual: float
    residual_curve: np.ndarray
    converged: bool
    n_landmarks: int
    preconditioner: str
    setup_seconds: float
    iteration_seconds: float
    exact_passes: int = 0
    mixed_precision: bool = False


def _say(verbose, message):
    if verbose:
        print(f"[KernelInterpolator cg] {message}", file=sys.stderr, flush=True)


def cg_memory_bytes(n, n_outputs, n_landmarks, n_monomials, itemsize, two_level=False):
    """Working memory of :func:`cg_fit`: the ``n x s`` float64 Nystrom factor (and ``G B``
    beside it for the two-level preconditioner, with its blocks), one ``n x 128`` block of
    kernel columns while the factor is built, three ``s x s`` matrices, eight
    ``n x outputs`` vectors and the projector (float64)."""
    local = schwarz_memory_bytes(n) if two_level else 0
    blocks = 2 if two_level else 1
    columns = n * min(n_landmarks, 128)
    return (
        8 * (blocks * n * n_landmarks + columns + 3 * n_landmarks**2)
        + 8 * (8 * n * n_outputs + n * n_monomials)
        + 4 * n * 8
        + local
    )


def uses_mixed_precision(spec, dtype, n_monomials):
    """Whether :func:`cg_fit` runs its kernel passes in float32 (module docstring): for
    float64 points and a built-in positive definite kernel without a polynomial tail."""
    return (
        np.dtype(dtype) == np.float64
        and spec.is_builtin
        and spec.is_positive_definite
        and not n_monomials
    )


def uses_two_level(n_features):
    """The preconditioner rule: two-level Schwarz for few features, Nystrom otherwise."""
    return n_features <= SCHWARZ_MAX_FEATURES


def cg_fit(
    X,
    Y,
    spec,
    *,
    ridge=None,
    P=None,
    tol=1e-10,
    max_iter=1000,
    n_landmarks=None,
    memory_limit=None,
    n_jobs=None,
    random_state=0,
    preconditioner="auto",
    landmarks="auto",
    mixed_precision=True,
    verbose=0,
):
    """Solve ``(K + diag(ridge)) a + P b = Y``, ``P^T a = 0`` by projected Nystrom-PCG.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training points (float64 or float32; the iteration vectors are float64).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets.
    spec : KernelSpec
        The kernel.
    ridge : ndarray of shape (n_samples,) or None
        Non-negative diagonal added to ``K``.
    P : ndarray of shape (n_samples, Q) or None
        The polynomial tail at the training points.
    tol : float
        Target relative residual (module docstring).
    max_iter : int
        Maximum number of iterations (kernel passes).
    n_landmarks : int or None
        Nystrom landmarks ``s`` (``None``: :func:`default_landmarks`, 1,000 for the Nystrom
        preconditioner and 500 for the two-level one, at most ``n``, fewer when the memory
        budget asks).
    memory_limit : float or None
        Budget in MiB; refused before allocation when the working memory exceeds it.
    n_jobs : int or None
        Threads of the kernel passes (the result does not depend on it).
    random_state : int, RandomState or None
        Seeds the landmarks.
    preconditioner : {"auto", "nystrom", "schwarz"}
        ``"auto"``: two-level Schwarz for ``n_features <= SCHWARZ_MAX_FEATURES``
        (:func:`uses_two_level`), Nystrom otherwise (:mod:`._preconditioner`).
    landmarks : {"auto", "rpcholesky", "uniform"}
        How the landmarks are drawn: ``"rpcholesky"`` by randomly pivoted Cholesky
        (:func:`._preconditioner.rpcholesky_factor`; kernels without a tail only),
        ``"uniform"`` uniformly without replacement. ``"auto"``: ``"rpcholesky"`` for the
        Nystrom preconditioner without a tail, ``"uniform"`` otherwise (the two-level
        preconditioner's counts were measured with it).
    mixed_precision : bool
        Kernel passes in float32 with float64 reliable updates where
        :func:`uses_mixed_precision` says so (module docstring); ``False``: float64 passes.
    verbose : int
        Setup and one line per iteration (relative residual, time, time left) on stderr.

    Returns
    -------
    CGResult
    """
    from ._polynomial_tail import orthonormal_tail

    start = time.perf_counter()
    n, c = Y.shape
    Y = np.asarray(Y, dtype=np.float64)
    ridge = np.zeros(n) if ridge is None else np.broadcast_to(np.asarray(ridge, float), (n,))
    n_monomials = 0 if P is None else P.shape[1]
    if preconditioner == "auto":
        # Two-level for few features when its blocks and a rank-100 factor fit the budget.
        fits = cg_memory_bytes(n, c, min(n, 100), n_monomials, 8, True) <= memory_budget_bytes(
            memory_limit
        )
        preconditioner = "schwarz" if uses_two_level(X.shape[1]) and fits else "nystrom"
    two_level = preconditioner == "schwarz"
    if landmarks == "auto":
        landmarks = "uniform" if two_level or n_monomials else "rpcholesky"
    if landmarks == "rpcholesky" and n_monomials:
        raise ValueError("Randomly pivoted Cholesky landmarks need a kernel without a tail.")
    if n_landmarks is None:
        # The default shrinks to the budget: the largest s whose working memory fits.
        budget = memory_budget_bytes(memory_limit)
        low, high = 1, min(n, TWO_LEVEL_LANDMARKS if two_level else DEFAULT_LANDMARKS)
        while low < high:
            middle = (low + high + 1) // 2
            fits = cg_memory_bytes(n, c, middle, n_monomials, 8, two_level) <= budget
            low, high = (middle, high) if fits else (low, middle - 1)
        s = low
    else:
        s = min(n, int(n_landmarks))
    s = max(s, min(n, n_monomials))
    check_memory(
        cg_memory_bytes(n, c, s, n_monomials, X.dtype.itemsize, two_level),
        memory_limit,
        what=f"Conjugate gradient on {n} points ({s} Nystrom landmarks, {c} outputs)",
        advice="Lower subsample_size (the Nystrom landmarks) or raise memory_limit (MiB).",
    )
    Q1 = R = None
    if n_monomials:
        Q1, R = orthonormal_tail(P)

    def project(V):
        return V if Q1 is None else V - Q1 @ (Q1.T @ V)

    def apply_preconditioner(R):
        """``M^{-1} R`` with one BLAS thread: its products are memory-bound matrix-vector
        products, and OpenBLAS workers woken for them spin after the call and slow the next
        kernel pass (rule 2 of skinterp._parallel)."""
        with one_blas_thread():
            return project(precondition(R))

    X_low = None
    if mixed_precision and uses_mixed_precision(spec, X.dtype, n_monomials):
        # Centred first: float32 keeps 24 bits of the coordinates, not of their offset.
        X_low = (X - X.mean(axis=0)).astype(np.float32)

    def operator(V, low=False):
        """``(K + Lambda) V`` (before projection); ``low``: the kernel pass in float32."""
        points = X_low if low else X
        KV = symmetric_kernel_product(points, V.astype(points.dtype), spec, n_jobs=n_jobs)
        return np.asarray(KV, dtype=np.float64) + ridge[:, None] * V

    rng = check_random_state(random_state)
    if landmarks == "rpcholesky":
        B, landmarks = rpcholesky_factor(X, spec, s, random_state=rng, n_jobs=n_jobs)
        shift, tail = 0.0, None
    else:
        landmarks = np.sort(rng.choice(n, size=s, replace=False))
        if n_monomials:
            # The landmarks must hold a unisolvent set: add the pivots of P's rows if needed.
            _, _, pivots = linalg.qr(P.T, pivoting=True, mode="economic")
            landmarks = np.union1d(landmarks, pivots[:n_monomials])
        B, shift, tail = nystrom_factor(X, spec, landmarks, P, n_jobs)
    if two_level:
        precondition = SchwarzPreconditioner(X, spec, B, tail, ridge, n_jobs=n_jobs)
    else:
        precondition = NystromPreconditioner(B, shift, float(np.mean(ridge)), n_jobs=n_jobs)
    del B  # the Nystrom preconditioner keeps it (its n x s block), the two-level one G B
    _say(
        verbose,
        f"preconditioner on {landmarks.size} landmarks in "
        f"{time.perf_counter() - start:.1f} s: {precondition.describe()}",
    )

    # Relative to the targets (not their projection, which vanishes for polynomial targets).
    b_norm = np.linalg.norm(Y, axis=0)
    b_norm = np.where(b_norm > 0, b_norm, 1.0)
    A = np.zeros((n, c))
    residual = project(Y.copy())
    curve = []
    n_iter = n_exact = 0
    iteration_start = time.perf_counter()
    # The last exact residual's column norms: a reliable update when the recursive residual
    # of some column has fallen RELIABLE_DROP below them.
    anchor = np.linalg.norm(residual, axis=0)
    exact = float(np.max(anchor / b_norm))
    sloppy = X_low is not None
    AA = None
    while n_iter < max_iter and exact > tol:
        # (Re)start CG from A with the exact projected residual.
        Z = apply_preconditioner(residual)
        direction = Z.copy()
        rz = np.einsum("ij,ij->j", residual, Z)
        confirmed = False  # whether residual is the exact one of the current A
        best, since_best = np.inf, 0  # the recursive residual's least ratio to the anchor
        while n_iter < max_iter:
            confirmed = False
            Ad = project(operator(direction, low=sloppy))
            curvature = np.einsum("ij,ij->j", direction, Ad)
            active = (rz != 0) & (curvature > 0)
            step = np.where(active, rz / np.where(active, curvature, 1.0), 0.0)
            A += step * direction
            residual -= step * Ad
            n_iter += 1
            norms = np.linalg.norm(residual, axis=0)
            relative = float(np.max(norms / b_norm))
            progress = float(np.max(norms / np.where(anchor > 0, anchor, 1.0)))
            if progress < best:
                best, since_best = progress, 0
            else:
                since_best += 1
            stagnant = since_best >= RELIABLE_PATIENCE
            if sloppy and (relative <= tol or stagnant or np.any(norms < RELIABLE_DROP * anchor)):
                # Reliable update (Sleijpen and van der Vorst 1996): the float32 passes'
                # rounding has drifted the recursive residual; replace it by the exact one
                # and go on along the same direction.
                AA = operator(A)
                residual = project(Y - AA)
                n_exact += 1
                exact_norms = np.linalg.norm(residual, axis=0)
                relative = float(np.max(exact_norms / b_norm))
                confirmed = True
                fell = norms < RELIABLE_STALL * anchor
                if stagnant or np.any(fell & (exact_norms >= RELIABLE_STALL * anchor)):
                    # The float32 kernel no longer brings the exact residual down (a system
                    # too ill-conditioned for its rounding): float64 passes from here on.
                    sloppy = False
                    _say(verbose, f"iteration {n_iter}: float32 passes stalled, float64 on")
                    curve.append(relative)
                    break  # restart: the directions of the stalled passes are not conjugate
                anchor, best, since_best = exact_norms, np.inf, 0
                # Exact CG keeps the new residual orthogonal to the last direction; restore
                # that for the replaced residual (as QUDA's reliable updates do).
                overlap = np.einsum("ij,ij->j", residual, direction)
                r2 = np.einsum("ij,ij->j", residual, residual)
                direction -= residual * np.where(r2 > 0, overlap / np.where(r2 > 0, r2, 1), 0)
            curve.append(relative)
            if verbose:
                elapsed = time.perf_counter() - iteration_start
                per = elapsed / n_iter
                left = ""
                if len(curve) >= 3 and 0 < curve[-1] < curve[-3]:
                    rate = (curve[-1] / curve[-3]) ** 0.5
                    if rate < 1:
                        left = (
                            f", ~{max(np.log(tol / curve[-1]) / np.log(rate), 0) * per:.0f} s left"
                        )
                _say(
                    verbose,
                    f"iteration {n_iter}: relative residual {relative:.3g} "
                    f"({per:.2f} s/iteration{left})",
                )
            if relative <= tol:
                break
            if not np.any(active):
                if sloppy:
                    # A direction of non-positive curvature in float32 (rounding of a system
                    # too ill-conditioned for it): float64 passes, restarted from A.
                    sloppy, active = False, np.ones(c, dtype=bool)
                    _say(verbose, f"iteration {n_iter}: float32 curvature lost, float64 on")
                break
            Z = apply_preconditioner(residual)
            rz_new = np.einsum("ij,ij->j", residual, Z)
            beta = np.where(rz != 0, rz_new / np.where(rz != 0, rz, 1.0), 0.0)
            direction = Z + beta * direction
            rz = rz_new
        if not confirmed:
            # Confirm with the exact residual (one more kernel pass).
            AA = operator(A)
            residual = project(Y - AA)
            n_exact += 1
        anchor = np.linalg.norm(residual, axis=0)
        exact = float(np.max(anchor / b_norm))
        passes = f" ({n_exact} float64 passes)" if X_low is not None else ""
        _say(verbose, f"exact relative residual after {n_iter} iterations: {exact:.3g}{passes}")
        if not np.all(np.isfinite(A)):
            raise FloatingPointError("Conjugate gradient diverged (non-finite coefficients).")
        if curve and curve[-1] > tol and not np.any(active):
            break
    if AA is None:
        AA = operator(A)
    tail_coef = np.zeros((n_monomials, c))
    KA = AA - ridge[:, None] * A
    fitted = KA
    if n_monomials:
        tail_coef = linalg.solve_triangular(R, Q1.T @ (Y - AA), lower=False)
        fitted = KA + P @ tail_coef
    end = time.perf_counter()
    _say(verbose, f"done in {end - start:.1f} s")
    return CGResult(
        coef=A.astype(X.dtype),
        tail_coef=tail_coef,
        fitted=fitted.astype(X.dtype),
        n_iter=n_iter,
        residual=exact,
        residual_curve=np.asarray(curve),
        converged=exact <= tol,
        n_landmarks=int(landmarks.size),
        preconditioner=precondition.kind,
        setup_seconds=iteration_start - start,
        iteration_seconds=(end - iteration_start) / max(n_iter, 1),
        exact_passes=n_exact,
        mixed_precision=X_low is not None,
    )
