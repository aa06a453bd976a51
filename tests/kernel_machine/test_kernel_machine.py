"""KernelInterpolator and KernelInterpolationClassifier: direct solve, EigenPro, contracts."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.utils.estimator_checks import parametrize_with_checks

from skinterp import KernelInterpolationClassifier, KernelInterpolator
from skinterp.kernel_machine import eigenpro_fit
from skinterp.kernels import KernelSpec, kernel_matrix


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


def test_direct_averages_duplicated_points_through_the_pseudo_inverse():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = np.array([1.0, 2.0, 4.0, -1.0])
    model = KernelInterpolator(bandwidth=1.0, solver="direct").fit(X, y)
    assert model.used_pseudo_inverse_
    np.testing.assert_allclose(model.predict(X), [1.0, 3.0, 3.0, -1.0], atol=1e-8)


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
    model = KernelInterpolator(memory_limit=0.5, n_epochs=2, random_state=0).fit(X, y)
    assert model.solver_ == "eigenpro"
    assert KernelInterpolator().fit(X, y).solver_ == "direct"


# -------------------------------------------------------------------------------- eigenpro
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
    np.testing.assert_allclose(iterative.predict(X_test), direct.predict(X_test),
                               atol=1e-2 * spread)
    assert iterative.loss_curve_[-1] < 1e-3 * iterative.loss_curve_[0]
    assert iterative.norm_ == pytest.approx(direct.norm_, rel=0.05)


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


def test_eigenpro_fitted_attributes_describe_the_iteration(regression_data):
    X, y, _ = regression_data
    model = KernelInterpolator(bandwidth=1.5, solver="eigenpro", n_epochs=3,
                               random_state=0).fit(X, y)
    assert model.n_epochs_ == 3
    assert model.critical_batch_size_ >= model.batch_size_ >= 1
    assert model.step_size_ == pytest.approx(model.batch_size_)  # eta = m / beta, beta = 1
    assert 0 < model.n_components_ < X.shape[0]
    assert np.all(np.diff(model.loss_curve_) < 0)
    assert model.centers_.shape == X.shape and model.dual_coef_.shape == (X.shape[0],)


def test_eigenpro_is_deterministic_given_random_state(regression_data):
    X, y, _ = regression_data
    params = dict(bandwidth=1.5, solver="eigenpro", n_epochs=2, subsample_size=150,
                  batch_size=64)
    first = KernelInterpolator(**params, random_state=7).fit(X, y)
    second = KernelInterpolator(**params, random_state=7).fit(X, y)
    other = KernelInterpolator(**params, random_state=8).fit(X, y)
    np.testing.assert_array_equal(first.dual_coef_, second.dual_coef_)
    assert not np.array_equal(first.dual_coef_, other.dual_coef_)


def test_eigenpro_stops_at_target_training_mse(regression_data):
    X, y, _ = regression_data
    model = KernelInterpolator(bandwidth=1.5, solver="eigenpro", n_epochs=50, tol=1e-2,
                               random_state=0).fit(X, y)
    assert model.n_epochs_ < 50
    assert model.loss_curve_[-1] <= 1e-2 < model.loss_curve_[-2]


def test_eigenpro_early_stopping_holds_out_a_validation_set(regression_data):
    X, y, _ = regression_data
    model = KernelInterpolator(bandwidth=1.5, solver="eigenpro", n_epochs=40,
                               early_stopping=True, validation_fraction=0.25,
                               n_iter_no_change=2, random_state=0).fit(X, y)
    assert model.centers_.shape[0] == 300
    assert model.validation_loss_curve_.shape == (model.n_epochs_,)
    if model.n_epochs_ < 40:  # stopped: the last n_iter_no_change epochs did not improve
        best = np.argmin(model.validation_loss_curve_)
        assert best == model.n_epochs_ - 3


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


def test_eigenpro_verbose_reports_setup_and_epochs(regression_data, capsys):
    X, y, _ = regression_data
    KernelInterpolator(solver="eigenpro", n_epochs=2, verbose=1, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "m*=" in out and "epoch 2" in out


def test_eigenpro_callback_sees_every_epoch(regression_data):
    X, y, _ = regression_data
    seen = []
    eigenpro_fit(X, y[:, None], KernelSpec("laplacian", 1.5), n_epochs=3, random_state=0,
                 callback=lambda epoch, centers, coef: seen.append((epoch, coef.shape)))
    assert seen == [(1, (400, 1)), (2, (400, 1)), (3, (400, 1))]


def test_eigenpro_nystrom_memory_is_refused_before_allocating(regression_data):
    X, y, _ = regression_data
    with pytest.raises(MemoryError, match="subsample_size"):
        KernelInterpolator(solver="eigenpro", subsample_size=400, memory_limit=1,
                           random_state=0).fit(X, y)


# ----------------------------------------------------------------------------- the models
def test_callable_kernel_gives_the_builtin_fit(regression_data):
    X, y, X_test = regression_data
    builtin = KernelInterpolator(bandwidth=1.5, solver="direct").fit(X, y)
    custom = KernelInterpolator(kernel=lambda P, Q: laplacian(P, Q, 1.5),
                                solver="direct").fit(X, y)
    np.testing.assert_allclose(custom.predict(X_test), builtin.predict(X_test), atol=1e-8)


def test_classifier_keeps_string_labels_and_multioutput_regression_works(digits):
    X, y, X_test, _ = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                       "eight", "nine"])[y]
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
        (dict(solver="cg"), None, "solver"),
    ],
)
def test_bad_input_raises_value_error(params, X_bad, error):
    X = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 0.0]]) if X_bad is None else X_bad
    with pytest.raises(ValueError, match=error):
        KernelInterpolator(**params).fit(X, np.arange(X.shape[0], dtype=float))


@parametrize_with_checks(
    [
        KernelInterpolator(solver="eigenpro", n_epochs=20, random_state=0),
        KernelInterpolationClassifier(solver="eigenpro", n_epochs=20, random_state=0),
    ]
)
def test_eigenpro_estimators_pass_sklearn_checks(estimator, check):
    check(estimator)


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


def test_a_small_last_batch_does_not_make_eigenpro_diverge(digits):
    # 600 points in batches of 590: the last batch of 10 must take the same per-sample step
    # (eta / m), not eta / 10, which overshoots 59 times.
    X, y, _, _ = digits
    model = KernelInterpolationClassifier(bandwidth=0.6, solver="eigenpro", batch_size=590,
                                          n_epochs=6, random_state=0).fit(X, y)
    assert np.all(np.diff(model.loss_curve_) < 0), model.loss_curve_
    assert model.score(X, y) == 1.0
