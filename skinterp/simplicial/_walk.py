"""Point location in a Delaunay triangulation and barycentric coordinates (numba kernels).

The triangulation is given as plain arrays, as :class:`scipy.spatial.Delaunay` stores it:

* ``simplices`` ``(n_simplices, r + 1)``: vertex indices of each simplex;
* ``neighbors`` ``(n_simplices, r + 1)``: the simplex opposite each vertex, ``-1`` on the hull;
* ``transform`` ``(n_simplices, r + 1, r)``: ``T = transform[s, :r]`` and ``o = transform[s, r]``
  give the first ``r`` barycentric coordinates of ``z`` as ``T @ (z - o)``; the last one is one
  minus their sum.

A query is located by a *visibility walk*: from a start simplex, step across the face opposite the
most negative barycentric coordinate until every coordinate is ``>= -eps``. In a Delaunay
triangulation this walk cannot cycle (Edelsbrunner, 1989); a step cap guards against rounding and
the few queries that hit it are located by brute force. A step across a hull face (neighbour
``-1``) proves the query outside the convex hull, because the hull face lies on a supporting
hyperplane. Queries are walked in Morton (Z-curve) order, each starting from the previous answer,
so that a walk is a few steps long.
"""

import numba
import numpy as np

from .._numba import NUMBA_CACHE

OUTSIDE = -1
"""Location code: the query is outside the convex hull."""
UNRESOLVED = -2
"""Location code: the walk hit its step cap or a flat simplex (locate by brute force)."""


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def morton_codes(Z, low, high, bits, codes):
    """Morton (Z-order) code of every row of ``Z`` in the box ``[low, high]``, ``bits`` per axis.

    Rows with NaN get code 0 (they cannot occur after validation).
    """
    n, r = Z.shape
    levels = (1 << bits) - 1
    for i in range(n):
        code = 0
        for k in range(r):
            width = high[k] - low[k]
            t = (Z[i, k] - low[k]) / width if width > 0 else 0.0
            if not (t > 0.0):  # also catches NaN
                t = 0.0
            if t > 1.0:
                t = 1.0
            cell = int(t * levels)
            for b in range(bits):
                if (cell >> b) & 1:
                    code |= 1 << (b * r + k)
        codes[i] = code


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def counting_order(codes, n_codes):
    """A stable permutation sorting ``codes`` (integers in ``[0, n_codes)``): O(n + n_codes)."""
    counts = np.zeros(n_codes + 1, dtype=np.int64)
    for i in range(codes.shape[0]):
        counts[codes[i] + 1] += 1
    for c in range(n_codes):
        counts[c + 1] += counts[c]
    order = np.empty(codes.shape[0], dtype=np.int64)
    for i in range(codes.shape[0]):
        order[counts[codes[i]]] = i
        counts[codes[i]] += 1
    return order


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _barycentric(transform, s, z, out):
    """Barycentric coordinates of ``z`` in simplex ``s`` into ``out`` (length r + 1)."""
    r = z.shape[0]
    total = 0.0
    for a in range(r):
        value = 0.0
        for b in range(r):
            value += transform[s, a, b] * (z[b] - transform[s, r, b])
        out[a] = value
        total += value
    out[r] = 1.0 - total


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def walk_locate(
    Z, order, simplices, neighbors, transform, start, eps, max_steps, located, weights, vertices
):
    """Locate the rows ``order[0], order[1], ...`` of ``Z`` by visibility walks, each from the
    previous answer.

    For row ``i`` writes the simplex index, ``OUTSIDE`` or ``UNRESOLVED`` into ``located[i]``,
    and for located rows the barycentric coordinates into ``weights[i]`` and the simplex'
    vertices into ``vertices[i]`` (``-1`` otherwise). Returns the last simplex.
    """
    r = Z.shape[1]
    coords = np.empty(r + 1)
    s = start
    for position in range(order.shape[0]):
        i = order[position]
        z = Z[i]
        result = UNRESOLVED
        for _ in range(max_steps):
            _barycentric(transform, s, z, coords)
            worst = 0
            worst_value = coords[0]
            flat = False
            for k in range(r + 1):
                if coords[k] != coords[k]:
                    flat = True
                if coords[k] < worst_value:
                    worst_value = coords[k]
                    worst = k
            if flat:
                break
            if worst_value >= -eps:
                result = s
                break
            nxt = neighbors[s, worst]
            if nxt < 0:
                result = OUTSIDE
                break
            s = nxt
        located[i] = result
        if result >= 0:
            for k in range(r + 1):
                weights[i, k] = coords[k]
                vertices[i, k] = simplices[result, k]
        else:
            for k in range(r + 1):
                weights[i, k] = 0.0
                vertices[i, k] = -1
            if result == UNRESOLVED:
                s = start
    return s


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def bruteforce_locate(z, transform, eps):
    """The first simplex whose barycentric coordinates of ``z`` are all ``>= -eps``, else -1."""
    r = z.shape[0]
    coords = np.empty(r + 1)
    for s in range(transform.shape[0]):
        _barycentric(transform, s, z, coords)
        inside = True
        for k in range(r + 1):
            if not (coords[k] >= -eps):
                inside = False
                break
        if inside:
            return s
    return OUTSIDE


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def simplex_weights(Z, located, transform, weights):
    """Barycentric coordinates of each row of ``Z`` in its simplex ``located[i]`` (if >= 0)."""
    r = Z.shape[1]
    coords = np.empty(r + 1)
    for i in range(Z.shape[0]):
        if located[i] >= 0:
            _barycentric(transform, located[i], Z[i], coords)
            for k in range(r + 1):
                weights[i, k] = coords[k]


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def combine(vertices, weights, targets, out):
    """``out[i] = sum_k weights[i, k] * targets[vertices[i, k]]``; rows with vertex -1 skipped."""
    n, width = vertices.shape
    n_outputs = targets.shape[1]
    for i in range(n):
        for o in range(n_outputs):
            out[i, o] = 0.0
        for k in range(width):
            v = vertices[i, k]
            if v < 0:
                continue
            w = weights[i, k]
            if w == 0.0:
                continue
            for o in range(n_outputs):
                out[i, o] += w * targets[v, o]
