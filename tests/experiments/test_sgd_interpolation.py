"""Fixed-step SGD: exponential convergence when interpolating, a noise floor when not."""

import numpy as np
import pytest

from skinterp.experiments import ExperimentResult
from skinterp.experiments._sgd import critical_step_size, minibatch_sgd
from skinterp.experiments.sgd_interpolation import sgd_interpolation


@pytest.fixture(scope="module")
def result():
    return sgd_interpolation(n_samples=200, n_components=(40, 3000), n_epochs=20)


def test_interpolating_model_converges_exponentially(result):
    losses = [r["loss"] for r in result.rows if r["N"] == 3000]
    assert losses[-1] < 1e-4 * losses[0]
    assert result.summary["log10 loss slope per epoch (N > n)"] < -0.1


def test_non_interpolating_model_stalls_above_the_least_squares_minimum(result):
    losses = [r["loss"] for r in result.rows if r["N"] == 40]
    floor = result.summary["least-squares minimum (N < n)"]
    assert floor > 0.05
    assert min(losses[10:]) >= floor
    assert abs(result.summary["log10 loss slope per epoch (N < n)"]) < 0.02


def test_sgd_with_full_batch_is_gradient_descent():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((30, 60)) / np.sqrt(60)
    gram, y = features @ features.T, rng.standard_normal(30)
    step = critical_step_size(30, gram.diagonal().max(), np.linalg.eigvalsh(gram / 30)[-1])
    losses, _ = minibatch_sgd(gram, y, batch_size=30, step_size=step, n_epochs=3)
    alpha = np.zeros(30)
    for _ in range(3):
        alpha -= step / 30 * (gram @ alpha - y)
    assert losses[-1] == pytest.approx(np.mean((gram @ alpha - y) ** 2))


def test_critical_step_size_scales_linearly_then_saturates():
    beta, lambda_max = 1.0, 0.1  # m* = 10
    assert critical_step_size(1, beta, lambda_max) == pytest.approx(1.0)
    assert critical_step_size(2, beta, lambda_max) == pytest.approx(2 / 1.1)
    assert critical_step_size(10**6, beta, lambda_max) == pytest.approx(10.0, rel=1e-4)


def test_result_shape_and_json_round_trip(result):
    assert len(result.rows) == 2 * 21
    assert set(result.reference) <= set(result.summary)
    back = ExperimentResult.from_json(result.to_json())
    assert back.rows == result.rows and back.summary == result.summary


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_components": ()}, "n_components"),
        ({"batch_size": 0}, "batch_size"),
        ({"n_epochs": 2}, "n_epochs"),
        ({"n_samples": 5, "batch_size": 10}, "batch_size"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sgd_interpolation(**kwargs)
