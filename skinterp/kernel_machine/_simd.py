"""Explicit 8-wide float64 vectors for numba kernels that work on many small problems at once.

The local solves (:mod:`._local`) factor ``LANES`` neighbourhood systems together, one per SIMD
lane, with the lanes as the innermost, contiguous axis of every array. Written as plain loops
over the lanes, every one of their ``k**3 / 6`` innermost steps is a separate vectorised loop:
LLVM adds run-time alias checks and a remainder to each (a loop of 32 lanes cost about 30
cycles for 4 vector FMAs), and a loop over a constant 8 lanes is unrolled into scalar code
instead, because it cannot prove the arrays distinct. Here a value of :data:`vec8` *is* an LLVM
``<8 x double>``: :func:`vload` and :func:`vstore` move 8 consecutive float64 (one 64-byte
cache line when the offset is a multiple of 8) between an array and a register, and the
arithmetic (:func:`vfnma`, :func:`vfma`, :func:`vmul`, :func:`vdiv`, :func:`vadd`,
:func:`vsub`) is one vector
instruction, with loop-carried accumulators kept in registers. Fused multiply-adds are explicit
(``llvm.fma``), so these kernels need no ``fastmath`` flag: NaN and inf propagate as IEEE says.

Offsets are flat element offsets into a C-contiguous array; nothing is bounds-checked: the
caller guarantees ``0 <= offset`` and ``offset + 8 <= array.size``.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

WIDTH = 8
_VECTOR = ir.VectorType(ir.DoubleType(), WIDTH)


class Vec8Type(types.Type):
    """Eight float64 in one SIMD register (an LLVM ``<8 x double>``)."""

    def __init__(self):
        super().__init__(name="vec8")


vec8 = Vec8Type()


@register_model(Vec8Type)
class _Vec8Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VECTOR)


def _pointer(context, builder, array_type, array, offset):
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [offset]), _VECTOR.as_pointer())


def _check_array(array):
    if not (isinstance(array, types.Array) and array.dtype == types.float64):
        raise TypeError("vec8 loads and stores need a float64 array")
    if array.layout != "C":
        raise TypeError("vec8 loads and stores need a C-contiguous array")


@intrinsic
def vload(typingctx, array, offset):
    """``array.flat[offset:offset + 8]`` as a :data:`vec8`."""
    _check_array(array)

    def codegen(context, builder, signature, args):
        pointer = _pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load(pointer, align=8)

    return vec8(array, offset), codegen


@intrinsic
def vstore(typingctx, array, offset, value):
    """``array.flat[offset:offset + 8] = value``."""
    _check_array(array)

    def codegen(context, builder, signature, args):
        pointer = _pointer(context, builder, signature.args[0], args[0], args[1])
        builder.store(args[2], pointer, align=8)
        return context.get_dummy_value()

    return types.none(array, offset, value), codegen


def _fma(builder):
    signature = ir.FunctionType(_VECTOR, [_VECTOR] * 3)
    return cgutils.get_or_insert_function(builder.module, signature, "llvm.fma.v8f64")


@intrinsic
def vfnma(typingctx, acc, a, b):
    """``acc - a * b`` with one rounding (fused)."""

    def codegen(context, builder, signature, args):
        return builder.call(_fma(builder), [builder.fneg(args[1]), args[2], args[0]])

    return vec8(acc, a, b), codegen


@intrinsic
def vfma(typingctx, acc, a, b):
    """``acc + a * b`` with one rounding (fused)."""

    def codegen(context, builder, signature, args):
        return builder.call(_fma(builder), [args[1], args[2], args[0]])

    return vec8(acc, a, b), codegen


@intrinsic
def vmul(typingctx, a, b):
    """``a * b``."""

    def codegen(context, builder, signature, args):
        return builder.fmul(args[0], args[1])

    return vec8(a, b), codegen


@intrinsic
def vdiv(typingctx, a, b):
    """``a / b``."""

    def codegen(context, builder, signature, args):
        return builder.fdiv(args[0], args[1])

    return vec8(a, b), codegen


@intrinsic
def vsub(typingctx, a, b):
    """``a - b``."""

    def codegen(context, builder, signature, args):
        return builder.fsub(args[0], args[1])

    return vec8(a, b), codegen


@intrinsic
def vadd(typingctx, a, b):
    """``a + b``."""

    def codegen(context, builder, signature, args):
        return builder.fadd(args[0], args[1])

    return vec8(a, b), codegen


@intrinsic
def vbroadcast(typingctx, x):
    """Eight copies of the float64 ``x``."""
    if x != types.float64:
        return None

    def codegen(context, builder, signature, args):
        vector = builder.insert_element(
            ir.Constant(_VECTOR, ir.Undefined), args[0], ir.Constant(ir.IntType(32), 0)
        )
        return builder.shuffle_vector(
            vector,
            ir.Constant(_VECTOR, ir.Undefined),
            ir.Constant(ir.VectorType(ir.IntType(32), WIDTH), [0] * WIDTH),
        )

    return vec8(x), codegen


@intrinsic
def vzero(typingctx):
    """Eight zeros."""

    def codegen(context, builder, signature, args):
        return ir.Constant(_VECTOR, [0.0] * WIDTH)

    return vec8(), codegen
