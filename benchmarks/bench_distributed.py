"""The distributed paths on a LocalCluster of 1 and of 2 workers (1 thread each) against the
single-machine code, in the same run (this machine is shared and noisy: compare only within one
run).

Sections (default all):

* ``ceiling``: the same kernel work in one plain process, then in two at once: what two workers
  can gain on this machine at the time of the run (other jobs share its cores).
* ``overhead``: EigenPro with tiny batches (m = 100, n = 4000, d = 3), where the kernel work is
  negligible: the per-batch cost of the round trip through the scheduler-free actor calls.
* ``eigenpro``: EigenPro on ``--n`` x ``--d`` synthetic points (default 100,000 x 100, float64),
  ``--batches`` batches of the first epoch timed after the setup; ms per batch, the epoch time
  it implies, bytes sent per epoch, each worker's peak RSS and shard size. The local reference is
  :func:`skinterp.kernel_machine._eigenpro.eigenpro_fit` with ``n_jobs=1`` (one core, as one
  worker has).
* ``rff``: the min-norm random-feature fit above the threshold at ``--rff-n`` x ``--rff-N``
  (default 5000 x 100,000, d = 10): ``MinNormRFFRegressor(n_jobs=1)`` under one BLAS thread
  against :func:`skinterp.distributed.fit_min_norm_rff`.
* ``winn``: ``SingularKernelNN(n_neighbors=10)`` on ``--winn-n`` training points (default 10**6,
  d = 10) predicting 20,000 queries: the local search (``n_jobs=1``) against
  :class:`skinterp.distributed.ShardedNeighbors`.

Run: ``nice python benchmarks/bench_distributed.py [eigenpro] [rff] [winn] [--n 100000]``
"""

import argparse
import resource
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _harness import machine_summary, print_table  # noqa: E402


def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cluster(n_workers):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        memory_limit="8GiB",
    )
    return cluster, Client(cluster)


def bench_eigenpro(args, rows):
    import dask.array as da
    from threadpoolctl import threadpool_limits

    from skinterp.distributed import eigenpro_fit
    from skinterp.kernel_machine._eigenpro import eigenpro_fit as local_fit
    from skinterp.kernels import KernelSpec

    n, d = args.n, args.d
    X_dask = da.random.RandomState(0).uniform(size=(n, d), chunks=(10_000, d))
    y_dask = da.sin(X_dask[:, :5].sum(axis=1))
    X, y = X_dask.compute(), y_dask.compute()
    spec = KernelSpec("laplacian", 10.0)
    params = dict(n_epochs=1, max_batches=args.batches, random_state=0)
    if args.batch_size:
        params["batch_size"] = args.batch_size
    with threadpool_limits(1):
        start = time.perf_counter()
        local = local_fit(X, y[:, None], spec, n_jobs=1, **params)
        total = time.perf_counter() - start
    per_batch = (total - local.setup_seconds) / local.n_batches
    batches_per_epoch = -(-n // local.batch_size)
    rows.append(
        dict(
            path=f"EigenPro local n_jobs=1 (m={local.batch_size})",
            ms_per_batch=1e3 * per_batch,
            epoch_s=per_batch * batches_per_epoch,
            ratio="1",
            MiB_sent_per_epoch=0.0,
            worker_peak_MiB="-",
            shard_MiB="-",
        )
    )
    reference = per_batch
    del X, y
    one_worker = None
    for n_workers in (1, 2):
        cluster, client = _cluster(n_workers)
        try:
            model = eigenpro_fit(X_dask, y_dask, spec, client=client, **params)
            per_batch = model.seconds_per_batch
            sent = model.bytes_per_epoch / model.n_batches * batches_per_epoch
            peaks = client.run(_peak_rss_mib)
            shards = model.shard_nbytes()
            one_worker = per_batch if n_workers == 1 else one_worker
            ratio = f"{per_batch / reference:.2f}"
            if n_workers == 2:
                ratio += f" (1 worker / 2 workers = {one_worker / per_batch:.2f}x)"
            rows.append(
                dict(
                    path=f"EigenPro dask {n_workers} worker(s)",
                    ms_per_batch=1e3 * per_batch,
                    epoch_s=per_batch * batches_per_epoch,
                    ratio=ratio,
                    MiB_sent_per_epoch=sent / 2**20,
                    worker_peak_MiB=" / ".join(f"{v:.0f}" for v in peaks.values()),
                    shard_MiB=" / ".join(f"{v / 2**20:.0f}" for v in shards),
                )
            )
            del model
        finally:
            client.close()
            cluster.close()


def _kernel_work(_):
    from threadpoolctl import threadpool_limits

    from skinterp.kernels import kernel_product

    threadpool_limits(1)  # one BLAS thread, as a worker has

    rng = np.random.RandomState(0)
    X_b, Z = rng.uniform(size=(2000, 100)), rng.uniform(size=(20_000, 100))
    coef = rng.normal(size=(20_000, 1))
    kernel_product(X_b[:10], Z, coef, kernel="laplacian", bandwidth=10.0, n_jobs=1)
    start = time.perf_counter()
    for _ in range(3):
        kernel_product(X_b, Z, coef, kernel="laplacian", bandwidth=10.0, n_jobs=1)
    return (time.perf_counter() - start) / 3


def bench_ceiling(args, rows):
    """What two processes get from this machine now: the same kernel work alone and in pairs."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        alone = pool.map(_kernel_work, [0])[0]
    with context.Pool(2) as pool:
        pair = max(pool.map(_kernel_work, [0, 1]))
    rows.append(
        dict(path="kernel tile work, 1 plain process", ms_per_batch=1e3 * alone, ratio="1")
    )
    rows.append(
        dict(
            path="the same in 2 plain processes at once",
            ms_per_batch=1e3 * pair,
            ratio=f"{pair / alone:.2f} (2-process ceiling {2 * alone / pair:.2f}x)",
        )
    )


def bench_overhead(args, rows):
    """The scheduling cost of one batch: tiny batches, where the kernel work is negligible."""
    from threadpoolctl import threadpool_limits

    from skinterp.distributed import eigenpro_fit
    from skinterp.kernel_machine._eigenpro import eigenpro_fit as local_fit
    from skinterp.kernels import KernelSpec

    rng = np.random.RandomState(0)
    X = rng.uniform(size=(4000, 3))
    y = np.sin(4 * X[:, 0])
    spec = KernelSpec("laplacian", 0.5)
    params = dict(n_epochs=1, batch_size=100, subsample_size=200, random_state=0)
    with threadpool_limits(1):
        start = time.perf_counter()
        local = local_fit(X, y[:, None], spec, n_jobs=1, **params)
        per_batch = (time.perf_counter() - start - local.setup_seconds) / local.n_batches
    rows.append(
        dict(
            path="tiny batches (m=100, n=4000) local",
            ms_per_batch=1e3 * per_batch,
            epoch_s=per_batch * local.n_batches,
            ratio="1",
            MiB_sent_per_epoch=0.0,
            worker_peak_MiB="-",
            shard_MiB="-",
        )
    )
    reference = per_batch
    for n_workers in (1, 2):
        cluster, client = _cluster(n_workers)
        try:
            eigenpro_fit(X, y, spec, client=client, **params)  # warm up
            model = eigenpro_fit(X, y, spec, client=client, **params)
            overhead = 1e3 * (model.seconds_per_batch - reference)
            rows.append(
                dict(
                    path=f"tiny batches, dask {n_workers} worker(s): +{overhead:.1f} ms per batch",
                    ms_per_batch=1e3 * model.seconds_per_batch,
                    epoch_s=model.seconds_per_batch * model.n_batches,
                    ratio=f"{model.seconds_per_batch / reference:.2f}",
                    MiB_sent_per_epoch=model.bytes_per_epoch / 2**20,
                    worker_peak_MiB="-",
                    shard_MiB="-",
                )
            )
        finally:
            client.close()
            cluster.close()


def bench_rff(args, rows):
    from threadpoolctl import threadpool_limits

    from skinterp import MinNormRFFRegressor
    from skinterp.distributed import fit_min_norm_rff

    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(args.rff_n, 10))
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    params = dict(n_components=args.rff_N, bandwidth=1.0, random_state=0, n_jobs=1)
    with threadpool_limits(1):
        start = time.perf_counter()
        local = MinNormRFFRegressor(**params).fit(X, y)
        reference = time.perf_counter() - start
    rows.append(
        dict(
            path=f"RFF local n={args.rff_n} N={args.rff_N} (1 thread)",
            ms_per_batch="-",
            epoch_s=reference,
            ratio="1",
            MiB_sent_per_epoch=0.0,
            worker_peak_MiB="-",
            shard_MiB="-",
        )
    )
    X_test = rng.uniform(-1, 1, size=(200, 10))
    one = None
    for n_workers in (1, 2):
        cluster, client = _cluster(n_workers)
        try:
            # Warm up: worker imports, numba cache loads, the thread plugin.
            fit_min_norm_rff(MinNormRFFRegressor(n_components=400), X[:100], y[:100], client)
            start = time.perf_counter()
            remote = fit_min_norm_rff(MinNormRFFRegressor(**params), X, y, client)
            seconds = time.perf_counter() - start
            error = np.abs(remote.predict(X_test) - local.predict(X_test)).max()
            one = seconds if n_workers == 1 else one
            ratio = f"{seconds / reference:.2f}"
            if n_workers == 2:
                ratio += f" (1/2 workers = {one / seconds:.2f}x)"
            sent = n_workers * (args.rff_n**2 * 8 + args.rff_n * 10 * 8 + args.rff_n * 8)
            rows.append(
                dict(
                    path=f"RFF dask {n_workers} worker(s), max |diff| {error:.1e}",
                    ms_per_batch="-",
                    epoch_s=seconds,
                    ratio=ratio,
                    MiB_sent_per_epoch=sent / 2**20,
                    worker_peak_MiB=" / ".join(
                        f"{v:.0f}" for v in client.run(_peak_rss_mib).values()
                    ),
                    shard_MiB="-",
                )
            )
        finally:
            client.close()
            cluster.close()


def bench_winn(args, rows):
    from skinterp import SingularKernelNN
    from skinterp.distributed import ShardedNeighbors

    rng = np.random.RandomState(0)
    X = rng.uniform(size=(args.winn_n, 10))
    y = np.sin(4 * X[:, 0]) + X[:, 1]
    queries = rng.uniform(size=(20_000, 10))
    model = SingularKernelNN(n_neighbors=10, alpha=5.0, n_jobs=1).fit(X, y)
    start = time.perf_counter()
    expected = model.predict(queries)
    reference = time.perf_counter() - start
    rows.append(
        dict(
            path=f"wiNN local predict 20k queries, n={args.winn_n}",
            ms_per_batch="-",
            epoch_s=reference,
            ratio="1",
            MiB_sent_per_epoch=0.0,
            worker_peak_MiB="-",
            shard_MiB="-",
        )
    )
    one = None
    for n_workers in (1, 2):
        cluster, client = _cluster(n_workers)
        try:
            sharded = ShardedNeighbors(model, client)
            sharded.predict(queries[:2000])  # load the numba cache, build the indexes
            start = time.perf_counter()
            got = sharded.predict(queries)
            seconds = time.perf_counter() - start
            one = seconds if n_workers == 1 else one
            ratio = f"{seconds / reference:.2f}"
            if n_workers == 2:
                ratio += f" (1/2 workers = {one / seconds:.2f}x)"
            rows.append(
                dict(
                    path=f"wiNN dask {n_workers} worker(s), max |diff| "
                    f"{np.abs(got - expected).max():.1e}",
                    ms_per_batch="-",
                    epoch_s=seconds,
                    ratio=ratio,
                    MiB_sent_per_epoch=n_workers * queries.nbytes * (1 + 2 * 10 / 10) / 2**20,
                    worker_peak_MiB=" / ".join(
                        f"{v:.0f}" for v in client.run(_peak_rss_mib).values()
                    ),
                    shard_MiB=" / ".join(
                        f"{(hi - lo) * 10 * 8 / 2**20:.0f}" for lo, hi in sharded.bounds
                    ),
                )
            )
        finally:
            client.close()
            cluster.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "sections", nargs="*", default=["ceiling", "overhead", "eigenpro", "rff", "winn"]
    )
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=100)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--rff-n", type=int, default=5000)
    parser.add_argument("--rff-N", type=int, default=100_000)
    parser.add_argument("--winn-n", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    print(machine_summary())
    rows = []
    for section in args.sections:
        sections = {
            "ceiling": bench_ceiling,
            "overhead": bench_overhead,
            "eigenpro": bench_eigenpro,
            "rff": bench_rff,
            "winn": bench_winn,
        }
        sections[section](args, rows)
        print_table(
            rows,
            [
                "path",
                "ms_per_batch",
                "epoch_s",
                "ratio",
                "MiB_sent_per_epoch",
                "worker_peak_MiB",
                "shard_MiB",
            ],
        )
        rows = []
        sys.stdout.flush()


if __name__ == "__main__":
    main()
