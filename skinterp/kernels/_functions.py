"""Radial kernel functions: names, their numba transforms of a squared-distance tile, and checks.

Every built-in kernel is radial, ``k(x, z) = phi(||x - z|| / h)`` with the Euclidean norm and a
bandwidth ``h > 0``. The positive definite ones are normalised so that ``k(x, x) = 1``:

==========================  =====================================================
``"laplacian"``             ``exp(-r)``  (Matern nu = 1/2)
``"gaussian"``              ``exp(-r**2 / 2)``
``"cauchy"``                ``1 / (1 + r**2)``
``"inverse_quadratic"``     ``1 / (1 + r**2)`` (scipy's name for ``"cauchy"``)
``"inverse_multiquadric"``  ``1 / sqrt(1 + r**2)``
``"matern"``                nu = 1/2: ``exp(-r)``;
                            nu = 3/2: ``(1 + sqrt(3) r) exp(-sqrt(3) r)``;
                            nu = 5/2: ``(1 + sqrt(5) r + 5 r**2 / 3) exp(-sqrt(5) r)``
==========================  =====================================================

and the conditionally positive definite ones of :class:`scipy.interpolate.RBFInterpolator`,
with scipy's signs, which need a polynomial tail of at least the degree given
(:data:`MIN_DEGREE`; Fasshauer 2007, Chapter 8):

=======================  ========================  ==================
``"linear"``             ``-r``                     degree 0
``"thin_plate_spline"``  ``r**2 log(r)`` (0 at 0)   degree 1
``"cubic"``              ``r**3``                   degree 1
``"quintic"``            ``-r**5``                  degree 2
``"multiquadric"``       ``-sqrt(1 + r**2)``        degree 0
=======================  ========================  ==================

with ``r = ||x - z|| / h``: scipy's ``epsilon`` is ``1 / h``, with one exception. Our
``"gaussian"`` keeps its ``exp(-r**2 / 2)`` (the convention of the EigenPro papers and of this
package's experiments), so scipy's ``"gaussian"`` ``exp(-(epsilon d)**2)`` is ours with
``h = 1 / (sqrt(2) epsilon)``. The transforms below overwrite, in place, a tile that holds cross
products ``x . z`` with the kernel values, using ``||x - z||**2 = ||x||**2 - 2 x.z + ||z||**2``.
Rounding can make that difference slightly negative for (near) duplicates: it is clipped at 0.
"""

import math
from numbers import Real

import numba
import numpy as np

from .._numba import NUMBA_CACHE
from ._exp import exp_nonpositive
from ._log import LOG_FASTMATH, fast_log

KERNEL_NAMES = (
    "laplacian",
    "gaussian",
    "cauchy",
    "matern",
    "linear",
    "thin_plate_spline",
    "cubic",
    "quintic",
    "multiquadric",
    "inverse_multiquadric",
    "inverse_quadratic",
)
MATERN_NUS = (0.5, 1.5, 2.5)

# Integer codes of the compiled transforms (one branch per tile, not per entry).
LAPLACIAN, GAUSSIAN, CAUCHY, MATERN32, MATERN52 = 0, 1, 2, 3, 4
LINEAR, THIN_PLATE_SPLINE, CUBIC, QUINTIC, MULTIQUADRIC, INVERSE_MULTIQUADRIC = 5, 6, 7, 8, 9, 10
_NAME_TO_CODE = {
    "laplacian": LAPLACIAN,
    "gaussian": GAUSSIAN,
    "cauchy": CAUCHY,
    "inverse_quadratic": CAUCHY,
    "linear": LINEAR,
    "thin_plate_spline": THIN_PLATE_SPLINE,
    "cubic": CUBIC,
    "quintic": QUINTIC,
    "multiquadric": MULTIQUADRIC,
    "inverse_multiquadric": INVERSE_MULTIQUADRIC,
}

# The smallest degree of the polynomial tail that makes the interpolation system uniquely
# solvable: a kernel conditionally positive definite of order m needs degree m - 1 (Fasshauer,
# "Meshfree Approximation Methods with MATLAB", 2007, Chapter 8); -1 (no tail) for the
# positive definite kernels. Indexed by kernel code.
MIN_DEGREE = {LINEAR: 0, THIN_PLATE_SPLINE: 1, CUBIC: 1, QUINTIC: 2, MULTIQUADRIC: 0}


def min_degree(code):
    """The minimum polynomial degree of a kernel code (-1: positive definite, or a callable)."""
    return MIN_DEGREE.get(code, -1)


SQRT3 = math.sqrt(3.0)
SQRT5 = math.sqrt(5.0)


def kernel_code(kernel, nu=None):
    """The integer code of a built-in kernel, ``None`` for a callable.

    Raises ``ValueError`` for an unknown name or a Matern ``nu`` outside {1/2, 3/2, 5/2}.
    """
    if callable(kernel):
        return None
    if kernel not in KERNEL_NAMES:
        raise ValueError(f"kernel must be one of {KERNEL_NAMES} or a callable, got {kernel!r}.")
    if kernel == "matern":
        nu = 1.5 if nu is None else nu
        if not isinstance(nu, Real) or float(nu) not in MATERN_NUS:
            raise ValueError(f"nu must be one of {MATERN_NUS} for the matern kernel, got {nu!r}.")
        return {0.5: LAPLACIAN, 1.5: MATERN32, 2.5: MATERN52}[float(nu)]
    return _NAME_TO_CODE[kernel]


MIN_BANDWIDTH = 1e-150
MAX_BANDWIDTH = 1e150


def check_bandwidth(bandwidth):
    """Return ``bandwidth`` as a float; ``ValueError`` unless it is finite and positive."""
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, Real):
        raise ValueError(f"bandwidth must be a positive number, got {bandwidth!r}.")
    bandwidth = float(bandwidth)
    if not (math.isfinite(bandwidth) and bandwidth > 0):
        raise ValueError(f"bandwidth must be a positive finite number, got {bandwidth!r}.")
    if not (MIN_BANDWIDTH <= bandwidth <= MAX_BANDWIDTH):
        # The tiles scale squared distances by 1 / h**2, which must be a finite, non-zero float.
        raise ValueError(
            f"bandwidth={bandwidth!r} is outside [{MIN_BANDWIDTH:g}, {MAX_BANDWIDTH:g}], where "
            "1 / bandwidth**2 is a finite non-zero float; rescale X (for instance with "
            "sklearn.preprocessing.StandardScaler) and choose a bandwidth of the order of the "
            "distances between points."
        )
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
    if code == LINEAR:
        return -r
    if code == THIN_PLATE_SPLINE:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(r == 0, 0.0, r * r * np.log(np.where(r == 0, 1.0, r)))
    if code == CUBIC:
        return r**3
    if code == QUINTIC:
        return -(r**5)
    if code == MULTIQUADRIC:
        return -np.sqrt(1.0 + r * r)
    if code == INVERSE_MULTIQUADRIC:
        return 1.0 / np.sqrt(1.0 + r * r)
    raise ValueError(f"unknown kernel code {code!r}")


@numba.njit(cache=NUMBA_CACHE, nogil=True, error_model="numpy")
def _distances_to_kernel(d2, scale, out, code, exponent, prefactor, bits):
    """``out[j] = phi(scale * d2[j])`` for squared distances ``d2 >= 0``.

    Arithmetic in the precision of ``out`` (the workspaces ``d2``, ``exponent`` and
    ``prefactor`` share it); ``bits`` is an int64 workspace. Simple loops that LLVM vectorises;
    the exponent is written straight into ``out`` when there is no prefactor.
    ``error_model="numpy"``: numba's default checks every float division for a zero divisor,
    which keeps the Cauchy and inverse-quadratic loops scalar; their divisors are at least 1.
    Measured (4000 x 4000, d = 8, one thread, with the product): Cauchy 2.29 -> 1.34 ns a
    value, inverse quadratic 2.30 -> 1.35.
    """
    real = out.dtype.type
    one, half, sqrt3, sqrt5 = real(1.0), real(0.5), real(SQRT3), real(SQRT5)
    five_thirds = real(5.0 / 3.0)
    scale = real(scale)
    n = d2.shape[0]
    if code == CAUCHY:
        for j in range(n):
            out[j] = one / (one + scale * d2[j])
    elif code == LAPLACIAN:
        for j in range(n):
            out[j] = -math.sqrt(scale * d2[j])
        exp_nonpositive(out, bits)
    elif code == GAUSSIAN:
        scale *= half
        for j in range(n):
            out[j] = -scale * d2[j]
        exp_nonpositive(out, bits)
    elif code >= LINEAR:
        _distances_to_scipy_kernel(d2, scale, out, code)
    else:
        if code == MATERN32:
            for j in range(n):
                s = sqrt3 * math.sqrt(scale * d2[j])
                exponent[j] = -s
                prefactor[j] = one + s
        else:  # MATERN52
            for j in range(n):
                r2 = scale * d2[j]
                s = sqrt5 * math.sqrt(r2)
                exponent[j] = -s
                prefactor[j] = one + s + five_thirds * r2
        exp_nonpositive(exponent, bits)
        for j in range(n):
            out[j] = prefactor[j] * exponent[j]


@numba.njit(cache=NUMBA_CACHE, nogil=True, error_model="numpy")
def _distances_to_scipy_kernel(d2, scale, out, code):
    """``out[j] = phi(scale * d2[j])`` for the kernels of scipy's family without an exponential
    (conditionally positive definite ones and the inverse multiquadric). ``error_model="numpy"``
    as in :func:`_distances_to_kernel` (the inverse multiquadric's divisor is at least 1: 4.77
    -> 1.92 ns a value)."""
    real = out.dtype.type
    one = real(1.0)
    scale = real(scale)
    n = d2.shape[0]
    if code == LINEAR:
        for j in range(n):
            out[j] = -math.sqrt(scale * d2[j])
    elif code == THIN_PLATE_SPLINE:
        _thin_plate_spline(d2, scale, out)
    elif code == CUBIC:
        for j in range(n):
            r2 = scale * d2[j]
            out[j] = r2 * math.sqrt(r2)
    elif code == QUINTIC:
        for j in range(n):
            r2 = scale * d2[j]
            out[j] = -(r2 * r2 * math.sqrt(r2))
    elif code == MULTIQUADRIC:
        for j in range(n):
            out[j] = -math.sqrt(one + scale * d2[j])
    else:  # INVERSE_MULTIQUADRIC
        for j in range(n):
            out[j] = one / math.sqrt(one + scale * d2[j])


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=LOG_FASTMATH, error_model="numpy")
def _thin_plate_spline(d2, scale, out):
    """``out[j] = r2 log(r2) / 2 = r**2 log r`` with ``r2 = scale * d2[j]``, 0 at ``r = 0``.

    One loop that vectorises: :func:`~skinterp.kernels._log.fast_log` inlines (``math.log``,
    a scalar libm call, made the tiles 3x slower); ``log(1) = 0`` stands in for ``log(0)`` so
    that it sees positive numbers only. ``error_model="numpy"``: see ``_log``.
    """
    real = out.dtype.type
    zero, one, half = real(0.0), real(1.0), real(0.5)
    scale = real(scale)
    for j in range(d2.shape[0]):
        r2 = scale * d2[j]
        out[j] = (half * r2) * fast_log(r2 if r2 > zero else one)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def kernel_workspace(n, like):
    """The workspaces ``(d2, exponent, prefactor, bits)`` of :func:`_distances_to_kernel` for
    ``n`` values in the dtype of the array ``like``."""
    return (
        np.empty(n, dtype=like.dtype),
        np.empty(n, dtype=like.dtype),
        np.empty(n, dtype=like.dtype),
        np.empty(n, dtype=np.int64),
    )


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def cross_to_kernel(tile, x_sq, z_sq, code, inv_h2):
    """Overwrite ``tile`` (cross products ``x_i . z_j``) with ``k(x_i, z_j)``, in place.

    ``x_sq``, ``z_sq`` are the squared row norms (float64) and ``inv_h2 = 1 / h**2``. The
    squared distances are formed in float64 (the identity cancels); the kernel is evaluated in
    the tile's precision, float32 tiles at twice the SIMD width.
    """
    n_rows, n_cols = tile.shape
    d2, exponent, prefactor, bits = kernel_workspace(n_cols, tile)
    for i in range(n_rows):
        xi = np.float64(x_sq[i])
        row = tile[i]
        for j in range(n_cols):
            d2[j] = max((xi + z_sq[j] - 2.0 * np.float64(row[j])) * inv_h2, 0.0)
        _distances_to_kernel(d2, 1.0, row, code, exponent, prefactor, bits)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _squared_distances(x, ZT, d2):
    """``d2[j] = ||x - Z[j]||**2`` for ``j < len(d2)`` (at most ``ZT.shape[1]``): the first
    ``d % 4`` features (or four) in one pass that writes ``d2``, then four features per pass
    (few loads and stores of ``d2``: with one pass per feature, 2-D tiles spent more time here
    than in the kernel)."""
    n_features, n_cols = ZT.shape[0], d2.shape[0]
    k = n_features % 4
    if n_features == 0:
        d2[:] = 0.0
    elif k == 1:
        a, za = x[0], ZT[0]
        for j in range(n_cols):
            t = a - za[j]
            d2[j] = t * t
    elif k == 2:
        a, b, za, zb = x[0], x[1], ZT[0], ZT[1]
        for j in range(n_cols):
            t0, t1 = a - za[j], b - zb[j]
            d2[j] = t0 * t0 + t1 * t1
    elif k == 3:
        a, b, c, za, zb, zc = x[0], x[1], x[2], ZT[0], ZT[1], ZT[2]
        for j in range(n_cols):
            t0, t1, t2 = a - za[j], b - zb[j], c - zc[j]
            d2[j] = (t0 * t0 + t1 * t1) + t2 * t2
    else:
        a, b, c, e = x[0], x[1], x[2], x[3]
        za, zb, zc, ze = ZT[0], ZT[1], ZT[2], ZT[3]
        for j in range(n_cols):
            t0, t1, t2, t3 = a - za[j], b - zb[j], c - zc[j], e - ze[j]
            d2[j] = (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
        k = 4
    while k < n_features:
        a, b, c, e = x[k], x[k + 1], x[k + 2], x[k + 3]
        za, zb, zc, ze = ZT[k], ZT[k + 1], ZT[k + 2], ZT[k + 3]
        for j in range(n_cols):
            t0, t1, t2, t3 = a - za[j], b - zb[j], c - zc[j], e - ze[j]
            d2[j] += (t0 * t0 + t1 * t1) + (t2 * t2 + t3 * t3)
        k += 4


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def direct_kernel_tile(X, ZT, code, inv_h2, out):
    """``out[i, j] = k(X[i], Z[j])`` by explicit squared distances, for few features.

    ``ZT`` is ``Z`` transposed (``n_features x n_z``, C order) so that the loop over ``j`` is
    contiguous and vectorises. Exact for duplicates (no cancellation), unlike the BLAS path.
    Arithmetic in the precision of ``X``, ``ZT`` and ``out`` (one dtype).
    """
    n_cols = ZT.shape[1]
    d2, exponent, prefactor, bits = kernel_workspace(n_cols, out)
    for i in range(X.shape[0]):
        _squared_distances(X[i], ZT, d2)
        _distances_to_kernel(d2, inv_h2, out[i], code, exponent, prefactor, bits)


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath={"reassoc", "contract"})
def _dot(a, b):
    """``a . b`` as a vectorised reduction (partial sums in SIMD lanes, one fixed order: the
    result does not depend on the caller's thread)."""
    total = a.dtype.type(0.0)
    for j in range(a.shape[0]):
        total += a[j] * b[j]
    return total


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def direct_kernel_product(X, ZT, code, inv_h2, AT):
    """``K(X, Z) @ A`` for few features, one row of kernel values at a time (``AT = A.T``,
    C-ordered ``outputs x n_z``; ``ZT`` as in :func:`direct_kernel_tile`).

    The row of values stays in L1 and is reduced at once, where a tile of values followed by a
    BLAS product writes the tile to memory and reads it back (a 1024 x 4096 float64 tile is
    32 MiB): measured on the thin-plate spline, 100,000 queries x 5,000 centres in 2-D, one
    thread, CPU time on a loaded machine, 1024 x 4096 tiles (the estimator's predict): 5.7 ->
    1.5 ns a value.
    """
    n_cols = ZT.shape[1]
    out = np.empty((X.shape[0], AT.shape[0]), dtype=X.dtype)
    values = np.empty(n_cols, dtype=X.dtype)
    d2, exponent, prefactor, bits = kernel_workspace(n_cols, values)
    for i in range(X.shape[0]):
        _squared_distances(X[i], ZT, d2)
        _distances_to_kernel(d2, inv_h2, values, code, exponent, prefactor, bits)
        for o in range(AT.shape[0]):
            out[i, o] = _dot(values, AT[o])
    return out


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def direct_kernel_lower(X, ZT, code, inv_h2, out, first_row):
    """The lower triangle of a symmetric kernel matrix, rows ``first_row + i`` of it:
    ``out[i, j] = k(X[i], Z[j])`` for ``j <= first_row + i`` (``X`` are those rows of ``Z``).

    As :func:`direct_kernel_tile` (``out`` a C-ordered block of whole rows); the entries right
    of the diagonal are not written. Half the kernel evaluations of the full matrix.
    """
    n_cols = ZT.shape[1]
    d2, exponent, prefactor, bits = kernel_workspace(n_cols, out)
    for i in range(X.shape[0]):
        m = min(first_row + i + 1, n_cols)
        _squared_distances(X[i], ZT, d2[:m])
        _distances_to_kernel(
            d2[:m], inv_h2, out[i, :m], code, exponent[:m], prefactor[:m], bits[:m]
        )
