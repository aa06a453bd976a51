"""Full Delaunay triangulation (Qhull through :class:`scipy.spatial.Delaunay`) for low dimension.

The triangulation is built once at fit and kept as plain arrays (``simplices``, ``neighbors``,
``transform`` and the hull vertices), so that a fitted estimator pickles without scipy objects.
Qhull is called with one BLAS thread: its first call with two OpenBLAS threads can be orders of
magnitude slower (scipy issue gh-23854).

Ctrl-C: scipy releases the GIL while Qhull runs (measured: the main thread keeps running during a
4-11 s triangulation, longest pause 0.45 s), so Qhull runs in a worker thread and the caller
waits for it in short slices, where ``KeyboardInterrupt`` reaches it; an abandoned Qhull call
finishes in the background and its result is dropped.
"""

import numpy as np

from skinterp._parallel import interruptible, small_dense_blas
from skinterp._progress import progress

# Average number of Delaunay simplices per point for uniform random points (measured with Qhull,
# n = 2000); it grows about five-fold per dimension. Used to predict the size of a triangulation.
SIMPLICES_PER_POINT = {1: 1.0, 2: 2.0, 3: 6.5, 4: 27.5, 5: 135.0, 6: 750.0, 7: 4500.0}


def predicted_n_simplices(n_points, dim):
    """Predicted number of simplices of the Delaunay triangulation of ``n_points`` in ``dim``."""
    per_point = SIMPLICES_PER_POINT.get(dim, 4500.0 * 6.0 ** (dim - 7))
    return per_point * n_points


def predicted_bytes(n_points, dim):
    """Predicted memory of the fitted arrays (simplices, neighbours, transform) in bytes."""
    per_simplex = 2 * 4 * (dim + 1) + 8 * (dim + 1) * dim
    return predicted_n_simplices(n_points, dim) * per_simplex


class TriangulationError(ValueError):
    """Qhull could not triangulate the points (degenerate to working precision)."""


def _qhull_delaunay(points):
    """scipy's Delaunay triangulation and its barycentric transforms, with one BLAS thread."""
    from scipy.spatial import Delaunay

    with small_dense_blas(points.shape[1]):  # many tiny solves for the transforms
        tri = Delaunay(points)
        return tri, np.ascontiguousarray(tri.transform, dtype=np.float64)


def delaunay_arrays(points):
    """Delaunay triangulation of ``points`` ``(n, r)``, ``r >= 2``, as plain arrays.

    Returns ``simplices`` (int32), ``neighbors`` (int32), ``transform`` (float64) and
    ``hull_vertices`` (int64, the points on the boundary of the convex hull). Raises
    :class:`TriangulationError` (a ``ValueError``) when Qhull fails.
    """
    from scipy.spatial import QhullError

    try:
        tri, transform = interruptible(_qhull_delaunay, points)
    except QhullError as error:
        raise TriangulationError(str(error).splitlines()[0]) from error
    simplices = np.ascontiguousarray(tri.simplices, dtype=np.int32)
    neighbors = np.ascontiguousarray(tri.neighbors, dtype=np.int32)
    hull_vertices = np.unique(tri.convex_hull).astype(np.int64)
    if simplices.shape[0] == 0:
        raise TriangulationError("Qhull returned no simplex.")
    return simplices, neighbors, transform, hull_vertices


# --------------------------------------------------------------------------------------------
# Co-spherical points: one canonical tie-break, shared with the lifted program
# --------------------------------------------------------------------------------------------
TIE_RTOL = 1e-9
"""Points whose lifted residual to a simplex' lifted hyperplane is at most ``TIE_RTOL`` times
its squared circumradius are co-spherical with it (one Delaunay cell). The numba kernels of
``_lifted`` freeze it at compilation: after changing it, delete ``_lifted``'s numba cache."""


def tie_heights(points):
    """Canonical tie-breaking heights in ``[0, 1)``, one per point.

    A hash (splitmix64) of each point's rank in the lexicographic order of the points: it
    depends only on the set of points (not on the order of the rows; not on a translation or a
    positive scaling of exact data such as a grid), and it is far from affine on any cell, so
    the regular triangulation of a cell's points with these heights is a triangulation that
    uses every point.
    """
    n = points.shape[0]
    rank = np.empty(n, dtype=np.uint64)
    order = np.lexsort(points.T[::-1]) if points.shape[1] else np.arange(n)
    rank[order] = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = rank + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def simplex_transforms(points, simplices):
    """Barycentric transforms of ``simplices`` as :attr:`scipy.spatial.Delaunay.transform`."""
    r = points.shape[1]
    P = points[simplices]  # (n, r + 1, r)
    origin = P[:, r]
    A = np.transpose(P[:, :r] - origin[:, None, :], (0, 2, 1))  # columns x_k - x_r
    transform = np.empty((simplices.shape[0], r + 1, r))
    transform[:, :r] = np.linalg.inv(A)
    transform[:, r] = origin
    return np.ascontiguousarray(transform)


def simplex_neighbors(simplices):
    """The simplex opposite each vertex (``-1`` on the hull), by matching shared faces."""
    n, r1 = simplices.shape
    faces = np.sort(
        np.stack([np.delete(simplices, k, axis=1) for k in range(r1)], axis=1), axis=2
    ).reshape(n * r1, r1 - 1)
    order = np.lexsort(faces.T[::-1])
    ordered = faces[order]
    same = np.all(ordered[1:] == ordered[:-1], axis=1)
    first, second = order[:-1][same], order[1:][same]
    neighbors = np.full(n * r1, -1, dtype=np.int32)
    neighbors[first] = second // r1
    neighbors[second] = first // r1
    return neighbors.reshape(n, r1)


# Circumcentres are compared on a grid of this spacing (the data have unit radius): two solid
# simplices whose centres fall in one cell of it are candidates for one Delaunay cell, then
# verified to TIE_RTOL.
_CENTRE_RESOLUTION = 2.0**-24


def _spheres(points, simplices, transform):
    """Flat mask, lifted hyperplanes and circumspheres of the simplices.

    With heights ``|x - o|^2`` relative to the simplex' last vertex ``o``, the lifted hyperplane
    is ``a . (x - o)`` with ``a = T^T h``; the circumcentre is ``o + a / 2``, the squared
    circumradius ``|a|^2 / 4``. Flat simplices (NaN transforms: Qhull's triangulated output
    holds zero-volume simplices inside and between co-spherical cells) get zeros.
    """
    n, r1 = simplices.shape
    r = r1 - 1
    flat = ~np.all(np.isfinite(transform.reshape(n, -1)), axis=1)
    T = np.where(flat[:, None, None], 0.0, transform[:, :r])
    origin = np.where(flat[:, None], 0.0, transform[:, r])
    h = np.sum((points[simplices[:, :r]] - points[simplices[:, r]][:, None, :]) ** 2, axis=2)
    a = np.einsum("skt,sk->st", T, h)
    return flat, origin, a, 0.25 * np.einsum("st,st->s", a, a)


def _candidate_cells(flat, origin, a):
    """Labels grouping solid simplices by circumcentre (flat ones: -1), and the group count.

    Distinct Delaunay cells have distinct empty circumspheres, and concentric empty spheres
    cannot differ, so simplices of one cell share their circumcentre (to rounding) and
    simplices of different cells do not (unless nearly co-spherical: verified later).
    """
    centre = origin + 0.5 * a
    far = ~np.all(np.abs(centre) < 1e6, axis=1) | flat  # slivers' centres: never tied
    keys = np.floor(np.where(far[:, None], 0.0, centre) / _CENTRE_RESOLUTION + 0.3819660112501051)
    words = np.column_stack([keys.astype(np.int64), np.where(far, np.arange(flat.size), -1)])
    order = np.lexsort(words.T)
    ordered = words[order]
    new_group = np.r_[True, np.any(ordered[1:] != ordered[:-1], axis=1)]
    labels = np.empty(flat.size, dtype=np.int64)
    labels[order] = np.cumsum(new_group) - 1
    labels[flat] = -1
    return labels


def _regular_triangulation(points, heights):
    """Simplices (indices into ``points``) of the lower hull of ``(points, heights)``."""
    from scipy.spatial import ConvexHull

    centred = points - points.mean(axis=0)
    centred /= np.abs(centred).max()
    hull = ConvexHull(np.column_stack([centred, heights]))
    lower = hull.equations[:, -2] < -1e-12
    return hull.simplices[lower]


def _circuit_triangulations(points, cells, heights):
    """Regular triangulations of cells of ``r + 2`` points (rows of ``cells``), vectorised.

    ``r + 2`` points in dimension ``r`` have one affine dependence ``sum mu_i (x_i, 1) = 0``
    (a circuit) and two triangulations: the simplices omitting one point of positive ``mu``,
    or one of negative ``mu``. With heights ``h`` the lower one omits the points whose ``mu``
    has the sign of ``sum mu_i h_i``. Returns ``(simplices, cell_of_simplex)``.
    """
    n_cells, k = cells.shape
    M = np.concatenate([np.transpose(points[cells], (0, 2, 1)), np.ones((n_cells, 1, k))], 1)
    mu = np.linalg.svd(M)[2][:, -1]  # (n_cells, r + 2): the null vector
    mu[np.abs(mu) <= 1e-9 * np.abs(mu).max(axis=1, keepdims=True)] = 0.0
    sign = np.sign(np.einsum("ck,ck->c", mu, heights[cells]))
    omit = mu * sign[:, None] > 0
    simplices, owners = [], []
    for i in range(k):
        rows = np.flatnonzero(omit[:, i])
        simplices.append(np.delete(cells[rows], i, axis=1))
        owners.append(rows)
    return np.concatenate(simplices), np.concatenate(owners)


def break_ties(points, simplices, neighbors, transform, heights, verbose=0):
    """Qhull's triangulation with every co-spherical cell re-triangulated canonically.

    Qhull triangulates a cell of more than ``r + 1`` co-spherical points (a square of a grid)
    in a way that depends on the order of the input, with zero-volume simplices among them.
    Each such cell is replaced by the regular triangulation of its points with the
    tie-breaking ``heights`` (:func:`tie_heights`): the limit of the Delaunay triangulation of
    the lifting ``||x||^2 + epsilon * heights``, which is what the lifted program's second
    stage computes one query at a time. Cells of ``r + 2`` points (a rectangle in the plane)
    are re-triangulated together (:func:`_circuit_triangulations`), larger ones one by one by
    Qhull (a cube of a 3-D grid: about 0.2 ms each). Flat simplices go when every solid
    simplex around them was replaced. A cell whose points are not co-spherical after all
    (chained near-ties) or whose re-triangulation does not cover it exactly is left as Qhull
    made it. Returns ``(simplices, neighbors, transform)``; the inputs when no cell has more
    than ``r + 1`` points.
    """
    n, r1 = simplices.shape
    r = r1 - 1
    flat, origin, a, radius2 = _spheres(points, simplices, transform)
    labels = _candidate_cells(flat, origin, a)
    solid = np.flatnonzero(~flat)
    sizes = np.bincount(labels[solid], minlength=int(labels.max()) + 1)
    members = solid[sizes[labels[solid]] > 1]
    if members.size == 0:
        return simplices, neighbors, transform
    # the cells: their solid members, a representative sphere, their distinct vertices
    cell_ids, member_cell = np.unique(labels[members], return_inverse=True)
    member_cell = member_cell.reshape(-1)
    n_cells = cell_ids.size
    representative = np.full(n_cells, n, dtype=np.int64)
    np.minimum.at(representative, member_cell, members)
    entries = np.unique(
        np.column_stack([np.repeat(member_cell, r1), simplices[members].reshape(-1)]), axis=0
    )
    entry_cell, entry_vertex = entries[:, 0], entries[:, 1]
    s = representative[entry_cell]
    d = points[entry_vertex] - origin[s]
    residual = np.einsum("et,et->e", d, d) - np.einsum("et,et->e", a[s], d)
    off = np.abs(residual) > 10 * TIE_RTOL * radius2[s]
    cospherical = np.bincount(entry_cell[off], minlength=n_cells) == 0
    n_vertices = np.bincount(entry_cell, minlength=n_cells)
    bounds = np.r_[0, np.cumsum(n_vertices)]
    new, owners = [], []
    circuits = np.flatnonzero(cospherical & (n_vertices == r + 2))
    if circuits.size:
        cells = entry_vertex[bounds[circuits][:, None] + np.arange(r + 2)]
        local, owner = _circuit_triangulations(points, cells, heights)
        new.append(local)
        owners.append(circuits[owner])
    large = np.flatnonzero(cospherical & (n_vertices > r + 2))
    for cell in progress(
        large,
        "simplicial: co-spherical cells re-triangulated",
        verbose=verbose and large.size > 1000,
        min_interval=1.0,
    ):
        vertices = entry_vertex[bounds[cell] : bounds[cell + 1]]
        try:
            local = vertices[_regular_triangulation(points[vertices], heights[vertices])]
        except Exception:  # Qhull failed on the cell: keep its triangulation  # noqa: BLE001
            continue
        new.append(local)
        owners.append(np.full(local.shape[0], cell))
    if not new:
        return simplices, neighbors, transform
    new, owners = np.concatenate(new), np.concatenate(owners)
    new_transform = simplex_transforms(points, new)
    # a re-triangulation must cover its cell exactly: the same total volume, no flat simplex
    valid = np.all(np.isfinite(new_transform.reshape(new.shape[0], -1)), axis=1)
    with np.errstate(invalid="ignore"):
        new_volume = np.where(
            valid,
            1.0
            / np.abs(
                np.linalg.det(np.where(valid[:, None, None], new_transform[:, :r], np.eye(r)))
            ),
            0.0,
        )
        old_volume = 1.0 / np.abs(np.linalg.det(transform[members][:, :r]))
    new_total = np.bincount(owners, weights=new_volume, minlength=n_cells)
    old_total = np.bincount(member_cell, weights=old_volume, minlength=n_cells)
    good = np.abs(new_total - old_total) <= 1e-9 * old_total
    good &= np.bincount(owners[~valid], minlength=n_cells) == 0
    good &= np.bincount(owners, minlength=n_cells) > 0
    if not good.any():
        return simplices, neighbors, transform
    replaced = np.zeros(n, dtype=bool)
    replaced[members[good[member_cell]]] = True
    use = good[owners]
    if flat.any():
        # a flat simplex goes when every solid simplex around its flat component was replaced
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        both = flat[:, None] & (neighbors >= 0) & flat[np.maximum(neighbors, 0)]
        rows, cols = np.nonzero(both)
        graph = coo_matrix((np.ones(rows.size), (rows, neighbors[rows, cols])), shape=(n, n))
        component = connected_components(graph, directed=False)[1]
        around = neighbors[flat].astype(np.int64)
        safe = np.maximum(around, 0)
        kept_solid = (around >= 0) & ~flat[safe] & ~replaced[safe]
        blocked = np.zeros(n, dtype=bool)
        blocked[component[flat][kept_solid.any(axis=1)]] = True
        replaced[np.flatnonzero(flat)[~blocked[component[flat]]]] = True
    keep = ~replaced
    simplices = np.ascontiguousarray(np.concatenate([simplices[keep], new[use]]).astype(np.int32))
    transform = np.ascontiguousarray(np.concatenate([transform[keep], new_transform[use]]))
    return simplices, simplex_neighbors(simplices), transform
