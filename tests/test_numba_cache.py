"""The numba cache cannot run stale code: the package's kernels are stamped with a hash of
every source file of the package, not with their own file's modification time."""

import numba
import pytest

from skinterp import _numba
from skinterp._numba import NUMBA_CACHE, SOURCE_STAMP, source_stamp
from skinterp.kernels._functions import cross_to_kernel


def test_source_stamp_changes_with_any_file_of_the_package(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.py").write_text("y = 2\n")
    (tmp_path / "notes.txt").write_text("not source")
    before = source_stamp(str(tmp_path))
    (tmp_path / "notes.txt").write_text("changed, still not source")
    assert source_stamp(str(tmp_path)) == before
    (tmp_path / "sub" / "b.py").write_text("y = 3\n")  # a helper in another module
    assert source_stamp(str(tmp_path)) != before


@pytest.mark.skipif(not NUMBA_CACHE, reason="the numba cache is off (SKINTERP_NUMBA_CACHE=0)")
def test_package_kernels_are_stamped_with_the_package_hash():
    locator = cross_to_kernel._cache._impl.locator
    assert getattr(type(locator), "_skinterp", False)
    assert locator.get_source_stamp() == SOURCE_STAMP == source_stamp()
    assert _numba.install_source_stamp()  # idempotent: no second set of locators
    from numba.core.caching import CacheImpl

    assert sum(getattr(cls, "_skinterp", False) for cls in CacheImpl._locator_classes) <= 3


def test_functions_of_other_packages_keep_numbas_stamp(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))

    @numba.njit(cache=True)
    def outside(x):
        return x + 1

    assert outside(1) == 2
    assert not getattr(type(outside._cache._impl.locator), "_skinterp", False)
