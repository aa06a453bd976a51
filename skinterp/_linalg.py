"""Dense linear algebra that Ctrl-C can interrupt.

scipy.linalg's LAPACK wrappers hold the GIL for the whole call (measured: a thread waiting
beside ``eigh`` woke 2-9 times in 2-10 s), so a long factorisation ignores Ctrl-C until it
returns. The routines here call LAPACK through ``scipy.linalg.cython_lapack`` (the same
library scipy uses, whatever the build) by ``ctypes``, which releases the GIL, in a worker
thread (:func:`skinterp._parallel.interruptible`): ``KeyboardInterrupt`` reaches the caller
within a tenth of a second, and the abandoned call finishes in the background.
"""

import ctypes

import numpy as np
from numba.extending import get_cython_function_address

from ._parallel import interruptible

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


def cholesky(A):
    """Lower Cholesky factor of the symmetric positive definite ``A`` (numpy's LAPACK, which
    releases the GIL; scipy's ``cho_factor`` holds it). Raises
    ``numpy.linalg.LinAlgError`` when ``A`` is not numerically positive definite. Returns
    ``(L, True)``, the form :func:`scipy.linalg.cho_solve` takes."""
    return np.linalg.cholesky(A), True
