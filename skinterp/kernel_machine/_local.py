"""Local RBF interpolation (``neighbors=k``): each query from its ``k`` nearest training points.

scipy's semantics (``RBFInterpolator(neighbors=k)``): for a query ``x`` the interpolant is the
one of the ``k`` training points nearest to ``x`` (a KD-tree query), with the same kernel, ridge
and polynomial tail as the global fit, the tail's basis shifted and scaled to the bounding box
of that neighbourhood. Queries that share a neighbourhood share its solve.

Where scipy solves one small system per neighbourhood in a Python loop, the neighbourhoods
here are handled in batches by one ``nogil`` numba kernel (:func:`_fast_solve_and_evaluate`):
it forms each saddle-point system from exact pairwise differences with the fused kernel
transforms of :mod:`skinterp.kernels._functions`, solves it by the null-space method
(:func:`_null_space_solve`: Householder reflectors for the tail, Cholesky of the projected
``(k - Q) x (k - Q)`` block; 1.6x faster than LAPACK's LU through numba, measured at k = 50 in
2-D) and evaluates the queries of that neighbourhood. A neighbourhood whose projected block is
not numerically positive definite (a tail below the kernel's minimum degree, a numerically
singular system) goes to the LU path (:func:`_solve_and_evaluate`), which raises
``LinAlgError`` when the system is singular. The KD-tree search and the batches run on
``n_jobs`` threads (:func:`skinterp._parallel.run_in_chunks`, Ctrl-C between chunks); queries
are grouped by neighbourhood with a hash (:func:`_group_identical_rows`).
"""

import numba
import numpy as np
from scipy.spatial import cKDTree

from .._numba import NUMBA_CACHE
from .._parallel import run_in_chunks
from ..kernels._functions import _distances_to_kernel, _squared_distances, kernel_workspace


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
    values = np.empty(k)
    d2, exponent, prefactor, bits = kernel_workspace(k, values)
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


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _null_space_workspace(k, d, c, Q):
    """The workspaces of :func:`_null_space_solve` for neighbourhoods of ``k`` points."""
    return (
        np.empty((k, k)),
        np.empty((k, k)),
        np.empty((k, d)),
        np.empty((d, k)),
        np.empty((k, Q)),
        np.empty((c, k)),
        np.zeros((Q, k)),
        np.empty(Q),
        np.empty(k),
        np.empty(k * (k + 1) // 2),
        np.empty(k * (k + 1) // 2),
        np.empty(k * (k + 1) // 2),
        np.empty(k * (k + 1) // 2),
        np.empty(k * (k + 1) // 2, dtype=np.int64),
    )


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _null_space_solve(X, Y, ridge, hood, code, inv_h2, powers, work, coef, tail_coef, box):
    """Solve one neighbourhood's saddle-point system by the null-space method; False when its
    null-space block is not numerically positive definite (the caller then uses LU).

    With ``P = H [R; 0]`` (``Q`` Householder reflectors), ``H^T (K + Lambda) H`` has a trailing
    ``(k - Q)`` block positive definite for a kernel conditionally positive definite of the
    tail's order: its Cholesky factor gives ``a2``, then ``a = H [0; a2]`` and ``b`` from
    ``R``. Every inner loop runs over a contiguous row (LLVM vectorises it): about a third of
    the time of LAPACK's LU (``numpy.linalg.solve``) on the ``(k + Q)`` system, which also
    copies and pivots. ``work`` holds the workspaces (see :func:`_null_space_workspace`);
    writes ``coef`` (``c x k``), ``tail_coef`` (``c x Q``) and ``box`` (shift and scale of the
    tail's basis, ``2 x d``).
    """
    A, LT, pts, ptsT, P, rhs, V, taus, w, d2, flat, exponent, prefactor, bits = work
    k = hood.shape[0]
    d, c, Q = X.shape[1], Y.shape[1], powers.shape[0]
    for i in range(k):
        row = hood[i]
        for t in range(d):
            pts[i, t] = X[row, t]
        for o in range(c):
            rhs[o, i] = Y[row, o]
    for t in range(d):
        low, high = pts[0, t], pts[0, t]
        for i in range(1, k):
            low = min(low, pts[i, t])
            high = max(high, pts[i, t])
        box[0, t] = (high + low) / 2
        half = (high - low) / 2
        box[1, t] = half if half != 0 else 1.0
    for i in range(k):
        _scaled_monomials(pts[i], powers, box[0], box[1], P[i])
    # K + Lambda: the lower triangle's squared distances row after row into one flat buffer
    # (the points transposed: contiguous loops), the kernel over the whole buffer at once (one
    # long vectorised loop), then copied to both triangles.
    for t in range(d):
        for i in range(k):
            ptsT[t, i] = pts[i, t]
    for i in range(k):
        offset = i * (i + 1) // 2
        _squared_distances(pts[i], ptsT, d2[offset : offset + i + 1])
    _distances_to_kernel(d2, inv_h2, flat, code, exponent, prefactor, bits)
    for i in range(k):
        offset = i * (i + 1) // 2
        row, values = A[i, : i + 1], flat[offset : offset + i + 1]
        for j in range(i + 1):
            row[j] = values[j]
        for j in range(i):
            A[j, i] = values[j]
        A[i, i] += ridge[hood[i]]
    # Householder reflectors H_q = I - tau v v^T (v zero before q) zeroing P below its
    # diagonal, applied to P, the right-hand sides and A from both sides.
    for q in range(Q):
        sigma = 0.0
        for i in range(q + 1, k):
            sigma += P[i, q] * P[i, q]
        alpha = P[q, q]
        norm = np.sqrt(alpha * alpha + sigma)
        if not norm > 0.0:
            return False
        beta = -norm if alpha >= 0 else norm
        v = V[q]
        v[:q] = 0.0
        v[q] = alpha - beta
        for i in range(q + 1, k):
            v[i] = P[i, q]
        tau = 2.0 / ((alpha - beta) ** 2 + sigma)
        taus[q] = tau
        for col in range(q, Q):
            total = 0.0
            for i in range(q, k):
                total += v[i] * P[i, col]
            for i in range(q, k):
                P[i, col] -= tau * total * v[i]
        for o in range(c):
            total = 0.0
            for i in range(q, k):
                total += v[i] * rhs[o, i]
            for i in range(q, k):
                rhs[o, i] -= tau * total * v[i]
        # A <- H A H = A - v u^T - u v^T with w = A v (rows of the symmetric A as its
        # columns) and u = tau w - (tau**2 / 2) (v^T w) v.
        w[:] = 0.0
        for j in range(q, k):
            vj = v[j]
            row = A[j]
            for i in range(k):
                w[i] += vj * row[i]
        total = 0.0
        for i in range(q, k):
            total += v[i] * w[i]
        for i in range(k):
            w[i] = tau * w[i] - 0.5 * tau * tau * total * v[i]
        for i in range(k):
            vi, wi = v[i], w[i]
            row = A[i]
            for j in range(k):
                row[j] -= vi * w[j] + wi * v[j]
    # Cholesky of the trailing block, right-looking, lower in A and its columns in LT's rows.
    for j in range(Q, k):
        pivot = A[j, j]
        if not pivot > 0.0:
            return False
        diagonal = np.sqrt(pivot)
        A[j, j] = diagonal
        LT[j, j] = diagonal
        for i in range(j + 1, k):
            LT[j, i] = A[i, j] / diagonal
            A[i, j] = LT[j, i]
        column = LT[j]
        for i in range(j + 1, k):
            # Slices and loops from 0: a loop from j + 1 stayed scalar (numba's handling of
            # negative indices), 5x slower.
            lij = column[i]
            row, part = A[i, j + 1 : i + 1], column[j + 1 : i + 1]
            for m in range(i - j):
                row[m] -= lij * part[m]
    for o in range(c):
        y = rhs[o]
        for j in range(Q, k):  # L z = y2, by columns of L (rows of LT)
            y[j] /= LT[j, j]
            zj = y[j]
            below, column = y[j + 1 :], LT[j, j + 1 :]
            for i in range(k - j - 1):
                below[i] -= zj * column[i]
        for i in range(k - 1, Q - 1, -1):  # L^T a2 = z, by rows of L
            y[i] /= A[i, i]
            ai = y[i]
            above, row = y[Q:i], A[i, Q:i]
            for m in range(i - Q):
                above[m] -= ai * row[m]
        # R b = y1 - (H^T A H)[:Q, Q:] a2: rows before Q of the transformed A are intact.
        for i in range(Q):
            total = 0.0
            for m in range(Q, k):
                total += A[i, m] * y[m]
            y[i] -= total
        for i in range(Q - 1, -1, -1):
            total = y[i]
            for m in range(i + 1, Q):
                total -= P[i, m] * y[m]
            if P[i, i] == 0.0:
                return False
            y[i] = total / P[i, i]
        for q in range(Q):
            tail_coef[o, q] = y[q]
            y[q] = 0.0
        # a = H_1 ... H_Q [0; a2]: the last reflector first.
        for q in range(Q - 1, -1, -1):
            v = V[q]
            total = 0.0
            for i in range(q, k):
                total += v[i] * y[i]
            for i in range(q, k):
                y[i] -= taus[q] * total * v[i]
        for i in range(k):
            coef[o, i] = y[i]
    return True


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _fast_solve_and_evaluate(
    X, Y, ridge, neighborhoods, Z, query_order, starts, code, inv_h2, powers, out
):
    """:func:`_solve_and_evaluate` with the systems solved by :func:`_null_space_solve`; a
    neighbourhood whose null-space block is not numerically positive definite (a tail below
    the kernel's minimum degree, a numerically singular system) is solved by LU as before."""
    n_hoods, k = neighborhoods.shape
    d, c, Q = X.shape[1], Y.shape[1], powers.shape[0]
    work = _null_space_workspace(k, d, c, Q)
    coef = np.empty((c, k))
    tail_coef = np.empty((c, Q))
    box = np.empty((2, d))
    values = np.empty(k)
    d2, exponent, prefactor, bits = kernel_workspace(k, values)
    monomials = np.empty(Q)
    for b in range(n_hoods):
        if starts[b + 1] == starts[b]:
            continue
        hood = neighborhoods[b]
        if not _null_space_solve(
            X, Y, ridge, hood, code, inv_h2, powers, work, coef, tail_coef, box
        ):
            _solve_and_evaluate(
                X,
                Y,
                ridge,
                neighborhoods[b : b + 1],
                Z,
                query_order,
                starts[b : b + 2],
                code,
                inv_h2,
                powers,
                out,
            )
            continue
        for position in range(starts[b], starts[b + 1]):
            query = query_order[position]
            z = Z[query]
            for j in range(k):
                x = X[hood[j]]
                total = 0.0
                for t in range(d):
                    diff = z[t] - x[t]
                    total += diff * diff
                d2[j] = total
            _distances_to_kernel(d2, inv_h2, values, code, exponent, prefactor, bits)
            _scaled_monomials(z, powers, box[0], box[1], monomials)
            for o in range(c):
                total = 0.0
                for j in range(k):
                    total += values[j] * coef[o, j]
                for q in range(Q):
                    total += monomials[q] * tail_coef[o, q]
                out[query, o] = total


# Queries per chunk of the KD-tree search (about 0.1 s for k = 50 in 2-D).
QUERY_CHUNK = 10_000


def _group_identical_rows(index):
    """Queries grouped by neighbourhood: ``(neighborhoods, order, starts)`` with the queries
    ``order[starts[b]:starts[b + 1]]`` sharing the sorted row ``neighborhoods[b]``.

    Rows are sorted by a hash (a random linear form modulo 2**64) and consecutive rows compared
    whole, so that two different rows are never grouped (a hash collision only splits a group,
    which then is solved twice); ``numpy.unique(axis=0)``, which sorts the rows
    lexicographically, took 0.6 s for 10**5 rows of 50, this 0.05 s.
    """
    n = index.shape[0]
    weights = np.random.RandomState(0).randint(1, 2**62, size=index.shape[1], dtype=np.int64)
    keys = (index.astype(np.uint64) * (weights.astype(np.uint64) | np.uint64(1))).sum(
        axis=1, dtype=np.uint64
    )
    order = np.argsort(keys, kind="stable")
    ordered = index[order]
    same = (keys[order][1:] == keys[order][:-1]) & np.all(ordered[1:] == ordered[:-1], axis=1)
    first = np.flatnonzero(np.concatenate([[True], ~same])) if n else np.zeros(0, np.int64)
    starts = np.append(first, n)
    return np.ascontiguousarray(ordered[first]), order, starts


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
        index = np.empty((Z.shape[0], k), dtype=np.int64)

        def search(start, stop):
            # cKDTree's query releases the GIL: the chunks run in parallel.
            _, found = self.tree.query(Z[start:stop], k)
            index[start:stop] = np.sort(found.reshape(stop - start, k), axis=1)

        run_in_chunks(
            search,
            Z.shape[0],
            QUERY_CHUNK,
            n_jobs=n_jobs,
            verbose=verbose,
            description=f"{k} nearest neighbours of {Z.shape[0]} queries",
        )
        neighborhoods, order, starts = _group_identical_rows(index)
        # Batches of about a millisecond or two each: Ctrl-C is prompt, threads share well.
        batch = max(1, 200_000 // ((k + Q) ** 2 * max(d, 1)))
        inv_h2 = 1.0 / self.bandwidth**2
        powers = np.ascontiguousarray(self.powers, dtype=np.int64)

        def work(b0, b1):
            try:
                _fast_solve_and_evaluate(
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
