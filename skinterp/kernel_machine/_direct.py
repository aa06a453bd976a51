"""The direct solve ``K a = Y`` for small ``n``: Cholesky, with a pseudo-inverse fallback.

The kernel matrix of distinct points under a strictly positive definite kernel (all built-in
kernels) is invertible, so ``a = K^{-1} Y`` is the unique interpolant and the one of minimum RKHS
norm. In floating point ``K`` can still be numerically singular (duplicated points, a bandwidth
much larger than the data's spread): Cholesky then fails and the solver falls back to the
minimum-norm least-squares solution through the symmetric eigendecomposition, which averages
the targets of duplicated points.

Ctrl-C: the kernel matrix is computed by blocks of rows and factored by a blocked Cholesky
(:func:`blocked_cholesky`) whose steps are BLAS calls of a fraction of a second, so that
``KeyboardInterrupt`` is raised within about a second (one LAPACK ``potrf`` of a 10,000 x 10,000
matrix runs 30 s on two shared cores without returning to the interpreter).
"""

import sys
import time

import numpy as np
from scipy import linalg
from scipy.linalg import lapack

from .._base import check_memory
from ..kernels import kernel_matrix

# Columns per step of the blocked Cholesky, and rows per call of its trailing update: a call
# is at most 2 * n * CHOLESKY_BLOCK * UPDATE_ROWS flops (1.3 Gflop at n = 10,000, well under a
# second). Measured at n = 3000 on two shared cores: 3.2 s against 6.2 s for LAPACK's potrf
# on the whole matrix (whose single call Ctrl-C cannot interrupt).
CHOLESKY_BLOCK = 512
UPDATE_ROWS = 128

ADVICE = (
    "Use solver='eigenpro' (memory O(n_samples * n_features)), or raise memory_limit "
    "(MiB; default: sklearn's working_memory)."
)


def check_kernel_matrix(K, spec):
    """``ValueError`` for a user kernel whose matrix on the training points is not symmetric
    positive semi-definite (a cheap test: symmetry and a non-negative diagonal; Cholesky and
    the training residual catch the rest)."""
    if spec.is_builtin:
        return
    diagonal = np.diagonal(K)
    scale = max(float(np.max(np.abs(diagonal))) if diagonal.size else 0.0, np.finfo(K.dtype).tiny)
    asymmetry = float(np.max(np.abs(K - K.T))) if K.shape[0] else 0.0
    if np.any(diagonal < 0) or asymmetry > 1e3 * np.finfo(K.dtype).eps * scale:
        raise ValueError(
            "The kernel callable is not positive semi-definite on the training points "
            f"(min k(x, x) = {float(diagonal.min()):.3g}, max |K - K.T| = {asymmetry:.3g}); "
            "kernel interpolation needs a symmetric positive (semi-)definite kernel."
        )


def blocked_cholesky(A, block=CHOLESKY_BLOCK, update_rows=UPDATE_ROWS):
    """Lower Cholesky factor of the symmetric positive definite ``A``, in place, by blocks.

    Right-looking: factor a diagonal block (LAPACK ``potrf``), solve the panel below it, and
    update the trailing lower triangle one block of rows at a time. Only the lower triangle of
    ``A`` is read and, on return, holds ``L`` (the strict upper triangle is left as it was).
    Every call is short, so Ctrl-C interrupts within about one call.

    Raises ``numpy.linalg.LinAlgError`` when ``A`` is not numerically positive definite.
    """
    n = A.shape[0]
    potrf = lapack.get_lapack_funcs("potrf", (A,))
    for k0 in range(0, n, block):
        k1 = min(k0 + block, n)
        factor, info = potrf(A[k0:k1, k0:k1], lower=1, clean=1, overwrite_a=0)
        if info != 0:
            raise linalg.LinAlgError(f"leading minor of order {k0 + info} not positive")
        A[k0:k1, k0:k1] = factor
        if k1 == n:
            break
        # Panel: L_ik = A_ik L_kk^-T, solved as L_kk L_ik^T = A_ik^T.
        panel = linalg.solve_triangular(
            factor, A[k1:, k0:k1].T, lower=True, check_finite=False
        ).T
        A[k1:, k0:k1] = panel
        for i0 in range(k1, n, update_rows):
            i1 = min(i0 + update_rows, n)
            A[i0:i1, k1:i1] -= panel[i0 - k1 : i1 - k1] @ panel[: i1 - k1].T
    return A


def _say(verbose, message):
    if verbose:
        print(f"[KernelInterpolator direct] {message}", file=sys.stderr, flush=True)


def direct_fit(X, Y, spec, *, memory_limit=None, n_jobs=None, verbose=0):
    """Solve ``K(X, X) a = Y``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training points (float64 or float32).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, same dtype as ``X``.
    spec : KernelSpec
        The kernel.
    memory_limit : float or None
        Budget in MiB; the ``n x n`` matrix is refused *before* allocation when it does not fit.
    n_jobs : int or None
        Threads for the kernel tiles.
    verbose : int
        Report each step (kernel matrix, Cholesky, fallback) and its time on stderr.

    Returns
    -------
    coef : ndarray of shape (n_samples, n_outputs)
    fallback : bool
        Whether Cholesky failed and the pseudo-inverse was used.
    """
    n = X.shape[0]
    itemsize = X.dtype.itemsize
    check_memory(
        n * n * itemsize, memory_limit,
        what=f"The direct solver's {n} x {n} kernel matrix", advice=ADVICE,
    )
    start = time.perf_counter()
    _say(verbose, f"kernel matrix {n} x {n} ({n * n * itemsize / 2**20:,.0f} MiB, "
                  f"{X.dtype.name}) ...")
    K = kernel_matrix(X, kernel=spec, n_jobs=n_jobs, verbose=verbose)
    check_kernel_matrix(K, spec)
    _say(verbose, f"kernel matrix done in {time.perf_counter() - start:.1f} s; Cholesky "
                  f"(n**3/3 = {n**3 / 3e9:.3g} Gflop) ...")
    start = time.perf_counter()
    factor = None
    try:
        factor = (blocked_cholesky(K), True)
        if not np.all(np.isfinite(factor[0].diagonal())):
            raise linalg.LinAlgError("non-finite Cholesky factor")
        coef = linalg.cho_solve(factor, Y, check_finite=False)
        _say(verbose, f"Cholesky and solve done in {time.perf_counter() - start:.1f} s")
        if np.all(np.isfinite(coef)):
            return coef.astype(X.dtype, copy=False), False
    except linalg.LinAlgError:
        pass
    del K, factor
    _say(verbose, "the kernel matrix is numerically singular: pseudo-inverse through eigh ...")
    # Numerically singular: minimum-norm least squares through eigh (eigenvectors: a 2nd n x n).
    check_memory(
        2 * n * n * itemsize, memory_limit,
        what=f"The direct solver's pseudo-inverse fallback (two {n} x {n} matrices)",
        advice=ADVICE,
    )
    start = time.perf_counter()
    K = kernel_matrix(X, kernel=spec, n_jobs=n_jobs).astype(np.float64, copy=False)
    # One LAPACK call holding the GIL: Ctrl-C waits for it (this fallback is rare).
    eigenvalues, eigenvectors = linalg.eigh(K, overwrite_a=True, check_finite=False)
    _say(verbose, f"eigendecomposition done in {time.perf_counter() - start:.1f} s")
    cutoff = n * np.finfo(X.dtype).eps * max(eigenvalues.max(), 0.0)
    if not spec.is_builtin and eigenvalues.min() < -max(cutoff, 1e-8 * abs(eigenvalues).max()):
        raise ValueError(
            "The kernel callable is not positive semi-definite on the training points: its "
            f"matrix has the eigenvalue {eigenvalues.min():.3g} (largest {eigenvalues.max():.3g})"
            "; kernel interpolation needs a positive (semi-)definite kernel."
        )
    keep = eigenvalues > cutoff
    projected = eigenvectors[:, keep].T @ Y
    coef = eigenvectors[:, keep] @ (projected / eigenvalues[keep][:, None])
    return coef.astype(X.dtype, copy=False), True
