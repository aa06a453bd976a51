"""One real ``LocalCluster`` (2 worker processes x 1 thread) per test module of this folder."""

import pytest

pytest.importorskip(
    "distributed", reason="the optional `skinterp[dask]` extra (dask.distributed) is not installed"
)
pytest.importorskip("dask_ml", reason="the optional `skinterp[dask]` extra (dask-ml) is missing")

from distributed import Client, LocalCluster  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """A client of a LocalCluster of 2 processes x 1 thread, closed after the module."""
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            worker_dashboard_address=None,
            memory_limit="3GiB",
        ) as cluster,
        Client(cluster, timeout="60s") as client,
    ):
        client.wait_for_workers(2, timeout=60)
        yield client
