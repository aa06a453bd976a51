"""The PL condition: lambda_min of the tangent kernel is positive when M >> n, 0 when M < n."""

import numpy as np
import pytest

from skinterp.experiments import ExperimentResult
from skinterp.experiments.pl_condition import pl_condition


@pytest.fixture(scope="module")
def result():
    return pl_condition(widths=(2, 300), n_samples=20, n_features=8, n_steps=300)


def _path(result, width, key):
    return np.array([row[key] for row in result.rows if row["width"] == width])


def test_over_parameterised_kernel_stays_well_conditioned_and_loss_decays_exponentially(result):
    lambda_min = _path(result, 300, "lambda_min")
    assert lambda_min.min() > 0.3 * lambda_min[0] > 0
    loss = _path(result, 300, "loss")
    assert loss[-1] < 1e-3 * loss[0]
    assert np.all(loss <= _path(result, 300, "pl_bound") * (1 + 1e-9))


def test_under_parameterised_kernel_is_singular_and_loss_stalls(result):
    lambda_min = _path(result, 2, "lambda_min")
    assert lambda_min.max() < 1e-10 * _path(result, 300, "lambda_min").min()
    loss = _path(result, 2, "loss")
    assert loss[-1] > 10 * _path(result, 300, "loss")[-1]
    assert result.summary["max lambda_min along path (M < n)"] == pytest.approx(lambda_min.max())


def test_result_shape_and_json_round_trip(result):
    assert len(result.rows) == 2 * (300 // 20 + 1)
    assert set(result.reference) <= set(result.summary)
    back = ExperimentResult.from_json(result.to_json())
    assert back.rows == result.rows and back.summary == result.summary


@pytest.mark.parametrize(
    "kwargs, match",
    [({"widths": ()}, "widths"), ({"n_steps": 0}, "n_steps"), ({"record_every": -1}, "record")],
)
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pl_condition(**kwargs)
