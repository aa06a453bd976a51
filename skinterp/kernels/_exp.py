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

import math

import numba
import numpy as np

from .._numba import NUMBA_CACHE
from .._polynomial import horner
from ._log import bits_to_float, float_to_bits

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

_CONSTANTS = (_LOG2E, _LN2_HI, _LN2_LO, _ROUND_MAGIC, _MIN_ARG)
_CONSTANTS_32 = (_LOG2E_32, _LN2_HI_32, _LN2_LO_32, _ROUND_MAGIC_32, _MIN_ARG_32)

# Taylor coefficients 1 / k!, highest degree first: 12 in float64, 7 in float32.
_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(12, -1, -1))
_TAYLOR_32 = tuple(np.float32(1.0 / math.factorial(k)) for k in range(7, -1, -1))


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=EXP_FASTMATH)
def _exp_in_place(
    values, int_bits, float_bits, constants, taylor, exponent_shift, bias, magic_bits
):
    """``exp`` for one precision: ``int_bits`` and ``float_bits`` view one workspace of the
    width of ``values``; ``constants`` are ``(log2 e, ln2 hi, ln2 lo, magic, smallest x)``."""
    log2e, ln2_hi, ln2_lo, magic, min_arg = constants
    n = values.shape[0]
    for j in range(n):
        x = max(values[j], min_arg)
        shifted = x * log2e + magic
        k = shifted - magic
        r = (x - k * ln2_hi) - k * ln2_lo
        values[j] = horner(taylor, r)
        float_bits[j] = shifted
    for j in range(n):
        int_bits[j] = (int_bits[j] - magic_bits + bias) << exponent_shift
    for j in range(n):
        values[j] *= float_bits[j]


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def exp_nonpositive(values, bits):
    """``values[:] = exp(values)`` for ``values <= 0``, in the precision of ``values``.

    ``values`` is a contiguous float64 or float32 array, ``bits`` an int64 workspace at least as
    long (float32 uses its first half).
    """
    if values.itemsize == 4:
        single = bits.view(np.int32)
        _exp_in_place(
            values,
            single,
            single.view(np.float32),
            _CONSTANTS_32,
            _TAYLOR_32,
            23,
            127,
            _ROUND_MAGIC_BITS_32,
        )
    else:
        _exp_in_place(
            values, bits, bits.view(np.float64), _CONSTANTS, _TAYLOR, 52, 1023, _ROUND_MAGIC_BITS
        )


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=EXP_FASTMATH, error_model="numpy")
def _exp_row_axpy(
    d2, scale, root, out, alpha, column, constants, taylor, exponent_shift, bias, magic_bits
):
    """``out[j] = exp(-sqrt(scale d2[j]))`` (``root``) or ``exp(-scale d2[j])``, and
    ``column[j] += alpha out[j]``, in one loop: the arithmetic of :func:`_exp_in_place`, the
    same bits, with ``2**k`` made by a bit cast instead of a pass over a workspace."""
    log2e, ln2_hi, ln2_lo, magic, min_arg = constants
    for j in range(d2.shape[0]):
        x = -math.sqrt(scale * d2[j]) if root else -scale * d2[j]
        x = max(x, min_arg)
        shifted = x * log2e + magic
        k = shifted - magic
        r = (x - k * ln2_hi) - k * ln2_lo
        power = bits_to_float((float_to_bits(shifted) - magic_bits + bias) << exponent_shift, x)
        value = horner(taylor, r) * power
        out[j] = value
        column[j] += alpha * value


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def exp_row_axpy(d2, scale, root, out, alpha, column):
    """``out[:] = exp(-sqrt(scale d2))`` (``root``, the Laplacian kernel) or
    ``exp(-scale d2)`` (the Gaussian's, with ``scale`` including its 1/2), and
    ``column += alpha out``, in the precision of ``out`` (``d2`` and ``column`` share it):
    the values of :func:`exp_nonpositive` on those arguments, bit for bit. One loop where the
    kernel transform, :func:`exp_nonpositive` and an axpy take five (measured in float32 on
    512-value rows: 0.47-0.54 against 0.64 ns a value with the dot product)."""
    real = out.dtype.type
    if out.itemsize == 4:
        _exp_row_axpy(
            d2,
            real(scale),
            root,
            out,
            real(alpha),
            column,
            _CONSTANTS_32,
            _TAYLOR_32,
            23,
            127,
            _ROUND_MAGIC_BITS_32,
        )
    else:
        _exp_row_axpy(
            d2,
            real(scale),
            root,
            out,
            real(alpha),
            column,
            _CONSTANTS,
            _TAYLOR,
            52,
            1023,
            _ROUND_MAGIC_BITS,
        )
