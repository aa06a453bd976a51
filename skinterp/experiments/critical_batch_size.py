"""The critical batch size of mini-batch SGD (Belkin, 2021, Section 4.4, Fig. 10).

For an interpolating least-squares problem with Hessian ``H`` (here ``H = K / n`` for the
kernel matrix ``K`` of ``n`` training points), mini-batch SGD with the optimal fixed step
``eta*(m) = m / (beta + (m - 1) lambda_1)`` (Ma, Bassily & Belkin, 2018) needs ``m`` times fewer
iterations with a batch of ``m`` than with one sample ("linear scaling"), up to the critical
batch size ``m* = beta / lambda_1``; beyond it a larger batch barely reduces the iterations and
only wastes computation. ``beta = max_i k(x_i, x_i)`` and ``lambda_1 = lambda_max(H)``; for the
Laplace and Gauss kernels ``k(x, x) = 1``, so ``beta = tr(H) = 1`` and
``m* = tr(H) / lambda_max(H)`` as well (both are reported).

:func:`critical_batch_size` computes ``K`` on a sample of MNIST with
:func:`skinterp.kernels.kernel_matrix` (Laplace and Gauss), runs mini-batch SGD on the one-hot
labels in function space (the shared loop of :mod:`skinterp.experiments._sgd`) from ``alpha = 0``
for every batch size of a grid, and counts the iterations until the training loss ``(1/n) ||K alpha
- y||^2`` falls below ``target_fraction`` of its initial value. The bandwidths are the paper's on
MNIST (10 for Laplace, 5 for Gauss): ``1.0`` and ``0.5`` times the median pairwise distance (10.3
on MNIST), a rule that also adapts to the digits fallback.

Cost: ``O(n^2 d)`` for ``K``, ``O(n m)`` per SGD step. Measured on two cores shared with other
jobs: full settings (``n = 4000``) 76 s, the quick preset (``n = 1000``) 6 to 22 s.
"""

import time

import numpy as np
from scipy.spatial.distance import pdist

from skinterp._progress import progress
from skinterp.datasets import load_mnist
from skinterp.experiments._result import ExperimentResult
from skinterp.experiments._sgd import critical_step_size, minibatch_sgd
from skinterp.kernels import kernel_matrix

REFERENCE = {"m* (laplacian)": 3.7, "m* (gaussian)": 7.5}
BANDWIDTH_FACTORS = {"laplacian": 1.0, "gaussian": 0.5}


class CriticalBatchSizeResult(ExperimentResult):
    """The result of :func:`critical_batch_size`, whose figure marks ``m*`` on each curve."""

    def plot(self, ax=None):
        """Iterations to the target loss against the batch size, log-log, ``m*`` dashed."""
        axes = super().plot(ax)
        for index, kernel in enumerate(dict.fromkeys(row["kernel"] for row in self.rows)):
            m_star = self.summary.get(f"m* ({kernel})")
            if m_star is not None:
                axes[0].axvline(m_star, color=f"C{index}", ls="--", lw=1, label=f"m* {kernel}")
        axes[0].legend(fontsize="small")
        return axes


def critical_batch_size(
    X_train=None,
    y_train=None,
    *,
    n_train=4000,
    kernels=("laplacian", "gaussian"),
    batch_sizes=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    target_fraction=0.1,
    max_epochs=200,
    quick=False,
    data_home=None,
    random_state=0,
    verbose=False,
):
    """Iterations of mini-batch SGD to a target training loss against the batch size.

    Parameters
    ----------
    X_train, y_train : array-like or None
        Training images and labels; by default ``n_train`` MNIST images from
        :func:`skinterp.datasets.load_mnist` (digits when MNIST cannot be had).
    n_train : int, default=4000
        Training points when the data are loaded.
    kernels : sequence of {"laplacian", "gaussian"}
    batch_sizes : sequence of int, default=(1, 2, ..., 256)
    target_fraction : float, default=0.1
        Target training loss as a fraction of the initial one.
    max_epochs : int, default=200
        Cap on the passes over the data (``iterations`` is NaN when it is reached).
    quick : bool, default=False
        ``n_train = 1000``, batch sizes 1 to 128: 6 to 22 s.
    data_home : str or None
        Folder of the MNIST sample files (else ``$SKINTERP_DATA``).
    random_state : int, default=0
    verbose : bool, default=False
        Progress on stderr, one line per kernel and batch size.

    Returns
    -------
    result : CriticalBatchSizeResult
        One row per kernel and batch size: ``step_size``, ``iterations``, ``epochs``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(200, 20))
    >>> result = critical_batch_size(X, np.arange(200) % 3, batch_sizes=(1, 64))
    >>> bool(result.summary["m* (laplacian)"] > 1)
    True
    """
    if quick:
        n_train, batch_sizes = 1000, (1, 2, 4, 8, 16, 32, 64, 128)
    batch_sizes = [int(m) for m in batch_sizes] if np.ndim(batch_sizes) == 1 else []
    if not batch_sizes or min(batch_sizes) < 1:
        raise ValueError("batch_sizes must be a non-empty sequence of positive integers.")
    unknown = [kernel for kernel in kernels if kernel not in BANDWIDTH_FACTORS]
    if unknown or not kernels:
        raise ValueError(f"kernels must be among {tuple(BANDWIDTH_FACTORS)}, got {kernels!r}.")
    if not 0 < target_fraction < 1:
        raise ValueError(f"target_fraction must be in (0, 1), got {target_fraction!r}.")
    start = time.perf_counter()
    if X_train is None:
        # The test split is not used; 10 rows is the least a stratified split accepts.
        data = load_mnist(n_train, 10, data_home=data_home, random_state=random_state)
        X_train, y_train, source = data.X_train, data.y_train, data.source
    else:
        source = "given"
    X_train = np.ascontiguousarray(X_train, dtype=np.float64)
    y_train = np.asarray(y_train)
    if X_train.ndim != 2 or len(X_train) != len(y_train) or len(X_train) < 2:
        raise ValueError("X_train must be 2-D with one label per row (at least two rows).")
    if max(batch_sizes) > len(X_train):
        raise ValueError(f"batch sizes must be at most the {len(X_train)} training points.")
    _, encoded = np.unique(y_train, return_inverse=True)
    targets = np.eye(encoded.max() + 1)[encoded.reshape(-1)]
    sample = np.random.default_rng(random_state).permutation(len(X_train))[:500]
    median_distance = float(np.median(pdist(X_train[sample])))
    initial_loss = float(np.mean(np.sum(targets**2, axis=1)))
    rows, summary = [], {}
    grid = [(kernel, m) for kernel in kernels for m in batch_sizes]
    matrices = {}
    for kernel, batch_size in progress(grid, "critical_batch_size", verbose=verbose):
        if kernel not in matrices:
            bandwidth = BANDWIDTH_FACTORS[kernel] * median_distance
            gram = kernel_matrix(X_train, kernel=kernel, bandwidth=bandwidth)
            lambda_max = float(np.linalg.eigvalsh(gram / len(gram))[-1])
            beta = float(gram.diagonal().max())
            matrices = {kernel: (gram, lambda_max, beta, bandwidth)}
            summary[f"m* ({kernel})"] = beta / lambda_max
            summary[f"tr(H)/lambda_max(H) ({kernel})"] = (
                float(np.trace(gram)) / len(gram) / lambda_max
            )
        gram, lambda_max, beta, bandwidth = matrices[kernel]
        step = critical_step_size(batch_size, beta, lambda_max)
        _, steps = minibatch_sgd(
            gram,
            targets,
            batch_size=batch_size,
            step_size=step,
            n_epochs=max_epochs,
            target_loss=target_fraction * initial_loss,
            random_state=random_state,
        )
        rows.append(
            {
                "kernel": kernel,
                "bandwidth": bandwidth,
                "batch_size": batch_size,
                "step_size": step,
                "iterations": float("nan") if steps is None else steps,
                "epochs": float("nan") if steps is None else steps * batch_size / len(gram),
            }
        )
    for kernel in kernels:
        iterations = {r["batch_size"]: r["iterations"] for r in rows if r["kernel"] == kernel}
        summary[f"iterations m=1 / m={max(batch_sizes)} ({kernel})"] = (
            iterations.get(1, float("nan")) / iterations[max(batch_sizes)]
        )
    return CriticalBatchSizeResult(
        "critical_batch_size",
        rows=rows,
        summary=summary,
        reference=dict(REFERENCE),
        params={
            "n_train": len(X_train),
            "kernels": list(kernels),
            "batch_sizes": batch_sizes,
            "target_fraction": target_fraction,
            "max_epochs": max_epochs,
            "median distance": median_distance,
            "quick": quick,
            "random_state": random_state,
            "data source": source,
        },
        elapsed=time.perf_counter() - start,
        plot_spec={
            "x": "batch_size",
            "y": ["iterations", "epochs"],
            "hue": "kernel",
            "xscale": "log",
            "yscale": "log",
            "title": "mini-batch SGD to the target loss",
        },
        description="mini-batch SGD: linear scaling of the step in the batch size up to "
        "m* = tr(H)/lambda_max(H) (4.4, Fig. 10)",
    )
