"""``python -m skinterp warmup``: compile every numba kernel once, before it is needed.

The first fit or predict of each estimator compiles its numba kernels; with the on-disk cache
(``SKINTERP_NUMBA_CACHE``, on by default) later processes load them instead. Warming up once
moves that cost out of a timed run, a container start or a parallel grid search, whose worker
processes would otherwise each compile the same kernels. Each configuration below is fitted and
predicted on a tiny problem in float64 and float32, so that every code path a default or a
common setting takes is compiled; the time of each is the first-use cost a user would see.
"""

import time
import warnings

import numpy as np

from skinterp._progress import progress


def warmup_configurations():
    """``[(label, estimator factory, task), ...]``: the code paths that warmup compiles."""
    from skinterp import (
        KernelInterpolationClassifier,
        KernelInterpolator,
        MinNormRFFClassifier,
        MinNormRFFRegressor,
        RandomFourierFeatures,
        RandomReLUFeatures,
        SimplicialClassifier,
        SimplicialInterpolator,
        SingularKernelNN,
        SingularKernelNNClassifier,
    )

    configurations = [
        ("SingularKernelNN (kd-tree)", lambda: SingularKernelNN(5), "regression"),
        ("SingularKernelNN (brute)", lambda: SingularKernelNN(5, algorithm="brute"), "regression"),
        ("SingularKernelNN (log weight)", lambda: SingularKernelNN(5, weight="log"), "regression"),
        ("SingularKernelNNClassifier", lambda: SingularKernelNNClassifier(5), "classification"),
        (
            "SimplicialInterpolator (triangulation)",
            lambda: SimplicialInterpolator(method="triangulation"),
            "regression",
        ),
        (
            "SimplicialInterpolator (lifted)",
            lambda: SimplicialInterpolator(method="lifted"),
            "regression",
        ),
        ("SimplicialClassifier", lambda: SimplicialClassifier(), "classification"),
    ]
    for kernel in ("laplacian", "gaussian", "cauchy", "matern"):
        configurations.append(
            (
                f"KernelInterpolator ({kernel}, direct)",
                lambda k=kernel: KernelInterpolator(kernel=k),
                "regression",
            )
        )
    configurations += [
        (
            "KernelInterpolator (laplacian, eigenpro)",
            lambda: KernelInterpolator(solver="eigenpro", n_epochs=2, random_state=0),
            "regression",
        ),
        (
            "KernelInterpolator (thin_plate_spline, tail, direct)",
            lambda: KernelInterpolator(kernel="thin_plate_spline", bandwidth=1.0),
            "regression",
        ),
        (
            "KernelInterpolator (laplacian, ridge, cg)",
            lambda: KernelInterpolator(solver="cg", ridge=1e-3, cg_max_iter=20),
            "regression",
        ),
        (
            "KernelInterpolator (laplacian, neighbors=10)",
            lambda: KernelInterpolator(neighbors=10),
            "regression",
        ),
        (
            "KernelInterpolationClassifier",
            lambda: KernelInterpolationClassifier(),
            "classification",
        ),
        (
            "MinNormRFFRegressor (fourier, primal)",
            lambda: MinNormRFFRegressor(50, random_state=0),
            "regression",
        ),
        (
            "MinNormRFFRegressor (fourier, dual)",
            lambda: MinNormRFFRegressor(400, random_state=0),
            "regression",
        ),
        (
            "MinNormRFFRegressor (relu)",
            lambda: MinNormRFFRegressor(400, features="relu", random_state=0),
            "regression",
        ),
        (
            "MinNormRFFClassifier",
            lambda: MinNormRFFClassifier(400, random_state=0),
            "classification",
        ),
        ("RandomFourierFeatures", lambda: RandomFourierFeatures(50, random_state=0), "transform"),
        ("RandomReLUFeatures", lambda: RandomReLUFeatures(50, random_state=0), "transform"),
    ]
    return configurations


def _problem(task, n_features, dtype, rng):
    X = rng.uniform(size=(60, n_features)).astype(dtype)
    if task == "classification":
        return X, (X[:, 0] > 0.5).astype(int)
    return X, np.sin(4 * X[:, 0]) + X[:, -1]


def _queries(X):
    """The training inputs, points between them and points around them: a prediction at new
    inputs, inside and outside the training data, takes every path a user's predict takes
    (e.g. the simplicial estimators' lifted program and projection onto the hull)."""
    inside = 0.5 * (X[:20] + X[20:40])
    outside = 1.5 * X[:20] - 0.25
    return np.vstack([X, inside, outside])


def warmup(labels=None, *, verbose=False):
    """Fit and predict every configuration of :func:`warmup_configurations` once.

    Parameters
    ----------
    labels : sequence of str or None, default=None
        Which configurations (their labels); all when None.
    verbose : bool, default=False
        Print one progress line per configuration on stderr.

    Returns
    -------
    result : ExperimentResult
        One row per configuration: its label and the seconds its first use took (compiling,
        or loading from the cache, both precisions, 2-D and 6-D inputs).

    Examples
    --------
    >>> from skinterp._warmup import warmup
    >>> result = warmup(["SingularKernelNN (kd-tree)"])
    >>> [row["estimator"] for row in result.rows]
    ['SingularKernelNN (kd-tree)']
    """
    from skinterp.experiments._result import ExperimentResult

    configurations = warmup_configurations()
    if labels is not None:
        known = {label for label, _, _ in configurations}
        unknown = sorted(set(labels) - known)
        if unknown:
            raise ValueError(
                f"Unknown warmup configurations {unknown}; choose from {sorted(known)}."
            )
        configurations = [entry for entry in configurations if entry[0] in set(labels)]
    rng = np.random.default_rng(0)
    start_time = time.perf_counter()
    rows = []
    for label, factory, task in progress(configurations, "warmup", verbose=verbose):
        start = time.perf_counter()
        for dtype in (np.float64, np.float32):
            for n_features in (2, 6):
                X, y = _problem(task, n_features, dtype, rng)
                with warnings.catch_warnings():
                    # Tiny random problems compile the code paths; what they fit is not used,
                    # so its convergence and conditioning warnings would only be noise.
                    warnings.simplefilter("ignore")
                    estimator = factory().fit(X, y)
                if task == "transform":
                    estimator.transform(X)
                else:
                    estimator.predict(_queries(X))
        rows.append({"estimator": label, "seconds": time.perf_counter() - start})
    return ExperimentResult(
        "warmup",
        rows=rows,
        summary={"total seconds": sum(row["seconds"] for row in rows)},
        elapsed=time.perf_counter() - start_time,
        description="first-use cost of each estimator's kernels",
    )
