"""The direct solve ``K a = Y`` for small ``n``: Cholesky, with a pseudo-inverse fallback.

With a ridge ``Lambda`` (diagonal, ``>= 0``) and a polynomial tail ``P`` (``n x Q``) it solves the
saddle-point system ``[[K + Lambda, P], [P^T, 0]] [a; b] = [Y; 0]`` by the null-space method
(:func:`saddle_point_fit`): with ``P = Q1 R`` and ``Pi = I - Q1 Q1^T``, the matrix
``M = Pi (K + Lambda) Pi + c Q1 Q1^T`` is block diagonal in the basis ``[Q1, Q2]``
(``Q2^T (K + Lambda) Q2`` and ``c I``), symmetric positive definite whenever the kernel is
conditionally positive definite of the tail's order, and ``M a = Pi Y`` gives the ``a`` with
``P^T a = 0``; then ``b = R^{-1} Q1^T (Y - (K + Lambda) a)``. One ``n x n`` matrix, the same
Cholesky factorisation as without a tail, and a rank-``2Q`` update of ``O(n**2 Q)`` flops.

The kernel matrix of distinct points under a strictly positive definite kernel (all built-in
kernels) is invertible, so ``a = K^{-1} Y`` is the unique interpolant and the one of minimum RKHS
norm. In floating point ``K`` can still be numerically singular (duplicated points, a bandwidth
much larger than the data's spread): Cholesky then fails and the solver falls back to the
minimum-norm least-squares solution through the symmetric eigendecomposition, which averages
the targets of duplicated points.

Ctrl-C: the kernel matrix is computed by blocks of rows and factored by
:func:`skinterp._linalg.cholesky_in_place`: up to 12,000 rows one in-place LAPACK ``potrf`` in
a worker thread with the GIL released, so that ``KeyboardInterrupt`` is raised in the caller
within a tenth of a second (the abandoned factorisation finishes in the background: a few
seconds at n = 5,000, about 30 s at 10,000 on two shared cores); beyond, by blocks, each call
a fraction of a second (OpenBLAS's multithreaded whole-matrix ``potrf`` crashes from about
16,000 rows).
"""

import sys
import time
import warnings
from dataclasses import dataclass

import numba
import numpy as np
from scipy import linalg

from .._base import check_memory
from .._linalg import cholesky_solve, eigh_solve, rounding_cutoff
from .._numba import NUMBA_CACHE
from .._parallel import run_in_chunks
from ..kernels import kernel_matrix, kernel_product
from ._polynomial_tail import orthonormal_tail

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
    solution = saddle_point_fit(
        X, Y, spec, memory_limit=memory_limit, n_jobs=n_jobs, verbose=verbose
    )
    return solution.coef, solution.used_pseudo_inverse


@dataclass(frozen=True)
class SaddlePointSolution:
    """What :func:`saddle_point_fit` returns: ``coef`` (``n x outputs``), ``tail_coef``
    (``Q x outputs``), ``fitted`` (``K a + P b`` at the training points, without the ridge
    term), ``used_pseudo_inverse`` and ``indefinite`` (the symmetric indefinite fallback)."""

    coef: np.ndarray
    tail_coef: np.ndarray
    fitted: np.ndarray
    used_pseudo_inverse: bool
    indefinite: bool


def _assemble(X, spec, ridge, Q1, *, n_jobs, verbose, full=False):
    """``M = Pi (K + Lambda) Pi + c Q1 Q1^T`` in place in one ``n x n`` array (``K + Lambda``
    without a tail).

    Only the lower triangle is computed and guaranteed (what the Cholesky factorisation
    reads): half the kernel evaluations for few features, and the rank-``2Q`` projection in
    one numba pass over it (:func:`_project_lower`) instead of three ``n x n`` temporaries.
    ``full=True`` (the fallbacks, and a kernel callable, whose matrix is checked for symmetry)
    gives the whole symmetric matrix. Rows are done by blocks so that Ctrl-C stays prompt.
    """
    n = X.shape[0]
    lower = spec.is_builtin
    M = kernel_matrix(X, kernel=spec, n_jobs=n_jobs, verbose=verbose, lower=lower)
    check_kernel_matrix(M, spec)
    if np.any(ridge):
        M[np.diag_indices(n)] += ridge.astype(M.dtype)
    if Q1 is not None and Q1.shape[1]:
        Q1w = np.ascontiguousarray(Q1, dtype=M.dtype)
        W = np.zeros((Q1w.shape[1], n), dtype=M.dtype)  # (K + Lambda) Q1, transposed
        rows = max(1, min(n, 2**22 // max(n, 1)))
        # One thread (the rows scatter into W), in chunks so that Ctrl-C stays prompt.
        run_in_chunks(
            lambda start, stop: _symmetric_product_lower(M, Q1w, W, start, stop),
            n,
            rows,
            n_jobs=1,
        )
        W = W.T
        G = Q1w.T @ W
        G = (G + G.T) / 2
        # c: the mean eigenvalue of the null-space block, so that both blocks have one scale.
        c = (float(np.trace(M, dtype=np.float64)) - float(np.trace(G))) / max(n - Q1.shape[1], 1)
        c = abs(c) if c != 0 and np.isfinite(c) else 1.0
        middle = (G + c * np.eye(G.shape[0])).astype(M.dtype)
        # M -= Q1 W^T + W Q1^T - Q1 middle Q1^T = Q1 V^T + W Q1^T with V = W - Q1 middle.
        V = W - Q1w @ middle
        Q1T, VT = np.ascontiguousarray(Q1w.T), np.ascontiguousarray(V.T)
        W = np.ascontiguousarray(W)

        def project(start, stop):
            _project_lower(M, Q1w, W, Q1T, VT, start, stop)

        run_in_chunks(project, n, rows, n_jobs=n_jobs)
    if full and lower:
        rows = max(1, min(n, 2**22 // max(n, 1)))
        run_in_chunks(lambda start, stop: _mirror_lower(M, start, stop), n, rows, n_jobs=1)
    return M


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _symmetric_product_lower(M, B, out, start, stop):
    """``out += (M @ B).T`` for the symmetric ``M`` of which only the lower triangle is read
    (``out`` is ``B.shape[1] x n``): the contributions of the rows ``start:stop``."""
    q_count = B.shape[1]
    for i in range(start, stop):
        row = M[i]
        for q in range(q_count):
            b = B[i, q]
            target = out[q]
            total = 0.0
            for j in range(i):
                total += row[j] * B[j, q]
                target[j] += row[j] * b
            out[q, i] += total + row[i] * b


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _project_lower(M, Q1, W, Q1T, VT, start, stop):
    """``M[i, j] -= Q1[i] . V[j] + W[i] . Q1[j]`` for ``j <= i``, rows ``start:stop``."""
    for i in range(start, stop):
        row = M[i, : i + 1]
        for q in range(Q1.shape[1]):
            a, b = Q1[i, q], W[i, q]
            v, p = VT[q], Q1T[q]
            for j in range(i + 1):
                row[j] -= a * v[j] + b * p[j]


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _mirror_lower(M, start, stop):
    """Copy rows ``start:stop`` of the lower triangle of ``M`` onto its upper triangle."""
    for i in range(start, stop):
        for j in range(i):
            M[j, i] = M[i, j]


def saddle_point_fit(
    X,
    Y,
    spec,
    *,
    ridge=None,
    P=None,
    positive_definite=True,
    memory_limit=None,
    n_jobs=None,
    verbose=0,
):
    """Solve ``(K + diag(ridge)) a + P b = Y``, ``P^T a = 0`` directly (see the module notes).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training points (float64 or float32).
    Y : ndarray of shape (n_samples, n_outputs)
        Targets, same dtype as ``X``.
    spec : KernelSpec
        The kernel.
    ridge : ndarray of shape (n_samples,) or None
        Non-negative diagonal added to ``K`` (``None``: interpolation).
    P : ndarray of shape (n_samples, Q) or None
        The polynomial tail's basis at the training points (``None``: no tail).
    positive_definite : bool
        Whether the system is expected to be positive definite on ``P^T a = 0`` (the tail has at
        least the kernel's minimum degree). When Cholesky fails, a positive definite system is
        numerically singular and is solved by the pseudo-inverse; otherwise it is solved as
        symmetric indefinite (LDL^T), and ``LinAlgError`` says if it is singular.
    memory_limit, n_jobs, verbose :
        As :func:`direct_fit`.

    Returns
    -------
    solution : SaddlePointSolution
    """
    n, dtype = X.shape[0], X.dtype
    itemsize = dtype.itemsize
    ridge = np.zeros(n) if ridge is None else np.broadcast_to(np.asarray(ridge, float), (n,))
    Q1 = R = None
    if P is not None and P.shape[1]:
        Q1, R = orthonormal_tail(P)
    check_memory(
        n * n * itemsize,
        memory_limit,
        what=f"The direct solver's {n} x {n} kernel matrix",
        advice=ADVICE,
    )
    start = time.perf_counter()
    tail = f", polynomial tail of {Q1.shape[1]} monomials" if Q1 is not None else ""
    _say(
        verbose,
        f"kernel matrix {n} x {n} ({n * n * itemsize / 2**20:,.0f} MiB, {dtype.name}{tail}) ...",
    )
    rhs = Y if Q1 is None else Y - (Q1 @ (Q1.T @ Y)).astype(dtype)
    M = _assemble(X, spec, ridge, Q1, n_jobs=n_jobs, verbose=verbose)
    _say(
        verbose,
        f"system assembled in {time.perf_counter() - start:.1f} s; Cholesky "
        f"(n**3/3 = {n**3 / 3e9:.3g} Gflop) ...",
    )
    start = time.perf_counter()
    coef, used_pseudo_inverse, indefinite = None, False, False
    # skinterp._linalg's minimum-norm PSD solve at the rounding cut-off (the interpolant
    # whenever floating point can represent it), step 1: Cholesky (one LAPACK call, which
    # Ctrl-C leaves at once).
    cut = rounding_cutoff(n, dtype)
    solved = cholesky_solve(M, rhs, cutoff=cut, overwrite_a=True)
    if solved is not None:
        _say(verbose, f"Cholesky and solve done in {time.perf_counter() - start:.1f} s")
        coef = _refine(solved.x, solved.factor, X, Y, spec, ridge, Q1, n_jobs, verbose)
    del solved
    if coef is None:
        del M
        check_memory(
            2 * n * n * itemsize,
            memory_limit,
            what=f"The direct solver's fallback (two {n} x {n} matrices)",
            advice=ADVICE,
        )
        M = _assemble(X, spec, ridge, Q1, n_jobs=n_jobs, verbose=0, full=True).astype(np.float64)
        if positive_definite:
            _say(verbose, "the system is numerically singular: pseudo-inverse through eigh ...")
            coef = _pseudo_inverse_solve(M, rhs, spec, cut)
            used_pseudo_inverse = True
        else:
            # Below the kernel's minimum degree the system is indefinite: LDL^T (one LAPACK
            # call holding the GIL; Ctrl-C waits for it).
            _say(
                verbose,
                "the system is indefinite (degree below the kernel's minimum): "
                "symmetric indefinite solve ...",
            )
            indefinite = True
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", linalg.LinAlgWarning)
                    coef = linalg.solve(
                        M, rhs.astype(np.float64), assume_a="sym", check_finite=False
                    )
            except (linalg.LinAlgError, linalg.LinAlgWarning) as error:
                raise linalg.LinAlgError(
                    "Singular system: the interpolation system with this kernel and a "
                    "polynomial tail below the kernel's minimum degree is singular "
                    f"({error}). Use degree=None (the kernel's minimum degree) or a ridge > 0."
                ) from None
        del M
    coef = np.ascontiguousarray(coef, dtype=dtype)
    # The fitted values and the tail coefficients from one matrix-free pass.
    Ka = kernel_product(X, X, coef, kernel=spec, n_jobs=n_jobs)
    fitted = np.asarray(Ka, dtype=np.float64)
    tail_coef = np.zeros((0, Y.shape[1]))
    if Q1 is not None:
        residual = Y - fitted - ridge[:, None] * coef
        tail_coef = linalg.solve_triangular(R, Q1.T @ residual, lower=False)
        fitted = fitted + np.asarray(P, dtype=np.float64) @ tail_coef
    return SaddlePointSolution(
        coef=coef,
        tail_coef=tail_coef,
        fitted=fitted.astype(dtype),
        used_pseudo_inverse=used_pseudo_inverse,
        indefinite=indefinite,
    )


REFINEMENT_STEPS = 2


def _refine(coef, factor, X, Y, spec, ridge, Q1, n_jobs, verbose):
    """Iterative refinement of ``a`` against the exact residual ``Pi (Y - (K + Lambda) a)``
    (one matrix-free kernel pass per step; the factor is reused). The rank-``2Q`` projection
    that forms ``M`` rounds its entries at ``eps * |K|``, which for smooth kernels (entries of
    ``K`` far larger than those of ``Pi K Pi``) costs digits that one or two steps restore."""
    if Q1 is None or X.dtype != np.float64:
        return coef
    best, best_norm = coef, np.inf
    for step in range(REFINEMENT_STEPS + 1):
        residual = Y - kernel_product(X, X, coef, kernel=spec, n_jobs=n_jobs)
        residual -= ridge[:, None] * coef
        residual -= Q1 @ (Q1.T @ residual)
        norm = float(np.abs(residual).max())
        _say(verbose, f"refinement step {step}: projected residual {norm:.3g}")
        if norm >= best_norm:
            break
        best, best_norm = coef, norm
        if step == REFINEMENT_STEPS or norm == 0:
            break
        coef = coef + linalg.cho_solve(factor, residual, check_finite=False)
    return best


def _pseudo_inverse_solve(M, rhs, spec, cutoff):
    """Step 2 of skinterp._linalg's minimum-norm PSD solve (``M`` is overwritten), after a check
    that a user kernel's matrix has no clearly negative eigenvalue."""
    solution = eigh_solve(M, rhs, cutoff=cutoff)
    eigenvalues = solution.eigenvalues
    if eigenvalues.size and not spec.is_builtin:
        largest = float(np.abs(eigenvalues).max())
        if eigenvalues.min() < -max(cutoff * largest, 1e-8 * largest):
            raise ValueError(
                "The kernel callable is not positive semi-definite on the training points: its "
                f"matrix has the eigenvalue {eigenvalues.min():.3g} (largest "
                f"{eigenvalues.max():.3g}); kernel interpolation needs a positive "
                "(semi-)definite kernel."
            )
    return solution.x
