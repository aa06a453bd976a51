"""Double descent of random-feature models (Belkin, 2021, Section 3.7, Fig. 5-7).

:func:`double_descent` fits the minimum-norm least-squares solution on ``N`` random features for
every ``N`` of a grid, from far below the interpolation threshold ``N = n`` to far above it, and
returns the training and test losses, the 0-1 errors and the norms of the solutions. The test
risk and the norm peak at ``N = n`` and fall again beyond it, towards the kernel interpolant.

The sweep draws the features of the largest ``N`` once (one seed gives nested feature sets, see
:func:`skinterp.random_features.draw_weights`) and grows one solution into the next:

* below the threshold it keeps the features of the training and test points for the largest
  ``N < n`` (at most ``n`` columns) and solves the leading ``N x N`` block of one ``C^T C``;
* above it the ``n x n`` Gram matrix ``C C^T`` and the test-by-train matrix ``C_test C^T`` of the
  first ``N`` features are those of the previous grid point plus the new blocks of columns, so
  every feature is computed once for the whole sweep. Predictions come from the Gram matrices
  (``C w = C C^T a``), the norm from ``a^T C C^T a``.

Each grid point gives what ``MinNormRFFRegressor(n_components=N, random_state=random_state)``
(or the classifier) fitted to the same data would give, up to rounding.
"""

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.utils import check_array

from skinterp.random_features._features import (
    FEATURE_KINDS,
    draw_weights,
    feature_scale,
    limit_kernel,
    nonzero_inputs,
    resolve_bandwidth,
    unscaled_features,
)
from skinterp.random_features._min_norm import (
    DEFAULT_CUTOFF,
    column_block_size,
    min_norm_solve_fast,
)


def default_grid(n_samples, *, n_points=30, low=0.05, high=20.0):
    """A grid of ``n_points`` feature counts from ``low * n`` to ``high * n``.

    Geometric, with ``N = n`` and ``N = 0.9 n`` included so that the peak is resolved.
    """
    ratios = np.geomspace(low, high, n_points - 1)
    ratios = np.append(ratios, [0.9, 1.0])
    grid = np.unique(np.maximum(np.round(ratios * n_samples).astype(int), 1))
    # Drop the geometric point closest to the threshold when the two added ones made it a
    # near-duplicate, so that the grid keeps ``n_points`` points when it can.
    while grid.size > n_points:
        distances = np.abs(np.log(grid / n_samples))
        distances[np.isin(grid, np.round(np.array([0.9, 1.0]) * n_samples))] = np.inf
        grid = np.delete(grid, np.argmin(distances))
    return grid


@dataclass
class DoubleDescentResult:
    """The curves of :func:`double_descent`, one entry per grid point.

    Losses are squared losses per sample, ``mean_i ||f(x_i) - y_i||^2`` (summed over the outputs,
    the one-hot classes for classification); errors are 0-1 errors (NaN for regression); norms
    are ``||W||_F`` of the coefficients on the features scaled by ``sqrt(2 / N)``.
    ``kernel_limit`` holds the same quantities for the kernel interpolant (the limit ``N -> inf``)
    when it was computed.
    """

    n_components: np.ndarray
    n_train: int
    train_loss: np.ndarray
    test_loss: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray
    norm: np.ndarray
    rank: np.ndarray
    features: str
    bandwidth: float
    cutoff: float
    elapsed: float
    kernel_limit: dict = field(default=None)

    def table(self):
        """The curves as an aligned text table (one row per ``N``, then the kernel limit)."""
        header = (
            f"{'N':>7} {'N/n':>6} {'train loss':>10} {'test loss':>10} {'train err':>9} "
            f"{'test err':>8} {'norm':>10} {'rank':>6}"
        )
        lines = [header, "-" * len(header)]
        for i, n_components in enumerate(self.n_components):
            lines.append(
                f"{n_components:>7d} {n_components / self.n_train:>6.2f} "
                f"{self.train_loss[i]:>10.3g} {self.test_loss[i]:>10.3g} "
                f"{self.train_error[i]:>9.3f} {self.test_error[i]:>8.3f} "
                f"{self.norm[i]:>10.4g} {self.rank[i]:>6d}"
            )
        if self.kernel_limit is not None:
            limit = self.kernel_limit
            lines.append(
                f"{'kernel':>7} {'inf':>6} {limit['train_loss']:>10.3g} "
                f"{limit['test_loss']:>10.3g} {limit['train_error']:>9.3f} "
                f"{limit['test_error']:>8.3f} {limit['norm']:>10.4g} {limit['rank']:>6d}"
            )
        return "\n".join(lines)

    def plot(self, axes=None):
        """Fig. 7 of the paper: 0-1 error, squared loss and norm against ``N``.

        Parameters
        ----------
        axes : sequence of 3 matplotlib Axes or None
            Where to draw; a new figure of three stacked panels when None.

        Returns
        -------
        axes : sequence of 3 matplotlib Axes
        """
        import matplotlib.pyplot as plt

        if axes is None:
            _, axes = plt.subplots(3, 1, figsize=(6, 8), sharex=True)
        panels = [
            ("zero-one loss (%)", 100 * self.test_error, 100 * self.train_error, "test_error", 100),
            ("squared loss", self.test_loss, self.train_loss, "test_loss", 1),
            ("norm", self.norm, None, "norm", 1),
        ]
        for ax, (label, test, train, key, factor) in zip(axes, panels):
            ax.plot(self.n_components, test, "o-", ms=3, label="test" if train is not None else "RFF")
            if train is not None:
                ax.plot(self.n_components, train, "s--", ms=3, alpha=0.6, label="train")
            if self.kernel_limit is not None:
                ax.axhline(factor * self.kernel_limit[key], color="k", ls=":", label="kernel limit")
            ax.axvline(self.n_train, color="gray", lw=0.8)
            ax.set_xscale("log")
            ax.set_ylabel(label)
            if key != "test_error":
                ax.set_yscale("log")
            if key == "test_loss":  # the training loss drops to rounding beyond n: cut it off
                ax.set_ylim(bottom=0.3 * np.min(test), top=3 * np.max(test))
            ax.legend(fontsize="small")
        axes[-1].set_xlabel(f"number of random features N (n = {self.n_train})")
        return axes


def _targets(y_train, y_test, task):
    if task == "classification":
        classes, encoded = np.unique(y_train, return_inverse=True)
        Y_train = np.eye(classes.shape[0])[encoded.reshape(-1)]
        Y_test = (np.asarray(y_test)[:, None] == classes[None, :]).astype(np.float64)
        return Y_train, Y_test
    Y_train = np.asarray(y_train, dtype=np.float64)
    Y_test = np.asarray(y_test, dtype=np.float64)
    if Y_train.ndim == 1:
        Y_train, Y_test = Y_train[:, None], Y_test.reshape(-1, 1)
    return Y_train, Y_test


def _scores(train_pred, test_pred, Y_train, Y_test, task):
    train_loss = float(np.mean(np.sum((train_pred - Y_train) ** 2, axis=1)))
    test_loss = float(np.mean(np.sum((test_pred - Y_test) ** 2, axis=1)))
    if task == "classification":
        train_error = float(np.mean(train_pred.argmax(axis=1) != Y_train.argmax(axis=1)))
        # A test label absent from training has an all-zero row: always an error.
        test_truth = np.where(Y_test.any(axis=1), Y_test.argmax(axis=1), -1)
        test_error = float(np.mean(test_pred.argmax(axis=1) != test_truth))
    else:
        train_error = test_error = float("nan")
    return train_loss, test_loss, train_error, test_error


def double_descent(
    X_train,
    y_train,
    X_test,
    y_test,
    n_components=None,
    *,
    features="fourier",
    bandwidth="scale",
    cutoff=DEFAULT_CUTOFF,
    task="classification",
    kernel_limit=True,
    random_state=0,
    memory_limit=None,
    n_jobs=None,
):
    """Sweep the number of random features across the interpolation threshold.

    Parameters
    ----------
    X_train : array-like of shape (n, d)
        Training inputs.
    y_train : array-like of shape (n,) or (n, n_outputs)
        Class labels (``task="classification"``, fitted as one-hot targets with the square loss)
        or regression targets.
    X_test, y_test : array-like
        Test inputs and labels or targets.
    n_components : sequence of int or None, default=None
        The grid of feature counts ``N``; :func:`default_grid` (30 points from ``0.05 n`` to
        ``20 n``, with ``n`` and ``0.9 n``) when None.
    features : {"fourier", "relu"}, default="fourier"
        Random Fourier features (Gaussian kernel) or random ReLU features.
    bandwidth : float > 0 or "scale", default="scale"
        Bandwidth ``sigma`` of the features, as in :class:`~skinterp.MinNormRFFRegressor`.
    cutoff : float, default=1e-7
        Relative cut-off on the singular values of the feature matrix (and, for the kernel
        limit, on the square roots of the eigenvalues of the kernel matrix).
    task : {"classification", "regression"}, default="classification"
        How ``y`` is read and scored.
    kernel_limit : bool, default=True
        Also fit the kernel interpolant (Gaussian kernel of bandwidth ``sigma``, or the
        arc-cosine kernel for ReLU features), the limit ``N -> inf``.
    random_state : int, RandomState instance or None, default=0
        Seed of the features; with an int, grid point ``N`` uses the features of
        ``MinNormRFFRegressor(n_components=N, random_state=random_state)``.
    memory_limit : float or None, default=None
        Memory budget in MiB for the blocks of features (scikit-learn's ``working_memory``).
    n_jobs : int or None, default=None
        Threads applying the activation; products use the BLAS threads.

    Returns
    -------
    result : DoubleDescentResult
        The curves, with ``table()`` and ``plot()``.

    Notes
    -----
    Cost: each feature of the largest ``N`` is computed once for the ``n + n_test`` points;
    ``n^2 N_max / 2 + n n_test N_max`` flops for the Gram matrices; one Cholesky factorisation
    per grid point, or an eigendecomposition (at most ``n x n``) where the cut-off could matter
    (near the threshold). Memory: two ``n x n`` matrices, one ``n_test x n``, the weights
    (``d x N_max``) and the features of the points below the threshold (``(n + n_test) x N``
    with ``N < n``).

    References
    ----------
    M. Belkin, D. Hsu, S. Ma and S. Mandal, "Reconciling modern machine-learning practice and the
    classical bias-variance trade-off", PNAS 116 (2019).

    M. Belkin, "Fit without fear", Acta Numerica 30 (2021), Section 3.7.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skinterp.experiments.double_descent import double_descent
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16
    >>> result = double_descent(X[:200], y[:200], X[1000:1400], y[1000:1400],
    ...                         n_components=[20, 100, 200, 1000, 4000], bandwidth=3.0)
    >>> int(result.n_components[result.norm.argmax()])  # the norm peaks at N = n
    200
    >>> bool(result.test_loss[2] > 10 * result.test_loss[-1])  # and so does the test loss
    True
    """
    if features not in FEATURE_KINDS:
        raise ValueError(f"features must be one of {FEATURE_KINDS}, got {features!r}.")
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}.")
    start_time = time.perf_counter()
    X_train = check_array(X_train, dtype=np.float64, order="C")
    X_test = check_array(X_test, dtype=np.float64, order="C")
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(
            f"X_test has {X_test.shape[1]} features, but X_train has {X_train.shape[1]}."
        )
    Y_train, Y_test = _targets(y_train, y_test, task)
    if Y_train.shape[0] != X_train.shape[0] or Y_test.shape[0] != X_test.shape[0]:
        raise ValueError("X and y have inconsistent numbers of samples.")
    n_train = X_train.shape[0]
    grid = default_grid(n_train) if n_components is None else np.unique(np.asarray(n_components))
    if grid.size == 0 or grid[0] < 1:
        raise ValueError("n_components must be a non-empty sequence of positive integers.")
    sigma = resolve_bandwidth(bandwidth, X_train)
    weights, offsets = draw_weights(features, X_train.shape[1], int(grid[-1]), sigma, random_state)

    reduced = {"train": nonzero_inputs(X_train), "test": nonzero_inputs(X_test)}

    def columns(which, start, stop):
        X, inputs = reduced[which]
        return unscaled_features(
            X, weights, offsets, features, start, stop, inputs=inputs, n_jobs=n_jobs
        )

    rows = []
    below = grid[grid < n_train]
    above = grid[grid >= n_train]

    # Below the threshold: least squares on the leading block of one C^T C.
    stored = int(below[-1]) if below.size else 0
    train_features = columns("train", 0, stored)
    test_features = columns("test", 0, stored)
    if below.size:
        gram = train_features.T @ train_features
        moments = train_features.T @ Y_train
        for n_components_ in below:
            N = int(n_components_)
            coef, rank = min_norm_solve_fast(gram[:N, :N], moments[:N], cutoff)
            train_pred = train_features[:, :N] @ coef
            test_pred = test_features[:, :N] @ coef
            norm = np.linalg.norm(coef) / feature_scale(N)
            rows.append((N, *_scores(train_pred, test_pred, Y_train, Y_test, task), norm, rank))

    # Above: grow the dual Gram matrices block by block; solve at every grid point.
    if above.size:
        gram = np.zeros((n_train, n_train))
        cross = np.zeros((X_test.shape[0], n_train))
        block = column_block_size(n_train + X_test.shape[0], memory_limit)
        # Blocks end at every grid point (and where the stored features end).
        cuts = [np.arange(0, int(above[-1]), block), above, [stored]]
        boundaries = np.unique(np.concatenate(cuts)).astype(int)
        targets = set(int(N) for N in above)
        for start, stop in zip(boundaries[:-1], boundaries[1:]):
            if stop <= stored:
                train_block = train_features[:, start:stop]
                test_block = test_features[:, start:stop]
            else:
                train_block = columns("train", start, stop)
                test_block = columns("test", start, stop)
            gram += train_block @ train_block.T
            cross += test_block @ train_block.T
            if stop in targets:
                dual, rank = min_norm_solve_fast(gram, Y_train, cutoff)
                train_pred = gram @ dual
                test_pred = cross @ dual
                norm = np.sqrt(max(np.vdot(dual, train_pred), 0.0)) / feature_scale(stop)
                rows.append((stop, *_scores(train_pred, test_pred, Y_train, Y_test, task), norm, rank))
        del gram, cross
    del train_features, test_features

    limit = None
    if kernel_limit:
        kernel = limit_kernel(X_train, X_train, features, sigma)
        dual, rank = min_norm_solve_fast(kernel, Y_train, cutoff)
        train_pred = kernel @ dual
        test_pred = limit_kernel(X_test, X_train, features, sigma) @ dual
        train_loss, test_loss, train_error, test_error = _scores(
            train_pred, test_pred, Y_train, Y_test, task
        )
        limit = dict(
            train_loss=train_loss, test_loss=test_loss, train_error=train_error,
            test_error=test_error, norm=float(np.sqrt(max(np.vdot(dual, train_pred), 0.0))),
            rank=rank,
        )

    table = np.array([row[:-1] for row in rows], dtype=np.float64)
    return DoubleDescentResult(
        n_components=np.array([row[0] for row in rows], dtype=int),
        n_train=n_train,
        train_loss=table[:, 1],
        test_loss=table[:, 2],
        train_error=table[:, 3],
        test_error=table[:, 4],
        norm=table[:, 5],
        rank=np.array([row[-1] for row in rows], dtype=int),
        features=features,
        bandwidth=sigma,
        cutoff=cutoff,
        elapsed=time.perf_counter() - start_time,
        kernel_limit=limit,
    )
