"""The corrupted-vertex simplex: the measured spoiled volume is 2^-d within Monte Carlo error."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.experiments import ExperimentResult, get_experiment
from skinterp.experiments.simplex_localisation import simplex_localisation, spoiled_fraction


@pytest.fixture(scope="module")
def result():
    return simplex_localisation(dimensions=[1, 2, 4, 7, 12], n_points=4000, random_state=1)


def test_measured_volume_is_two_to_the_minus_d_within_four_standard_errors(result):
    for row in result.rows:
        assert row["expected"] == 2.0 ** -row["dimension"]
        assert abs(row["measured"] - row["expected"]) < 4 * row["std_error"], row


def test_importance_sampling_resolves_high_dimensions_where_plain_sampling_cannot(result):
    rows = {(r["dimension"], r["estimator"]): r for r in result.rows}
    # 2^-12 of 4000 points is one expected hit: plain sampling has a 100% relative error ...
    assert rows[12, "plain"]["std_error"] > 0.9 * rows[12, "plain"]["expected"]
    # ... the weighted estimator a few percent.
    assert rows[12, "importance"]["std_error"] < 0.1 * rows[12, "importance"]["expected"]
    assert 0.8 < rows[12, "importance"]["ratio"] < 1.2


def test_the_interpolant_switches_exactly_where_the_corrupted_coordinate_passes_one_half(result):
    assert all(row["mismatch"] == 0 for row in result.rows)


@settings(max_examples=8, deadline=None)
@given(dimension=st.integers(2, 9), n_corrupted=st.integers(1, 3), seed=st.integers(0, 10**6))
def test_several_corrupted_vertices_spoil_the_beta_tail(dimension, n_corrupted, seed):
    n_corrupted = min(n_corrupted, dimension)
    result = simplex_localisation(
        dimensions=[dimension], n_points=3000, n_corrupted=n_corrupted, random_state=seed
    )
    expected = spoiled_fraction(dimension, n_corrupted)
    for row in result.rows:
        assert row["expected"] == pytest.approx(expected)
        assert abs(row["measured"] - expected) < 5 * row["std_error"] + 1e-12, row


def test_spoiled_fraction_is_the_dirichlet_probability():
    rng = np.random.default_rng(0)
    coordinates = rng.dirichlet(np.ones(6), size=200_000)
    tail = np.mean(coordinates[:, :2].sum(axis=1) > 0.5)
    assert spoiled_fraction(5, 2) == pytest.approx(tail, abs=0.005)
    assert spoiled_fraction(5, 1) == pytest.approx(2.0**-5)


def test_result_shape_summary_and_json_round_trip(result):
    assert [(r["dimension"], r["estimator"]) for r in result.rows[:2]] == [
        (1, "plain"),
        (1, "importance"),
    ]
    assert len({frozenset(row) for row in result.rows}) == 1
    key = "measured fraction at d=12 (importance)"
    assert result.reference[key] == 2.0**-12
    assert result.summary[key] == pytest.approx(2.0**-12, rel=0.2)
    again = ExperimentResult.from_json(result.to_json())
    assert again.rows == result.rows and again.summary == result.summary
    assert get_experiment("simplex_localisation") is simplex_localisation


def test_plot_draws_both_panels(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = result.plot()
    assert len(axes) == 2 and axes[0].get_yscale() == "log"
    plt.close("all")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"dimensions": [0, 2]}, "dimensions"),
        ({"dimensions": []}, "dimensions"),
        ({"n_points": 1}, "n_points"),
        ({"n_points": 10.5}, "n_points"),
        ({"dimensions": [2, 3], "n_corrupted": 3}, "n_corrupted"),
        ({"n_corrupted": 0}, "n_corrupted"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simplex_localisation(**kwargs)
