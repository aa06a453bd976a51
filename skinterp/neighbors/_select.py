"""Numba kernels of the brute-force neighbour search.

Candidates are selected on float32 BLAS scores ``|x|^2 - 2 q.x`` (twice the speed of float64),
their distances recomputed exactly in float64, and the selection certified against a rounding
bound of the scores; rows that fail the certificate are searched again exactly.
"""

import numba
import numpy as np

from skinterp._numba import NUMBA_CACHE


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def sift_down(heap_values, heap_indices, parent, size):
    """Restore the max-heap property of ``heap_values[:size]`` (``heap_indices`` moved along)
    below ``parent``, whose value was just replaced."""
    while True:
        child = 2 * parent + 1
        if child >= size:
            return
        if child + 1 < size and heap_values[child + 1] > heap_values[child]:
            child += 1
        if heap_values[child] <= heap_values[parent]:
            return
        heap_values[parent], heap_values[child] = heap_values[child], heap_values[parent]
        heap_indices[parent], heap_indices[child] = heap_indices[child], heap_indices[parent]
        parent = child


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def push_smallest(scores, column_offset, heap_values, heap_indices):
    """Merge a tile of scores into per-row bounded max-heaps of the smallest scores.

    ``heap_values[r, 0]`` is the largest kept score of row ``r``; a score enters only if it is
    smaller, so the threshold only decreases and a rejected score is never below the final root.
    """
    n_rows, n_columns = scores.shape
    for row in range(n_rows):
        values = heap_values[row]
        indices = heap_indices[row]
        threshold = values[0]
        for column in range(n_columns):
            score = scores[row, column]
            if score < threshold:
                values[0] = score
                indices[0] = column_offset + column
                sift_down(values, indices, 0, values.shape[0])
                threshold = values[0]


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _pair_greater(keys, labels, a, b):
    # (keys[a], labels[a]) > (keys[b], labels[b]) lexicographically.
    return keys[a] > keys[b] or (keys[a] == keys[b] and labels[a] > labels[b])


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _sift_down_pairs(keys, labels, order, root, size):
    while True:
        child = 2 * root + 1
        if child >= size:
            return
        if child + 1 < size and _pair_greater(keys, labels, order[child + 1], order[child]):
            child += 1
        if not _pair_greater(keys, labels, order[child], order[root]):
            return
        order[root], order[child] = order[child], order[root]
        root = child


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def sort_by_key_then_label(keys, labels):
    """The permutation sorting ``(keys[j], labels[j])`` ascending (a heapsort, O(m log m)).

    Written out rather than two stable ``np.argsort`` passes: numba's mergesort took most of
    the 4.5 s (CPU) that compiling the brute-force search cost on first use.
    """
    n = keys.shape[0]
    order = np.arange(n)
    for root in range(n // 2 - 1, -1, -1):
        _sift_down_pairs(keys, labels, order, root, n)
    for end in range(n - 1, 0, -1):
        order[0], order[end] = order[end], order[0]
        _sift_down_pairs(keys, labels, order, 0, end)
    return order


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _sorted_exact(query, points, candidates, out_distances, out_indices):
    # Exact float64 distances to the candidates, sorted by (distance, index).
    n_candidates = candidates.shape[0]
    n_features = query.shape[0]
    distances = np.empty(n_candidates, dtype=np.float64)
    for j in range(n_candidates):
        index = candidates[j]
        total = 0.0
        for f in range(n_features):
            diff = np.float64(query[f]) - np.float64(points[index, f])
            total += diff * diff
        distances[j] = total
    order = sort_by_key_then_label(distances, candidates)
    n_out = out_distances.shape[0]
    for j in range(n_out):
        out_distances[j] = np.sqrt(distances[order[j]])
        out_indices[j] = candidates[order[j]]
    return distances[order[n_out - 1]]


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def refine_candidates(
    queries,
    points,
    candidates,
    heap_roots,
    query_sq_norms,
    max_point_sq_norm,
    relative_rounding,
    out_distances,
    out_indices,
):
    """Exact sorted distances of the selected candidates, and whether each row is certified.

    A point not selected has a float32 score of at least the heap root, so its true squared
    distance is at least ``root + |q|^2 - bound`` with ``bound = relative_rounding * (|q|^2 +
    max |x|^2)`` a bound on the rounding error of the score; the row is certified when the last
    distance returned is strictly below that.
    """
    n_queries = queries.shape[0]
    certified = np.empty(n_queries, dtype=np.bool_)
    for row in range(n_queries):
        last_sq = _sorted_exact(
            queries[row], points, candidates[row], out_distances[row], out_indices[row]
        )
        bound = relative_rounding * (query_sq_norms[row] + max_point_sq_norm)
        certified[row] = last_sq < np.float64(heap_roots[row]) + query_sq_norms[row] - bound
    return certified


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def exact_search_rows(queries, points, out_distances, out_indices):
    """Exact k-nearest neighbours by direct float64 distances to every point (the fallback)."""
    n_queries = queries.shape[0]
    n_points, n_features = points.shape
    n_select = out_distances.shape[1]
    heap_values = np.empty(n_select, dtype=np.float64)
    heap_indices = np.empty(n_select, dtype=np.intp)
    distances = np.empty((1, n_points), dtype=np.float64)
    for row in range(n_queries):
        for j in range(n_points):
            total = 0.0
            for f in range(n_features):
                diff = np.float64(queries[row, f]) - np.float64(points[j, f])
                total += diff * diff
            distances[0, j] = total
        heap_values[:] = np.inf
        heap_indices[:] = -1
        push_smallest(distances, 0, heap_values.reshape(1, -1), heap_indices.reshape(1, -1))
        _sorted_exact(queries[row], points, heap_indices, out_distances[row], out_indices[row])


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def all_distances(queries, points, partial_scores, query_sq_norms, out_distances):
    """Distances from each query to every point, from ``partial_scores = |x|^2 - 2 q.x``.

    Entries whose squared distance is within rounding of zero (possible exact matches) are
    recomputed directly so that a query equal to a training point gets the distance 0 exactly.
    """
    n_queries, n_points = partial_scores.shape
    n_features = queries.shape[1]
    for row in range(n_queries):
        for j in range(n_points):
            squared = np.float64(partial_scores[row, j]) + query_sq_norms[row]
            slack = 1e-6 * (query_sq_norms[row] + squared + 1e-300)
            if squared <= slack:
                total = 0.0
                for f in range(n_features):
                    diff = np.float64(queries[row, f]) - np.float64(points[j, f])
                    total += diff * diff
                squared = total
            out_distances[row, j] = np.sqrt(max(squared, 0.0))
