"""Throughput of the fused kernel tiles ``K(X, Z) @ A`` against plain numpy and the GEMM limit.

For each shape the tiles are timed against the numpy expression a user would write, which
stores the whole ``m x n`` kernel matrix: with two threads owning whole tiles, each with a
single-threaded BLAS (``n_jobs=-1``); the same call made from a worker thread (as inside a
threaded ``GridSearchCV``: the same path since the thread model of ``skinterp._parallel``, and
the same bits, checked in the "same bits" column); and one thread (``n_jobs=1``, the default).
The numpy expression is::

    np.exp(-np.sqrt(np.maximum(x_sq[:, None] - 2 * X @ Z.T + z_sq[None, :], 0)) / h) @ A

Throughput is reported as GFLOP/s counting ``2 m n d`` (the distance GEMM) and as a fraction of
this machine's matrix-multiply rate, measured in the same run: ``of GEMM`` divides by the rate
of a large square GEMM of the same dtype (measured at the start), ``of X@Z.T`` compares with the
plain cross-product GEMM of the same shape timed right before (the kernel product cannot beat
it; on a shared machine the adjacent measurement is the fairer one).

Run: ``python benchmarks/bench_kernels.py [--quick]``
"""

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import machine_summary, print_table, time_call  # noqa: E402

from skinterp.kernels import kernel_product  # noqa: E402


def _in_thread(pool, call):
    return pool.submit(call).result()


def gemm_rate(dtype, size=2048, repeat=3):
    """Measured GFLOP/s of one large square matrix product (all BLAS threads)."""
    rng = np.random.default_rng(0)
    P = rng.random((size, size)).astype(dtype)
    Q = rng.random((size, size)).astype(dtype)
    timing = time_call("gemm", lambda: P @ Q, repeat=repeat, memory=False)
    return 2.0 * size**3 / timing.best / 1e9


def numpy_kernel_product(X, Z, A, h):
    x_sq = np.einsum("ij,ij->i", X, X)
    z_sq = np.einsum("ij,ij->i", Z, Z)
    D2 = x_sq[:, None] - 2 * X @ Z.T + z_sq[None, :]
    return np.exp(-np.sqrt(np.maximum(D2, 0)) / h) @ A


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller shapes")
    args = parser.parse_args(argv)
    print(machine_summary())
    rates = {dtype: gemm_rate(dtype) for dtype in (np.float32, np.float64)}
    for dtype, rate in rates.items():
        print(f"measured GEMM rate {np.dtype(dtype).name}: {rate:.1f} GFLOP/s")
    m, n = (1000, 10_000) if args.quick else (2000, 20_000)
    rows = []
    rng = np.random.default_rng(0)
    for d, c in [(784, 10), (100, 10), (8, 1)]:
        for dtype in (np.float32, np.float64):
            X = rng.random((m, d)).astype(dtype)
            Z = rng.random((n, d)).astype(dtype)
            A = rng.random((n, c)).astype(dtype)
            h = float(np.sqrt(d))
            flops = 2.0 * m * n * d
            cross = time_call("gemm", partial(np.matmul, X, Z.T), repeat=2, memory=False)
            reference = time_call("numpy", partial(numpy_kernel_product, X, Z, A, h), repeat=2)
            threads = time_call(
                "tiles", partial(kernel_product, X, Z, A, bandwidth=h, n_jobs=-1), repeat=2
            )
            blas = time_call(
                "tiles-1", partial(kernel_product, X, Z, A, bandwidth=h, n_jobs=1), repeat=2
            )
            with ThreadPoolExecutor(1) as worker:
                in_worker = time_call(
                    "tiles-worker",
                    partial(
                        _in_thread,
                        worker,
                        partial(kernel_product, X, Z, A, bandwidth=h, n_jobs=-1),
                    ),
                    repeat=2,
                )
            error = (
                np.abs(threads.result - reference.result).max() / np.abs(reference.result).max()
            )
            for timing in (reference, threads, in_worker, blas):
                rows.append(
                    {
                        "d": d,
                        "dtype": np.dtype(dtype).name,
                        "code": {
                            "numpy": "numpy expression",
                            "tiles": "tiles: n_jobs=-1",
                            "tiles-worker": "tiles: n_jobs=-1 from a worker thread",
                            "tiles-1": "tiles: n_jobs=1",
                        }[timing.name],
                        "seconds": timing.best,
                        "GFLOP/s": flops / timing.best / 1e9,
                        "of GEMM": flops / timing.best / 1e9 / rates[dtype],
                        "of X@Z.T": cross.best / timing.best,
                        "Mentries/s": m * n / timing.best / 1e6,
                        "vs numpy": reference.best / timing.best,
                        "peak MiB": timing.peak_mib,
                        "rel err": error if timing.name == "tiles" else float("nan"),
                        "same bits": (
                            bool(np.array_equal(timing.result, threads.result))
                            if timing.name.startswith("tiles")
                            else ""
                        ),
                    }
                )
    print(f"\nK(X, Z) @ A with m={m}, n={n}, laplacian kernel (best of 2; first call compiles)")
    print_table(
        rows,
        [
            "d",
            "dtype",
            "code",
            "seconds",
            "GFLOP/s",
            "of GEMM",
            "of X@Z.T",
            "Mentries/s",
            "vs numpy",
            "peak MiB",
            "rel err",
            "same bits",
        ],
    )


if __name__ == "__main__":
    main()
