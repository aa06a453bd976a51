"""The vectorised logarithm of the thin-plate spline (skinterp.kernels._log) against the exact
logarithm, in ulps, over the whole positive float range (normal and subnormal)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.kernels._functions import THIN_PLATE_SPLINE, direct_kernel_tile
from skinterp.kernels._log import log_positive

# The reference: float64's log is exact to far below a float32 ulp; for float64, numpy's
# long double (x87 extended on x86-64, 64-bit mantissa) resolves a thousandth of an ulp.
EXTENDED = np.finfo(np.longdouble).nmant >= 63


def ulp_errors(x):
    """|fast_log(x) - log(x)| in units of the last place of log(x) in x's precision."""
    dtype = x.dtype
    values = x.copy()
    log_positive(values)
    assert values.dtype == dtype
    wide = np.longdouble if dtype == np.float64 else np.float64
    exact = np.log(x.astype(wide))
    ulp = np.spacing(np.abs(exact.astype(dtype))).astype(wide)
    return np.abs(values.astype(wide) - exact) / ulp


def check_below_one_ulp(x):
    errors = ulp_errors(x)
    worst = int(np.argmax(errors))
    assert errors[worst] < 1.0, f"{errors[worst]:.3f} ulp at x = {x[worst]!r}"


@pytest.mark.skipif(not EXTENDED, reason="needs an extended-precision long double")
def test_float64_log_is_below_one_ulp_on_random_bit_patterns_of_every_exponent():
    # Uniform bit patterns: every binade equally often, subnormals included.
    bits = np.random.default_rng(0).integers(1, 0x7FF0000000000000, 1_000_000)
    check_below_one_ulp(bits.view(np.float64))


@pytest.mark.skipif(not EXTENDED, reason="needs an extended-precision long double")
def test_float64_log_is_below_one_ulp_near_one_and_at_the_ends_of_the_range():
    rng = np.random.default_rng(1)
    near_one = 1.0 + rng.uniform(-0.3, 0.42, 200_000)  # the reduced interval, both sides
    very_near = 1.0 + rng.uniform(-1e-9, 1e-9, 10_000)
    tiny = np.array([5e-324, 1e-323, 2.2250738585072009e-308, 2.2250738585072014e-308])
    huge = np.array([np.finfo(np.float64).max, 1e308, 2.0**1023])
    powers = 2.0 ** np.arange(-1074, 1024, dtype=np.float64)
    check_below_one_ulp(np.concatenate([near_one, very_near, tiny, huge, powers]))


def test_float32_log_is_below_one_ulp_on_every_61st_float32():
    # A stride through all positive finite float32 (1.7 * 10**7 values), subnormals included.
    bits = np.arange(1, 0x7F800000, 61, dtype=np.int32)
    check_below_one_ulp(bits.view(np.float32))


def test_log_of_one_is_exactly_zero_and_float32_powers_of_two_are_below_one_ulp():
    for dtype in (np.float64, np.float32):
        values = np.ones(3, dtype=dtype)
        log_positive(values)
        np.testing.assert_array_equal(values, 0.0)
    check_below_one_ulp(np.ldexp(np.ones(277), np.arange(-149, 128)).astype(np.float32))


@pytest.mark.skipif(not EXTENDED, reason="needs an extended-precision long double")
@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.floats(min_value=5e-324, max_value=1.7976931348623157e308, allow_subnormal=True),
        min_size=1,
        max_size=64,
    )
)
def test_float64_log_property_below_one_ulp(values):
    check_below_one_ulp(np.array(values, dtype=np.float64))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.floats(
            min_value=float(np.float32(1e-45)),
            max_value=float(np.finfo(np.float32).max),
            width=32,
        ),
        min_size=1,
        max_size=64,
    )
)
def test_float32_log_property_below_one_ulp(values):
    check_below_one_ulp(np.array(values, dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_thin_plate_spline_tile_is_zero_at_zero_and_r2_log_r_elsewhere(dtype):
    # Duplicates (r = 0), subnormal and tiny r**2, r = 1 (log 0) and large r, against numpy.
    X = np.array([[0.0], [1e-170], [1.0], [3.0], [1e15]], dtype=dtype)
    if dtype == np.float32:
        X[1, 0] = 1e-22
    out = np.empty((X.shape[0], X.shape[0]), dtype=dtype)
    direct_kernel_tile(X, np.ascontiguousarray(X.T), THIN_PLATE_SPLINE, 1.0, out)
    r = np.abs(X.astype(np.float64) - X.T.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(r == 0, 0.0, r * r * np.log(np.where(r == 0, 1.0, r)))
    np.testing.assert_array_equal(np.diagonal(out), 0.0)
    # Values below the smallest normal float (r**2 log r at r = 1e-22 in float32) are
    # subnormal: absolute precision only.
    np.testing.assert_allclose(
        out, expected, rtol=8 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny
    )
