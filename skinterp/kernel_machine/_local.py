"""Local RBF interpolation (``neighbors=k``): each query from its ``k`` nearest training points.

scipy's semantics (``RBFInterpolator(neighbors=k)``): for a query ``x`` the interpolant is the
one of the ``k`` training points nearest to ``x`` (a KD-tree query), with the same kernel, ridge
and polynomial tail as the global fit, the tail's basis shifted and scaled to the bounding box
of that neighbourhood. Queries that share a neighbourhood share its solve.

Where scipy solves one small system per neighbourhood in a Python loop, the neighbourhoods
here are handled in batches by one ``nogil`` numba kernel (:func:`_solve_and_evaluate`): it
forms each ``(k + Q) x (k + Q)`` saddle-point system from exact pairwise differences with the
fused kernel transforms of :mod:`skinterp.kernels._functions`, solves it (LAPACK ``gesv``
through numba) and evaluates the queries of that neighbourhood; batches run on ``n_jobs``
threads (:func:`skinterp._parallel.run_in_chunks`, Ctrl-C between batches).
"""

import numba
import numpy as np
from scipy.spatial import cKDTree

from .._numba import NUMBA_CACHE
from .._parallel import run_in_chunks
from ..kernels._functions import _distances_to_kernel


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _scaled_monomials(point, powers, shift, scale, out):
    """``out[q] = prod_v ((point[v] - shift[v]) / scale[v]) ** powers[q, v]``."""
    for q in range(powers.shape[0]):
        value = 1.0
        for v in range(point.shape[0]):
            for _ in range(powers[q, v]):
                value *= (point[v] - shift[v]) / scale[v]
        out[q] = value


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _solve_and_evaluate(
    X, Y, ridge, neighborhoods, Z, query_order, starts, code, inv_h2, powers, out
):
    """For each neighbourhood ``b`` (rows of ``neighborhoods``): solve its saddle-point system
    and write the values at its queries ``Z[query_order[starts[b]:starts[b + 1]]]`` into
    ``out`` (rows indexed like ``Z``)."""
    n_hoods, k = neighborhoods.shape
    d, c, Q = X.shape[1], Y.shape[1], powers.shape[0]
    m = k + Q
    points = np.empty((k, d))
    system = np.empty((m, m))
    rhs = np.empty((m, c))
    d2 = np.empty(k)
    values = np.empty(k)
    exponent = np.empty(k)
    prefactor = np.empty(k)
    bits = np.empty(k, dtype=np.int64)
    shift = np.empty(d)
    scale = np.empty(d)
    monomials = np.empty(Q)
    for b in range(n_hoods):
        if starts[b + 1] == starts[b]:
            continue
        for i in range(k):
            points[i] = X[neighborhoods[b, i]]
        for v in range(d):
            low, high = points[0, v], points[0, v]
            for i in range(1, k):
                low = min(low, points[i, v])
                high = max(high, points[i, v])
            shift[v] = (high + low) / 2
            half = (high - low) / 2
            scale[v] = half if half != 0 else 1.0
        system[:, :] = 0.0
        rhs[:, :] = 0.0
        for i in range(k):
            # The upper triangle from row i's distances to points i..k-1, mirrored.
            width = k - i
            for j in range(width):
                total = 0.0
                for v in range(d):
                    t = points[i, v] - points[i + j, v]
                    total += t * t
                d2[j] = total
            _distances_to_kernel(
                d2[:width],
                inv_h2,
                values[:width],
                code,
                exponent[:width],
                prefactor[:width],
                bits[:width],
            )
            for j in range(width):
                system[i, i + j] = values[j]
                system[i + j, i] = values[j]
            system[i, i] += ridge[neighborhoods[b, i]]
            _scaled_monomials(points[i], powers, shift, scale, monomials)
            for q in range(Q):
                system[i, k + q] = monomials[q]
                system[k + q, i] = monomials[q]
            for o in range(c):
                rhs[i, o] = Y[neighborhoods[b, i], o]
        coef = np.linalg.solve(system, rhs)
        for position in range(starts[b], starts[b + 1]):
            query = query_order[position]
            z = Z[query]
            for j in range(k):
                total = 0.0
                for v in range(d):
                    t = z[v] - points[j, v]
                    total += t * t
                d2[j] = total
            _distances_to_kernel(d2, inv_h2, values, code, exponent, prefactor, bits)
            _scaled_monomials(z, powers, shift, scale, monomials)
            for o in range(c):
                total = 0.0
                for j in range(k):
                    total += values[j] * coef[j, o]
                for q in range(Q):
                    total += monomials[q] * coef[k + q, o]
                out[query, o] = total


class LocalInterpolant:
    """The training set, its KD-tree and the settings of the local solves.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Training points (float64).
    Y : ndarray of shape (n, c)
        Targets (float64).
    code, bandwidth :
        The built-in kernel and its bandwidth.
    ridge : ndarray of shape (n,)
        Ridge of each training point.
    powers : ndarray of shape (Q, d)
        Monomial exponents of the tail (``Q = 0``: none).
    neighbors : int
        Neighbourhood size ``k`` (at most ``n``).
    """

    def __init__(self, X, Y, code, bandwidth, ridge, powers, neighbors):
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.Y = np.ascontiguousarray(Y, dtype=np.float64)
        self.code, self.bandwidth = code, float(bandwidth)
        self.ridge = np.asarray(ridge, dtype=np.float64)
        self.powers = powers
        self.k = int(min(neighbors, X.shape[0]))
        self.tree = cKDTree(self.X)

    def predict(self, Z, *, n_jobs=None, verbose=0):
        """Values ``(len(Z), c)`` at the queries ``Z``."""
        Z = np.ascontiguousarray(Z, dtype=np.float64)
        k, Q, c, d = self.k, self.powers.shape[0], self.Y.shape[1], self.X.shape[1]
        out = np.empty((Z.shape[0], c))
        if Z.shape[0] == 0:
            return out
        _, index = self.tree.query(Z, k)
        index = np.sort(index.reshape(Z.shape[0], k), axis=1)
        neighborhoods, inverse = np.unique(index, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(inverse, kind="stable")
        starts = np.searchsorted(inverse[order], np.arange(len(neighborhoods) + 1))
        # Batches of about a millisecond or two each: Ctrl-C is prompt, threads share well.
        batch = max(1, 200_000 // ((k + Q) ** 2 * max(d, 1)))
        inv_h2 = 1.0 / self.bandwidth**2
        powers = np.ascontiguousarray(self.powers, dtype=np.int64)

        def work(b0, b1):
            try:
                _solve_and_evaluate(
                    self.X,
                    self.Y,
                    self.ridge,
                    neighborhoods[b0:b1],
                    Z,
                    order,
                    starts[b0 : b1 + 1],
                    self.code,
                    inv_h2,
                    powers,
                    out,
                )
            except np.linalg.LinAlgError:
                raise np.linalg.LinAlgError(
                    f"Singular system in a neighbourhood of {k} points: duplicate points, or "
                    "points on which the polynomial tail is not unisolvent (e.g. on a line "
                    "for degree 1 in 2-D). Raise neighbors, lower degree or add a ridge."
                ) from None

        run_in_chunks(
            work,
            len(neighborhoods),
            batch,
            n_jobs=n_jobs,
            verbose=verbose,
            description=f"local solves of {len(neighborhoods)} neighbourhoods",
        )
        return out
