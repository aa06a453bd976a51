"""Numba kernel of the singular-kernel weighted average over neighbours."""

import numba
import numpy as np

from skinterp._numba import NUMBA_CACHE

POWER = 0
LOG = 1


# Kept only for skinterp.distributed._neighbors, which still calls it (without multiplicities or
# the normalisation); the estimators use mass_weighted_average. Remove once that module calls
# the estimator's ``_average`` with its sharded search.
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


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def mass_weighted_average(
    distances, indices, masses, targets, n_neighbors, alpha, weight_kind, use_all, out, complete
):
    """The singular-kernel average over the neighbours that cover ``n_neighbors`` rows of mass.

    ``masses[j]`` is the mass of distinct point ``j``: how many training rows it stands for
    (its multiplicity), or the sum of their sample weights. Neighbours are taken in the order
    given (ascending distance) until their masses cover ``n_neighbors``; the last one
    contributes only the mass still needed. Neighbour ``i`` then weighs ``used_i * phi_i`` with
    ``phi_i = (d_min / d_i) ** alpha`` (POWER: ``d_i ** -alpha`` up to a constant of the row, so
    it cannot overflow) or ``log(r / d_i)`` (LOG: ``r`` the distance of the row that comes after
    the ``n_neighbors`` covered, i.e. of the first neighbour whose mass is not used up). With
    unit masses this is the plain k-nearest-neighbour rule, duplicates counted as the rows they
    are.

    ``use_all``: every point, its whole mass (the Hilbert-kernel case; distances need not be
    sorted). A query at distance 0 from a point takes its target (the mass-weighted average of
    the points at distance 0). If every weight is 0 (LOG, all neighbours as far as ``r``), the
    mass-weighted plain average of the neighbours used is returned.

    ``complete[q]`` is set False, and ``out[q]`` left unset, when the neighbours given do not
    reach the end of the ``n_neighbors`` rows (fractional masses) although more points exist:
    the caller searches that row again with more neighbours.
    """
    n_queries, n_found = distances.shape
    n_points = masses.shape[0]
    n_outputs = targets.shape[1]
    used = np.empty(n_found, dtype=np.float64)
    weights = np.empty(n_found, dtype=np.float64)
    tolerance = 1e-12 * n_neighbors  # rounding of a running sum of fractional masses
    for q in range(n_queries):
        complete[q] = True
        n_used = 0
        scale = -1.0  # the LOG scale r; negative until found
        if use_all:
            n_used = n_found
            for i in range(n_found):
                used[i] = masses[indices[q, i]]
        else:
            remaining = n_neighbors
            for i in range(n_found):
                if remaining <= tolerance:
                    scale = distances[q, i]
                    break
                mass = masses[indices[q, i]]
                used[i] = min(mass, remaining)
                remaining -= mass
                n_used = i + 1
                if remaining < -tolerance:  # mass left over: the next row is at this distance
                    scale = distances[q, i]
                    break
            if scale < 0.0 and n_found < n_points:
                if weight_kind == LOG or remaining > tolerance:
                    complete[q] = False
                    continue
        d_min = np.inf
        for i in range(n_used):
            if distances[q, i] < d_min:
                d_min = distances[q, i]
        if d_min == 0.0:
            for i in range(n_used):
                weights[i] = used[i] if distances[q, i] == 0.0 else 0.0
        elif weight_kind == POWER:
            for i in range(n_used):
                weights[i] = used[i] * (d_min / distances[q, i]) ** alpha
        elif scale > 0.0:
            log_scale = np.log(scale)
            for i in range(n_used):
                weights[i] = used[i] * max(log_scale - np.log(distances[q, i]), 0.0)
        else:  # LOG with every point used: no farther row to scale by
            for i in range(n_used):
                weights[i] = 0.0
        total = 0.0
        for i in range(n_used):
            total += weights[i]
        if not total > 0.0:
            total = 0.0
            for i in range(n_used):
                weights[i] = used[i]
                total += used[i]
        for t in range(n_outputs):
            out[q, t] = 0.0
        for i in range(n_used):
            w = weights[i] / total
            if w != 0.0:
                row = indices[q, i]
                for t in range(n_outputs):
                    out[q, t] += w * targets[row, t]
