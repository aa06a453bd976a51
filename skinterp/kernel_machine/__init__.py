"""Kernel machines that interpolate: direct solve for small n, EigenPro 2 iteration at scale."""

from ._direct import direct_fit
from ._eigenpro import EigenProEpoch, eigenpro_fit, nystrom_preconditioner
from ._estimators import KernelInterpolationClassifier, KernelInterpolator

__all__ = [
    "EigenProEpoch",
    "KernelInterpolationClassifier",
    "KernelInterpolator",
    "direct_fit",
    "eigenpro_fit",
    "nystrom_preconditioner",
]
