"""Double descent of random-feature models (Belkin, 2021, Section 3.7, Fig. 1, 5-7).

:func:`double_descent` fits the minimum-norm least-squares solution on ``N`` random features
(Fourier and ReLU) for every ``N`` of a grid, from far below the interpolation threshold
``N = n`` to far above it, and returns the training and test losses, the 0-1 errors and the
norms of the solutions. The test risk and the norm peak at ``N = n`` and fall again beyond it,
towards the kernel interpolant (the limit ``N -> inf``: the Gaussian kernel for Fourier
features, the arc-cosine kernel for ReLU features), which is also fitted.

For contrast, the classical U-curve (Fig. 1) of the same family: at the threshold ``N = n``,
ridge regression on the same features over a grid of penalties ``lambda``. Large penalties
underfit, small ones tend to the spiky minimum-norm interpolant; capacity control (the
``1 / lambda`` axis) gives the U shape that the ``N`` axis does not.

The sweep draws the features of the largest ``N`` once (one seed gives nested feature sets, see
:func:`skinterp.random_features.draw_weights`) and grows one solution into the next:

* below the threshold it keeps the features of the training and test points for the largest
  ``N < n`` (at most ``n`` columns) and solves the leading ``N x N`` block of one ``C^T C``;
* above it the ``n x n`` Gram matrix ``C C^T`` and the test-by-train matrix ``C_test C^T`` of the
  first ``N`` features are those of the previous grid point plus the new blocks of columns, so
  every feature is computed once for the whole sweep. Predictions come from the Gram matrices
  (``C w = C C^T a``), the norm from ``a^T C C^T a``. The ridge curve reuses the Gram matrices
  of ``N = n`` (one eigendecomposition for all penalties).

Each grid point gives what ``MinNormRFFRegressor(n_components=N, random_state=random_state)``
(or the classifier) fitted to the same data would give, up to rounding.

Cost at the full settings (MNIST, ``n = 2000``, 2000 test images, ``N`` up to 40,000, both
feature kinds): 30 s to two minutes on two cores, with the load; see :func:`double_descent`.
"""

import copy
import sys
import time
from numbers import Integral

import numpy as np
from sklearn.utils import check_array, check_random_state

from skinterp._progress import progress
from skinterp.datasets import load_mnist
from skinterp.experiments._result import ExperimentResult, format_table
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
    _dask_backend_active,
    column_block_size,
    min_norm_solve,
)

MIN_NORM = "min-norm"
KERNEL = "kernel limit"
RIDGE = "ridge at N = n"

#: Ridge penalties (per sample, ``||C w - Y||^2 / n + lambda ||w||^2``) of the classical curve.
DEFAULT_PENALTIES = tuple(np.geomspace(1e-8, 1.0, 17))

#: The paper's numbers (Belkin, 2021, Fig. 7: random Fourier features on MNIST, n = 2000,
#: sigma = 5), under the keys of the summary.
PAPER_REFERENCE = {
    "fourier: test error near N = n/4": 0.14,
    "fourier: peak test error (near N = n)": 0.88,
    "fourier: test error at largest N": 0.0535,
    "fourier: kernel limit test error": 0.0511,
}

COLUMNS = [
    "features",
    "method",
    "N",
    "N/n",
    "lambda",
    "train_loss",
    "test_loss",
    "train_error",
    "test_error",
    "norm",
    "rank",
]


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


class DoubleDescentResult(ExperimentResult):
    """The curves of :func:`double_descent`, with array views of one feature kind and Fig. 7.

    ``rows`` hold one dict per feature kind and grid point (``method="min-norm"``), one per
    feature kind for the kernel limit (``method="kernel limit"``, ``N`` None) and one per
    ridge penalty (``method="ridge at N = n"``). Losses are squared losses per sample,
    ``mean_i ||f(x_i) - y_i||^2`` (summed over the outputs, the one-hot classes for
    classification); errors are 0-1 errors (NaN for regression); norms are ``||W||_F`` of the
    coefficients on the features scaled by ``sqrt(2 / N)`` (the RKHS norm for the kernel).

    The properties ``n_components``, ``train_loss``, ``test_loss``, ``train_error``,
    ``test_error``, ``norm``, ``rank`` are arrays over the grid of the first feature kind
    (``params["features"][0]``); :meth:`curve` gives any column of any kind.
    """

    def _rows(self, method, features=None):
        features = self.params["features"][0] if features is None else features
        return [r for r in self.rows if r["method"] == method and r["features"] == features]

    def curve(self, column, features=None):
        """``column`` over the grid of ``N`` (min-norm rows of ``features``), as an array."""
        values = [row[column] for row in self._rows(MIN_NORM, features)]
        dtype = int if column in ("N", "rank") else np.float64
        return np.array([np.nan if v is None else v for v in values], dtype=dtype)

    @property
    def n_components(self):
        return self.curve("N")

    @property
    def train_loss(self):
        return self.curve("train_loss")

    @property
    def test_loss(self):
        return self.curve("test_loss")

    @property
    def train_error(self):
        return self.curve("train_error")

    @property
    def test_error(self):
        return self.curve("test_error")

    @property
    def norm(self):
        return self.curve("norm")

    @property
    def rank(self):
        return self.curve("rank")

    @property
    def n_train(self):
        return int(self.params["n_train"])

    @property
    def bandwidth(self):
        return float(self.params["bandwidth"])

    def kernel_limit_of(self, features=None):
        """The kernel-limit row of ``features`` (the first kind by default), or None."""
        rows = self._rows(KERNEL, features)
        return rows[0] if rows else None

    @property
    def kernel_limit(self):
        """The kernel-limit row of the first feature kind (a dict), or None."""
        return self.kernel_limit_of()

    def curve_table(self, features=None):
        """One feature kind's sweep as a text table: one row per ``N``, then the kernel limit."""
        rows = self._rows(MIN_NORM, features) + self._rows(KERNEL, features)
        return format_table(rows, [c for c in COLUMNS if c not in ("features", "lambda")])

    def plot(self, ax=None):
        """Fig. 7 (0-1 loss, squared loss, norm against ``N``) and, if fitted, Fig. 1's U-curve.

        Parameters
        ----------
        ax : sequence of 3 (4 with the ridge curve) matplotlib Axes, or None
            Where to draw; a new figure when None.

        Returns
        -------
        axes : list of matplotlib Axes
        """
        import matplotlib.pyplot as plt

        ridge = [row for row in self.rows if row["method"] == RIDGE]
        n_panels = 4 if ridge else 3
        if ax is None:
            _, ax = plt.subplots(n_panels, 1, figsize=(6.5, 2.6 * n_panels))
        axes = list(np.atleast_1d(ax))
        if len(axes) != n_panels:
            raise ValueError(f"plot needs {n_panels} Axes, got {len(axes)}.")
        classification = self.params.get("task", "classification") == "classification"
        panels = [
            ("zero-one loss (%)" if classification else "(no 0-1 loss)", "error", 100, "linear"),
            ("squared loss", "loss", 1, "log"),
            ("norm", "norm", 1, "log"),
        ]
        test_losses = []
        for index, features in enumerate(self.params["features"]):
            color = f"C{index}"
            N = self.curve("N", features)
            limit = self.kernel_limit_of(features)
            for axis, (label, key, factor, yscale) in zip(axes[:3], panels, strict=True):
                if key == "norm":
                    test, train = self.curve("norm", features), None
                else:
                    test = factor * self.curve(f"test_{key}", features)
                    train = factor * self.curve(f"train_{key}", features)
                curve_label = features if key == "norm" else f"{features} test"
                axis.plot(N, test, "o-", ms=3, color=color, label=curve_label)
                if train is not None:
                    axis.plot(
                        N, train, "s--", ms=2, color=color, alpha=0.5, label=f"{features} train"
                    )
                if limit is not None:
                    value = limit["norm"] if key == "norm" else limit[f"test_{key}"]
                    if value is not None:
                        axis.axhline(
                            factor * value, color=color, ls=":", label=f"{features} kernel limit"
                        )
                if key == "loss":
                    test_losses.append(test[np.isfinite(test)])
                axis.set_yscale(yscale)
                axis.set_ylabel(label)
        # The training loss drops to rounding beyond n: cut the loss axis to the test losses.
        test_losses = np.concatenate(test_losses)
        axes[1].set_ylim(bottom=0.3 * test_losses.min(), top=3 * test_losses.max())
        for axis in axes[:3]:
            axis.axvline(self.n_train, color="gray", lw=0.8)
            axis.set_xscale("log")
            axis.set_xlabel(f"number of random features N (n = {self.n_train})")
            axis.legend(fontsize="x-small", ncol=2)
        axes[0].set_title(
            f"min-norm random features, {self.params.get('data source', '')}, "
            f"sigma = {self.bandwidth:g}",
            fontsize="medium",
        )
        if ridge:
            axis = axes[3]
            for index, features in enumerate(self.params["features"]):
                rows = [row for row in ridge if row["features"] == features]
                capacity = [1.0 / row["lambda"] for row in rows]
                key = "test_error" if classification else "test_loss"
                factor = 100 if classification else 1
                axis.plot(
                    capacity,
                    [factor * row[key] for row in rows],
                    "o-",
                    ms=3,
                    color=f"C{index}",
                    label=f"{features} test",
                )
                axis.plot(
                    capacity,
                    [factor * row[key.replace("test", "train")] for row in rows],
                    "s--",
                    ms=2,
                    color=f"C{index}",
                    alpha=0.5,
                    label=f"{features} train",
                )
            axis.set_xscale("log")
            axis.set_xlabel(f"capacity 1 / lambda (ridge at N = n = {self.n_train})")
            axis.set_ylabel("zero-one loss (%)" if classification else "squared loss")
            axis.set_title("the classical U-curve of the same features", fontsize="medium")
            axis.legend(fontsize="x-small", ncol=2)
        axes[0].figure.tight_layout()
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


def _row(features, method, N, n_train, penalty, scores, norm, rank):
    train_loss, test_loss, train_error, test_error = scores
    return {
        "features": features,
        "method": method,
        "N": None if N is None else int(N),
        "N/n": None if N is None else float(N / n_train),
        "lambda": float(penalty),
        "train_loss": train_loss,
        "test_loss": test_loss,
        "train_error": None if np.isnan(train_error) else train_error,
        "test_error": None if np.isnan(test_error) else test_error,
        "norm": float(norm),
        "rank": None if rank is None else int(rank),
    }


def _ridge_rows(gram, cross, Y_train, Y_test, N, features, penalties, task):
    """Ridge on the first ``N`` features (unscaled Gram matrices ``gram``, ``cross``).

    With the scaled features ``sqrt(2 / N) C``, ridge of penalty ``lambda`` has the dual
    coefficients ``(C C^T + n lambda N / 2 I)^-1 Y`` on the unscaled ones; one
    eigendecomposition of ``C C^T`` serves every penalty.
    """
    n_train = gram.shape[0]
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    eigenvalues = np.maximum(eigenvalues, 0.0)
    projected = eigenvectors.T @ Y_train
    rows = []
    for penalty in penalties:
        shift = n_train * penalty / feature_scale(N) ** 2
        dual = eigenvectors @ (projected / (eigenvalues + shift)[:, None])
        train_pred = gram @ dual
        scores = _scores(train_pred, cross @ dual, Y_train, Y_test, task)
        norm = np.sqrt(max(np.vdot(dual, train_pred), 0.0)) / feature_scale(N)
        rows.append(_row(features, RIDGE, N, n_train, penalty, scores, norm, None))
    return rows


def _dask_client():
    """The dask client that sums the Gram matrices, or None (then the sweep runs locally).

    The client of joblib's dask backend (``joblib.parallel_config(backend="dask")``), else the
    default client of this process (the last ``distributed.Client`` created and not closed);
    None when dask is not imported, and inside a dask worker.
    """
    if "distributed" not in sys.modules:
        return None
    import distributed

    try:
        distributed.get_worker()
        return None  # a task on a worker: no nested cluster calls
    except ValueError:
        pass
    if _dask_backend_active():
        from joblib.parallel import get_active_backend

        client = getattr(get_active_backend()[0], "client", None)
        if client is not None:
            return client
    try:
        client = distributed.default_client()
    except ValueError:
        return None
    return client if client.status == "running" else None


def _above_row(gram, cross, Y_train, Y_test, N, features, cutoff, task):
    """The min-norm row at ``N >= n`` from the Gram matrices of the first ``N`` features."""
    dual, rank = min_norm_solve(gram, Y_train, cutoff)
    train_pred = gram @ dual
    scores = _scores(train_pred, cross @ dual, Y_train, Y_test, task)
    norm = np.sqrt(max(np.vdot(dual, train_pred), 0.0)) / feature_scale(N)
    return _row(features, MIN_NORM, N, gram.shape[0], 0.0, scores, norm, rank)


def _sweep(
    X_train,
    Y_train,
    X_test,
    Y_test,
    grid,
    features,
    sigma,
    *,
    cutoff,
    task,
    penalties,
    random_state,
    memory_limit,
    n_jobs,
    verbose,
    client=None,
):
    """The min-norm rows of one feature kind over ``grid`` (and the ridge rows at ``N = n``).

    With a dask ``client`` the Gram matrices above the threshold are summed by its workers
    (:func:`skinterp.distributed.gram_sweep`, from a copy of the seed taken before the local
    draw: the same features).
    """
    n_train = X_train.shape[0]
    seed = (
        int(random_state)
        if isinstance(random_state, Integral)
        else copy.deepcopy(check_random_state(random_state))
    )
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
        for n_components in progress(below, f"double_descent {features}: N < n", verbose=verbose):
            N = int(n_components)
            coef, rank = min_norm_solve(gram[:N, :N], moments[:N], cutoff)
            train_pred = train_features[:, :N] @ coef
            test_pred = test_features[:, :N] @ coef
            norm = np.linalg.norm(coef) / feature_scale(N)
            scores = _scores(train_pred, test_pred, Y_train, Y_test, task)
            rows.append(_row(features, MIN_NORM, N, n_train, 0.0, scores, norm, rank))

    # Above, on a cluster: the workers sum the Gram matrices of each grid interval.
    if above.size and client is not None:
        from skinterp.distributed import gram_sweep

        sums = gram_sweep(
            X_train,
            X_test,
            features,
            above,
            sigma,
            seed,
            memory_limit=memory_limit,
            client=client,
        )
        description = f"double_descent {features}: N >= n on the dask cluster"
        for N, gram, cross in progress(sums, description, verbose=verbose, total=above.size):
            rows.append(_above_row(gram, cross, Y_train, Y_test, N, features, cutoff, task))
            if N == n_train and len(penalties):
                rows += _ridge_rows(gram, cross, Y_train, Y_test, N, features, penalties, task)
        del gram, cross
    # Above: grow the dual Gram matrices block by block; solve at every grid point.
    elif above.size:
        gram = np.zeros((n_train, n_train))
        cross = np.zeros((X_test.shape[0], n_train))
        block = column_block_size(n_train + X_test.shape[0], memory_limit)
        # Blocks end at every grid point (and where the stored features end).
        cuts = [np.arange(0, int(above[-1]), block), above, [stored]]
        boundaries = np.unique(np.concatenate(cuts)).astype(int)
        targets = set(int(N) for N in above)
        blocks = list(zip(boundaries[:-1], boundaries[1:], strict=True))
        for start, stop in progress(blocks, f"double_descent {features}: blocks", verbose=verbose):
            if stop <= stored:
                train_block = train_features[:, start:stop]
                test_block = test_features[:, start:stop]
            else:
                train_block = columns("train", start, stop)
                test_block = columns("test", start, stop)
            gram += train_block @ train_block.T
            cross += test_block @ train_block.T
            if stop in targets:
                rows.append(_above_row(gram, cross, Y_train, Y_test, stop, features, cutoff, task))
            if stop == n_train and len(penalties):
                rows += _ridge_rows(gram, cross, Y_train, Y_test, stop, features, penalties, task)
        del gram, cross
    return rows


def _kernel_limit_row(X_train, Y_train, X_test, Y_test, features, sigma, cutoff, task):
    kernel = limit_kernel(X_train, X_train, features, sigma)
    dual, rank = min_norm_solve(kernel, Y_train, cutoff)
    train_pred = kernel @ dual
    test_pred = limit_kernel(X_test, X_train, features, sigma) @ dual
    scores = _scores(train_pred, test_pred, Y_train, Y_test, task)
    norm = np.sqrt(max(np.vdot(dual, train_pred), 0.0))
    return _row(features, KERNEL, None, X_train.shape[0], 0.0, scores, norm, rank)


def _nearest(rows, ratio):
    return min(rows, key=lambda row: abs(np.log(row["N/n"] / ratio)))


def _summary(rows, kinds, task):
    key = "test_error" if task == "classification" else "test_loss"
    word = "test error" if task == "classification" else "test loss"
    summary = {}
    for features in kinds:
        sweep = [r for r in rows if r["method"] == MIN_NORM and r["features"] == features]
        limit = [r for r in rows if r["method"] == KERNEL and r["features"] == features]
        ridge = [r for r in rows if r["method"] == RIDGE and r["features"] == features]
        summary[f"{features}: {word} near N = n/4"] = _nearest(sweep, 0.25)[key]
        # The largest over the sweep: at N = n for Fourier features, a little beyond it for ReLU
        # features of images, whose feature matrix reaches rank n only there.
        summary[f"{features}: peak {word} (near N = n)"] = max(row[key] for row in sweep)
        summary[f"{features}: {word} at largest N"] = sweep[-1][key]
        if limit:
            summary[f"{features}: kernel limit {word}"] = limit[0][key]
        if ridge:
            summary[f"{features}: best ridge {word} at N = n"] = min(r[key] for r in ridge)
        summary[f"{features}: norm at N = n / norm at largest N"] = (
            _nearest(sweep, 1.0)["norm"] / sweep[-1]["norm"]
        )
    return summary


def _checked_options(features, task, ridge_penalties):
    """``(kinds, penalties)``: the feature kinds as a tuple and the ridge penalties as an
    array, or a ``ValueError`` naming the bad argument."""
    kinds = (features,) if isinstance(features, str) else tuple(features)
    if not kinds or any(kind not in FEATURE_KINDS for kind in kinds):
        raise ValueError(
            f"features must be one of {FEATURE_KINDS} or a sequence of them, got {features!r}."
        )
    if len(set(kinds)) != len(kinds):
        raise ValueError(f"features must not repeat a kind, got {features!r}.")
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}.")
    penalties = np.asarray(ridge_penalties if ridge_penalties is not None else [], dtype=float)
    if penalties.ndim != 1 or np.any(~np.isfinite(penalties)) or np.any(penalties <= 0):
        raise ValueError(f"ridge_penalties must be positive numbers, got {ridge_penalties!r}.")
    return kinds, penalties


def _experiment_data(
    X_train, y_train, X_test, y_test, task, quick, n_train, n_test, data_home, random_state
):
    """The given arrays (all four, checked), or MNIST: ``(X_train, Y_train, X_test, Y_test,
    source)`` with the targets as the sweep fits them (:func:`_targets`)."""
    given = [X_train is not None, y_train is not None, X_test is not None, y_test is not None]
    if any(given) and not all(given):
        raise ValueError("Give all of X_train, y_train, X_test, y_test, or none of them.")
    if quick:
        n_train, n_test = 400, 1000
    if all(given):
        source = "given arrays"
    else:
        data = load_mnist(n_train, n_test, data_home=data_home, random_state=random_state)
        X_train, y_train, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
        source = f"MNIST ({data.source})"
    X_train = check_array(X_train, dtype=np.float64, order="C")
    X_test = check_array(X_test, dtype=np.float64, order="C")
    if X_test.shape[1] != X_train.shape[1]:
        raise ValueError(
            f"X_test has {X_test.shape[1]} features, but X_train has {X_train.shape[1]}."
        )
    Y_train, Y_test = _targets(y_train, y_test, task)
    if Y_train.shape[0] != X_train.shape[0] or Y_test.shape[0] != X_test.shape[0]:
        raise ValueError("X and y have inconsistent numbers of samples.")
    return X_train, Y_train, X_test, Y_test, source


def _grid(n_components, n_samples, quick):
    """The sorted distinct values of ``N`` (the default grid around ``n`` when None)."""
    if n_components is None:
        grid = default_grid(n_samples, n_points=20 if quick else 30)
    else:
        grid = np.unique(np.asarray(n_components))
    if grid.size == 0 or grid[0] < 1:
        raise ValueError("n_components must be a non-empty sequence of positive integers.")
    return grid


def double_descent(
    X_train=None,
    y_train=None,
    X_test=None,
    y_test=None,
    n_components=None,
    *,
    n_train=2000,
    n_test=2000,
    features=("fourier", "relu"),
    bandwidth=5.0,
    cutoff=DEFAULT_CUTOFF,
    task="classification",
    kernel_limit=True,
    ridge_penalties=DEFAULT_PENALTIES,
    quick=False,
    data_home=None,
    random_state=0,
    memory_limit=None,
    n_jobs=None,
    verbose=False,
):
    """Sweep the number of random features across the interpolation threshold.

    Parameters
    ----------
    X_train : array-like of shape (n, d) or None, default=None
        Training inputs; when None, ``n_train`` MNIST images from
        :func:`skinterp.datasets.load_mnist` (and ``n_test`` test images), pixels in [0, 1].
    y_train : array-like of shape (n,) or (n, n_outputs) or None
        Class labels (``task="classification"``, fitted as one-hot targets with the square loss)
        or regression targets.
    X_test, y_test : array-like or None
        Test inputs and labels or targets (all four data arguments or none).
    n_components : sequence of int or None, default=None
        The grid of feature counts ``N``; :func:`default_grid` (30 points from ``0.05 n`` to
        ``20 n``, with ``n`` and ``0.9 n``) when None.
    n_train, n_test : int, default=2000
        Sizes of the MNIST sample when no data is given (the paper's ``n = 2000``).
    features : {"fourier", "relu"} or sequence of them, default=("fourier", "relu")
        Random Fourier features (Gaussian kernel) and/or random ReLU features, one sweep each
        (the array properties of the result show the first).
    bandwidth : float > 0 or "scale", default=5.0
        Bandwidth ``sigma`` of the features, as in :class:`~skinterp.MinNormRFFRegressor`;
        the paper's 5 for MNIST pixels in [0, 1].
    cutoff : float, default=1e-7
        Relative cut-off on the singular values of the feature matrix (and, for the kernel
        limit, on the square roots of the eigenvalues of the kernel matrix).
    task : {"classification", "regression"}, default="classification"
        How ``y`` is read and scored.
    kernel_limit : bool, default=True
        Also fit the kernel interpolant (Gaussian kernel of bandwidth ``sigma``, or the
        arc-cosine kernel for ReLU features), the limit ``N -> inf``.
    ridge_penalties : sequence of float > 0, default=DEFAULT_PENALTIES
        Penalties ``lambda`` (per sample) of the classical U-curve: ridge on the ``N = n``
        features (17 values from 1e-8 to 1); empty for none, and none when ``n`` is not on
        the grid.
    quick : bool, default=False
        Small preset: ``n_train=400``, ``n_test=1000``, a 20-point default grid up to
        ``N = 20 n`` (6-10 s on two shared cores, both feature kinds). Explicit data is kept
        (only the grid changes).
    data_home : str, path or None, default=None
        Folder of the MNIST sample files (``$SKINTERP_DATA`` when None); see
        :func:`~skinterp.datasets.load_mnist` for the download and offline fallbacks.
    random_state : int, RandomState instance or None, default=0
        Seed of the features (and of the MNIST sample); with an int, grid point ``N`` uses the
        features of ``MinNormRFFRegressor(n_components=N, random_state=random_state)``.
    memory_limit : float or None, default=None
        Memory budget in MiB for the blocks of features (scikit-learn's ``working_memory``).
    n_jobs : int or None, default=None
        Threads applying the activation; products use the BLAS threads.
    verbose : bool, default=False
        Progress on stderr (one line per grid point below ``n``, per block above, per grid
        point above on a cluster).

    Returns
    -------
    result : DoubleDescentResult
        Rows per feature kind and ``N`` (and the kernel limit and the ridge curve), the
        headline numbers beside the paper's (:data:`PAPER_REFERENCE`), array views and the
        figure.

    Notes
    -----
    Cost: each feature of the largest ``N`` is computed once for the ``n + n_test`` points;
    ``n^2 N_max / 2 + n n_test N_max`` flops for the Gram matrices; one Cholesky factorisation
    per grid point, or an eigendecomposition (at most ``n x n``) where the cut-off could matter
    (near the threshold). Memory: two ``n x n`` matrices, one ``n_test x n``, the weights
    (``d x N_max``) and the features of the points below the threshold (``(n + n_test) x N``
    with ``N < n``). Measured at the full settings (MNIST, ``n = n_test = 2000``, ``N`` up to
    40,000, both feature kinds, 17 ridge penalties): 30 s on two idle cores, 113 s on two cores
    shared with other jobs, 0.9 GB peak; the quick preset 6 s.

    On a dask cluster (the optional ``skinterp[dask]`` extra): when a ``distributed.Client`` is
    the default client of the process, or joblib's dask backend is active
    (``joblib.parallel_config(backend="dask")``), the Gram matrices above the threshold are
    summed by the workers (:func:`skinterp.distributed.gram_sweep`: each worker draws the same
    features from the seed and returns its partial sums; the next grid interval is computed
    while the client solves the current one). The rows are those of the local sweep, to the
    rounding of a different summation order (``params["Gram matrices"]`` says which ran). Below
    the threshold, the kernel limit and the solves stay on the client.

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
    ...                         n_components=[20, 100, 200, 1000, 4000], bandwidth=3.0,
    ...                         features="fourier")
    >>> int(result.n_components[result.norm.argmax()])  # the norm peaks at N = n
    200
    >>> bool(result.test_loss[2] > 10 * result.test_loss[-1])  # and so does the test loss
    True
    """
    start_time = time.perf_counter()
    kinds, penalties = _checked_options(features, task, ridge_penalties)
    X_train, Y_train, X_test, Y_test, source = _experiment_data(
        X_train, y_train, X_test, y_test, task, quick, n_train, n_test, data_home, random_state
    )
    grid = _grid(n_components, X_train.shape[0], quick)
    n_samples = X_train.shape[0]
    sigma = resolve_bandwidth(bandwidth, X_train)
    client = _dask_client()

    rows = []
    for kind in kinds:
        rows += _sweep(
            X_train,
            Y_train,
            X_test,
            Y_test,
            grid,
            kind,
            sigma,
            cutoff=cutoff,
            task=task,
            penalties=penalties,
            random_state=random_state,
            memory_limit=memory_limit,
            n_jobs=n_jobs,
            verbose=verbose,
            client=client,
        )
        if kernel_limit:
            rows.append(
                _kernel_limit_row(X_train, Y_train, X_test, Y_test, kind, sigma, cutoff, task)
            )
    reference = dict(PAPER_REFERENCE) if kinds[0] == "fourier" and task == "classification" else {}
    return DoubleDescentResult(
        "double_descent",
        rows=rows,
        summary=_summary(rows, kinds, task),
        reference=reference,
        params={
            "n_train": n_samples,
            "n_test": X_test.shape[0],
            "features": list(kinds),
            "bandwidth": sigma,
            "grid": f"{int(grid[0])}..{int(grid[-1])} ({grid.size} points)",
            "cutoff": cutoff,
            "task": task,
            "ridge penalties": f"{penalties.size} from {penalties.min():g} to {penalties.max():g}"
            if penalties.size
            else "none",
            "quick": quick,
            "random_state": random_state if isinstance(random_state, (int, np.integer)) else None,
            "data source": source,
            "Gram matrices": "dask cluster" if client is not None else "local",
        },
        elapsed=time.perf_counter() - start_time,
        description="random Fourier/ReLU features: test risk and norm peak at N = n, then fall "
        "towards the kernel limit; ridge at N = n gives the classical U-curve (3.7, Fig. 1, 5, 7)",
    )
