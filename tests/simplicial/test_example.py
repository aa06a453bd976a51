"""The simplicial gallery example runs standalone (Agg backend, no data folder)."""

import os
import runpy
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plot_simplicial_interpolation.py"


def test_simplicial_example_runs(monkeypatch, tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.delenv("SKINTERP_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(EXAMPLE), run_name="__main__")
    # Without a screen the script keeps its two figures as PNG files (show_figures).
    assert sorted(os.listdir(tmp_path)) == [
        "plot_simplicial_interpolation.png",
        "plot_simplicial_interpolation_2.png",
    ]
    excess = namespace["excess"]["simplicial interpolation"]
    nearest = namespace["excess"]["1-nearest neighbour"]
    # the example's message: the excess risk falls with d, and ends below 1-NN's
    assert excess[-1] < excess[0] and excess[-1] < nearest[-1]
    import matplotlib.pyplot as plt

    plt.close("all")
