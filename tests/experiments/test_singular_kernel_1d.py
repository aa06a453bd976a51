"""wiNN on y = x + noise: it interpolates, yet stays near the line where 1-NN copies the noise."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from skinterp.experiments import ExperimentResult, get_experiment
from skinterp.experiments.singular_kernel_1d import singular_kernel_1d


@pytest.fixture(scope="module")
def result():
    return singular_kernel_1d(n_repeats=30, n_grid=2000, random_state=2)


def rows_of(result):
    return {row["method"]: row for row in result.rows}


def test_every_method_interpolates_the_noisy_points(result):
    assert all(row["max_train_residual"] < 1e-9 for row in result.rows)


def test_winn_stays_near_the_line_on_most_of_the_interval_and_one_nn_does_not(result):
    rows = rows_of(result)
    nearest = rows["1-NN"]
    for method in ("wiNN (k=10, alpha=0.4)", "wiNN (k=10, alpha=auto)"):
        assert rows[method]["fraction_within"] > 0.85
        assert rows[method]["fraction_within"] > nearest["fraction_within"] + 0.3
        assert rows[method]["mean_squared_distance"] < nearest["mean_squared_distance"] / 3


def test_one_nn_is_near_the_line_with_the_probability_that_the_noise_is_small(result):
    nearest = rows_of(result)["1-NN"]
    expected = 2 * norm.cdf(0.1 / 0.15) - 1
    assert abs(nearest["fraction_within"] - expected) < 4 * nearest["std_error"] + 0.01
    assert result.reference["fraction of [0, 1] within 0.1: 1-NN"] == pytest.approx(expected)


@settings(max_examples=10, deadline=None)
@given(noise=st.floats(0.001, 0.02), seed=st.integers(0, 10**6))
def test_noise_far_below_the_tolerance_keeps_every_method_near_the_line(noise, seed):
    # 400 points leave no gap wide enough (> 0.1) for a copied value to drift off the line.
    result = singular_kernel_1d(
        n_train=400, noise=noise, n_repeats=1, n_grid=500, random_state=seed
    )
    assert all(row["fraction_within"] == 1.0 for row in result.rows)


def test_larger_exponent_gives_narrower_spikes():
    # alpha -> 0 weights all k neighbours alike (a k-NN average), spikes shrink to nothing;
    # a larger alpha concentrates the weight on the nearest point, the spikes widen.
    small = singular_kernel_1d(alpha=0.2, n_repeats=10, n_grid=2000, random_state=5)
    large = singular_kernel_1d(alpha=3.0, n_repeats=10, n_grid=2000, random_state=5)
    assert small.rows[0]["fraction_within"] > large.rows[0]["fraction_within"] + 0.05


def test_result_shape_json_round_trip_and_plot(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    assert len({frozenset(row) for row in result.rows}) == 1
    assert set(result.summary) >= set(result.reference)
    again = ExperimentResult.from_json(result.to_json())
    assert again.rows == result.rows and again.summary == result.summary
    assert len(again.plot_spec["curves"]["grid"]) == 2000
    assert len(result.plot()) == 3
    plt.close("all")
    assert get_experiment("singular_kernel_1d") is singular_kernel_1d


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_train": 1}, "n_train"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"n_neighbors": 61}, "n_neighbors"),
        ({"noise": 0.0}, "noise"),
        ({"tolerance": -1.0}, "tolerance"),
        ({"alpha": 0}, "alpha"),
        ({"n_repeats": 0}, "n_repeats"),
        ({"n_grid": 1}, "n_grid"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        singular_kernel_1d(**kwargs)
