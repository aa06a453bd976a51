"""Random features and minimum-norm least squares on them: the double descent of Belkin (2021).

* :class:`RandomFourierFeatures`, :class:`RandomReLUFeatures`: transformers with nested,
  regenerable feature sets.
* :class:`MinNormRFFRegressor`, :class:`MinNormRFFClassifier`: least squares below the
  interpolation threshold ``N = n``, the minimum-norm interpolant above it, computed block by
  block through the smaller Gram matrix.
* :func:`fit_min_norm`, :func:`limit_kernel`: the functional core, for the experiments.
"""

from skinterp.random_features._features import (
    RandomFourierFeatures,
    RandomReLUFeatures,
    draw_weights,
    limit_kernel,
)
from skinterp.random_features._min_norm import (
    MinNormRFFClassifier,
    MinNormRFFRegressor,
    fit_min_norm,
)

__all__ = [
    "MinNormRFFClassifier",
    "MinNormRFFRegressor",
    "RandomFourierFeatures",
    "RandomReLUFeatures",
    "draw_weights",
    "fit_min_norm",
    "limit_kernel",
]
