"""Numba kernels of the brute-force neighbour search: k smallest entries per row, exact distances."""

import numba
import numpy as np

from skinterp._numba import NUMBA_CACHE


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _sift_down(heap_values, heap_indices, size):
    # Restore a max-heap whose root was just replaced.
    parent = 0
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
def select_smallest(scores, n_select, out_indices):
    """Indices of the ``n_select`` smallest entries of each row of ``scores`` (unordered).

    A bounded max-heap per row: O(n log k) per row, no allocation of the row's size.
    """
    n_rows, n_columns = scores.shape
    heap_values = np.empty(n_select, dtype=scores.dtype)
    heap_indices = np.empty(n_select, dtype=np.intp)
    for row in range(n_rows):
        for j in range(n_select):
            heap_values[j] = np.inf
            heap_indices[j] = -1
        for column in range(n_columns):
            value = scores[row, column]
            if value < heap_values[0]:
                heap_values[0] = value
                heap_indices[0] = column
                _sift_down(heap_values, heap_indices, n_select)
        out_indices[row, :] = heap_indices


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def exact_sorted_distances(queries, points, candidates, out_distances, out_indices):
    """Euclidean distances from each query to its candidate points, recomputed directly, sorted.

    The blocked BLAS identity ``|q|^2 - 2 q.x + |x|^2`` loses the exact zero of a query equal to a
    training point; recomputing ``sqrt(sum (q - x)^2)`` on the few candidates restores it, which
    the interpolation property needs.
    """
    n_queries, n_candidates = candidates.shape
    n_features = queries.shape[1]
    distances = np.empty(n_candidates, dtype=np.float64)
    for row in range(n_queries):
        for j in range(n_candidates):
            index = candidates[row, j]
            total = 0.0
            for f in range(n_features):
                diff = np.float64(queries[row, f]) - np.float64(points[index, f])
                total += diff * diff
            distances[j] = np.sqrt(total)
        # Sort by (distance, index) so that ties resolve deterministically.
        order = np.argsort(distances, kind="mergesort")
        for j in range(n_candidates):
            out_distances[row, j] = distances[order[j]]
            out_indices[row, j] = candidates[row, order[j]]
        # Stable ordering of equal distances by training index.
        j = 0
        while j < n_candidates:
            end = j + 1
            while end < n_candidates and out_distances[row, end] == out_distances[row, j]:
                end += 1
            if end - j > 1:
                out_indices[row, j:end] = np.sort(out_indices[row, j:end])
            j = end


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
