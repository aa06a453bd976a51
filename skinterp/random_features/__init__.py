"""Random features and minimum-norm least squares on them: the double descent of Belkin (2021).

* :class:`RandomFourierFeatures`, :class:`RandomReLUFeatures`: transformers with nested,
  regenerable feature sets.
* :class:`MinNormRFFRegressor`, :class:`MinNormRFFClassifier`: least squares below the
  interpolation threshold ``N = n``, the minimum-norm interpolant above it, computed block by
  block through the smaller Gram matrix.
* :func:`fit_min_norm`, :func:`limit_kernel`: the functional core, for the experiments.
* :class:`InterpolationThresholdWarning`: fit with ``n_components`` near the number of samples.

Defaults (issue 14): ``bandwidth="auto"`` (the package's data-aware rule) and, for the
estimators, ``cutoff=1e-3``; the experiments reproduce the paper with ``cutoff=1e-7``
(``DEFAULT_CUTOFF``).
"""

from skinterp.random_features._features import (
    RandomFourierFeatures,
    RandomReLUFeatures,
    draw_weights,
    limit_kernel,
)
from skinterp.random_features._min_norm import (
    InterpolationThresholdWarning,
    MinNormRFFClassifier,
    MinNormRFFRegressor,
    fit_min_norm,
)

__all__ = [
    "InterpolationThresholdWarning",
    "MinNormRFFClassifier",
    "MinNormRFFRegressor",
    "RandomFourierFeatures",
    "RandomReLUFeatures",
    "draw_weights",
    "fit_min_norm",
    "limit_kernel",
]
