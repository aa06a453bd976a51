"""The direct solve ``K a = Y`` for small ``n``: Cholesky, with a pseudo-inverse fallback.

The kernel matrix of distinct points under a strictly positive definite kernel (all built-in
kernels) is invertible, so ``a = K^{-1} Y`` is the unique interpolant and the one of minimum RKHS
norm. In floating point ``K`` can still be numerically singular (duplicated points, a bandwidth
much larger than the data's spread): Cholesky then fails and the solver falls back to the
minimum-norm least-squares solution through the symmetric eigendecomposition, which averages
the targets of duplicated points.
"""

import numpy as np
from scipy import linalg

from .._base import check_memory
from ..kernels import kernel_matrix

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


def direct_fit(X, Y, spec, *, memory_limit=None, n_jobs=None):
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
    K = kernel_matrix(X, kernel=spec, n_jobs=n_jobs)
    check_kernel_matrix(K, spec)
    factor = None
    try:
        factor = linalg.cho_factor(K, lower=True, overwrite_a=True, check_finite=False)
        if not np.all(np.isfinite(factor[0].diagonal())):
            raise linalg.LinAlgError("non-finite Cholesky factor")
        coef = linalg.cho_solve(factor, Y, check_finite=False)
        if np.all(np.isfinite(coef)):
            return coef.astype(X.dtype, copy=False), False
    except linalg.LinAlgError:
        pass
    del K, factor
    # Numerically singular: minimum-norm least squares through eigh (eigenvectors: a 2nd n x n).
    check_memory(
        2 * n * n * itemsize, memory_limit,
        what=f"The direct solver's pseudo-inverse fallback (two {n} x {n} matrices)",
        advice=ADVICE,
    )
    K = kernel_matrix(X, kernel=spec, n_jobs=n_jobs).astype(np.float64, copy=False)
    eigenvalues, eigenvectors = linalg.eigh(K, overwrite_a=True, check_finite=False)
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
