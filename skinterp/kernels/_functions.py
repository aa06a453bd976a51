"""Radial kernel functions: names, their numba transforms of a squared-distance tile, and checks.

Every built-in kernel is radial, ``k(x, z) = phi(||x - z|| / h)`` with the Euclidean norm and a
bandwidth ``h > 0``, and normalised so that ``k(x, x) = 1``:

=================  =====================================================
``"laplacian"``    ``exp(-r)``  (Matern nu = 1/2)
``"gaussian"``     ``exp(-r**2 / 2)``
``"cauchy"``       ``1 / (1 + r**2)``
``"matern"``       nu = 1/2: ``exp(-r)``;
                   nu = 3/2: ``(1 + sqrt(3) r) exp(-sqrt(3) r)``;
                   nu = 5/2: ``(1 + sqrt(5) r + 5 r**2 / 3) exp(-sqrt(5) r)``
=================  =====================================================

with ``r = ||x - z|| / h``. The transforms below overwrite, in place, a tile that holds cross
products ``x . z`` with the kernel values, using ``||x - z||**2 = ||x||**2 - 2 x.z + ||z||**2``.
Rounding can make that difference slightly negative for (near) duplicates: it is clipped at 0.
"""

import math
from numbers import Real

import numba
import numpy as np

from .._numba import NUMBA_CACHE

KERNEL_NAMES = ("laplacian", "gaussian", "cauchy", "matern")
MATERN_NUS = (0.5, 1.5, 2.5)

# Integer codes of the compiled transforms (one branch per tile, not per entry).
LAPLACIAN, GAUSSIAN, CAUCHY, MATERN32, MATERN52 = 0, 1, 2, 3, 4

SQRT3 = math.sqrt(3.0)
SQRT5 = math.sqrt(5.0)


def kernel_code(kernel, nu=None):
    """The integer code of a built-in kernel, ``None`` for a callable.

    Raises ``ValueError`` for an unknown name or a Matern ``nu`` outside {1/2, 3/2, 5/2}.
    """
    if callable(kernel):
        return None
    if kernel not in KERNEL_NAMES:
        raise ValueError(
            f"kernel must be one of {KERNEL_NAMES} or a callable, got {kernel!r}."
        )
    if kernel == "matern":
        nu = 1.5 if nu is None else nu
        if not isinstance(nu, Real) or float(nu) not in MATERN_NUS:
            raise ValueError(f"nu must be one of {MATERN_NUS} for the matern kernel, got {nu!r}.")
        return {0.5: LAPLACIAN, 1.5: MATERN32, 2.5: MATERN52}[float(nu)]
    return {"laplacian": LAPLACIAN, "gaussian": GAUSSIAN, "cauchy": CAUCHY}[kernel]


def check_bandwidth(bandwidth):
    """Return ``bandwidth`` as a float; ``ValueError`` unless it is finite and positive."""
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, Real):
        raise ValueError(f"bandwidth must be a positive number, got {bandwidth!r}.")
    bandwidth = float(bandwidth)
    if not (math.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive finite number, got {bandwidth!r}.")
    return bandwidth


def radial_profile(code, r):
    """The profile ``phi(r)`` of a built-in kernel, in numpy (the slow, obvious reference)."""
    r = np.asarray(r, dtype=np.float64)
    if code == LAPLACIAN:
        return np.exp(-r)
    if code == GAUSSIAN:
        return np.exp(-0.5 * r * r)
    if code == CAUCHY:
        return 1.0 / (1.0 + r * r)
    if code == MATERN32:
        return (1.0 + SQRT3 * r) * np.exp(-SQRT3 * r)
    if code == MATERN52:
        return (1.0 + SQRT5 * r + (5.0 / 3.0) * r * r) * np.exp(-SQRT5 * r)
    raise ValueError(f"unknown kernel code {code!r}")


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def cross_to_kernel(tile, x_sq, z_sq, code, inv_h2):
    """Overwrite ``tile`` (cross products ``x_i . z_j``) with ``k(x_i, z_j)``, in place.

    ``x_sq``, ``z_sq`` are the squared row norms and ``inv_h2 = 1 / h**2``. Arithmetic is in
    float64 whatever the tile's dtype; the result is stored in the tile's dtype.
    """
    n_rows, n_cols = tile.shape
    for i in range(n_rows):
        xi = np.float64(x_sq[i])
        row = tile[i]
        if code == LAPLACIAN:
            for j in range(n_cols):
                d2 = (xi + z_sq[j] - 2.0 * row[j]) * inv_h2
                row[j] = math.exp(-math.sqrt(max(d2, 0.0)))
        elif code == GAUSSIAN:
            for j in range(n_cols):
                d2 = (xi + z_sq[j] - 2.0 * row[j]) * inv_h2
                row[j] = math.exp(-0.5 * max(d2, 0.0))
        elif code == CAUCHY:
            for j in range(n_cols):
                d2 = (xi + z_sq[j] - 2.0 * row[j]) * inv_h2
                row[j] = 1.0 / (1.0 + max(d2, 0.0))
        elif code == MATERN32:
            for j in range(n_cols):
                d2 = (xi + z_sq[j] - 2.0 * row[j]) * inv_h2
                s = SQRT3 * math.sqrt(max(d2, 0.0))
                row[j] = (1.0 + s) * math.exp(-s)
        else:  # MATERN52
            for j in range(n_cols):
                d2 = max((xi + z_sq[j] - 2.0 * row[j]) * inv_h2, 0.0)
                s = SQRT5 * math.sqrt(d2)
                row[j] = (1.0 + s + (5.0 / 3.0) * d2) * math.exp(-s)
