"""Random ReLU features in 1-D: underfit, rough interpolant, smooth interpolant."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp import MinNormRFFRegressor
from skinterp.experiments import ExperimentResult
from skinterp.experiments.random_relu_1d import (
    RandomReLU1DResult,
    one_dimensional_data,
    random_relu_1d,
)


@pytest.fixture(scope="module")
def result():
    return random_relu_1d(n_sweep=25, random_state=0)


def rows_by_size(result):
    return {row["N"]: row for row in result.rows}


def test_rows_are_the_estimator_fitted_from_scratch(result):
    X, y = one_dimensional_data(12, 0.1, 0)
    for N in (3, 30, 3000):
        model = MinNormRFFRegressor(
            n_components=N, features="relu", bandwidth=0.5, random_state=0, cutoff=1e-7
        )
        model.fit(X, y)
        row = rows_by_size(result)[N]
        assert row["norm"] == pytest.approx(model.coef_norm_, rel=1e-9)
        assert row["interpolates"] == model.interpolates_


def test_small_model_underfits_and_large_models_interpolate(result):
    rows = rows_by_size(result)
    assert not rows[3]["interpolates"] and rows[3]["train RMSE"] > 0.1
    assert rows[30]["interpolates"] and rows[3000]["interpolates"]
    # No model with fewer units than points can interpolate (generic data).
    assert not any(row["interpolates"] for row in result.rows if row["N"] < 12)
    assert result.summary["smallest interpolating N"] >= 12


def test_norm_falls_again_beyond_the_threshold(result):
    rows = rows_by_size(result)
    assert rows[30]["norm"] > 2 * rows[3000]["norm"]
    assert result.summary["largest interpolating norm / norm at largest N"] > 2
    # The wide interpolant is closer to sin(3x) between the points than the narrow one.
    assert rows[3000]["RMSE to sin(3x)"] < rows[30]["RMSE to sin(3x)"]
    assert rows[3000]["RMSE to sin(3x)"] < rows[3]["RMSE to sin(3x)"]


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 1000))
def test_for_any_draw_the_widest_interpolant_is_not_the_roughest(seed):
    result = random_relu_1d(panel_sizes=(3, 3000), n_sweep=12, random_state=seed)
    rows = rows_by_size(result)
    interpolants = [row["norm"] for row in result.rows if row["interpolates"]]
    assert rows[3000]["interpolates"]
    assert max(interpolants) >= rows[3000]["norm"]
    assert result.summary["smallest interpolating N"] > 12 * 0.99


@settings(max_examples=20, deadline=None)
@given(n_samples=st.integers(2, 50), seed=st.integers(0, 10_000))
def test_points_stay_distinct_and_ordered(n_samples, seed):
    X, y = one_dimensional_data(n_samples, 0.1, seed)
    assert X.shape == (n_samples, 1) and y.shape == (n_samples,)
    assert np.all(np.diff(X[:, 0]) > 0)
    spacing = 2 / (n_samples - 1)
    assert np.all(np.abs(X[:, 0] - np.linspace(-1, 1, n_samples)) <= spacing / 4)


def test_result_shape_json_round_trip_and_plot(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert isinstance(result, ExperimentResult)
    assert len({tuple(row) for row in result.rows}) == 1
    assert sum(row["panel"] for row in result.rows) == 3
    again = RandomReLU1DResult.from_json(result.to_json())
    assert isinstance(again, RandomReLU1DResult)
    assert again.rows == result.rows and again.summary == result.summary
    axes = again.plot()
    assert len(axes) == 4 and axes[-1].get_xscale() == "log"
    # The panels are refitted from params: the same curve as the estimator's.
    X, y, grid, curves = again.panel_curves()
    model = MinNormRFFRegressor(
        n_components=30, features="relu", bandwidth=0.5, random_state=0, cutoff=1e-7
    )
    np.testing.assert_allclose(curves[30], model.fit(X, y).predict(grid))
    plt.close("all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_sweep": 1}, "n_sweep"),
        ({"panel_sizes": (0, 10)}, "panel_sizes"),
        ({"panel_sizes": ()}, "panel_sizes"),
        ({"bandwidth": 0.0}, "bandwidth"),
        ({"noise": -0.1}, "noise"),
        ({"random_state": None}, "random_state"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_relu_1d(**kwargs)
