"""The README's quick start runs and prints what the README says it prints."""

import contextlib
import io
import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_quick_start_runs_and_interpolates():
    block = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    assert len(block.strip().splitlines()) <= 7  # a five-line quick start, imports aside
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(block, "README.md", "exec"), {})
    interpolates, accuracy = stdout.getvalue().split()
    assert interpolates == "True"
    assert float(accuracy) > 0.95  # the README says 0.97...
