"""The vectorised ``cos(Z + b)`` of the Fourier features against numpy's libm cosine."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skinterp.random_features._cos import REDUCTION_LIMIT, add_offsets_cos

FLOAT64 = st.floats(allow_nan=True, allow_infinity=True, width=64)


@settings(max_examples=200, deadline=None)
@given(
    Z=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 40)), elements=FLOAT64),
    offset=st.floats(0.0, 2 * np.pi),
)
def test_float64_cosine_matches_numpy_to_rounding_for_any_argument(Z, offset):
    offsets = np.full(Z.shape[1], offset)
    with np.errstate(invalid="ignore", over="ignore"):
        expected = np.cos(Z + offsets)
    result = Z.copy()
    add_offsets_cos(result, offsets)
    np.testing.assert_array_equal(np.isnan(result), np.isnan(expected))
    np.testing.assert_allclose(result, expected, atol=4e-16, rtol=0)


def test_float64_cosine_matches_numpy_over_the_range_of_features():
    rng = np.random.default_rng(0)
    for scale in (1e-3, 1.0, 30.0, 1e3, REDUCTION_LIMIT, 10 * REDUCTION_LIMIT):
        Z = rng.normal(size=(50, 300)) * scale
        offsets = rng.uniform(0, 2 * np.pi, size=300)
        result = Z.copy()
        add_offsets_cos(result, offsets)
        np.testing.assert_allclose(result, np.cos(Z + offsets), atol=4e-16, rtol=0)


def test_float32_cosine_is_computed_in_float64_and_rounded_once():
    rng = np.random.default_rng(1)
    Z = (rng.normal(size=(20, 500)) * 20).astype(np.float32)
    offsets = rng.uniform(0, 2 * np.pi, size=500).astype(np.float32)
    result = Z.copy()
    add_offsets_cos(result, offsets)
    assert result.dtype == np.float32
    exact = np.cos(Z.astype(np.float64) + offsets.astype(np.float64))
    np.testing.assert_allclose(result, exact, atol=np.finfo(np.float32).eps / 2, rtol=0)
