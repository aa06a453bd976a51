"""Kernel machines that interpolate: direct solve for small n, EigenPro 2 iteration at scale."""

from ._direct import direct_fit  # noqa: F401  (the solvers' cores: internal, not promised)
from ._eigenpro import EigenProEpoch, eigenpro_fit, nystrom_preconditioner  # noqa: F401
from ._estimators import KernelInterpolationClassifier, KernelInterpolator

# Public (doc/api.rst): the estimators and the state their callback receives.
__all__ = ["EigenProEpoch", "KernelInterpolationClassifier", "KernelInterpolator"]
