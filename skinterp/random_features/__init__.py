"""Random features and minimum-norm least squares on them: the double descent of Belkin (2021).

* :class:`RandomFourierFeatures`, :class:`RandomReLUFeatures`: transformers with nested,
  regenerable feature sets.
* :class:`MinNormRFFRegressor`, :class:`MinNormRFFClassifier`: least squares below the
  interpolation threshold ``N = n``, the minimum-norm interpolant above it, computed block by
  block through the smaller Gram matrix.
* ``fit_min_norm``, ``limit_kernel``, ``draw_weights``: the functional core, for the
  experiments (internal).
* :class:`InterpolationThresholdWarning`: fit with ``n_components`` near the number of samples.

Defaults (issue 14): ``bandwidth="auto"`` (the package's data-aware rule) and, for the
estimators, ``cutoff=1e-3``; the experiments reproduce the paper with ``cutoff=1e-7``
(``DEFAULT_CUTOFF``).
"""

from skinterp.random_features._features import (  # noqa: F401
    RandomFourierFeatures,
    RandomReLUFeatures,
    draw_weights,
    limit_kernel,
)
from skinterp.random_features._min_norm import (  # noqa: F401
    InterpolationThresholdWarning,
    MinNormRFFClassifier,
    MinNormRFFRegressor,
    fit_min_norm,
)

# Public (doc/api.rst); draw_weights, fit_min_norm and limit_kernel are the functional core
# the experiments use: importable, documented in their docstrings, not promised.
__all__ = [
    "InterpolationThresholdWarning",
    "MinNormRFFClassifier",
    "MinNormRFFRegressor",
    "RandomFourierFeatures",
    "RandomReLUFeatures",
]
