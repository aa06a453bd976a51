"""kernel_matrix(lower=True): the lower triangle of the full matrix, bit for bit."""

import numpy as np
import pytest

from skinterp.kernels import KERNEL_NAMES, kernel_matrix


@pytest.mark.parametrize("kernel", KERNEL_NAMES)
@pytest.mark.parametrize("n_features", [1, 2, 3, 5, 12])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lower_triangle_equals_the_full_matrix(kernel, n_features, dtype):
    X = np.random.RandomState(n_features).normal(size=(301, n_features)).astype(dtype)
    X[7] = X[3]  # a duplicate: r = 0 off the diagonal
    full = kernel_matrix(X, kernel=kernel, bandwidth=1.3, tile_rows=64, n_jobs=2)
    lower = kernel_matrix(X, kernel=kernel, bandwidth=1.3, tile_rows=64, n_jobs=2, lower=True)
    assert lower.dtype == dtype
    rows, cols = np.tril_indices(X.shape[0])
    np.testing.assert_array_equal(lower[rows, cols], full[rows, cols])
    if n_features <= 10:  # computed for few features only; the rest stays zero
        np.testing.assert_array_equal(lower[np.triu_indices(X.shape[0], 1)], 0)
