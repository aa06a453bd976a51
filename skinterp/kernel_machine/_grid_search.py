"""The ``k`` nearest training points of queries in 1 to 3 dimensions on a uniform grid of cells.

For ``neighbors=k`` (:mod:`._local`) the set of the ``k`` nearest points must be exactly the
one scipy's ``cKDTree.query`` returns (scipy's ``RBFInterpolator`` semantics). In low dimension
a grid of cells (a cell list) finds it with less work than the tree: the points are sorted by
cell (:class:`CellGrid`), and :func:`grid_search` visits the cells around a query ring by ring
(the cells at Chebyshev distance ``r`` from the query's cell), keeping the ``k + 1`` smallest
squared distances in a bounded max-heap, until no unvisited point can be closer than the
``(k + 1)``-th kept one. The ``k`` nearest are then certain, and the ``(k + 1)``-th says
whether the ``k``-th is tied: when the two distances are within a relative ``TIE_RTOL`` (a tie
on the boundary, as on gridded data, where the tree's choice among equals depends on its
traversal), the query is marked for ``cKDTree`` instead, so that the chosen set is always the
tree's. Distances are computed as the tree computes them (coordinate differences squared and
summed in order, no fused multiply-add), so a set without a tie is the tree's set.

A grid pays off when the cells hold a few points each around every query: for data much denser
in some places than the grid's mean density (clusters), a query there scans crowded cells.
:func:`grid_candidates` measures the scan (points examined per query) on a sample of queries;
the caller keeps the tree when it is more than a few times ``k``.
"""

import numba
import numpy as np

from .._numba import NUMBA_CACHE
from ..neighbors._select import sift_down

# The grid is used up to this dimension (its rings grow as (2 r + 1)**d).
GRID_MAX_FEATURES = 3
# Mean points a cell: measured at k = 50 in 2-D (uniform, 10**5 points), 2 to 4 is fastest.
POINTS_PER_CELL = 3.0
# (k + 1)-th squared distance within this relative margin of the k-th: a possible tie, the
# query goes to the tree.
TIE_RTOL = 1e-12


class CellGrid:
    """The points of ``X`` (``n x d``, ``d <= 3``) sorted by the cell of a uniform grid.

    Attributes: ``low`` and ``inverse_width`` (per coordinate, 3 of them, unused ones 0 and 1),
    ``shape`` (cells per coordinate, 3, unused ones 1), ``starts`` (``cells + 1``: the points
    of cell ``c`` are ``order[starts[c]:starts[c + 1]]``), ``points`` (the points in that
    order, ``n x 3``, unused coordinates 0) and ``order``.
    """

    def __init__(self, X, points_per_cell=POINTS_PER_CELL):
        n, d = X.shape
        if not 1 <= d <= GRID_MAX_FEATURES:
            raise ValueError(f"a cell grid needs 1 to {GRID_MAX_FEATURES} features, got {d}")
        low, high = X.min(axis=0), X.max(axis=0)
        span = high - low
        used = span > 0
        cells_wanted = max(1.0, n / points_per_cell)
        if used.any():
            width = (np.prod(span[used]) / cells_wanted) ** (1.0 / used.sum())
        else:
            width = 1.0
        shape = np.ones(3, dtype=np.int64)
        shape[:d] = np.where(used, np.clip(np.ceil(span / width), 1, 2**20), 1)
        self.low = np.zeros(3)
        self.low[:d] = low
        self.inverse_width = np.ones(3)
        self.inverse_width[:d] = np.where(used, shape[:d] / np.where(used, span, 1.0), 1.0)
        self.shape = shape
        self.points = np.zeros((n, 3))
        self.points[:, :d] = X
        cell = _cells_of(self.points, self.low, self.inverse_width, self.shape)
        self.order, self.starts = _counting_sort(cell, int(np.prod(shape)))
        self.points = np.ascontiguousarray(self.points[self.order])
        self.n_features = d


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _cell_coordinate(value, low, inverse_width, cells):
    """The cell of a coordinate, clipped to ``0 .. cells - 1`` (in floating point first, so
    that far queries do not overflow the integer)."""
    c = np.floor((value - low) * inverse_width)
    return int(min(max(c, 0.0), cells - 1.0))


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _cells_of(points, low, inverse_width, shape):
    out = np.empty(points.shape[0], dtype=np.int64)
    for i in range(points.shape[0]):
        cell = 0
        for t in range(3):
            c = _cell_coordinate(points[i, t], low[t], inverse_width[t], shape[t])
            cell = cell * shape[t] + c
        out[i] = cell
    return out


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _counting_sort(cell, n_cells):
    """The stable order of the points by cell, and the start of each cell in it."""
    starts = np.zeros(n_cells + 1, dtype=np.int64)
    for c in cell:
        starts[c + 1] += 1
    for c in range(n_cells):
        starts[c + 1] += starts[c]
    cursor = starts[:-1].copy()
    order = np.empty(cell.shape[0], dtype=np.int64)
    for i in range(cell.shape[0]):
        order[cursor[cell[i]]] = i
        cursor[cell[i]] += 1
    return order, starts


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _scan_cell(points, starts, cell, z, heap, heap_index, filled):
    """Offer the points of ``cell`` (``starts[cell]:starts[cell + 1]``) at squared distances
    from ``z`` to the bounded max-heap ``heap`` (of ``len(heap)`` entries, of which ``filled``
    are set: the first ones are appended, and the heap built once full); returns the new
    ``filled``."""
    size = heap.shape[0]
    z0, z1, z2 = z[0], z[1], z[2]
    for p in range(starts[cell], starts[cell + 1]):
        t = points[p, 0] - z0
        d2 = t * t
        t = points[p, 1] - z1
        d2 = d2 + t * t
        t = points[p, 2] - z2
        d2 = d2 + t * t
        if filled < size:
            heap[filled] = d2
            heap_index[filled] = p
            filled += 1
            if filled == size:
                for parent in range(size // 2 - 1, -1, -1):
                    sift_down(heap, heap_index, parent, size)
        elif d2 < heap[0]:
            heap[0] = d2
            heap_index[0] = p
            sift_down(heap, heap_index, 0, size)
    return filled


# Index of the lowest set bit: _DE_BRUIJN_BITS[((w & -w) * _DE_BRUIJN) >> 58].
_DE_BRUIJN = np.uint64(0x022FDD63CC95386D)
_DE_BRUIJN_BITS = np.zeros(64, dtype=np.int64)
for _bit in range(64):
    _DE_BRUIJN_BITS[((1 << _bit) * 0x022FDD63CC95386D % 2**64) >> 58] = _bit
# Positions spanning at most 64 times this many are sorted through a bitmap (50 positions of
# a 2-D neighbourhood span a few thousand: 1.0 -> 0.3 us, where an insertion sort moves
# about k**2 / 4 entries).
BITMAP_WORDS = 1024


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _sorted_positions(positions, out, bitmap):
    """``out`` = the distinct ``positions`` in ascending order; ``bitmap`` (``BITMAP_WORDS``
    zero words) is left zero."""
    k = positions.shape[0]
    low, high = positions[0], positions[0]
    for i in range(1, k):
        low = min(low, positions[i])
        high = max(high, positions[i])
    words = ((high - low) >> 6) + 1
    if words > bitmap.shape[0]:  # insertion sort
        for i in range(k):
            value = positions[i]
            j = i
            while j > 0 and out[j - 1] > value:
                out[j] = out[j - 1]
                j -= 1
            out[j] = value
        return
    one = np.uint64(1)
    for i in range(k):
        offset = positions[i] - low
        bitmap[offset >> 6] |= one << np.uint64(offset & 63)
    at = 0
    for w in range(words):
        word = bitmap[w]
        if word == 0:
            continue
        bitmap[w] = 0
        base = low + (w << 6)
        while word != 0:
            lowest = word & (~word + one)
            out[at] = base + _DE_BRUIJN_BITS[(lowest * _DE_BRUIJN) >> np.uint64(58)]
            at += 1
            word ^= lowest


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def grid_search(
    Z, low, inverse_width, shape, starts, points, k, max_examined, out, fallback, examined
):
    """For each query ``Z[q]`` (``d <= 3`` columns): ``out[q]`` the positions, ascending, in
    the grid's order (``order[out[q]]`` are the training indices) of its ``k`` nearest points,
    or ``fallback[q] = True`` (``out[q]`` then not meaningful) when the ``k``-th and
    ``(k + 1)``-th distances are within ``TIE_RTOL``, or when more than ``max_examined`` points
    were examined before the set was certain (a query far from the data or in a crowded cell,
    where the tree does less work). ``examined[q]``: the points whose distance was computed.
    Needs ``k < len(points)``."""
    n_queries, d = Z.shape
    size = k + 1
    heap = np.empty(size)
    heap_index = np.empty(size, dtype=np.int64)
    z = np.zeros(3)
    center = np.empty(3, dtype=np.int64)
    width = np.empty(3)
    for t in range(3):
        width[t] = 1.0 / inverse_width[t]
    s1, s2 = shape[1] * shape[2], shape[2]
    bitmap = np.zeros(BITMAP_WORDS, dtype=np.uint64)
    for q in range(n_queries):
        for t in range(d):
            z[t] = Z[q, t]
        for t in range(3):
            center[t] = _cell_coordinate(z[t], low[t], inverse_width[t], shape[t])
        count = 0
        filled = 0
        r = 0
        while True:
            # Ring r: the cells of the block [center - r, center + r] (clipped to the grid)
            # whose Chebyshev distance to the center is r.
            lo0, hi0 = max(center[0] - r, 0), min(center[0] + r, shape[0] - 1)
            lo1, hi1 = max(center[1] - r, 0), min(center[1] + r, shape[1] - 1)
            lo2, hi2 = max(center[2] - r, 0), min(center[2] + r, shape[2] - 1)
            for c0 in range(lo0, hi0 + 1):
                edge0 = abs(c0 - center[0]) == r
                for c1 in range(lo1, hi1 + 1):
                    edge1 = edge0 or abs(c1 - center[1]) == r
                    base = c0 * s1 + c1 * s2
                    if edge1:
                        for c2 in range(lo2, hi2 + 1):
                            cell = base + c2
                            count += starts[cell + 1] - starts[cell]
                            filled = _scan_cell(points, starts, cell, z, heap, heap_index, filled)
                    else:  # only the two end cells of this row are on the ring (r > 0)
                        for c2 in (center[2] - r, center[2] + r):
                            if 0 <= c2 < shape[2]:
                                cell = base + c2
                                count += starts[cell + 1] - starts[cell]
                                filled = _scan_cell(
                                    points, starts, cell, z, heap, heap_index, filled
                                )
            # Every unvisited point is outside the block: at least `bound` from z.
            bound = np.inf
            for t in range(3):
                if center[t] - r > 0:
                    bound = min(bound, z[t] - (low[t] + (center[t] - r) * width[t]))
                if center[t] + r < shape[t] - 1:
                    bound = min(bound, low[t] + (center[t] + r + 1) * width[t] - z[t])
            certain = bound == np.inf  # the block covers the grid
            if filled == size and bound > 0 and heap[0] <= bound * bound * (1 - 1e-6):
                certain = True
            if certain or count > max_examined:
                break
            r += 1
        examined[q] = count
        if not certain:
            fallback[q] = True
            continue
        # The root is the (k + 1)-th smallest; the k-th is the larger of its children.
        kth = heap[1]
        if size > 2 and heap[2] > kth:
            kth = heap[2]
        fallback[q] = not heap[0] > kth * (1 + TIE_RTOL)
        _sorted_positions(heap_index[1:], out[q], bitmap)
