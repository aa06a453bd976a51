"""Which data-aware rule should ``bandwidth="auto"`` use? Candidate rules against a grid search.

For each data set (California housing standardised, scikit-learn's 8x8 digits / 16, the MNIST
5k sample / 255) and each model (``KernelInterpolator``/``KernelInterpolationClassifier`` with
the Laplacian and the Gaussian kernel; ``MinNormRFFRegressor``/``Classifier`` with explicit
float bandwidths and ``n_components = n_train / 2``), the test score (R^2 for California,
accuracy otherwise) of:

* the best bandwidth of a log grid (``median distance x 2^k``), chosen *on the test set* (an
  optimistic bound: no rule can beat it);
* each candidate rule, computed on the training inputs: the median pairwise distance
  (``median``, the "median heuristic"), half and twice it, the median distance to the 10th
  nearest neighbour within a fixed 1000-row subsample (``knn10``, the rule that
  :func:`skinterp.kernels._bandwidth.auto_bandwidth` adopted from this comparison), twice
  that, and scikit-learn's ``"scale"``, ``sqrt(n_features * X.var())``.

``auto loss`` is the grid's best score minus the auto rule's (accuracy points, or R^2). The
real data come from ``$SKINTERP_DATA`` (:mod:`skinterp.datasets`); without it the script says
so and stops. Usage::

    SKINTERP_DATA=/path/to/data python benchmarks/bench_auto_bandwidth.py           # ~3 min
    SKINTERP_DATA=/path/to/data python benchmarks/bench_auto_bandwidth.py --quick   # ~1 min
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np
from _harness import machine_summary, print_table
from sklearn.datasets import load_digits
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler

from skinterp import (
    KernelInterpolationClassifier,
    KernelInterpolator,
    MinNormRFFClassifier,
    MinNormRFFRegressor,
)
from skinterp.datasets import load_california_sample, load_mnist_sample
from skinterp.kernels._bandwidth import auto_bandwidth, median_distance

FULL = dict(california=(2000, 3000), digits=(1000, 797), mnist=(2000, 2000), grid=range(-4, 4))
QUICK = dict(california=(1000, 1000), digits=(600, 600), mnist=(800, 800), grid=range(-3, 3))


RULES = {
    "median": median_distance,
    "median/2": lambda X: 0.5 * median_distance(X),
    "2 median": lambda X: 2.0 * median_distance(X),
    "knn10 (auto)": auto_bandwidth,
    "2 knn10": lambda X: 2.0 * auto_bandwidth(X),
    "scale": lambda X: float(np.sqrt(X.shape[1] * X.var())),
}


def datasets(sizes):
    data_home = os.environ.get("SKINTERP_DATA")
    rng = np.random.RandomState(0)
    X, y = load_california_sample(data_home)
    n_train, n_test = sizes["california"]
    order = rng.permutation(X.shape[0])
    train, test = order[:n_train], order[n_train : n_train + n_test]
    scaler = StandardScaler().fit(X[train])
    yield (
        "California",
        "regression",
        scaler.transform(X[train]),
        y[train],
        scaler.transform(X[test]),
        y[test],
    )
    X, y = load_digits(return_X_y=True)
    n_train, n_test = sizes["digits"]
    order = rng.permutation(X.shape[0])
    train, test = order[:n_train], order[n_train : n_train + n_test]
    yield "digits", "classification", X[train] / 16.0, y[train], X[test] / 16.0, y[test]
    X_train, y_train, X_test, y_test = load_mnist_sample(data_home)
    n_train, n_test = sizes["mnist"]
    train = rng.permutation(X_train.shape[0])[:n_train]
    test = rng.permutation(X_test.shape[0])[:n_test]
    yield "MNIST", "classification", X_train[train], y_train[train], X_test[test], y_test[test]


def models(task, n_train):
    # Half as many features as points: the least-squares side of the threshold N = n, away
    # from the ill-conditioned peak at N = n (where every bandwidth scores badly).
    n_components = n_train // 2
    if task == "regression":
        return {
            "KI laplacian": lambda h: KernelInterpolator(bandwidth=h),
            "KI gaussian": lambda h: KernelInterpolator(kernel="gaussian", bandwidth=h),
            "MinNormRFF": lambda h: MinNormRFFRegressor(
                n_components=n_components, bandwidth=h, random_state=0
            ),
        }
    return {
        "KI laplacian": lambda h: KernelInterpolationClassifier(bandwidth=h),
        "KI gaussian": lambda h: KernelInterpolationClassifier(kernel="gaussian", bandwidth=h),
        "MinNormRFF": lambda h: MinNormRFFClassifier(
            n_components=n_components, bandwidth=h, random_state=0
        ),
    }


def score(model, task, X_test, y_test):
    if task == "regression":
        return r2_score(y_test, model.predict(X_test))
    return 100.0 * np.mean(model.predict(X_test) == y_test)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if not os.environ.get("SKINTERP_DATA"):
        sys.exit("Set SKINTERP_DATA to the folder of the real data (see skinterp.datasets).")
    print(machine_summary())
    start = time.perf_counter()
    rows = []
    for name, task, X_train, y_train, X_test, y_test in datasets(sizes):
        rules = {rule: function(X_train) for rule, function in RULES.items()}
        base = rules["median"]
        grid = [base * 2.0**k for k in sizes["grid"]]
        for model_name, make in models(task, X_train.shape[0]).items():
            scores = {}
            with warnings.catch_warnings():
                # Small bandwidths make RFF and Gaussian matrices ill-conditioned: measured,
                # not hidden (the score says it).
                warnings.simplefilter("ignore")
                for h in grid + list(rules.values()):
                    if h not in scores:
                        model = make(h).fit(X_train, y_train)
                        scores[h] = score(model, task, X_test, y_test)
            best = max(grid, key=lambda h: scores[h])
            row = {
                "data": f"{name} {X_train.shape[0]}/{X_test.shape[0]}",
                "model": model_name,
                "best h (grid)": f"{best / base:.3g} x median",
                "best score": scores[best],
            }
            for rule, h in rules.items():
                row[rule] = scores[h]
            row["auto loss"] = scores[best] - scores[rules["knn10 (auto)"]]
            rows.append(row)
            print(
                f"{name} {model_name}: done ({time.perf_counter() - start:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
        print(
            f"{name}: median {rules['median']:.3g}, knn10 {rules['knn10 (auto)']:.3g}, "
            f"scale {rules['scale']:.3g}"
        )
    print(
        "\nTest score (R^2 for California, accuracy % otherwise) at each rule's bandwidth, "
        "against the best of the grid median x 2^k, k in "
        f"[{min(sizes['grid'])}, {max(sizes['grid'])}] (chosen on the test set):\n"
    )
    print_table(rows, ["data", "model", "best h (grid)", "best score", *RULES, "auto loss"])
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
