r"""Raisins in a pudding: interpolated label noise and adversarial examples (Belkin, 2021, 5.2).

An interpolating classifier fitted to noisy labels predicts the wrong (noisy) label at every
mislabelled training point, and so on some neighbourhood of it: the set where it disagrees with
the clean classifier is a union of small "raisins" around the noisy points (Fig. 11). For a
consistent interpolating scheme the raisins shrink faster than they multiply: the *measure* of
the disagreement set tends to 0 as ``n`` grows. Yet the raisins are everywhere, about
:math:`(q n)^{-1/d}` apart, so the *distance* from a typical point to the nearest label flip
also tends to 0: almost every point has an "adversarial example" close by, although the
classifier is almost always right.

:func:`adversarial_raisins` draws ``n`` uniform points of :math:`[0, 1]^d` for every ``n`` of a
grid, labels them by the clean classifier :math:`1[x_1 > 1/2]`, flips each label with probability
``noise`` and fits two interpolating classifiers:

* wiNN, :class:`~skinterp.SingularKernelNNClassifier` with ``k = round(sqrt(n))`` neighbours
  (``k`` must grow for consistency; with a fixed ``k`` the picture is scale invariant and the
  measure does not shrink) and a fixed ``alpha`` below ``d / 2``;
* simplicial interpolation, :class:`~skinterp.SimplicialClassifier`. In a fixed dimension its
  disagreement measure does *not* go to 0: each simplex with a noisy vertex keeps a fixed share
  of wrong labels, the large-``n`` limit of :mod:`.blessing_of_dimensionality` (about 0.08 at
  ``d = 2``, ``q = 0.1``), which falls with ``d`` instead.

Measured for each ``n`` and method:

* ``disagreement``: the fraction of ``n_test`` uniform points where the prediction differs from
  the clean label (a Monte Carlo estimate of the measure, with its binomial ``std_error``);
* ``distance_to_flip``: the mean over ``n_probe`` uniform points of the distance to the nearest
  point predicted differently from the clean label (0 for a point that is itself in the set).
  The search, an upper bound of the true distance: candidates are the mislabelled training
  points (the interpolant predicts their noisy label there) and the disagreeing Monte Carlo
  points; on the segment from the probe to the nearest candidate, the first of
  ``n_segment_steps`` equally spaced points predicted differently gives the distance;
* ``distance_to_noisy_point``: the mean distance to the nearest mislabelled training point, the
  scale :math:`(q n)^{-1/d}` (reference slope :math:`-1/d` in ``n``).

Cost: the predictions at ``n_test + n_probe * n_segment_steps`` points per ``n`` and method.
"""

import time
from numbers import Integral, Real

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

from skinterp._progress import progress
from skinterp.experiments._common import log_log_slope
from skinterp.experiments._result import ExperimentResult
from skinterp.experiments.blessing_of_dimensionality import simplicial_noise_limit
from skinterp.neighbors import SingularKernelNNClassifier
from skinterp.simplicial import SimplicialClassifier

#: The full settings (documented in the function's docstring with their run time).
FULL = {
    "n_samples": (100, 300, 1000, 3000, 10_000, 30_000, 100_000),
    "n_test": 100_000,
    "n_probe": 2000,
}
#: ``quick=True``: six sizes up to 30,000, 40,000 test and 1000 probe points.
QUICK = {"n_samples": (100, 300, 1000, 3000, 10_000, 30_000), "n_test": 40_000, "n_probe": 1000}

WINN, SIMPLICIAL = "wiNN", "simplicial"


def _clean_labels(X):
    return (X[:, 0] > 0.5).astype(int)


def distance_to_flip(model, probes, candidates, n_segment_steps):
    """Upper bounds of the distance from each probe to the set where ``model`` is wrong.

    Parameters
    ----------
    model : fitted classifier
        Predicts 0/1 labels; "wrong" means different from the clean label ``1[x_1 > 1/2]``.
    probes : ndarray of shape (n_probes, d)
        The points whose distance is wanted.
    candidates : ndarray of shape (n_candidates, d)
        Points known to be in the wrong set (at least one).
    n_segment_steps : int
        Points tried on the segment from each probe to its nearest candidate.

    Returns
    -------
    distances : ndarray of shape (n_probes,)
        0 where the probe itself is wrong; else the distance to the first wrong point found on
        that segment (at most the distance to the nearest candidate).

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp.experiments.adversarial_raisins import distance_to_flip
    >>> class Clean:  # never wrong except right of x_1 = 0.9, where it predicts 0
    ...     def predict(self, X):
    ...         return ((X[:, 0] > 0.5) & (X[:, 0] <= 0.9)).astype(int)
    >>> probes = np.array([[0.6, 0.5], [0.95, 0.5]])
    >>> distance_to_flip(Clean(), probes, np.array([[1.0, 0.5]]), 40).round(3).tolist()
    [0.31, 0.0]
    """
    wrong_here = model.predict(probes) != _clean_labels(probes)
    nearest = NearestNeighbors(n_neighbors=1).fit(candidates)
    bound, index = nearest.kneighbors(probes)
    bound, index = bound[:, 0], index[:, 0]
    steps = np.arange(1, n_segment_steps + 1) / n_segment_steps
    # Points probe + t (candidate - probe), t = 1/m .. 1, all probes at once (row-major).
    segments = probes[:, None, :] + steps[None, :, None] * (candidates[index] - probes)[:, None]
    segments = segments.reshape(-1, probes.shape[1])
    wrong = (model.predict(segments) != _clean_labels(segments)).reshape(len(probes), -1)
    # t = 1 is the candidate itself, so every row has a wrong point unless rounding moved it.
    first = np.where(wrong.any(axis=1), np.argmax(wrong, axis=1), n_segment_steps - 1)
    distances = steps[first] * bound
    distances[wrong_here] = 0.0
    return distances


def _validate(n_samples, dimension, noise, alpha, n_test, n_probe, n_segment_steps):
    n_samples = sorted({int(n) for n in np.atleast_1d(n_samples)})
    if not n_samples or min(n_samples) < max(10, dimension + 2):
        raise ValueError(
            f"n_samples must be integers >= max(10, dimension + 2), got {n_samples!r}."
        )
    for name, value, low in (
        ("dimension", dimension, 1),
        ("n_test", n_test, 1),
        ("n_probe", n_probe, 1),
        ("n_segment_steps", n_segment_steps, 1),
    ):
        if not isinstance(value, Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if not isinstance(noise, Real) or not 0 < noise < 0.5:
        raise ValueError(f"noise must be in (0, 0.5) (some labels flipped), got {noise!r}.")
    if alpha is not None and (not isinstance(alpha, Real) or not 0 < alpha < dimension / 2):
        raise ValueError(
            f"alpha must be in (0, dimension / 2) = (0, {dimension / 2:g}) for a consistent "
            f"wiNN, got {alpha!r}."
        )
    return n_samples


def adversarial_raisins(
    *,
    n_samples=FULL["n_samples"],
    dimension=2,
    noise=0.1,
    alpha=None,
    n_test=FULL["n_test"],
    n_probe=FULL["n_probe"],
    n_segment_steps=32,
    quick=False,
    random_state=0,
    verbose=False,
):
    """Measure of the disagreement set and distance to it, for wiNN and simplicial, against n.

    Parameters
    ----------
    n_samples : sequence of int, default=(100, 300, 1000, 3000, 10000, 30000, 100000)
        Training set sizes ``n``.
    dimension : int, default=2
        The input dimension ``d`` (points uniform in ``[0, 1]^d``).
    noise : float in (0, 0.5), default=0.1
        Probability that a training label is flipped.
    alpha : float or None, default=None
        wiNN's exponent, in ``(0, d / 2)``; None means ``0.4 d``.
    n_test : int, default=100000
        Monte Carlo points for the measure of the disagreement set.
    n_probe : int, default=2000
        Points whose distance to the disagreement set is averaged.
    n_segment_steps : int, default=32
        Resolution of the search along each segment (see the module docstring).
    quick : bool, default=False
        Use ``n_samples=(100, 300, 1000, 3000, 10000, 30000)``, ``n_test=40000``,
        ``n_probe=1000`` (about 10 s on two cores) instead of the size arguments.
    random_state : int, default=0
        Seed of the data, the noise and the Monte Carlo points.
    verbose : bool, default=False
        Print one progress line per ``n`` on stderr.

    Returns
    -------
    result : ExperimentResult
        One row per ``n`` and method (``"wiNN"``, ``"simplicial"``): ``n``, ``method``,
        ``n_neighbors`` (wiNN's ``k``, None for simplicial), ``disagreement`` and its
        ``std_error``, ``distance_to_flip``, ``distance_to_noisy_point`` and
        ``train_error_on_noisy_labels`` (0: both interpolate). The summary holds the log-log
        slopes in ``n`` of each measure and distance, and simplicial's measure at the largest
        ``n``; the reference holds what theory predicts for them (the paper's Fig. 11 is a
        picture): slope ``-1/d`` for the distances, simplicial's measure at its large-``n``
        limit.

    Notes
    -----
    Full settings (n up to 100,000): 30 s on two cores shared with other jobs.

    Examples
    --------
    >>> from skinterp.experiments.adversarial_raisins import adversarial_raisins
    >>> result = adversarial_raisins(n_samples=[100, 400], n_test=2000, n_probe=50)
    >>> [(row["n"], row["method"]) for row in result.rows]
    [(100, 'wiNN'), (100, 'simplicial'), (400, 'wiNN'), (400, 'simplicial')]
    >>> all(row["train_error_on_noisy_labels"] == 0 for row in result.rows)
    True
    """
    start_time = time.perf_counter()
    if quick:
        n_samples, n_test, n_probe = QUICK["n_samples"], QUICK["n_test"], QUICK["n_probe"]
    n_samples = _validate(n_samples, dimension, noise, alpha, n_test, n_probe, n_segment_steps)
    alpha = 0.4 * dimension if alpha is None else float(alpha)
    rng = check_random_state(random_state)
    result = ExperimentResult(
        "adversarial_raisins",
        params={
            "n_samples": n_samples,
            "dimension": int(dimension),
            "noise": float(noise),
            "wiNN": f"k = round(sqrt(n)), alpha = {alpha:g}",
            "n_test": int(n_test),
            "n_probe": int(n_probe),
            "n_segment_steps": int(n_segment_steps),
            "clean classifier": f"1[x_1 > 1/2] on uniform [0, 1]^{dimension}",
            "data source": "synthetic",
            "random_state": random_state,
            "quick": quick,
        },
        description="interpolants of noisy labels: the disagreeing set shrinks with n, and so "
        "does the distance to it (5.2, Fig. 11)",
        plot_spec={
            "x": "n",
            "y": ["disagreement", "distance_to_flip"],
            "hue": "method",
            "xscale": "log",
            "yscale": "log",
            "hlines": {
                "simplicial limit": {"disagreement": simplicial_noise_limit(dimension, noise)}
            },
            "title": f"{noise:.0%} label noise, d = {dimension}",
        },
    )
    for n in progress(n_samples, "adversarial_raisins", verbose=verbose):
        X_train = rng.uniform(size=(n, dimension))
        clean_train = _clean_labels(X_train)
        flipped = rng.uniform(size=n) < noise
        if not flipped.any():  # a raisin needs a noisy point; flip one at random
            flipped[rng.randint(n)] = True
        y_train = np.where(flipped, 1 - clean_train, clean_train)
        X_test = rng.uniform(size=(n_test, dimension))
        probes = rng.uniform(size=(n_probe, dimension))
        noisy_points = X_train[flipped]
        to_noisy = NearestNeighbors(n_neighbors=1).fit(noisy_points).kneighbors(probes)[0]
        n_neighbors = int(min(n, max(2, round(np.sqrt(n)))))
        models = {
            WINN: SingularKernelNNClassifier(n_neighbors=n_neighbors, alpha=alpha),
            SIMPLICIAL: SimplicialClassifier(),
        }
        for method, model in models.items():
            model.fit(X_train, y_train)
            wrong = model.predict(X_test) != _clean_labels(X_test)
            measure = float(wrong.mean())
            candidates = np.vstack([noisy_points, X_test[wrong]])
            distances = distance_to_flip(model, probes, candidates, n_segment_steps)
            result.rows.append(
                {
                    "n": n,
                    "method": method,
                    "n_neighbors": n_neighbors if method == WINN else None,
                    "disagreement": measure,
                    "std_error": float(np.sqrt(measure * (1 - measure) / n_test)),
                    "distance_to_flip": float(distances.mean()),
                    "distance_to_noisy_point": float(to_noisy.mean()),
                    "train_error_on_noisy_labels": float(
                        np.mean(model.predict(X_train) != y_train)
                    ),
                }
            )

    def column(method, key):
        return [row[key] for row in result.rows if row["method"] == method]

    for method in (WINN, SIMPLICIAL):
        for key in ("disagreement", "distance_to_flip"):
            name = f"{method} {key}: slope in log n"
            result.summary[name] = log_log_slope(n_samples, column(method, key))
            if key == "distance_to_flip":
                result.reference[name] = -1.0 / dimension
    result.reference[f"{SIMPLICIAL} disagreement: slope in log n"] = 0.0
    key = f"{SIMPLICIAL} disagreement at n={n_samples[-1]}"
    result.summary[key] = column(SIMPLICIAL, "disagreement")[-1]
    result.reference[key] = simplicial_noise_limit(dimension, noise)
    key = f"{WINN} disagreement at n={n_samples[-1]}"
    result.summary[key] = column(WINN, "disagreement")[-1]
    result.elapsed = time.perf_counter() - start_time
    return result
