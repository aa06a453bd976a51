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
from .._polynomial import horner

# Fused multiply-adds only: they shorten the polynomials; the reduction's products by the
# 33-bit parts stay exact. "reassoc" could undo the round-to-integer trick.
COS_FASTMATH = {"contract"}

REDUCTION_LIMIT = 1.0e6  # |k| < 2**20 well beyond it

_TWO_OVER_PI = 0.6366197723675814
_PIO2_1 = 1.5707963267341256  # first 33 bits of pi/2
_PIO2_2 = 6.077100506303966e-11  # next 33 bits
_PIO2_3 = 2.0222662487959506e-21  # the rest
_ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2**52: x + M - M rounds x to an integer

# Taylor coefficients in r**2, highest degree first: cos r = sum (-1)**i r**(2i) / (2i)!,
# sin r = r * sum (-1)**i r**(2i) / (2i + 1)!, i = 0 ... 8.
_COS_TAYLOR = tuple((-1.0) ** i / math.factorial(2 * i) for i in range(8, -1, -1))
_SIN_TAYLOR = tuple((-1.0) ** i / math.factorial(2 * i + 1) for i in range(8, -1, -1))


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=COS_FASTMATH)
def _cos_row(row, offsets, work):
    """``row[j] = cos(row[j] + offsets[j])``; ``work`` keeps the arguments (float64)."""
    n = row.shape[0]
    far = False
    for j in range(n):
        x = np.float64(row[j]) + np.float64(offsets[j])
        work[j] = x
        k = (x * _TWO_OVER_PI + _ROUND_MAGIC) - _ROUND_MAGIC
        r = ((x - k * _PIO2_1) - k * _PIO2_2) - k * _PIO2_3
        r2 = r * r
        c = horner(_COS_TAYLOR, r2)
        s = horner(_SIN_TAYLOR, r2) * r
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
