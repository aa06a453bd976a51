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
    distances, indices = kneighbors(points, queries, k, index=build_index(points, algorithm))
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


def _exact_reference(points, queries, k):
    squared = ((queries[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    order = np.lexsort(
        (np.broadcast_to(np.arange(points.shape[0]), squared.shape), squared), axis=1
    )[:, :k]
    return np.sqrt(np.take_along_axis(squared, order, axis=1)), order


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_brute_force_is_exact_where_float32_scores_cannot_separate_points(n_jobs):
    # A far-away cloud: |x|^2 ~ 1e10 while neighbour gaps are ~1e-3, so float32 scores are
    # useless; the certificate must fail and the exact fallback must give the true neighbours.
    rng = np.random.default_rng(5)
    points = 1e5 + rng.uniform(size=(300, 12))
    queries = 1e5 + rng.uniform(size=(40, 12))
    distances, indices = kneighbors(
        points, queries, 6, index=build_index(points, "brute"), n_jobs=n_jobs
    )
    expected_distances, expected_indices = _exact_reference(points, queries, 6)
    np.testing.assert_array_equal(indices, expected_indices)
    np.testing.assert_allclose(distances, expected_distances, rtol=1e-12)


def test_brute_force_orders_exact_ties_by_index_and_handles_extreme_scales():
    grid = np.array(
        [[i, j] for i in range(6) for j in range(6)], dtype=float
    )  # many equal distances
    # Powers of two keep every distance exact (so ties stay ties); squares stay within float64
    # range, the float32 scores do not (the float64 working copy is used).
    for scale in [1.0, 2.0**-300, 2.0**300]:
        points = np.repeat(grid, 10, axis=1) * scale
        queries = points[[0, 7, 14]] + 0.5 * scale
        distances, indices = kneighbors(points, queries, 9, index=build_index(points, "brute"))
        expected_distances, expected_indices = _exact_reference(points / scale, queries / scale, 9)
        np.testing.assert_array_equal(indices, expected_indices)
        np.testing.assert_allclose(distances / scale, expected_distances, rtol=1e-12)


def test_threaded_searches_leave_the_blas_thread_count_alone():
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    rng = np.random.default_rng(6)
    points, queries = rng.normal(size=(2000, 30)), rng.normal(size=(400, 30))
    index = build_index(points, "brute")
    before = blas_threads()
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(
                lambda i: kneighbors(points, queries[i * 50 :], 5, index=index, n_jobs=2), range(8)
            )
        )
    assert blas_threads() == before
    np.testing.assert_array_equal(
        results[3][1], kneighbors(points, queries[150:], 5, index=index)[1]
    )
