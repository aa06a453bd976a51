"""Transition to linearity: the tangent kernel of wide networks barely moves, unless the output is
non-linear."""

import pytest

from skinterp.experiments import ExperimentResult
from skinterp.experiments.transition_to_linearity import transition_to_linearity


@pytest.fixture(scope="module")
def result():
    return transition_to_linearity(widths=(10, 100, 1000), n_samples=20, n_seeds=1)


def _column(result, output, key):
    return [row[key] for row in result.rows if row["output layer"] == output]


def test_linear_output_kernel_change_and_hessian_norm_fall_with_width(result):
    change = _column(result, "linear", "kernel_change")
    assert change[0] > change[1] > change[2]
    assert change[2] < 0.1 * change[0]
    hessian = _column(result, "linear", "hessian_norm")
    assert hessian[2] < 0.5 * hessian[0]
    assert result.summary["slope of kernel change vs width (linear output)"] < -0.4


def test_non_linear_output_keeps_an_order_one_kernel_change(result):
    change = _column(result, "tanh", "kernel_change")
    assert min(change) > 0.1
    assert change[-1] > 20 * _column(result, "linear", "kernel_change")[-1]


def test_every_run_reached_the_loss_target(result):
    assert all(row["loss_ratio"] <= 1e-3 for row in result.rows)


def test_result_shape_and_json_round_trip(result):
    assert [(r["output layer"], r["width"]) for r in result.rows] == [
        (output, width) for output in ("linear", "tanh") for width in (10, 100, 1000)
    ]
    assert set(result.reference) <= set(result.summary)
    back = ExperimentResult.from_json(result.to_json())
    assert back.rows == result.rows and back.summary == result.summary


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"widths": (10,)}, "widths"),
        ({"widths": (0, 10)}, "widths"),
        ({"n_seeds": 0}, "n_seeds"),
        ({"loss_reduction": 0.5}, "loss_reduction"),
        ({"n_samples": 2.5}, "n_samples"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        transition_to_linearity(**kwargs)
