"""One real ``LocalCluster`` (2 worker processes x 1 thread) per test module of this folder.

The modules that need dask skip themselves (``pytest.importorskip``) when the optional
``skinterp[dask]`` extra is not installed; ``test_optional.py`` runs either way.
"""

import pytest


@pytest.fixture(scope="module")
def client():
    """A client of a LocalCluster of 2 processes x 1 thread, closed after the module."""
    distributed = pytest.importorskip(
        "distributed", reason="the optional `skinterp[dask]` extra is not installed"
    )
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            worker_dashboard_address=":0",
            memory_limit="3GiB",
        ) as cluster,
        distributed.Client(cluster, timeout="60s") as client,
    ):
        client.wait_for_workers(2, timeout=60)
        yield client
