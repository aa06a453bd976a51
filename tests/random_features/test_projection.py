"""The sparse-row product of the random features against the dense BLAS product."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.linear_model import LinearRegression

from skinterp import MinNormRFFRegressor
from skinterp.random_features._features import (
    draw_weights,
    sparse_if_mostly_zero,
    unscaled_features,
)
from skinterp.random_features._projection import sparse_rows_times_dense


@settings(max_examples=50, deadline=None)
@given(
    n_rows=st.integers(1, 30),
    n_inputs=st.integers(1, 20),
    n_columns=st.integers(1, 40),
    density=st.floats(0.0, 1.0),
    start=st.integers(0, 5),
    seed=st.integers(0, 2**16),
)
def test_sparse_rows_times_dense_is_the_matrix_product(
    n_rows, n_inputs, n_columns, density, start, seed
):
    # Rows with 0 to n_inputs nonzeros exercise the four-at-a-time loop and its remainder.
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows + start, n_inputs)) * (
        rng.random((n_rows + start, n_inputs)) < density
    )
    W = rng.normal(size=(n_inputs, n_columns))
    rows = sparse.csr_matrix(X)
    out = np.full((n_rows, n_columns), np.nan)
    sparse_rows_times_dense(rows.indptr, rows.indices, rows.data, W, out, start)
    np.testing.assert_allclose(out, X[start:] @ W, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("kind", ["fourier", "relu"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_and_dense_inputs_give_the_same_features(kind, dtype):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(300, 50)) * (rng.random((300, 50)) < 0.1)).astype(dtype)
    rows = sparse_if_mostly_zero(X)
    assert sparse.issparse(rows)
    weights, offsets = draw_weights(kind, 50, 700, 2.0, 0)
    for n_jobs in (None, 1, 2):
        result = unscaled_features(rows, weights, offsets, kind, 100, 650, n_jobs=n_jobs)
        expected = unscaled_features(X, weights, offsets, kind, 100, 650)
        assert result.dtype == dtype
        np.testing.assert_allclose(result, expected, atol=100 * np.finfo(dtype).eps)


def test_only_mostly_zero_inputs_become_sparse():
    rng = np.random.default_rng(1)
    dense = rng.normal(size=(200, 100))
    assert sparse_if_mostly_zero(dense) is dense
    assert not sparse.issparse(sparse_if_mostly_zero(dense[:10, :10] * 0))  # small
    assert sparse.issparse(sparse_if_mostly_zero(dense * (rng.random(dense.shape) < 0.2)))


def test_estimator_on_mostly_zero_inputs_equals_linear_regression():
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(120, 60)) * (rng.random((120, 60)) < 0.15)
    Y = rng.normal(size=(120, 3))
    X_test = rng.uniform(size=(40, 60)) * (rng.random((40, 60)) < 0.15)
    for n_components in (60, 600):  # primal and dual
        model = MinNormRFFRegressor(n_components=n_components, bandwidth=1.0, random_state=0)
        model.fit(X, Y)
        scale = np.sqrt(2.0 / n_components)
        Phi = scale * np.cos(X @ model.random_weights_ + model.random_offset_)
        Phi_test = scale * np.cos(X_test @ model.random_weights_ + model.random_offset_)
        peer = LinearRegression(fit_intercept=False, tol=0).fit(Phi, Y)
        expected = peer.predict(Phi_test)
        error = np.linalg.norm(model.predict(X_test) - expected) / np.linalg.norm(expected)
        assert error < 1e-6
