"""cg for kernel ridge regression: randomly pivoted Cholesky landmarks, the Nystrom
preconditioner's one-block form, and agreement with scikit-learn's KernelRidge."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg
from sklearn.kernel_ridge import KernelRidge

from skinterp import KernelInterpolator
from skinterp.kernel_machine._cg import cg_fit
from skinterp.kernel_machine._preconditioner import (
    NystromPreconditioner,
    nystrom_factor,
    rpcholesky_factor,
)
from skinterp.kernels import KernelSpec, kernel_matrix


def residual_trace_and_min_eigenvalue(K, B):
    E = K - B @ B.T
    return float(np.trace(E)), float(linalg.eigvalsh(E)[0])


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(20, 160),
    d=st.integers(1, 6),
    kernel=st.sampled_from(["laplacian", "gaussian", "matern"]),
    seed=st.integers(0, 2**16),
)
def test_rpcholesky_residual_is_positive_semidefinite_and_shrinks_with_the_rank(
    n, d, kernel, seed
):
    X = np.random.RandomState(seed).normal(size=(n, d))
    spec = KernelSpec(kernel, 1.5)
    K = kernel_matrix(X, kernel=spec)
    traces = []
    for rank in (n // 8, n // 4, n // 2):
        B, pivots = rpcholesky_factor(X, spec, max(rank, 1), random_state=seed, n_jobs=1)
        assert B.shape == (n, pivots.size) and pivots.size <= max(rank, 1)
        assert np.unique(pivots).size == pivots.size
        trace, smallest = residual_trace_and_min_eigenvalue(K, B)
        # K - B B^T is the Schur complement of K on the pivots: positive semi-definite.
        assert smallest >= -1e-9 * n
        traces.append(trace)
    # Uniformly drawn landmarks of the largest rank do no better than randomly pivoted
    # Cholesky at that rank by more than rounding, and the trace falls with the rank.
    assert traces[0] >= traces[1] - 1e-8 * n and traces[1] >= traces[2] - 1e-8 * n


def test_rpcholesky_factor_reproduces_the_kernel_on_its_pivots():
    X = np.random.RandomState(0).normal(size=(300, 4))
    spec = KernelSpec("laplacian", 2.0)
    B, pivots = rpcholesky_factor(X, spec, 60, random_state=0, n_jobs=2)
    K_columns = kernel_matrix(X, X[pivots], kernel=spec)
    np.testing.assert_allclose(B @ B[pivots].T, K_columns, rtol=0, atol=1e-10)


def test_rpcholesky_of_a_low_rank_kernel_stops_with_an_exact_factor():
    # Five distinct points, each repeated: K has rank 5.
    X = np.repeat(np.random.RandomState(1).normal(size=(5, 3)), 40, axis=0)
    spec = KernelSpec("gaussian", 1.0)
    B, pivots = rpcholesky_factor(X, spec, 100, random_state=0, n_jobs=1)
    assert pivots.size == 5
    np.testing.assert_allclose(B @ B.T, kernel_matrix(X, kernel=spec), rtol=0, atol=1e-12)


def test_rpcholesky_beats_uniform_landmarks_on_clustered_data():
    # Ten tight clusters of very different sizes: uniform draws miss the small ones.
    rng = np.random.RandomState(0)
    sizes = [400, 200, 100, 50, 20, 10, 5, 5, 5, 5]
    X = np.concatenate([rng.normal(5 * i, 0.05, size=(m, 3)) for i, m in enumerate(sizes)])
    spec = KernelSpec("laplacian", 1.0)
    K = kernel_matrix(X, kernel=spec)
    B, _ = rpcholesky_factor(X, spec, 30, random_state=0, n_jobs=1)
    uniform = np.sort(np.random.RandomState(0).choice(len(X), 30, replace=False))
    B_uniform, _, _ = nystrom_factor(X, spec, uniform, None, 1)
    assert np.trace(K - B @ B.T) < 0.9 * np.trace(K - B_uniform @ B_uniform.T)


@pytest.mark.parametrize("mu", [0.0, 1e-3])
def test_nystrom_preconditioner_is_the_eigenvector_form_without_its_second_block(mu):
    X = np.random.RandomState(2).normal(size=(200, 5))
    spec = KernelSpec("laplacian", 1.0)
    B, _ = rpcholesky_factor(X, spec, 40, random_state=0, n_jobs=1)
    M = NystromPreconditioner(B, 0.0, mu)
    # Frangella, Tropp and Udell's form with the eigenvectors U of B B^T.
    U, values, _ = np.linalg.svd(B, full_matrices=False)
    lam = values**2
    scale = lam[-1] + mu
    reference = scale * (U / (lam + mu)) @ U.T + np.eye(200) - U @ U.T
    np.testing.assert_allclose(M(np.eye(200)), reference, rtol=0, atol=1e-8)
    # Symmetric positive definite, so that CG applies.
    assert linalg.eigvalsh(reference)[0] > 0


def test_nystrom_preconditioner_by_row_blocks_is_the_same_bits_on_any_threads():
    from skinterp.kernel_machine._preconditioner import PRECONDITIONER_ROWS

    rng = np.random.RandomState(3)
    n = 2 * PRECONDITIONER_ROWS + 123  # three blocks, the last one short
    B = rng.normal(size=(n, 30)) / 10
    R = rng.normal(size=(n, 2))
    one = NystromPreconditioner(B, 0.0, 1e-3, n_jobs=1)(R)
    two = NystromPreconditioner(B, 0.0, 1e-3, n_jobs=2)(R)
    np.testing.assert_array_equal(one, two)
    M = NystromPreconditioner(B, 0.0, 1e-3)
    np.testing.assert_allclose(one, R + B @ (M.W @ (B.T @ R)), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n, d, ridge", [(400, 8, 1e-3), (300, 3, 1e-2), (250, 5, 1.0)])
def test_ridge_cg_predicts_as_kernel_ridge(n, d, ridge):
    rng = np.random.RandomState(n)
    X = rng.normal(size=(n, d))
    y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=n)
    Q = rng.normal(size=(50, d))
    spec = KernelSpec("laplacian", 2.0)
    reference = KernelRidge(kernel="precomputed", alpha=ridge).fit(
        kernel_matrix(X, kernel=spec), y
    )
    expected = reference.predict(kernel_matrix(Q, X, kernel=spec))
    model = KernelInterpolator(bandwidth=2.0, ridge=ridge, solver="cg", cg_tol=1e-8).fit(X, y)
    assert model.solver_ == "cg" and model.cg_residual_ <= 1e-8
    np.testing.assert_allclose(model.predict(Q), expected, rtol=0, atol=1e-6 * np.abs(y).max())


def test_cg_with_rpcholesky_and_uniform_landmarks_reach_the_same_solution():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(500, 6))
    Y = np.stack([np.cos(X[:, 0]), X[:, 1] ** 2], axis=1)
    spec = KernelSpec("laplacian", 1.5)
    ridge = np.full(500, 1e-3)
    pivoted = cg_fit(X, Y, spec, ridge=ridge, tol=1e-10, n_landmarks=150, landmarks="rpcholesky")
    uniform = cg_fit(X, Y, spec, ridge=ridge, tol=1e-10, n_landmarks=150, landmarks="uniform")
    assert pivoted.converged and uniform.converged
    np.testing.assert_allclose(
        pivoted.coef, uniform.coef, rtol=0, atol=1e-6 * np.abs(uniform.coef).max()
    )


def test_rpcholesky_landmarks_are_refused_with_a_tail():
    X = np.random.RandomState(0).uniform(size=(50, 2))
    P = np.hstack([np.ones((50, 1)), X])
    with pytest.raises(ValueError, match="without a tail"):
        cg_fit(X, X[:, :1], KernelSpec("thin_plate_spline", 1.0), P=P, landmarks="rpcholesky")


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 40),
    cols=st.integers(1, 70),
    d=st.integers(1, 10),
    c=st.integers(1, 4),
    code=st.sampled_from([0, 1, 3, 4]),  # laplacian, gaussian, matern 3/2, matern 5/2
    log_inv_h2=st.floats(-6.0, 6.0),  # up to distances whose kernel values underflow
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**16),
)
def test_fused_tile_is_the_stored_tile_times_the_vectors(
    rows, cols, d, c, code, log_inv_h2, dtype, seed
):
    from skinterp.kernel_machine._symmetric import _fused_tile
    from skinterp.kernels._functions import direct_kernel_tile

    rng = np.random.RandomState(seed)
    X = rng.normal(size=(rows + cols, d)).astype(dtype)
    ZT = np.ascontiguousarray(X[rows:].T)
    VT = rng.normal(size=(c, rows + cols)).astype(dtype)
    inv_h2 = 10.0**log_inv_h2
    tile = np.empty((rows, cols), dtype=dtype)
    direct_kernel_tile(X[:rows], ZT, code, inv_h2, tile)
    rows_T = np.zeros((c, rows + cols), dtype=dtype)
    columns_T = np.zeros((c, rows + cols), dtype=dtype)
    _fused_tile(X, ZT, 0, rows, rows, code, inv_h2, VT, rows_T, columns_T, True)
    tol = (1e-12 if dtype == np.float64 else 1e-5) * (cols + rows)
    np.testing.assert_allclose(rows_T[:, :rows], VT[:, rows:] @ tile.T, rtol=0, atol=tol)
    np.testing.assert_allclose(columns_T[:, rows:], VT[:, :rows] @ tile, rtol=0, atol=tol)
    assert not rows_T[:, rows:].any() and not columns_T[:, :rows].any()
    assert np.all(np.isfinite(rows_T)) and np.all(np.isfinite(columns_T))


def test_ridge_cg_with_rpcholesky_is_the_same_bits_with_one_or_two_threads():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 6))
    y = np.sin(X[:, 0])
    # The default 1,000 landmarks: products large enough for BLAS to split them by threads.
    fits = [
        KernelInterpolator(solver="cg", ridge=1e-3, bandwidth=2.0, random_state=0, n_jobs=j).fit(
            X, y
        )
        for j in (1, 2)
    ]
    assert fits[0].n_components_ == 1000
    assert np.array_equal(fits[0].dual_coef_, fits[1].dual_coef_)
