"""The command line: list, reproduce, --version."""

import json
import subprocess
import sys

import pytest

import skinterp
from skinterp.__main__ import main
from skinterp.experiments import EXPERIMENTS, ExperimentResult


def test_list_names_every_experiment(capsys):
    assert main(["list"]) == 0
    output = capsys.readouterr().out
    for name, description in EXPERIMENTS.items():
        assert f"{name}  " in output and description in output


def test_version():
    completed = subprocess.run(
        [sys.executable, "-m", "skinterp", "--version"], capture_output=True, text=True
    )
    assert (
        completed.returncode == 0
        and completed.stdout.strip() == f"skinterp {skinterp.__version__}"
    )


def _fake_experiment(calls):
    def fake(*, quick=False, data_home=None, random_state=0, verbose=False):
        calls.append(dict(quick=quick, data_home=data_home, random_state=random_state))
        return ExperimentResult(
            "fake",
            rows=[{"x": 1, "y": 2.0}, {"x": 2, "y": 1.0}],
            summary={"y at 2": 1.0},
            reference={"y at 2": 0.9},
            plot_spec={"x": "x", "y": "y"},
            elapsed=0.1,
        )

    return fake


def test_reproduce_prints_the_table_and_writes_json_and_png(monkeypatch, tmp_path, capsys):
    import skinterp.experiments as experiments

    calls = []
    monkeypatch.setitem(EXPERIMENTS, "fake", "a fake experiment")
    monkeypatch.setattr(experiments, "get_experiment", lambda name: _fake_experiment(calls))
    status = main(
        [
            "reproduce",
            "fake",
            "--quick",
            "--out",
            str(tmp_path),
            "--seed",
            "3",
            "--data",
            "somewhere",
        ]
    )
    assert status == 0
    assert calls == [dict(quick=True, data_home="somewhere", random_state=3)]
    output = capsys.readouterr().out
    assert "y at 2" in output and "0.9" in output
    assert json.loads((tmp_path / "fake.json").read_text())["summary"] == {"y at 2": 1.0}
    assert (tmp_path / "fake.png").read_bytes()[:4] == b"\x89PNG"


def test_reproduce_passes_no_data_folder_to_synthetic_experiments(monkeypatch, tmp_path):
    import skinterp.experiments as experiments

    seen = []

    def synthetic(*, quick=False, random_state=0, verbose=False):
        seen.append(quick)
        return ExperimentResult(
            "synthetic", rows=[{"x": 1, "y": 1}], plot_spec={"x": "x", "y": "y"}
        )

    monkeypatch.setitem(EXPERIMENTS, "synthetic", "no data")
    monkeypatch.setattr(experiments, "get_experiment", lambda name: synthetic)
    assert main(["reproduce", "synthetic", "--out", str(tmp_path), "--data", "x"]) == 0
    assert seen == [False]


def test_reproduce_rejects_an_unknown_name(capsys):
    assert main(["reproduce", "no-such-experiment"]) == 2
    assert "unknown experiment" in capsys.readouterr().err


def test_reproduce_needs_a_name():
    with pytest.raises(SystemExit):
        main(["reproduce"])


def test_warmup_times_every_configuration(monkeypatch, capsys):
    import skinterp._warmup as warmup_module

    everything = warmup_module.warmup_configurations()
    assert len({label for label, _, _ in everything}) == len(everything)
    # The command runs all of them; here two, to keep the suite fast.
    chosen = [entry for entry in everything if entry[0].startswith("SingularKernelNN")][:2]
    monkeypatch.setattr(warmup_module, "warmup_configurations", lambda: chosen)
    assert main(["warmup"]) == 0
    output = capsys.readouterr().out
    assert chosen[0][0] in output and chosen[1][0] in output and "s in all" in output


def test_warmup_rejects_unknown_labels():
    from skinterp._warmup import warmup

    with pytest.raises(ValueError, match="Unknown warmup configurations"):
        warmup(["no such estimator"])
