"""Merging duplicate training points against numpy's row-wise unique."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp._duplicates import merge_duplicate_points


@settings(max_examples=50, deadline=None)
@given(
    n_samples=st.integers(1, 60),
    n_features=st.integers(1, 6),
    n_values=st.integers(1, 4),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**32 - 1),
)
def test_merge_equals_numpy_unique_with_averaged_targets(
    n_samples, n_features, n_values, dtype, seed
):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, n_values, size=(n_samples, n_features)).astype(dtype)  # many duplicates
    Y = rng.normal(size=(n_samples, 2))
    points, targets, counts, weights, merged_inverse = merge_duplicate_points(X, Y)
    expected_points, inverse = np.unique(X, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    assert points.shape == expected_points.shape and points.dtype == dtype
    # Same set of rows; each row's target is the mean of its duplicates' targets.
    order = np.lexsort(points.T[::-1])
    np.testing.assert_array_equal(points[order], expected_points)
    # Means summed in a different order: rounding is relative to the terms, not to the mean
    # (which may cancel to near zero), hence the absolute tolerance.
    atol = 1e-14 * n_samples * np.abs(Y).max()
    for row in range(expected_points.shape[0]):
        np.testing.assert_allclose(
            targets[order][row], Y[inverse == row].mean(axis=0), rtol=1e-12, atol=atol
        )
    # The output does not depend on the order of the input rows.
    permutation = rng.permutation(n_samples)
    permuted_points, permuted_targets = merge_duplicate_points(X[permutation], Y[permutation])[:2]
    np.testing.assert_array_equal(permuted_points, points)
    np.testing.assert_allclose(permuted_targets, targets, rtol=1e-12, atol=atol)

    # Multiplicities and the inverse map: every row is its point, counts add up to n.
    np.testing.assert_array_equal(points[merged_inverse], X)
    np.testing.assert_array_equal(counts, np.bincount(merged_inverse, minlength=len(points)))
    np.testing.assert_array_equal(weights, counts.astype(float))


@settings(max_examples=30, deadline=None)
@given(n_samples=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_weighted_merge_gives_weighted_means(n_samples, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(n_samples, 2)).astype(np.float64)
    Y = rng.normal(size=(n_samples, 1))
    w = rng.uniform(0.1, 3.0, size=n_samples)
    points, targets, counts, weights, inverse = merge_duplicate_points(X, Y, sample_weight=w)
    for k in range(points.shape[0]):
        members = inverse == k
        assert counts[k] == members.sum()
        np.testing.assert_allclose(weights[k], w[members].sum(), rtol=1e-12)
        np.testing.assert_allclose(
            targets[k], (w[members] @ Y[members]) / w[members].sum(), rtol=1e-10, atol=1e-12
        )


def test_signed_zeros_are_one_point():
    X = np.array([[0.0, 1.0], [-0.0, 1.0]])
    merged = merge_duplicate_points(X, np.array([[1.0], [3.0]]))
    assert merged.points.shape == (1, 2) and merged.counts.tolist() == [2]
    np.testing.assert_allclose(merged.targets, [[2.0]])
