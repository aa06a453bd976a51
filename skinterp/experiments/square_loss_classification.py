"""Square loss vs cross-entropy for classification (Belkin, 2021, Section 5.1).

The paper argues that the square loss on one-hot targets, the loss of interpolating methods,
classifies as well as the cross-entropy that neural-network practice takes for granted (Hui and
Belkin, 2021, "Evaluation of neural architectures trained with square loss vs cross-entropy in
classification tasks"). This experiment trains *the same models* both ways on MNIST:

* **random Fourier features**, fixed once (``N`` features of bandwidth ``sigma``, one draw per
  ``N``): the square loss is the minimum-norm least-squares fit of the one-hot targets
  (:class:`~skinterp.MinNormRFFClassifier`: least squares below ``N = n``, the minimum-norm
  interpolant above), the cross-entropy is multinomial logistic regression
  (:class:`sklearn.linear_model.LogisticRegression`, lbfgs, weak L2 penalty) on the very same
  features (:class:`~skinterp.RandomFourierFeatures`, same ``random_state``), and, as the
  like-with-like pair to it, the square loss with the same L2 penalty
  (:class:`sklearn.linear_model.Ridge`);
* **a Gaussian kernel machine** ``f = K(., X) alpha``: the exact square-loss interpolant
  (:class:`~skinterp.KernelInterpolationClassifier`), and, to compare the losses with the same
  optimiser, ``T`` steps of gradient descent in the RKHS from ``alpha = 0`` with one step size
  ``eta = n / lambda_max(K)`` on each loss: ``alpha <- alpha - eta / n * (K alpha - Y)`` for
  the square loss, ``alpha <- alpha - eta / n * (softmax(K alpha) - Y)`` for the cross-entropy.

Reported: the 0-1 training and test errors, and the fit times. The paper's claim is
qualitative: the square loss is as good or better.

Cost: the logistic regressions dominate (lbfgs, ``O(n N k)`` per iteration, up to ``max_iter``
iterations; overparameterised problems are separable and run to the cap), then the ``n x n``
kernel matrix and ``2 T`` products with it. Full settings (``n = 5000``, ``N`` = 1000 and
10,000, 5000 test images): 71 s and 2 GB peak on two lightly loaded cores (``n = 2000``,
``N`` = 500 and 4000: 8 s idle, 45 s shared); the quick preset 6-20 s.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils import check_array

from skinterp._progress import progress
from skinterp.datasets import load_mnist
from skinterp.experiments._result import ExperimentResult
from skinterp.kernel_machine import KernelInterpolationClassifier
from skinterp.kernels import kernel_matrix
from skinterp.random_features import MinNormRFFClassifier, RandomFourierFeatures

SQUARE = "square"
CROSS_ENTROPY = "cross-entropy"
MIN_NORM_SQUARE = "square, min-norm"
EXACT_SQUARE = "square, exact"


class SquareLossResult(ExperimentResult):
    """The result of :func:`square_loss_classification`; only :meth:`plot` is its own.

    The figure is two panels of grouped bars (test and training 0-1 errors), one group per
    model and one bar per loss and training, which a line plot over model names would not show.
    """

    def plot(self, ax=None):
        """Grouped bars of the test and training errors of each model and loss.

        Parameters
        ----------
        ax : sequence of 2 matplotlib Axes or None
            Where to draw; a new figure when None.

        Returns
        -------
        axes : list of matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(1, 2, figsize=(11, 3.8))
        axes = list(np.atleast_1d(ax))
        if len(axes) != 2:
            raise ValueError(f"plot needs 2 Axes, got {len(axes)}.")
        models = list(dict.fromkeys(row["model"] for row in self.rows))
        losses = list(dict.fromkeys(row["loss"] for row in self.rows))
        width = 0.8 / len(losses)
        for axis, column in zip(axes, ["test_error", "train_error"], strict=True):
            for index, loss in enumerate(losses):
                positions, heights = [], []
                for position, model in enumerate(models):
                    for row in self.rows:
                        if row["model"] == model and row["loss"] == loss:
                            positions.append(position + (index - (len(losses) - 1) / 2) * width)
                            heights.append(100 * row[column])
                axis.bar(positions, heights, width, color=f"C{index}", label=loss)
            axis.set_xticks(range(len(models)), models, fontsize="small")
            axis.set_ylabel(f"{column.replace('_', ' ')} (%)")
        axes[0].set_title(self.plot_spec.get("title", ""), fontsize="medium")
        axes[0].legend(fontsize="small")
        axes[0].figure.tight_layout()
        return axes


def kernel_gradient_descent(K, Y, loss, n_iterations, step_size=None):
    """``n_iterations`` steps of gradient descent in the RKHS on ``loss``, from ``alpha = 0``.

    The functional gradient of the empirical risk ``(1/n) sum_i l(f(x_i), y_i)`` at
    ``f = K(., X) alpha`` is ``K(., X) g / n`` with ``g_i`` the derivative of ``l`` at
    ``f(x_i)``: ``f(x_i) - y_i`` for the square loss ``||f - y||^2 / 2``,
    ``softmax(f(x_i)) - y_i`` for the cross-entropy. So ``alpha <- alpha - eta / n * g``.

    Parameters
    ----------
    K : ndarray of shape (n, n)
        Kernel matrix of the training points.
    Y : ndarray of shape (n, k)
        One-hot targets.
    loss : {"square", "cross-entropy"}
    n_iterations : int
    step_size : float or None
        ``eta``; ``n / lambda_max(K)`` when None (stable for both losses, whose curvature in
        ``f`` is at most 1).

    Returns
    -------
    alpha : ndarray of shape (n, k)

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp.experiments.square_loss_classification import kernel_gradient_descent
    >>> K = np.eye(3)
    >>> Y = np.eye(3)
    >>> alpha = kernel_gradient_descent(K, Y, "square", 50)
    >>> bool(np.allclose(K @ alpha, Y))
    True
    """
    if loss not in (SQUARE, CROSS_ENTROPY):
        raise ValueError(f"loss must be {SQUARE!r} or {CROSS_ENTROPY!r}, got {loss!r}.")
    n_samples = K.shape[0]
    if step_size is None:
        step_size = n_samples / float(np.linalg.eigvalsh(K)[-1])
    alpha = np.zeros_like(Y, dtype=np.float64)
    outputs = np.zeros_like(alpha)  # K @ alpha, kept up to date
    for _ in range(n_iterations):
        gradient = outputs - Y if loss == SQUARE else softmax(outputs, axis=1) - Y
        update = (step_size / n_samples) * gradient
        alpha -= update
        outputs -= K @ update
    return alpha


def _error(scores_or_labels, y):
    labels = scores_or_labels
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    return float(np.mean(labels != y))


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def square_loss_classification(
    X_train=None,
    y_train=None,
    X_test=None,
    y_test=None,
    *,
    n_train=5000,
    n_test=5000,
    n_components=(1000, 10000),
    bandwidth=5.0,
    n_iterations=300,
    cross_entropy_C=100.0,
    max_iter=300,
    quick=False,
    data_home=None,
    random_state=0,
    verbose=False,
):
    """Train random-feature and kernel models with the square loss and the cross-entropy.

    Parameters
    ----------
    X_train, y_train, X_test, y_test : array-like or None, default=None
        Training and test inputs and class labels (all four or none); when None, MNIST from
        :func:`skinterp.datasets.load_mnist` (``n_train`` and ``n_test`` images, pixels in
        [0, 1]).
    n_train, n_test : int, default=5000
        Sizes of the MNIST sample when no data is given (all of the 5k sample files).
    n_components : sequence of int, default=(1000, 10000)
        Numbers ``N`` of random Fourier features, one model each (below and above ``n``).
    bandwidth : float > 0, default=5.0
        Bandwidth ``sigma`` of the features and of the Gaussian kernel (the paper's 5 for
        MNIST).
    n_iterations : int, default=300
        Gradient-descent steps ``T`` of the kernel machine on each loss.
    cross_entropy_C : float > 0, default=100.0
        Inverse L2 penalty of :class:`~sklearn.linear_model.LogisticRegression` (weak, so that
        the comparison is of the losses, not of the regularisation).
    max_iter : int, default=300
        lbfgs iterations of the logistic regressions (the overparameterised ones are
        separable and stop at the cap; ``converged`` in the rows says so).
    quick : bool, default=False
        Small preset: ``n_train=400``, ``n_test=800``, ``n_components=(100, 800)``,
        ``n_iterations=100``, ``max_iter=100`` (6-20 s on two shared cores, the logistic
        regressions most of it). Explicit data is kept.
    data_home : str, path or None, default=None
        Folder of the MNIST sample files (``$SKINTERP_DATA`` when None).
    random_state : int, default=0
        Seed of the MNIST sample and of the random features.
    verbose : bool, default=False
        Progress on stderr, one line per model.

    Returns
    -------
    result : SquareLossResult
        One row per model and training: ``model``, ``loss`` (``"square"`` and
        ``"cross-entropy"`` for the like-with-like pair, ``"square, min-norm"`` for the
        features' unregularised least squares, ``"square, exact"`` for the kernel
        interpolant), ``training`` (how it was fitted),
        ``train_error``, ``test_error``, ``converged``, ``fit_time`` (seconds). The summary
        has each model's two test errors and their difference (square minus cross-entropy).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skinterp.experiments.square_loss_classification import (
    ...     square_loss_classification)
    >>> X, y = load_digits(return_X_y=True)
    >>> result = square_loss_classification(
    ...     X[:150] / 16, y[:150], X[1000:1200] / 16, y[1000:1200], n_components=(300,),
    ...     bandwidth=3.0, n_iterations=20, max_iter=30)
    >>> sorted({row["loss"] for row in result.rows})
    ['cross-entropy', 'square', 'square, exact', 'square, min-norm']
    >>> all(row["test_error"] < 0.3 for row in result.rows)
    True
    """
    start_time = time.perf_counter()
    given = [X_train is not None, y_train is not None, X_test is not None, y_test is not None]
    if any(given) and not all(given):
        raise ValueError("Give all of X_train, y_train, X_test, y_test, or none of them.")
    if quick:
        n_train, n_test, n_components = 400, 800, (100, 800)
        n_iterations, max_iter = 100, 100
    sizes = [int(N) for N in np.atleast_1d(n_components)]
    if not sizes or any(N < 1 for N in sizes):
        raise ValueError(f"n_components must be positive integers, got {n_components!r}.")
    _check_int("n_iterations", n_iterations, 1)
    _check_int("max_iter", max_iter, 1)
    for name, value in [("bandwidth", bandwidth), ("cross_entropy_C", cross_entropy_C)]:
        if isinstance(value, bool) or not isinstance(value, Real) or not value > 0:
            raise ValueError(f"{name} must be a number > 0, got {value!r}.")
    if all(given):
        source = "given arrays"
    else:
        data = load_mnist(n_train, n_test, data_home=data_home, random_state=random_state)
        X_train, y_train, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
        source = f"MNIST ({data.source})"
    X_train = check_array(X_train, dtype=np.float64, order="C")
    X_test = check_array(X_test, dtype=np.float64, order="C")
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(
            f"X_test has {X_test.shape[1]} features, but X_train has {X_train.shape[1]}."
        )
    if y_train.shape[0] != X_train.shape[0] or y_test.shape[0] != X_test.shape[0]:
        raise ValueError("X and y have inconsistent numbers of samples.")
    classes, encoded = np.unique(y_train, return_inverse=True)
    Y_train = np.eye(classes.size)[encoded]
    n_samples = X_train.shape[0]

    rows = []

    def add(model, loss, training, train_labels, test_labels, converged, fit_time):
        rows.append(
            {
                "model": model,
                "loss": loss,
                "training": training,
                "train_error": _error(train_labels, y_train),
                "test_error": _error(test_labels, y_test),
                "converged": bool(converged),
                "fit_time": float(fit_time),
            }
        )

    steps = [("features", N) for N in sizes] + [("kernel", None)]
    for kind, N in progress(steps, "square_loss_classification: model", verbose=verbose):
        if kind == "features":
            model = f"random Fourier, N = {N}"
            start = time.perf_counter()
            square = MinNormRFFClassifier(
                n_components=N, bandwidth=bandwidth, random_state=random_state
            ).fit(X_train, y_train)
            fit_time = time.perf_counter() - start
            training = "min-norm interpolant" if N >= n_samples else "least squares"
            add(
                model,
                MIN_NORM_SQUARE,
                training,
                square.predict(X_train),
                square.predict(X_test),
                True,
                fit_time,
            )
            # The same features: RandomFourierFeatures draws what the regressor draws.
            transformer = RandomFourierFeatures(
                n_components=N, bandwidth=bandwidth, random_state=random_state
            ).fit(X_train)
            train_features = transformer.transform(X_train)
            start = time.perf_counter()
            logistic = LogisticRegression(C=cross_entropy_C, max_iter=max_iter)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                logistic.fit(train_features, y_train)
            fit_time = time.perf_counter() - start
            add(
                model,
                CROSS_ENTROPY,
                f"logistic regression (lbfgs, C = {cross_entropy_C:g})",
                logistic.predict(train_features),
                logistic.predict(transformer.transform(X_test)),
                np.max(logistic.n_iter_) < max_iter,
                fit_time,
            )
            # The square loss with the logistic regression's L2 penalty: sklearn minimises
            # C sum_i CE_i + ||w||^2 / 2, and Ridge ||Y - C w||^2 + alpha ||w||^2, so the same
            # penalty on the sum of squares ||f(x_i) - y_i||^2 is alpha = 1 / (2 C).
            start = time.perf_counter()
            ridge = Ridge(alpha=1.0 / (2.0 * cross_entropy_C)).fit(train_features, Y_train)
            fit_time = time.perf_counter() - start
            add(
                model,
                SQUARE,
                f"ridge (same L2 penalty, alpha = 1 / (2 C) = {1 / (2 * cross_entropy_C):g})",
                classes[ridge.predict(train_features).argmax(axis=1)],
                classes[ridge.predict(transformer.transform(X_test)).argmax(axis=1)],
                True,
                fit_time,
            )
            del train_features
            continue
        model = "Gaussian kernel"
        start = time.perf_counter()
        interpolant = KernelInterpolationClassifier(
            kernel="gaussian", bandwidth=bandwidth, solver="direct"
        ).fit(X_train, y_train)
        fit_time = time.perf_counter() - start
        # Its own curve in the figure: exact, where the other two rows are T steps of descent.
        add(
            model,
            f"{SQUARE}, exact",
            "exact interpolant",
            interpolant.predict(X_train),
            interpolant.predict(X_test),
            True,
            fit_time,
        )
        K = kernel_matrix(X_train, kernel="gaussian", bandwidth=bandwidth)
        K_test = kernel_matrix(X_test, X_train, kernel="gaussian", bandwidth=bandwidth)
        step_size = n_samples / float(np.linalg.eigvalsh(K)[-1])
        for loss in (SQUARE, CROSS_ENTROPY):
            start = time.perf_counter()
            alpha = kernel_gradient_descent(K, Y_train, loss, n_iterations, step_size)
            fit_time = time.perf_counter() - start
            add(
                model,
                loss,
                f"gradient descent, {n_iterations} steps",
                classes[(K @ alpha).argmax(axis=1)],
                classes[(K_test @ alpha).argmax(axis=1)],
                True,
                fit_time,
            )
        del K, K_test

    summary = {}
    reference = {}
    for model in dict.fromkeys(row["model"] for row in rows):
        chosen = [row for row in rows if row["model"] == model]
        # Compare like with like: the same model, penalty and optimiser, only the loss differs
        # (for the features: ridge with the logistic regression's penalty; for the kernel: the
        # same gradient descent).
        square = next(row for row in chosen if row["loss"] == SQUARE)["test_error"]
        entropy = next(row for row in chosen if row["loss"] == CROSS_ENTROPY)["test_error"]
        summary[f"{model}: square loss test error"] = square
        summary[f"{model}: cross-entropy test error"] = entropy
        key = f"{model}: square minus cross-entropy"
        summary[key] = square - entropy
        reference[key] = "<= 0 (as good or better)"
        for row in chosen:
            if row["loss"] in (MIN_NORM_SQUARE, EXACT_SQUARE):
                summary[f"{model}: {row['training']} test error"] = row["test_error"]
    return SquareLossResult(
        "square_loss_classification",
        rows=rows,
        summary=summary,
        reference=reference,
        params={
            "n_train": n_samples,
            "n_test": X_test.shape[0],
            "n_components": sizes,
            "bandwidth": float(bandwidth),
            "n_iterations": n_iterations,
            "cross_entropy_C": float(cross_entropy_C),
            "max_iter": max_iter,
            "quick": quick,
            "random_state": random_state,
            "data source": source,
        },
        elapsed=time.perf_counter() - start_time,
        plot_spec={
            "x": "model",
            "y": ["test_error", "train_error"],
            "hue": "loss",
            "title": f"square loss vs cross-entropy, {source}, n = {n_samples}",
        },
        description="square loss vs cross-entropy training of the same models on MNIST (5.1)",
    )
