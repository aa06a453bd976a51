"""The double-descent sweep: it reuses blocks yet gives the estimator's results, and shows the peak."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skinterp import MinNormRFFClassifier, MinNormRFFRegressor
from skinterp.experiments.double_descent import default_grid, double_descent
from skinterp.random_features import limit_kernel


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:200], y[:200], X[1000:1300], y[1000:1300]


GRID = [20, 100, 180, 200, 230, 2000]


@pytest.fixture(scope="module")
def sweep(digits):
    X, y, X_test, y_test = digits
    return double_descent(X, y, X_test, y_test, n_components=GRID, bandwidth=3.0, random_state=0)


def test_each_grid_point_is_the_classifier_fitted_from_scratch(digits, sweep):
    X, y, X_test, y_test = digits
    one_hot = np.eye(10)[y_test]
    for i, n_components in enumerate(sweep.n_components):
        model = MinNormRFFClassifier(n_components=int(n_components), bandwidth=3.0, random_state=0)
        model.fit(X, y)
        scores = model._predict_targets(X_test)
        # At N = n the problem is ill conditioned and rounding (different summation orders)
        # is amplified; elsewhere the results agree closely.
        rtol = 1e-3 if n_components == 200 else 1e-7
        np.testing.assert_allclose(sweep.norm[i], model.coef_norm_, rtol=rtol)
        np.testing.assert_allclose(
            sweep.test_loss[i], np.mean(np.sum((scores - one_hot) ** 2, axis=1)), rtol=rtol
        )
        assert sweep.test_error[i] == pytest.approx(1 - model.score(X_test, y_test), abs=0.005)
        assert sweep.rank[i] == model.rank_


def test_sweep_shows_the_peak_at_the_threshold(sweep):
    at = {int(N): i for i, N in enumerate(sweep.n_components)}
    assert sweep.test_loss[at[200]] > 10 * sweep.test_loss[at[2000]]
    assert sweep.n_components[np.argmax(sweep.norm)] == 200
    assert sweep.n_components[np.argmax(sweep.test_loss)] == 200
    # Training loss: positive below the threshold, zero (interpolation) from it on.
    assert np.all(sweep.train_loss[sweep.n_components < 200] > 1e-3)
    assert np.all(sweep.train_loss[sweep.n_components >= 200] < 1e-8)
    assert np.all(sweep.train_error[sweep.n_components >= 200] == 0)


def test_kernel_limit_is_the_kernel_interpolant_and_the_curve_approaches_it(digits, sweep):
    X, y, X_test, y_test = digits
    kernel = limit_kernel(X, X, "fourier", 3.0)
    dual = np.linalg.solve(kernel, np.eye(10)[y])
    scores = limit_kernel(X_test, X, "fourier", 3.0) @ dual
    limit = sweep.kernel_limit
    np.testing.assert_allclose(
        limit["test_loss"], np.mean(np.sum((scores - np.eye(10)[y_test]) ** 2, axis=1)), rtol=1e-6
    )
    np.testing.assert_allclose(limit["norm"], np.sqrt(np.sum(dual * (kernel @ dual))), rtol=1e-6)
    assert abs(sweep.norm[-1] - limit["norm"]) < 0.2 * limit["norm"]
    assert abs(sweep.test_loss[-1] - limit["test_loss"]) < 0.5 * limit["test_loss"]


def test_regression_and_relu_features():
    rng = np.random.default_rng(0)
    X = np.linspace(-1, 1, 40).reshape(-1, 1)  # evenly spaced: a well-conditioned problem
    y = np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=40)
    X_test = np.linspace(-1, 1, 50).reshape(-1, 1)
    y_test = np.sin(3 * X_test[:, 0])
    result = double_descent(
        X, y, X_test, y_test, n_components=[10, 40, 400], features="relu", bandwidth=1.0,
        task="regression", kernel_limit=False,
    )
    assert result.kernel_limit is None
    assert np.all(np.isnan(result.test_error))
    model = MinNormRFFRegressor(n_components=400, bandwidth=1.0, features="relu", random_state=0)
    prediction = model.fit(X, y).predict(X_test)
    np.testing.assert_allclose(result.test_loss[-1], np.mean((prediction - y_test) ** 2), rtol=1e-6)
    assert result.test_loss[-1] < 0.05  # the interpolant of the noisy sine stays close to it


def test_table_and_plot(sweep):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = sweep.table().splitlines()
    assert len(lines) == 2 + len(GRID) + 1  # header, rule, grid, kernel limit
    assert lines[-1].split()[0] == "kernel"
    axes = sweep.plot()
    assert len(axes) == 3 and axes[0].get_xscale() == "log"
    plt.close("all")


def test_default_grid_has_thirty_points_and_the_threshold():
    grid = default_grid(2000)
    assert grid.size == 30
    assert {100, 1800, 2000, 40000} <= set(grid.tolist())
    assert np.all(np.diff(grid) > 0)


def test_bad_arguments_raise_value_error(digits):
    X, y, X_test, y_test = digits
    with pytest.raises(ValueError, match="features"):
        double_descent(X, y, X_test, y_test, [10], features="tanh")
    with pytest.raises(ValueError, match="task"):
        double_descent(X, y, X_test, y_test, [10], task="ranking")
    with pytest.raises(ValueError, match="features"):
        double_descent(X, y, X_test[:, :5], y_test, [10])
    with pytest.raises(ValueError, match="positive"):
        double_descent(X, y, X_test, y_test, [0, 10])
