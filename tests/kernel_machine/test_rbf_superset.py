"""KernelInterpolator as scipy's RBFInterpolator and scikit-learn's KernelRidge: kernels,
polynomial tails, ridge, and the errors of the tail (ported in our words from the cases of
scipy's own RBFInterpolator tests that apply)."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import RBFInterpolator
from sklearn.kernel_ridge import KernelRidge

from skinterp import KernelInterpolationClassifier, KernelInterpolator
from skinterp.kernel_machine._polynomial_tail import monomial_powers, n_monomials
from skinterp.kernels import kernel_matrix

SCIPY_KERNELS = [
    "linear",
    "thin_plate_spline",
    "cubic",
    "quintic",
    "multiquadric",
    "inverse_multiquadric",
    "inverse_quadratic",
    "gaussian",
]
MIN_DEGREE = {"linear": 0, "thin_plate_spline": 1, "cubic": 1, "quintic": 2, "multiquadric": 0}


def scipy_epsilon(kernel, bandwidth):
    """scipy's shape parameter for our bandwidth: 1 / h, except for the Gaussian, whose
    profile is ours, exp(-r**2 / 2), against scipy's exp(-r**2)."""
    return 1.0 / (np.sqrt(2.0) * bandwidth) if kernel == "gaussian" else 1.0 / bandwidth


def data(n, d, seed=0, n_outputs=2):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, d))
    Y = np.column_stack([np.sin(3 * X[:, 0]) + X[:, -1] ** 2, np.cos(X.sum(axis=1))])
    return X, Y[:, :n_outputs], rng.uniform(-1, 1, size=(40, d))


def scipy_degree(kernel, degree):
    # Our degree=None is the kernel's minimum (-1 for the positive definite kernels).
    return MIN_DEGREE.get(kernel, -1) if degree is None else degree


# Conditioning decides what "equal to 1e-8" can mean: few points per dimension and, for the
# smooth kernels, a bandwidth below the spacing keep the systems well within float64.
# (dimension, points, bandwidth of the smooth kernels ~ the spacing of the points)
CASES = [(1, 12, 0.1), (2, 40, 0.2), (3, 60, 0.3), (4, 60, 0.4), (5, 60, 0.5)]
SMOOTH = ("gaussian", "inverse_quadratic", "inverse_multiquadric", "multiquadric")


@pytest.mark.parametrize("kernel", SCIPY_KERNELS)
@pytest.mark.parametrize("d, n, smooth_bandwidth", CASES)
@pytest.mark.parametrize("degree", [None, -1, 0, 1, 2])
@pytest.mark.parametrize("ridge", [0.0, 1e-3])
def test_direct_equals_scipy_rbf_interpolator(kernel, d, n, smooth_bandwidth, degree, ridge):
    if degree is not None and -1 <= degree < MIN_DEGREE.get(kernel, -1):
        pytest.skip("below the kernel's minimum degree (covered separately)")
    if n_monomials(d, scipy_degree(kernel, degree)) > n:
        pytest.skip("more monomials than points")
    X, Y, X_test = data(n, d)
    bandwidth = smooth_bandwidth if kernel in SMOOTH else 1.3
    reference = RBFInterpolator(
        X,
        Y,
        kernel=kernel,
        epsilon=scipy_epsilon(kernel, bandwidth),
        degree=scipy_degree(kernel, degree),
        smoothing=ridge,
    )
    model = KernelInterpolator(
        kernel=kernel, bandwidth=bandwidth, degree=degree, ridge=ridge, solver="direct"
    ).fit(X, Y)
    expected = reference(X_test)
    np.testing.assert_allclose(
        model.predict(X_test), expected, atol=1e-8 * np.abs(expected).max(), rtol=0
    )
    assert model.degree_ == scipy_degree(kernel, degree)
    assert model.polynomial_coef_.shape == (n_monomials(d, model.degree_), 2)
    if ridge == 0:
        assert model.interpolates_


def test_single_output_shapes_and_default_scale_invariant_kernel_matches_scipy():
    X, Y, X_test = data(50, 2)
    y = Y[:, 0]
    reference = RBFInterpolator(X, y)  # thin_plate_spline, degree 1, epsilon 1
    model = KernelInterpolator(kernel="thin_plate_spline").fit(X, y)  # bandwidth "auto"
    # With its minimum tail the thin-plate spline does not depend on the bandwidth.
    np.testing.assert_allclose(model.predict(X_test), reference(X_test), atol=1e-9)
    assert model.predict(X_test).shape == (40,) and model.polynomial_coef_.shape == (3,)
    assert model.dual_coef_.shape == (50,)


@pytest.mark.parametrize("kernel", ["laplacian", "gaussian", "matern", "inverse_multiquadric"])
@pytest.mark.parametrize("ridge", [1e-3, 0.5])
def test_ridge_equals_kernel_ridge_on_the_same_kernel_matrix(kernel, ridge):
    X, Y, X_test = data(120, 4, seed=3)
    model = KernelInterpolator(kernel=kernel, bandwidth=0.8, ridge=ridge).fit(X, Y)
    K = kernel_matrix(X, kernel=kernel, bandwidth=0.8, nu=1.5)
    K_test = kernel_matrix(X_test, X, kernel=kernel, bandwidth=0.8, nu=1.5)
    reference = KernelRidge(kernel="precomputed", alpha=ridge).fit(K, Y)
    expected = reference.predict(K_test)
    np.testing.assert_allclose(
        model.predict(X_test), expected, atol=1e-8 * np.abs(expected).max(), rtol=0
    )
    np.testing.assert_allclose(
        model.dual_coef_,
        reference.dual_coef_,
        rtol=1e-7,
        atol=1e-9 * np.abs(reference.dual_coef_).max(),
    )
    assert model.degree_ == -1 and not model.interpolates_


def test_per_sample_ridge_equals_scipy_smoothing_array():
    X, Y, X_test = data(60, 2, seed=4)
    ridge = np.linspace(0.0, 0.1, 60)
    reference = RBFInterpolator(X, Y, smoothing=ridge)
    model = KernelInterpolator(kernel="thin_plate_spline", bandwidth=1.0, ridge=ridge).fit(X, Y)
    np.testing.assert_allclose(model.predict(X_test), reference(X_test), atol=1e-9)


def test_ridge_keeps_duplicates_as_kernel_ridge_does():
    X, Y, X_test = data(40, 3, seed=5)
    X = np.vstack([X, X[:5]])
    Y = np.vstack([Y, Y[:5] + 1.0])
    model = KernelInterpolator(bandwidth=0.9, ridge=0.1).fit(X, Y)
    K = kernel_matrix(X, kernel="laplacian", bandwidth=0.9)
    reference = KernelRidge(kernel="precomputed", alpha=0.1).fit(K, Y)
    K_test = kernel_matrix(X_test, X, kernel="laplacian", bandwidth=0.9)
    np.testing.assert_allclose(model.predict(X_test), reference.predict(K_test), atol=1e-9)
    assert model.n_duplicates_ == 0


@settings(max_examples=20, deadline=None)
@given(
    degree=st.integers(0, 3),
    d=st.integers(1, 3),
    kernel=st.sampled_from(["thin_plate_spline", "cubic", "quintic", "linear", "gaussian"]),
    seed=st.integers(0, 10_000),
    offset=st.floats(-100, 100),
    scale=st.floats(0.1, 100),
)
def test_a_tail_of_degree_p_reproduces_polynomials_of_degree_p(
    degree, d, kernel, seed, offset, scale
):
    degree = max(degree, MIN_DEGREE.get(kernel, -1))
    rng = np.random.RandomState(seed)
    n = n_monomials(d, degree) + 15
    X = offset + scale * rng.uniform(-1, 1, size=(n, d))
    X_test = offset + scale * rng.uniform(-1, 1, size=(30, d))
    powers = monomial_powers(d, degree)
    weights = rng.normal(size=len(powers))

    def polynomial(Z):
        Z_hat = (Z - offset) / scale
        return np.prod(Z_hat[:, None, :] ** powers[None], axis=2) @ weights

    y = polynomial(X)
    model = KernelInterpolator(
        kernel=kernel, degree=degree, bandwidth=0.3 * scale, solver="direct"
    ).fit(X, y)
    expected = polynomial(X_test)
    np.testing.assert_allclose(
        model.predict(X_test), expected, atol=1e-7 * max(np.abs(expected).max(), 1.0)
    )


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), shift=st.floats(-1e3, 1e3), factor=st.floats(0.01, 100))
def test_thin_plate_spline_is_equivariant_to_translation_and_scaling(seed, shift, factor):
    rng = np.random.RandomState(seed)
    X, X_test = rng.uniform(size=(30, 2)), rng.uniform(size=(10, 2))
    y = rng.normal(size=30)
    base = KernelInterpolator(kernel="thin_plate_spline").fit(X, y).predict(X_test)
    moved = KernelInterpolator(kernel="thin_plate_spline").fit(shift + factor * X, y)
    np.testing.assert_allclose(
        moved.predict(shift + factor * X_test), base, atol=1e-7 * max(np.abs(base).max(), 1.0)
    )


def test_permuting_the_training_points_does_not_change_predictions():
    X, Y, X_test = data(50, 3, seed=6)
    order = np.random.RandomState(0).permutation(50)
    a = KernelInterpolator(kernel="cubic", bandwidth=1.0).fit(X, Y).predict(X_test)
    b = KernelInterpolator(kernel="cubic", bandwidth=1.0).fit(X[order], Y[order]).predict(X_test)
    np.testing.assert_allclose(a, b, atol=1e-10 * np.abs(a).max())


# ----------------------------------------------------------------------------- the errors
def test_too_few_points_for_the_tail_is_refused():
    X = np.random.RandomState(0).uniform(size=(5, 3))
    with pytest.raises(ValueError, match="degree 2 in 3 dimensions has 10 monomials"):
        KernelInterpolator(kernel="thin_plate_spline", degree=2).fit(X, np.ones(5))


def test_points_on_a_line_make_a_degree_one_tail_singular():
    t = np.linspace(0, 1, 10)
    X = np.column_stack([t, 2 * t + 1])
    with pytest.raises(np.linalg.LinAlgError, match="full column rank \\(2/3\\)"):
        KernelInterpolator(kernel="thin_plate_spline").fit(X, t)


def test_degree_below_the_kernels_minimum_warns_like_scipy():
    X, Y, X_test = data(30, 2)
    with pytest.warns(UserWarning, match="below the minimum degree 1"):
        model = KernelInterpolator(kernel="thin_plate_spline", degree=0, bandwidth=1.0)
        model.fit(X, Y[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = RBFInterpolator(X, Y[:, 0], kernel="thin_plate_spline", degree=0)
    np.testing.assert_allclose(model.predict(X_test), reference(X_test), atol=1e-8)


def test_degree_below_minus_one_and_bad_ridge_are_refused():
    X, Y, _ = data(20, 2)
    with pytest.raises(ValueError, match="degree"):
        KernelInterpolator(degree=-2).fit(X, Y)
    with pytest.raises(ValueError, match="ridge"):
        KernelInterpolator(ridge=-1.0).fit(X, Y)
    with pytest.raises(ValueError, match="shape \\(n_samples,\\)"):
        KernelInterpolator(ridge=np.ones(3)).fit(X, Y)
    with pytest.raises(ValueError, match="finite and non-negative"):
        KernelInterpolator(ridge=np.full(20, -1.0)).fit(X, Y)


def test_eigenpro_refuses_a_tail_a_ridge_or_a_conditionally_positive_definite_kernel():
    X, Y, _ = data(30, 2)
    for params in (dict(degree=0), dict(ridge=0.1), dict(kernel="thin_plate_spline")):
        with pytest.raises(ValueError, match="solver='eigenpro'"):
            KernelInterpolator(solver="eigenpro", **params).fit(X, Y)


def test_classifier_accepts_a_tail_and_a_ridge():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model = KernelInterpolationClassifier(kernel="thin_plate_spline").fit(X, y)
    assert model.degree_ == 1 and model.score(X, y) == 1.0 and model.interpolates_
    ridge = KernelInterpolationClassifier(ridge=1.0).fit(X, y)
    assert not ridge.interpolates_


# ------------------------------------------------------------------------- neighbors=k
@pytest.mark.parametrize(
    "kernel, degree, ridge, d, k",
    [
        ("thin_plate_spline", None, 0.0, 2, 20),
        ("cubic", None, 1e-3, 3, 30),
        ("gaussian", 0, 0.0, 2, 10),
        ("quintic", None, 0.0, 1, 8),
        ("linear", None, 0.0, 4, 25),
        ("inverse_multiquadric", -1, 0.0, 5, 40),
        ("thin_plate_spline", None, 0.0, 2, 1000),  # k > n: every point, as scipy clamps
    ],
)
def test_neighbors_equals_scipy_neighbors(kernel, degree, ridge, d, k):
    X, Y, X_test = data(300, d, seed=7)
    X_test = np.vstack([X_test, X[:5]])  # training points among the queries
    bandwidth = 0.3 if kernel in SMOOTH else 1.0
    reference = RBFInterpolator(
        X,
        Y,
        kernel=kernel,
        epsilon=scipy_epsilon(kernel, bandwidth),
        degree=scipy_degree(kernel, degree),
        smoothing=ridge,
        neighbors=k,
    )
    model = KernelInterpolator(
        kernel=kernel, bandwidth=bandwidth, degree=degree, ridge=ridge, neighbors=k
    ).fit(X, Y)
    expected = reference(X_test)
    np.testing.assert_allclose(
        model.predict(X_test), expected, atol=1e-8 * np.abs(expected).max(), rtol=0
    )
    assert model.solver_ == "local" and model.interpolates_ == (ridge == 0)


def test_neighbors_single_output_float32_and_interpolation():
    X, Y, X_test = data(200, 2, seed=8)
    model = KernelInterpolator(kernel="thin_plate_spline", neighbors=15).fit(X, Y[:, 0])
    np.testing.assert_allclose(model.predict(X), Y[:, 0], atol=1e-9)
    assert model.predict(X_test).shape == (40,)
    single = KernelInterpolator(kernel="thin_plate_spline", neighbors=15)
    single.fit(X.astype(np.float32), Y[:, 0])
    assert single.predict(X_test.astype(np.float32)).dtype == np.float32


def test_neighbors_refuses_too_few_neighbours_for_the_tail():
    X, Y, _ = data(50, 3)
    with pytest.raises(ValueError, match="10 monomials and needs at least 10"):
        KernelInterpolator(kernel="thin_plate_spline", degree=2, neighbors=5).fit(X, Y)


def test_a_dask_x_with_a_tail_a_ridge_or_neighbors_is_refused_before_the_sharded_fit():
    da = pytest.importorskip("dask.array")
    X, Y, _ = data(60, 2)
    for params in (
        dict(kernel="thin_plate_spline"),
        dict(ridge=0.1),
        dict(neighbors=5),
        dict(degree=0),
        dict(solver="cg"),
    ):
        with pytest.raises(ValueError, match="sharded EigenPro solver only"):
            KernelInterpolator(**params).fit(da.from_array(X, chunks=30), Y[:, 0])
