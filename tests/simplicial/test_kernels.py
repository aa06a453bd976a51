"""The numba kernels against slow, obvious references (scipy's Delaunay, linprog, nnls)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import nnls
from scipy.spatial import Delaunay

from skinterp import SimplicialInterpolator
from skinterp.simplicial import _core, _hull, _lifted, _walk


def _vertex_weights(vertices, weights, n_points):
    dense = np.zeros(n_points)
    for v, w in zip(vertices, weights):
        if v >= 0:
            dense[v] += w
    return dense


@settings(max_examples=10, deadline=None)
@given(d=st.integers(2, 4), n=st.integers(8, 80), seed=st.integers(0, 2**31))
def test_walk_finds_the_simplex_scipy_finds(d, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    tri = Delaunay(X)
    Q = rng.random((300, d)) * 1.2 - 0.1
    order = np.argsort(rng.random(300))  # any order: the walk must not depend on it
    located = np.empty(300, dtype=np.int64)
    weights = np.empty((300, d + 1))
    vertices = np.empty((300, d + 1), dtype=np.int64)
    _walk.walk_locate(
        Q,
        order,
        tri.simplices.astype(np.int32),
        tri.neighbors.astype(np.int32),
        np.ascontiguousarray(tri.transform),
        0,
        1e-13,
        10_000,
        located,
        weights,
        vertices,
    )
    expected = tri.find_simplex(Q)
    np.testing.assert_array_equal(located < 0, expected < 0)
    inside = expected >= 0
    # a query on a shared face may be in either simplex: compare the weights per vertex
    for i in np.flatnonzero(inside):
        ours = _vertex_weights(vertices[i], weights[i], n)
        ref_coords = tri.transform[expected[i], :d] @ (Q[i] - tri.transform[expected[i], d])
        ref = _vertex_weights(
            tri.simplices[expected[i]], np.append(ref_coords, 1 - ref_coords.sum()), n
        )
        np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_bruteforce_locate_agrees_with_scipy():
    rng = np.random.default_rng(0)
    X = rng.random((40, 3))
    tri = Delaunay(X)
    transform = np.ascontiguousarray(tri.transform)
    for q in rng.random((50, 3)) * 1.2 - 0.1:
        s = _walk.bruteforce_locate(q, transform, 1e-13)
        expected = tri.find_simplex(q[None])[0]
        assert (s < 0) == (expected < 0)
        if s >= 0:
            coords = transform[s, :3] @ (q - transform[s, 3])
            assert coords.min() >= -1e-12 and 1 - coords.sum() >= -1e-12


def test_counting_order_sorts_morton_codes():
    rng = np.random.default_rng(0)
    Z = rng.random((1000, 3))
    codes = np.empty(1000, dtype=np.int64)
    _walk.morton_codes(Z, Z.min(axis=0), Z.max(axis=0), 5, codes)
    assert codes.min() >= 0 and codes.max() < 1 << 15
    order = _walk.counting_order(codes, 1 << 15)
    np.testing.assert_array_equal(order, np.argsort(codes, kind="stable"))


def _projection_reference(points, q):
    weight = 1e5
    A = np.vstack([points.T, weight * np.ones(points.shape[0])])
    lam = nnls(A, np.append(q, weight), maxiter=10_000)[0]
    return lam @ points


@settings(max_examples=10, deadline=None)
@given(d=st.integers(1, 12), n=st.integers(1, 60), seed=st.integers(0, 2**31))
def test_wolfe_projection_is_the_nearest_point_of_the_hull(d, n, seed):
    rng = np.random.default_rng(seed)
    points = rng.standard_normal((n, d))
    candidates = np.arange(n, dtype=np.int64)
    support = np.empty(d + 2, dtype=np.int64)
    lam = np.empty(d + 2)
    for q in rng.standard_normal((5, d)) * 2:
        k, distance2 = _hull.min_norm_point(points, q, candidates, 8, 1e-12, support, lam)
        assert k > 0  # certified
        assert lam[:k].min() >= 0 and abs(lam[:k].sum() - 1) < 1e-12
        p = lam[:k] @ points[support[:k]]
        assert abs(np.sum((p - q) ** 2) - distance2) < 1e-9 * (1 + distance2)
        # optimality certificate: no point beyond the supporting hyperplane through p
        assert np.all((points - p) @ (q - p) <= 1e-8 * (1 + np.sum((q - p) ** 2)))
        reference = _projection_reference(points, q)
        assert np.linalg.norm(p - q) <= np.linalg.norm(reference - q) + 1e-6


@pytest.mark.parametrize("d", [6, 10])
def test_lifted_program_equals_the_full_linprog(d):
    rng = np.random.default_rng(d)
    n = 120
    points = rng.standard_normal((n, d))
    idx = np.array([rng.choice(n, d + 1, replace=False) for _ in range(15)])
    Q = np.einsum("ik,ikj->ij", rng.dirichlet(np.ones(d + 1), size=15), points[idx])
    model = SimplicialInterpolator(method="lifted").fit(points, rng.standard_normal(n))
    vertices, weights, outside = _core.locate(model._model(), Q, "project")
    assert not outside.any()
    Z, _ = _core.reduce_queries(model._model(), Q)
    for i in range(Q.shape[0]):
        keep, lam = _lifted.delaunay_lp_reference(model.points_, Z[i])
        ours = _vertex_weights(vertices[i], weights[i], n)
        ref = _vertex_weights(keep, lam, n)
        np.testing.assert_allclose(ours, ref, atol=1e-8)
        # the certificate: the circumsphere of the simplex is empty
        simplex = np.flatnonzero(ours > 1e-12)
        P = model.points_[simplex]
        A = np.hstack([2 * P, np.ones((P.shape[0], 1))])
        centre_and_c = np.linalg.lstsq(A, np.sum(P**2, axis=1), rcond=None)[0]
        centre = centre_and_c[:-1]
        radius2 = np.sum((P[0] - centre) ** 2)
        assert np.all(np.sum((model.points_ - centre) ** 2, axis=1) >= radius2 - 1e-8)


def test_lifted_solver_reports_failure_on_an_infeasible_start():
    rng = np.random.default_rng(0)
    points = rng.standard_normal((30, 3))
    q = points[:4].mean(axis=0)
    start = np.array([10, 11, 12, 13], dtype=np.int64)  # a simplex that does not contain q
    basis = np.empty(4, dtype=np.int64)
    lam = np.empty(4)
    code = _lifted.delaunay_lp(
        points, np.zeros(30), q + 100.0, start, 4, 8, 1e-11, 500, basis, lam
    )
    assert code == _lifted.LP_FAILED


def test_projection_fallback_agrees_with_wolfe():
    """The slow active-set projection used when rounding stalls Wolfe's algorithm."""
    rng = np.random.default_rng(0)
    points = rng.standard_normal((50, 4))
    support = np.empty(6, dtype=np.int64)
    lam = np.empty(6)
    for q in rng.standard_normal((10, 4)) * 3:
        keep, weights = _core._projection_reference(points, q)
        k, _ = _hull.min_norm_point(points, q, np.arange(50), 20, 1e-12, support, lam)
        assert set(keep.tolist()) == set(support[:k].tolist())
        np.testing.assert_allclose(
            weights @ points[keep], lam[:k] @ points[support[:k]], atol=1e-8
        )


def test_warmup_compiles_the_lifted_program_and_the_projection():
    """``python -m skinterp warmup`` predicts at new points, inside and outside the data, so
    that the simplicial kernels a user's first predict needs are compiled (or loaded)."""
    from skinterp._warmup import warmup

    warmup(["SimplicialInterpolator (lifted)"])
    assert _lifted.lifted_batch.signatures
    assert _hull.project_batch.signatures


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(-5, 5).map(float), min_size=1, max_size=40),
    k=st.integers(0, 45),
)
def test_nearest_order_is_the_k_smallest_in_order_ties_to_the_lower_index(values, k):
    values = np.array(values)
    order = _hull.nearest_order(values, values.size, k)
    expected = np.lexsort((np.arange(values.size), values))[: min(max(k, 1), values.size)]
    np.testing.assert_array_equal(order, expected)
    # only the first n_values entries count
    np.testing.assert_array_equal(
        _hull.nearest_order(np.append(values, -10.0), values.size, k), expected
    )


def test_lapack_inverse_matches_numpy_and_reports_singular_matrices():
    from skinterp.simplicial._lapack import invert

    rng = np.random.default_rng(0)
    for n in (1, 3, 12):
        B = rng.standard_normal((n, n)) + 3 * np.eye(n)
        Binv = np.empty((n, n))
        assert invert(B, Binv)
        np.testing.assert_allclose(Binv, np.linalg.inv(B), rtol=1e-12, atol=1e-12)
    assert not invert(np.ones((4, 4)), np.empty((4, 4)))
