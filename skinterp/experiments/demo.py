"""The main job: interpolating learners against scikit-learn baselines on noisy digits.

``python -m skinterp demo`` fits every interpolating classifier of the package and scikit-learn
baselines on the handwritten digits bundled with scikit-learn, with 0%, 10% and 20% of the training
labels replaced by a wrong class, and prints training error (0 means the method interpolates the
noisy labels), test error and times. Interpolation does not prevent good test error: the paper's
"benign overfitting" (Belkin, 2021, Section 3).
"""

import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skinterp.datasets import corrupt_labels
from skinterp.experiments._result import ExperimentResult
from skinterp.kernel_machine import KernelInterpolationClassifier
from skinterp.neighbors import SingularKernelNNClassifier
from skinterp.random_features import MinNormRFFClassifier
from skinterp.simplicial import SimplicialClassifier


def demo_estimators():
    """``[(name, estimator, interpolates), ...]``: what the demo fits, ours first."""
    return [
        ("SingularKernelNN (k=10, alpha=auto)", SingularKernelNNClassifier(n_neighbors=10), True),
        (
            "SingularKernelNN (k=10, log weight)",
            SingularKernelNNClassifier(n_neighbors=10, weight="log"),
            True,
        ),
        ("Simplicial (Delaunay, lifted LP)", SimplicialClassifier(), True),
        ("Kernel interp. (Laplacian, direct)", KernelInterpolationClassifier(bandwidth=2.0), True),
        (
            "Kernel interp. (Laplacian, EigenPro)",
            KernelInterpolationClassifier(bandwidth=2.0, solver="eigenpro", random_state=0),
            True,
        ),
        (
            "Min-norm random Fourier (N=20000)",
            # cutoff=1e-7: the paper's minimum-norm interpolant (the estimator's default 1e-3
            # drops one direction here and warns that the fit does not interpolate).
            MinNormRFFClassifier(n_components=20_000, cutoff=1e-7, random_state=0),
            True,
        ),
        ("sklearn 1-NN", KNeighborsClassifier(n_neighbors=1), True),
        (
            "sklearn k-NN (k by 5-fold CV)",
            GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 3, 5, 9, 15, 25]}, cv=5),
            False,
        ),
    ]


def run_demo(noise_levels=(0.0, 0.1, 0.2), *, estimators=None, random_state=0):
    """Fit each estimator on digits with corrupted training labels and measure its errors.

    Parameters
    ----------
    noise_levels : sequence of float, default=(0.0, 0.1, 0.2)
        Fractions of training labels replaced by a wrong class.
    estimators : list of (name, estimator, interpolates) or None
        What to fit; :func:`demo_estimators` when None.
    random_state : int, default=0
        Seed of the train/test split and of the label corruption.

    Returns
    -------
    result : ExperimentResult
        One row per noise level and method: ``noise``, ``method``, ``train_error``,
        ``test_error``, ``fit_time`` and ``predict_time`` (seconds).

    Examples
    --------
    >>> from sklearn.neighbors import KNeighborsClassifier
    >>> from skinterp.experiments.demo import run_demo
    >>> result = run_demo([0.1], estimators=[("1-NN", KNeighborsClassifier(1), True)])
    >>> result.rows[0]["train_error"]
    0.0
    """
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=random_state
    )
    if estimators is None:
        estimators = demo_estimators()
    start_time = time.perf_counter()
    result = ExperimentResult(
        "demo",
        params={"data": "digits (899 train / 898 test)", "random_state": random_state},
        description="interpolating learners vs baselines on digits with noisy labels",
        plot_spec={"x": "noise", "y": ["test_error"], "hue": "method"},
    )
    for noise in noise_levels:
        y_noisy, _ = corrupt_labels(y_train, noise, random_state=random_state)
        for name, estimator, _ in estimators:
            start = time.perf_counter()
            estimator.fit(X_train, y_noisy)
            fit_time = time.perf_counter() - start
            start = time.perf_counter()
            test_pred = estimator.predict(X_test)
            predict_time = time.perf_counter() - start
            result.rows.append(
                {
                    "noise": noise,
                    "method": name,
                    "train_error": float(np.mean(estimator.predict(X_train) != y_noisy)),
                    "test_error": float(np.mean(test_pred != y_test)),
                    "fit_time": fit_time,
                    "predict_time": predict_time,
                }
            )
    result.elapsed = time.perf_counter() - start_time
    return result
