"""skinterp: interpolating learners that fit noisy training data exactly and still generalise.

The estimators follow M. Belkin, "Fit without fear: remarkable mathematical phenomena of deep
learning through the prism of interpolation", Acta Numerica 30 (2021).
"""

from skinterp.kernel_machine import KernelInterpolationClassifier, KernelInterpolator
from skinterp.neighbors import SingularKernelNN, SingularKernelNNClassifier
from skinterp.random_features import (
    MinNormRFFClassifier,
    MinNormRFFRegressor,
    RandomFourierFeatures,
    RandomReLUFeatures,
)
from skinterp.simplicial import SimplicialClassifier, SimplicialInterpolator

__version__ = "0.1.0.dev0"

__all__ = [
    "KernelInterpolator",
    "KernelInterpolationClassifier",
    "SingularKernelNN",
    "SingularKernelNNClassifier",
    "SimplicialInterpolator",
    "SimplicialClassifier",
    "MinNormRFFRegressor",
    "MinNormRFFClassifier",
    "RandomFourierFeatures",
    "RandomReLUFeatures",
]
