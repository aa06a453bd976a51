"""Kernel functions and tiles against scikit-learn's pairwise kernels and plain numpy."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.gaussian_process.kernels import Matern, RationalQuadratic
from sklearn.metrics.pairwise import euclidean_distances, rbf_kernel

from skinterp.kernels import KernelSpec, kernel_matrix, kernel_product
from skinterp.kernels._bandwidth import auto_bandwidth, auto_bandwidth_rows
from skinterp.kernels._exp import exp_nonpositive, exp_row_axpy
from skinterp.kernels._tiles import DIRECT_MAX_FEATURES


def reference_kernel(name, X, Z, h, nu=None):
    """The kernel from scikit-learn (Euclidean laplacian written out: sklearn's uses L1)."""
    if name == "laplacian":
        return np.exp(-euclidean_distances(X, Z) / h)
    if name == "gaussian":
        return rbf_kernel(X, Z, gamma=1.0 / (2.0 * h * h))
    if name == "cauchy":
        return RationalQuadratic(length_scale=h / np.sqrt(2.0), alpha=1.0)(X, Z)
    return Matern(length_scale=h, nu=nu)(X, Z)


KERNELS = [
    ("laplacian", None),
    ("gaussian", None),
    ("cauchy", None),
    ("matern", 0.5),
    ("matern", 1.5),
    ("matern", 2.5),
]
# Both tile paths: explicit distances (few features) and BLAS cross products.
N_FEATURES = [3, DIRECT_MAX_FEATURES + 7]


@pytest.mark.parametrize("name, nu", KERNELS)
@pytest.mark.parametrize("n_features", N_FEATURES)
@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-12), (np.float32, 2e-5)])
def test_kernel_matrix_matches_sklearn(name, nu, n_features, dtype, atol):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(70, n_features))
    Z = rng.normal(size=(90, n_features))
    expected = reference_kernel(name, X, Z, 2.5, nu)
    K = kernel_matrix(X.astype(dtype), Z.astype(dtype), kernel=name, bandwidth=2.5, nu=nu)
    assert K.dtype == dtype
    np.testing.assert_allclose(K, expected, atol=atol, rtol=0)


@pytest.mark.parametrize("name, nu", KERNELS)
@pytest.mark.parametrize("n_features", N_FEATURES)
def test_square_kernel_matrix_is_symmetric_with_unit_diagonal(name, nu, n_features):
    X = np.random.RandomState(1).normal(size=(50, n_features)) * 10
    K = kernel_matrix(X, kernel=name, bandwidth=3.0, nu=nu, n_jobs=2)
    np.testing.assert_array_equal(np.diagonal(K), 1.0)
    np.testing.assert_allclose(K, K.T, atol=1e-12)
    assert K.max() <= 1.0


@settings(max_examples=25, deadline=None)
@given(
    n_x=st.integers(1, 40),
    n_z=st.integers(1, 60),
    n_features=st.sampled_from([1, 4, 20]),
    n_outputs=st.integers(1, 3),
    tile_rows=st.integers(1, 17),
    tile_cols=st.integers(1, 23),
    n_jobs=st.sampled_from([1, 2]),
    kernel=st.sampled_from(KERNELS),
    bandwidth=st.floats(0.3, 30.0),
    vector=st.booleans(),
    keep_first=st.integers(0, 70),
    seed=st.integers(0, 2**16),
)
def test_tiled_product_matches_dense_product(
    n_x,
    n_z,
    n_features,
    n_outputs,
    tile_rows,
    tile_cols,
    n_jobs,
    kernel,
    bandwidth,
    vector,
    keep_first,
    seed,
):
    rng = np.random.RandomState(seed)
    X, Z = rng.normal(size=(n_x, n_features)), rng.normal(size=(n_z, n_features))
    A = rng.normal(size=n_z) if vector else rng.normal(size=(n_z, n_outputs))
    name, nu = kernel
    K = reference_kernel(name, X, Z, bandwidth, nu)
    expected = K @ A
    result = kernel_product(
        X,
        Z,
        A,
        kernel=name,
        bandwidth=bandwidth,
        nu=nu,
        n_jobs=n_jobs,
        tile_rows=tile_rows,
        tile_cols=tile_cols,
        keep_first=keep_first,
    )
    if keep_first > 0:
        # The first columns of K, copied out of the tiles on the way.
        result, kept = result
        assert kept.shape == (n_x, min(keep_first, n_z))
        np.testing.assert_allclose(kept, K[:, :keep_first], atol=1e-12, rtol=0)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result, expected, atol=1e-10 * max(1, n_z), rtol=1e-10)


def test_float32_product_is_close_to_float64():
    rng = np.random.RandomState(2)
    X, Z, A = rng.uniform(size=(300, 50)), rng.uniform(size=(500, 50)), rng.normal(size=(500, 4))
    exact = kernel_product(X, Z, A, bandwidth=2.0)
    single = kernel_product(X.astype(np.float32), Z.astype(np.float32), A, bandwidth=2.0)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, exact, atol=1e-3 * np.abs(A).sum(axis=0).max())


def test_callable_kernel_is_the_slow_path_with_the_same_result():
    rng = np.random.RandomState(3)
    X, Z, A = rng.normal(size=(30, 4)), rng.normal(size=(45, 4)), rng.normal(size=(45, 2))

    def gaussian(P, Q):
        return rbf_kernel(P, Q, gamma=0.5)

    np.testing.assert_allclose(
        kernel_product(X, Z, A, kernel=gaussian, tile_rows=7, tile_cols=11, n_jobs=2),
        kernel_product(X, Z, A, kernel="gaussian", bandwidth=1.0),
        atol=1e-12,
    )
    np.testing.assert_allclose(kernel_matrix(X, kernel=gaussian), rbf_kernel(X, gamma=0.5))


def test_callable_kernel_of_wrong_shape_is_refused():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="shape"):
        kernel_matrix(X, X, kernel=lambda P, Q: np.zeros((2, 2)))


def test_duplicates_get_kernel_value_one_not_nan():
    # ||x||^2 - 2 x.z + ||z||^2 cancels to a tiny negative number for equal large rows.
    X = np.full((5, 40), 1e3) + np.arange(5)[:, None] * 1e-9
    K = kernel_matrix(X, X.copy(), kernel="laplacian", bandwidth=1.0)
    assert np.all(np.isfinite(K))
    np.testing.assert_allclose(K, 1.0, atol=1e-3)


def test_product_memory_is_bounded_by_tiles_not_by_n_x_times_n_z():
    rng = np.random.RandomState(4)
    X, Z, A = rng.normal(size=(2000, 30)), rng.normal(size=(3000, 30)), rng.normal(size=(3000, 2))
    kernel_product(X[:5], Z[:5], A[:5])  # compile outside the trace
    tracemalloc.start()
    kernel_product(X, Z, A, tile_rows=256, tile_cols=512, n_jobs=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    full = 2000 * 3000 * 8
    assert peak < full / 8, f"peak {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kernel="sigmoid"), "kernel must be"),
        (dict(kernel="matern", nu=1.0), "nu must be"),
        (dict(bandwidth=0.0), "bandwidth"),
        (dict(bandwidth=np.inf), "bandwidth"),
        (dict(bandwidth="wide"), "bandwidth"),
    ],
)
def test_bad_kernel_parameters_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        KernelSpec(**kwargs)


def test_vectorised_exp_matches_numpy_to_a_few_ulps():
    x = -np.concatenate([np.linspace(0.0, 700.0, 200_001), np.geomspace(1e-300, 1.0, 1000)])
    values = x.copy()
    exp_nonpositive(values, np.empty(values.shape[0], dtype=np.int64))
    np.testing.assert_allclose(values, np.exp(x), rtol=1e-15, atol=0)


def test_vectorised_float32_exp_is_within_one_ulp_of_the_exact_value():
    x = -np.concatenate([np.linspace(0.0, 86.9, 200_001), np.geomspace(1e-30, 1.0, 1000)])
    x = x.astype(np.float32)
    values = x.copy()
    exp_nonpositive(values, np.empty(values.shape[0], dtype=np.int64))
    assert values.dtype == np.float32
    exact = np.exp(x.astype(np.float64))
    np.testing.assert_allclose(values, exact, rtol=np.finfo(np.float32).eps, atol=0)


@pytest.mark.parametrize("dtype, smallest", [(np.float64, 708.0), (np.float32, 87.0)])
def test_vectorised_exp_clamps_far_arguments_to_a_tiny_positive_value(dtype, smallest):
    values = np.array([-1e4, -smallest - 1.0, -0.0], dtype=dtype)
    exp_nonpositive(values, np.empty(3, dtype=np.int64))
    np.testing.assert_allclose(values, [np.exp(-smallest)] * 2 + [1.0], rtol=1e-6)
    assert np.all(values > 0) and np.all(np.isfinite(values))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1e6), min_size=1, max_size=300),
    st.floats(1e-8, 1e3),
    st.floats(-10.0, 10.0),
    st.booleans(),
    st.sampled_from([np.float32, np.float64]),
)
def test_fused_exp_row_is_the_vectorised_exp_bit_for_bit(d2, scale, alpha, root, dtype):
    d2 = np.asarray(d2, dtype=dtype)
    real = np.dtype(dtype).type
    arguments = -np.sqrt(real(scale) * d2) if root else -real(scale) * d2
    expected = arguments.astype(dtype)
    exp_nonpositive(expected, np.empty(expected.size, dtype=np.int64))
    from skinterp.kernel_machine._symmetric import _axpy

    column = np.linspace(-1.0, 1.0, d2.size).astype(dtype)
    separate = column.copy()
    _axpy(real(alpha), expected, separate)  # what the symmetric pass did before the fusion
    out = np.empty_like(d2)
    exp_row_axpy(d2, scale, root, out, alpha, column)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(column, separate)
    reference = np.linspace(-1, 1, d2.size) + alpha * expected.astype(float)
    np.testing.assert_allclose(column, reference, rtol=0, atol=1e-6 * (1 + abs(alpha)))


def test_threaded_calls_leave_the_blas_thread_count_alone():
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    rng = np.random.RandomState(5)
    X, A = rng.normal(size=(1500, 30)), rng.normal(size=(1500, 2))
    before = blas_threads()
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda i: kernel_product(X[i * 50 : i * 50 + 300], X, A, n_jobs=2), range(8))
        )
    assert blas_threads() == before
    np.testing.assert_allclose(results[1], kernel_product(X[50:350], X, A), rtol=1e-12)


# ----------------------------------------------------------------- bandwidth="auto" rule
def _kth_neighbour_reference(X, k=10):
    """The rule by brute force: sklearn's distances within the same fixed subsample."""
    rows = np.unique(X[auto_bandwidth_rows(X.shape[0])], axis=0)
    D = np.sort(euclidean_distances(rows), axis=1)
    return float(np.median(D[:, min(k, rows.shape[0] - 1)]))


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(2, 1500),
    n_features=st.integers(1, 12),
    offset=st.floats(-1e6, 1e6),
    exponent=st.integers(-300, 300),
    seed=st.integers(0, 2**16),
)
def test_auto_bandwidth_is_the_kth_neighbour_distance_and_affine_equivariant(
    n, n_features, offset, exponent, seed
):
    X = np.random.RandomState(seed).normal(size=(n, n_features))
    h = auto_bandwidth(X)
    np.testing.assert_allclose(h, _kth_neighbour_reference(X), rtol=1e-6)
    scale = 2.0**exponent
    moved = auto_bandwidth((X + offset) * scale)
    # Translating by up to 1e6 rounds unit-scale coordinates to ~1e-10 of the offset.
    np.testing.assert_allclose(moved, h * scale, rtol=1e-5 + 1e-8 * abs(offset))


def test_auto_bandwidth_ignores_duplicates_and_is_one_for_constant_data():
    X = np.random.RandomState(0).normal(size=(100, 3))
    assert auto_bandwidth(np.vstack([X] * 5)) == pytest.approx(auto_bandwidth(X))
    assert auto_bandwidth(np.ones((30, 4))) == 1.0
    assert auto_bandwidth(np.zeros((1, 2))) == 1.0


def test_auto_bandwidth_reads_only_its_subsample_and_needs_little_memory():
    X = np.random.RandomState(0).normal(size=(20_000, 5))
    rows = auto_bandwidth_rows(X.shape[0])
    assert rows.shape == (1000,) and np.all(np.diff(rows) > 0)
    assert auto_bandwidth(X) == auto_bandwidth(X[rows])
    tracemalloc.start()
    auto_bandwidth(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * 2**20  # no 1000 x 1000 distance matrix


def test_kernel_products_report_progress_when_verbose(capsys):
    X = np.random.RandomState(0).normal(size=(3000, 5))
    kernel_product(X, X, np.ones(3000), tile_rows=256, verbose=1)
    kernel_matrix(X[:600], verbose=1)
    err = capsys.readouterr().err
    assert "kernel product 3000 x 3000 [" in err and "kernel matrix 600 x 600 [" in err
