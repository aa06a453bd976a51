"""Merging duplicate training points against numpy's row-wise unique."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.neighbors._duplicates import merge_duplicate_points


@settings(max_examples=50, deadline=None)
@given(
    n_samples=st.integers(1, 60),
    n_features=st.integers(1, 6),
    n_values=st.integers(1, 4),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**32 - 1),
)
def test_merge_equals_numpy_unique_with_averaged_targets(n_samples, n_features, n_values, dtype, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, n_values, size=(n_samples, n_features)).astype(dtype)  # many duplicates
    Y = rng.normal(size=(n_samples, 2))
    points, targets = merge_duplicate_points(X, Y)
    expected_points, inverse = np.unique(X, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    assert points.shape == expected_points.shape and points.dtype == dtype
    # Same set of rows; each row's target is the mean of its duplicates' targets.
    order = np.lexsort(points.T[::-1])
    np.testing.assert_array_equal(points[order], expected_points)
    # Means summed in a different order: rounding is relative to the terms, not to the mean
    # (which may cancel to near zero), hence the absolute tolerance.
    atol = 1e-14 * n_samples * np.abs(Y).max()
    for row, point in enumerate(expected_points):
        np.testing.assert_allclose(targets[order][row], Y[inverse == row].mean(axis=0), rtol=1e-12, atol=atol)
    # The output does not depend on the order of the input rows.
    permutation = rng.permutation(n_samples)
    permuted_points, permuted_targets = merge_duplicate_points(X[permutation], Y[permutation])
    np.testing.assert_array_equal(permuted_points, points)
    np.testing.assert_allclose(permuted_targets, targets, rtol=1e-12, atol=atol)
