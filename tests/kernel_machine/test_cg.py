"""solver="cg": projected Nystrom-preconditioned conjugate gradient against the direct solve."""

import os
import signal
import threading
import time

import numpy as np
import pytest
from scipy.interpolate import RBFInterpolator
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skinterp import KernelInterpolator


def data(n, d, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, d))
    Y = np.column_stack([np.sin(3 * X[:, 0]) + X[:, -1] ** 2, X.sum(axis=1)])
    return X, Y, rng.uniform(-1, 1, size=(50, d))


@pytest.mark.parametrize(
    "kernel, degree, ridge, d",
    [
        ("laplacian", None, 0.0, 3),
        ("laplacian", 1, 0.0, 4),
        ("matern", None, 1e-3, 5),
        ("thin_plate_spline", None, 0.0, 2),
        ("cubic", None, 0.0, 3),
        ("gaussian", None, 1e-2, 2),
    ],
)
def test_cg_agrees_with_direct(kernel, degree, ridge, d):
    X, Y, X_test = data(400, d)
    params = dict(kernel=kernel, bandwidth=0.8, degree=degree, ridge=ridge)
    direct = KernelInterpolator(solver="direct", **params).fit(X, Y)
    cg = KernelInterpolator(solver="cg", random_state=0, **params).fit(X, Y)
    expected = direct.predict(X_test)
    np.testing.assert_allclose(
        cg.predict(X_test), expected, atol=1e-8 * np.abs(expected).max(), rtol=0
    )
    assert cg.solver_ == "cg" and cg.cg_residual_ <= 1e-10 and 0 < cg.n_iter_ < 1000
    assert cg.interpolates_ == (ridge == 0)
    if degree is not None or kernel in ("thin_plate_spline", "cubic"):
        np.testing.assert_allclose(
            cg.polynomial_coef_,
            direct.polynomial_coef_,
            atol=1e-6 * np.abs(direct.polynomial_coef_).max(),
        )


def test_cg_equals_scipy_thin_plate_spline():
    X, Y, X_test = data(300, 2, seed=1)
    model = KernelInterpolator(kernel="thin_plate_spline", solver="cg").fit(X, Y)
    expected = RBFInterpolator(X, Y)(X_test)
    np.testing.assert_allclose(model.predict(X_test), expected, atol=1e-8 * np.abs(expected).max())


def test_cg_float32_reaches_its_floor():
    X, Y, X_test = data(300, 3, seed=2)
    model = KernelInterpolator(solver="cg", bandwidth=0.8).fit(X.astype(np.float32), Y)
    direct = KernelInterpolator(solver="direct", bandwidth=0.8).fit(X, Y)
    assert model.predict(X_test.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(model.predict(X_test), direct.predict(X_test), atol=1e-3)
    assert model.cg_residual_ <= 1e-5


def test_cg_warns_when_max_iter_is_reached():
    X, Y, _ = data(300, 2)
    with pytest.warns(ConvergenceWarning, match="cg_max_iter=3"):
        model = KernelInterpolator(
            kernel="thin_plate_spline", solver="cg", cg_max_iter=3, subsample_size=10
        ).fit(X, Y)
    assert model.n_iter_ == 3 and model.cg_residual_ > 1e-10


def test_auto_takes_cg_for_a_tail_beyond_the_memory_budget_and_eigenpro_otherwise():
    X, Y, _ = data(600, 2)
    small = dict(memory_limit=2.0)  # 600 x 600 float64 is 2.7 MiB
    assert KernelInterpolator(kernel="thin_plate_spline", **small).fit(X, Y).solver_ == "cg"
    assert KernelInterpolator(ridge=0.1, **small).fit(X, Y).solver_ == "cg"
    assert KernelInterpolator(cg_tol=1e-10, tol=1e-9, **small).fit(X, Y).solver_ == "cg"
    with pytest.warns(ConvergenceWarning, match="EigenPro stopped"):
        plain = KernelInterpolator(n_epochs=2, tol=0.5, random_state=0, **small).fit(X, Y)
    assert plain.solver_ == "eigenpro"
    assert KernelInterpolator(kernel="thin_plate_spline").fit(X, Y).solver_ == "direct"


def test_cg_verbose_reports_setup_and_iterations(capsys):
    X, Y, _ = data(200, 2)
    KernelInterpolator(solver="cg", verbose=1).fit(X, Y)
    err = capsys.readouterr().err
    assert "preconditioner on 200 landmarks" in err and "two-level Schwarz" in err
    assert "iteration 1: relative residual" in err and "exact relative residual" in err


def test_sigint_interrupts_cg_promptly_and_leaves_the_estimator_unfitted():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(6000, 30))
    y = np.sin(X[:, 0])
    model = KernelInterpolator(
        solver="cg", cg_tol=0.0, cg_max_iter=10_000, n_jobs=2, subsample_size=50
    )
    timer = threading.Timer(1.5, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 3.0
    with pytest.raises(NotFittedError):
        model.predict(X[:3])


# ------------------------------------------------------------------------- cost model
def test_cost_model_measures_rates_and_estimates_grow_with_n():
    from skinterp.kernel_machine._cost import cg_cost, direct_cost, gemm_rate, kernel_rate
    from skinterp.kernels import KernelSpec

    spec = KernelSpec("thin_plate_spline", 1.0)
    assert 1e7 < gemm_rate() < 1e14
    assert 1e5 < kernel_rate(spec, 3, np.float64) < 1e12
    small, large = (direct_cost(n, 3, 1, 4, 8, spec, np.float64) for n in (1000, 10_000))
    assert large.bytes == 100 * small.bytes == 8e8
    assert 500 < large.flops / small.flops < 1100 and large.seconds > 100 * small.seconds
    cg = cg_cost(10_000, 3, 1, 4, 500, 100, spec, np.float64)
    assert cg.bytes < large.bytes / 5


def test_direct_request_over_the_budget_is_refused_with_the_estimate():
    X, Y, _ = data(3000, 2)
    with pytest.raises(
        MemoryError,
        match=r"Refused before allocating: direct solve, "
        r"n=3,000: ~.* Gflop, 69 MiB, ~.* s",
    ):
        KernelInterpolator(kernel="thin_plate_spline", solver="direct", memory_limit=20).fit(X, Y)


def test_verbose_prints_the_cost_estimate(capsys):
    X, Y, _ = data(200, 2)
    KernelInterpolator(kernel="cubic", verbose=1).fit(X, Y)
    assert "cost estimate, direct solve, n=200: ~" in capsys.readouterr().err
    KernelInterpolator(kernel="cubic", solver="cg", verbose=1).fit(X, Y)
    assert "cost estimate, cg, n=200, 1000 iterations at most" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kernel, bandwidth, ridge",
    [
        ("laplacian", 0.5, 0.0),
        ("laplacian", 2.0, 1e-3),
        ("matern", 0.3, 0.0),
        ("cauchy", 0.2, 0.0),
        ("gaussian", 0.1, 1e-6),
        ("inverse_multiquadric", 0.1, 0.0),
    ],
)
def test_mixed_precision_cg_reaches_the_float64_solution(kernel, bandwidth, ridge):
    from skinterp.kernel_machine._cg import cg_fit
    from skinterp.kernels._tiles import KernelSpec

    X, Y, _ = data(500, 3, seed=2)
    spec = KernelSpec(kernel, bandwidth)
    ridge = np.full(len(X), ridge)
    common = dict(ridge=ridge, tol=1e-10, n_landmarks=60, n_jobs=1)
    mixed = cg_fit(X, Y, spec, **common)
    plain = cg_fit(X, Y, spec, mixed_precision=False, **common)
    assert mixed.mixed_precision and not plain.mixed_precision
    assert mixed.converged and mixed.residual <= 1e-10
    # The exact residual was computed in float64: the float32 passes' drift was corrected.
    assert mixed.exact_passes >= 2 and plain.exact_passes == 1
    scale = np.abs(plain.coef).max()
    np.testing.assert_allclose(mixed.coef, plain.coef, atol=1e-6 * scale, rtol=0)
    fitted = mixed.fitted
    np.testing.assert_allclose(fitted + ridge[:, None] * mixed.coef, Y, atol=1e-8, rtol=0)


def test_mixed_precision_falls_back_to_float64_when_float32_stalls(capsys):
    from skinterp.kernel_machine._cg import cg_fit
    from skinterp.kernels._tiles import KernelSpec

    # A smooth kernel, wide for 400 points in the square: float32 rounding loses the
    # system's small eigenvalues (measured: float64 from the first reliable update, 65
    # iterations in all against 55 in float64 throughout).
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(400, 2))
    Y = np.sin(6 * X[:, :1])
    spec = KernelSpec("inverse_multiquadric", 0.15)
    common = dict(tol=1e-10, n_landmarks=50, n_jobs=1, max_iter=400)
    result = cg_fit(X, Y, spec, verbose=1, **common)
    assert "float64 on" in capsys.readouterr().err
    assert result.converged and result.residual <= 1e-10
    plain = cg_fit(X, Y, spec, mixed_precision=False, **common)
    assert plain.converged and result.n_iter < 2 * plain.n_iter
    scale = np.abs(plain.coef).max()
    np.testing.assert_allclose(result.coef, plain.coef, atol=1e-6 * scale, rtol=0)


def test_mixed_precision_only_for_float64_positive_definite_kernels_without_a_tail():
    from skinterp.kernel_machine._cg import cg_fit, uses_mixed_precision
    from skinterp.kernels._tiles import KernelSpec

    laplacian, tps = KernelSpec("laplacian", 1.0), KernelSpec("thin_plate_spline", 1.0)
    assert uses_mixed_precision(laplacian, np.float64, 0)
    assert not uses_mixed_precision(laplacian, np.float32, 0)
    assert not uses_mixed_precision(laplacian, np.float64, 3)
    assert not uses_mixed_precision(tps, np.float64, 3)
    assert not uses_mixed_precision(KernelSpec(lambda A, B: A @ B.T, 1.0), np.float64, 0)
    X, Y, _ = data(200, 2)
    P = np.column_stack([np.ones(len(X)), X])
    result = cg_fit(X, Y, tps, P=P, tol=1e-10, n_jobs=1)
    assert not result.mixed_precision and result.exact_passes == 1 and result.converged


def test_mixed_precision_float32_passes_do_not_lose_digits_to_an_offset(capsys):
    from skinterp.kernel_machine._cg import cg_fit
    from skinterp.kernels._tiles import KernelSpec

    # An offset of 10,000 bandwidths: float32 coordinates there are spaced 5e-4 apart, which
    # would blur the kernel values by 1e-3 without the centring of the float32 copy.
    X, Y, _ = data(400, 2, seed=4)
    spec = KernelSpec("laplacian", 0.5)
    common = dict(tol=1e-10, n_landmarks=50, n_jobs=1, verbose=1)
    near = cg_fit(X, Y, spec, **common)
    far = cg_fit(X + 5000.0, Y, spec, **common)
    assert "float64 on" not in capsys.readouterr().err
    assert far.converged and abs(far.n_iter - near.n_iter) <= 3
    np.testing.assert_allclose(far.coef, near.coef, rtol=0, atol=1e-7 * np.abs(near.coef).max())
