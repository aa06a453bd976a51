"""The extra is optional: skinterp never imports dask; without it, a clear ImportError."""

import subprocess
import sys


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )


def test_importing_skinterp_does_not_import_dask():
    result = _run(
        "import sys, skinterp; print('dask' in sys.modules, 'distributed' in sys.modules)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_without_dask_the_subpackage_names_the_extra():
    result = _run(
        "import sys\nfor m in ('dask', 'distributed'): sys.modules[m] = None\n"
        "import skinterp.distributed"
    )
    assert result.returncode != 0
    assert "ImportError" in result.stderr and "skinterp[dask]" in result.stderr
