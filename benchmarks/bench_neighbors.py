"""SingularKernelNN against scikit-learn's KNeighborsRegressor(weights="distance"), same run.

With ``alpha=1`` both compute the same predictions (checked here), so the ratio measures the
neighbour search and the weighting. Usage::

    python benchmarks/bench_neighbors.py            # d = 10, 50, 784 (MNIST if $SKINTERP_DATA)
    python benchmarks/bench_neighbors.py --quick    # small sizes, a smoke run
"""

import argparse
import os

import numpy as np
from _harness import machine_summary, print_table, time_call
from sklearn.neighbors import KNeighborsRegressor

from skinterp import SingularKernelNN


def problems(quick, dims):
    rng = np.random.default_rng(0)
    scale = 10 if quick else 1
    for n_train, n_query, dim in [
        (100_000, 100_000, 10),
        (100_000, 10_000, 50),
        (50_000, 5_000, 784),
    ]:
        if dim not in dims:
            continue
        n_train, n_query = n_train // scale, n_query // scale
        X = rng.standard_normal((n_train, dim))
        yield f"gaussian d={dim}", X, X.sum(axis=1), rng.standard_normal((n_query, dim))
    if os.environ.get("SKINTERP_DATA") and 784 in dims:
        from skinterp.datasets import load_mnist_sample

        X_train, y_train, X_test, _ = load_mnist_sample()
        yield "MNIST 5k d=784", X_train, y_train.astype(float), X_test


def fit_predict(estimator, X, y, queries):
    return lambda: estimator.fit(X, y).predict(queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument(
        "--dims", type=int, nargs="+", default=[10, 50, 784], help="which problems"
    )
    args = parser.parse_args()
    print(machine_summary())
    rows = []
    for name, X, y, queries in problems(args.quick, args.dims):
        size = f"{name} n={X.shape[0]} m={queries.shape[0]}"
        for n_jobs in [None, -1]:
            ours = time_call(
                "ours",
                fit_predict(SingularKernelNN(args.k, alpha=1.0, n_jobs=n_jobs), X, y, queries),
                repeat=1,
                trace_last_call=True,  # few, large allocations: tracing costs nothing here
            )
            peer = time_call(
                "sklearn",
                fit_predict(
                    KNeighborsRegressor(n_neighbors=args.k, weights="distance", n_jobs=n_jobs),
                    X,
                    y,
                    queries,
                ),
                repeat=1,
                trace_last_call=True,
            )
            max_diff = float(np.max(np.abs(ours.result - peer.result)))
            rows.append(
                {
                    "problem": size,
                    "n_jobs": str(n_jobs),
                    "ours first s": ours.first_call,
                    "ours s": ours.best,
                    "sklearn s": peer.best,
                    "speed-up": peer.best / ours.best,
                    "ours MiB": ours.peak_mib,
                    "sklearn MiB": peer.peak_mib,
                    "max |diff|": max_diff,
                }
            )
            print_table(rows[-1:], list(rows[-1]))
    print("\nAll problems (time = fit + predict, best of the timed runs after a first call):")
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
