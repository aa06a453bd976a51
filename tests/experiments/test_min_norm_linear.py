"""The minimum-norm linear interpolant: benign on a spiked spectrum, blowing up at d = n."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.experiments import ExperimentResult
from skinterp.experiments.min_norm_linear import (
    MIN_NORM,
    RIDGE,
    THEORY,
    excess_risks,
    isotropic_theory,
    min_norm_linear,
    sample_teacher,
    teacher_spectrum,
)


@pytest.fixture(scope="module")
def result():
    return min_norm_linear(n_samples=60, ratios=[0.5, 1.0, 2.0, 30.0], n_trials=8, random_state=0)


def by_method(result, method, column):
    return {row["d/n"]: row[column] for row in result.rows if row["method"] == method}


def test_excess_risks_match_lstsq_and_sklearn_ridge():
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    for n_dimensions in (8, 40):  # the primal (d < n) and the dual (d >= n) formulas
        eigenvalues, beta = teacher_spectrum("spiked", n_dimensions, n_spikes=3)
        X, y = sample_teacher(eigenvalues, beta, 20, 0.5, rng)
        penalty = 0.3
        min_norm_risk, ridge_risks, residual = excess_risks(X, y, eigenvalues, beta, [penalty])
        reference = np.linalg.lstsq(X, y, rcond=None)[0] - beta
        assert min_norm_risk == pytest.approx(reference @ (eigenvalues * reference), rel=1e-6)
        # Our per-sample penalty lambda is scikit-learn's alpha = n lambda.
        ridge = Ridge(alpha=20 * penalty, fit_intercept=False).fit(X, y).coef_ - beta
        assert ridge_risks[0] == pytest.approx(ridge @ (eigenvalues * ridge), rel=1e-6)
        assert (residual < 1e-8) == (n_dimensions >= 20)


@settings(max_examples=20, deadline=None)
@given(
    n_dimensions=st.integers(6, 200),
    n_spikes=st.integers(1, 5),
    tail_variance=st.floats(0.1, 100.0),
)
def test_teacher_has_unit_signal_and_the_stated_tail(n_dimensions, n_spikes, tail_variance):
    for spectrum in ("spiked", "isotropic"):
        eigenvalues, beta = teacher_spectrum(
            spectrum, n_dimensions, n_spikes=n_spikes, tail_variance=tail_variance
        )
        assert beta @ (eigenvalues * beta) == pytest.approx(1.0)
        assert np.linalg.norm(beta) == pytest.approx(1.0)
    eigenvalues, _ = teacher_spectrum(
        "spiked", n_dimensions, n_spikes=n_spikes, tail_variance=tail_variance
    )
    assert eigenvalues[n_spikes:].sum() == pytest.approx(tail_variance)


def test_isotropic_risk_peaks_at_the_threshold(result):
    risk = by_method(result, MIN_NORM, "isotropic excess risk")
    assert max(risk, key=risk.get) == 1.0
    assert risk[1.0] > 20 * max(risk[0.5], risk[2.0], risk[30.0])
    # Ridge with the best penalty has no peak.
    ridge = by_method(result, RIDGE, "isotropic excess risk")
    assert ridge[1.0] < 1.0
    assert all(ridge[ratio] <= risk[ratio] + 1e-12 for ratio in risk)


def test_isotropic_risk_follows_hastie_et_al(result):
    risk = by_method(result, MIN_NORM, "isotropic excess risk")
    theory = by_method(result, THEORY, "isotropic excess risk")
    assert theory[1.0] is None  # infinite
    for ratio in (2.0, 30.0):
        assert risk[ratio] == pytest.approx(theory[ratio], rel=0.3)
    # Above the threshold the isotropic interpolant never gets near the optimum 0.
    assert risk[30.0] > 0.8


def test_spiked_interpolant_is_benign_far_above_the_threshold(result):
    risk = by_method(result, MIN_NORM, "spiked excess risk")
    ridge = by_method(result, RIDGE, "spiked excess risk")
    assert risk[1.0] > 30 * risk[30.0]
    assert risk[30.0] < 0.1  # the zero predictor's excess risk is 1
    assert risk[30.0] < 3 * ridge[30.0]
    assert result.summary["spiked: min-norm excess risk at largest d/n"] == risk[30.0]


def test_isotropic_theory_formula():
    assert isotropic_theory(0.5, 1.0) == pytest.approx(1.0)
    assert isotropic_theory(1.0, 1.0) == float("inf")
    assert isotropic_theory(3.0, 0.0) == pytest.approx(2 / 3)


def test_result_shape_and_json_round_trip(result):
    assert isinstance(result, ExperimentResult)
    assert len(result.rows) == 3 * 4
    assert len({tuple(row) for row in result.rows}) == 1  # every row has the same keys
    assert {row["method"] for row in result.rows} == {MIN_NORM, RIDGE, THEORY}
    assert set(result.reference) <= set(result.summary)
    again = ExperimentResult.from_json(result.to_json())
    assert again.rows == result.rows
    assert again.summary == result.summary
    assert again.params["data source"] == "synthetic Gaussian linear teacher"


def test_plot_has_one_panel_per_spectrum(result):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = result.plot()
    assert len(axes) == 2 and axes[0].get_xscale() == "log"
    plt.close("all")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_trials": 0}, "n_trials"),
        ({"noise": -1.0}, "noise"),
        ({"tail_variance": 0.0}, "tail_variance"),
        ({"ratios": []}, "ratios"),
        ({"ratios": [-1.0, 2.0]}, "ratios"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        min_norm_linear(**kwargs)


def test_bad_spectrum_raises_value_error():
    with pytest.raises(ValueError, match="spectrum"):
        teacher_spectrum("flat", 10)
