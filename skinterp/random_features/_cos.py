"""``cos(Z + b)`` in place over a block of features, in a form LLVM vectorises.

numpy's float64 ``cos`` is a scalar libm call, about 29 ns per entry here: for ``n = 2000``
points and ``N = 40,000`` Fourier features it cost more than the least-squares solve itself.
The loop below reduces ``x = k pi/2 + r`` with ``|r| <= pi/4`` (Cody-Waite: ``pi/2`` split in
three parts, the first two with 33 significant bits so that ``k * part`` is exact for
``|k| < 2**20``), evaluates Taylor polynomials of ``cos r`` and ``sin r`` (degrees 16 and 17:
truncation below 1e-17) and picks ``+-cos r`` or ``+-sin r`` by the quadrant ``k mod 4``,
all branch-free. The result is within a few units in the last place of libm's.

Arguments beyond ``REDUCTION_LIMIT`` (far outside any useful feature: ``|<v, x> + b|`` of a
million) are recomputed by ``math.cos`` in a second, scalar pass.
"""

import math

import numba
import numpy as np

from .._numba import NUMBA_CACHE

# Fused multiply-adds only: they shorten the polynomials; the reduction's products by the
# 33-bit parts stay exact. "reassoc" could undo the round-to-integer trick.
COS_FASTMATH = {"contract"}

REDUCTION_LIMIT = 1.0e6  # |k| < 2**20 well beyond it

_TWO_OVER_PI = 0.6366197723675814
_PIO2_1 = 1.5707963267341256  # first 33 bits of pi/2
_PIO2_2 = 6.077100506303966e-11  # next 33 bits
_PIO2_3 = 2.0222662487959506e-21  # the rest
_ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2**52: x + M - M rounds x to an integer

# 1 / k! with alternating signs: cos r = sum C[i] r**(2i), sin r = r * sum S[i] r**(2i).
_C = tuple((-1.0) ** i / math.factorial(2 * i) for i in range(9))
_S = tuple((-1.0) ** i / math.factorial(2 * i + 1) for i in range(9))


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=COS_FASTMATH)
def _cos_row(row, offsets, work):
    """``row[j] = cos(row[j] + offsets[j])``; ``work`` keeps the arguments (float64)."""
    c0, c1, c2, c3, c4, c5, c6, c7, c8 = _C
    s0, s1, s2, s3, s4, s5, s6, s7, s8 = _S
    n = row.shape[0]
    far = False
    for j in range(n):
        x = np.float64(row[j]) + np.float64(offsets[j])
        work[j] = x
        k = (x * _TWO_OVER_PI + _ROUND_MAGIC) - _ROUND_MAGIC
        r = ((x - k * _PIO2_1) - k * _PIO2_2) - k * _PIO2_3
        r2 = r * r
        c = c8
        c = c * r2 + c7
        c = c * r2 + c6
        c = c * r2 + c5
        c = c * r2 + c4
        c = c * r2 + c3
        c = c * r2 + c2
        c = c * r2 + c1
        c = c * r2 + c0
        s = s8
        s = s * r2 + s7
        s = s * r2 + s6
        s = s * r2 + s5
        s = s * r2 + s4
        s = s * r2 + s3
        s = s * r2 + s2
        s = s * r2 + s1
        s = (s * r2 + s0) * r
        quadrant = k - 4.0 * math.floor(0.25 * k)  # k mod 4, exactly
        value = s if (quadrant == 1.0 or quadrant == 3.0) else c
        row[j] = -value if (quadrant == 1.0 or quadrant == 2.0) else value
        far |= abs(x) > REDUCTION_LIMIT
    if far:
        for j in range(n):
            if abs(work[j]) > REDUCTION_LIMIT:
                row[j] = math.cos(work[j])


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def add_offsets_cos(Z, offsets):
    """``Z[i, j] = cos(Z[i, j] + offsets[j])`` in place (float64 or float32 ``Z``).

    Arithmetic in float64 whatever the dtype of ``Z``; NaN and inf give NaN, as ``np.cos``.
    """
    work = np.empty(Z.shape[1], dtype=np.float64)
    for i in range(Z.shape[0]):
        _cos_row(Z[i], offsets, work)
