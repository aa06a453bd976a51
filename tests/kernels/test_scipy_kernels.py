"""scipy's RBF family in the fused tiles: definitions, both tile paths, both precisions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist

from skinterp.kernels import KernelSpec, kernel_matrix, kernel_product, min_degree
from skinterp.kernels._functions import MIN_DEGREE, kernel_code
from skinterp.kernels._tiles import DIRECT_MAX_FEATURES


def scipy_profile(name, r):
    """scipy.interpolate.RBFInterpolator's kernels as written in its documentation."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "linear": lambda: -r,
            "thin_plate_spline": lambda: np.where(r == 0, 0.0, r**2 * np.log(r)),
            "cubic": lambda: r**3,
            "quintic": lambda: -(r**5),
            "multiquadric": lambda: -np.sqrt(1 + r**2),
            "inverse_multiquadric": lambda: 1 / np.sqrt(1 + r**2),
            "inverse_quadratic": lambda: 1 / (1 + r**2),
        }[name]()


SCIPY_KERNELS = [
    "linear",
    "thin_plate_spline",
    "cubic",
    "quintic",
    "multiquadric",
    "inverse_multiquadric",
    "inverse_quadratic",
]
N_FEATURES = [1, 3, DIRECT_MAX_FEATURES + 7]


@pytest.mark.parametrize("name", SCIPY_KERNELS)
@pytest.mark.parametrize("n_features", N_FEATURES)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_scipy_kernels_match_their_definitions(name, n_features, dtype, rtol):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(70, n_features))
    Z = rng.normal(size=(90, n_features))
    bandwidth = 1.7
    expected = scipy_profile(name, cdist(X, Z) / bandwidth)
    K = kernel_matrix(X.astype(dtype), Z.astype(dtype), kernel=name, bandwidth=bandwidth)
    assert K.dtype == dtype
    # Relative to the largest value: cubic and quintic grow like r**3, r**5.
    np.testing.assert_allclose(K, expected, atol=rtol * np.abs(expected).max(), rtol=0)


@pytest.mark.parametrize("name", SCIPY_KERNELS)
def test_square_matrix_has_the_kernels_value_at_zero_on_its_diagonal(name):
    X = np.random.RandomState(1).normal(size=(40, 4))
    K = kernel_matrix(X, kernel=name, bandwidth=2.0)
    np.testing.assert_array_equal(np.diagonal(K), scipy_profile(name, np.zeros(1))[0])
    np.testing.assert_allclose(K, K.T, atol=1e-12 * np.abs(K).max())


def test_thin_plate_spline_is_zero_and_finite_at_duplicates():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    for Z in (X, X.copy()):
        K = kernel_matrix(X, Z, kernel="thin_plate_spline", bandwidth=1.0)
        assert np.all(np.isfinite(K))
        assert K[0, 1] == 0.0 and K[0, 2] == 0.0


def test_minimum_degrees_are_scipys():
    # Fasshauer (2007), Chapter 8, as scipy's RBFInterpolator records them.
    expected = {
        "linear": 0,
        "thin_plate_spline": 1,
        "cubic": 1,
        "quintic": 2,
        "multiquadric": 0,
        "inverse_multiquadric": -1,
        "inverse_quadratic": -1,
        "gaussian": -1,
        "laplacian": -1,
        "cauchy": -1,
        "matern": -1,
    }
    for name, degree in expected.items():
        assert min_degree(kernel_code(name)) == degree, name
        assert KernelSpec(name).min_degree == degree
    assert set(MIN_DEGREE) <= set(range(5, 11))
    assert KernelSpec(lambda a, b: a @ b.T).min_degree == -1


def test_inverse_quadratic_is_cauchy():
    X = np.random.RandomState(2).normal(size=(20, 3))
    np.testing.assert_array_equal(
        kernel_matrix(X, kernel="inverse_quadratic"), kernel_matrix(X, kernel="cauchy")
    )


@settings(max_examples=20, deadline=None)
@given(
    name=st.sampled_from(SCIPY_KERNELS),
    n_x=st.integers(1, 30),
    n_z=st.integers(1, 40),
    n_features=st.sampled_from([1, 2, 15]),
    tile_rows=st.integers(1, 9),
    tile_cols=st.integers(1, 13),
    bandwidth=st.floats(0.3, 10.0),
    seed=st.integers(0, 1000),
)
def test_kernel_product_of_scipy_kernels_is_the_dense_product(
    name, n_x, n_z, n_features, tile_rows, tile_cols, bandwidth, seed
):
    rng = np.random.RandomState(seed)
    X, Z = rng.normal(size=(n_x, n_features)), rng.normal(size=(n_z, n_features))
    A = rng.normal(size=(n_z, 2))
    K = scipy_profile(name, cdist(X, Z) / bandwidth)
    got = kernel_product(
        X,
        Z,
        A,
        kernel=name,
        bandwidth=bandwidth,
        tile_rows=tile_rows,
        tile_cols=tile_cols,
        n_jobs=1,
    )
    scale = np.abs(K).sum(axis=1).max() * np.abs(A).max() + 1e-300
    np.testing.assert_allclose(got, K @ A, atol=1e-11 * scale, rtol=0)
