r"""A corrupted vertex spoils a volume :math:`2^{-d}` of its simplex (Belkin, 2021, 3.5.2, Fig. 3).

Label the ``d + 1`` vertices of a ``d``-simplex with the clean class 1, except one corrupted
vertex labelled 0. The simplicial (linear) interpolant of the one-hot labels predicts class 0
exactly where the corrupted vertex's barycentric coordinate exceeds 1/2: a small simplex at that
vertex, scaled by 1/2, of volume :math:`2^{-d}` of the whole. Label noise is *localised* near
the noisy point, and the more so the higher the dimension; with ``k`` corrupted vertices the
spoiled fraction is :math:`P(\mathrm{Beta}(k, d + 1 - k) > 1/2)` (the sum of ``k`` of the
``d + 1`` coordinates of a uniform point, Dirichlet(1, ..., 1), is Beta distributed).

:func:`simplex_localisation` measures the fraction by Monte Carlo: it fits
:class:`~skinterp.SimplicialClassifier` to the vertices of a random (Gaussian) simplex, predicts
at points drawn uniformly in it (barycentric coordinates ``Dirichlet(1, ..., 1)``) and counts the
points predicted 0. Two estimators, each with its standard error:

* ``"plain"``: the fraction of ``n_points`` uniform points, standard error
  :math:`\sqrt{p (1 - p) / N}` at the expected :math:`p` (so it is defined when no point hits);
  at :math:`d = 20` this would need :math:`\sim 10^8` points to see the region at all;
* ``"importance"``: half the points drawn uniformly and half with the corrupted coordinates
  from ``Dirichlet(a, ..., a, 1, ..., 1)``, ``a = d / k`` (their mean sum is about 1/2, so many
  land near the region), each weighted by the density ratio of the uniform law to this
  defensive mixture (at most 2). The weighted mean is unbiased whatever the region is, and its
  standard error is the weights' sample one (finite variance, since the weights are bounded).

The interpolant, not the formula, decides every point; the column ``mismatch`` counts the points
where its prediction differs from the rule "corrupted coordinates sum > 1/2" (zero up to points
within rounding of the facet). Cost: one fit on ``d + 1`` points and ``2 n_points`` predictions
per dimension, about 40 microseconds each at ``d = 20`` (the lifted linear program).
"""

import time
from numbers import Integral

import numpy as np
from scipy.special import betainc, gammaln
from sklearn.utils import check_random_state

from skinterp._progress import progress
from skinterp.experiments._result import ExperimentResult
from skinterp.simplicial import SimplicialClassifier

#: The full settings: every dimension of the issue, 200,000 points per estimator and dimension.
FULL = {"dimensions": tuple(range(1, 21)), "n_points": 200_000}
#: ``quick=True``: eight dimensions, 20,000 points (a few seconds).
QUICK = {"dimensions": (1, 2, 3, 5, 8, 12, 16, 20), "n_points": 20_000}


def spoiled_fraction(dimension, n_corrupted=1):
    r"""The fraction of a ``dimension``-simplex where ``n_corrupted`` vertex labels win.

    :math:`P(\mathrm{Beta}(k, d + 1 - k) > 1/2)`; :math:`2^{-d}` for one corrupted vertex.

    Examples
    --------
    >>> from skinterp.experiments.simplex_localisation import spoiled_fraction
    >>> spoiled_fraction(3), spoiled_fraction(20) == 2.0**-20
    (0.125, True)
    """
    if n_corrupted >= dimension + 1:
        return 1.0
    return float(1.0 - betainc(n_corrupted, dimension + 1 - n_corrupted, 0.5))


class SimplexLocalisationResult(ExperimentResult):
    """The result of :func:`simplex_localisation`; its plot adds the curve :math:`2^{-d}`."""

    def plot(self, ax=None):
        """Measured fractions with two standard errors against ``d``, and the z-scores."""
        axes = super().plot(ax)
        dimensions = sorted({row["dimension"] for row in self.rows})
        expected = [
            next(r["expected"] for r in self.rows if r["dimension"] == d) for d in dimensions
        ]
        axes[0].plot(dimensions, expected, "k:", lw=1, label="expected fraction")
        for index, estimator in enumerate(dict.fromkeys(row["estimator"] for row in self.rows)):
            rows = [r for r in self.rows if r["estimator"] == estimator and r["measured"] > 0]
            axes[0].errorbar(
                [r["dimension"] for r in rows],
                [r["measured"] for r in rows],
                yerr=[2 * r["std_error"] for r in rows],
                fmt="none",
                ecolor=f"C{index}",
                alpha=0.6,
            )
        axes[0].legend(fontsize="small")
        for value in (-2, 2):
            axes[1].axhline(value, color="0.6", lw=0.8, ls="--")
        return axes


def _check_dimensions(dimensions):
    dimensions = sorted({int(d) for d in np.atleast_1d(dimensions)})
    if not dimensions or min(dimensions) < 1:
        raise ValueError(f"dimensions must be integers >= 1, got {dimensions!r}.")
    return dimensions


def _measure(model, vertices, alpha, n_corrupted, n_points, rng):
    """Weighted fraction of points predicted 0, its standard error and the rule mismatches.

    With ``alpha`` not all ones, points come from the defensive mixture ``(uniform +
    Dirichlet(alpha)) / 2``: the weight ``p / ((p + q) / 2)`` of a point is then at most 2,
    so the weighted mean has a finite variance and its sample standard error can be trusted.
    (``Dirichlet(alpha)`` alone gives weights ``~ prod x_i^(1 - a)`` that are unbounded where a
    corrupted coordinate is near 0 while the corrupted sum exceeds 1/2, with several corrupted
    vertices; the standard error then understates the error.)
    """
    dimension = vertices.shape[1]
    uniform = np.ones_like(alpha)
    if np.array_equal(alpha, uniform):
        barycentric = rng.dirichlet(uniform, size=n_points)
        weights = np.ones(n_points)
    else:
        from_tilted = rng.uniform(size=n_points) < 0.5
        barycentric = rng.dirichlet(uniform, size=n_points)
        barycentric[from_tilted] = rng.dirichlet(alpha, size=int(from_tilted.sum()))
        # log(q / p): Dirichlet(alpha) over Dirichlet(1, ..., 1); the normalising constants and
        # the corrupted coordinates' powers (the others have exponent 0 in both).
        log_q_over_p = gammaln(alpha.sum()) - gammaln(alpha).sum() - gammaln(dimension + 1)
        log_q_over_p = log_q_over_p + np.log(barycentric[:, :n_corrupted]) @ (
            alpha[:n_corrupted] - 1
        )
        weights = 2.0 / (1.0 + np.exp(log_q_over_p))
    predicted_corrupt = model.predict(barycentric @ vertices) == 0
    corrupted_sum = barycentric[:, :n_corrupted].sum(axis=1)
    mismatch = int(np.sum(predicted_corrupt != (corrupted_sum > 0.5)))
    values = weights * predicted_corrupt
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(n_points)), mismatch


def simplex_localisation(
    *,
    dimensions=FULL["dimensions"],
    n_points=FULL["n_points"],
    n_corrupted=1,
    quick=False,
    random_state=0,
    verbose=False,
):
    """Measure the fraction of a simplex where a corrupted vertex's label wins, against 2^-d.

    Parameters
    ----------
    dimensions : sequence of int, default=range(1, 21)
        The simplex dimensions ``d``.
    n_points : int, default=200_000
        Monte Carlo points per dimension and estimator.
    n_corrupted : int, default=1
        How many vertices carry the wrong label (the paper: one).
    quick : bool, default=False
        Use ``dimensions=(1, 2, 3, 5, 8, 12, 16, 20)`` and ``n_points=20_000`` (about 5 s on two
        cores) instead of the size arguments.
    random_state : int, default=0
        Seed of the simplices and of the Monte Carlo points.
    verbose : bool, default=False
        Print one progress line per dimension on stderr.

    Returns
    -------
    result : ExperimentResult
        One row per dimension and estimator (``"plain"``, ``"importance"``): ``dimension``,
        ``estimator``, ``measured`` fraction, ``std_error``, ``expected`` (``2^-d`` for one
        corrupted vertex), ``ratio`` (measured / expected), ``z_score`` ((measured - expected)
        / std_error) and ``mismatch`` (points where the prediction differs from the barycentric
        rule). The summary holds the largest ``|z|`` of each estimator and the ratio at the
        largest dimension; the reference holds ``2^-d`` (ratio 1).

    Notes
    -----
    Full settings (d = 1..20, 200,000 points): 284 s on two cores shared with other jobs (the
    lifted linear program from d = 6 on); ``quick=True``: about 5 s.

    Examples
    --------
    >>> from skinterp.experiments.simplex_localisation import simplex_localisation
    >>> result = simplex_localisation(dimensions=[2, 6], n_points=2000)
    >>> [(row["dimension"], row["estimator"], row["expected"]) for row in result.rows][:2]
    [(2, 'plain', 0.25), (2, 'importance', 0.25)]
    >>> all(abs(row["z_score"]) < 5 for row in result.rows)
    True
    """
    start_time = time.perf_counter()
    if quick:
        dimensions, n_points = QUICK["dimensions"], QUICK["n_points"]
    dimensions = _check_dimensions(dimensions)
    if not isinstance(n_points, Integral) or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2, got {n_points!r}.")
    if not isinstance(n_corrupted, Integral) or not 1 <= n_corrupted <= min(dimensions):
        raise ValueError(
            f"n_corrupted must be an integer in [1, min(dimensions)] = [1, {min(dimensions)}] "
            f"(at least one clean vertex), got {n_corrupted!r}."
        )
    rng = check_random_state(random_state)
    generator = np.random.default_rng(rng.randint(2**31))
    result = SimplexLocalisationResult(
        "simplex_localisation",
        params={
            "dimensions": dimensions,
            "n_points": int(n_points),
            "n_corrupted": int(n_corrupted),
            "simplex": "Gaussian random vertices",
            "data source": "synthetic",
            "random_state": random_state,
            "quick": quick,
        },
        description="the volume where a corrupted vertex's label wins, measured vs 2^-d "
        "(3.5.2, Fig. 3)",
        plot_spec={
            "x": "dimension",
            "y": ["measured", "z_score"],
            "hue": "estimator",
            "yscale": ["log", "linear"],
            "title": f"{n_corrupted} corrupted vertex of a d-simplex",
        },
    )
    for dimension in progress(dimensions, "simplex_localisation", verbose=verbose):
        vertices = generator.standard_normal((dimension + 1, dimension))
        labels = np.ones(dimension + 1, dtype=int)
        labels[:n_corrupted] = 0
        model = SimplicialClassifier().fit(vertices, labels)
        expected = spoiled_fraction(dimension, n_corrupted)
        uniform = np.ones(dimension + 1)
        tilted = uniform.copy()
        tilted[:n_corrupted] = max(1.0, dimension / n_corrupted)
        for estimator, alpha in (("plain", uniform), ("importance", tilted)):
            measured, std_error, mismatch = _measure(
                model, vertices, alpha, n_corrupted, n_points, generator
            )
            if estimator == "plain":  # the binomial error at the expected fraction
                std_error = float(np.sqrt(expected * (1 - expected) / n_points))
            result.rows.append(
                {
                    "dimension": dimension,
                    "estimator": estimator,
                    "measured": measured,
                    "std_error": std_error,
                    "expected": expected,
                    "ratio": measured / expected,
                    "z_score": (measured - expected) / std_error if std_error > 0 else 0.0,
                    "mismatch": mismatch,
                }
            )
    largest = max(dimensions)
    for estimator in ("plain", "importance"):
        rows = [row for row in result.rows if row["estimator"] == estimator]
        result.summary[f"max |z| ({estimator})"] = max(abs(row["z_score"]) for row in rows)
    importance = next(
        row
        for row in result.rows
        if row["dimension"] == largest and row["estimator"] == "importance"
    )
    key = f"measured/expected at d={largest} (importance)"
    result.summary[key] = importance["ratio"]
    result.reference[key] = 1.0
    key = f"measured fraction at d={largest} (importance)"
    result.summary[key] = importance["measured"]
    result.reference[key] = 2.0**-largest if n_corrupted == 1 else importance["expected"]
    result.elapsed = time.perf_counter() - start_time
    return result
