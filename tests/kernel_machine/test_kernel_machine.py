"""KernelInterpolator and KernelInterpolationClassifier: direct solve, EigenPro, contracts."""

import os
import signal
import threading
import time
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.estimator_checks import parametrize_with_checks

from skinterp import KernelInterpolationClassifier, KernelInterpolator
from skinterp._base import InterpolationWarning
from skinterp._linalg import blocked_cholesky
from skinterp.kernel_machine import eigenpro_fit
from skinterp.kernel_machine._core import direct_solver_fits
from skinterp.kernels import KernelSpec, kernel_matrix
from skinterp.kernels._bandwidth import auto_bandwidth


def laplacian(X, Z, h):
    return np.exp(-euclidean_distances(X, Z) / h)


@pytest.fixture(scope="module")
def regression_data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 5))
    y = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=400)
    X_test = rng.uniform(-1, 1, size=(200, 5))
    return X, y, X_test


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600], X[600:900] / 16.0, y[600:900]


# ---------------------------------------------------------------------------------- direct
def test_direct_matches_numpy_solve(regression_data):
    X, y, X_test = regression_data
    model = KernelInterpolator(bandwidth=1.5, solver="direct").fit(X, y)
    coef = np.linalg.solve(laplacian(X, X, 1.5), y)
    np.testing.assert_allclose(model.dual_coef_, coef, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(
        model.predict(X_test), laplacian(X_test, X, 1.5) @ coef, rtol=1e-8, atol=1e-8
    )
    assert model.solver_ == "direct" and not model.used_pseudo_inverse_
    np.testing.assert_allclose(model.norm_, np.sqrt(coef @ laplacian(X, X, 1.5) @ coef))


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 60),
    n_features=st.integers(1, 12),
    n_outputs=st.integers(1, 3),
    kernel=st.sampled_from(["laplacian", "gaussian", "cauchy", "matern"]),
    bandwidth=st.floats(0.2, 3.0),
    seed=st.integers(0, 2**16),
)
def test_direct_interpolates_distinct_points(n, n_features, n_outputs, kernel, bandwidth, seed):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, n_features)) * 2
    Y = rng.normal(size=(n, n_outputs))
    model = KernelInterpolator(kernel=kernel, bandwidth=bandwidth, solver="direct")
    # Interpolation holds in floating point only for a numerically invertible kernel matrix
    # (a smooth kernel on close points in 1-D is not: the documented least-squares fallback).
    assume(np.linalg.cond(kernel_matrix(X, kernel=kernel, bandwidth=bandwidth)) < 1e8)
    model.fit(X, Y)
    scale = max(1.0, np.abs(model.dual_coef_).sum() * 1e-6)
    np.testing.assert_allclose(model.predict(X), Y, atol=1e-6 * scale)


@pytest.mark.parametrize("solver", ["direct", "eigenpro"])
def test_exact_duplicates_are_merged_and_their_targets_averaged(solver):
    X = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = np.array([1.0, 2.0, 4.0, -1.0])
    model = KernelInterpolator(bandwidth=1.0, solver=solver, random_state=0)
    with pytest.warns(InterpolationWarning, match="1 training rows are exact duplicates"):
        model.fit(X, y)
    assert not model.used_pseudo_inverse_ and model.n_duplicates_ == 1
    assert model.centers_.shape == (3, 2)
    np.testing.assert_allclose(model.predict(X), [1.0, 3.0, 3.0, -1.0], atol=1e-6)
    assert model.train_residual_ == pytest.approx(1.0 / 4.0, rel=1e-5)  # |3 - 4| / max|y|
    assert not model.interpolates_


@pytest.mark.parametrize("solver", ["direct", "eigenpro"])
def test_duplicates_with_equal_targets_still_interpolate_without_warning(solver):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(30, 2))
    X = np.vstack([X, X[:10]])
    y = np.sin(5 * X[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = KernelInterpolator(bandwidth=0.3, solver=solver, n_epochs=500, random_state=0).fit(
            X, y
        )
    assert model.n_duplicates_ == 10 and model.interpolates_
    np.testing.assert_allclose(model.predict(X), y, atol=1e-5)


def test_eigenpro_on_identical_rows_predicts_the_targets_mean():
    """Issue 10: 20 identical rows gave a constant far from the mean, silently."""
    model = KernelInterpolator(solver="eigenpro", random_state=0)
    with pytest.warns(InterpolationWarning, match="exact duplicates"):
        model.fit(np.ones((20, 3)), np.arange(20.0))
    np.testing.assert_allclose(model.predict(np.ones((3, 3))), 9.5)


def test_direct_refuses_before_allocating_and_names_the_solver():
    X = np.random.RandomState(0).normal(size=(2000, 3))
    y = X[:, 0]
    model = KernelInterpolator(solver="direct", memory_limit=10)  # 2000^2 doubles = 30.5 MiB
    tracemalloc.start()
    with pytest.raises(MemoryError, match="solver='eigenpro'"):
        model.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2 * 2**20  # nothing near the 30 MiB matrix was allocated


def test_auto_picks_eigenpro_when_the_matrix_does_not_fit(regression_data):
    X, y, _ = regression_data
    model = KernelInterpolator(memory_limit=0.5, n_epochs=2, random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert model.solver_ == "eigenpro"
    assert KernelInterpolator().fit(X, y).solver_ == "direct"


def test_auto_rule_depends_on_memory_only_not_on_a_sample_count():
    """Issue 14: the old rule switched to EigenPro above 10,000 samples whatever the budget."""
    for n in (9_999, 10_001, 11_585):
        assert direct_solver_fits(n, 8)  # 1024 MiB default budget
    assert not direct_solver_fits(11_586, 8)
    assert direct_solver_fits(16_384, 4) and not direct_solver_fits(16_385, 4)
    assert direct_solver_fits(20_000, 8, memory_limit=4096)


def test_auto_gives_the_same_kind_of_solution_on_both_sides_of_its_switch():
    """The same hyper-parameters below and above the budget's threshold both interpolate to
    the contract's tolerance (direct below, EigenPro run to ``tol`` above)."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(330, 2))
    y = np.sin(6 * X[:, 0]) + X[:, 1]
    budget = 310 * 310 * 8 / 2**20  # MiB: 310 points fit, 311 do not
    # A small bandwidth converges in tens of epochs even with the subsample this tiny budget
    # allows EigenPro (180 points); larger ones need hundreds to thousands (see Notes).
    params = dict(bandwidth=0.02, memory_limit=budget, n_epochs=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        below = KernelInterpolator(**params).fit(X[:300], y[:300])
        above = KernelInterpolator(**params).fit(X, y)
    assert below.solver_ == "direct" and above.solver_ == "eigenpro"
    assert below.interpolates_ and above.interpolates_
    assert above.train_residual_ <= 1e-6
    np.testing.assert_allclose(above.predict(X), y, atol=1e-6 * np.abs(y).max())
    assert above.n_epochs_ < 300  # stopped at tol, not at the cap


def test_a_short_eigenpro_run_warns_and_names_the_parameters(regression_data):
    X, y, _ = regression_data
    model = KernelInterpolator(solver="eigenpro", n_epochs=2, random_state=0)
    with pytest.warns(ConvergenceWarning, match="n_epochs=2.*raise tol.*solver='direct'"):
        model.fit(X, y)
    assert not model.interpolates_ and model.train_residual_ > 1e-6
    # The reported residual is the measured one.
    assert model.train_residual_ == pytest.approx(
        np.max(np.abs(model.predict(X) - y)) / np.max(np.abs(y)), rel=1e-6
    )


def test_eigenpro_stops_at_tol_and_reports_the_residual(regression_data):
    X, y, _ = regression_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = KernelInterpolator(
            bandwidth=1.5, solver="eigenpro", n_epochs=200, tol=1e-2, random_state=0
        ).fit(X, y)
    assert model.n_epochs_ < 200
    assert model.train_residual_ <= 1e-2
    assert not model.interpolates_  # 1e-2 is looser than the float64 contract (1e-6)


def test_float32_tol_is_at_least_the_float32_interpolation_tolerance(digits):
    X, y, _, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = KernelInterpolationClassifier(
            bandwidth=3.0, solver="eigenpro", dtype="float32", random_state=0
        ).fit(X, y)
    assert model.interpolates_ and model.train_residual_ <= 1e-2
    assert model.n_epochs_ < 100


# -------------------------------------------------------------------------------- eigenpro
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
def test_eigenpro_converges_to_the_direct_interpolant(regression_data):
    X, y, X_test = regression_data
    direct = KernelInterpolator(bandwidth=1.5, solver="direct").fit(X, y)
    iterative = KernelInterpolator(
        bandwidth=1.5, solver="eigenpro", n_epochs=300, random_state=0
    ).fit(X, y)
    assert iterative.solver_ == "eigenpro"
    # Tolerance: 1% of the targets' spread on new points, 0.1% on the training points.
    spread = np.ptp(y)
    np.testing.assert_allclose(iterative.predict(X), y, atol=1e-3 * spread)
    np.testing.assert_allclose(
        iterative.predict(X_test), direct.predict(X_test), atol=1e-2 * spread
    )
    assert iterative.loss_curve_[-1] < 1e-3 * iterative.loss_curve_[0]
    assert iterative.norm_ == pytest.approx(direct.norm_, rel=0.05)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
def test_eigenpro_classifier_interpolates_digits_and_matches_direct(digits):
    X, y, X_test, y_test = digits
    direct = KernelInterpolationClassifier(bandwidth=3.0, solver="direct").fit(X, y)
    iterative = KernelInterpolationClassifier(
        bandwidth=3.0, solver="eigenpro", n_epochs=5, random_state=0
    ).fit(X, y)
    assert direct.score(X, y) == 1.0
    assert iterative.score(X, y) == 1.0
    assert abs(iterative.score(X_test, y_test) - direct.score(X_test, y_test)) <= 0.02
    assert iterative.n_epochs_ == 5 and iterative.loss_curve_.shape == (5,)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
def test_eigenpro_fitted_attributes_describe_the_iteration(regression_data):
    X, y, _ = regression_data
    model = KernelInterpolator(bandwidth=1.5, solver="eigenpro", n_epochs=3, random_state=0).fit(
        X, y
    )
    assert model.n_epochs_ == 3
    assert model.critical_batch_size_ >= model.batch_size_ >= 1
    assert model.step_size_ == pytest.approx(model.batch_size_)  # eta = m / beta, beta = 1
    assert 0 < model.n_components_ < X.shape[0]
    assert np.all(np.diff(model.loss_curve_) < 0)
    assert model.centers_.shape == X.shape and model.dual_coef_.shape == (X.shape[0],)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
def test_eigenpro_is_deterministic_given_random_state(regression_data):
    X, y, _ = regression_data
    params = dict(bandwidth=1.5, solver="eigenpro", n_epochs=2, subsample_size=150, batch_size=64)
    first = KernelInterpolator(**params, random_state=7).fit(X, y)
    second = KernelInterpolator(**params, random_state=7).fit(X, y)
    other = KernelInterpolator(**params, random_state=8).fit(X, y)
    np.testing.assert_array_equal(first.dual_coef_, second.dual_coef_)
    assert not np.array_equal(first.dual_coef_, other.dual_coef_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
def test_eigenpro_early_stopping_holds_out_a_validation_set(regression_data):
    X, y, _ = regression_data
    model = KernelInterpolator(
        bandwidth=1.5,
        solver="eigenpro",
        n_epochs=40,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=2,
        random_state=0,
    ).fit(X, y)
    assert model.centers_.shape[0] == 300
    assert model.validation_loss_curve_.shape == (model.n_epochs_,)
    if model.n_epochs_ < 40:  # stopped: the last n_iter_no_change epochs did not improve
        best = np.argmin(model.validation_loss_curve_)
        assert best == model.n_epochs_ - 3


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
def test_float32_fit_stays_float32_and_agrees_with_float64(digits):
    X, y, X_test, _ = digits
    for solver in ["direct", "eigenpro"]:
        params = dict(bandwidth=3.0, solver=solver, n_epochs=5, random_state=0)
        single = KernelInterpolationClassifier(**params, dtype="float32").fit(X, y)
        double = KernelInterpolationClassifier(**params).fit(X, y)
        assert single.dual_coef_.dtype == np.float32 and single.centers_.dtype == np.float32
        agreement = np.mean(single.predict(X_test) == double.predict(X_test))
        assert agreement > 0.99, solver
        assert single.score(X, y) == 1.0
        # float32 input is kept as float32 without the dtype parameter.
        kept = KernelInterpolator(bandwidth=3.0, solver=solver, n_epochs=1, random_state=0)
        assert kept.fit(X.astype(np.float32), y.astype(float)).dual_coef_.dtype == np.float32


def test_eigenpro_verbose_reports_setup_and_epochs_with_time_left(regression_data, capsys):
    X, y, _ = regression_data
    with pytest.warns(ConvergenceWarning):
        KernelInterpolator(solver="eigenpro", n_epochs=2, verbose=1, random_state=0).fit(X, y)
    err = capsys.readouterr().err
    assert "m*=" in err and "epoch 2/2" in err and "left for n_epochs=2" in err


def test_direct_verbose_reports_its_steps(regression_data, capsys):
    X, y, _ = regression_data
    KernelInterpolator(solver="direct", verbose=1).fit(X, y)
    err = capsys.readouterr().err
    for step in ["kernel matrix 400 x 400", "Cholesky", "residual"]:
        assert step in err, step


def test_eigenpro_core_callback_sees_every_epoch(regression_data):
    X, y, _ = regression_data
    seen = []
    eigenpro_fit(
        X,
        y[:, None],
        KernelSpec("laplacian", 1.5),
        n_epochs=3,
        random_state=0,
        callback=lambda state: seen.append((state.epoch, state.coef.shape)),
    )
    assert seen == [(1, (400, 1)), (2, (400, 1)), (3, (400, 1))]


def test_public_callback_sees_a_read_only_state_of_every_epoch(regression_data):
    X, y, X_test = regression_data
    states = []

    def record(state):
        with pytest.raises(ValueError):
            state.coef[0, 0] = 1.0  # read only
        states.append((state.epoch, state.loss, state.evaluate(X_test)))

    model = KernelInterpolator(
        bandwidth=1.5, solver="eigenpro", n_epochs=4, tol=0.5, callback=record, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert [epoch for epoch, _, _ in states] == list(range(1, model.n_epochs_ + 1))
    np.testing.assert_allclose([loss for _, loss, _ in states], model.loss_curve_)
    np.testing.assert_allclose(states[-1][2][:, 0], model.predict(X_test), rtol=1e-10)


def test_callback_returning_true_stops_the_fit_cleanly():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(300, 4)) + 1e6  # centred internally: the state is in X's frame
    y = np.sin(4 * X[:, 0])
    seen = []

    def stop_at_three(state):
        seen.append(state.evaluate(X[:5]))
        np.testing.assert_array_equal(np.sort(state.centers[:, 0]), np.sort(X[:, 0]))
        return state.epoch == 3

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning: the stop was asked for
        model = KernelInterpolator(
            solver="eigenpro", n_epochs=50, callback=stop_at_three, random_state=0
        ).fit(X, y)
    assert model.n_epochs_ == 3 and len(seen) == 3
    assert not model.interpolates_
    np.testing.assert_allclose(seen[-1][:, 0], model.predict(X[:5]), rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
def test_eigenpro_nystrom_memory_is_refused_before_allocating(regression_data):
    X, y, _ = regression_data
    with pytest.raises(MemoryError, match="subsample_size"):
        KernelInterpolator(
            solver="eigenpro", subsample_size=400, memory_limit=1, random_state=0
        ).fit(X, y)


# ----------------------------------------------------------------------------- the models
def test_callable_kernel_gives_the_builtin_fit(regression_data):
    X, y, X_test = regression_data
    builtin = KernelInterpolator(bandwidth=1.5, solver="direct").fit(X, y)
    custom = KernelInterpolator(kernel=lambda P, Q: laplacian(P, Q, 1.5), solver="direct").fit(
        X, y
    )
    np.testing.assert_allclose(custom.predict(X_test), builtin.predict(X_test), atol=1e-8)


def test_classifier_keeps_string_labels_and_multioutput_regression_works(digits):
    X, y, X_test, _ = digits
    labels = np.array(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    )[y]
    model = KernelInterpolationClassifier(bandwidth=3.0).fit(X, labels)
    assert set(model.classes_) == set(labels)
    assert np.all(model.predict(X) == labels)
    assert model.decision_function(X_test).shape == (X_test.shape[0], 10)
    Y = np.stack([y, -y], axis=1).astype(float)
    regressor = KernelInterpolator(bandwidth=3.0).fit(X, Y)
    assert regressor.predict(X_test).shape == (X_test.shape[0], 2)
    np.testing.assert_allclose(regressor.predict(X), Y, atol=1e-6)


@pytest.mark.parametrize(
    "params, X_bad, error",
    [
        (dict(), np.array([[0.0, np.nan], [1.0, 1.0]]), "NaN"),
        (dict(kernel="sigmoid"), None, "kernel"),
        (dict(kernel="matern", nu=2.0), None, "nu must be"),
        (dict(bandwidth=-1.0), None, "bandwidth"),
        (dict(solver="lbfgs"), None, "solver"),
    ],
)
def test_bad_input_raises_value_error(params, X_bad, error):
    X = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 0.0]]) if X_bad is None else X_bad
    with pytest.raises(ValueError, match=error):
        KernelInterpolator(**params).fit(X, np.arange(X.shape[0], dtype=float))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
@parametrize_with_checks(
    [
        KernelInterpolator(solver="eigenpro", n_epochs=20, random_state=0),
        KernelInterpolationClassifier(solver="eigenpro", n_epochs=20, random_state=0),
    ]
)
def test_eigenpro_estimators_pass_sklearn_checks(estimator, check):
    check(estimator)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
def test_eigenpro_peak_memory_stays_within_the_budget():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(3000, 20))
    y = np.sin(X[:, 0])
    KernelInterpolator(solver="eigenpro", n_epochs=1, random_state=0).fit(X[:200], y[:200])
    model = KernelInterpolator(solver="eigenpro", n_epochs=2, memory_limit=4, random_state=0)
    tracemalloc.start()
    model.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    fitted_model = model.centers_.nbytes + model.dual_coef_.nbytes + X.nbytes  # + validated copy
    # A dense solve would need 3000^2 doubles = 69 MiB.
    assert peak - fitted_model < 4 * 2**20 * 1.25, f"{(peak - fitted_model) / 2**20:.1f} MiB"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # few epochs
def test_a_small_last_batch_does_not_make_eigenpro_diverge(digits):
    # 600 points in batches of 590: the last batch of 10 must take the same per-sample step
    # (eta / m), not eta / 10, which overshoots 59 times.
    X, y, _, _ = digits
    model = KernelInterpolationClassifier(
        bandwidth=0.6, solver="eigenpro", batch_size=590, n_epochs=6, random_state=0
    ).fit(X, y)
    assert np.all(np.diff(model.loss_curve_) < 0), model.loss_curve_
    assert model.score(X, y) == 1.0


# ------------------------------------------------------------------------ dtype and "auto"
@pytest.mark.parametrize("fit_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("Estimator", [KernelInterpolator, KernelInterpolationClassifier])
def test_float32_queries_give_float32_outputs_and_others_float64(Estimator, fit_dtype, digits):
    X, y, X_test, _ = digits
    model = Estimator(bandwidth=3.0).fit(X[:200].astype(fit_dtype), y[:200])
    for query_dtype, expected in [
        (np.float32, np.float32),
        (np.float64, np.float64),
        (np.int64, np.float64),
    ]:
        queries = (X_test[:20] * 16).astype(query_dtype) / (16 if query_dtype != np.int64 else 1)
        scores = (
            model.predict(queries)
            if Estimator is KernelInterpolator
            else model.decision_function(queries)
        )
        assert scores.dtype == expected, (query_dtype, scores.dtype)


def test_auto_bandwidth_is_stored_and_makes_the_fit_scale_invariant(regression_data):
    X, y, X_test = regression_data
    model = KernelInterpolator().fit(X, y)
    assert model.bandwidth_ == pytest.approx(auto_bandwidth(X))
    for scale in [2.0**-40, 1e3, 2.0**60]:
        scaled = KernelInterpolator().fit(X * scale, y)
        assert scaled.bandwidth_ == pytest.approx(scale * model.bandwidth_, rel=1e-12)
        np.testing.assert_allclose(
            scaled.predict(X_test * scale), model.predict(X_test), rtol=1e-8, atol=1e-8
        )
    assert KernelInterpolator(bandwidth=0.7).fit(X, y).bandwidth_ == 0.7


# ------------------------------------------------------------------------------ Ctrl-C
def _interrupt_after(seconds):
    timer = threading.Timer(seconds, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.parametrize("solver", ["eigenpro", "direct"])
def test_sigint_interrupts_a_long_fit_promptly_and_leaves_the_estimator_as_it_was(solver):
    rng = np.random.RandomState(0)
    # The direct fit of 10,000 points (kernel matrix and Cholesky) takes several seconds even
    # on free cores; EigenPro with tol=0 runs for minutes.
    n = 6000 if solver == "eigenpro" else 10_000
    X = rng.normal(size=(n, 30))
    y = np.sin(X[:, 0])
    params = dict(solver=solver, n_epochs=10_000, tol=0.0, random_state=0, n_jobs=2)
    model = KernelInterpolator(**params)
    timer = _interrupt_after(1.5)
    start = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - start
    assert elapsed < 1.5 + 1.5, elapsed
    with pytest.raises(NotFittedError):
        model.predict(X[:3])
    assert not hasattr(model, "bandwidth_") and not hasattr(model, "centers_")


def test_sigint_during_a_refit_keeps_the_previous_fit():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(6000, 30))
    y = np.sin(X[:, 0])
    model = KernelInterpolator(solver="eigenpro", n_epochs=1, tol=0.0, random_state=0, n_jobs=2)
    with pytest.warns(ConvergenceWarning):
        model.fit(X[:500], y[:500])
    before = model.predict(X[:20])
    model.set_params(n_epochs=10_000)
    timer = _interrupt_after(1.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y)
    finally:
        timer.cancel()
    np.testing.assert_array_equal(model.predict(X[:20]), before)
    assert model.centers_.shape[0] == 500 and model.n_epochs_ == 1


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 700),
    block=st.integers(1, 300),
    rows=st.integers(1, 200),
    dtype=st.sampled_from([np.float64, np.float32]),
    seed=st.integers(0, 2**16),
)
def test_blocked_cholesky_matches_numpy(n, block, rows, dtype, seed):
    rng = np.random.RandomState(seed)
    B = rng.normal(size=(n, n))
    A = (B @ B.T / n + np.eye(n)).astype(dtype)
    L = np.linalg.cholesky(A.astype(np.float64))
    factor = blocked_cholesky(A.copy(), block=block, update_rows=rows)
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(np.tril(factor), L, atol=tolerance * np.abs(L).max())


def test_blocked_cholesky_refuses_an_indefinite_matrix():
    A = np.eye(600)
    A[550, 550] = -1.0
    with pytest.raises(np.linalg.LinAlgError):
        blocked_cholesky(A)


def test_sigint_interrupts_a_long_predict_promptly():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 30))
    model = KernelInterpolator(bandwidth=5.0, n_jobs=2).fit(X, np.sin(X[:, 0]))
    queries = rng.normal(size=(400_000, 30))  # 8e8 kernel values: several seconds
    timer = _interrupt_after(1.0)
    start = time.perf_counter()
    try:
        with pytest.raises(KeyboardInterrupt):
            model.predict(queries)
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 1.0 + 1.5
