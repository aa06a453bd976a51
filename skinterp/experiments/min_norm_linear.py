"""Benign overfitting of the minimum-norm linear interpolant (Belkin, 2021, Section 3.8).

A Gaussian linear teacher ``y = <x, beta*> + noise``, ``x ~ N(0, Sigma)``, is fitted from ``n``
samples by the minimum-norm least-squares solution ``beta = X^+ y`` (the interpolant as soon as
``d >= n``) and by ridge regression with the best ``lambda`` (an oracle: the one of smallest test
risk). The number of dimensions ``d`` runs over a grid of ``d / n`` from far below ``1`` to far
above it, for two spectra of ``Sigma``:

* **spiked** (benign): a few large eigenvalues that carry the signal, and ``d - k`` small ones
  that share a fixed total variance. Past ``d = n`` the many small directions absorb the noise
  like a ridge penalty of about ``tr(Sigma_tail) / n`` while each of them costs the fit little:
  the interpolant's risk comes back down to that of the best ridge, near the optimum (Bartlett,
  Long, Lugosi and Tsigler, 2020, "Benign overfitting in linear regression").
* **isotropic** (``Sigma = I``): the interpolant's excess risk follows Hastie, Montanari,
  Rosset and Tibshirani (2019): ``sigma^2 gamma / (1 - gamma)`` for ``gamma = d / n < 1`` and
  ``r^2 (1 - 1 / gamma) + sigma^2 / (gamma - 1)`` above, infinite at ``d = n``; beyond the
  threshold it falls but never to the optimum (every direction is as large as the signal's).

Risks are exact, not sampled: for a fitted ``beta`` the excess test risk is
``(beta - beta*)^T Sigma (beta - beta*)`` (the test risk minus the noise variance ``sigma^2``,
the optimum). One eigendecomposition of the smaller Gram matrix per draw gives the interpolant
and the whole ridge path.

Cost: ``n_trials`` Gram matrices and ``min(n, d)``-sized eigendecompositions per grid point and
spectrum, ``O(n^2 d)`` each; at the full
settings (``n = 400``, ``d`` up to ``8000``) 23 s on two idle cores, up to 200 s on two
shared cores (the draws of ``X`` and the Gram products dominate); the quick preset 1-8 s.
"""

import time
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from skinterp._progress import progress
from skinterp.experiments._result import ExperimentResult

SPECTRA = ("spiked", "isotropic")

MIN_NORM = "min-norm interpolant"
RIDGE = "ridge, best lambda"
THEORY = "theory (Hastie et al.)"

#: Ridge penalties searched for the oracle (per sample: ``||y - X b||^2 / n + lambda ||b||^2``).
RIDGE_PENALTIES = np.geomspace(1e-6, 1e2, 57)


def teacher_spectrum(spectrum, n_dimensions, *, n_spikes=5, tail_variance=10.0):
    """The eigenvalues of ``Sigma`` (diagonal) and the teacher ``beta*`` (unit signal variance).

    Parameters
    ----------
    spectrum : {"spiked", "isotropic"}
        ``"spiked"``: ``n_spikes`` eigenvalues ``1`` that carry ``beta*`` (equal weights), then
        ``n_dimensions - n_spikes`` eigenvalues ``tail_variance / (n_dimensions - n_spikes)``.
        ``"isotropic"``: all eigenvalues ``1``, ``beta*`` along the diagonal direction.
    n_dimensions : int
        ``d``; at least ``n_spikes`` for a spiked spectrum.
    n_spikes : int, default=5
        Number of large eigenvalues.
    tail_variance : float, default=10.0
        Total variance of the small eigenvalues, the same whatever ``d``.

    Returns
    -------
    eigenvalues : ndarray of shape (d,)
    beta : ndarray of shape (d,)
        With ``beta^T Sigma beta = 1`` (and ``||beta|| = 1``).

    Examples
    --------
    >>> from skinterp.experiments.min_norm_linear import teacher_spectrum
    >>> eigenvalues, beta = teacher_spectrum("spiked", 10, n_spikes=2, tail_variance=4.0)
    >>> eigenvalues.tolist()
    [1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    >>> round(float(beta @ (eigenvalues * beta)), 12)
    1.0
    """
    if spectrum not in SPECTRA:
        raise ValueError(f"spectrum must be one of {SPECTRA}, got {spectrum!r}.")
    if spectrum == "isotropic":
        return np.ones(n_dimensions), np.full(n_dimensions, 1.0 / np.sqrt(n_dimensions))
    if n_dimensions < n_spikes:
        raise ValueError(
            f"A spiked spectrum needs d >= n_spikes = {n_spikes}, got {n_dimensions}."
        )
    eigenvalues = np.ones(n_dimensions)
    if n_dimensions > n_spikes:
        eigenvalues[n_spikes:] = tail_variance / (n_dimensions - n_spikes)
    beta = np.zeros(n_dimensions)
    beta[:n_spikes] = 1.0 / np.sqrt(n_spikes)
    return eigenvalues, beta


def sample_teacher(eigenvalues, beta, n_samples, noise, rng):
    """``n_samples`` draws ``x ~ N(0, diag(eigenvalues))``, ``y = <x, beta> + N(0, noise^2)``."""
    X = rng.standard_normal((n_samples, eigenvalues.shape[0])) * np.sqrt(eigenvalues)
    y = X @ beta + noise * rng.standard_normal(n_samples)
    return X, y


def isotropic_theory(ratio, noise, signal=1.0):
    """Asymptotic excess risk of the min-norm interpolant for ``Sigma = I`` (Hastie et al., 2019).

    ``noise^2 gamma / (1 - gamma)`` for ``gamma = d / n < 1``, ``signal^2 (1 - 1 / gamma) +
    noise^2 / (gamma - 1)`` for ``gamma > 1``, infinite at ``gamma = 1``.

    Examples
    --------
    >>> from skinterp.experiments.min_norm_linear import isotropic_theory
    >>> isotropic_theory(2.0, noise=0.5)
    0.75
    """
    if ratio < 1:
        return noise**2 * ratio / (1 - ratio)
    if ratio == 1:
        return float("inf")
    return signal**2 * (1 - 1 / ratio) + noise**2 / (ratio - 1)


def excess_risks(X, y, eigenvalues, beta, penalties=RIDGE_PENALTIES, rcond=None):
    """Exact excess risks of the min-norm least-squares solution and of ridge for each penalty.

    One eigendecomposition of the smaller Gram matrix gives both. With ``X X^T = U S^2 U^T``
    (``d >= n``) ridge of penalty ``lambda`` is ``X^T U diag(1 / (s^2 + n lambda)) U^T y`` and
    the min-norm solution is its limit ``lambda -> 0`` (squared singular values below
    ``rcond * s_max^2`` dropped, as a pseudo-inverse does); with ``X^T X = V S^2 V^T``
    (``d < n``) they are ``V diag(1 / (s^2 + n lambda)) V^T X^T y``. The Gram matrix is one
    BLAS product, several times faster than the SVD of a wide ``X``.

    Returns
    -------
    min_norm_risk : float
    ridge_risks : ndarray of shape (len(penalties),)
    train_residual : float
        ``||X beta - y|| / ||y||`` of the min-norm solution (zero when it interpolates).
    """
    n_samples, n_dimensions = X.shape
    dual = n_dimensions >= n_samples
    squared, basis = np.linalg.eigh(X @ X.T if dual else X.T @ X)
    if rcond is None:
        rcond = np.finfo(np.float64).eps * max(X.shape)
    kept = squared > rcond * squared[-1]
    inverse = np.zeros_like(squared)
    inverse[kept] = 1.0 / squared[kept]
    # The min-norm column first, then one column per penalty.
    shrinkage = np.column_stack(
        [inverse, 1.0 / (squared[:, None] + n_samples * np.asarray(penalties)[None, :])]
    )
    if dual:
        betas = X.T @ (basis @ (shrinkage * (basis.T @ y)[:, None]))
    else:
        betas = basis @ (shrinkage * (basis.T @ (X.T @ y))[:, None])
    errors = betas - beta[:, None]
    risks = np.einsum("ij,i,ij->j", errors, eigenvalues, errors)
    residual = np.linalg.norm(X @ betas[:, 0] - y) / np.linalg.norm(y)
    return float(risks[0]), risks[1:], float(residual)


def default_ratios(n_points=25, low=0.1, high=20.0):
    """A geometric grid of ``d / n`` from ``low`` to ``high`` with ``1`` (and ``0.9``, ``1.1``)."""
    ratios = np.geomspace(low, high, n_points - 3)
    return np.unique(np.round(np.concatenate([ratios, [0.9, 1.0, 1.1]]), 6))


def _check_positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")


def min_norm_linear(
    *,
    n_samples=400,
    ratios=None,
    n_trials=20,
    noise=0.5,
    n_spikes=5,
    tail_variance=10.0,
    quick=False,
    random_state=0,
    verbose=False,
):
    """Excess risk of the min-norm linear interpolant vs the best ridge, as ``d / n`` varies.

    Parameters
    ----------
    n_samples : int, default=400
        Training samples ``n``.
    ratios : sequence of float or None, default=None
        The grid of ``d / n``; :func:`default_ratios` (25 points from 0.1 to 20, with 0.9, 1
        and 1.1) when None.
    n_trials : int, default=20
        Draws of the training set per grid point; risks are averaged over them.
    noise : float, default=0.5
        Standard deviation ``sigma`` of the label noise (the optimal excess risk is 0, the
        optimal test risk ``sigma^2``).
    n_spikes : int, default=5
        Large eigenvalues of the spiked spectrum (see :func:`teacher_spectrum`).
    tail_variance : float, default=10.0
        Total variance of the spiked spectrum's small eigenvalues.
    quick : bool, default=False
        Small preset: ``n_samples=100``, 15 ratios from 0.1 to 20, ``n_trials=10`` (about
        1-8 s, depending on the load). The full settings take 23 s (idle) to 200 s (shared).
    random_state : int, RandomState instance or None, default=0
        Seed of the draws.
    verbose : bool, default=False
        Progress on stderr, one line per grid point.

    Returns
    -------
    result : ExperimentResult
        One row per ``d`` and method (``"min-norm interpolant"``, ``"ridge, best lambda"``,
        ``"theory (Hastie et al.)"``): ``d``, ``d/n``, ``method``, ``spiked excess risk``,
        ``isotropic excess risk`` (None where a method has no value), ``spiked lambda``,
        ``isotropic lambda`` (ridge's best penalties) and ``interpolates``.

    Examples
    --------
    >>> from skinterp.experiments.min_norm_linear import min_norm_linear
    >>> result = min_norm_linear(n_samples=40, ratios=[0.5, 1.0, 10.0], n_trials=4)
    >>> risk = {(row["d/n"], row["method"]): row for row in result.rows}
    >>> at_threshold = risk[1.0, "min-norm interpolant"]["isotropic excess risk"]
    >>> bool(at_threshold > 10 * risk[10.0, "min-norm interpolant"]["isotropic excess risk"])
    True
    """
    start_time = time.perf_counter()
    if quick:
        n_samples, ratios, n_trials = 100, default_ratios(15), 10
    _check_positive_int("n_samples", n_samples, 2)
    _check_positive_int("n_trials", n_trials)
    _check_positive_int("n_spikes", n_spikes)
    if not isinstance(noise, Real) or not noise >= 0:
        raise ValueError(f"noise must be a number >= 0, got {noise!r}.")
    if not isinstance(tail_variance, Real) or not tail_variance > 0:
        raise ValueError(f"tail_variance must be a number > 0, got {tail_variance!r}.")
    ratios = default_ratios() if ratios is None else np.unique(np.asarray(ratios, dtype=float))
    if ratios.size == 0 or not np.all(np.isfinite(ratios)) or ratios[0] <= 0:
        raise ValueError("ratios must be a non-empty sequence of positive numbers.")
    dimensions = np.unique(np.maximum(np.round(ratios * n_samples).astype(int), n_spikes + 1))
    rng = check_random_state(random_state)

    rows = []
    for n_dimensions in progress(dimensions, "min_norm_linear: d", verbose=verbose):
        ratio = n_dimensions / n_samples
        measured = {}
        for spectrum in SPECTRA:
            eigenvalues, beta = teacher_spectrum(
                spectrum, int(n_dimensions), n_spikes=n_spikes, tail_variance=tail_variance
            )
            min_norm, ridge, residuals = [], [], []
            for _ in range(n_trials):
                X, y = sample_teacher(eigenvalues, beta, n_samples, noise, rng)
                risk, ridge_risks, residual = excess_risks(X, y, eigenvalues, beta)
                min_norm.append(risk)
                ridge.append(ridge_risks)
                residuals.append(residual)
            ridge = np.mean(ridge, axis=0)
            best = int(np.argmin(ridge))
            measured[spectrum] = {
                "min_norm": float(np.mean(min_norm)),
                "ridge": float(ridge[best]),
                "lambda": float(RIDGE_PENALTIES[best]),
                "interpolates": bool(max(residuals) < 1e-8),
            }
        common = {"d": int(n_dimensions), "d/n": float(round(ratio, 6))}
        rows.append(
            {
                **common,
                "method": MIN_NORM,
                "spiked excess risk": measured["spiked"]["min_norm"],
                "isotropic excess risk": measured["isotropic"]["min_norm"],
                "spiked lambda": 0.0,
                "isotropic lambda": 0.0,
                "interpolates": measured["isotropic"]["interpolates"],
            }
        )
        rows.append(
            {
                **common,
                "method": RIDGE,
                "spiked excess risk": measured["spiked"]["ridge"],
                "isotropic excess risk": measured["isotropic"]["ridge"],
                "spiked lambda": measured["spiked"]["lambda"],
                "isotropic lambda": measured["isotropic"]["lambda"],
                "interpolates": False,
            }
        )
        theory = isotropic_theory(ratio, noise)
        rows.append(
            {
                **common,
                "method": THEORY,
                "spiked excess risk": None,
                "isotropic excess risk": theory if np.isfinite(theory) else None,
                "spiked lambda": None,
                "isotropic lambda": None,
                "interpolates": ratio >= 1,
            }
        )

    def value(method, column, where):
        chosen = [row for row in rows if row["method"] == method]
        return min(chosen, key=lambda row: abs(np.log(row["d/n"] / where)))[column]

    largest = float(dimensions[-1] / n_samples)
    summary = {
        "spiked: min-norm / best ridge risk at largest d/n": value(
            MIN_NORM, "spiked excess risk", largest
        )
        / value(RIDGE, "spiked excess risk", largest),
        "spiked: min-norm excess risk at largest d/n": value(
            MIN_NORM, "spiked excess risk", largest
        ),
        "spiked: min-norm excess risk at d = n": value(MIN_NORM, "spiked excess risk", 1.0),
        "isotropic: min-norm excess risk at d = n": value(MIN_NORM, "isotropic excess risk", 1.0),
        "isotropic: min-norm excess risk at largest d/n": value(
            MIN_NORM, "isotropic excess risk", largest
        ),
        "isotropic: best ridge excess risk at d = n": value(RIDGE, "isotropic excess risk", 1.0),
    }
    largest_dimensions = int(dimensions[-1])
    reference = {
        # Bartlett et al. (2020): the variance of the benign interpolant is of the order of
        # sigma^2 (k / n + n / R_k), with R_k = d - k the effective rank of the flat tail.
        "spiked: min-norm excess risk at largest d/n": noise**2
        * (n_spikes / n_samples + n_samples / (largest_dimensions - n_spikes)),
        # Hastie et al. (2019): infinite at d = n, the formula above it.
        "isotropic: min-norm excess risk at d = n": float("inf"),
        "isotropic: min-norm excess risk at largest d/n": isotropic_theory(largest, noise),
    }
    return ExperimentResult(
        "min_norm_linear",
        rows=rows,
        summary=summary,
        reference=reference,
        params={
            "n_samples": n_samples,
            "d/n": f"{ratios[0]:g}..{ratios[-1]:g} ({dimensions.size} points)",
            "n_trials": n_trials,
            "noise": noise,
            "n_spikes": n_spikes,
            "tail_variance": tail_variance,
            "quick": quick,
            "random_state": random_state,
            "data source": "synthetic Gaussian linear teacher",
        },
        elapsed=time.perf_counter() - start_time,
        plot_spec={
            "x": "d/n",
            "y": ["spiked excess risk", "isotropic excess risk"],
            "hue": "method",
            "xscale": "log",
            "yscale": "log",
            "hlines": {"zero predictor": 1.0},
            "title": f"linear teacher, n = {n_samples}, noise sd {noise:g}",
        },
        description="benign overfitting of the minimum-norm linear interpolant vs ridge as d/n "
        "varies (3.8)",
    )
