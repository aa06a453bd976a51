r"""Weighted interpolating nearest neighbours on noisy 1-D data (Belkin, 2021, 3.5.3, Fig. 4).

Noisy samples :math:`y_i = x_i + \varepsilon_i` of the line :math:`y = x` on :math:`[0, 1]`.
The weighted interpolating nearest-neighbour estimate (wiNN, :class:`~skinterp.SingularKernelNN`)

.. math:: \hat f(x) = \frac{\sum_{i \le k} \|x - x_{(i)}\|^{-\alpha} y_{(i)}}
                           {\sum_{i \le k} \|x - x_{(i)}\|^{-\alpha}}

over the ``k`` nearest neighbours passes through every noisy point (the weight is infinite
there), yet away from the data it is a local average, close to the line: the spikes that fit the
noise are narrow when :math:`\alpha < d/2` (here :math:`\alpha < 1/2`). 1-NN interpolates too,
but copies each noisy value onto a whole interval, so it is within ``tolerance`` of the line
only on about a fraction :math:`P(|\varepsilon| < \text{tolerance})` of :math:`[0, 1]`.

:func:`singular_kernel_1d` draws ``n_repeats`` data sets, fits wiNN with a fixed ``alpha``, wiNN
with ``alpha="auto"`` (half the estimated intrinsic dimension) and scikit-learn's 1-NN, and
measures on a grid of ``n_grid`` points the fraction of :math:`[0, 1]` where each is within
``tolerance`` of :math:`y = x`, and the mean squared distance to the line; it checks that every
method interpolates (``max_train_residual``). The figure shows the curves of the first data set.
Cost: milliseconds per repeat.
"""

import time
from numbers import Integral, Real

import numpy as np
from scipy.stats import norm
from sklearn.neighbors import KNeighborsRegressor
from sklearn.utils import check_random_state

from skinterp._progress import progress
from skinterp.experiments._result import ExperimentResult
from skinterp.neighbors import SingularKernelNN

#: The full settings (the figure's 60 points, 1000 data sets).
FULL = {"n_repeats": 1000}
#: ``quick=True``: 100 data sets (about a second).
QUICK = {"n_repeats": 100}
#: Points of the stored curves (the figure); the measurements use the full grid.
_CURVE_POINTS = 2000


class SingularKernel1DResult(ExperimentResult):
    """The result of :func:`singular_kernel_1d`; its plot is Fig. 4 (one panel per method)."""

    def plot(self, ax=None):
        """The curves of the first data set, one panel per method, over the noisy points."""
        import matplotlib.pyplot as plt

        curves = self.plot_spec.get("curves")
        if not curves:
            return super().plot(ax)
        methods = list(curves["predictions"])
        if ax is None:
            _, ax = plt.subplots(1, len(methods), figsize=(4.4 * len(methods), 4.0), sharey=True)
        axes = list(np.atleast_1d(ax))
        if len(axes) != len(methods):
            raise ValueError(f"plot needs {len(methods)} Axes, got {len(axes)}.")
        grid = np.asarray(curves["grid"])
        fractions = {row["method"]: row["fraction_within"] for row in self.rows}
        for axis, method in zip(axes, methods, strict=True):
            axis.plot(grid, grid, color="0.6", lw=1, label="truth y = x")
            axis.plot(grid, curves["predictions"][method], color="C0", lw=1, label=method)
            axis.scatter(
                curves["x_train"],
                curves["y_train"],
                color="C3",
                s=10,
                zorder=3,
                label="noisy data",
            )
            tolerance = self.params.get("tolerance", 0.1)
            axis.set_title(
                f"{method}\nwithin {tolerance:g} of y = x on {fractions[method]:.0%} of [0, 1]\n"
                f"(mean of {self.params.get('n_repeats', 1)} data sets; curve: the first)",
                fontsize="medium",
            )
            axis.set_xlabel("x")
        axes[0].set_ylabel("y")
        axes[0].legend(loc="upper left", fontsize="small")
        axes[0].figure.tight_layout()
        return axes


def _validate(n_train, noise, n_neighbors, alpha, n_grid, tolerance, n_repeats):
    for name, value, low in (
        ("n_train", n_train, 2),
        ("n_grid", n_grid, 2),
        ("n_repeats", n_repeats, 1),
        ("n_neighbors", n_neighbors, 1),
    ):
        if not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if n_neighbors > n_train:
        raise ValueError(f"n_neighbors ({n_neighbors}) must be <= n_train ({n_train}).")
    for name, value in (("noise", noise), ("tolerance", tolerance), ("alpha", alpha)):
        if not isinstance(value, Real) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}.")


def singular_kernel_1d(
    *,
    n_train=60,
    noise=0.15,
    n_neighbors=10,
    alpha=0.4,
    n_grid=4000,
    tolerance=0.1,
    n_repeats=FULL["n_repeats"],
    quick=False,
    random_state=0,
    verbose=False,
):
    """How much of [0, 1] wiNN and 1-NN, both interpolating y = x + noise, keep near the line.

    Parameters
    ----------
    n_train : int, default=60
        Noisy points per data set, ``x`` uniform on [0, 1].
    noise : float, default=0.15
        Standard deviation of the Gaussian noise on ``y``.
    n_neighbors : int, default=10
        ``k`` of wiNN.
    alpha : float, default=0.4
        The fixed singular exponent of the first wiNN (below ``d / 2 = 1/2``); the second uses
        ``alpha="auto"``.
    n_grid : int, default=4000
        Grid points of [0, 1] where the curves are evaluated.
    tolerance : float, default=0.1
        "Close to the line" means within this distance of ``y = x``.
    n_repeats : int, default=1000
        Independent data sets; the table holds means and standard errors over them.
    quick : bool, default=False
        Use ``n_repeats=100`` (about a second) instead.
    random_state : int, default=0
        Seed of the data sets.
    verbose : bool, default=False
        Print one progress line per data set on stderr.

    Returns
    -------
    result : ExperimentResult
        One row per method: ``method``, ``fraction_within`` (mean over data sets) and its
        ``std_error``, ``mean_squared_distance`` to the line, ``max_train_residual`` (0 when
        the method interpolates). The summary holds each method's fraction; the reference for
        1-NN is ``P(|noise| < tolerance)`` (what copying a noisy value gives; the paper's
        Fig. 4 is a picture and quotes no number).

    Notes
    -----
    Full settings (1000 data sets): about 10 s on two cores shared with other jobs (200 data
    sets took 2 s); ``quick=True``: under a second once the kernels are compiled.

    Examples
    --------
    >>> from skinterp.experiments.singular_kernel_1d import singular_kernel_1d
    >>> result = singular_kernel_1d(n_repeats=2)
    >>> [row["method"] for row in result.rows]
    ['wiNN (k=10, alpha=0.4)', 'wiNN (k=10, alpha=auto)', '1-NN']
    >>> all(row["max_train_residual"] < 1e-9 for row in result.rows)
    True
    """
    start_time = time.perf_counter()
    if quick:
        n_repeats = QUICK["n_repeats"]
    _validate(n_train, noise, n_neighbors, alpha, n_grid, tolerance, n_repeats)
    rng = check_random_state(random_state)
    models = {
        f"wiNN (k={n_neighbors}, alpha={alpha:g})": SingularKernelNN(
            n_neighbors=n_neighbors, alpha=alpha
        ),
        f"wiNN (k={n_neighbors}, alpha=auto)": SingularKernelNN(n_neighbors=n_neighbors),
        "1-NN": KNeighborsRegressor(n_neighbors=1),
    }
    grid = np.linspace(0.0, 1.0, n_grid)
    within = {method: [] for method in models}
    squared = {method: [] for method in models}
    residual = dict.fromkeys(models, 0.0)
    curve_rows = np.unique(np.linspace(0, n_grid - 1, min(n_grid, _CURVE_POINTS)).astype(int))
    curves = None
    for repeat in progress(range(n_repeats), "singular_kernel_1d", verbose=verbose):
        x_train = np.sort(rng.uniform(0.0, 1.0, size=n_train))
        y_train = x_train + noise * rng.standard_normal(n_train)
        if repeat == 0:
            curves = {
                "grid": grid[curve_rows],
                "x_train": x_train,
                "y_train": y_train,
                "predictions": {},
            }
        for method, model in models.items():
            model.fit(x_train[:, None], y_train)
            residual[method] = max(
                residual[method], float(np.max(np.abs(model.predict(x_train[:, None]) - y_train)))
            )
            distance = model.predict(grid[:, None]) - grid
            within[method].append(np.mean(np.abs(distance) <= tolerance))
            squared[method].append(np.mean(distance**2))
            if repeat == 0:
                curves["predictions"][method] = (grid + distance)[curve_rows]
    result = SingularKernel1DResult(
        "singular_kernel_1d",
        params={
            "n_train": int(n_train),
            "noise": float(noise),
            "n_neighbors": int(n_neighbors),
            "alpha": float(alpha),
            "n_grid": int(n_grid),
            "tolerance": float(tolerance),
            "n_repeats": int(n_repeats),
            "data source": "synthetic y = x + N(0, noise^2), x ~ U[0, 1]",
            "random_state": random_state,
            "quick": quick,
        },
        description="the weighted interpolating nearest neighbour on y = x + noise in 1-D "
        "(3.5.3, Fig. 4)",
        plot_spec={"x": "method", "y": ["fraction_within"], "curves": curves},
    )
    for method in models:
        fractions = np.asarray(within[method])
        result.rows.append(
            {
                "method": method,
                "fraction_within": float(fractions.mean()),
                "std_error": float(fractions.std(ddof=1) / np.sqrt(n_repeats))
                if n_repeats > 1
                else float("nan"),
                "mean_squared_distance": float(np.mean(squared[method])),
                "max_train_residual": residual[method],
            }
        )
        result.summary[f"fraction of [0, 1] within {tolerance:g}: {method}"] = float(
            fractions.mean()
        )
    # 1-NN copies y_j = x_j + noise onto x's cell; |x - x_j| ~ 1/(4 n) is negligible here.
    result.reference[f"fraction of [0, 1] within {tolerance:g}: 1-NN"] = float(
        2 * norm.cdf(tolerance / noise) - 1
    )
    result.elapsed = time.perf_counter() - start_time
    return result
