"""Simplicial interpolation's excess risk on noisy labels falls with d; 1-NN's stays at q."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.experiments import ExperimentResult, get_experiment
from skinterp.experiments.blessing_of_dimensionality import (
    LIMIT,
    NEAREST,
    SIMPLICIAL,
    blessing_of_dimensionality,
    simplicial_noise_limit,
)


@pytest.fixture(scope="module")
def result():
    return blessing_of_dimensionality(dimensions=[2, 6], n_train=1200, n_test=2500, random_state=3)


def rows_of(result):
    return {(row["dimension"], row["method"]): row for row in result.rows}


def test_simplicial_beats_one_nn_in_the_interior_and_improves_with_dimension(result):
    rows = rows_of(result)
    simplicial_2, simplicial_6 = rows[2, SIMPLICIAL], rows[6, SIMPLICIAL]
    nearest_6 = rows[6, NEAREST]
    gap = simplicial_2["interior_excess_risk"] - simplicial_6["interior_excess_risk"]
    assert gap > 2 * np.hypot(simplicial_2["std_error"], simplicial_6["std_error"])
    gap = nearest_6["interior_excess_risk"] - simplicial_6["interior_excess_risk"]
    assert gap > 3 * np.hypot(nearest_6["std_error"], simplicial_6["std_error"])


def test_one_nn_copies_the_noise_level_in_the_interior(result):
    for dimension in (2, 6):
        row = rows_of(result)[dimension, NEAREST]
        assert abs(row["interior_excess_risk"] - 0.2) < 4 * row["std_error"] + 0.02, row


def test_without_noise_both_interpolants_are_exact_in_the_interior():
    result = blessing_of_dimensionality(dimensions=[3], n_train=400, n_test=500, noise=0.0)
    for row in result.rows:
        assert row["interior_excess_risk"] == 0.0, row


@settings(max_examples=20, deadline=None)
@given(noise=st.floats(0.0, 0.49))
def test_limit_in_one_dimension_is_the_noise_level(noise):
    # On a segment the midpoint splits the two labels: a wrong endpoint spoils half of it.
    assert simplicial_noise_limit(1, noise) == pytest.approx(noise, abs=1e-12)


@settings(max_examples=5, deadline=None)
@given(dimension=st.integers(2, 8), noise=st.floats(0.05, 0.45), seed=st.integers(0, 10**6))
def test_limit_is_the_dirichlet_bernoulli_probability(dimension, noise, seed):
    rng = np.random.default_rng(seed)
    coordinates = rng.dirichlet(np.ones(dimension + 1), size=40_000)
    wrong_vertices = rng.uniform(size=coordinates.shape) < noise
    rate = np.mean((coordinates * wrong_vertices).sum(axis=1) > 0.5)
    assert simplicial_noise_limit(dimension, noise) == pytest.approx(rate, abs=0.01)


def test_limit_falls_with_dimension():
    limits = [simplicial_noise_limit(d, 0.2) for d in range(1, 16)]
    assert np.all(np.diff(limits) < 0)


def test_result_shape_summary_and_json_round_trip(result):
    assert [row["method"] for row in result.rows] == [SIMPLICIAL, NEAREST, LIMIT] * 2
    assert len({frozenset(row) for row in result.rows}) == 1
    assert result.reference["1-NN interior excess risk (mean over d)"] == 0.2
    assert set(result.reference) == set(result.summary)
    assert result.summary["simplicial interior excess risk: slope in log d"] < 0
    again = ExperimentResult.from_json(result.to_json())
    assert again.rows == result.rows and again.summary == result.summary
    assert get_experiment("blessing_of_dimensionality") is blessing_of_dimensionality


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dimensions": [0]}, "dimensions"),
        ({"n_train": 1}, "n_train"),
        ({"n_test": 0}, "n_test"),
        ({"noise": 0.5}, "noise"),
        ({"noise": -0.1}, "noise"),
        ({"margin": 0.5}, "margin"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        blessing_of_dimensionality(**kwargs)


def test_plot_draws_both_panels_with_the_guide(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = result.plot()
    assert len(axes) == 2 and axes[0].get_yscale() == "log"
    assert "~ 1/sqrt(d)" in axes[0].get_legend_handles_labels()[1]
    plt.close("all")
