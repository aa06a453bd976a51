"""The one result type of the experiments: table, JSON round trip, frame and declared plots."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.experiments import EXPERIMENTS, ExperimentResult, format_table, get_experiment


def _result():
    rows = [
        {"method": "a", "n": 10, "error": 0.5, "flag": True},
        {"method": "a", "n": 100, "error": np.float64(0.25), "flag": False},
        {"method": "b", "n": 10, "error": float("nan"), "flag": True},
        {"method": "b", "n": 100, "error": 1e-9, "flag": True},
    ]
    return ExperimentResult(
        "toy",
        rows=rows,
        summary={"best": 0.25},
        reference={"best": 0.2},
        params={"seed": 0, "sizes": np.array([10, 100])},
        elapsed=1.5,
        plot_spec={
            "x": "n",
            "y": ["error"],
            "hue": "method",
            "xscale": "log",
            "hlines": {"floor": 0.1},
        },
        description="a toy",
    )


def test_table_has_a_header_a_rule_and_one_line_per_row():
    lines = _result().table().splitlines()
    assert len(lines) == 2 + 4
    assert lines[0].split() == ["method", "n", "error", "flag"]
    assert set(lines[1]) == {"-"}
    assert lines[4].split()[2] == "-"  # NaN is shown as a dash
    assert "1.000e-09" in lines[5]


def test_table_can_choose_columns():
    lines = _result().table(["error", "n"]).splitlines()
    assert lines[0].split() == ["error", "n"]


def test_summary_table_puts_the_reference_beside_the_measurement():
    line = _result().summary_table().splitlines()[2].split()
    assert line == ["best", "0.25", "0.2"]


def test_report_names_the_settings_and_the_run_time():
    report = _result().report()
    assert report.startswith("toy: a toy") and "seed=0" in report and "run time: 1.5 s" in report


def test_json_round_trip_keeps_every_field(tmp_path):
    result = _result()
    path = tmp_path / "toy.json"
    text = result.to_json(path)
    assert json.loads(path.read_text()) == json.loads(text)
    again = ExperimentResult.from_json(path)
    assert again.rows[1]["error"] == 0.25 and again.rows[2]["error"] is None  # NaN -> null
    assert again.params["sizes"] == [10, 100]
    assert again.summary == result.summary and again.plot_spec == result.plot_spec
    assert ExperimentResult.from_json(text).table() == again.table()


def test_infinite_values_survive_json():
    result = ExperimentResult("inf", rows=[{"x": float("inf"), "y": -float("inf")}])
    assert json.loads(result.to_json())["rows"] == [{"x": "inf", "y": "-inf"}]


def test_frame_has_one_row_per_result_row():
    frame = _result().to_frame()
    assert frame.shape == (4, 4) and list(frame["n"]) == [10, 100, 10, 100]


def test_plot_draws_one_curve_per_group_and_the_reference_lines():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = _result().plot()
    assert len(axes) == 1
    labels = axes[0].get_legend_handles_labels()[1]
    assert labels == ["a", "b", "floor"]
    assert axes[0].get_xscale() == "log"
    # group b's NaN point is still drawn as NaN (matplotlib skips it); two points per curve
    assert [len(line.get_xdata()) for line in axes[0].lines[:2]] == [2, 2]
    plt.close("all")


def test_plot_rejects_the_wrong_number_of_axes_and_a_missing_spec():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, 2)
    with pytest.raises(ValueError, match="needs 1 Axes"):
        _result().plot(axes)
    with pytest.raises(ValueError, match="declares no plot"):
        ExperimentResult("bare").plot()
    plt.close("all")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "a": st.integers(-(10**9), 10**9),
                "b": st.floats(allow_nan=True, allow_infinity=True),
                "c": st.text(alphabet="xyz ", max_size=5),
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_every_table_line_has_the_header_width(rows):
    lines = format_table(rows).splitlines()
    assert len({len(line) for line in lines}) == 1
    back = ExperimentResult.from_json(ExperimentResult("p", rows=rows).to_json())
    for row, again in zip(rows, back.rows):
        assert again["a"] == row["a"]
        if math.isfinite(row["b"]):
            assert again["b"] == row["b"]


def test_registry_names_a_module_with_a_function_of_the_same_name():
    for name in EXPERIMENTS:
        function = get_experiment(name)
        assert function.__name__ == name and function.__doc__


def test_unknown_experiment_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown experiment 'nope'"):
        get_experiment("nope")
