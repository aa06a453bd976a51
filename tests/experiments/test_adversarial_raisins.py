"""Raisins: the disagreement set of interpolated noise shrinks with n, and so does the distance."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.experiments import ExperimentResult, get_experiment
from skinterp.experiments.adversarial_raisins import (
    SIMPLICIAL,
    WINN,
    adversarial_raisins,
    distance_to_flip,
)
from skinterp.experiments.blessing_of_dimensionality import simplicial_noise_limit


@pytest.fixture(scope="module")
def result():
    return adversarial_raisins(n_samples=[100, 2500], n_test=8000, n_probe=150, random_state=4)


def rows_of(result):
    return {(row["n"], row["method"]): row for row in result.rows}


def test_both_classifiers_interpolate_the_noisy_labels(result):
    assert all(row["train_error_on_noisy_labels"] == 0 for row in result.rows)


def test_winn_disagreement_measure_shrinks_with_n(result):
    small, large = rows_of(result)[100, WINN], rows_of(result)[2500, WINN]
    gap = small["disagreement"] - large["disagreement"]
    assert gap > 3 * np.hypot(small["std_error"], large["std_error"])


def test_simplicial_disagreement_measure_approaches_its_local_limit(result):
    large = rows_of(result)[2500, SIMPLICIAL]
    assert abs(large["disagreement"] - simplicial_noise_limit(2, 0.1)) < 0.03


def test_distance_to_the_nearest_flip_shrinks_with_n_for_both(result):
    rows = rows_of(result)
    for method in (WINN, SIMPLICIAL):
        assert rows[2500, method]["distance_to_flip"] < 0.5 * rows[100, method]["distance_to_flip"]


def test_distance_to_flip_is_at_most_the_distance_to_the_nearest_noisy_point(result):
    for row in result.rows:
        assert 0 < row["distance_to_flip"] <= row["distance_to_noisy_point"] + 1e-12, row


class _WrongRightOf:
    """Predicts the clean label 1[x_1 > 1/2] except right of x_1 = edge, where it predicts 0."""

    def __init__(self, edge):
        self.edge = edge

    def predict(self, X):
        return ((X[:, 0] > 0.5) & (X[:, 0] <= self.edge)).astype(int)


@settings(max_examples=25, deadline=None)
@given(edge=st.floats(0.55, 0.95), seed=st.integers(0, 10**6), n_steps=st.sampled_from([8, 32]))
def test_segment_search_bounds_the_true_distance_from_above(edge, seed, n_steps):
    rng = np.random.default_rng(seed)
    probes = rng.uniform(size=(30, 2))
    candidates = np.column_stack([rng.uniform(edge + 1e-6, 1.0, 5), rng.uniform(size=5)])
    found = distance_to_flip(_WrongRightOf(edge), probes, candidates, n_steps)
    true = np.maximum(edge - probes[:, 0], 0.0)  # the wrong set is the half-plane x_1 > edge
    assert np.all(found >= true - 1e-12)
    nearest = np.min(np.linalg.norm(probes[:, None] - candidates[None], axis=2), axis=1)
    assert np.all(found <= nearest + 1e-12)
    assert np.all(found[probes[:, 0] > edge] == 0)


def test_result_shape_summary_and_json_round_trip(result):
    assert len({frozenset(row) for row in result.rows}) == 1
    assert set(result.reference) <= set(result.summary)
    assert result.reference["wiNN distance_to_flip: slope in log n"] == -0.5
    assert result.summary["wiNN distance_to_flip: slope in log n"] < -0.25
    again = ExperimentResult.from_json(result.to_json())
    assert again.rows == result.rows and again.summary == result.summary
    assert get_experiment("adversarial_raisins") is adversarial_raisins


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_samples": [5]}, "n_samples"),
        ({"dimension": 0}, "dimension"),
        ({"noise": 0.0}, "noise"),
        ({"noise": 0.5}, "noise"),
        ({"alpha": 1.0}, "alpha"),
        ({"n_test": 0}, "n_test"),
        ({"n_probe": 0}, "n_probe"),
        ({"n_segment_steps": 0}, "n_segment_steps"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        adversarial_raisins(**kwargs)
