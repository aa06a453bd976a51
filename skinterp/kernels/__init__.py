"""Kernel functions and fused tiles for ``K(X, Z)`` and ``K(X, Z) @ A`` in bounded memory.

Built-in radial kernels (Euclidean distance, bandwidth ``h``): the positive definite
``"laplacian"``, ``"gaussian"``, ``"cauchy"`` (alias ``"inverse_quadratic"``),
``"inverse_multiquadric"`` and ``"matern"`` (nu = 1/2, 3/2, 5/2), and scipy's conditionally
positive definite ``"linear"``, ``"thin_plate_spline"``, ``"cubic"``, ``"quintic"`` and
``"multiquadric"`` (which need a polynomial tail, ``MIN_DEGREE``); a user callable
``kernel(X, Z) -> K`` is the slow path. See :mod:`skinterp.kernels._functions` for the formulas.
"""

from ._functions import (  # noqa: F401  (the internal names: for the package's own modules)
    KERNEL_NAMES,
    MATERN_NUS,
    check_bandwidth,
    kernel_code,
    min_degree,
    radial_profile,
)
from ._tiles import KernelSpec, kernel_matrix, kernel_product, squared_norms  # noqa: F401

# Public (documented in doc/api.rst): the kernel names, the resolved kernel and its tiles. The
# other names imported above are the package's internals, importable but not promised.
__all__ = ["KernelSpec", "kernel_matrix", "kernel_product", "min_degree"]
