"""Full Delaunay triangulation (Qhull through :class:`scipy.spatial.Delaunay`) for low dimension.

The triangulation is built once at fit and kept as plain arrays (``simplices``, ``neighbors``,
``transform`` and the hull vertices), so that a fitted estimator pickles without scipy objects.
Qhull is called with one BLAS thread: its first call with two OpenBLAS threads can be orders of
magnitude slower (scipy issue gh-23854).
"""

import numpy as np
from skinterp._parallel import single_threaded_blas

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


def delaunay_arrays(points):
    """Delaunay triangulation of ``points`` ``(n, r)``, ``r >= 2``, as plain arrays.

    Returns ``simplices`` (int32), ``neighbors`` (int32), ``transform`` (float64) and
    ``hull_vertices`` (int64, the points on the boundary of the convex hull). Raises
    :class:`TriangulationError` (a ``ValueError``) when Qhull fails.
    """
    from scipy.spatial import Delaunay, QhullError

    with single_threaded_blas():
        try:
            tri = Delaunay(points)
        except QhullError as error:
            raise TriangulationError(str(error).splitlines()[0]) from error
        transform = np.ascontiguousarray(tri.transform, dtype=np.float64)
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
its squared circumradius are co-spherical with it (one Delaunay cell)."""


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
    faces = np.sort(np.stack([np.delete(simplices, k, axis=1) for k in range(r1)], axis=1),
                    axis=2).reshape(n * r1, r1 - 1)
    order = np.lexsort(faces.T[::-1])
    ordered = faces[order]
    same = np.all(ordered[1:] == ordered[:-1], axis=1)
    first, second = order[:-1][same], order[1:][same]
    neighbors = np.full(n * r1, -1, dtype=np.int32)
    neighbors[first] = second // r1
    neighbors[second] = first // r1
    return neighbors.reshape(n, r1)


def _tied_cells(points, simplices, neighbors, transform):
    """The Delaunay cells of Qhull's triangulation: groups of its solid simplices on one sphere.

    Two solid (non-flat) simplices belong to one cell when they are adjacent, or both adjacent
    to one connected set of flat simplices (Qhull's triangulated output holds zero-volume
    simplices inside a cell and on the faces between cells), and the vertices of one lie on the
    circumsphere of the other (lifted residual at most ``TIE_RTOL`` times the squared
    circumradius). Returns ``(n_groups, labels, flat, flat_labels, a, radius2)``: the
    components (a flat simplex is its own component), the flat mask, the flat components, and
    the lifted hyperplanes ``a . (x - o)`` (``o`` the last vertex; circumcentre ``o + a / 2``)
    and squared circumradii of the simplices.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n, r1 = simplices.shape
    r = r1 - 1
    flat = ~np.all(np.isfinite(transform.reshape(n, -1)), axis=1)
    T = np.where(flat[:, None, None], 0.0, transform[:, :r])
    origin = np.where(flat[:, None], 0.0, transform[:, r])
    # lifted heights |x - o|^2 relative to the simplex' last vertex o: the lifted hyperplane is
    # a . (x - o) with a = T^T h
    h = np.sum((points[simplices[:, :r]] - points[simplices[:, r]][:, None, :]) ** 2, axis=2)
    a = np.einsum("skt,sk->st", T, h)
    radius2 = 0.25 * np.einsum("st,st->s", a, a)

    def on_sphere(s, vertices):
        d = points[vertices] - origin[s][..., None, :]
        residual = np.sum(d * d, axis=-1) - np.einsum("...vt,...t->...v", d, a[s])
        return np.all(np.abs(residual) <= TIE_RTOL * radius2[s][..., None], axis=-1)

    rows, cols, flat_rows, flat_cols = [], [], [], []
    for k in range(r1):
        s = np.flatnonzero(neighbors[:, k] >= 0)
        t = neighbors[s, k].astype(np.int64)
        both_flat = flat[s] & flat[t]
        flat_rows.append(s[both_flat])
        flat_cols.append(t[both_flat])
        solid = ~flat[s] & ~flat[t]
        s, t = s[solid], t[solid]
        tied = on_sphere(s, simplices[t])
        rows.append(s[tied])
        cols.append(t[tied])
    n_flat_groups, flat_labels = 0, np.full(n, -1, dtype=np.int64)
    if flat.any():
        fr, fc = np.concatenate(flat_rows), np.concatenate(flat_cols)
        graph = coo_matrix((np.ones(fr.size), (fr, fc)), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        flat_labels[flat] = np.unique(labels[flat], return_inverse=True)[1].reshape(-1)
        n_flat_groups = int(flat_labels.max()) + 1
        # the solid simplices around each flat component, clustered by sphere
        s = np.repeat(np.flatnonzero(flat), r1)
        t = neighbors[flat].reshape(-1).astype(np.int64)
        keep = t >= 0
        s, t = s[keep], t[keep]
        keep = ~flat[t]
        pairs = np.unique(np.column_stack([flat_labels[s[keep]], t[keep]]), axis=0)
        bounds = np.searchsorted(pairs[:, 0], np.arange(n_flat_groups + 1))
        for g in range(n_flat_groups):
            around = pairs[bounds[g] : bounds[g + 1], 1]
            for i in range(around.size - 1):
                tied = on_sphere(np.full(around.size - i - 1, around[i]),
                                 simplices[around[i + 1 :]])
                rows.append(np.full(int(tied.sum()), around[i]))
                cols.append(around[i + 1 :][tied])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    n_groups, labels = connected_components(graph, directed=False)
    return n_groups, labels, flat, flat_labels, a, radius2


def _regular_triangulation(points, heights):
    """Simplices (indices into ``points``) of the lower hull of ``(points, heights)``."""
    from scipy.spatial import ConvexHull

    centred = points - points.mean(axis=0)
    centred /= np.abs(centred).max()
    hull = ConvexHull(np.column_stack([centred, heights]))
    lower = hull.equations[:, -2] < -1e-12
    return hull.simplices[lower]


def break_ties(points, simplices, neighbors, transform, heights):
    """Qhull's triangulation with every co-spherical cell re-triangulated canonically.

    Qhull triangulates a cell of more than ``r + 1`` co-spherical points (a square of a grid)
    in a way that depends on the order of the input, with zero-volume simplices among them.
    Each such cell is replaced by the regular triangulation of its points with the
    tie-breaking ``heights`` (:func:`tie_heights`): the limit of the Delaunay triangulation of
    the lifting ``||x||^2 + epsilon * heights``, which is what the lifted program's second
    stage computes one query at a time. Flat simplices go when every cell around them was
    re-triangulated. A cell whose points are not co-spherical after all (chained near-ties) or
    whose re-triangulation does not cover it exactly is left as Qhull made it. Returns
    ``(simplices, neighbors, transform)``; the inputs when no cell has more than ``r + 1``
    points.
    """
    n, r1 = simplices.shape
    r = r1 - 1
    n_groups, labels, flat, flat_labels, a, radius2 = _tied_cells(
        points, simplices, neighbors, transform
    )
    solid_labels = labels[~flat]
    sizes = np.bincount(solid_labels, minlength=n_groups)
    if not np.any(sizes > 1):
        return simplices, neighbors, transform
    order = np.flatnonzero(~flat)[np.argsort(solid_labels, kind="stable")]
    starts = np.r_[0, np.cumsum(sizes)]
    replaced = np.zeros(n, dtype=bool)
    new = []
    # |det T| is 1 / (r! * volume)
    inverse_volume = np.where(flat, np.inf, np.abs(np.linalg.det(
        np.where(flat[:, None, None], 1.0, transform[:, :r]))))
    for cell in np.flatnonzero(sizes > 1):
        members = order[starts[cell] : starts[cell + 1]]
        vertices = np.unique(simplices[members])
        s = members[0]
        d = points[vertices] - transform[s, r]
        residual = np.einsum("vt,vt->v", d, d) - d @ a[s]
        if np.any(np.abs(residual) > 10 * TIE_RTOL * radius2[s]):
            continue  # near-ties chained into a cell that is not co-spherical: keep Qhull's
        try:
            local = vertices[_regular_triangulation(points[vertices], heights[vertices])]
        except Exception:  # Qhull failed on the cell: keep its triangulation  # noqa: BLE001
            continue
        local_transform = simplex_transforms(points, local)
        if not np.all(np.isfinite(local_transform)):
            continue
        old_total = np.sum(1.0 / inverse_volume[members])
        new_total = np.sum(1.0 / np.abs(np.linalg.det(local_transform[:, :r])))
        if abs(new_total - old_total) > 1e-9 * old_total:
            continue
        replaced[members] = True
        new.append(local)
    if not new:
        return simplices, neighbors, transform
    if flat.any():
        # a flat component goes when every solid simplex around it was replaced
        around = neighbors[flat].astype(np.int64)
        kept_solid = (around >= 0) & ~replaced[np.maximum(around, 0)] & ~flat[np.maximum(around, 0)]
        blocked = np.zeros(int(flat_labels.max()) + 1, dtype=bool)
        blocked[flat_labels[flat][kept_solid.any(axis=1)]] = True
        replaced[np.flatnonzero(flat)[~blocked[flat_labels[flat]]]] = True
    keep = ~replaced
    simplices = np.ascontiguousarray(
        np.concatenate([simplices[keep]] + new).astype(np.int32)
    )
    transform = np.ascontiguousarray(
        np.concatenate([transform[keep]] + [simplex_transforms(points, s) for s in new])
    )
    return simplices, simplex_neighbors(simplices), transform
