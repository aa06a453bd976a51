"""early_stopping: the per-epoch predictions are the estimator's, and running on costs little."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import load_digits

from skinterp import KernelInterpolationClassifier
from skinterp.experiments.early_stopping import (
    EarlyStoppingResult,
    early_stopping,
    eigenpro_epochs,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:500], y[:500], X[1000:1400], y[1000:1400]


@pytest.fixture(scope="module")
def result(digits):
    return early_stopping(*digits, noise_levels=(0.0, 0.3), bandwidth=3.0, n_epochs=12)


def test_each_epoch_predicts_as_the_estimator_fitted_for_that_many_epochs(digits):
    X, y, X_test, _ = digits
    epochs = eigenpro_epochs(X, y, bandwidth=3.0, n_epochs=3, X_eval=X_test, random_state=7)
    assert [entry["epoch"] for entry in epochs] == [1, 2, 3]
    for n_epochs in (1, 3):
        model = KernelInterpolationClassifier(
            bandwidth=3.0, solver="eigenpro", n_epochs=n_epochs, random_state=7
        ).fit(X, y)
        np.testing.assert_array_equal(epochs[n_epochs - 1]["eval_pred"], model.predict(X_test))
        np.testing.assert_array_equal(epochs[n_epochs - 1]["train_pred"], model.predict(X))
        assert epochs[n_epochs - 1]["train_mse"] == pytest.approx(model.loss_curve_[-1])


def test_eigenpro_runs_to_the_interpolant_and_stopping_early_gains_little(result):
    for q in (0.0, 0.3):
        curve = [row for row in result.rows if row["q"] == q and row["solver"] == "eigenpro"]
        final = next(row for row in result.rows if row["q"] == q and row["solver"] == "direct")
        assert final["train_error"] == 0.0
        # The iteration fits the noisy training labels and ends where the direct solve is.
        assert curve[-1]["train_error"] == 0.0
        assert curve[-1]["train_mse"] < 1e-2 * curve[0]["train_mse"]
        assert abs(curve[-1]["test_error"] - final["test_error"]) <= 0.01
        # Even the best epoch, chosen on the test set itself, is at most a little better.
        gain = result.summary[f"early-stopping gain q={q:g}"]
        assert 0.0 <= gain <= 0.03 + q / 10
        assert gain == pytest.approx(final["test_error"] - min(row["test_error"] for row in curve))


def test_result_shape_summary_and_json_round_trip(result):
    keys = set(result.rows[0])
    assert all(set(row) == keys for row in result.rows)
    assert [row["epoch"] for row in result.rows if row["q"] == 0.0] == [*range(1, 13), None]
    assert set(result.reference) <= set(result.summary)
    back = EarlyStoppingResult.from_json(result.to_json())
    assert back.rows == result.rows and back.summary == result.summary
    axes = back.plot()
    assert len(axes) == 2
    assert "interpolant, q=0.3" in axes[0].get_legend_handles_labels()[1]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(noise_levels=(-0.1,)), "noise_levels"),
        (dict(n_epochs=0), "n_epochs"),
        (dict(bandwidth=-2.0), "bandwidth"),
        (dict(kernel="cosine"), "kernel"),
        (dict(quick=None), "quick"),
        (dict(random_state=1.5), "random_state"),
    ],
)
def test_bad_arguments_raise_value_errors(digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        early_stopping(*digits, **kwargs)


def test_data_arguments_come_all_or_none(digits):
    with pytest.raises(ValueError, match="all of X_train"):
        early_stopping(X_train=digits[0])
