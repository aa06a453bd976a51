"""Numba kernel of the singular-kernel weighted average over neighbours."""

import numba
import numpy as np

from skinterp._numba import NUMBA_CACHE

POWER = 0
LOG = 1


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def singular_kernel_average(distances, indices, scales, targets, alpha, weight_kind, out):
    """``out[q] = sum_i w_i targets[indices[q, i]] / sum_i w_i`` for every query ``q``.

    ``weight_kind == POWER``: ``w_i = (d_min / d_i) ** alpha``, which is ``phi(d_i / r) = (d_i /
    r) ** -alpha`` divided by a constant of the row, so it cannot overflow however small the
    distances are. ``weight_kind == LOG``: ``w_i = log(r / d_i)`` with ``r = scales[q]``, the
    distance to the (k+1)-th neighbour. A query at distance 0 from some neighbours takes the plain
    average of their targets (the limit of both weights). If every weight is 0 (all k neighbours
    as far as the (k+1)-th, log weight), the plain average of the k neighbours is returned.
    """
    n_queries, n_neighbors = distances.shape
    n_outputs = targets.shape[1]
    weights = np.empty(n_neighbors, dtype=np.float64)
    for q in range(n_queries):
        d_min = np.inf
        for i in range(n_neighbors):
            if distances[q, i] < d_min:
                d_min = distances[q, i]
        if d_min == 0.0:
            for i in range(n_neighbors):
                weights[i] = 1.0 if distances[q, i] == 0.0 else 0.0
        elif weight_kind == POWER:
            for i in range(n_neighbors):
                weights[i] = (d_min / distances[q, i]) ** alpha
        else:
            log_scale = np.log(scales[q])
            for i in range(n_neighbors):
                weights[i] = max(log_scale - np.log(distances[q, i]), 0.0)
        total = 0.0
        for i in range(n_neighbors):
            total += weights[i]
        if not total > 0.0:
            for i in range(n_neighbors):
                weights[i] = 1.0
            total = n_neighbors
        for t in range(n_outputs):
            out[q, t] = 0.0
        for i in range(n_neighbors):
            w = weights[i] / total
            if w != 0.0:
                row = indices[q, i]
                for t in range(n_outputs):
                    out[q, t] += w * targets[row, t]
