"""``log(x)`` for ``x > 0``, float64 or float32, in a form LLVM vectorises inside a caller's loop.

Without SVML a call to ``math.log`` per entry is a scalar libm call (about 5 ns here) that
also keeps the caller's loop scalar, and it dominated the thin-plate spline's tiles.
:func:`fast_log` is the algorithm of fdlibm/musl's ``log`` and ``logf``, written so that it
inlines: ``x = 2**k m`` with ``m`` in ``[sqrt(2)/2, sqrt(2))``, read and rebuilt through the bits
of ``x`` (a register bit cast, :func:`float_to_bits` / :func:`bits_to_float`, and integer
arithmetic, no branch); then ``log(m) = log(1 + f) = 2 atanh(s)`` with ``s = f / (2 + f)`` and a
minimax polynomial in ``s**2``; and ``log x = k ln2 + log(m)`` with ``ln2`` split so that
``k ln2_hi`` is exact. Subnormal ``x`` are scaled by ``2**54`` (``2**25`` in float32) first, a
select rather than a branch.

=========  ======================  ===========================================
precision  polynomial              error against the exact logarithm (tested)
=========  ======================  ===========================================
float64    degree 7 in ``s**2``    below 1 ulp over all positive finite floats
float32    degree 4 in ``s**2``    below 1 ulp over all positive finite floats
=========  ======================  ===========================================

The domain is the positive finite floats (normal and subnormal): callers map 0 to a value of
their choice first (the thin-plate spline's ``r**2 log r`` is 0 at 0). A zero, a negative
number, inf or NaN gives an unspecified number (no exception).

Callers compile with ``error_model="numpy"``: numba's default model tests every float division
for a zero divisor (to raise ``ZeroDivisionError``), which keeps the loop scalar; ``2 + f`` is
never 0 here.
"""

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic, overload

from .._numba import NUMBA_CACHE
from .._polynomial import horner

LOG_FASTMATH = {"contract"}


@intrinsic
def float_to_bits(typingctx, x):
    """The bits of a float64 (float32) as an int64 (int32): an LLVM ``bitcast``."""
    if isinstance(x, types.Float):
        result = types.int64 if x.bitwidth == 64 else types.int32

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.IntType(x.bitwidth))

        return result(x), codegen
    return None


@intrinsic
def bits_to_float(typingctx, bits, like):
    """The float of the type of ``like`` whose bits are the low bits of the integer ``bits``."""
    if isinstance(like, types.Float) and isinstance(bits, types.Integer):

        def codegen(context, builder, signature, args):
            value = args[0]
            if bits.bitwidth > like.bitwidth:
                value = builder.trunc(value, ir.IntType(like.bitwidth))
            elif bits.bitwidth < like.bitwidth:
                value = builder.sext(value, ir.IntType(like.bitwidth))
            return builder.bitcast(value, context.get_value_type(like))

        return like(bits, like), codegen
    return None


# fdlibm's e_log.c: log(1 + f) = f - hfsq + s (hfsq + R(s**2)), hfsq = f**2 / 2, with
# R(z) = Lg1 z + Lg2 z**2 + ... + Lg7 z**7 split in odd and even powers of w = z**2.
_LG = (
    6.666666666666735130e-01,
    3.999999999940941908e-01,
    2.857142874366239149e-01,
    2.222219843214978396e-01,
    1.818357216161805012e-01,
    1.531383769920937332e-01,
    1.479819860511658591e-01,
)
_ODD, _EVEN = _LG[::2][::-1], _LG[1::2][::-1]  # (Lg7, Lg5, Lg3, Lg1), (Lg6, Lg4, Lg2)
_LN2_HI = 6.93147180369123816490e-01  # k * _LN2_HI is exact for |k| < 2**11
_LN2_LO = 1.90821492927058770002e-10
_TINY = 2.2250738585072014e-308  # smallest normal float64
_SUBNORMAL_SCALE = 2.0**54
# Adding _OFFSET moves the exponent field so that it counts from sqrt(2)/2 (bits of its high
# word: 0x3fe6a09e); the mantissa is then put back on top of sqrt(2)/2's exponent (_BASE).
_OFFSET = (0x3FF00000 - 0x3FE6A09E) << 32
_MANTISSA = 0x000FFFFFFFFFFFFF
_BASE = 0x3FE6A09E << 32

# musl's logf.c, float32 arithmetic (numpy scalars keep numba in float32).
_LG_32 = tuple(
    np.float32(v)
    for v in (0xAAAAAA * 2.0**-24, 0xCCCE13 * 2.0**-25, 0x91E9EE * 2.0**-25, 0xF89E26 * 2.0**-26)
)
_ODD_32, _EVEN_32 = _LG_32[::2][::-1], _LG_32[1::2][::-1]  # (Lg3, Lg1), (Lg4, Lg2)
_LN2_HI_32 = np.float32(6.9313812256e-01)
_LN2_LO_32 = np.float32(9.0580006145e-06)
_TINY_32 = np.float32(1.17549435e-38)
_SUBNORMAL_SCALE_32 = np.float32(2.0**25)
_ONE_32, _HALF_32, _TWO_32 = np.float32(1.0), np.float32(0.5), np.float32(2.0)
_OFFSET_32 = 0x3F800000 - 0x3F3504F3
_MANTISSA_32 = 0x007FFFFF
_BASE_32 = 0x3F3504F3


@numba.njit(inline="always", fastmath=LOG_FASTMATH, error_model="numpy")
def _log64(x):
    small = x < _TINY
    x = x * _SUBNORMAL_SCALE if small else x
    ix = float_to_bits(x) + _OFFSET
    k = (ix >> 52) - 1023
    dk = np.float64(k - 54 if small else k)
    f = bits_to_float((ix & _MANTISSA) + _BASE, x) - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = s * (hfsq + (z * horner(_ODD, w) + w * horner(_EVEN, w)))
    return r + dk * _LN2_LO - hfsq + f + dk * _LN2_HI


@numba.njit(inline="always", fastmath=LOG_FASTMATH, error_model="numpy")
def _log32(x):
    small = x < _TINY_32
    x = x * _SUBNORMAL_SCALE_32 if small else x
    ix = np.int64(float_to_bits(x)) + _OFFSET_32
    k = (ix >> 23) - 127
    dk = np.float32(k - 25 if small else k)
    f = bits_to_float((ix & _MANTISSA_32) + _BASE_32, x) - _ONE_32
    hfsq = _HALF_32 * f * f
    s = f / (_TWO_32 + f)
    z = s * s
    w = z * z
    r = s * (hfsq + (z * horner(_ODD_32, w) + w * horner(_EVEN_32, w)))
    return r + dk * _LN2_LO_32 - hfsq + f + dk * _LN2_HI_32


def fast_log(x):
    """``log(x)`` for a positive finite float64 or float32 ``x``, in its precision (numba
    only: inlined into the caller, whose loop it lets vectorise)."""
    raise NotImplementedError("fast_log is called from numba-compiled code only")


@overload(fast_log, inline="always", fastmath=LOG_FASTMATH, error_model="numpy")
def _fast_log_overload(x):
    if isinstance(x, types.Float):
        if x.bitwidth == 32:
            return lambda x: _log32(x)
        return lambda x: _log64(x)
    return None


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=LOG_FASTMATH, error_model="numpy")
def log_positive(values):
    """``values[:] = log(values)`` for positive finite ``values`` (a contiguous float64 or
    float32 array), in their precision."""
    for j in range(values.shape[0]):
        values[j] = fast_log(values[j])
