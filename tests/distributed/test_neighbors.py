"""Sharded neighbour search: each shard's exact k nearest, merged, equal the local search."""

import numpy as np
import pytest

pytest.importorskip(
    "distributed", reason="the optional `skinterp[dask]` extra (dask.distributed) is not installed"
)

from skinterp import SingularKernelNN, SingularKernelNNClassifier  # noqa: E402
from skinterp.distributed import ShardedNeighbors, merge_neighbors  # noqa: E402
from skinterp.neighbors._core import normalised_queries  # noqa: E402

RNG = np.random.RandomState(8)
X = RNG.normal(size=(900, 4))
Y = np.sin(X[:, 0]) + X[:, 1] * X[:, 3]
X_TEST = np.vstack([RNG.normal(size=(300, 4)), X[:20]])  # training points too (distance 0)


@pytest.mark.parametrize(
    "params",
    [
        dict(n_neighbors=7),
        dict(n_neighbors=5, weight="log"),
        dict(n_neighbors=6, algorithm="brute"),
    ],
)
def test_sharded_regressor_predicts_as_local(client, params):
    local = SingularKernelNN(**params).fit(X, Y)
    sharded = ShardedNeighbors(local, client)
    assert len(sharded.bounds) == 2
    np.testing.assert_allclose(sharded.predict(X_TEST), local.predict(X_TEST), rtol=1e-13)
    np.testing.assert_allclose(sharded.predict(X[:20]), Y[:20], rtol=1e-12)


def test_merged_neighbours_are_the_local_ones(client):
    local = SingularKernelNN(n_neighbors=9).fit(X, Y)
    queries = normalised_queries(local._model(), X_TEST)
    distances, indices = ShardedNeighbors(local, client).kneighbors(queries, 9)
    from skinterp.neighbors._search import kneighbors

    expected_d, expected_i = kneighbors(local.points_, queries, 9, index=local.index_)
    np.testing.assert_array_equal(indices, expected_i)
    np.testing.assert_allclose(distances, expected_d, rtol=1e-14)


def test_merge_breaks_ties_by_index():
    parts = [
        (np.array([[1.0, 2.0]]), np.array([[5, 6]])),
        (np.array([[1.0, 1.5]]), np.array([[2, 9]])),
    ]
    distances, indices = merge_neighbors(parts, 3)
    np.testing.assert_array_equal(indices, [[2, 5, 9]])
    np.testing.assert_array_equal(distances, [[1.0, 1.0, 1.5]])


def test_sharded_classifier_predicts_as_local(client):
    labels = np.where(X[:, 0] > 0, "a", "b")
    local = SingularKernelNNClassifier(n_neighbors=5).fit(X, labels)
    sharded = ShardedNeighbors(local, client)
    np.testing.assert_array_equal(sharded.predict(X_TEST), local.predict(X_TEST))
    np.testing.assert_allclose(
        sharded.predict_proba(X_TEST), local.predict_proba(X_TEST), rtol=1e-13
    )
