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
    # Without a screen a script run keeps its figures: NAME.png in the working folder, a real
    # PNG (its signature), and nothing else.
    stem = Path(name).stem
    assert sorted(os.listdir(tmp_path)) == [f"{stem}.png"]
    assert (tmp_path / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_example_ends_by_showing_or_saving_its_figures():
    """Each example calls the public show_figures, never a private skinterp name."""
    for path in sorted(EXAMPLES.glob("plot_*.py")):
        source = path.read_text()
        assert f'show_figures("{path.stem}")' in source, path.name
        for line in source.splitlines():
            if line.startswith(("from skinterp", "import skinterp")):
                module = line.split()[1]
                assert not any(part.startswith("_") for part in module.split(".")), line
