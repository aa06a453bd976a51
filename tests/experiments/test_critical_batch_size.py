"""Critical batch size: iterations fall like 1/m below m* = beta / lambda_1 and saturate above."""

import numpy as np
import pytest

from skinterp.experiments import ExperimentResult
from skinterp.experiments.critical_batch_size import critical_batch_size


@pytest.fixture(scope="module")
def result():
    # Clustered synthetic data: a strong top eigenvalue, so m* is a few samples as on MNIST.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    centres = 2.0 * rng.standard_normal((4, 10))
    X = centres[labels] + rng.standard_normal((400, 10))
    return critical_batch_size(
        X,
        labels,
        batch_sizes=(1, 2, 64, 256),
        kernels=("gaussian",),
        target_fraction=0.01,
    )


def _iterations(result):
    return {row["batch_size"]: row["iterations"] for row in result.rows}


def test_linear_scaling_below_and_saturation_above_m_star(result):
    m_star = result.summary["m* (gaussian)"]
    assert 2 < m_star < 64
    iterations = _iterations(result)
    assert iterations[2] < 0.75 * iterations[1]  # close to halving below m*
    assert iterations[256] > 0.6 * iterations[64]  # 4 x the batch, hardly fewer iterations
    epochs = {row["batch_size"]: row["epochs"] for row in result.rows}
    assert epochs[256] > 2 * epochs[64]  # beyond m* a larger batch is wasted work


def test_m_star_is_beta_over_lambda_1_and_trace_ratio_for_unit_diagonal(result):
    assert result.summary["m* (gaussian)"] == pytest.approx(
        result.summary["tr(H)/lambda_max(H) (gaussian)"]
    )


def test_result_shape_and_json_round_trip(result):
    assert [row["batch_size"] for row in result.rows] == [1, 2, 64, 256]
    assert result.params["data source"] == "given"
    back = ExperimentResult.from_json(result.to_json())
    assert back.rows == result.rows and back.summary == result.summary


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"batch_sizes": ()}, "batch_sizes"),
        ({"kernels": ("cauchy",)}, "kernels"),
        ({"target_fraction": 1.5}, "target_fraction"),
        ({"batch_sizes": (1, 500)}, "at most"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    X = np.random.default_rng(0).normal(size=(50, 3))
    with pytest.raises(ValueError, match=match):
        critical_batch_size(X, np.arange(50) % 2, **kwargs)
