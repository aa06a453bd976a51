"""A worker killed mid-fit: a clear error (EigenPro's shards) or a recovered fit (RFF Gram)."""

import os
import signal
import threading
import time

import numpy as np
import pytest

pytest.importorskip(
    "distributed", reason="the optional `skinterp[dask]` extra (dask.distributed) is not installed"
)

from skinterp import MinNormRFFRegressor  # noqa: E402
from skinterp.distributed import WorkerLostError, eigenpro_fit, fit_min_norm_rff  # noqa: E402
from skinterp.kernels import KernelSpec  # noqa: E402


def _kill_later(client, delay):
    """SIGKILL the second worker's process after ``delay`` seconds (from a timer thread)."""
    pids = client.run(os.getpid)
    address = sorted(pids)[-1]
    timer = threading.Timer(delay, os.kill, args=(pids[address], signal.SIGKILL))
    timer.start()
    return timer


def test_killed_worker_during_eigenpro_raises_a_clear_error_not_a_hang(client):
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(6000, 40))
    y = np.sin(X.sum(axis=1))
    eigenpro_fit(
        X[:300],
        y[:300],
        KernelSpec("laplacian", 5.0),
        n_epochs=1,
        client=client,
        subsample_size=100,
    )  # warm up the workers
    timer = _kill_later(client, 1.5)
    start = time.perf_counter()
    try:
        with pytest.raises(WorkerLostError, match="shard"):
            eigenpro_fit(
                X,
                y,
                KernelSpec("laplacian", 5.0),
                n_epochs=200,
                client=client,
                subsample_size=500,
                batch_size=100,
                random_state=0,
                timeout=30,
            )
    finally:
        timer.cancel()
    assert time.perf_counter() - start < 60
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker


def test_killed_worker_during_the_rff_gram_gives_the_same_fit(client):
    client.wait_for_workers(2, timeout=60)
    rng = np.random.RandomState(1)
    X = rng.uniform(-1, 1, size=(1200, 8))
    y = np.cos(2 * X[:, 0]) + X[:, 1]
    params = dict(n_components=60_000, bandwidth=1.0, random_state=3)
    pids_before = set(client.run(os.getpid).values())
    timer = _kill_later(client, 0.5)
    start = time.perf_counter()
    try:
        remote = fit_min_norm_rff(MinNormRFFRegressor(**params), X, y, client, timeout=120)
        killed_mid_fit = timer.finished.is_set()
    finally:
        timer.cancel()
    if not killed_mid_fit:
        pytest.skip(f"the fit took {time.perf_counter() - start:.1f} s and ended before the kill")
    client.wait_for_workers(2, timeout=60)
    assert set(client.run(os.getpid).values()) != pids_before  # a worker really was replaced
    local = MinNormRFFRegressor(**params).fit(X, y)
    X_test = rng.uniform(-1, 1, size=(50, 8))
    np.testing.assert_allclose(remote.predict(X_test), local.predict(X_test), atol=1e-7)
