"""The double-descent sweep: it reuses blocks yet gives the estimator's results, and the peak."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from skinterp import MinNormRFFClassifier, MinNormRFFRegressor
from skinterp.experiments import ExperimentResult
from skinterp.experiments.double_descent import (
    DEFAULT_PENALTIES,
    PAPER_REFERENCE,
    RIDGE,
    DoubleDescentResult,
    default_grid,
    double_descent,
)
from skinterp.random_features import limit_kernel
from skinterp.random_features._min_norm import DEFAULT_CUTOFF


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
        model = MinNormRFFClassifier(
            n_components=int(n_components), bandwidth=3.0, random_state=0, cutoff=DEFAULT_CUTOFF
        )
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
        X,
        y,
        X_test,
        y_test,
        n_components=[10, 40, 400],
        features="relu",
        bandwidth=1.0,
        task="regression",
        kernel_limit=False,
    )
    assert result.kernel_limit is None
    assert np.all(np.isnan(result.test_error))
    assert result.params["features"] == ["relu"]
    model = MinNormRFFRegressor(
        n_components=400, bandwidth=1.0, features="relu", random_state=0, cutoff=DEFAULT_CUTOFF
    )
    prediction = model.fit(X, y).predict(X_test)
    np.testing.assert_allclose(
        result.test_loss[-1], np.mean((prediction - y_test) ** 2), rtol=1e-6
    )
    assert result.test_loss[-1] < 0.05  # the interpolant of the noisy sine stays close to it


def test_table_and_plot(digits, sweep):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines = sweep.curve_table().splitlines()
    assert len(lines) == 2 + len(GRID) + 1  # header, rule, grid, kernel limit
    assert lines[-1].split()[0] == "kernel"
    relu_lines = sweep.curve_table("relu").splitlines()
    assert len(relu_lines) == len(lines) and relu_lines[2] != lines[2]
    # All rows: both feature kinds' grids and kernel limits, and the ridge curve of each.
    assert len(sweep.table().splitlines()) == 2 + 2 * (len(GRID) + 1 + len(DEFAULT_PENALTIES))
    axes = sweep.plot()  # Fig. 7's three panels, and the ridge U-curve
    assert len(axes) == 4 and axes[0].get_xscale() == "log" and axes[3].get_xscale() == "log"
    plt.close("all")
    axes = double_descent(*digits, n_components=[20, 100], bandwidth=3.0).plot()
    assert len(axes) == 3  # no ridge curve when N = n is not on the grid
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
    with pytest.raises(ValueError, match="features"):
        double_descent(X, y, X_test, y_test, [10], features=("fourier", "fourier"))
    with pytest.raises(ValueError, match="ridge_penalties"):
        double_descent(X, y, X_test, y_test, [10], ridge_penalties=[0.0, 1.0])
    with pytest.raises(ValueError, match="none of them"):
        double_descent(X, y, X_test)


def test_ridge_at_the_threshold_gives_the_classical_u_curve(digits, sweep):
    X, y, X_test, y_test = digits
    ridge = [row for row in sweep.rows if row["method"] == RIDGE and row["features"] == "fourier"]
    assert [row["lambda"] for row in ridge] == pytest.approx(list(DEFAULT_PENALTIES))
    assert all(row["N"] == 200 for row in ridge)
    # The training loss grows with the penalty (less capacity) ...
    train = np.array([row["train_loss"] for row in ridge])
    assert np.all(np.diff(train) > -1e-12) and train[-1] > 10 * train[0]
    # ... and the test loss is U-shaped in it: lowest strictly inside, far below both ends.
    test = np.array([row["test_loss"] for row in ridge])
    best = int(np.argmin(test))
    assert 0 < best < len(test) - 1
    assert test[best] < 0.5 * test[0] and test[best] < 0.8 * test[-1]
    # The smallest penalty is close to the min-norm interpolant at N = n.
    at_threshold = int(np.flatnonzero(sweep.n_components == 200)[0])
    assert test[0] > 0.1 * sweep.test_loss[at_threshold]
    # Each point is scikit-learn's Ridge on the same scaled features.
    from sklearn.linear_model import Ridge

    from skinterp import RandomFourierFeatures

    transformer = RandomFourierFeatures(n_components=200, bandwidth=3.0, random_state=0).fit(X)
    penalty = ridge[best]["lambda"]
    model = Ridge(alpha=len(X) * penalty, fit_intercept=False)
    model.fit(transformer.transform(X), np.eye(10)[y])
    scores = model.predict(transformer.transform(X_test))
    np.testing.assert_allclose(
        ridge[best]["test_loss"],
        np.mean(np.sum((scores - np.eye(10)[y_test]) ** 2, axis=1)),
        rtol=1e-5,
    )


def test_result_is_an_experiment_result_and_survives_json(sweep):
    assert isinstance(sweep, ExperimentResult)
    assert len({tuple(row) for row in sweep.rows}) == 1  # every row has the same keys
    assert set(sweep.reference) == set(PAPER_REFERENCE) <= set(sweep.summary)
    again = DoubleDescentResult.from_json(sweep.to_json())
    assert again.rows == sweep.rows
    np.testing.assert_array_equal(again.n_components, sweep.n_components)
    np.testing.assert_array_equal(again.norm, sweep.norm)
    assert again.kernel_limit == sweep.kernel_limit
    at = {int(N): i for i, N in enumerate(sweep.n_components)}
    assert sweep.summary["fourier: peak test error (near N = n)"] == sweep.test_error[at[200]]
    assert sweep.summary["fourier: test error at largest N"] == sweep.test_error[-1]


def test_relu_sweep_peaks_where_it_first_interpolates(sweep):
    # ReLU features of these nonnegative pixels are rank deficient (rank < N near N = n), so
    # the interpolation threshold, where the rank reaches n, lies a little above N = n: there
    # the norm and the test loss peak.
    N = sweep.curve("N", "relu")
    norm = sweep.curve("norm", "relu")
    test_loss = sweep.curve("test_loss", "relu")
    rank = sweep.curve("rank", "relu")
    train_loss = sweep.curve("train_loss", "relu")
    threshold = N[np.argmax(rank == 200)]
    assert threshold == N[np.argmax(train_loss < 1e-8)]
    assert N[np.argmax(norm)] == threshold and N[np.argmax(test_loss)] == threshold
    assert test_loss[N == threshold][0] > 5 * test_loss[-1]


def test_loads_mnist_when_no_data_is_given(monkeypatch):
    from sklearn.utils import Bunch

    import skinterp.experiments.double_descent as module

    X, y = load_digits(return_X_y=True)
    calls = {}

    def fake_load_mnist(n_train, n_test, *, data_home=None, random_state=0):
        calls.update(n_train=n_train, n_test=n_test, data_home=data_home)
        return Bunch(
            X_train=X[:n_train] / 16,
            y_train=y[:n_train],
            X_test=X[-n_test:] / 16,
            y_test=y[-n_test:],
            source="files",
        )

    monkeypatch.setattr(module, "load_mnist", fake_load_mnist)
    result = double_descent(
        n_train=60,
        n_test=80,
        n_components=[30, 60, 120],
        bandwidth=3.0,
        data_home="somewhere",
        features="fourier",
    )
    assert calls == {"n_train": 60, "n_test": 80, "data_home": "somewhere"}
    assert result.params["data source"] == "MNIST (files)" and result.n_train == 60
    quick = double_descent(quick=True, n_components=[30], features="fourier", kernel_limit=False)
    assert calls["n_train"] == 400 and calls["n_test"] == 1000 and quick.params["quick"]


def test_without_a_dask_client_the_gram_matrices_are_summed_locally(sweep):
    # The distributed path (skinterp.distributed.gram_sweep) runs only with an active client
    # or joblib's dask backend; its equality with this local sweep is tested in
    # tests/distributed/test_double_descent.py.
    assert sweep.params["Gram matrices"] == "local"
