"""SGD converges exponentially when the model interpolates (Belkin, 2021, Section 4.4).

With a fixed step, stochastic gradient descent converges only to a neighbourhood of the minimum
whose size is set by the variance of the per-sample gradients *at the minimum*. When the model
can interpolate (``N > n`` features for ``n`` points) every per-sample loss is zero at the
interpolant, the gradient noise vanishes there and fixed-step SGD converges exponentially, like
gradient descent (Ma, Bassily & Belkin, 2018). When it cannot (``N < n``), the noise does not
vanish and the training loss stalls at a floor above the least-squares minimum.

:func:`sgd_interpolation` draws ``N`` random Fourier features
(:class:`skinterp.RandomFourierFeatures`) of a synthetic regression problem, for ``N`` below and
above ``n``, and runs mini-batch SGD with the fixed step
``eta*(m) = m / (beta + (m - 1) lambda_1)`` on the least squares problem in its kernel form
``K = Phi Phi^T`` (the shared loop of :mod:`skinterp.experiments._sgd`; the iterates
are those of SGD on the weights ``w = Phi^T alpha``). It fits the slope of ``log10(loss)`` per
epoch over the second half of the epochs in each regime.

Cost: ``O(n N)`` for the features and ``O(n^2)`` per epoch. Measured on two cores shared with
other jobs: full settings 19 s, quick 8 to 35 s (mostly waiting for the cores).
"""

import time

import numpy as np

from skinterp._progress import progress
from skinterp.experiments._result import ExperimentResult
from skinterp.experiments._sgd import critical_step_size, minibatch_sgd
from skinterp.random_features import RandomFourierFeatures

REFERENCE = {
    "log10 loss slope per epoch (N > n)": "< 0 (exponential)",
    "log10 loss slope per epoch (N < n)": "~ 0 (noise floor)",
}


def _synthetic(n_samples, n_features, noise, rng):
    X = rng.standard_normal((n_samples, n_features))
    direction = rng.standard_normal(n_features) / np.sqrt(n_features)
    return X, np.sin(2 * X @ direction) + noise * rng.standard_normal(n_samples)


def sgd_interpolation(
    *,
    n_samples=1000,
    n_components=(200, 10000),
    n_features=20,
    noise=0.3,
    bandwidth=2.0,
    batch_size=10,
    n_epochs=40,
    quick=False,
    random_state=0,
    verbose=False,
):
    """Training loss per epoch of fixed-step SGD on random-feature least squares, N < n and N > n.

    Parameters
    ----------
    n_samples : int, default=1000
        Training points ``x ~ N(0, I_d)``, ``y = sin(2 a . x) + noise * N(0, 1)``.
    n_components : sequence of int, default=(200, 10000)
        Numbers of random Fourier features ``N``, below and above ``n_samples``.
    n_features : int, default=20
        Input dimension ``d``.
    noise : float, default=0.3
        Label noise (what a model with ``N < n`` cannot fit).
    bandwidth : float, default=2.0
        Of the Gaussian kernel the features approximate.
    batch_size : int, default=10
        Mini-batch size ``m``.
    n_epochs : int, default=40
        Passes over the data.
    quick : bool, default=False
        ``n = 500``, ``N in (100, 5000)``, 30 epochs: a few seconds.
    random_state : int, default=0
    verbose : bool, default=False
        Progress on stderr, one line per ``N``.

    Returns
    -------
    result : ExperimentResult
        One row per ``N`` and epoch: ``loss`` (``(1/n) ||f - y||^2``) and the least-squares
        minimum ``least_squares_loss`` of that ``N``.

    Examples
    --------
    >>> result = sgd_interpolation(n_samples=100, n_components=(20, 1000), n_epochs=10)
    >>> slope = result.summary
    >>> over, under = (f"log10 loss slope per epoch (N {s} n)" for s in "><")
    >>> bool(slope[over] < slope[under])
    True
    """
    if quick:
        n_samples, n_components, n_epochs = 500, (100, 5000), 30
    for name, value in [
        ("n_samples", n_samples),
        ("n_features", n_features),
        ("batch_size", batch_size),
        ("n_epochs", n_epochs),
    ]:
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    n_components = [int(n) for n in n_components] if np.ndim(n_components) == 1 else []
    if not n_components or min(n_components) < 1:
        raise ValueError("n_components must be a non-empty sequence of positive integers.")
    if batch_size > n_samples:
        raise ValueError(f"batch_size must be at most n_samples={n_samples}.")
    if n_epochs < 4:
        raise ValueError(f"n_epochs must be at least 4 to fit a slope, got {n_epochs}.")
    start = time.perf_counter()
    rng = np.random.default_rng(random_state)
    X, y = _synthetic(n_samples, n_features, noise, rng)
    rows, slopes = [], {}
    for n_comp in progress(n_components, "sgd_interpolation", verbose=verbose):
        features = RandomFourierFeatures(n_comp, bandwidth=bandwidth, random_state=random_state)
        phi = features.fit_transform(X)
        gram = phi @ phi.T
        lambda_max = float(np.linalg.eigvalsh(gram / n_samples)[-1])
        step = critical_step_size(batch_size, float(gram.diagonal().max()), lambda_max)
        losses, _ = minibatch_sgd(
            gram,
            y,
            batch_size=batch_size,
            step_size=step,
            n_epochs=n_epochs,
            random_state=random_state,
        )
        weights = np.linalg.lstsq(phi, y, rcond=None)[0]
        least_squares = float(np.mean((phi @ weights - y) ** 2))
        half = n_epochs // 2
        slopes[n_comp] = float(
            np.polyfit(np.arange(half, n_epochs + 1), np.log10(losses[half:]), 1)[0]
        )
        regime = "N > n" if n_comp > n_samples else "N <= n"
        for epoch, loss in enumerate(losses):
            rows.append(
                {
                    "N": n_comp,
                    "regime": regime,
                    "epoch": epoch,
                    "step_size": step,
                    "loss": loss,
                    "least_squares_loss": least_squares,
                }
            )
    summary = {}
    over = [n for n in n_components if n > n_samples]
    under = [n for n in n_components if n < n_samples]
    if over:
        summary["log10 loss slope per epoch (N > n)"] = slopes[max(over)]
        summary["final loss (N > n)"] = [r["loss"] for r in rows if r["N"] == max(over)][-1]
    if under:
        last = [r for r in rows if r["N"] == min(under)][-1]
        summary["log10 loss slope per epoch (N < n)"] = slopes[min(under)]
        summary["final loss (N < n)"] = last["loss"]
        summary["least-squares minimum (N < n)"] = last["least_squares_loss"]
    return ExperimentResult(
        "sgd_interpolation",
        rows=rows,
        summary=summary,
        reference=dict(REFERENCE),
        params={
            "n_samples": n_samples,
            "n_components": n_components,
            "n_features": n_features,
            "noise": noise,
            "bandwidth": bandwidth,
            "batch_size": batch_size,
            "n_epochs": n_epochs,
            "quick": quick,
            "random_state": random_state,
            "data source": "synthetic: x ~ N(0, I), y = sin(2 a.x) + noise",
        },
        elapsed=time.perf_counter() - start,
        plot_spec={
            "x": "epoch",
            "y": "loss",
            "hue": "N",
            "yscale": "log",
            "title": f"fixed-step SGD, n = {n_samples}, batch {batch_size}",
        },
        description="fixed-step SGD converges exponentially when the model interpolates and "
        "stalls when it cannot (4.4)",
    )
