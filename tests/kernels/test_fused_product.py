"""The fused kernel product of few features (rows of kernel values reduced as they are made,
:func:`skinterp.kernels._functions.direct_kernel_product`) against the kernel tile times A."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.kernels import KERNEL_NAMES, KernelSpec, kernel_matrix, kernel_product
from skinterp.kernels._functions import direct_kernel_product


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n_x=st.integers(1, 30),
    n_z=st.integers(1, 300),
    d=st.integers(1, 10),
    outputs=st.integers(1, 3),
    kernel=st.sampled_from(KERNEL_NAMES),
    dtype=st.sampled_from([np.float64, np.float32]),
)
def test_fused_rows_equal_the_kernel_tile_times_a(seed, n_x, n_z, d, outputs, kernel, dtype):
    rng = np.random.RandomState(seed)
    X, Z = rng.uniform(size=(n_x, d)).astype(dtype), rng.uniform(size=(n_z, d)).astype(dtype)
    A = rng.normal(size=(n_z, outputs)).astype(dtype)
    spec = KernelSpec(kernel, 0.7)
    K = kernel_matrix(X.astype(np.float64), Z.astype(np.float64), kernel=spec)
    expected = K @ A.astype(np.float64)
    AT = np.ascontiguousarray(A.T)
    out = direct_kernel_product(X, np.ascontiguousarray(Z.T), spec.code, 1 / 0.7**2, AT)
    assert out.dtype == dtype and out.shape == (n_x, outputs)
    scale = np.abs(K).sum(axis=1).max() * np.abs(A).max()
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, expected, atol=tol * scale, rtol=0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_product_is_the_same_bits_on_one_or_two_threads(dtype):
    """Tiles of columns and rows keep one order of summation whatever n_jobs is."""
    rng = np.random.RandomState(0)
    X, Z = rng.uniform(size=(700, 2)).astype(dtype), rng.uniform(size=(5000, 2)).astype(dtype)
    A = rng.normal(size=(5000, 2)).astype(dtype)
    spec = KernelSpec("thin_plate_spline", 1.0)
    one = kernel_product(X, Z, A, kernel=spec, n_jobs=1, tile_rows=256, tile_cols=2048)
    two = kernel_product(X, Z, A, kernel=spec, n_jobs=2, tile_rows=256, tile_cols=2048)
    few = kernel_product(X[:3], Z, A, kernel=spec, n_jobs=2, tile_rows=256, tile_cols=2048)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(few, one[:3])
