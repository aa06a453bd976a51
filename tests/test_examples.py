"""The gallery examples run standalone (Agg backend, no data folder)."""

import os
import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# Examples cheap enough to run in the test suite; the others run when the docs are built.
FAST_EXAMPLES = ["plot_singular_kernel_1d.py", "plot_random_relu_1d.py"]


@pytest.mark.parametrize("name", FAST_EXAMPLES)
def test_example_runs(name, monkeypatch, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.delenv("SKINTERP_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    assert os.listdir(tmp_path) == []  # examples leave no files behind
