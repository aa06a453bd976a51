"""The core of simplicial interpolation: ``fit`` returns a frozen model, ``predict`` reads it.

``fit_simplicial(X, Y, method, memory_limit)`` returns a frozen :class:`SimplicialModel`;
``predict_simplicial(model, X, outside)`` returns the interpolated values and which queries are
outside the convex hull. Underneath, ``locate(model, X, outside, n_jobs)`` gives, for every
query, the training points of the simplex used and their barycentric weights (``vertices``
padded with ``-1``, ``weights``), which :func:`interpolate` combines with the targets.

Geometry of the fitted model
----------------------------
1. Exact duplicate inputs are merged (:func:`skinterp._duplicates.merge_duplicate_points`,
   canonical order), then near-duplicates (closer than ``NEAR_DUPLICATE_RTOL`` times the data's
   radius); their targets are averaged.
2. The unique points are expressed in coordinates of their affine hull (PCA of the centred
   points, rank ``r``), so data in a lower-dimensional affine subspace, and fewer than ``d + 1``
   points, are handled in dimension ``r``. A query is outside the hull when it is off that
   subspace or outside the hull within it; its Euclidean projection onto the hull is the
   projection onto the subspace followed by the projection within it.
3. Dimension 0 (one point): constant. Dimension 1: sorted piecewise-linear interpolation.
   Dimension >= 2: the Delaunay triangulation (``"triangulation"``) or the lifted linear program
   (``"lifted"``).
"""

import sys
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .._base import check_memory, memory_budget_bytes, relative_residual, rows_per_chunk
from .._duplicates import merge_duplicate_points
from .._parallel import run_in_chunks
from . import _hull, _lifted, _triangulation, _walk

# Barycentric tolerance of the walk, as scipy's LinearNDInterpolator (100 machine epsilons).
WALK_EPS = 100 * np.finfo(np.float64).eps
# Relative distance (to the data's radius) beyond which a query is outside the hull.
OUTSIDE_RTOL = 1e-9
# Rank tolerance of the affine hull, relative to the largest singular value.
RANK_RTOL = 1e-10
# Largest dimension for which "auto" considers the full triangulation.
MAX_TRIANGULATION_DIM = 5
# Largest predicted number of simplices for which "auto" builds the full triangulation, per
# dimension. Qhull costs about 10-25 microseconds per simplex in dimension 4-5 (a million
# simplices take some 20 s), while one lifted program costs well under a millisecond there; in
# dimension 2-3 the triangulation is cheap and always wins (within the memory budget).
MAX_AUTO_SIMPLICES = {2: np.inf, 3: np.inf, 4: 1_000_000, 5: 300_000}

# Distinct points closer than this times the data's radius (after centring and scaling) are
# merged as near-duplicates: closer points make Qhull drop one of them (its target is then
# missed) and give the interpolant gradients of |y_i - y_j| / distance.
NEAR_DUPLICATE_RTOL = 1e-8

QUERY_CHUNK = 4096
# Work per chunk of lifted programs or high-dimensional projections, in units of m * r (one
# pass over the points): about 0.3 s on one core, so that Ctrl-C stops a call within ~1 s.
LIFTED_CHUNK_WORK = 1e7
MAX_LIFTED_CHUNK = 256


def lifted_chunk(n_points, rank):
    """Queries per chunk of the lifted program / Wolfe projection (short enough for Ctrl-C)."""
    return int(np.clip(LIFTED_CHUNK_WORK // max(n_points * max(rank, 1), 1), 1, MAX_LIFTED_CHUNK))


def near_duplicate_labels(unit, tol):
    """Groups of points closer than ``tol`` (connected components of the "closer than" graph).

    Returns ``(n_groups, labels)`` with ``labels`` numbered in the order of the points' first
    member, or ``None`` when no two points are that close. Candidate pairs come from sorting
    the points along one fixed direction (two points closer than ``tol`` are closer than
    ``tol`` along it): O(n log n + n d) in any dimension unless many points crowd a slab.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n, d = unit.shape
    if n < 2 or tol <= 0:
        return None
    direction = np.random.default_rng(0).standard_normal(d)
    direction /= np.linalg.norm(direction)
    projected = unit @ direction
    order = np.argsort(projected, kind="stable")
    ordered = projected[order]
    counts = np.searchsorted(ordered, ordered + tol, side="right") - np.arange(n) - 1
    total = int(counts.sum())
    if total == 0:
        return None
    if total > 50 * n:  # a crowded slab: a k-d tree finds the pairs instead
        from scipy.spatial import cKDTree

        pairs = cKDTree(unit).query_pairs(tol, output_type="ndarray")
        first, second = pairs[:, 0], pairs[:, 1]
    else:
        first = np.repeat(np.arange(n), counts)
        offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        second = order[first + 1 + offsets]
        first = order[first]
        close = np.sum((unit[first] - unit[second]) ** 2, axis=1) <= tol * tol
        first, second = first[close], second[close]
    if first.size == 0:
        return None
    graph = coo_matrix((np.ones(first.size), (first, second)), shape=(n, n))
    n_groups, labels = connected_components(graph, directed=False)
    # renumber the groups in the order of their first member (the canonical order)
    _, first_member = np.unique(labels, return_index=True)
    rank = np.empty(n_groups, dtype=np.int64)
    rank[np.argsort(first_member, kind="stable")] = np.arange(n_groups)
    return n_groups, rank[labels]


def merge_points(X, Y, sample_weight=None):
    """Distinct points of ``X`` (exact and near-duplicates merged), their mean targets, and how.

    Exact duplicates are merged by :func:`skinterp._duplicates.merge_duplicate_points`
    (canonical order); then points closer than ``NEAR_DUPLICATE_RTOL`` times the data's radius
    (in the centred, scaled coordinates) are merged into the first of them in that order, their
    targets averaged over the rows they stand for (weighted by ``sample_weight``, frequency
    weights, when given). Returns ``(points, targets, inverse,
    n_near)``: ``points[inverse]`` is the merged point of each row of ``X`` (equal to it for
    exact duplicates), ``n_near`` the number of distinct points merged into another one.
    """
    merged = merge_duplicate_points(X, Y, sample_weight)
    points, targets, inverse = merged.points, merged.targets, merged.inverse
    _, extent, unit = centre_and_scale(points)
    radius = float(np.sqrt(np.max(np.einsum("ij,ij->i", unit, unit)))) if unit.size else 0.0
    groups = near_duplicate_labels(unit, NEAR_DUPLICATE_RTOL * radius)
    if groups is None:
        return points, targets, inverse, 0
    n_groups, labels = groups
    counts = merged.weights  # multiplicities, or the summed sample weights
    summed = np.zeros((n_groups, targets.shape[1]))
    np.add.at(summed, labels, targets * counts[:, None])
    group_counts = np.bincount(labels, weights=counts, minlength=n_groups)
    representative = np.full(n_groups, points.shape[0], dtype=np.int64)
    np.minimum.at(representative, labels, np.arange(points.shape[0]))
    return (
        np.ascontiguousarray(points[representative]),
        summed / group_counts[:, None],
        labels[inverse],
        points.shape[0] - n_groups,
    )


def centre_and_scale(points):
    """``(offset, extent, unit)`` with ``unit = (points - offset) / extent`` in ``[-2, 2]``.

    The offset is the mean of the points, computed as the centre of their bounding box plus the
    mean of the scaled points (no overflow near the largest floats), and the extent the power of
    two just above the largest absolute centred coordinate (1 for a single point), so that data
    at an offset of 1e8 or at a scale of 1e-310 or 1e300 reach the geometry as well-scaled
    numbers: subtracting nearby numbers is exact and dividing by a power of two is exact.
    """
    low, high = points.min(axis=0), points.max(axis=0)
    offset = 0.5 * low + 0.5 * high
    centred = points - offset
    largest = float(np.max(np.abs(centred))) if centred.size else 0.0
    extent = float(np.ldexp(1.0, np.frexp(largest)[1])) if largest > 0 else 1.0
    if not np.isfinite(extent):  # |centred| near the largest float: the next power overflows
        extent = float(np.ldexp(1.0, 1023))
    unit = centred / extent
    # The origin must lie in the affine hull (the SVD finds its directions, the off-hull test
    # measures from it): move it to the mean, computed on the scaled points (no overflow).
    offset = offset + extent * unit.mean(axis=0)
    # The points are reduced by the very operations that reduce_queries applies to a query,
    # so that a training point given to predict lands bit for bit on its vertex.
    return offset, extent, (points - offset) / extent


def choose_method(method, dim, n_points, memory_limit=None):
    """The location method for ``n_points`` in affine dimension ``dim``."""
    if dim == 0:
        return "point"
    if dim == 1:
        return "interval"
    if method != "auto":
        return method
    if dim > MAX_TRIANGULATION_DIM:
        return "lifted"
    n_simplices = _triangulation.predicted_n_simplices(n_points, dim)
    fits = _triangulation.predicted_bytes(n_points, dim) <= memory_budget_bytes(memory_limit)
    small = n_simplices <= MAX_AUTO_SIMPLICES[dim]
    return "triangulation" if (small and fits) else "lifted"


def _affine_frame(unit):
    """Right singular vectors and rank of the centred, scaled points (their affine hull)."""
    n_points, n_features = unit.shape
    if n_points <= 1:
        return np.zeros((0, n_features)), 0
    # Right singular vectors through a QR factorisation first: no n x d matrix U is formed.
    small = unit
    if n_points > n_features:
        small = scipy.linalg.qr(unit, mode="r", check_finite=False)[0][:n_features]
    _, singular, Vt = np.linalg.svd(small, full_matrices=False)
    rank = int(np.sum(singular > RANK_RTOL * singular[0])) if singular[0] > 0 else 0
    return Vt, rank


def _interval_arrays(reduced, targets, heights):
    """Points on a line: sorted along it, the two ends as the hull."""
    order = np.argsort(reduced[:, 0], kind="stable")
    return dict(
        points=np.ascontiguousarray(reduced[order]),
        targets=np.ascontiguousarray(targets[order]),
        hull_vertices=np.array([0, reduced.shape[0] - 1], dtype=np.int64),
        tie_heights=heights[order],
    )


def _triangulation_arrays(reduced, heights, method, memory_limit, verbose):
    """Qhull's triangulation with the co-spherical cells re-triangulated, or None when Qhull
    finds the points degenerate to working precision."""
    n_points, rank = reduced.shape
    expected = _triangulation.predicted_n_simplices(n_points, rank)
    if method == "triangulation":  # "auto" chose it within the budget already
        check_memory(
            _triangulation.predicted_bytes(n_points, rank),
            memory_limit,
            what=(
                f"The Delaunay triangulation of {n_points} points in dimension {rank} "
                f"(about {expected:,.0f} simplices)"
            ),
            advice="Use method='lifted' (no triangulation) or raise memory_limit.",
        )
    if verbose:
        print(
            f"simplicial: Delaunay triangulation of {n_points} points in dimension {rank} "
            f"(Qhull, about {expected:,.0f} simplices)...",
            file=sys.stderr,
            flush=True,
        )
    try:
        simplices, neighbors, transform, hull = _triangulation.delaunay_arrays(reduced)
    except _triangulation.TriangulationError:
        return None
    simplices, neighbors, transform = _triangulation.break_ties(
        reduced, simplices, neighbors, transform, heights, verbose
    )
    return dict(simplices=simplices, neighbors=neighbors, transform=transform, hull_vertices=hull)


@dataclass(frozen=True)
class SimplicialModel:
    """What :func:`fit_simplicial` returns and :func:`locate` reads; the estimators copy every
    field to the attribute of the same name with a trailing underscore (documented there)."""

    method: str
    affine_dim: int
    n_samples_fit: int
    n_points_fit: int
    points: np.ndarray
    targets: np.ndarray
    affine_offset: np.ndarray
    affine_basis: np.ndarray
    affine_extent: float
    affine_subspace: np.ndarray
    data_radius: float
    simplices: np.ndarray
    neighbors: np.ndarray
    transform: np.ndarray
    hull_vertices: np.ndarray
    tie_heights: np.ndarray
    n_near_duplicates: int
    train_residual: float


def fit_simplicial(X, Y, method="auto", memory_limit=None, verbose=0, *, sample_weight=None):
    """The core's fit: a :class:`SimplicialModel` of ``Y`` (n, n_outputs) at ``X`` (n, d).

    The steps: merge (near-)duplicates; centre and scale; the affine hull (rank ``r``); the
    points in its coordinates; then per method the interval's order or the triangulation.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n_features = X.shape[1]
    points, targets, inverse, n_near = merge_points(X, Y, sample_weight)
    offset, extent, unit = centre_and_scale(points)
    Vt, rank = _affine_frame(unit)
    unit_radius = float(np.sqrt(np.max(np.einsum("ij,ij->i", unit, unit))))
    unit_radius = unit_radius if unit_radius > 0 else 1.0
    # Every method works in centred coordinates scaled to unit radius: the interpolant is
    # affine-equivariant, and so is its floating-point evaluation (Qhull, the walk and the
    # lifted program never see an offset of 1e8 or a scale of 1e-300).
    subspace = np.eye(n_features) if rank == n_features else Vt[:rank]
    basis = np.ascontiguousarray(subspace / unit_radius)
    reduced = np.ascontiguousarray(unit @ basis.T)
    empty_int = np.zeros((0, rank + 1), dtype=np.int32)
    fields = dict(
        method=choose_method(method, rank, points.shape[0], memory_limit),
        affine_dim=rank,
        n_samples_fit=X.shape[0],
        n_points_fit=points.shape[0],
        points=reduced,
        targets=targets,
        affine_offset=offset,
        affine_basis=basis,
        affine_extent=extent,
        affine_subspace=np.ascontiguousarray(subspace),
        data_radius=unit_radius * extent,
        simplices=empty_int,
        neighbors=empty_int,
        transform=np.zeros((0, rank + 1, rank)),
        hull_vertices=np.arange(reduced.shape[0], dtype=np.int64),
        tie_heights=_triangulation.tie_heights(reduced),
        n_near_duplicates=n_near,
        train_residual=relative_residual(targets[inverse], Y),
    )
    if fields["method"] == "interval":
        fields.update(_interval_arrays(reduced, targets, fields["tie_heights"]))
    elif fields["method"] == "triangulation":
        arrays = _triangulation_arrays(
            reduced, fields["tie_heights"], method, memory_limit, verbose
        )
        if arrays is None:
            # Degenerate to working precision for Qhull: the lifted program needs no
            # triangulation and handles such data exactly.
            fields["method"] = "lifted"
        else:
            fields.update(arrays)
    return SimplicialModel(**fields)


def reduce_queries(model, X):
    """Reduced coordinates of queries and whether each is off the affine hull of the data."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    centred = (X - model.affine_offset) / model.affine_extent
    Z = np.ascontiguousarray(centred @ model.affine_basis.T)
    if model.affine_dim == model.affine_offset.shape[0]:
        off_hull = np.zeros(X.shape[0], dtype=bool)
    else:
        residual = centred - (centred @ model.affine_subspace.T) @ model.affine_subspace
        distance = np.sqrt(np.einsum("ij,ij->i", residual, residual))
        off_hull = distance > OUTSIDE_RTOL * (model.data_radius / model.affine_extent)
    return Z, off_hull


def _empty_result(n, width):
    return np.full((n, width), -1, dtype=np.int64), np.zeros((n, width))


def _nearest(points, Z):
    from sklearn.metrics import pairwise_distances_argmin

    if Z.shape[0] == 0 or points.shape[1] == 0:  # no query, or a single distinct point
        return np.zeros(Z.shape[0], dtype=np.int64)
    return pairwise_distances_argmin(Z, points).astype(np.int64)


def _project(points, Z, candidates, n_jobs, verbose=0):
    """Wolfe projection of every row of ``Z`` onto ``conv(points[candidates])``."""
    n, r = Z.shape
    supports = np.full((n, r + 2), -1, dtype=np.int64)
    weights = np.zeros((n, r + 2))
    distance2 = np.zeros(n)
    certified = np.zeros(n, dtype=bool)

    def work(start, stop):
        _hull.project_batch(
            points,
            Z[start:stop],
            candidates,
            4 * (r + 1),
            1e-12,
            supports[start:stop],
            weights[start:stop],
            distance2[start:stop],
            certified[start:stop],
        )

    chunk = lifted_chunk(candidates.size, r) if r > 10 else QUERY_CHUNK
    run_in_chunks(
        work,
        n,
        chunk,
        n_jobs,
        verbose=verbose,
        description="simplicial: projections onto the hull",
    )
    for i in np.flatnonzero(~certified):
        # Rounding stalled Wolfe's algorithm: the slow active-set (nnls) solver instead.
        keep, lam = _projection_reference(points[candidates], Z[i])
        supports[i] = -1
        weights[i] = 0.0
        k = min(keep.size, r + 2)
        supports[i, :k] = candidates[keep[:k]]
        weights[i, :k] = lam[:k]
        projected = lam @ points[candidates[keep]]
        distance2[i] = float(np.sum((projected - Z[i]) ** 2))
    return supports, weights, distance2


def _projection_reference(points, q):
    """Projection of ``q`` onto ``conv(points)`` by non-negative least squares with the
    sum-to-one row weighted heavily (Lawson-Hanson active set); returns support and weights."""
    from scipy.optimize import nnls

    weight = 1e6 * max(1.0, float(np.abs(points).max()), float(np.abs(q).max()))
    A = np.vstack([points.T, np.full((1, points.shape[0]), weight)])
    b = np.append(q, weight)
    lam = nnls(A, b, maxiter=50 * points.shape[0])[0]
    keep = np.flatnonzero(lam > 1e-12)
    return keep, lam[keep] / lam[keep].sum()


# --------------------------------------------------------------------------------------------
# Location per method. Each returns (vertices, weights, outside) for reduced queries Z, where
# rows of outside queries hold the projection's simplex (weights used only for "project").
# --------------------------------------------------------------------------------------------
def _locate_point(model, Z):
    n = Z.shape[0]
    vertices, weights = _empty_result(n, 1)
    vertices[:, 0] = 0
    weights[:, 0] = 1.0
    return vertices, weights, np.zeros(n, dtype=bool)


def _locate_interval(model, Z):
    t = model.points[:, 0]
    z = Z[:, 0]
    # Interval coordinates are centred and scaled to unit radius.
    outside = (z < t[0] - OUTSIDE_RTOL) | (z > t[-1] + OUTSIDE_RTOL)
    clipped = np.clip(z, t[0], t[-1])
    left = np.clip(np.searchsorted(t, clipped, side="right") - 1, 0, t.shape[0] - 2)
    right = left + 1
    fraction = (clipped - t[left]) / (t[right] - t[left])
    vertices = np.stack([left, right], axis=1).astype(np.int64)
    weights = np.stack([1.0 - fraction, fraction], axis=1)
    return vertices, weights, outside


def _spatial_order(Z, low, high, n_cells_hint, n_jobs):
    """A permutation of the rows of ``Z`` along a Morton curve (counting sort on coarse codes)."""
    n, r = Z.shape
    total_bits = int(np.clip(np.ceil(np.log2(max(n_cells_hint, 2))) + 2, r, 24))
    bits = max(1, min(21, total_bits // r))
    codes = np.empty(n, dtype=np.int64)

    def work(start, stop):
        _walk.morton_codes(Z[start:stop], low, high, bits, codes[start:stop])

    run_in_chunks(work, n, 65536, n_jobs)
    return _walk.counting_order(codes, 1 << (bits * r))


def _walk_all(model, Z, eps, n_jobs, verbose=0):
    """Walk every query (in Morton order) and resolve the walk's failures by brute force.

    Returns ``located`` (simplex or ``-1`` outside), ``weights`` and ``vertices`` (``-1`` rows
    outside), in the order of ``Z``.
    """
    n, r = Z.shape
    points = model.points
    simplices, neighbors, transform = model.simplices, model.neighbors, model.transform
    n_simplices = simplices.shape[0]
    order = _spatial_order(Z, points.min(axis=0), points.max(axis=0), max(n, n_simplices), n_jobs)
    located = np.empty(n, dtype=np.int64)
    weights = np.empty((n, r + 1))
    vertices = np.empty((n, r + 1), dtype=np.int64)
    max_steps = max(1000, 50 * int(round(n_simplices ** (1.0 / r))))

    def work(start, stop):
        _walk.walk_locate(
            Z,
            order[start:stop],
            simplices,
            neighbors,
            transform,
            0,
            eps,
            max_steps,
            located,
            weights,
            vertices,
        )

    run_in_chunks(
        work,
        n,
        max(QUERY_CHUNK, -(-n // 8)),
        n_jobs,
        verbose=verbose,
        description="simplicial: walk",
    )
    for i in np.flatnonzero(located == _walk.UNRESOLVED):
        s = _walk.bruteforce_locate(Z[i], transform, eps)
        if s < 0:
            s = _walk.bruteforce_locate(Z[i], transform, np.sqrt(np.finfo(float).eps))
        located[i] = s
        if s >= 0:
            _walk.simplex_weights(Z[i : i + 1], located[i : i + 1], transform, weights[i : i + 1])
            vertices[i] = simplices[s]
    return located, weights, vertices


def _snap_to_vertices(points, Z, vertices, weights, rows):
    """Queries equal to a vertex of their simplex (bit for bit) get the weight 1 on it.

    The barycentric transform gives a vertex its weight only to rounding: with the data at an
    offset of 2**19 from the origin, a training point came back 4e-8 of the targets' range
    from its target (hypothesis found it). A query that is a training point (the reduction of
    equal inputs is bitwise equal when the data are full-rank) now returns its target exactly.
    """
    if rows.size == 0:
        return
    # Only the vertex of largest weight can be the query (its weight is 1 to rounding).
    heaviest = np.argmax(weights[rows], axis=1)
    candidate = vertices[rows, heaviest]
    hit = (points[candidate] == Z[rows]).all(axis=1)
    if hit.any():
        snapped = np.zeros((int(hit.sum()), weights.shape[1]))
        snapped[np.arange(snapped.shape[0]), heaviest[hit]] = 1.0
        weights[rows[hit]] = snapped


def _locate_triangulation(model, Z, need_projection, n_jobs, verbose=0):
    n, r = Z.shape
    located, weights, vertices = _walk_all(model, Z, WALK_EPS, n_jobs, verbose)
    outside = located < 0
    _snap_to_vertices(model.points, Z, vertices, weights, np.flatnonzero(~outside))
    if need_projection and outside.any():
        rows = np.flatnonzero(outside)
        supports, support_weights, _ = _project(
            model.points, Z[rows], model.hull_vertices, n_jobs, verbose
        )
        projected = np.einsum("ik,ikj->ij", support_weights, model.points[np.maximum(supports, 0)])
        # The projection lies on the hull boundary: locate it with a broad tolerance, or keep the
        # projection's own simplex (a hull face) when rounding puts it just outside.
        p_located, p_weights, p_vertices = _walk_all(
            model, np.ascontiguousarray(projected), 1e-9, n_jobs, verbose
        )
        found = p_located >= 0
        clipped = np.maximum(p_weights[found], 0.0)
        vertices[rows[found]] = p_vertices[found]
        weights[rows[found]] = clipped / clipped.sum(axis=1, keepdims=True)
        lost = ~found
        vertices[rows[lost]] = supports[lost, : r + 1]
        weights[rows[lost]] = support_weights[lost, : r + 1]
    return vertices, weights, outside


def _locate_lifted(model, Z, need_projection, n_jobs, need_weights=True, verbose=0):
    n, r = Z.shape
    points = model.points
    all_points = np.arange(points.shape[0], dtype=np.int64)
    supports, support_weights, distance2 = _project(points, Z, all_points, n_jobs, verbose)
    # Scaled coordinates: the data have unit radius.
    outside = distance2 > OUTSIDE_RTOL**2
    vertices, weights = _empty_result(n, r + 1)
    inside_rows = np.flatnonzero(~outside)
    n_support = np.count_nonzero(supports >= 0, axis=1).astype(np.int64)
    if inside_rows.size:
        exact = inside_rows[n_support[inside_rows] == 1]
        vertices[exact, 0] = supports[exact, 0]
        weights[exact, 0] = 1.0
        rows = inside_rows[n_support[inside_rows] > 1]
        if rows.size and need_weights:
            _solve_lifted(model, Z, rows, supports, n_support, vertices, weights, n_jobs, verbose)
    if need_projection and outside.any():
        rows = np.flatnonzero(outside)
        # Wolfe's corral has at most r + 1 points: it is the projection's simplex on the hull.
        vertices[rows] = supports[rows, : r + 1]
        weights[rows] = support_weights[rows, : r + 1]
        _resolve_degenerate_faces(model, Z, rows, vertices, weights)
    return vertices, weights, outside


def _solve_lifted(model, Z, rows, supports, n_support, vertices, weights, n_jobs, verbose=0):
    points = model.points
    heights = model.tie_heights
    r = points.shape[1]
    Q = np.ascontiguousarray(Z[rows])
    starts = np.ascontiguousarray(supports[rows])
    counts = np.ascontiguousarray(n_support[rows])
    out_vertices = np.full((rows.size, r + 1), -1, dtype=np.int64)
    out_weights = np.zeros((rows.size, r + 1))
    status = np.zeros(rows.size, dtype=np.int64)
    n_candidates = min(points.shape[0], 4 * (r + 1))
    max_iter = 50 * (r + 1) + 200

    def work(start, stop):
        _lifted.lifted_batch(
            points,
            heights,
            Q[start:stop],
            starts[start:stop],
            counts[start:stop],
            n_candidates,
            1e-11,
            max_iter,
            out_vertices[start:stop],
            out_weights[start:stop],
            status[start:stop],
        )

    run_in_chunks(
        work,
        rows.size,
        lifted_chunk(points.shape[0], r),
        n_jobs,
        verbose=verbose,
        description="simplicial: lifted programs",
    )
    for i in np.flatnonzero(status != _lifted.LP_OK):
        keep, lam = _lifted.delaunay_lp_reference(points, Q[i], heights)
        out_vertices[i] = -1
        out_weights[i] = 0.0
        k = min(keep.size, r + 1)
        out_vertices[i, :k] = keep[:k]
        out_weights[i, :k] = lam[:k]
    vertices[rows] = out_vertices
    weights[rows] = out_weights


def _resolve_degenerate_faces(model, Z, rows, vertices, weights):
    """Projections onto hull faces holding more points than a simplex: solve the lifted program
    on the face's points (the Delaunay triangulation restricted to a hull face is the Delaunay
    triangulation of the face's points)."""
    points = model.points
    r = points.shape[1]
    block_size = max(1, min(1024, 2**22 // max(points.shape[0], 1)))  # <= 32 MiB of heights
    for start in range(0, rows.size, block_size):
        block = rows[start : start + block_size]
        support = vertices[block]
        projected = np.einsum("ik,ikj->ij", weights[block], points[np.maximum(support, 0)])
        normal = Z[block] - projected
        norm = np.linalg.norm(normal, axis=1, keepdims=True)
        normal /= np.maximum(norm, 1e-300)
        heights = normal @ points.T - np.einsum("ij,ij->i", normal, projected)[:, None]
        on_face = heights >= -1e-9
        n_face = on_face.sum(axis=1)
        n_support = (support >= 0).sum(axis=1)
        for i in np.flatnonzero(n_face > n_support):
            face = np.flatnonzero(on_face[i])
            keep, lam = _lifted.delaunay_lp_reference(
                points[face], projected[i], model.tie_heights[face]
            )
            row = block[i]
            k = min(keep.size, r + 1)
            vertices[row] = -1
            weights[row] = 0.0
            vertices[row, :k] = face[keep[:k]]
            weights[row, :k] = lam[:k]


def locate(model, X, outside, n_jobs=None, need_weights=True, verbose=0):
    """Simplex vertices and barycentric weights of every query, and the outside mask.

    ``outside`` (the estimator's policy) decides whether outside queries are projected onto the
    hull (``"project"``) or answered by their nearest training point (``"nearest"``); for
    ``"nan"`` and ``"raise"`` their rows are left empty (vertices ``-1``). With
    ``need_weights=False`` only the outside mask is meaningful (the lifted program is skipped).
    """
    Z, off_hull = reduce_queries(model, X)
    method = model.method
    need_projection = outside == "project"
    if method == "point":
        vertices, weights, out = _locate_point(model, Z)
    elif method == "interval":
        vertices, weights, out = _locate_interval(model, Z)
    elif method == "triangulation":
        vertices, weights, out = _locate_triangulation(model, Z, need_projection, n_jobs, verbose)
    else:
        vertices, weights, out = _locate_lifted(
            model, Z, need_projection, n_jobs, need_weights, verbose
        )
    out = out | off_hull
    if outside == "nearest" and out.any():
        rows = np.flatnonzero(out)
        vertices[rows] = -1
        weights[rows] = 0.0
        vertices[rows, 0] = _nearest(model.points, Z[rows])
        weights[rows, 0] = 1.0
    elif outside in ("nan", "raise"):
        vertices[out] = -1
        weights[out] = 0.0
    return vertices, weights, out


def interpolate(vertices, weights, targets):
    """``sum_k weights[:, k] * targets[vertices[:, k]]`` for each query (numba)."""
    out = np.empty((vertices.shape[0], targets.shape[1]))
    _walk.combine(
        np.ascontiguousarray(vertices),
        np.ascontiguousarray(weights),
        np.ascontiguousarray(targets, dtype=np.float64),
        out,
    )
    return out


def _query_chunk(model, n_outputs, memory_limit):
    """Rows of queries per chunk within the budget: per query the vertices, weights, the
    projection's corral, the coordinates and the output."""
    n_features = model.affine_offset.shape[0]
    bytes_per_row = 8 * (4 * (model.affine_dim + 2) + 2 * n_features + n_outputs + 4)
    return rows_per_chunk(bytes_per_row, memory_limit, min_rows=4096)


def predict_simplicial(model, X, outside="project", *, memory_limit=None, n_jobs=None, verbose=0):
    """``(values, outside_mask)`` of the validated queries ``X``: the piecewise-linear
    interpolant's values (``(n_queries, n_outputs)``) and which queries lie outside the hull,
    over chunks of rows within the budget. ``outside`` as the estimators' parameter: "raise"
    raises for any outside query, "nan" gives them NaN."""
    n_outputs = model.targets.shape[1]
    chunk = _query_chunk(model, n_outputs, memory_limit)
    values = np.empty((X.shape[0], n_outputs))
    is_outside = np.empty(X.shape[0], dtype=bool)
    for start in range(0, X.shape[0], chunk):
        rows = slice(start, min(start + chunk, X.shape[0]))
        vertices, weights, is_outside[rows] = locate(
            model, X[rows], outside, n_jobs, verbose=verbose
        )
        values[rows] = interpolate(vertices, weights, model.targets)
    if outside == "raise" and is_outside.any():
        raise ValueError(
            f"{int(is_outside.sum())} of {is_outside.shape[0]} queries are outside the convex "
            f"hull of the training points (the first is row "
            f"{int(np.flatnonzero(is_outside)[0])}); use outside='project', 'nearest' or 'nan' "
            "to predict there."
        )
    if outside == "nan":
        values[is_outside] = np.nan
    return values, is_outside


def outside_mask(model, X, *, memory_limit=None, n_jobs=None, verbose=0):
    """Which of the validated queries ``X`` lie outside the hull (or off the affine hull)."""
    chunk = _query_chunk(model, 0, memory_limit)
    is_outside = np.empty(X.shape[0], dtype=bool)
    for start in range(0, X.shape[0], chunk):
        rows = slice(start, min(start + chunk, X.shape[0]))
        is_outside[rows] = locate(
            model, X[rows], "nan", n_jobs, need_weights=False, verbose=verbose
        )[2]
    return is_outside
