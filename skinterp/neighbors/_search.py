"""Exact k-nearest-neighbour search, chunked over queries so that memory stays bounded.

Two methods, chosen by :func:`choose_algorithm` when ``algorithm="auto"``:

* ``"kd_tree"``: scipy's ``cKDTree`` (fast in low dimension; its ``workers`` use all threads);
* ``"brute"``: blocked BLAS scores ``|x|^2 - 2 q.x`` per chunk of queries, a numba heap selection
  of the k+1 smallest per row, then exact distances recomputed on those candidates.
"""

import numpy as np
from joblib import effective_n_jobs
from scipy.spatial import cKDTree

from skinterp._base import rows_per_chunk
from skinterp._parallel import run_in_chunks
from skinterp.neighbors._select import all_distances, exact_sorted_distances, select_smallest

# Above this dimension a KD-tree visits most leaves and blocked BLAS wins (see
# benchmarks/bench_neighbors.py, which measures both at d = 10, 50 and 784).
KD_TREE_MAX_FEATURES = 15


def choose_algorithm(algorithm, n_features):
    """Resolve ``"auto"`` to ``"kd_tree"`` or ``"brute"`` by dimension."""
    if algorithm != "auto":
        return algorithm
    return "kd_tree" if n_features <= KD_TREE_MAX_FEATURES else "brute"


def build_index(points, algorithm):
    """The search structure of ``points``: a ``cKDTree`` or ``None`` for brute force."""
    if algorithm == "kd_tree":
        return cKDTree(points, copy_data=True, balanced_tree=False)
    return None


def kneighbors(
    points, queries, n_neighbors, *, tree=None, n_jobs=None, memory_limit=None, sort=True
):
    """Distances and indices of the ``n_neighbors`` nearest points of each query, sorted.

    Parameters
    ----------
    points : ndarray of shape (n_points, n_features)
        Training points (C-contiguous float64 or float32).
    queries : ndarray of shape (n_queries, n_features)
        Query points, same dtype.
    n_neighbors : int
        How many neighbours, at most ``n_points``.
    tree : cKDTree or None
        The KD-tree of ``points``; ``None`` selects brute force.
    n_jobs : int or None
        Threads (joblib's convention).
    memory_limit : float or None
        Working memory in MiB for one chunk of brute-force scores (scikit-learn's
        ``working_memory`` when None).
    sort : bool, default=True
        With ``sort=False`` and ``n_neighbors == n_points`` (brute force), every point is
        returned in training order, without selection: the Hilbert-kernel case.

    Returns
    -------
    distances : ndarray of shape (n_queries, n_neighbors), float64
    indices : ndarray of shape (n_queries, n_neighbors), intp
    """
    n_points = points.shape[0]
    n_queries = queries.shape[0]
    if tree is not None:
        return _kd_tree_kneighbors(tree, queries, n_neighbors, n_jobs, memory_limit)
    if n_neighbors >= n_points and not sort:
        return _all_points(points, queries, n_jobs, memory_limit)

    distances = np.empty((n_queries, n_neighbors), dtype=np.float64)
    indices = np.empty((n_queries, n_neighbors), dtype=np.intp)
    point_sq_norms = np.einsum("ij,ij->i", points, points)
    chunk = rows_per_chunk(n_points * points.itemsize * 2, memory_limit)
    for start in range(0, n_queries, chunk):
        stop = min(start + chunk, n_queries)
        block = queries[start:stop]
        scores = block @ points.T  # BLAS, all its threads
        scores *= -2
        scores += point_sq_norms
        candidates = np.empty((stop - start, n_neighbors), dtype=np.intp)

        def select(lo, hi, scores=scores, candidates=candidates, block=block, start=start):
            select_smallest(scores[lo:hi], n_neighbors, candidates[lo:hi])
            exact_sorted_distances(
                block[lo:hi],
                points,
                candidates[lo:hi],
                distances[start + lo : start + hi],
                indices[start + lo : start + hi],
            )

        run_in_chunks(select, stop - start, _rows_per_thread(stop - start, n_jobs), n_jobs)
    return distances, indices


def _rows_per_thread(n_rows, n_jobs):
    return max(-(-n_rows // (4 * effective_n_jobs(n_jobs))), 64)


def _kd_tree_kneighbors(tree, queries, n_neighbors, n_jobs, memory_limit):
    workers = effective_n_jobs(n_jobs)
    chunk = rows_per_chunk(n_neighbors * 16 * 4, memory_limit)
    distances = np.empty((queries.shape[0], n_neighbors), dtype=np.float64)
    indices = np.empty((queries.shape[0], n_neighbors), dtype=np.intp)
    for start in range(0, queries.shape[0], chunk):
        stop = min(start + chunk, queries.shape[0])
        dist, ind = tree.query(queries[start:stop], k=n_neighbors, workers=workers)
        distances[start:stop] = np.reshape(dist, (stop - start, n_neighbors))
        indices[start:stop] = np.reshape(ind, (stop - start, n_neighbors))
    return distances, indices


def _all_points(points, queries, n_jobs, memory_limit):
    n_points, n_queries = points.shape[0], queries.shape[0]
    distances = np.empty((n_queries, n_points), dtype=np.float64)
    indices = np.broadcast_to(np.arange(n_points, dtype=np.intp), (n_queries, n_points))
    point_sq_norms = np.einsum("ij,ij->i", points, points)
    query_sq_norms = np.einsum("ij,ij->i", queries, queries).astype(np.float64)
    chunk = rows_per_chunk(n_points * points.itemsize, memory_limit)
    for start in range(0, n_queries, chunk):
        stop = min(start + chunk, n_queries)
        scores = queries[start:stop] @ points.T
        scores *= -2
        scores += point_sq_norms

        def finish(lo, hi, scores=scores, start=start):
            all_distances(
                queries[start + lo : start + hi],
                points,
                scores[lo:hi],
                query_sq_norms[start + lo : start + hi],
                distances[start + lo : start + hi],
            )

        run_in_chunks(finish, stop - start, _rows_per_thread(stop - start, n_jobs), n_jobs)
    return distances, indices
