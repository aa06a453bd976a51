"""A small-matrix inverse for the numba kernels, through SciPy's LAPACK (``dgetrf``/``dgetri``).

``np.linalg.inv`` inside numba costs about 4-5 s of compilation on first use (its wrappers,
checks and error messages), more than the rest of the lifted program's kernels together. The
same LAPACK routines numba would call are reached here directly: their addresses in
:mod:`scipy.linalg.cython_lapack` are registered with LLVM under fixed symbol names, so the
compiled kernels refer to them by name and stay cacheable on disk (a raw ctypes address would
change from process to process and forbid the cache). Compiles in a fraction of a second and
skips numba's copies, so it is also faster.
"""

import llvmlite.binding as llvm
import numba
import numpy as np
from numba import types
from numba.extending import get_cython_function_address

from .._numba import NUMBA_CACHE

for _name in ("dgetrf", "dgetri"):
    llvm.add_symbol(
        f"skinterp_simplicial_{_name}",
        get_cython_function_address("scipy.linalg.cython_lapack", _name),
    )

_P = types.voidptr  # LAPACK's Fortran interface: every argument by reference
_dgetrf = types.ExternalFunction("skinterp_simplicial_dgetrf", types.void(_P, _P, _P, _P, _P, _P))
_dgetri = types.ExternalFunction(
    "skinterp_simplicial_dgetri", types.void(_P, _P, _P, _P, _P, _P, _P)
)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def invert(B, Binv):
    """``Binv = inv(B)`` for a square C-contiguous float64 ``B``; False when ``B`` is singular.

    LAPACK sees the row-major ``B`` as its transpose and inverts it in place; the inverse of the
    transpose read back row-major is the inverse of ``B``.
    """
    n = B.shape[0]
    for i in range(n):
        for j in range(n):
            Binv[i, j] = B[i, j]
    pivots = np.empty(n, dtype=np.int32)
    work = np.empty(64 * n)
    ints = np.empty(3, dtype=np.int32)  # n (and the leading dimension), lwork, info
    ints[0] = n
    ints[1] = work.shape[0]
    ints[2] = 0
    _dgetrf(ints.ctypes, ints.ctypes, Binv.ctypes, ints.ctypes, pivots.ctypes, ints[2:].ctypes)
    if ints[2] != 0:
        return False
    _dgetri(
        ints.ctypes,
        Binv.ctypes,
        ints.ctypes,
        pivots.ctypes,
        work.ctypes,
        ints[1:].ctypes,
        ints[2:].ctypes,
    )
    return ints[2] == 0
