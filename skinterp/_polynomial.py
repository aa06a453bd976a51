"""Polynomial evaluation for the vectorised elementary functions (``exp``, ``cos``)."""

import numba


@numba.njit(inline="always")
def horner(coefficients, x):
    """``sum(coefficients[i] * x**(n - i))``: Horner's rule, highest degree first.

    ``coefficients`` is a tuple of constants; the loop unrolls once inlined, and the arithmetic
    keeps the precision of ``x`` and the coefficients (float32 stays float32). With
    ``fastmath={"contract"}`` in the caller each step is one fused multiply-add.
    """
    value = coefficients[0]
    for coefficient in coefficients[1:]:
        value = value * x + coefficient
    return value
