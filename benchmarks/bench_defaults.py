"""Every estimator at its default settings against scikit-learn's defaults, same run.

What a new user gets without tuning (issue 14): on California housing (the 15,000-row sample,
standardised inside a ``Pipeline``, 12,000 train / 3,000 test), scikit-learn's digits
(standardised pixels are *not* used: the raw 0-16 pixels, 1,200 train / 597 test) and the MNIST
5k sample (pixels / 255, 5,000 train / 5,000 test), each of our estimators with ``Estimator()``
and the peers ``KernelRidge()``, ``SVR()``/``SVC()`` and ``KNeighbors*()`` with theirs. Prints
R^2 (regression) or accuracy, fit and predict seconds, and whether our fit interpolates
(``interpolates_``).

The simplicial estimators answer one linear program per query in high dimension (digits: 64, MNIST:
784): they predict a random subset of ``--simplicial-queries`` test points (the score is on that
subset, and says so).

Usage::

    SKINTERP_DATA=/path/to/data python benchmarks/bench_defaults.py  # all three sets
    # without a data folder:
    python benchmarks/bench_defaults.py --datasets digits --simplicial-queries 100
"""

import argparse
import time
import warnings

import numpy as np
from _harness import machine_summary, print_table
from sklearn.datasets import load_digits
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, SVR

import skinterp


def datasets(names, data_home):
    """Yield ``(name, task, X_train, y_train, X_test, y_test)``."""
    if "california" in names:
        from skinterp.datasets import load_california_sample

        X, y = load_california_sample(data_home)
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=3000, random_state=0)
        yield "california", "regression", X_train, y_train, X_test, y_test
    if "digits" in names:
        X, y = load_digits(return_X_y=True)
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, train_size=1200, random_state=0, stratify=y
        )
        yield "digits", "classification", X_train, y_train, X_test, y_test
    if "mnist" in names:
        from skinterp.datasets import load_mnist_sample

        X_train, y_train, X_test, y_test = load_mnist_sample(data_home)
        yield "mnist", "classification", X_train, y_train, X_test, y_test


def models(task):
    """``(name, estimator, ours)`` at default settings; regression pipelines standardise."""
    if task == "regression":
        candidates = [
            ("KernelInterpolator", skinterp.KernelInterpolator(), True),
            ("SingularKernelNN", skinterp.SingularKernelNN(), True),
            ("SimplicialInterpolator", skinterp.SimplicialInterpolator(), True),
            ("MinNormRFFRegressor", skinterp.MinNormRFFRegressor(random_state=0), True),
            ("KernelRidge", KernelRidge(), False),
            ("SVR", SVR(), False),
            ("KNeighborsRegressor", KNeighborsRegressor(), False),
        ]
        return [
            (name, make_pipeline(StandardScaler(), model), ours)
            for name, model, ours in candidates
        ]
    return [
        ("KernelInterpolationClassifier", skinterp.KernelInterpolationClassifier(), True),
        ("SingularKernelNNClassifier", skinterp.SingularKernelNNClassifier(), True),
        ("SimplicialClassifier", skinterp.SimplicialClassifier(), True),
        ("MinNormRFFClassifier", skinterp.MinNormRFFClassifier(random_state=0), True),
        ("SVC", SVC(), False),
        ("KNeighborsClassifier", KNeighborsClassifier(), False),
    ]


def run(model, X_train, y_train, X_test, y_test, n_queries):
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X_train, y_train)
    fit = time.perf_counter() - start
    if n_queries is not None and n_queries < X_test.shape[0]:
        rows = np.random.default_rng(0).choice(X_test.shape[0], n_queries, replace=False)
        X_test, y_test = X_test[rows], y_test[rows]
    start = time.perf_counter()
    score = model.score(X_test, y_test)
    predict = time.perf_counter() - start
    final = model[-1] if hasattr(model, "steps") else model
    return dict(
        score=score,
        fit_s=fit,
        predict_s=predict,
        queries=X_test.shape[0],
        interpolates=str(getattr(final, "interpolates_", "-")),
        warnings=len(caught),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets",
        nargs="+",
        default=["california", "digits", "mnist"],
        choices=["california", "digits", "mnist"],
    )
    parser.add_argument("--data", default=None, help="data folder (default: $SKINTERP_DATA)")
    parser.add_argument("--simplicial-queries", type=int, default=300)
    args = parser.parse_args()
    print(machine_summary())
    for name, task, X_train, y_train, X_test, y_test in datasets(args.datasets, args.data):
        rows = []
        for model_name, model, ours in models(task):
            simplicial = model_name.startswith("Simplicial")
            n_queries = args.simplicial_queries if simplicial else None
            result = run(model, X_train, y_train, X_test, y_test, n_queries)
            rows.append(dict(model=model_name, ours="yes" if ours else "peer", **result))
        metric = "R^2" if task == "regression" else "accuracy"
        print(
            f"\n{name}: {X_train.shape[0]} train x {X_train.shape[1]} features, "
            f"score = test {metric}"
        )
        print_table(
            rows,
            [
                "model",
                "ours",
                "score",
                "queries",
                "fit_s",
                "predict_s",
                "interpolates",
                "warnings",
            ],
        )


if __name__ == "__main__":
    main()
