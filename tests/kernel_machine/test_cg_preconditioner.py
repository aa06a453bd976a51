"""cg's pieces: the symmetric kernel pass, the two-level preconditioner, "auto" with a ridge."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp import KernelInterpolator
from skinterp.kernel_machine import _cost
from skinterp.kernel_machine._cg import cg_fit
from skinterp.kernel_machine._polynomial_tail import PolynomialBasis
from skinterp.kernel_machine._preconditioner import (
    NystromPreconditioner,
    SchwarzPreconditioner,
    kd_leaves,
    nystrom_factor,
)
from skinterp.kernel_machine._symmetric import symmetric_kernel_product
from skinterp.kernels import KernelSpec, kernel_product


# ------------------------------------------------------------------ symmetric kernel pass
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 300),
    d=st.sampled_from([1, 2, 12]),
    c=st.integers(1, 3),
    tile=st.sampled_from([7, 32, 512]),
    kernel=st.sampled_from(["laplacian", "gaussian", "thin_plate_spline", "cubic"]),
    seed=st.integers(0, 2**16),
)
def test_symmetric_pass_equals_the_full_kernel_product(n, d, c, tile, kernel, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, d))
    V = rng.normal(size=(n, c))
    spec = KernelSpec(kernel, 0.7)
    expected = kernel_product(X, X, V, kernel=spec)
    result = symmetric_kernel_product(X, V, spec, tile=tile)
    scale = np.abs(expected).max() + 1e-300
    np.testing.assert_allclose(result, expected, rtol=0, atol=1e-12 * scale * max(n, 1))


def test_symmetric_pass_is_the_same_bits_with_one_or_two_threads_and_float32_stays_float32():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2100, 3))
    V = rng.normal(size=(2100, 2))
    spec = KernelSpec("laplacian", 1.0)
    one = symmetric_kernel_product(X, V, spec, n_jobs=1, tile=100)
    two = symmetric_kernel_product(X, V, spec, n_jobs=2, tile=100)
    assert np.array_equal(one, two)
    single = symmetric_kernel_product(X.astype(np.float32), V, spec, tile=100)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, one, rtol=0, atol=1e-4 * np.abs(one).max())
    # The BLAS tiles' path (many features, more outputs than the fused tiles take).
    X, V = rng.normal(size=(1300, 12)), rng.normal(size=(1300, 6))
    one = symmetric_kernel_product(X, V, spec, n_jobs=1, tile=100)
    two = symmetric_kernel_product(X, V, spec, n_jobs=2, tile=100)
    assert np.array_equal(one, two)
    np.testing.assert_allclose(one, kernel_product(X, X, V, kernel=spec), rtol=0, atol=1e-10)


# ------------------------------------------------------------------ two-level preconditioner
def tps_system(n, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n, 2))
    y = np.sin(6 * X[:, 0]) * np.cos(4 * X[:, 1]) + X[:, 1] ** 2
    return X, y[:, None], KernelSpec("thin_plate_spline", 1.0), PolynomialBasis(X, 1).matrix(X)


def test_kd_leaves_partition_the_points_into_small_leaves():
    X = np.random.RandomState(0).uniform(size=(1000, 3))
    leaves = kd_leaves(X, 64)
    assert all(0 < leaf.size <= 64 for leaf in leaves)
    assert np.array_equal(np.sort(np.concatenate(leaves)), np.arange(1000))


@pytest.mark.parametrize("with_tail", [False, True])
def test_both_preconditioners_are_symmetric_positive_definite(with_tail):
    X, _, spec, P = tps_system(500)
    if not with_tail:
        spec, P = KernelSpec("laplacian", 0.5), None
    landmarks = np.arange(0, 500, 10)
    B, shift, tail = nystrom_factor(X, spec, landmarks, P, n_jobs=1)
    ridge = np.full(500, 1e-6)
    V = np.random.RandomState(1).normal(size=(500, 40))
    for M in (
        NystromPreconditioner(B, shift, 1e-6),
        SchwarzPreconditioner(X, spec, B, tail, ridge, leaf_size=40, overlap=5),
    ):
        MV = M(V)
        gram = V.T @ MV
        np.testing.assert_allclose(gram, gram.T, rtol=1e-8, atol=1e-8 * np.abs(gram).max())
        assert np.linalg.eigvalsh((gram + gram.T) / 2).min() > 0


def test_two_level_takes_tens_of_iterations_where_nystrom_takes_hundreds():
    X, y, spec, P = tps_system(1500)
    two_level = cg_fit(X, y, spec, P=P, tol=1e-8, max_iter=200, preconditioner="schwarz")
    nystrom = cg_fit(X, y, spec, P=P, tol=1e-8, max_iter=100, preconditioner="nystrom")
    assert two_level.preconditioner == "schwarz" and nystrom.preconditioner == "nystrom"
    assert two_level.converged and two_level.residual <= 1e-8 and two_level.n_iter <= 30
    assert not nystrom.converged and nystrom.n_iter == 100


def test_the_estimator_uses_the_two_level_preconditioner_in_few_dimensions(capsys):
    X, y, _, _ = tps_system(800)
    model = KernelInterpolator(kernel="thin_plate_spline", solver="cg", verbose=1).fit(X, y)
    assert "two-level Schwarz" in capsys.readouterr().err
    assert model.cg_residual_ <= 1e-10 and model.n_iter_ <= 40
    X8 = np.random.RandomState(0).normal(size=(300, 8))
    KernelInterpolator(solver="cg", ridge=1e-3, verbose=1).fit(X8, X8[:, 0])
    assert "Nystrom, eigenvalues" in capsys.readouterr().err


# ------------------------------------------------------------------ "auto" with a ridge
@pytest.fixture
def rates(monkeypatch):
    """Fixed machine rates: the cost model's choice no longer depends on the machine."""

    def set_rates(kernel_values_per_second, gemm_flops=1e10):
        monkeypatch.setattr(_cost, "kernel_rate", lambda *args: kernel_values_per_second)
        monkeypatch.setattr(_cost, "gemm_rate", lambda: gemm_flops)

    return set_rates


def test_ridge_prefers_cg_when_kernel_values_are_cheap_against_the_cholesky(rates):
    spec = KernelSpec("laplacian", 1.0)
    rates(1e8)
    # cg: 90 iterations of n^2/2 values; direct: 4 n^2 values and n^3/3 flops.
    small = _cost.ridge_prefers_cg(1000, 8, 1, 0, 500, 1e-10, spec, np.float64)
    large = _cost.ridge_prefers_cg(100_000, 8, 1, 0, 500, 1e-10, spec, np.float64)
    assert not small[0] and large[0]
    assert large[1].seconds < large[2].seconds
    assert _cost.cg_iterations_estimate(1e-10) == 90
    assert _cost.cg_iterations_estimate(1e-7) == 63


def test_auto_takes_cg_for_a_ridge_when_the_cost_model_says_faster_and_direct_otherwise(rates):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 8))
    y = np.sin(X[:, 0])
    rates(1e15, gemm_flops=1e6)  # kernel values free, dense algebra slow: cg
    model = KernelInterpolator(ridge=1e-3, subsample_size=20).fit(X, y)
    assert model.solver_ == "cg" and model.n_iter_ > 0
    assert KernelInterpolator().fit(X, y).solver_ == "direct"  # no ridge: interpolation
    per_sample = np.full(400, 1e-3)
    per_sample[0] = 0.0  # one sample without a ridge: no bound, direct
    assert KernelInterpolator(ridge=per_sample).fit(X, y).solver_ == "direct"
    rates(1e3, gemm_flops=1e15)  # kernel values dear: direct
    assert KernelInterpolator(ridge=1e-3).fit(X, y).solver_ == "direct"
