"""Chunked execution: results in order, Ctrl-C stops promptly, progress lines."""

import io
import os
import signal
import threading
import time
from contextlib import redirect_stderr

import numpy as np
import pytest

from skinterp._parallel import run_in_chunks


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_results_come_back_in_chunk_order(n_jobs):
    results = run_in_chunks(lambda start, stop: (start, stop), 10, 3, n_jobs=n_jobs)
    assert results == [(0, 3), (3, 6), (6, 9), (9, 10)]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_sigint_stops_within_about_one_chunk(n_jobs):
    """A real SIGINT during a long chunked call: KeyboardInterrupt, and the queued chunks never
    start (the call does not run to its end)."""
    started = []

    def slow_chunk(start, stop):
        started.append(start)
        time.sleep(0.2)  # releases the GIL, as a nogil kernel does

    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    begin = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run_in_chunks(slow_chunk, 100, 1, n_jobs=n_jobs)  # 100 x 0.2 s if not interrupted
    elapsed = time.perf_counter() - begin
    timer.cancel()
    assert elapsed < 2.0
    assert len(started) < 20


def test_exception_in_a_chunk_cancels_the_queued_ones():
    started = []

    def failing(start, stop):
        started.append(start)
        if start == 2:
            raise KeyboardInterrupt
        time.sleep(0.05)

    with pytest.raises(KeyboardInterrupt):
        run_in_chunks(failing, 200, 1, n_jobs=2)
    assert len(started) < 200


def test_verbose_writes_progress_with_time_left():
    stream = io.StringIO()
    with redirect_stderr(stream):
        out = run_in_chunks(
            lambda a, b: np.arange(a, b).sum(), 4, 1, n_jobs=1, verbose=1, description="summing"
        )
    assert out == [0, 1, 2, 3]
    lines = stream.getvalue().splitlines()
    # At most a line a second, and always the last one.
    assert lines and lines[-1].startswith("summing [4/4]")


def test_exit_after_an_interrupted_lapack_call_waits_for_it_cleanly():
    """A script interrupted during a long eigendecomposition and then exiting: the abandoned
    LAPACK call still runs in a daemon thread, and exiting under it crashed the process (a
    segmentation fault or a hang in OpenBLAS's exit handler, one run in a few). The exit now
    waits for it, says so, and ends with the KeyboardInterrupt's status, three times."""
    import subprocess
    import sys

    script = (
        "import os, signal, threading\n"
        "import numpy as np\n"
        "from skinterp._linalg import top_eigenpairs\n"
        "rng = np.random.default_rng(0)\n"
        "G = rng.normal(size=(2500, 2500))\n"
        "A = G @ G.T\n"
        "threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()\n"
        "top_eigenpairs(A, 2500)\n"
        "print('not interrupted')\n"
    )
    for _ in range(3):
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
        )
        assert "not interrupted" not in result.stdout
        assert "KeyboardInterrupt" in result.stderr
        assert "waiting for an interrupted LAPACK/Qhull call" in result.stderr
        # Python ends an uncaught KeyboardInterrupt by SIGINT (not SIGSEGV, not a timeout).
        assert result.returncode == -signal.SIGINT


def test_a_keyboard_interrupt_wrapped_in_a_system_error_is_a_keyboard_interrupt():
    """A SIGINT handled inside a numba function's return (boxing an array calls Python) comes
    out as SystemError caused by KeyboardInterrupt: on one thread run_in_chunks raises
    KeyboardInterrupt instead; any other SystemError passes through unchanged."""

    def boxed_interrupt(start, stop):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise SystemError("returned a result with an exception set") from interrupt

    with pytest.raises(KeyboardInterrupt):
        run_in_chunks(boxed_interrupt, 10, 5, n_jobs=1)

    def other(start, stop):
        raise SystemError("something else")

    with pytest.raises(SystemError, match="something else"):
        run_in_chunks(other, 10, 5, n_jobs=1)
