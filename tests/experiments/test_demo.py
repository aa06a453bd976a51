"""The main job: ``python -m skinterp demo``."""

import subprocess
import sys

from sklearn.neighbors import KNeighborsClassifier

from skinterp.__main__ import main
from skinterp.experiments.demo import demo_estimators, run_demo


def test_interpolating_methods_have_zero_training_error_and_learn():
    result = run_demo([0.2], estimators=[e for e in demo_estimators() if e[2]][:2])
    for row in result.rows:
        assert row["train_error"] == 0.0, row
        assert row["test_error"] < 0.15, row  # 20% label noise, yet far better than chance


def test_table_has_one_row_per_noise_level_and_method():
    estimators = [
        ("1-NN", KNeighborsClassifier(1), True),
        ("3-NN", KNeighborsClassifier(3), False),
    ]
    result = run_demo([0.0, 0.1], estimators=estimators)
    assert [(r["noise"], r["method"]) for r in result.rows] == [
        (0.0, "1-NN"),
        (0.0, "3-NN"),
        (0.1, "1-NN"),
        (0.1, "3-NN"),
    ]
    lines = result.table().splitlines()
    assert len(lines) == 2 + 4 and "test_error" in lines[0]


def test_command_line_demo_prints_the_table(capsys):
    assert main(["demo", "--quick"]) == 0
    output = capsys.readouterr().out
    assert (
        "SingularKernelNN" in output
        and "sklearn 1-NN" in output
        and "  0.1  SingularKernelNN" in output
    )


def test_module_is_runnable_and_rejects_unknown_commands():
    completed = subprocess.run(
        [sys.executable, "-m", "skinterp", "no-such-command"], capture_output=True, text=True
    )
    assert completed.returncode == 2
    assert "invalid choice" in completed.stderr
