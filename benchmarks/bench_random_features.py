"""MinNormRFFRegressor against RBFSampler + LinearRegression(fit_intercept=False, tol=0), same run.

Both fit the minimum-norm least-squares solution on the *same* random Fourier features (our
weights are injected into the RBFSampler), so the ratio measures the solver: ours goes through
the smaller Gram matrix block by block, the peer through a dense SVD (``lstsq``) of the whole
``n x N`` feature matrix. ``rel diff`` is the relative difference of the two predictions on 500
test points (large only at the threshold ``N = n``, where the problem is ill conditioned).

Then the 30-point double-descent sweep on n = 2000 MNIST images (2000 test images, sigma = 5)
when ``$SKINTERP_DATA`` holds the MNIST sample, else on synthetic 784-d data. Usage::

    python benchmarks/bench_random_features.py            # d = 64 and 784, N = 1000 ... 40000
    python benchmarks/bench_random_features.py --quick    # small sizes, a smoke run
    python benchmarks/bench_random_features.py --sizes 40000 --skip-sweep
    python benchmarks/bench_random_features.py --defaults  # the defaults table (~2 minutes)

``--defaults`` measures the estimators' defaults against the former ones (``bandwidth="scale"``,
``cutoff=1e-7``) and against a small grid of bandwidths around ``"auto"`` at the new cut-off:
5-fold cross-validated R^2 on standardised California housing (all 15,000 rows of the sample,
and 2,000 of them, where ``N = 1000`` is near ``n = 1600``), 5-fold accuracy on scikit-learn's
digits, and the test accuracy on MNIST (5000 / 5000 images scaled to [0, 1]) when
``$SKINTERP_DATA`` holds the samples. The solver comparison above uses the paper's
``cutoff=1e-7`` (the peer is the exact pseudo-inverse).
"""

import argparse
import os
import time
from functools import partial

import numpy as np
from _harness import machine_summary, measure_peak_memory, print_table
from sklearn.kernel_approximation import RBFSampler
from sklearn.linear_model import LinearRegression

from skinterp import MinNormRFFClassifier, MinNormRFFRegressor
from skinterp.experiments.double_descent import double_descent
from skinterp.random_features._min_norm import DEFAULT_CUTOFF, InterpolationThresholdWarning


def timed(function, repeat):
    """Best wall time of ``repeat`` calls; peak memory (MiB) of the first, measured during it."""
    start = time.perf_counter()
    result, peak = measure_peak_memory(function)
    best = time.perf_counter() - start
    for _ in range(repeat - 1):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, peak, result


def mnist_or_synthetic(n_train, n_test, rng):
    """``X_train, y_train, X_test, y_test, name`` with 784 features."""
    if os.environ.get("SKINTERP_DATA"):
        from skinterp.datasets import load_mnist_sample

        X_train, y_train, X_test, y_test = load_mnist_sample()
        train = rng.permutation(X_train.shape[0])[:n_train]
        test = rng.permutation(X_test.shape[0])[:n_test]
        return X_train[train], y_train[train], X_test[test], y_test[test], "MNIST"
    X = rng.uniform(size=(n_train + n_test, 784)) * (rng.uniform(size=784) < 0.2)
    y = np.argmax(X @ rng.normal(size=(784, 10)), axis=1)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:], "synthetic (no $SKINTERP_DATA)"


def problems(n_train, rng):
    X = rng.uniform(size=(n_train + 500, 64))
    y = np.argmax(X @ rng.normal(size=(64, 10)), axis=1)
    yield "uniform d=64", X[:n_train], np.eye(10)[y[:n_train]], X[n_train:], "scale"
    X_train, y_train, X_test, _, name = mnist_or_synthetic(n_train, 500, rng)
    yield f"{name} d=784", X_train, np.eye(10)[y_train], X_test, 5.0


OLD_DEFAULTS = dict(bandwidth="scale", cutoff=DEFAULT_CUTOFF)
"""The defaults before issue 14: scikit-learn's gamma="scale" and the paper's cut-off."""


def _scored(make, X, y, task):
    """5-fold scores (standardised inside the folds for regression), time, and whether fit
    warned near the threshold."""
    import warnings

    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "regression":
        model, cv = make_pipeline(StandardScaler(), make()), KFold(5, shuffle=True, random_state=0)
    else:
        model, cv = make(), StratifiedKFold(5, shuffle=True, random_state=0)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InterpolationThresholdWarning)
        scores = cross_val_score(model, X, y, cv=cv)
    warned = any(issubclass(w.category, InterpolationThresholdWarning) for w in caught)
    return scores, time.perf_counter() - start, warned


def defaults_table():
    """Old against new defaults, and a grid of bandwidths at the new cut-off."""
    from sklearn.datasets import load_digits

    from skinterp.kernels._bandwidth import auto_bandwidth

    rows = []
    datasets = []
    if os.environ.get("SKINTERP_DATA"):
        from skinterp.datasets import load_california

        data = load_california(n_train=12000, n_test=3000)
        X = np.vstack([data.X_train, data.X_test])
        y = np.concatenate([data.y_train, data.y_test])
        datasets += [
            ("California 15k (R^2)", X, y, "regression", MinNormRFFRegressor),
            ("California 2k (R^2)", X[:2000], y[:2000], "regression", MinNormRFFRegressor),
        ]
    X_digits, y_digits = load_digits(return_X_y=True)
    datasets.append(
        ("digits (accuracy)", X_digits, y_digits, "classification", MinNormRFFClassifier)
    )
    for name, X, y, task, Estimator in datasets:
        standardised = (X - X.mean(axis=0)) / X.std(axis=0) if task == "regression" else X
        sigma = auto_bandwidth(standardised)
        settings = [
            ("old defaults (scale, 1e-7)", OLD_DEFAULTS),
            ("auto, cutoff 1e-7", dict(cutoff=DEFAULT_CUTOFF)),
            ("scale, cutoff 1e-3", dict(bandwidth="scale")),
            ("new defaults (auto, 1e-3)", {}),
        ]
        settings += [
            (f"sigma = {factor:g} x auto ({factor * sigma:.3g})", dict(bandwidth=factor * sigma))
            for factor in (0.25, 0.5, 2.0, 4.0)
        ]
        for label, params in settings:
            scores, seconds, warned = _scored(
                partial(Estimator, random_state=0, **params), X, y, task
            )
            rows.append(
                {
                    "data": name,
                    "setting": label,
                    "mean": scores.mean(),
                    "min": scores.min(),
                    "max": scores.max(),
                    "warned": warned,
                    "seconds": seconds,
                }
            )
            print_table(rows[-1:], list(rows[-1]))
    if os.environ.get("SKINTERP_DATA"):
        X_train, y_train, X_test, y_test, _ = mnist_or_synthetic(
            5000, 5000, np.random.default_rng(0)
        )
        for label, params in (
            ("old defaults (scale, 1e-7)", OLD_DEFAULTS),
            ("new defaults (auto, 1e-3)", {}),
        ):
            start = time.perf_counter()
            model = MinNormRFFClassifier(random_state=0, **params).fit(X_train, y_train)
            accuracy = model.score(X_test, y_test)
            rows.append(
                {
                    "data": "MNIST 5k/5k (test accuracy)",
                    "setting": label,
                    "mean": accuracy,
                    "min": accuracy,
                    "max": accuracy,
                    "warned": False,
                    "seconds": time.perf_counter() - start,
                }
            )
            print_table(rows[-1:], list(rows[-1]))
    print(
        "\nMinNormRFF at default n_components=1000, 5-fold CV (California standardised in the"
        " folds)"
    )
    print_table(rows, list(rows[0]))


def _peer_fit(sampler, peer_model, ours_model, X, Y):
    """scikit-learn's RBFSampler + LinearRegression on the same features as ours."""
    sampler.fit(X)
    sampler.random_weights_ = ours_model.random_weights_
    sampler.random_offset_ = ours_model.random_offset_
    return peer_model.fit(sampler.transform(X), Y)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-sweep", action="store_true")
    parser.add_argument("--n-jobs", type=int, default=-1, help="our activation threads")
    parser.add_argument("--sizes", type=int, nargs="*", help="the values of N (default: all)")
    parser.add_argument("--defaults", action="store_true", help="only the defaults table")
    args = parser.parse_args()
    print(machine_summary())
    if args.defaults:
        defaults_table()
        return
    rng = np.random.default_rng(0)
    n_train = 500 if args.quick else 2000
    grid = [250, 500, 1000, 4000] if args.quick else [1000, 2000, 5000, 10000, 20000, 40000]
    grid = args.sizes or grid
    rows = []
    for name, X, Y, X_test, bandwidth in problems(n_train, rng):
        for n_components in grid:
            ours_model = MinNormRFFRegressor(
                n_components=n_components,
                bandwidth=bandwidth,
                random_state=0,
                n_jobs=args.n_jobs,
                cutoff=DEFAULT_CUTOFF,  # the exact pseudo-inverse, as the peer's
            )
            repeat = 2 if n_components >= 20000 else 3
            ours_time, ours_peak, _ = timed(partial(ours_model.fit, X, Y), repeat)
            sigma = ours_model.bandwidth_
            sampler = RBFSampler(
                gamma=1 / (2 * sigma**2), n_components=n_components, random_state=0
            )
            peer_model = LinearRegression(fit_intercept=False, tol=0)

            peer = partial(_peer_fit, sampler, peer_model, ours_model, X, Y)
            peer_time, peer_peak, _ = timed(peer, repeat)
            expected = peer_model.predict(sampler.transform(X_test))
            difference = np.linalg.norm(ours_model.predict(X_test) - expected) / np.linalg.norm(
                expected
            )
            rows.append(
                {
                    "problem": f"{name} n={X.shape[0]}",
                    "N": n_components,
                    "solver": ours_model.solver_,
                    "ours s": ours_time,
                    "peer s": peer_time,
                    "speed-up": peer_time / ours_time,
                    "ours MiB": ours_peak,
                    "peer MiB": peer_peak,
                    "mem ratio": ours_peak / peer_peak,
                    "rel diff": float(difference),
                }
            )
            print_table(rows[-1:], list(rows[-1]))  # progress: one row as it comes
    print("\nfit time (best of 2-3), peak memory of one fit; peer = RBFSampler + LinearRegression")
    print_table(rows, list(rows[0]))

    if args.skip_sweep:
        return
    n_sweep = 500 if args.quick else 2000
    X_train, y_train, X_test, y_test, name = mnist_or_synthetic(n_sweep, n_sweep, rng)
    start = time.perf_counter()
    result, peak = measure_peak_memory(
        lambda: double_descent(
            X_train,
            y_train,
            X_test,
            y_test,
            features="fourier",
            bandwidth=5.0,
            ridge_penalties=(),
            random_state=0,
            n_jobs=args.n_jobs,
        )
    )
    elapsed = time.perf_counter() - start
    print(
        f"\n30-point double-descent sweep, {name}, n = {n_sweep}, {n_sweep} test points, sigma = 5"
    )
    print(result.curve_table())
    at = {int(N): i for i, N in enumerate(result.n_components)}
    threshold, far = at[n_sweep], at[20 * n_sweep]
    print(
        f"sweep: {elapsed:.1f} s wall, peak {peak:,.0f} MiB; test loss at N=n / at N=20n = "
        f"{result.test_loss[threshold] / result.test_loss[far]:,.0f}; norm peaks at "
        f"N = {result.n_components[np.argmax(result.norm)]}"
    )


if __name__ == "__main__":
    main()
