"""Weighted interpolating nearest neighbours (singular-kernel Nadaraya–Watson)."""

from skinterp.neighbors._intrinsic_dimension import intrinsic_dimension
from skinterp.neighbors._singular_kernel_nn import SingularKernelNN, SingularKernelNNClassifier

__all__ = ["SingularKernelNN", "SingularKernelNNClassifier", "intrinsic_dimension"]
