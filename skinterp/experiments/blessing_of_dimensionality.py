r"""Simplicial interpolation of noisy labels gets better with the dimension (Belkin, 2021, 3.5.2).

A classifier that interpolates noisy labels predicts the noisy label at every training point;
what matters is how far that wrong label spreads. 1-NN spreads it over the whole Voronoi cell, so
away from the class boundary its excess risk is the noise level ``q`` in every dimension. The
simplicial interpolant spreads it over the part of each Delaunay simplex where the wrong
vertices' barycentric coordinates sum above 1/2 (:mod:`.simplex_localisation`), and that part
shrinks as the dimension grows: with the ``d + 1`` vertex labels flipped independently with
probability ``q``, a uniform point of the simplex is misclassified with probability

.. math:: \sum_{k=0}^{d+1} \binom{d+1}{k} q^k (1-q)^{d+1-k}\,
          P\bigl(\mathrm{Beta}(k, d+1-k) > 1/2\bigr),

the large-``n`` limit of the excess risk away from the boundary (row ``"simplicial, n -> inf"``;
the paper quotes a decay of about :math:`1/\sqrt{d}`).

:func:`blessing_of_dimensionality` draws ``n_train`` uniform points of :math:`[0, 1]^d`, labels
them by the clean classifier :math:`1[x_1 > 1/2]`, flips each label with probability ``noise``,
fits :class:`~skinterp.SimplicialClassifier` and scikit-learn's 1-NN, and measures on ``n_test``
uniform points the error against the *clean* labels (the clean classifier's risk is 0, so this is
the excess risk). Two columns: over all test points, and over the *interior* ones, inside the
convex hull of the training points and at least ``margin`` from the boundary
:math:`x_1 = 1/2`, where the limit above applies. At a fixed ``n`` the share of test points
outside the hull grows quickly with ``d`` (they are predicted at their projection onto the hull)
and the simplices grow, so over all points the excess risk is dominated by those effects in high
dimension; the interior column shows the phenomenon. Cost: the lifted linear program per test
point, a few seconds per dimension at the full settings.
"""

import time
from numbers import Integral, Real

import numpy as np
from scipy.special import comb
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils import check_random_state

from skinterp._progress import progress
from skinterp.experiments._common import log_log_slope
from skinterp.experiments._result import ExperimentResult
from skinterp.experiments.simplex_localisation import spoiled_fraction
from skinterp.simplicial import SimplicialClassifier

#: The full settings (documented in the function's docstring with their run time).
FULL = {"dimensions": (2, 3, 4, 5, 6, 7, 8, 10, 12), "n_train": 5000, "n_test": 10_000}
#: ``quick=True``: five dimensions, 3000 training and 6000 test points.
QUICK = {"dimensions": (2, 3, 4, 6, 8), "n_train": 3000, "n_test": 6000}

SIMPLICIAL, NEAREST, LIMIT = "simplicial", "1-NN", "simplicial, n -> inf"


def simplicial_noise_limit(dimension, noise):
    r"""The large-``n`` misclassification rate of simplicial interpolation inside a class.

    Each of the ``d + 1`` vertex labels is wrong with probability ``noise``; a uniform point of
    the simplex is misclassified when the wrong vertices' barycentric coordinates sum above 1/2.

    Examples
    --------
    >>> from skinterp.experiments.blessing_of_dimensionality import simplicial_noise_limit
    >>> round(simplicial_noise_limit(1, 0.2), 4)  # (0.2)^2 + 2 * 0.2 * 0.8 * (1/2)
    0.2
    >>> simplicial_noise_limit(10, 0.2) < simplicial_noise_limit(2, 0.2) < 0.2
    True
    """
    n_vertices = dimension + 1
    # The binomial probabilities written out: scipy.stats.binom.pmf overflows inside its
    # incomplete-beta derivative for subnormal noise levels (found by hypothesis).
    return float(
        sum(
            comb(n_vertices, k)
            * noise**k
            * (1.0 - noise) ** (n_vertices - k)
            * spoiled_fraction(dimension, k)
            for k in range(1, n_vertices + 1)
        )
    )


class BlessingResult(ExperimentResult):
    """The result of :func:`blessing_of_dimensionality`; its plot adds a 1/sqrt(d) guide."""

    def plot(self, ax=None):
        """Excess risks against ``d`` (log-log), with a line of slope -1/2 through the first."""
        from matplotlib.ticker import NullFormatter, ScalarFormatter

        axes = super().plot(ax)
        simplicial = [row for row in self.rows if row["method"] == SIMPLICIAL]
        dimensions = np.array([row["dimension"] for row in simplicial], dtype=float)
        first = simplicial[0]["interior_excess_risk"] if simplicial else None
        if first is not None and np.isfinite(first) and first > 0:
            guide = first * np.sqrt(dimensions[0] / dimensions)
            axes[0].plot(dimensions, guide, "k--", lw=0.8, label="~ 1/sqrt(d)")
            axes[0].legend(fontsize="small")
        for axis in axes:
            axis.set_xticks(dimensions)
            axis.xaxis.set_major_formatter(ScalarFormatter())
            axis.xaxis.set_minor_formatter(NullFormatter())
        return axes


def _validate(dimensions, n_train, n_test, noise, margin):
    dimensions = sorted({int(d) for d in np.atleast_1d(dimensions)})
    if not dimensions or min(dimensions) < 1:
        raise ValueError(f"dimensions must be integers >= 1, got {dimensions!r}.")
    for name, value, low in (("n_train", n_train, 2), ("n_test", n_test, 1)):
        if not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if not isinstance(noise, Real) or not 0 <= noise < 0.5:
        raise ValueError(
            f"noise must be in [0, 0.5) (the clean label is the majority), got {noise!r}."
        )
    if not isinstance(margin, Real) or not 0 <= margin < 0.5:
        raise ValueError(f"margin must be in [0, 0.5), got {margin!r}.")
    return dimensions


def blessing_of_dimensionality(
    *,
    dimensions=FULL["dimensions"],
    n_train=FULL["n_train"],
    n_test=FULL["n_test"],
    noise=0.2,
    margin=0.15,
    quick=False,
    random_state=0,
    verbose=False,
):
    """Excess risk of simplicial interpolation and 1-NN on label-noisy data, against ``d``.

    Parameters
    ----------
    dimensions : sequence of int, default=(2, 3, 4, 5, 6, 7, 8, 10, 12)
        The input dimensions ``d``.
    n_train : int, default=5000
        Training points per dimension.
    n_test : int, default=10000
        Test points per dimension.
    noise : float in [0, 0.5), default=0.2
        Probability that a training label is flipped.
    margin : float in [0, 0.5), default=0.15
        Interior test points are at least this far from the class boundary ``x_1 = 1/2``.
    quick : bool, default=False
        Use ``dimensions=(2, 3, 4, 6, 8)``, ``n_train=3000``, ``n_test=6000`` (about 10 s on
        two cores) instead of the size arguments.
    random_state : int, default=0
        Seed of the data and of the label noise.
    verbose : bool, default=False
        Print one progress line per dimension on stderr.

    Returns
    -------
    result : ExperimentResult
        One row per dimension and method (``"simplicial"``, ``"1-NN"`` and the limit
        ``"simplicial, n -> inf"``): ``dimension``, ``method``, ``excess_risk`` (all test
        points), ``interior_excess_risk`` with its binomial ``std_error``, ``n_interior`` and
        ``inside_hull`` (the fraction of test points inside the training points' hull). The
        summary holds the log-log slopes of the interior excess risk in ``d`` (reference: the
        paper's -1/2 for simplicial interpolation, 0 for 1-NN) and the mean 1-NN interior
        excess risk (reference: ``noise``).

    Notes
    -----
    Full settings: 78 s on two cores shared with other jobs (nine dimensions, the lifted
    linear program from ``d = 5`` on); ``quick=True``: about 10 s.

    Examples
    --------
    >>> from skinterp.experiments.blessing_of_dimensionality import blessing_of_dimensionality
    >>> result = blessing_of_dimensionality(dimensions=[2, 3], n_train=300, n_test=300)
    >>> [row["method"] for row in result.rows[:3]]
    ['simplicial', '1-NN', 'simplicial, n -> inf']
    """
    start_time = time.perf_counter()
    if quick:
        dimensions, n_train, n_test = QUICK["dimensions"], QUICK["n_train"], QUICK["n_test"]
    dimensions = _validate(dimensions, n_train, n_test, noise, margin)
    rng = check_random_state(random_state)
    result = BlessingResult(
        "blessing_of_dimensionality",
        params={
            "dimensions": dimensions,
            "n_train": int(n_train),
            "n_test": int(n_test),
            "noise": float(noise),
            "margin": float(margin),
            "clean classifier": "1[x_1 > 1/2] on uniform [0, 1]^d",
            "data source": "synthetic",
            "random_state": random_state,
            "quick": quick,
        },
        description="simplicial interpolation's excess risk on noisy labels falls with d; "
        "1-NN's does not (3.5.2)",
        plot_spec={
            "x": "dimension",
            "y": ["interior_excess_risk", "excess_risk"],
            "hue": "method",
            "xscale": "log",
            "yscale": "log",
            "hlines": {f"noise q = {noise:g}": float(noise)},
            "title": f"interpolating {noise:.0%} label noise",
        },
    )
    for dimension in progress(dimensions, "blessing_of_dimensionality", verbose=verbose):
        X_train = rng.uniform(size=(n_train, dimension))
        clean_train = (X_train[:, 0] > 0.5).astype(int)
        flipped = rng.uniform(size=n_train) < noise
        y_train = np.where(flipped, 1 - clean_train, clean_train)
        X_test = rng.uniform(size=(n_test, dimension))
        clean_test = (X_test[:, 0] > 0.5).astype(int)

        simplicial = SimplicialClassifier().fit(X_train, y_train)
        inside = ~simplicial.is_outside(X_test)
        interior = inside & (np.abs(X_test[:, 0] - 0.5) >= margin)
        n_interior = int(interior.sum())
        predictions = {
            SIMPLICIAL: simplicial.predict(X_test),
            NEAREST: KNeighborsClassifier(n_neighbors=1).fit(X_train, y_train).predict(X_test),
        }
        for method, predicted in predictions.items():
            wrong = predicted != clean_test
            risk = float(wrong[interior].mean()) if n_interior else float("nan")
            result.rows.append(
                {
                    "dimension": dimension,
                    "method": method,
                    "excess_risk": float(wrong.mean()),
                    "interior_excess_risk": risk,
                    "std_error": float(np.sqrt(risk * (1 - risk) / max(n_interior, 1))),
                    "n_interior": n_interior,
                    "inside_hull": float(inside.mean()),
                }
            )
        result.rows.append(
            {
                "dimension": dimension,
                "method": LIMIT,
                "excess_risk": None,
                "interior_excess_risk": simplicial_noise_limit(dimension, noise),
                "std_error": 0.0,
                "n_interior": None,
                "inside_hull": None,
            }
        )

    def column(method, key="interior_excess_risk"):
        return [row[key] for row in result.rows if row["method"] == method]

    result.summary = {
        "simplicial interior excess risk: slope in log d": log_log_slope(
            dimensions, column(SIMPLICIAL)
        ),
        "1-NN interior excess risk: slope in log d": log_log_slope(dimensions, column(NEAREST)),
        "1-NN interior excess risk (mean over d)": float(np.nanmean(column(NEAREST))),
        f"simplicial interior excess risk at d={dimensions[-1]}": column(SIMPLICIAL)[-1],
        "simplicial limit n -> inf: slope in log d": log_log_slope(dimensions, column(LIMIT)),
    }
    result.reference = {
        "simplicial interior excess risk: slope in log d": -0.5,
        "1-NN interior excess risk: slope in log d": 0.0,
        "1-NN interior excess risk (mean over d)": float(noise),
        f"simplicial interior excess risk at d={dimensions[-1]}": column(LIMIT)[-1],
        "simplicial limit n -> inf: slope in log d": -0.5,
    }
    result.elapsed = time.perf_counter() - start_time
    return result
