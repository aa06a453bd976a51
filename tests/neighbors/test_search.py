"""The exact neighbour search against scikit-learn's, and the intrinsic dimension estimate."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.neighbors import NearestNeighbors

from skinterp.neighbors import intrinsic_dimension
from skinterp.neighbors._search import build_index, kneighbors


@settings(max_examples=25, deadline=None)
@given(
    n_points=st.integers(2, 200),
    n_features=st.integers(1, 40),
    data=st.data(),
    algorithm=st.sampled_from(["kd_tree", "brute"]),
)
def test_distances_equal_scikit_learn_nearest_neighbors(n_points, n_features, data, algorithm):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    points = rng.normal(size=(n_points, n_features))
    n_exact = min(5, n_points)
    queries = np.vstack([rng.normal(size=(30, n_features)), points[:n_exact]])
    k = data.draw(st.integers(1, n_points))
    distances, indices = kneighbors(points, queries, k, tree=build_index(points, algorithm))
    expected = NearestNeighbors(n_neighbors=k).fit(points).kneighbors(queries)[0]
    # scikit-learn's own brute force can miss an exact zero by ~1e-7 (the |q|^2 - 2 q.x + |x|^2
    # identity); ours recomputes the distances of the selected neighbours exactly.
    np.testing.assert_allclose(distances, expected, rtol=1e-9, atol=1e-6)
    recomputed = np.linalg.norm(queries[:, None, :] - points[indices], axis=2)
    np.testing.assert_allclose(distances, recomputed, rtol=1e-12, atol=0)
    assert np.all(distances[-n_exact:, 0] == 0.0)  # exact zero for a training point


@pytest.mark.parametrize("dimension", [1, 3, 6])
def test_intrinsic_dimension_of_an_embedded_cube(dimension):
    rng = np.random.default_rng(dimension)
    X = rng.uniform(size=(3000, dimension)) @ rng.normal(size=(dimension, 50))
    estimate = intrinsic_dimension(X)
    assert abs(estimate - dimension) < 0.25 * dimension + 0.3
