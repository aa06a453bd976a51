"""Ctrl-C during a distributed fit: KeyboardInterrupt within a couple of seconds, the fit's
tasks cancelled, the estimator as it was, and the cluster usable for the next fit."""

import os
import signal
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


def _wait_for_tasks(client, count, seconds=10.0):
    deadline = time.perf_counter() + seconds
    while _n_tasks(client) > count and time.perf_counter() < deadline:
        time.sleep(0.1)
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
