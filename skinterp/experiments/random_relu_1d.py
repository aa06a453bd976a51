"""Random ReLU features in one dimension: 3, 30 and 3000 parameters (Belkin, 2021, Fig. 6).

The same few noisy samples of ``sin(3 x)`` are fitted by a one-hidden-layer network of random
ReLU units ``max(v_k x + b_k, 0)`` whose first layer is drawn at random and fixed, and whose
output layer is the minimum-norm least-squares solution
(:class:`~skinterp.MinNormRFFRegressor` with ``features="relu"``):

* with 3 parameters the model is too small and least squares underfits;
* with 30 parameters, above the ``n = 12`` points, it can fit every point, but only with large
  coefficients: the interpolant swings between the points;
* with 3000 parameters the minimum-norm interpolant still fits every point, now with smaller
  coefficients, and it is smoother between them: more parameters, *less* overfitting.

Every fit is piecewise linear with kinks at ``-b_k / v_k``. In one dimension a ReLU model can
interpolate only once a kink falls between every two neighbouring points, so the threshold lies
somewhat above ``N = n`` and depends on the draw; the experiment reports the smallest ``N`` of
its sweep that interpolates. One ``random_state`` gives nested units: the 30 units are the
first 30 of the 3000 (see :func:`skinterp.random_features.draw_weights`).

Besides the three panels, a sweep over ``N`` from 2 to 3000 records the norm of the
coefficients (which peaks near the threshold), the training error and the distance to
``sin(3 x)`` on a fine grid. Cost: a few hundred tiny least-squares problems, well under a
second.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from skinterp._progress import progress
from skinterp.experiments._result import ExperimentResult
from skinterp.random_features import InterpolationThresholdWarning, MinNormRFFRegressor
from skinterp.random_features._min_norm import DEFAULT_CUTOFF

#: The interval the points are spread over, and the one the curves are drawn (and scored) on.
DATA_INTERVAL = (-1.0, 1.0)
GRID_INTERVAL = (-1.1, 1.1)


def target_function(x):
    """The noiseless function the points sample, ``sin(3 x)``."""
    return np.sin(3.0 * np.asarray(x, dtype=np.float64))


def one_dimensional_data(n_samples, noise, random_state):
    """``n_samples`` jittered, evenly spread points of ``[-1, 1]`` and noisy labels.

    The jitter moves each point by at most a quarter of the spacing, so the points stay in
    order and never collide.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
    y : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from skinterp.experiments.random_relu_1d import one_dimensional_data
    >>> X, y = one_dimensional_data(5, 0.1, 0)
    >>> X.shape, bool((X[1:, 0] > X[:-1, 0]).all())
    ((5, 1), True)
    """
    rng = check_random_state(random_state)
    low, high = DATA_INTERVAL
    spacing = (high - low) / max(n_samples - 1, 1)
    x = np.linspace(low, high, n_samples) + rng.uniform(-spacing / 4, spacing / 4, n_samples)
    y = target_function(x) + noise * rng.standard_normal(n_samples)
    return x[:, None], y


def fit_relu_model(X, y, n_components, bandwidth, random_state):
    """The minimum-norm least-squares ReLU model of ``n_components`` units (a fitted estimator)."""
    model = MinNormRFFRegressor(
        n_components=int(n_components),
        features="relu",
        bandwidth=bandwidth,
        cutoff=DEFAULT_CUTOFF,  # the paper's pseudo-inverse (the estimator's default is 1e-3)
        random_state=random_state,
    )
    with warnings.catch_warnings():  # the sweep crosses the threshold on purpose
        warnings.simplefilter("ignore", InterpolationThresholdWarning)
        return model.fit(X, y)


def fine_grid(n_points=1000):
    """The points where curves are drawn and compared with the target, shape (n_points, 1)."""
    return np.linspace(*GRID_INTERVAL, n_points)[:, None]


class RandomReLU1DResult(ExperimentResult):
    """The result of :func:`random_relu_1d`, with the figure of Fig. 6 and the norm curve.

    Only :meth:`plot` differs from :class:`ExperimentResult`: it refits the three panels' models
    from ``params`` (deterministic and cheap), so a result read back from JSON draws the same
    figure.
    """

    def panel_curves(self):
        """``(X, y, grid, {N: curve on grid})`` of the three panels, refitted from ``params``."""
        params = self.params
        X, y = one_dimensional_data(params["n_samples"], params["noise"], params["random_state"])
        grid = fine_grid()
        curves = {
            int(N): fit_relu_model(X, y, N, params["bandwidth"], params["random_state"]).predict(
                grid
            )
            for N in params["panel_sizes"]
        }
        return X, y, grid, curves

    def plot(self, ax=None):
        """Fig. 6: one panel per model size with the data and ``sin(3 x)``, then the norm vs ``N``.

        Parameters
        ----------
        ax : sequence of ``len(panel_sizes) + 1`` matplotlib Axes, or None
            Where to draw; a new figure when None.

        Returns
        -------
        axes : list of matplotlib Axes
        """
        import matplotlib.pyplot as plt

        sizes = [int(N) for N in self.params["panel_sizes"]]
        if ax is None:
            _, ax = plt.subplots(1, len(sizes) + 1, figsize=(4.0 * (len(sizes) + 1), 3.6))
        axes = list(np.atleast_1d(ax))
        if len(axes) != len(sizes) + 1:
            raise ValueError(f"plot needs {len(sizes) + 1} Axes, got {len(axes)}.")
        X, y, grid, curves = self.panel_curves()
        rows = {row["N"]: row for row in self.rows}
        for axis, N in zip(axes[:-1], sizes, strict=True):
            axis.plot(
                grid[:, 0],
                target_function(grid[:, 0]),
                color="gray",
                lw=1,
                ls="--",
                label="sin(3x)",
            )
            axis.plot(grid[:, 0], curves[N], color="C0", label="fit")
            axis.plot(X[:, 0], y, "o", color="C3", ms=4, label="data")
            status = "interpolates" if rows[N]["interpolates"] else "least squares"
            axis.set_title(
                f"{N} parameters: {status}\n||w|| = {rows[N]['norm']:.3g}", fontsize="medium"
            )
            axis.set_ylim(-3, 3)
            axis.set_xlabel("x")
        axes[0].legend(loc="upper left", fontsize="small")
        norm_axis = axes[-1]
        sweep = sorted(self.rows, key=lambda row: row["N"])
        norm_axis.loglog([row["N"] for row in sweep], [row["norm"] for row in sweep], "o-", ms=3)
        norm_axis.axvline(self.params["n_samples"], color="gray", lw=0.8, label="N = n")
        threshold = self.summary.get("smallest interpolating N")
        if threshold is not None and np.isfinite(threshold):
            norm_axis.axvline(threshold, color="C3", lw=0.8, ls=":", label="first interpolant")
        norm_axis.set_xlabel("number of random ReLU features N")
        norm_axis.set_ylabel("||w||")
        norm_axis.legend(fontsize="small")
        axes[0].figure.tight_layout()
        return axes


def random_relu_1d(
    *,
    n_samples=12,
    panel_sizes=(3, 30, 3000),
    n_sweep=60,
    bandwidth=0.5,
    noise=0.1,
    quick=False,
    random_state=0,
    verbose=False,
):
    """Fit the same 1-D points with random ReLU models of 3, 30 and 3000 parameters.

    Parameters
    ----------
    n_samples : int, default=12
        Number of noisy points ``n`` of ``sin(3 x)`` on ``[-1, 1]``.
    panel_sizes : sequence of int, default=(3, 30, 3000)
        The numbers of random ReLU units of the figure's panels.
    n_sweep : int, default=60
        Points of the geometric sweep of ``N`` from 2 to ``max(panel_sizes)`` (the panel sizes
        are added to it).
    bandwidth : float > 0, default=0.5
        Bandwidth of the units: ``v_k ~ N(0, 1 / bandwidth^2)``, ``b_k ~ N(0, 1)``.
    noise : float >= 0, default=0.1
        Standard deviation of the label noise.
    quick : bool, default=False
        Accepted for the common interface; the experiment takes under a second at its full
        settings, so the quick preset is the same.
    random_state : int, default=0
        Seed of the points, their noise and the units (nested over ``N``).
    verbose : bool, default=False
        Progress on stderr over the sweep.

    Returns
    -------
    result : RandomReLU1DResult
        One row per ``N`` of the sweep: ``N``, ``N/n``, ``panel`` (whether it is drawn),
        ``norm`` (``||w||`` of the output layer), ``train RMSE``, ``interpolates``, ``RMSE to
        sin(3x)`` and ``max |f|`` on the grid ``[-1.1, 1.1]``.

    Examples
    --------
    >>> from skinterp.experiments.random_relu_1d import random_relu_1d
    >>> result = random_relu_1d(n_sweep=10)
    >>> rows = {row["N"]: row for row in result.rows}
    >>> rows[3]["interpolates"], rows[3000]["interpolates"]
    (False, True)
    """
    start_time = time.perf_counter()
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 2:
        raise ValueError(f"n_samples must be an integer >= 2, got {n_samples!r}.")
    if isinstance(n_sweep, bool) or not isinstance(n_sweep, Integral) or n_sweep < 2:
        raise ValueError(f"n_sweep must be an integer >= 2, got {n_sweep!r}.")
    sizes = [int(N) for N in np.atleast_1d(panel_sizes)] if len(panel_sizes) else []
    if not sizes or any(N < 1 for N in sizes):
        raise ValueError(f"panel_sizes must be positive integers, got {panel_sizes!r}.")
    if not isinstance(bandwidth, Real) or not bandwidth > 0:
        raise ValueError(f"bandwidth must be a number > 0, got {bandwidth!r}.")
    if not isinstance(noise, Real) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}.")
    if not isinstance(random_state, Integral):
        raise ValueError(
            f"random_state must be an int (the figure is refitted from it), got {random_state!r}."
        )

    X, y = one_dimensional_data(n_samples, noise, random_state)
    grid = fine_grid()
    truth = target_function(grid[:, 0])
    sweep = np.unique(np.concatenate([np.geomspace(2, max(sizes), n_sweep).astype(int), sizes]))
    rows = []
    for N in progress(sweep, "random_relu_1d: N", verbose=verbose):
        model = fit_relu_model(X, y, N, bandwidth, random_state)
        curve = model.predict(grid)
        rows.append(
            {
                "N": int(N),
                "N/n": float(N / n_samples),
                "panel": int(N) in sizes,
                "norm": model.coef_norm_,
                "train RMSE": float(np.sqrt(np.mean((model.predict(X) - y) ** 2))),
                "interpolates": model.interpolates_,
                "RMSE to sin(3x)": float(np.sqrt(np.mean((curve - truth) ** 2))),
                "max |f|": float(np.max(np.abs(curve))),
            }
        )

    by_size = {row["N"]: row for row in rows}
    interpolating = [row["N"] for row in rows if row["interpolates"]]
    summary = {}
    for N in sizes:
        summary[f"norm, N = {N}"] = by_size[N]["norm"]
    for N in sizes:
        summary[f"RMSE to sin(3x), N = {N}"] = by_size[N]["RMSE to sin(3x)"]
    summary["smallest interpolating N"] = (
        float(min(interpolating)) if interpolating else float("nan")
    )
    summary["N of the largest norm"] = float(max(rows, key=lambda row: row["norm"])["N"])
    # How much larger the roughest interpolant is than the widest model's (> 1: the norm falls
    # again beyond the threshold).
    summary["largest interpolating norm / norm at largest N"] = (
        max(row["norm"] for row in rows if row["interpolates"]) / by_size[max(sizes)]["norm"]
        if interpolating
        else float("nan")
    )
    # The paper gives the panels' shapes, not numbers: what each should show.
    shapes = ["underfits", "interpolates, large norm, swings", "interpolates, smaller norm"]
    reference = {}
    if len(sizes) == 3:
        for N, shape in zip(sorted(sizes), shapes, strict=True):
            reference[f"norm, N = {N}"] = shape
    reference["smallest interpolating N"] = f"> n = {n_samples}"
    reference["largest interpolating norm / norm at largest N"] = "> 1"
    return RandomReLU1DResult(
        "random_relu_1d",
        rows=rows,
        summary=summary,
        reference=reference,
        params={
            "n_samples": n_samples,
            "panel_sizes": sizes,
            "n_sweep": n_sweep,
            "bandwidth": float(bandwidth),
            "noise": float(noise),
            "quick": quick,
            "random_state": random_state,
            "data source": "synthetic: sin(3x) + noise on [-1, 1]",
        },
        elapsed=time.perf_counter() - start_time,
        description="3, 30 and 3000 random ReLU features interpolating the same 1-D points "
        "(Fig. 6)",
    )
