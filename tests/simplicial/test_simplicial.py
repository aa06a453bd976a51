"""SimplicialInterpolator and SimplicialClassifier: the interpolant and its properties."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import LinearNDInterpolator
from scipy.stats import special_ortho_group
from sklearn.utils._param_validation import InvalidParameterError

from skinterp import SimplicialClassifier, SimplicialInterpolator
from skinterp.simplicial import _core, _triangulation

METHODS = ["triangulation", "lifted"]


def _data(n, d, seed, n_outputs=None):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    shape = (n,) if n_outputs is None else (n, n_outputs)
    return X, rng.standard_normal(shape), rng


@settings(max_examples=15, deadline=None)
@given(
    d=st.integers(1, 4),
    n=st.integers(1, 40),
    method=st.sampled_from(METHODS),
    seed=st.integers(0, 2**31),
)
def test_interpolates_the_training_points(d, n, method, seed):
    X, y, _ = _data(n, d, seed)
    model = SimplicialInterpolator(method=method).fit(X, y)
    np.testing.assert_allclose(model.predict(X), y, rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("d", [2, 3, 4])
def test_equals_linear_nd_interpolator_inside_the_hull(method, d):
    X, y, rng = _data(150, d, d, n_outputs=2)
    Q = rng.random((400, d)) * 1.1 - 0.05
    ours, outside = (
        SimplicialInterpolator(method=method, outside="nan")
        .fit(X, y)
        .predict(Q, return_outside=True)
    )
    expected = LinearNDInterpolator(X, y)(Q)
    reference_outside = np.isnan(expected[:, 0])
    assert 0 < reference_outside.sum() < Q.shape[0]  # the test sees both cases
    np.testing.assert_array_equal(outside, reference_outside)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    inside = ~reference_outside
    np.testing.assert_allclose(ours[inside], expected[inside], rtol=0, atol=1e-10)


def test_one_dimension_is_numpy_interp():
    rng = np.random.default_rng(0)
    x = rng.random(30)
    y = rng.standard_normal(30)
    q = np.linspace(-0.2, 1.2, 200)
    model = SimplicialInterpolator(outside="project").fit(x[:, None], y)
    assert model.method_ == "interval"
    np.testing.assert_allclose(
        model.predict(q[:, None]), np.interp(q, x[np.argsort(x)], y[np.argsort(x)]), atol=1e-12
    )
    outside = model.is_outside(q[:, None])
    np.testing.assert_array_equal(outside, (q < x.min()) | (q > x.max()))


@pytest.mark.parametrize("method", METHODS)
def test_affine_equivariance_translation_rotation(method):
    X, y, rng = _data(60, 3, 7)
    Q = rng.random((200, 3)) * 1.4 - 0.2  # inside and outside
    rotation = special_ortho_group.rvs(3, random_state=1)
    shift = np.array([5.0, -3.0, 10.0])
    for outside in ["project", "nearest", "nan"]:
        base = SimplicialInterpolator(method=method, outside=outside).fit(X, y).predict(Q)
        moved = (
            SimplicialInterpolator(method=method, outside=outside)
            .fit(X @ rotation.T + shift, y)
            .predict(Q @ rotation.T + shift)
        )
        np.testing.assert_allclose(moved, base, rtol=0, atol=1e-8, err_msg=outside)


@pytest.mark.parametrize("method", METHODS)
def test_piecewise_linear_inside_a_simplex(method):
    X, y, rng = _data(80, 3, 3)
    model = SimplicialInterpolator(method="triangulation").fit(X, y)
    lifted = SimplicialInterpolator(method=method).fit(X, y)
    for simplex in model.simplices_[:20]:
        weights = rng.dirichlet(np.ones(4), size=10)
        # simplices_ index the distinct, reordered training points points_ (affine coordinates:
        # centred, scaled by affine_extent_, in the basis affine_basis_)
        raw = model.affine_offset_ + model.affine_extent_ * (
            model.points_ @ np.linalg.pinv(model.affine_basis_).T
        )
        Q = weights @ raw[simplex]
        # exactly the barycentric combination of the vertex values ...
        np.testing.assert_allclose(
            lifted.predict(Q), weights @ model.targets_[simplex, 0], atol=1e-10
        )
        # ... hence affine along segments inside the simplex
        mid = lifted.predict((Q[:5] + Q[5:]) / 2)
        np.testing.assert_allclose(
            mid, (lifted.predict(Q[:5]) + lifted.predict(Q[5:])) / 2, atol=1e-10
        )


@pytest.mark.parametrize("method", METHODS)
def test_reproduces_affine_functions_also_on_cospherical_grids(method):
    # Every triangulation of a grid (many co-circular quadruples) reproduces affine targets.
    g = np.linspace(0, 1, 6)
    X = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    y = 3 * X[:, 0] - 2 * X[:, 1] + 1
    rng = np.random.default_rng(0)
    Q = rng.random((300, 2))
    model = SimplicialInterpolator(method=method).fit(X, y)
    np.testing.assert_allclose(model.predict(Q), 3 * Q[:, 0] - 2 * Q[:, 1] + 1, atol=1e-10)
    # deterministic and independent of the other queries
    np.testing.assert_array_equal(model.predict(Q), model.predict(Q))
    np.testing.assert_allclose(model.predict(Q[::-1])[::-1], model.predict(Q), atol=1e-12)


@pytest.mark.parametrize("d", [2, 3, 5, 8])
def test_paper_example_standard_simplex_with_one_corrupted_vertex(d):
    """Belkin (2021), Section 3.5.2: clean label 1 on the standard simplex, vertex 0 flipped to
    0; the interpolated classifier differs from the clean label exactly where sum x <= 1/2."""
    X = np.vstack([np.zeros(d), np.eye(d)])
    labels = np.ones(d + 1, dtype=int)
    labels[0] = 0
    rng = np.random.default_rng(d)
    Q = rng.dirichlet(np.ones(d + 1), size=3000)[:, 1:]  # uniform in the simplex
    total = Q.sum(axis=1)
    clear = np.abs(total - 0.5) > 1e-9
    for method in METHODS:
        clf = SimplicialClassifier(method=method).fit(X, labels)
        wrong = clf.predict(Q) != 1
        np.testing.assert_array_equal(wrong[clear], total[clear] <= 0.5)
        assert 0 < wrong.sum() < Q.shape[0]


def _projection_reference(X, q):
    """Euclidean projection onto conv(X) by nnls with a heavily weighted sum-to-one row."""
    from scipy.optimize import nnls

    weight = 1e4
    A = np.vstack([X.T, weight * np.ones(X.shape[0])])
    b = np.concatenate([q, [weight]])
    lam = nnls(A, b, maxiter=5000)[0]
    return lam @ X


@pytest.mark.parametrize("method", METHODS)
def test_outside_policies(method):
    X, y, rng = _data(50, 2, 11)
    Q = rng.random((100, 2)) * 2 - 0.5
    model = SimplicialInterpolator(method=method, outside="nan").fit(X, y)
    values, outside = model.predict(Q, return_outside=True)
    np.testing.assert_array_equal(outside, np.isnan(LinearNDInterpolator(X, y)(Q)))
    np.testing.assert_array_equal(np.isnan(values), outside)
    np.testing.assert_array_equal(model.is_outside(Q), outside)

    nearest = model.set_params(outside="nearest").predict(Q)
    distances = np.linalg.norm(Q[:, None, :] - X[None], axis=2)
    np.testing.assert_allclose(nearest[outside], y[np.argmin(distances, axis=1)][outside])
    np.testing.assert_allclose(nearest[~outside], values[~outside])

    projected = model.set_params(outside="project").predict(Q)
    np.testing.assert_allclose(projected[~outside], values[~outside])
    for i in np.flatnonzero(outside)[:15]:
        p = _projection_reference(X, Q[i])
        assert np.linalg.norm(p - Q[i]) > 0
        at_p = model.predict(p[None])[0]
        np.testing.assert_allclose(projected[i], at_p, atol=1e-5)

    with pytest.raises(ValueError, match="outside the convex hull"):
        model.set_params(outside="raise").predict(Q)
    model.predict(Q[~outside])  # no error inside


def test_project_agrees_between_methods_in_three_dimensions():
    X, y, rng = _data(70, 3, 5)
    Q = rng.standard_normal((100, 3)) * 2
    a = SimplicialInterpolator(method="triangulation").fit(X, y).predict(Q)
    b = SimplicialInterpolator(method="lifted").fit(X, y).predict(Q)
    np.testing.assert_allclose(a, b, atol=1e-9)


def test_duplicates_are_merged_and_their_targets_averaged():
    X, y, rng = _data(30, 2, 2)
    X = np.vstack([X, X[:5]])
    y = np.concatenate([y, y[:5] + 2.0])
    model = SimplicialInterpolator().fit(X, y)
    assert model.n_points_fit_ == 30
    np.testing.assert_allclose(model.predict(X[:5]), y[:5] + 1.0, atol=1e-12)
    np.testing.assert_allclose(model.predict(X[5:30]), y[5:30], atol=1e-12)


@pytest.mark.parametrize("method", ["auto", "lifted", "triangulation"])
def test_data_on_a_plane_in_three_dimensions(method):
    rng = np.random.default_rng(4)
    plane = rng.random((40, 2))
    y = rng.standard_normal(40)
    frame = special_ortho_group.rvs(3, random_state=3)[:2]
    origin = np.array([1.0, 2.0, 3.0])
    X = origin + plane @ frame
    model = SimplicialInterpolator(method=method, outside="nan").fit(X, y)
    assert model.affine_dim_ == 2
    Q2 = rng.random((200, 2))
    expected = LinearNDInterpolator(plane, y)(Q2)
    on_plane = model.predict(origin + Q2 @ frame)
    np.testing.assert_array_equal(np.isnan(on_plane), np.isnan(expected))
    np.testing.assert_allclose(on_plane, expected, atol=1e-9)
    normal = np.cross(frame[0], frame[1])
    off = origin + Q2 @ frame + 0.1 * normal
    assert model.is_outside(off).all()
    projected = model.set_params(outside="project").predict(off)
    inside = ~np.isnan(expected)
    np.testing.assert_allclose(projected[inside], expected[inside], atol=1e-9)


def test_points_on_a_line_and_a_single_point():
    rng = np.random.default_rng(0)
    t = rng.random(10)
    X = np.outer(t, [1.0, 2.0, -1.0]) + 5.0
    y = rng.standard_normal(10)
    model = SimplicialInterpolator().fit(X, y)
    assert model.method_ == "interval" and model.affine_dim_ == 1
    s = np.linspace(t.min(), t.max(), 7)
    order = np.argsort(t)
    np.testing.assert_allclose(
        model.predict(np.outer(s, [1.0, 2.0, -1.0]) + 5.0),
        np.interp(s, t[order], y[order]),
        atol=1e-10,
    )

    single = SimplicialInterpolator(outside="nan").fit([[1.0, 2.0]] * 3, [1.0, 2.0, 3.0])
    assert single.method_ == "point"
    np.testing.assert_allclose(single.predict([[1.0, 2.0], [0.0, 0.0]]), [2.0, np.nan])
    assert SimplicialInterpolator().fit([[1.0, 2.0]], [4.0]).predict([[9.0, 9.0]]) == [4.0]


def test_fewer_points_than_dimensions_plus_one():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 10))
    y = rng.standard_normal(6)
    model = SimplicialInterpolator().fit(X, y)
    assert model.affine_dim_ == 5 and model.method_ in METHODS
    np.testing.assert_allclose(model.predict(X), y, atol=1e-10)
    w = rng.dirichlet(np.ones(6), size=5)
    np.testing.assert_allclose(model.predict(w @ X), w @ y, atol=1e-10)  # one simplex
    assert np.all(np.isfinite(model.predict(rng.standard_normal((5, 10)))))


def test_qhull_failure_falls_back_to_the_lifted_program(monkeypatch):
    def fail(points):
        raise _triangulation.TriangulationError("QH6154 Qhull precision error")

    monkeypatch.setattr(_triangulation, "delaunay_arrays", fail)
    X, y, rng = _data(40, 2, 0)
    model = SimplicialInterpolator(method="triangulation", outside="nan").fit(X, y)
    assert model.method_ == "lifted"
    Q = rng.random((50, 2))
    np.testing.assert_allclose(model.predict(Q), LinearNDInterpolator(X, y)(Q), atol=1e-10)


def test_auto_chooses_by_dimension_and_predicted_size():
    X, y, _ = _data(100, 2, 0)
    assert SimplicialInterpolator().fit(X, y).method_ == "triangulation"
    X8, y8, _ = _data(100, 8, 0)
    assert SimplicialInterpolator().fit(X8, y8).method_ == "lifted"
    X5, y5, _ = _data(300, 5, 0)
    assert SimplicialInterpolator(memory_limit=1).fit(X5, y5).method_ == "lifted"
    assert _core.choose_method("auto", 5, 10**6) == "lifted"


def test_threads_give_the_same_predictions():
    X, y, rng = _data(200, 3, 9)
    Q = rng.random((20000, 3)) * 1.2 - 0.1
    one = SimplicialInterpolator(outside="project").fit(X, y).predict(Q)
    two = SimplicialInterpolator(outside="project", n_jobs=2).fit(X, y).predict(Q)
    np.testing.assert_allclose(one, two, atol=1e-12)


def test_bad_input_gets_a_clear_value_error():
    X, y, _ = _data(20, 2, 0)
    with pytest.raises(ValueError, match="NaN"):
        SimplicialInterpolator().fit(np.where(X > 0.9, np.nan, X), y)
    model = SimplicialInterpolator().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="infinity|NaN"):
        model.predict(np.full((1, 2), np.inf))
    with pytest.raises(InvalidParameterError):
        SimplicialInterpolator(method="qhull").fit(X, y)
    with pytest.raises(InvalidParameterError):
        SimplicialClassifier(outside="nan").fit(X, y > 0)


@pytest.mark.parametrize("method", METHODS)
def test_classifier_is_argmax_of_interpolated_one_hot(method):
    X, _, rng = _data(60, 3, 1)
    labels = rng.choice(["a", "b", "c"], size=60)
    Q = rng.random((300, 3)) * 1.2 - 0.1
    clf = SimplicialClassifier(method=method).fit(X, labels)
    proba = clf.predict_proba(Q)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba.min() >= 0
    one_hot = (labels[:, None] == clf.classes_[None]).astype(float)
    scores = SimplicialInterpolator(method=method).fit(X, one_hot).predict(Q)
    np.testing.assert_allclose(proba, scores, atol=1e-10)
    np.testing.assert_array_equal(clf.predict(Q), clf.classes_[np.argmax(scores, axis=1)])
    np.testing.assert_array_equal(clf.predict(X), labels)
    # binary: the sign of the interpolated +-1 label (the paper's rule)
    binary = np.where(labels == "a", 1.0, -1.0)
    sign = np.sign(SimplicialInterpolator(method=method).fit(X, binary).predict(Q))
    predicted = SimplicialClassifier(method=method).fit(X, binary).predict(Q)
    keep = sign != 0
    np.testing.assert_array_equal(predicted[keep], sign[keep])


def test_triangulation_beyond_the_memory_budget_is_refused_before_qhull():
    X, y, _ = _data(300, 5, 0)
    with pytest.raises(MemoryError, match="method='lifted'"):
        SimplicialInterpolator(method="triangulation", memory_limit=1).fit(X, y)


@settings(max_examples=20, deadline=None)
@given(
    d=st.integers(2, 4),
    n=st.integers(2, 60),
    method=st.sampled_from(METHODS),
    outside=st.sampled_from(["project", "nearest"]),
    seed=st.integers(0, 2**31),
)
def test_degenerate_lattice_data_reproduce_affine_functions(d, n, method, outside, seed):
    """Small-integer inputs: duplicates, co-spherical and co-planar points, flat hulls."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(n, d)).astype(float)
    slope = rng.standard_normal(d)
    model = SimplicialInterpolator(method=method, outside=outside).fit(X, X @ slope + 1.0)
    np.testing.assert_allclose(model.predict(X), X @ slope + 1.0, atol=1e-9)
    Q = rng.random((100, d)) * 2
    values, is_out = model.predict(Q, return_outside=True)
    np.testing.assert_allclose(values[~is_out], Q[~is_out] @ slope + 1.0, atol=1e-9)
    assert np.all(np.isfinite(values))


@pytest.mark.parametrize("method", METHODS)
def test_prediction_in_chunks_within_the_memory_budget_is_the_same(method):
    X, y, rng = _data(100, 2, 8)
    Q = rng.random((10_000, 2)) * 1.2 - 0.1
    whole = SimplicialInterpolator(method=method).fit(X, y)
    chunked = SimplicialInterpolator(method=method, memory_limit=0.05).fit(X, y)  # 4096 rows
    np.testing.assert_allclose(chunked.predict(Q), whole.predict(Q), atol=1e-12)
    np.testing.assert_array_equal(chunked.is_outside(Q), whole.is_outside(Q))


@pytest.mark.parametrize("method", METHODS)
def test_ties_on_cospherical_data_do_not_depend_on_the_training_order(method):
    # A grid: every unit square is co-circular, so the Delaunay triangulation is not unique and
    # a non-affine target shows which triangles were chosen. Points are sorted (np.unique)
    # before anything else, so the choice cannot depend on the order of the training rows.
    g = np.linspace(0, 1, 5)
    X = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    rng = np.random.default_rng(0)
    y = rng.standard_normal(X.shape[0])
    Q = rng.random((500, 2))
    base = SimplicialInterpolator(method=method).fit(X, y).predict(Q)
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(X.shape[0])
        shuffled = SimplicialInterpolator(method=method).fit(X[perm], y[perm]).predict(Q)
        np.testing.assert_array_equal(shuffled, base)
