"""Dense linear algebra: the one minimum-norm PSD solve, and LAPACK calls that Ctrl-C interrupts.

**The minimum-norm PSD solve** (:func:`min_norm_psd_solve`), used by the direct kernel solver,
the random-feature systems (primal and dual) and the double-descent sweep. For a symmetric
positive semi-definite ``A`` it returns the minimum-norm solution of ``A x = B`` after the
eigenvalues at or below ``cutoff`` times the largest one are dropped (``cutoff`` relative to
the largest *eigenvalue* of ``A``; for a Gram matrix ``C C^T`` that is the square of a cut-off
on the singular values of ``C``, as ``rcond`` of :func:`numpy.linalg.lstsq`). Two steps:

1. Cholesky (:func:`cholesky_solve`), taken when it succeeds and LAPACK's estimate of the
   reciprocal condition number (``?pocon``, 1-norm; the 2-norm condition number is at most the
   1-norm one, which the estimate rarely misses by a factor of 10) passes a check that depends
   on the cut-off:

   * a cut-off at or below the rounding level ``n * eps`` (:func:`rounding_cutoff`, the
     default, numpy's ``pinv``/``lstsq`` rule) asks for the exact solution whenever floating
     point can represent it: Cholesky's is taken unless the estimate is below
     ``CONDITION_SAFETY * eps`` (a condition number above about 4.5e13 in float64). Success
     alone proves nothing: a singular matrix's last pivot can round to a small positive number
     (measured: a 3 x 3 matrix of rank 2 factored, and its "solution" was 1e16);
   * a larger cut-off is a regulariser (MinNormRFF's ``cutoff**2``, on the Gram matrix of the
     features): Cholesky's solution is its solution only if nothing would be cut, so the
     estimate must be above ``CONDITION_SAFETY * cutoff``. When nothing is cut, Cholesky is
     about ten times faster than the eigendecomposition.
2. Otherwise the symmetric eigendecomposition (:func:`eigh_solve`), which drops the eigenvalues
   at or below the cut-off and reports the rank kept.

The Cholesky factorisation (:func:`cholesky_in_place`) is one in-place LAPACK ``potrf`` call
(:func:`lapack_cholesky`, interruptible as below) up to ``POTRF_MAX_SIZE`` rows, and blocked
beyond (:func:`blocked_cholesky`: every LAPACK/BLAS call a fraction of a second, so Ctrl-C
interrupts it between calls), where OpenBLAS's multithreaded whole-matrix ``potrf`` crashes.

**Interruptible LAPACK.** scipy.linalg's LAPACK wrappers hold the GIL for the whole call
(measured: a thread waiting beside ``eigh`` woke 2-9 times in 2-10 s), so a long
factorisation ignores Ctrl-C until it returns. The routines here call LAPACK through
``scipy.linalg.cython_lapack`` (the same library scipy uses, whatever the build) by
``ctypes``, which releases the GIL, in a worker thread
(:func:`skinterp._parallel.interruptible`): ``KeyboardInterrupt`` reaches the caller within a
tenth of a second, and the abandoned call finishes in the background.
"""

import ctypes
from dataclasses import dataclass

import numba
import numpy as np
from numba.extending import get_cython_function_address
from scipy import linalg
from scipy.linalg import lapack

from ._numba import NUMBA_CACHE
from ._parallel import interruptible, small_dense_blas

CONDITION_SAFETY = 100.0
"""Cholesky's solution is taken for a cut-off above the rounding level only when LAPACK's
estimate of the reciprocal condition number exceeds ``CONDITION_SAFETY * cutoff``."""

# Columns per step of the blocked Cholesky, and rows per call of its trailing update: a call
# is at most 2 * n * CHOLESKY_BLOCK * rows flops, with rows chosen so that this is about
# UPDATE_FLOPS (half a second at 25 Gflop/s, what two shared cores give), between MIN and MAX
# rows. Measured at n = 5000 on two shared cores: 2.9 s with blocks of 1024 and 1024-row
# updates, as fast as LAPACK's potrf on the whole matrix (2.8 s, a single call that Ctrl-C
# cannot interrupt); the earlier 512 x 128 blocking took 6.5 s.
CHOLESKY_BLOCK = 1024
UPDATE_ROWS = 128
UPDATE_FLOPS = 1.25e10
MAX_UPDATE_ROWS = 1024
# The largest matrix factored by one whole-matrix LAPACK potrf (lapack_cholesky); larger ones
# by blocks (blocked_cholesky, whose potrf calls are one block each, on one BLAS thread).
# OpenBLAS's multithreaded potrf crashes on large matrices (measured with this scipy's
# OpenBLAS on two threads: a segmentation fault from n = 16,000, through scipy.linalg.lapack's
# dpotrf too; fine up to 15,000, and at 20,000 on one thread; OpenBLAS issues #352, #2562).
POTRF_MAX_SIZE = 12_000

_INT = ctypes.POINTER(ctypes.c_int)
_CHAR = ctypes.c_char_p
_SYEVR = {}


def _syevr(dtype):
    """ctypes function of LAPACK ``ssyevr``/``dsyevr`` (Fortran interface, all by reference)."""
    if dtype not in _SYEVR:
        real = ctypes.POINTER(ctypes.c_float if dtype == np.float32 else ctypes.c_double)
        name = "ssyevr" if dtype == np.float32 else "dsyevr"
        prototype = ctypes.CFUNCTYPE(
            None,
            _CHAR,
            _CHAR,
            _CHAR,
            _INT,
            real,
            _INT,
            real,
            real,
            _INT,
            _INT,
            real,
            _INT,
            real,
            real,
            _INT,
            _INT,
            real,
            _INT,
            _INT,
            _INT,
            _INT,
        )
        _SYEVR[dtype] = prototype(get_cython_function_address("scipy.linalg.cython_lapack", name))
    return _SYEVR[dtype]


def _pointer(array):
    kind = (
        ctypes.c_float
        if array.dtype == np.float32
        else (ctypes.c_double if array.dtype == np.float64 else ctypes.c_int)
    )
    return array.ctypes.data_as(ctypes.POINTER(kind))


def _top_eigenpairs_lapack(A, k):
    n = A.shape[0]
    dtype = A.dtype.type
    function = _syevr(dtype)

    def scalar(value, kind):
        return ctypes.byref(kind(value))

    real = ctypes.c_float if dtype == np.float32 else ctypes.c_double
    values = np.empty(n, dtype=dtype)
    vectors = np.empty((k, n), dtype=dtype)  # Fortran n x k, C-ordered k x n
    support = np.empty(2 * max(k, 1), dtype=np.intc)
    found, info = ctypes.c_int(0), ctypes.c_int(0)

    def call(work, lwork, iwork, liwork):
        function(
            b"V",
            b"I",
            b"L",
            scalar(n, ctypes.c_int),
            _pointer(A),
            scalar(n, ctypes.c_int),
            scalar(0.0, real),
            scalar(0.0, real),
            scalar(n - k + 1, ctypes.c_int),
            scalar(n, ctypes.c_int),
            scalar(0.0, real),
            ctypes.byref(found),
            _pointer(values),
            _pointer(vectors),
            scalar(n, ctypes.c_int),
            _pointer(support),
            _pointer(work),
            scalar(lwork, ctypes.c_int),
            _pointer(iwork),
            scalar(liwork, ctypes.c_int),
            ctypes.byref(info),
        )

    work, iwork = np.empty(1, dtype=dtype), np.empty(1, dtype=np.intc)
    call(work, -1, iwork, -1)  # workspace query
    lwork, liwork = int(work[0]), int(iwork[0])
    work, iwork = np.empty(max(lwork, 1), dtype=dtype), np.empty(max(liwork, 1), dtype=np.intc)
    call(work, lwork, iwork, liwork)
    if info.value != 0:
        raise np.linalg.LinAlgError(f"LAPACK {dtype.__name__[0]}syevr failed (info={info.value}).")
    return values[: found.value].copy(), np.ascontiguousarray(vectors[: found.value].T)


def eigenpairs(A, k=None):
    """:func:`top_eigenpairs` in the calling thread (the GIL released during LAPACK): for a
    caller that already runs in :func:`skinterp._parallel.interruptible`. ``k=None``: all."""
    A = np.asarray(A)
    A, k = _checked(A, len(A) if k is None else k)
    return _top_eigenpairs_lapack(A, k)


def _checked(A, k):
    """``(A, k)`` checked: a square float32/float64 matrix (made contiguous if it is not) and
    ``1 <= k <= n``; a ``ValueError`` otherwise."""
    A = np.asarray(A)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {A.shape}.")
    if A.dtype not in (np.float32, np.float64):
        raise ValueError(f"A must be float32 or float64, got {A.dtype}.")
    if not 1 <= k <= A.shape[0]:
        raise ValueError(f"k must be in [1, {A.shape[0]}], got {k}.")
    if not (A.flags.c_contiguous or A.flags.f_contiguous):
        A = np.ascontiguousarray(A)
    return A, int(k)


def top_eigenpairs(A, k):
    """The ``k`` largest eigenvalues (ascending) and eigenvectors of the symmetric ``A``.

    As ``scipy.linalg.eigh(A, subset_by_index=(n - k, n - 1))`` (LAPACK's ``?syevr``, the
    MRRR algorithm: about ``4 n^3 / 3`` flops for the reduction plus ``O(n k)`` per vector),
    but Ctrl-C raises ``KeyboardInterrupt`` within a tenth of a second. ``A`` (float32 or
    float64, C or Fortran order) is overwritten: pass a copy to keep it. Only its lower
    triangle (in Fortran order, i.e. its upper triangle in C order) is read.

    Returns
    -------
    values : ndarray of shape (k,)
    vectors : ndarray of shape (n, k)
        Orthonormal columns, ``A v_i = lambda_i v_i``.

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp._linalg import top_eigenpairs
    >>> values, vectors = top_eigenpairs(np.diag([3.0, 1.0, 2.0]), 2)
    >>> values
    array([2., 3.])
    >>> np.abs(vectors[:, 1])
    array([1., 0., 0.])
    """
    A, k = _checked(A, k)
    # A symmetric matrix is its own transpose: C order is read as Fortran order.
    return interruptible(_top_eigenpairs_lapack, A, k)


def update_rows_for(n, block=CHOLESKY_BLOCK):
    """Rows per trailing-update call of :func:`blocked_cholesky` for an ``n x n`` matrix."""
    return int(min(MAX_UPDATE_ROWS, max(UPDATE_ROWS, UPDATE_FLOPS // (2 * max(n, 1) * block))))


def blocked_cholesky(A, block=CHOLESKY_BLOCK, update_rows=None):
    """Lower Cholesky factor of the symmetric positive definite ``A``, in place, by blocks.

    Right-looking: factor a diagonal block (LAPACK ``potrf``), solve the panel below it, and
    update the trailing lower triangle one block of rows at a time. Only the lower triangle of
    ``A`` is read and, on return, holds ``L`` (the strict upper triangle of the diagonal blocks
    is zeroed, the rest of the upper triangle is not meaningful). Every call is short, so
    Ctrl-C interrupts within about one call.

    Raises ``numpy.linalg.LinAlgError`` when ``A`` is not numerically positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp._linalg import blocked_cholesky
    >>> A = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> np.tril(blocked_cholesky(A.copy(), block=1))
    array([[2., 0.],
           [1., 2.]])
    """
    n = A.shape[0]
    update_rows = update_rows_for(n, block) if update_rows is None else update_rows
    potrf = lapack.get_lapack_funcs("potrf", (A,))
    for k0 in range(0, n, block):
        k1 = min(k0 + block, n)
        # Rule 2 of skinterp._parallel: one BLAS thread for the small factorisation (measured
        # at n = 5000 on two loaded cores: 6.2 s in the five potrf calls with OpenBLAS's two
        # threads, 0.12 s with one).
        with small_dense_blas(k1 - k0):
            factor, info = potrf(A[k0:k1, k0:k1], lower=1, clean=1, overwrite_a=0)
        if info != 0:
            raise linalg.LinAlgError(f"leading minor of order {k0 + info} not positive")
        if not np.isfinite(np.diagonal(factor)).all():
            # potrf lets a NaN pivot through; every NaN or inf of the block reaches its diagonal.
            raise linalg.LinAlgError(f"non-finite values in the rows {k0}-{k1 - 1} of the matrix")
        A[k0:k1, k0:k1] = factor
        if k1 == n:
            break
        # Panel: L_ik = A_ik L_kk^-T, solved as L_kk L_ik^T = A_ik^T.
        panel = linalg.solve_triangular(factor, A[k1:, k0:k1].T, lower=True, check_finite=False).T
        A[k1:, k0:k1] = panel
        for i0 in range(k1, n, update_rows):
            i1 = min(i0 + update_rows, n)
            A[i0:i1, k1:i1] -= panel[i0 - k1 : i1 - k1] @ panel[: i1 - k1].T
    return A


_POTRF = {}


def _potrf(dtype):
    """ctypes function of LAPACK ``spotrf``/``dpotrf`` (Fortran interface, all by reference)."""
    if dtype not in _POTRF:
        real = ctypes.POINTER(ctypes.c_float if dtype == np.float32 else ctypes.c_double)
        name = "spotrf" if dtype == np.float32 else "dpotrf"
        prototype = ctypes.CFUNCTYPE(None, _CHAR, _INT, real, _INT, _INT)
        _POTRF[dtype] = prototype(get_cython_function_address("scipy.linalg.cython_lapack", name))
    return _POTRF[dtype]


def _potrf_in_place(A):
    n = A.shape[0]
    info = ctypes.c_int(0)
    size = ctypes.byref(ctypes.c_int(n))
    # C-ordered lower triangle = Fortran-ordered upper triangle of the same memory.
    _potrf(A.dtype.type)(b"U", size, _pointer(A), ctypes.byref(ctypes.c_int(max(n, 1))), info)
    return info.value


def lapack_cholesky(A):
    """Lower Cholesky factor of the symmetric positive definite ``A`` (C-ordered, float32 or
    float64), in place, by one LAPACK ``potrf`` call on the whole matrix.

    The contract of :func:`blocked_cholesky` (only the lower triangle is read and, on return,
    holds ``L``; the strict upper triangle is left as it was), but LAPACK's own recursive,
    multithreaded algorithm works on the matrix in place: no panel copies or product
    temporaries. Measured at n = 5000 (one BLAS thread, loaded machine): 0.92 CPU s against
    1.67 s for :func:`blocked_cholesky`. The call runs in a worker thread with the GIL
    released (:func:`skinterp._parallel.interruptible`), so Ctrl-C raises
    ``KeyboardInterrupt`` in the caller within a tenth of a second (the abandoned call finishes
    in the background, on a matrix the caller then drops).

    Raises ``numpy.linalg.LinAlgError`` when ``A`` is not numerically positive definite (a
    NaN or infinite entry in its lower triangle included), and ``ValueError`` for anything but
    a square, writeable, C-contiguous float32 or float64 ndarray.

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp._linalg import lapack_cholesky
    >>> A = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> np.tril(lapack_cholesky(A))
    array([[2., 0.],
           [1., 2.]])
    """
    # LAPACK reads n * n values from A's memory: anything but a square, writeable C-ordered
    # float matrix would be read (or written) out of bounds, or factored as the wrong matrix.
    if not (
        isinstance(A, np.ndarray)
        and A.ndim == 2
        and A.shape[0] == A.shape[1]
        and A.dtype in (np.float32, np.float64)
        and A.flags.c_contiguous
        and A.flags.writeable
    ):
        described = (
            f"shape {A.shape}, dtype {A.dtype}, C-contiguous {A.flags.c_contiguous}, "
            f"writeable {A.flags.writeable}"
            if isinstance(A, np.ndarray)
            else type(A).__name__
        )
        raise ValueError(
            "lapack_cholesky factors in place a square, writeable, C-contiguous float32 or "
            f"float64 ndarray; got {described}."
        )
    info = interruptible(_potrf_in_place, A)
    if info > 0:
        raise linalg.LinAlgError(f"leading minor of order {info} not positive")
    if info < 0:  # pragma: no cover - a wrong argument is a bug here
        raise ValueError(f"LAPACK potrf: argument {-info} invalid")
    # potrf stops on a pivot <= 0 but not on a NaN one: a NaN or infinity in the lower
    # triangle reaches the diagonal of the factor (L_ii depends on every L_ik, k < i).
    if not np.isfinite(A.diagonal()).all():
        raise linalg.LinAlgError("the factor is not finite: A has a NaN or infinite entry")
    return A


def rounding_cutoff(n, dtype):
    """``n * eps(dtype)``: the eigenvalue cut-off (relative to the largest) at the rounding
    level of an ``n x n`` symmetric eigenproblem in ``dtype``; the default cut-off."""
    return n * float(np.finfo(dtype).eps)


@numba.njit(cache=NUMBA_CACHE)
def symmetric_one_norm(A):
    """``||A||_1`` of the symmetric matrix whose lower triangle ``A`` holds (the upper one is
    not read: the direct solver assembles only the lower triangle)."""
    n = A.shape[0]
    sums = np.zeros(n)
    for i in range(n):
        for j in range(i):
            value = abs(A[i, j])
            sums[j] += value
            sums[i] += value
        sums[i] += abs(A[i, i])
    return sums.max() if n else 0.0


def reciprocal_condition(factor, one_norm):
    """LAPACK's (``?pocon``) estimate of ``1 / cond_1(A)`` from the lower Cholesky factor of
    ``A`` as :func:`blocked_cholesky` leaves it (C order) and ``||A||_1``; 0.0 when LAPACK
    reports an error."""
    # The transpose is Fortran ordered with L^T in its upper triangle: no n x n copy.
    pocon = lapack.get_lapack_funcs("pocon", (factor,))
    estimate, info = pocon(factor.T, one_norm, uplo="U")
    return float(estimate) if info == 0 else 0.0


@dataclass(frozen=True)
class PSDSolution:
    """What :func:`min_norm_psd_solve` (and its two steps) return."""

    x: np.ndarray
    """``(n, k)``: the minimum-norm solution (``A``'s dtype)."""
    rank: int
    """Eigenvalues kept (``n`` when Cholesky's solution was taken)."""
    method: str
    """``"cholesky"`` or ``"eigh"``."""
    factor: tuple = None
    """Cholesky only: ``(c, lower)`` for :func:`scipy.linalg.cho_solve` (further solves,
    iterative refinement)."""
    eigenvalues: np.ndarray = None
    """eigh only: the spectrum of ``A``, ascending."""


def _resolved_cutoff(cutoff, n, dtype):
    return rounding_cutoff(n, dtype) if cutoff is None else float(cutoff)


def cholesky_in_place(A):
    """Lower Cholesky factor of the symmetric positive definite, C-ordered ``A``, in place: the
    package's one factorisation. Up to ``POTRF_MAX_SIZE`` rows one LAPACK call
    (:func:`lapack_cholesky`, the fastest: 0.92 against 1.67 CPU s at n = 5,000 on one
    thread); beyond, by blocks (:func:`blocked_cholesky`), because OpenBLAS's multithreaded
    whole-matrix ``potrf`` crashes on large matrices (see ``POTRF_MAX_SIZE``). Both read only
    the lower triangle, stop on Ctrl-C and raise ``LinAlgError`` when ``A`` is not numerically
    positive definite."""
    if A.shape[0] <= POTRF_MAX_SIZE:
        return lapack_cholesky(A)
    return blocked_cholesky(A)


def cholesky_solve(A, B, *, cutoff=None, overwrite_a=False):
    """Step 1 of :func:`min_norm_psd_solve`: the Cholesky solution when the condition estimate
    shows that the cut-off would drop nothing (the module's rule), ``None`` otherwise.

    Only the lower triangle of ``A`` (float32 or float64) is read. It is overwritten by the
    factor when ``overwrite_a``, and is then unusable after a ``None`` (rebuild it for
    :func:`eigh_solve`). BLAS follows rule 2 of
    :mod:`skinterp._parallel` (one thread up to ``SMALL_DENSE_SIZE`` rows).
    """
    n = A.shape[0]
    cutoff = _resolved_cutoff(cutoff, n, A.dtype)
    one_norm = float(symmetric_one_norm(A))
    work = A if overwrite_a else A.copy()
    with small_dense_blas(n):
        try:
            cholesky_in_place(work)
        except linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(work.diagonal())):
            return None
        eps = float(np.finfo(A.dtype).eps)
        guarded = cutoff if cutoff > rounding_cutoff(n, A.dtype) else eps
        if n and reciprocal_condition(work, one_norm) <= CONDITION_SAFETY * guarded:
            return None
        factor = (work.T, False)
        x = linalg.cho_solve(factor, np.asarray(B, dtype=A.dtype), check_finite=False)
    if not np.all(np.isfinite(x)):
        return None
    return PSDSolution(x=x, rank=n, method="cholesky", factor=factor)


def eigh_solve(A, B, *, cutoff=None):
    """Step 2 of :func:`min_norm_psd_solve`: the minimum-norm solution through the symmetric
    eigendecomposition, the eigenvalues at or below ``cutoff`` times the largest dropped (and
    all of them when the largest is not positive). ``A`` is overwritten. LAPACK runs with the
    GIL released, so Ctrl-C is not held up (:func:`top_eigenpairs`)."""
    n = A.shape[0]
    B = np.asarray(B)
    cutoff = _resolved_cutoff(cutoff, n, A.dtype)
    if n == 0:
        return PSDSolution(
            x=np.zeros((0,) + B.shape[1:], A.dtype), rank=0, method="eigh", eigenvalues=np.zeros(0)
        )
    with small_dense_blas(n):
        eigenvalues, eigenvectors = top_eigenpairs(A, n)
    top = float(eigenvalues[-1])
    keep = eigenvalues > max(cutoff * top, 0.0) if top > 0 else np.zeros(n, dtype=bool)
    kept = eigenvectors[:, keep]
    x = kept @ ((kept.T @ B) / eigenvalues[keep].reshape((-1,) + (1,) * (B.ndim - 1)))
    return PSDSolution(x=x, rank=int(keep.sum()), method="eigh", eigenvalues=eigenvalues)


def min_norm_psd_solve(A, B, *, cutoff=None):
    """Minimum-norm solution of ``A x = B`` for a symmetric positive semi-definite ``A``.

    Parameters
    ----------
    A : ndarray of shape (n, n), float32 or float64
        Symmetric positive semi-definite (not modified).
    B : ndarray of shape (n,) or (n, k)
    cutoff : float or None, default=None
        Eigenvalues of ``A`` at or below ``cutoff`` times the largest are dropped; ``None``:
        the rounding level ``n * eps`` (:func:`rounding_cutoff`).

    Returns
    -------
    solution : PSDSolution
        ``x``, the ``rank`` kept and the ``method`` used (see the module notes for the rule).

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp._linalg import min_norm_psd_solve
    >>> A = np.array([[2.0, 0.0], [0.0, 1e-12]])
    >>> exact = min_norm_psd_solve(A, np.array([2.0, 1e-12]))
    >>> exact.x, exact.method
    (array([1., 1.]), 'cholesky')
    >>> cut = min_norm_psd_solve(A, np.array([2.0, 1e-12]), cutoff=1e-6)
    >>> cut.x, cut.rank, cut.method
    (array([1., 0.]), 1, 'eigh')
    """
    A = np.asarray(A)
    solution = cholesky_solve(A, B, cutoff=cutoff)
    if solution is None:
        solution = eigh_solve(A.copy(), B, cutoff=cutoff)
    return solution
