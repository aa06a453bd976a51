"""Exact k nearest neighbours of a training set sharded over the workers.

Each worker holds a contiguous block of the (duplicate-merged) training points and its search
index (:func:`skinterp.neighbors._search.build_index`, built once, on the worker); for a block
of queries it returns its own ``k`` nearest, exact, with global indices
(:func:`skinterp.neighbors._search.kneighbors`). The client merges the ``W k`` candidates of
each query into the ``k`` smallest, ties by index: what the local search returns, since the
``k`` nearest of all points are among the ``k`` nearest of their shards. The singular-kernel
average then runs on the client (:func:`singular_kernel_average`, the package's).

Per block of ``q`` queries the network carries the queries to every worker and ``2 W q k``
numbers back; the training points move once.
"""

import numpy as np

from skinterp._base import validate_features
from skinterp.neighbors._core import predict_singular_kernel_nn
from skinterp.neighbors._search import build_index
from skinterp.neighbors._search import kneighbors as local_kneighbors

from ._client import DEFAULT_TIMEOUT, active_client, configure_workers
from ._eigenpro import _result


class NeighborShard:
    """A worker's block of training points and its index (a dask actor)."""

    def __init__(self, points, offset, algorithm):
        self.points = np.ascontiguousarray(points)
        self.offset = int(offset)
        self.index = build_index(self.points, algorithm)

    def query(self, queries, n_neighbors):
        k = min(int(n_neighbors), self.points.shape[0])
        distances, indices = local_kneighbors(self.points, queries, k, index=self.index, n_jobs=1)
        return distances, indices + self.offset


def merge_neighbors(parts, n_neighbors):
    """The ``n_neighbors`` smallest of the shards' candidates per row, ties by index."""
    distances = np.concatenate([p[0] for p in parts], axis=1)
    indices = np.concatenate([p[1] for p in parts], axis=1)
    order = np.lexsort((indices, distances), axis=1)[:, :n_neighbors]
    return (
        np.take_along_axis(distances, order, axis=1),
        np.take_along_axis(indices, order, axis=1),
    )


class ShardedNeighbors:
    """The training points of a fitted ``SingularKernelNN`` sharded over the workers.

    Parameters
    ----------
    estimator : fitted SingularKernelNN or SingularKernelNNClassifier
        The model whose (duplicate-merged) points are sharded; its targets, weights and
        ``alpha_`` stay on the client.
    client : distributed.Client or None
        The client (``None``: the active one); one shard per worker.
    timeout : float
        Seconds one block of queries may take.

    Examples
    --------
    >>> from skinterp import SingularKernelNN
    >>> from skinterp.distributed import ShardedNeighbors
    >>> sharded = ShardedNeighbors(SingularKernelNN().fit(X, y))  # doctest: +SKIP
    >>> sharded.predict(X_test)  # doctest: +SKIP
    """

    def __init__(self, estimator, client=None, *, timeout=DEFAULT_TIMEOUT, chunk_rows=8192):
        client = active_client(client)
        configure_workers(client)
        workers = sorted(client.scheduler_info()["workers"])
        if not workers:
            raise ValueError("The dask cluster has no workers.")
        points = estimator.points_  # normalised, distinct
        if estimator.all_points_:
            raise ValueError("n_neighbors=None (every point) needs no search: predict locally.")
        self.estimator, self.timeout, self.chunk_rows = estimator, timeout, chunk_rows
        edges = np.linspace(0, points.shape[0], len(workers) + 1).round().astype(int)
        self.bounds = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]
        futures = []
        for w, (lo, hi) in enumerate(self.bounds):
            block = client.scatter(points[lo:hi], workers=[workers[w]], hash=False)
            futures.append(
                client.submit(
                    NeighborShard,
                    block,
                    lo,
                    estimator.algorithm_,
                    workers=[workers[w]],
                    actor=True,
                    pure=False,
                )
            )
        self.shards = [future.result(timeout=timeout) for future in futures]

    def kneighbors(self, X, n_neighbors):
        """Distances and global indices of the ``n_neighbors`` nearest training points of the
        normalised queries ``X`` (:func:`skinterp.neighbors._core.normalised_queries`)."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        calls = [shard.query(X, n_neighbors) for shard in self.shards]
        parts = [_result(call, self.timeout, "the neighbour search") for call in calls]
        return merge_neighbors(parts, n_neighbors)

    def _predict_targets(self, X):
        # The local estimator's averaging (multiplicities, weights, re-search), with the
        # merged neighbours of the shards.
        est = self.estimator
        return predict_singular_kernel_nn(
            est._model(), X, search=self.kneighbors, chunk_rows=self.chunk_rows
        )

    def predict(self, X):
        """The estimator's ``predict``, with the neighbour search on the shards."""
        X = validate_features(self.estimator, X, reset=False)
        scores = self._predict_targets(X)
        if hasattr(self.estimator, "classes_"):
            return self.estimator.classes_[np.argmax(scores, axis=1)]
        return self.estimator._as_fitted_shape(scores)

    def predict_proba(self, X):
        """The classifier's ``predict_proba``, with the neighbour search on the shards."""
        if not hasattr(self.estimator, "classes_"):
            raise AttributeError("predict_proba needs a SingularKernelNNClassifier.")
        X = validate_features(self.estimator, X, reset=False)
        scores = np.clip(self._predict_targets(X), 0.0, None)
        return scores / scores.sum(axis=1, keepdims=True)
