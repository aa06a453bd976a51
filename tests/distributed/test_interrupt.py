"""Ctrl-C during a distributed fit: KeyboardInterrupt within a couple of seconds, the fit's
tasks cancelled, the estimator as it was, and the cluster usable for the next fit; also when
Python drops the first KeyboardInterrupt (raised inside a ``__del__`` or a gc callback, which
a client process runs in its main thread: distributed's ``Future.__del__``, the in-process
scheduler's ``GCDiagnosis``) and when the kernel hands the SIGINT to a thread other than the
main one (which then stays asleep in its wait)."""

import gc
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

pytest.importorskip(
    "distributed", reason="the optional `skinterp[dask]` extra (dask.distributed) is not installed"
)

import dask.array as da  # noqa: E402

from skinterp import KernelInterpolator, MinNormRFFRegressor  # noqa: E402
from skinterp.distributed import fit_kernel_interpolator, fit_min_norm_rff  # noqa: E402
from skinterp.distributed._client import (  # noqa: E402
    ctrl_c_remembered,
    result_of,
)

RNG = np.random.RandomState(0)
SMALL = RNG.uniform(size=(200, 4))
SMALL_Y = np.sin(3 * SMALL[:, 0]) + SMALL[:, 1]


def _n_tasks(client):
    return client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks))


def _interrupted(call, delay):
    """Run ``call()`` with a real SIGINT after ``delay`` s; return seconds from the signal to
    the KeyboardInterrupt (a failure when ``call`` ends first)."""
    sent = {}

    def interrupt():
        sent["at"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(delay, interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            call()
    finally:
        timer.cancel()
    return time.perf_counter() - sent["at"]


def _wait_for_tasks(client, count, seconds=30.0):
    """The scheduler's task count once at most ``count`` (or after ``seconds``). Futures that
    only garbage holds (a reference cycle through an exception's frames, e.g. in
    distributed's ``sync``) are collected first: the count would depend on when Python's gc
    last ran."""
    deadline = time.perf_counter() + seconds
    gc.collect()
    while _n_tasks(client) > count and time.perf_counter() < deadline:
        time.sleep(0.1)
        gc.collect()
    return _n_tasks(client)


def _snapshot(estimator):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(estimator).items()}


def _assert_unchanged(estimator, before):
    after = vars(estimator)
    assert after.keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value, err_msg=key)
        else:
            assert after[key] is value or after[key] == value, key


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_ctrl_c_during_a_distributed_eigenpro_fit(client):
    params = dict(bandwidth=0.5, solver="eigenpro", subsample_size=150, random_state=0)
    # A previous fit (also compiles the kernels in the workers), which must survive.
    estimator = fit_kernel_interpolator(
        KernelInterpolator(n_epochs=5, **params), SMALL, SMALL_Y, client
    )
    before = _snapshot(estimator)
    idle = _wait_for_tasks(client, 0)
    X = RNG.uniform(size=(20_000, 20))
    y = np.sin(X.sum(axis=1))
    estimator.set_params(n_epochs=200, batch_size=100, tol=0.0)  # minutes if not interrupted
    fit = lambda: fit_kernel_interpolator(  # noqa: E731
        estimator, da.from_array(X, chunks=5000), da.from_array(y, chunks=5000), client
    )
    lag = _interrupted(fit, delay=3.0)  # in the epochs
    assert lag < 2.5
    assert _wait_for_tasks(client, idle) == idle
    lag = _interrupted(fit, delay=0.3)  # in the setup (auto bandwidth rows, subsample, shards)
    assert lag < 2.5
    assert _wait_for_tasks(client, idle) == idle  # the shards and data were cancelled
    estimator.set_params(n_epochs=5, batch_size=None, tol=1e-6)
    _assert_unchanged(estimator, before)
    # The cluster is usable: the same fit again gives the same model.
    again = fit_kernel_interpolator(
        KernelInterpolator(n_epochs=5, **params), SMALL, SMALL_Y, client
    )
    np.testing.assert_allclose(again.dual_coef_, estimator.dual_coef_, rtol=1e-12)


def test_ctrl_c_during_a_distributed_rff_fit(client):
    params = dict(bandwidth=1.0, random_state=3)
    estimator = fit_min_norm_rff(
        MinNormRFFRegressor(n_components=1000, **params), SMALL, SMALL_Y, client
    )
    before = _snapshot(estimator)
    idle = _wait_for_tasks(client, 0)
    X = RNG.uniform(-1, 1, size=(2000, 8))
    y = np.cos(2 * X[:, 0]) + X[:, 1]
    estimator.set_params(n_components=400_000)  # a minute or more if not interrupted
    lag = _interrupted(lambda: fit_min_norm_rff(estimator, X, y, client), delay=2.0)
    assert lag < 2.5
    assert _wait_for_tasks(client, idle) == idle
    estimator.set_params(n_components=1000)
    _assert_unchanged(estimator, before)
    unfitted = MinNormRFFRegressor(n_components=400_000, **params)
    _interrupted(lambda: fit_min_norm_rff(unfitted, X, y, client), delay=1.5)
    assert vars(unfitted) == vars(MinNormRFFRegressor(n_components=400_000, **params))
    assert _wait_for_tasks(client, idle) == idle
    again = fit_min_norm_rff(
        MinNormRFFRegressor(n_components=1000, **params), SMALL, SMALL_Y, client
    )
    np.testing.assert_allclose(again.coef_, estimator.coef_, rtol=1e-10, atol=1e-12)


class _DropsCtrlC:
    """Sends SIGINT to the process when deleted: ``os.kill`` runs the handler at once, inside
    ``__del__``, where Python drops its KeyboardInterrupt ("Exception ignored in ...")."""

    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)


def _dropped_ctrl_c(signum, frame):
    """SIGUSR1's handler (run by Python in the main thread, wherever it is): a Ctrl-C whose
    KeyboardInterrupt is dropped, as when the SIGINT arrives while the main thread runs
    distributed's ``Future.__del__`` or the in-process scheduler's gc callback."""
    _DropsCtrlC()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_ctrl_c_whose_keyboard_interrupt_python_dropped_still_stops_the_fit(client, monkeypatch):
    """3 s into a fit of half a minute, a Ctrl-C whose KeyboardInterrupt Python drops (the
    SIGINT handler runs inside a ``__del__``): the fit still stops within a wait slice, as
    after a plain Ctrl-C."""
    params = dict(bandwidth=0.5, solver="eigenpro", subsample_size=150, random_state=0)
    estimator = fit_kernel_interpolator(
        KernelInterpolator(n_epochs=3, **params), SMALL, SMALL_Y, client
    )
    before = _snapshot(estimator)
    idle = _wait_for_tasks(client, 0)
    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook: dropped.append(hook.exc_type))
    previous = signal.signal(signal.SIGUSR1, _dropped_ctrl_c)
    X = RNG.uniform(size=(20_000, 20))
    y = np.sin(X.sum(axis=1))
    # About 4 s an epoch here: half a minute if the Ctrl-C were lost.
    estimator.set_params(n_epochs=8, batch_size=100, tol=0.0)
    sent = {}

    def drop_a_ctrl_c():
        sent["at"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGUSR1)

    timer = threading.Timer(3.0, drop_a_ctrl_c)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            fit_kernel_interpolator(
                estimator, da.from_array(X, chunks=5000), da.from_array(y, chunks=5000), client
            )
        stopped_at = time.perf_counter()
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    assert KeyboardInterrupt in dropped  # Python did drop the first one
    assert stopped_at - sent["at"] < 2.5
    assert _wait_for_tasks(client, idle) == idle
    estimator.set_params(n_epochs=3, batch_size=None, tol=1e-6)
    _assert_unchanged(estimator, before)
    # The handler is Python's default again once the fit has ended.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _sleep(seconds):
    time.sleep(seconds)
    return seconds


def _busy_workers(client):
    return sum(client.run(lambda dask_worker: len(dask_worker.state.executing)).values())


def test_a_sigint_delivered_to_another_thread_stops_a_long_wait(client):
    """The kernel may hand a process's SIGINT to any thread that does not block it; Python
    then runs the handler in the main thread only when that thread next runs bytecode. A wait
    on a 4 s task is sliced, so KeyboardInterrupt comes within a slice, not after 4 s."""
    sent = {}

    def interrupt_from_this_thread():
        sent["at"] = time.perf_counter()
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    future = client.submit(_sleep, 4.0, pure=False)
    timer = threading.Timer(0.5, interrupt_from_this_thread)
    with ctrl_c_remembered():
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                result_of(future, timeout=60, what="a sleep")
            stopped_at = time.perf_counter()
        finally:
            timer.cancel()
    assert stopped_at - sent["at"] < 1.5
    assert future.cancelled()
    deadline = time.perf_counter() + 30  # the worker's sleep itself cannot be stopped
    while _busy_workers(client) and time.perf_counter() < deadline:
        time.sleep(0.1)


def test_ctrl_c_remembered_restores_the_handler_and_leaves_others_alone():
    def own_handler(signum, frame):
        pass

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with ctrl_c_remembered():
        installed = signal.getsignal(signal.SIGINT)
        with ctrl_c_remembered():
            assert signal.getsignal(signal.SIGINT) is installed
        assert signal.getsignal(signal.SIGINT) is installed
    assert installed is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    previous = signal.signal(signal.SIGINT, own_handler)
    try:
        with ctrl_c_remembered():
            assert signal.getsignal(signal.SIGINT) is own_handler
        assert signal.getsignal(signal.SIGINT) is own_handler
    finally:
        signal.signal(signal.SIGINT, previous)
