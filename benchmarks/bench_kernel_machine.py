"""KernelInterpolator / KernelInterpolationClassifier against the direct solve a user would write.

The peer is ``KernelRidge(kernel="precomputed", alpha=1e-8)`` on the *Euclidean* Laplacian
kernel matrix ``exp(-||x - z|| / h)`` (scikit-learn's ``"laplacian"`` uses the L1 distance),
kernel computation included in its fit time. Both run in the same process, one after the
other; peak memory is measured during each fit (tracemalloc and sampled RSS).

Sections (pick any; default all but ``scale``):

* ``mnist``: the 5000 + 5000 MNIST sample (pixels / 255), laplacian, bandwidth 10, EigenPro at
  its defaults; also the per-epoch training / test accuracy (the accuracy contract: 100%
  training accuracy within 5 epochs, test error within 0.2 points of the direct solve).
* ``california``: the 15,000-row California sample, standardised, bandwidth 2, split 12,000
  train / 3,000 test; then fit time and memory on all 15,000 rows (the issue's setting).
* ``scale``: ``--scale-n`` synthetic points (d = 100, float32); EigenPro's setup and a fraction
  of an epoch (``--scale-batches`` batches) are timed and the epoch time is extrapolated and
  compared with the physical limit ``2 n**2 d / GEMM rate`` measured in the same run.

Real data come from ``$SKINTERP_DATA`` (see ``skinterp.datasets``).

Run: ``SKINTERP_DATA=/path/to/data python benchmarks/bench_kernel_machine.py mnist california``
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import machine_summary, measure_peak_memory, print_table  # noqa: E402
from sklearn.kernel_ridge import KernelRidge  # noqa: E402
from sklearn.metrics.pairwise import euclidean_distances  # noqa: E402

from skinterp import KernelInterpolationClassifier, KernelInterpolator  # noqa: E402
from skinterp.datasets import load_california_sample, load_mnist_sample  # noqa: E402
from skinterp.kernel_machine import eigenpro_fit  # noqa: E402
from skinterp.kernels import KernelSpec  # noqa: E402


def timed_fit(function):
    """``(result, seconds, peak MiB)`` of one call."""

    def run():
        start = time.perf_counter()
        result = function()
        return result, time.perf_counter() - start

    (result, seconds), peak = measure_peak_memory(run)
    return result, seconds, peak


class PrecomputedLaplacianRidge:
    """The direct solve a user would write: KernelRidge on the Euclidean Laplacian matrix."""

    def __init__(self, bandwidth, alpha=1e-8):
        self.bandwidth, self.alpha = bandwidth, alpha

    def fit(self, X, Y):
        self.X_ = X
        K = np.exp(-euclidean_distances(X) / self.bandwidth)
        self.model_ = KernelRidge(kernel="precomputed", alpha=self.alpha).fit(K, Y)
        return self

    def predict(self, X):
        return self.model_.predict(np.exp(-euclidean_distances(X, self.X_) / self.bandwidth))


def warm_up():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 12))
    for dtype in (np.float64, np.float32):
        KernelInterpolator(solver="eigenpro", n_epochs=1, random_state=0).fit(
            X.astype(dtype), X[:, 0].astype(dtype)
        )
        KernelInterpolator(solver="eigenpro", n_epochs=1, random_state=0).fit(
            X[:, :4].astype(dtype), X[:, 0].astype(dtype)
        )


def compare(rows, name, ours, peer, score):
    """Append rows for our fits and the peer's, with ratios against the peer."""
    peer_row = None
    for label, (model, seconds, peak) in list(ours.items()) + [("KernelRidge precomputed", peer)]:
        row = {
            "data": name,
            "model": label,
            "fit s": seconds,
            "peak MiB": peak,
            "test": score(model),
        }
        rows.append(row)
        if label == "KernelRidge precomputed":
            peer_row = row
    for row in rows:
        if row["data"] == name:
            row["speedup"] = peer_row["fit s"] / row["fit s"]
            row["memory ratio"] = row["peak MiB"] / max(peer_row["peak MiB"], 1e-9)


def bench_mnist(rows):
    X_train, y_train, X_test, y_test = load_mnist_sample()
    one_hot = np.eye(10)[y_train]

    def error(model):
        scores = model.predict(X_test) if isinstance(model, PrecomputedLaplacianRidge) else None
        predicted = np.argmax(scores, axis=1) if scores is not None else model.predict(X_test)
        return f"{100 * np.mean(predicted != y_test):.2f}% error"

    ours = {
        "EigenPro (defaults)": timed_fit(
            lambda: KernelInterpolationClassifier(
                bandwidth=10.0, solver="eigenpro", random_state=0
            ).fit(X_train, y_train)
        ),
        "direct (Cholesky)": timed_fit(
            lambda: KernelInterpolationClassifier(bandwidth=10.0, solver="direct").fit(
                X_train, y_train
            )
        ),
    }
    peer = timed_fit(lambda: PrecomputedLaplacianRidge(10.0).fit(X_train, one_hot))
    compare(rows, "MNIST 5k", ours, peer, error)
    model = ours["EigenPro (defaults)"][0]
    print(
        f"MNIST EigenPro: batch={model.batch_size_} m*={model.critical_batch_size_:.0f} "
        f"q={model.n_components_} step={model.step_size_:.3g} epochs={model.n_epochs_} "
        f"RKHS norm={model.norm_:.1f} (direct {ours['direct (Cholesky)'][0].norm_:.1f})"
    )

    # Accuracy contract: training and test accuracy after every epoch (same defaults, seed).
    spec = KernelSpec("laplacian", 10.0)
    curve = []

    def record(state):
        # state.evaluate: the current one-hot scores (the core's per-epoch callback state).
        train = np.argmax(state.evaluate(X_train), 1)
        test = np.argmax(state.evaluate(X_test), 1)
        curve.append(
            {
                "epoch": state.epoch,
                "train acc %": 100 * np.mean(train == y_train),
                "test acc %": 100 * np.mean(test == y_test),
            }
        )

    eigenpro_fit(X_train, one_hot, spec, n_epochs=10, n_jobs=-1, random_state=0, callback=record)
    direct_acc = 100 * np.mean(ours["direct (Cholesky)"][0].predict(X_test) == y_test)
    for row in curve:
        row["test - direct (points)"] = row["test acc %"] - direct_acc
    print("\nMNIST 5k, EigenPro defaults (laplacian, h=10): accuracy after each epoch")
    print_table(curve, ["epoch", "train acc %", "test acc %", "test - direct (points)"])
    print()


def bench_california(rows):
    X, y = load_california_sample()
    order = np.random.RandomState(0).permutation(X.shape[0])
    X, y = X[order], y[order]
    X_train, y_train, X_test, y_test = X[:12000], y[:12000], X[12000:], y[12000:]
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std

    def error(model):
        return f"{np.mean((model.predict(X_test).ravel() - y_test) ** 2):.4f} MSE"

    ours = {
        "EigenPro (defaults)": timed_fit(
            lambda: KernelInterpolator(bandwidth=2.0, solver="eigenpro", random_state=0).fit(
                X_train, y_train
            )
        ),
        "EigenPro float32": timed_fit(
            lambda: KernelInterpolator(
                bandwidth=2.0, solver="eigenpro", dtype="float32", random_state=0
            ).fit(X_train, y_train)
        ),
        "direct (Cholesky, 4 GiB budget)": timed_fit(
            lambda: KernelInterpolator(bandwidth=2.0, solver="direct", memory_limit=4096).fit(
                X_train, y_train
            )
        ),
    }
    peer = timed_fit(lambda: PrecomputedLaplacianRidge(2.0).fit(X_train, y_train))
    compare(rows, "California 12k", ours, peer, error)
    # The issue's own measurement fits all 15,000 rows (31 s, 3.6 GB there): fit time and
    # memory only, as no rows are left for a test error.
    X_all = (X - X.mean(axis=0)) / X.std(axis=0)
    ours_all = {
        "EigenPro (defaults)": timed_fit(
            lambda: KernelInterpolator(bandwidth=2.0, solver="eigenpro", random_state=0).fit(
                X_all, y
            )
        )
    }
    peer_all = timed_fit(lambda: PrecomputedLaplacianRidge(2.0).fit(X_all, y))
    compare(rows, "California 15k (fit only)", ours_all, peer_all, lambda model: "-")
    model = ours["EigenPro (defaults)"][0]
    print(
        f"California EigenPro: batch={model.batch_size_} m*={model.critical_batch_size_:.0f}"
        f" q={model.n_components_} epochs={model.n_epochs_} "
        f"train mse by epoch={np.array2string(model.loss_curve_, precision=4)}"
    )


def bench_scale(n, n_batches):
    from bench_kernels import gemm_rate

    d = 100
    rate = gemm_rate(np.float32)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, d)).astype(np.float32)
    directions = rng.normal(size=(d, 3)) / np.sqrt(d)
    Y = np.sin(3 * X @ directions).astype(np.float32)
    spec = KernelSpec("laplacian", float(np.sqrt(2 * d)))

    def run():
        return eigenpro_fit(
            X, Y, spec, n_epochs=1, n_jobs=-1, random_state=0, verbose=1, max_batches=n_batches
        )

    result, seconds, peak = timed_fit(run)
    batches_per_epoch = -(-n // result.batch_size)
    per_batch = (seconds - result.setup_seconds) / result.n_batches
    epoch = per_batch * batches_per_epoch
    limit = 2.0 * n * n * d / (rate * 1e9)
    rows = [
        {
            "n": n,
            "d": d,
            "dtype": "float32",
            "s": result.subsample_size,
            "q": result.n_components,
            "batch": result.batch_size,
            "setup s": result.setup_seconds,
            "batches timed": result.n_batches,
            "s / batch": per_batch,
            "epoch s (extrapolated)": epoch,
            "2 n^2 d / GEMM s": limit,
            "of limit": limit / epoch,
            "peak MiB": peak,
        }
    ]
    print(
        f"\nScale: n={n}, d={d}; measured float32 GEMM rate {rate:.1f} GFLOP/s; one epoch is "
        f"{batches_per_epoch} batches, {result.n_batches} were timed and extrapolated"
    )
    print_table(rows, list(rows[0]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "sections",
        nargs="*",
        default=["mnist", "california"],
        choices=["mnist", "california", "scale"],
    )
    parser.add_argument("--scale-n", type=int, default=200_000)
    parser.add_argument("--scale-batches", type=int, default=8)
    args = parser.parse_args(argv)
    print(machine_summary())
    warm_up()
    rows = []
    for section in args.sections:
        if section == "scale":
            bench_scale(args.scale_n, args.scale_batches)
            continue
        try:
            {"mnist": bench_mnist, "california": bench_california}[section](rows)
        except FileNotFoundError as error:
            print(f"skipping {section}: {error}")
    if rows:
        print("\nFit time (kernel computation included) and peak memory during fit")
        print_table(
            rows, ["data", "model", "fit s", "peak MiB", "test", "speedup", "memory ratio"]
        )


if __name__ == "__main__":
    main()
