"""Exact k-nearest-neighbour search, tiled over queries and points so that memory stays bounded.

Two methods, chosen by :func:`choose_algorithm` when ``algorithm="auto"``:

* ``"kd_tree"``: scipy's ``cKDTree`` (fast in low dimension; ``workers`` threads);
* ``"brute"``: float32 BLAS scores ``|x|^2 - 2 q.x`` tile by tile, merged into per-row numba
  heaps of the ``k + margin`` smallest, exact float64 distances recomputed on those candidates,
  and a certificate (the rounding error of the scores cannot have hidden a closer point) with an
  exact fallback for the rows that fail it. The result is exact, at float32 BLAS speed.
"""

import numpy as np
from scipy.spatial import cKDTree

from skinterp._base import rows_per_chunk
from skinterp._parallel import n_threads, run_in_chunks, small_dense_blas
from skinterp.neighbors._select import (
    all_distances,
    exact_search_rows,
    push_smallest,
    refine_candidates,
)

# Above this dimension a KD-tree visits most of its leaves and blocked BLAS wins (measured by
# benchmarks/bench_neighbors.py at n = 100,000: brute force is already faster at d = 10).
KD_TREE_MAX_FEATURES = 8
# Extra candidates selected on float32 scores, so that the certificate rarely fails.
SELECTION_MARGIN = 8
POINT_BLOCK = 512  # a 1024 x 512 float32 score tile (2 MiB) stays in cache for the heaps
QUERY_BLOCK = 1024
KD_TREE_QUERY_BLOCK = 16384
# Ctrl-C: a block of queries runs to its end once started on a worker thread, so a block holds
# at most about this many multiply-adds (~0.1 s), but at least MIN_QUERY_BLOCK rows (below that
# the score products lose their BLAS efficiency). Serial searches stop between point tiles.
WORK_PER_BLOCK = 2**28
MIN_QUERY_BLOCK = 128


def query_rows_for_work(n_points, n_features, work=WORK_PER_BLOCK, min_rows=1):
    """Rows of queries whose distances to ``n_points`` points cost about ``work`` multiply-adds."""
    return max(int(work // max(n_points * (n_features + 1), 1)), min_rows)


class BruteForceIndex:
    """The points and their working copy ``[x, |x|^2]`` (float32, or float64 when needed).

    With queries written ``[-2 q, 1]``, one BLAS product gives the scores ``|x|^2 - 2 q.x``
    directly: no passes over the score tile to scale it and add the norms (a third faster at
    d = 10, where those passes cost more than the product).
    """

    def __init__(self, points):
        self.points = points
        sq_norms = np.einsum("ij,ij->i", points, points, dtype=np.float64)
        self.max_sq_norm = float(sq_norms.max())
        # float32 scores lose too much for data near float32's range limits: use float64 there.
        in_range = 1e-30 < self.max_sq_norm < 1e30
        self.work_dtype = np.dtype(np.float32 if in_range else np.float64)
        self.work_points = np.empty((points.shape[0], points.shape[1] + 1), dtype=self.work_dtype)
        self.work_points[:, :-1] = points
        self.work_points[:, -1] = sq_norms
        # The score is a (d+1)-term dot product of terms summing in absolute value to at most
        # 2 |q||x| + |x|^2 <= 2 (|q|^2 + |x|^2): its error is at most gamma_(d+1) times that,
        # plus the roundings of q and |x|^2 to the working type; (2 d + 8) eps covers all three.
        self.relative_rounding = (2 * points.shape[1] + 8) * float(np.finfo(self.work_dtype).eps)


def choose_algorithm(algorithm, n_features):
    """Resolve ``"auto"`` to ``"kd_tree"`` or ``"brute"`` by dimension."""
    if algorithm != "auto":
        return algorithm
    return "kd_tree" if n_features <= KD_TREE_MAX_FEATURES else "brute"


def build_index(points, algorithm):
    """The search structure of ``points``: a ``cKDTree`` or a :class:`BruteForceIndex`."""
    if algorithm == "kd_tree":
        return cKDTree(points, copy_data=True, balanced_tree=False)
    return BruteForceIndex(points)


def kneighbors(points, queries, n_neighbors, *, index, n_jobs=None, memory_limit=None, sort=True):
    """Distances and indices of the ``n_neighbors`` nearest points of each query, sorted.

    Parameters
    ----------
    points : ndarray of shape (n_points, n_features)
        Training points (C-contiguous float64 or float32).
    queries : ndarray of shape (n_queries, n_features)
        Query points.
    n_neighbors : int
        How many neighbours, at most ``n_points``.
    index : cKDTree or BruteForceIndex
        The index of ``points`` from :func:`build_index`.
    n_jobs : int or None
        Threads (joblib's convention).
    memory_limit : float or None
        Working memory in MiB (scikit-learn's ``working_memory`` when None).
    sort : bool, default=True
        With ``sort=False`` and ``n_neighbors == n_points``, every point is returned in training
        order, without selection: the Hilbert-kernel case.

    Returns
    -------
    distances : ndarray of shape (n_queries, n_neighbors), float64
        Exact Euclidean distances (0 exactly for a query equal to a point), ascending; equal
        distances are ordered by index.
    indices : ndarray of shape (n_queries, n_neighbors), intp
    """
    if isinstance(index, cKDTree):
        return _kd_tree_kneighbors(index, queries, n_neighbors, n_jobs, memory_limit)
    if n_neighbors >= points.shape[0] and not sort:
        return _all_points(points, queries, n_jobs, memory_limit)
    return _brute_kneighbors(index, queries, n_neighbors, n_jobs, memory_limit)


def _brute_kneighbors(index, queries, n_neighbors, n_jobs, memory_limit):
    points = index.points
    n_points, n_queries = points.shape[0], queries.shape[0]
    n_select = min(n_neighbors + SELECTION_MARGIN, n_points)
    work_queries = np.empty((n_queries, queries.shape[1] + 1), dtype=index.work_dtype)
    work_queries[:, :-1] = queries
    work_queries[:, :-1] *= -2  # exact: a power of two
    work_queries[:, -1] = 1
    query_sq_norms = np.einsum("ij,ij->i", queries, queries, dtype=np.float64)
    distances = np.empty((n_queries, n_neighbors), dtype=np.float64)
    indices = np.empty((n_queries, n_neighbors), dtype=np.intp)
    threads = max(min(n_threads(n_jobs), -(-n_queries // QUERY_BLOCK)), 1)
    tile_bytes = (POINT_BLOCK + 2 * n_select) * index.work_dtype.itemsize * threads
    max_rows = QUERY_BLOCK
    if threads > 1:  # serial blocks stop between point tiles (a Python loop) anyway
        max_rows = min(
            max_rows, query_rows_for_work(n_points, points.shape[1], min_rows=MIN_QUERY_BLOCK)
        )
    query_block = rows_per_chunk(tile_bytes, memory_limit, max_rows=max_rows)

    def search(start, stop):
        heap_values = np.full((stop - start, n_select), np.inf, dtype=index.work_dtype)
        heap_indices = np.full((stop - start, n_select), -1, dtype=np.intp)
        block = work_queries[start:stop]
        for first in range(0, n_points, POINT_BLOCK):
            last = min(first + POINT_BLOCK, n_points)
            scores = block @ index.work_points[first:last].T
            push_smallest(scores, first, heap_values, heap_indices)
        certified = refine_candidates(
            queries[start:stop],
            points,
            heap_indices,
            heap_values[:, 0],
            query_sq_norms[start:stop],
            index.max_sq_norm,
            index.relative_rounding,
            distances[start:stop],
            indices[start:stop],
        )
        if n_select == n_points:
            return
        failed = start + np.flatnonzero(~certified)
        if failed.size:
            fallback_distances = np.empty((failed.size, n_neighbors), dtype=np.float64)
            fallback_indices = np.empty((failed.size, n_neighbors), dtype=np.intp)
            exact_search_rows(queries[failed], points, fallback_distances, fallback_indices)
            distances[failed] = fallback_distances
            indices[failed] = fallback_indices

    # Threads over query blocks, one BLAS thread each (rule 2 of skinterp._parallel, whatever
    # n_jobs is): the tiles' products are skinny (few features) or small; a multi-threaded
    # BLAS on them is up to 3x slower than one thread, and far worse when the cores are shared.
    with small_dense_blas(points.shape[1]):
        run_in_chunks(search, n_queries, query_block, threads)
    return distances, indices


def _kd_tree_kneighbors(tree, queries, n_neighbors, n_jobs, memory_limit):
    n_queries = queries.shape[0]
    distances = np.empty((n_queries, n_neighbors), dtype=np.float64)
    indices = np.empty((n_queries, n_neighbors), dtype=np.intp)
    # Short calls (about 0.05 s each), threaded by run_in_chunks rather than by the tree's own
    # ``workers``: on Ctrl-C scipy stops waiting for its worker threads while they still write
    # into the output (a segmentation fault, seen), where run_in_chunks lets running chunks end.
    block = rows_per_chunk(n_neighbors * 16 * 4, memory_limit, max_rows=KD_TREE_QUERY_BLOCK)
    threads = n_threads(n_jobs)
    if threads > 1:
        block = min(block, max(-(-n_queries // threads), 256))

    def search(start, stop):
        dist, ind = tree.query(queries[start:stop], k=n_neighbors, workers=1)
        distances[start:stop] = np.reshape(dist, (stop - start, n_neighbors))
        indices[start:stop] = np.reshape(ind, (stop - start, n_neighbors))

    run_in_chunks(search, n_queries, block, n_jobs)
    return distances, indices


def _rows_per_thread(n_rows, n_jobs):
    return max(-(-n_rows // (4 * n_threads(n_jobs))), 64)


def _all_points(points, queries, n_jobs, memory_limit):
    n_points, n_queries = points.shape[0], queries.shape[0]
    distances = np.empty((n_queries, n_points), dtype=np.float64)
    indices = np.broadcast_to(np.arange(n_points, dtype=np.intp), (n_queries, n_points))
    point_sq_norms = np.einsum("ij,ij->i", points, points)
    query_sq_norms = np.einsum("ij,ij->i", queries, queries, dtype=np.float64)
    chunk = rows_per_chunk(
        n_points * points.itemsize,
        memory_limit,
        max_rows=query_rows_for_work(n_points, points.shape[1]),
    )
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
