"""Ctrl-C during EigenPro's Nystrom setup: the eigensystem is one long LAPACK call, run with
the GIL released (skinterp._linalg), so the interrupt reaches the caller at once."""

import os
import signal
import threading
import time

import numpy as np
import pytest

from skinterp import KernelInterpolator
from skinterp.kernel_machine import _eigenpro


def test_sigint_during_the_nystrom_eigensystem(monkeypatch):
    events = {}
    eigenpairs = _eigenpro.top_eigenpairs

    def with_sigint(*args):
        events["start"] = time.perf_counter()
        events["timer"] = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT))
        events["timer"].start()
        result = eigenpairs(*args)
        events["end"] = time.perf_counter()
        return result

    monkeypatch.setattr(_eigenpro, "top_eigenpairs", with_sigint)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(4000, 20)), rng.normal(size=4000)
    model = KernelInterpolator(
        solver="eigenpro", subsample_size=4000, n_components=1500, random_state=0
    )
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    stopped = time.perf_counter()
    events["timer"].cancel()
    assert "end" not in events  # the interrupt came while LAPACK was still running
    assert stopped - events["start"] < 0.3 + 1.2
    assert not hasattr(model, "dual_coef_")
