"""``exp(x)`` for ``x <= 0`` over a whole array, in float64 or float32, in a form LLVM vectorises.

Without SVML (numba's vector maths library is not a dependency) a call to ``math.exp`` per
entry is a scalar libm call and dominates a kernel tile. Here ``x = k ln2 + r`` with
``|r| <= ln2 / 2``; ``exp(r)`` is a Taylor polynomial and ``2**k`` is built in the exponent
bits. ``k`` is read from the bits of ``x / ln2 + 1.5 * 2**p`` (``p`` the mantissa width; its
unit in the last place is 1). Every loop is branch-free arithmetic on contiguous arrays.

=========  ===================  ====================  =========================
precision  polynomial degree    relative error        smallest argument
=========  ===================  ====================  =========================
float64    12                   < 2e-16 (about 1 ulp)  -708 (``exp`` ~ 3e-308)
float32    7                    < 1.2e-7 (about 1 ulp) -87 (``exp`` ~ 1.6e-38)
=========  ===================  ====================  =========================

Arguments below the smallest one return its ``exp``, a value below every kernel value that
matters, instead of a denormal or zero.
"""

import numba
import numpy as np

from .._numba import NUMBA_CACHE

# Fused multiply-adds only ("contract"): they halve the polynomial's instructions (2.0 -> 1.1
# ns per float64 entry here) and keep every rounding step of the reduction exact or improved.
# "reassoc" would be wrong here: it may fold (x / ln2 + M) - M back into x / ln2.
EXP_FASTMATH = {"contract"}

_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471803691238  # ln 2 split so that k * _LN2_HI is exact
_LN2_LO = 1.9082149292705877e-10
_ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2**52
_ROUND_MAGIC_BITS = 4843621399236968448  # bits of _ROUND_MAGIC
_MIN_ARG = -708.0

# float32 constants are numpy scalars so that numba keeps the arithmetic in float32.
_LOG2E_32 = np.float32(_LOG2E)
_LN2_HI_32 = np.float32(0.693359375)  # 9 significant bits: k * _LN2_HI_32 is exact
_LN2_LO_32 = np.float32(-2.1219444005469057e-4)
_ROUND_MAGIC_32 = np.float32(12582912.0)  # 1.5 * 2**23
_ROUND_MAGIC_BITS_32 = 1262485504  # bits of _ROUND_MAGIC_32
_MIN_ARG_32 = np.float32(-87.0)
_INV_FACTORIALS_32 = tuple(np.float32(1.0 / f) for f in (5040.0, 720.0, 120.0, 24.0, 6.0, 2.0))
_ONE_32 = np.float32(1.0)


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=EXP_FASTMATH)
def _exp_double(values, bits):
    scale = bits.view(np.float64)
    n = values.shape[0]
    for j in range(n):
        x = max(values[j], _MIN_ARG)
        shifted = x * _LOG2E + _ROUND_MAGIC
        k = shifted - _ROUND_MAGIC
        r = (x - k * _LN2_HI) - k * _LN2_LO
        p = 1.0 / 479001600.0
        p = p * r + 1.0 / 39916800.0
        p = p * r + 1.0 / 3628800.0
        p = p * r + 1.0 / 362880.0
        p = p * r + 1.0 / 40320.0
        p = p * r + 1.0 / 5040.0
        p = p * r + 1.0 / 720.0
        p = p * r + 1.0 / 120.0
        p = p * r + 1.0 / 24.0
        p = p * r + 1.0 / 6.0
        p = p * r + 0.5
        p = p * r + 1.0
        p = p * r + 1.0
        values[j] = p
        scale[j] = shifted
    for j in range(n):
        bits[j] = (bits[j] - _ROUND_MAGIC_BITS + 1023) << 52
    for j in range(n):
        values[j] *= scale[j]


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=EXP_FASTMATH)
def _exp_single(values, bits):
    bits32 = bits.view(np.int32)
    scale = bits32.view(np.float32)
    c7, c6, c5, c4, c3, c2 = _INV_FACTORIALS_32
    n = values.shape[0]
    for j in range(n):
        x = max(values[j], _MIN_ARG_32)
        shifted = x * _LOG2E_32 + _ROUND_MAGIC_32
        k = shifted - _ROUND_MAGIC_32
        r = (x - k * _LN2_HI_32) - k * _LN2_LO_32
        p = c7
        p = p * r + c6
        p = p * r + c5
        p = p * r + c4
        p = p * r + c3
        p = p * r + c2
        p = p * r + _ONE_32
        p = p * r + _ONE_32
        values[j] = p
        scale[j] = shifted
    for j in range(n):
        bits32[j] = (bits32[j] - _ROUND_MAGIC_BITS_32 + 127) << 23
    for j in range(n):
        values[j] *= scale[j]


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def exp_nonpositive(values, bits):
    """``values[:] = exp(values)`` for ``values <= 0``, in the precision of ``values``.

    ``values`` is a contiguous float64 or float32 array, ``bits`` an int64 workspace at least as
    long (float32 uses its first half).
    """
    if values.itemsize == 4:
        _exp_single(values, bits)
    else:
        _exp_double(values, bits)
