"""Local RBF interpolation (``neighbors=k``): each query from its ``k`` nearest training points.

scipy's semantics (``RBFInterpolator(neighbors=k)``): for a query ``x`` the interpolant is the
one of the ``k`` training points nearest to ``x`` (a KD-tree query), with the same kernel, ridge
and polynomial tail as the global fit, the tail's basis shifted and scaled to the bounding box
of that neighbourhood. Queries that share a neighbourhood share its solve.

Where scipy solves one small system per neighbourhood in a Python loop, the neighbourhoods
here are handled in batches by one ``nogil`` numba kernel (:func:`_batched_solve_and_evaluate`):
it forms the saddle-point systems of ``LANES`` (8) neighbourhoods at once (up to
``LANES_MAX_NEIGHBORS`` = 160 neighbours; LU beyond), one per SIMD lane of an explicit
8-wide vector (:func:`_lanes_solve`; :mod:`._simd`: every array holds the lanes innermost, and
each step is one vector instruction for the 8 systems, where one system at a time runs loops
of a few elements and plain loops over the lanes cost more in LLVM's run-time checks than in
arithmetic), from exact pairwise differences with the fused kernel transforms of
:mod:`skinterp.kernels._functions`, solves them by the null-space method of the direct solver
(Gram-Schmidt for the tail, Cholesky of ``Pi (K + Lambda) Pi + c Q1 Q1^T`` in packed storage,
left-looking with the dot products in registers, one step of iterative refinement) and
evaluates the queries of each neighbourhood. A neighbourhood whose system is not numerically
positive definite there (a tail below the kernel's minimum degree, points on which the tail
is not unisolvent, a numerically singular system) goes to the LU path
(:func:`_solve_and_evaluate`), which raises ``LinAlgError`` when the system is singular.

The neighbourhoods are scipy's: ``cKDTree`` with ``KDTree``'s leaf size (which decides among
points tied on a neighbourhood's boundary), or, in 1 to 3 dimensions when it pays, a grid of
cells (:mod:`._grid_search`) that hands every query with a tie on the boundary to the tree.
The searches of the queries in Morton order and the batches run on ``n_jobs`` threads
(:func:`skinterp._parallel.run_in_chunks`, Ctrl-C between chunks); queries are grouped by
neighbourhood with a hash (:func:`_group_identical_rows`).

Measured at k = 50, n = 10**5 training points, 10**5 queries, thin-plate spline of degree 1
(one thread, CPU us a query, best of 3 alternating runs in one process on a loaded machine;
``benchmarks`` on free cores are the reference):

=====  ==========================  ======  =====  ======  =====
d      version                     search  group  solves  total
=====  ==========================  ======  =====  ======  =====
2      32 lanes, loops (4ba970a)   5.9     0.6    17.9    24.4
2      8-wide vectors, grid        2.7     0.3    7.5     10.5
3      32 lanes, loops (4ba970a)   9.5     0.8    24.0    34.2
3      8-wide vectors, grid        4.4     0.3    10.5    15.2
=====  ==========================  ======  =====  ======  =====

(the solves include the evaluation at the queries; 97,932 distinct neighbourhoods in 2-D).
Inside a solve (us a neighbourhood, 2-D): the kernel transform (the logarithm) 1.3, the
Cholesky factor 1.5, ``M``'s formation 0.9, ``(K + Lambda) Q1`` 0.6, the distances 0.5, the
triangular solves 0.3 each. The machine's load moves the old rows by 20-30 % between runs.
"""

import threading

import numba
import numpy as np
from scipy.spatial import cKDTree

from .._numba import NUMBA_CACHE
from .._parallel import interruptible, run_in_chunks
from ..kernels._functions import _distances_to_kernel, kernel_workspace
from ._grid_search import GRID_MAX_FEATURES, CellGrid, grid_search
from ._simd import WIDTH, vadd, vbroadcast, vdiv, vfma, vfnma, vload, vmul, vstore, vsub, vzero


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


# Neighbourhoods solved together by :func:`_lanes_solve`, one per SIMD lane (one :data:`vec8`
# group: each neighbourhood's packed matrices are then contiguous, 81 KB at k = 50, where
# 32 lanes spread a group's cache lines over 326 KB), up to this many neighbours; larger
# systems go to LU. Measured (one thread, loaded machine, 2-D, degree 1, us a neighbourhood,
# lanes / LU): k = 50: 16 / 56, 100: 67 / 196, 160: 228 / 461.
LANES = 8
# Kernel values computed per call of the kernel transform in a solve (its workspaces: 3 x 8 KiB).
KERNEL_BLOCK = 1024
LANES_MAX_NEIGHBORS = 160


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _lanes_workspace(k, d, c, Q, lanes):
    """The workspaces of :func:`_lanes_solve` for ``lanes`` neighbourhoods of ``k`` points."""
    pairs = k * (k + 1) // 2
    return (
        np.empty((k, d, lanes)),  # points
        np.empty((2, d, lanes)),  # shift and 1 / scale of the tail's basis
        np.empty((k, Q, lanes)),  # P, then Q1 (orthonormal columns)
        np.zeros((Q, Q, lanes)),  # R
        np.empty((pairs, lanes)),  # squared distances, then K + Lambda (packed lower)
        np.empty((pairs, lanes)),  # M, then its Cholesky factor (packed lower)
        np.zeros((k, Q, lanes)),  # W = (K + Lambda) Q1, then V
        np.empty((c, k, lanes)),  # right-hand sides, then a
        np.empty((c, k, lanes)),  # residual of the refinement step
        np.empty((8, lanes)),  # per-lane scalars
        np.zeros((Q, Q, lanes)),  # Q1^T W + c I
        np.empty((k, Q, lanes)),  # V = W - Q1 (Q1^T W + c I)
        np.zeros((c, max(Q, 1), lanes)),  # the tail's coefficients
    )


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _packed_product_group(Kp, A, out, base, stride, g, k):
    """``y = K a`` for the lanes ``g:g + 8``, ``K`` symmetric packed as its lower triangle
    (``Kp[i (i + 1) / 2 + j]``, ``j <= i``), ``a_i`` and ``y_i`` at the flat offset
    ``base + i * stride`` of ``A`` and ``out``."""
    lanes = Kp.shape[1]
    for i in range(k):
        offset = i * (i + 1) // 2
        ai = vload(A, base + i * stride)
        acc = vzero()
        for j in range(i):
            kij = vload(Kp, (offset + j) * lanes + g)
            acc = vfma(acc, kij, vload(A, base + j * stride))
            at = base + j * stride
            vstore(out, at, vfma(vload(out, at), kij, ai))
        acc = vfma(acc, vload(Kp, (offset + i) * lanes + g), ai)
        vstore(out, base + i * stride, acc)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _packed_product(Kp, A, out):
    """``out[o] = K a[o]`` per lane for the symmetric ``K`` packed as its lower triangle
    (``A`` and ``out``: ``c x k x lanes``)."""
    c, k, lanes = A.shape
    for o in range(c):
        for g in range(0, lanes, WIDTH):
            _packed_product_group(Kp, A, out, o * k * lanes + g, lanes, g, k)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _packed_product_columns(Kp, P, out):
    """``out[:, q] = K P[:, q]`` per lane (``P`` and ``out``: ``k x Q x lanes``)."""
    k, Q, lanes = P.shape
    for q in range(Q):
        for g in range(0, lanes, WIDTH):
            _packed_product_group(Kp, P, out, q * lanes + g, Q * lanes, g, k)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _packed_squared_distances(points, D):
    """``D[i (i + 1) / 2 + j] = |p_i - p_j|^2`` per lane for ``j <= i`` (``points``:
    ``k x d x lanes``), the coordinates' squares summed in order."""
    k, d, lanes = points.shape
    for g in range(0, lanes, WIDTH):
        for i in range(k):
            offset = i * (i + 1) // 2
            for j in range(i + 1):
                diff = vsub(vload(points, (i * d) * lanes + g), vload(points, (j * d) * lanes + g))
                acc = vmul(diff, diff)
                for t in range(1, d):
                    diff = vsub(
                        vload(points, (i * d + t) * lanes + g),
                        vload(points, (j * d + t) * lanes + g),
                    )
                    acc = vfma(acc, diff, diff)
                vstore(D, (offset + j) * lanes + g, acc)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _packed_projected(Kp, P, V, W, Mp):
    """``M = K - Q1 V^T - W Q1^T`` per lane, lower triangle packed (``P`` holds ``Q1``;
    ``P``, ``V``, ``W``: ``k x Q x lanes``). Row ``i``'s first four columns of ``Q1`` and
    ``W`` are held in registers (``Q <= 4``: every tail of degree 1 up to 3-D), so that an
    entry costs ``2 Q + 1`` vector loads instead of ``4 Q + 1``; the operations and their
    order are the same for every ``Q``."""
    k, Q, lanes = P.shape
    step = Q * lanes
    for g in range(0, lanes, WIDTH):
        for i in range(k):
            offset = i * (i + 1) // 2
            row = i * step + g
            p0 = vload(P, row)
            w0 = vload(W, row)
            p1 = vload(P, row + min(1, Q - 1) * lanes)
            w1 = vload(W, row + min(1, Q - 1) * lanes)
            p2 = vload(P, row + min(2, Q - 1) * lanes)
            w2 = vload(W, row + min(2, Q - 1) * lanes)
            p3 = vload(P, row + min(3, Q - 1) * lanes)
            w3 = vload(W, row + min(3, Q - 1) * lanes)
            for j in range(i + 1):
                column = j * step + g
                acc = vload(Kp, (offset + j) * lanes + g)
                acc = vfnma(acc, p0, vload(V, column))
                acc = vfnma(acc, w0, vload(P, column))
                if Q > 1:
                    acc = vfnma(acc, p1, vload(V, column + lanes))
                    acc = vfnma(acc, w1, vload(P, column + lanes))
                if Q > 2:
                    acc = vfnma(acc, p2, vload(V, column + 2 * lanes))
                    acc = vfnma(acc, w2, vload(P, column + 2 * lanes))
                if Q > 3:
                    acc = vfnma(acc, p3, vload(V, column + 3 * lanes))
                    acc = vfnma(acc, w3, vload(P, column + 3 * lanes))
                for q in range(4, Q):
                    acc = vfnma(acc, vload(P, row + q * lanes), vload(V, column + q * lanes))
                    acc = vfnma(acc, vload(W, row + q * lanes), vload(P, column + q * lanes))
                vstore(Mp, (offset + j) * lanes + g, acc)


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath={"contract"}, error_model="numpy")
def _project(Q1, B, scratch):
    """``B[o] -= Q1 (Q1^T B[o])`` per lane (``scratch``: ``lanes`` values)."""
    k, Q, lanes = Q1.shape
    for o in range(B.shape[0]):
        b = B[o]
        for q in range(Q):
            scratch[:] = 0.0
            for i in range(k):
                bi, qi = b[i], Q1[i, q]
                for u in range(lanes):
                    scratch[u] += qi[u] * bi[u]
            for i in range(k):
                bi, qi = b[i], Q1[i, q]
                for u in range(lanes):
                    bi[u] -= qi[u] * scratch[u]


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _packed_cholesky_solve(Lp, B):
    """``B[o] <- M^{-1} B[o]`` per lane from the packed lower Cholesky factor of ``M``."""
    c, k, lanes = B.shape
    for o in range(c):
        for g in range(0, lanes, WIDTH):
            b = (o * k) * lanes + g
            for i in range(k):  # L z = b, by rows of L
                offset = i * (i + 1) // 2
                acc = vload(B, b + i * lanes)
                for j in range(i):
                    acc = vfnma(acc, vload(Lp, (offset + j) * lanes + g), vload(B, b + j * lanes))
                vstore(B, b + i * lanes, vdiv(acc, vload(Lp, (offset + i) * lanes + g)))
            for i in range(k - 1, -1, -1):  # L^T a = z, by columns of L
                offset = i * (i + 1) // 2
                bi = vdiv(vload(B, b + i * lanes), vload(Lp, (offset + i) * lanes + g))
                vstore(B, b + i * lanes, bi)
                for j in range(i):
                    at = b + j * lanes
                    vstore(B, at, vfnma(vload(B, at), vload(Lp, (offset + j) * lanes + g), bi))


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _cholesky_entry(Mp, lanes, g, oi, oj, j, inv, diagonal):
    """``L[i, j]`` (``j < i``; or ``L[i, i]`` squared, before its square root, when
    ``diagonal``) of the lanes ``g:g + 8`` from the rows ``i`` and ``j`` of ``L`` at the packed
    offsets ``oi`` and ``oj``, stored in place."""
    acc = vload(Mp, (oi + j) * lanes + g)
    for m in range(j):
        acc = vfnma(acc, vload(Mp, (oi + m) * lanes + g), vload(Mp, (oj + m) * lanes + g))
    if not diagonal:
        acc = vmul(acc, vload(inv, j * lanes + g))
    vstore(Mp, (oi + j) * lanes + g, acc)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _cholesky_pivot(Mp, lanes, g, oi, i, floor, ok, inv):
    """The square root of the diagonal entry ``i`` (at ``oi + i``) of the lanes ``g:g + 8``;
    a pivot not above ``floor[u]`` (or NaN) sets ``ok[u] = False`` and is replaced by 1."""
    diagonal = Mp[oi + i]
    for u in range(g, g + WIDTH):
        pivot = diagonal[u]
        good = pivot > floor[u]
        ok[u] = ok[u] and good
        diagonal[u] = np.sqrt(pivot if good else 1.0)
        inv[i, u] = 1.0 / diagonal[u]


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _packed_cholesky(Mp, floor, ok, inv):
    """The lower Cholesky factor of each lane's ``M`` (packed by rows, ``Mp[i (i + 1) / 2 + j]``)
    in place, two rows at a time (left-looking): an entry is the dot product of two rows of
    ``L``, kept in a register, eight of them at a time (rows ``i`` and ``i + 1`` against rows
    ``j`` to ``j + 3``: independent chains that share their loads), so that each lane group's
    factor is read from the cache about ``k**3 / 48`` times in vector loads instead of read and
    written ``k**3 / 6`` times. The operations on an entry and their order are those of the
    right-looking factorisation. A pivot not above ``floor[u]`` (or NaN) sets
    ``ok[u] = False`` and is replaced by 1. ``inv``: ``k x lanes`` workspace."""
    pairs, lanes = Mp.shape
    k = inv.shape[0]
    for g in range(0, lanes, WIDTH):
        for i in range(0, k, 2):
            oi = i * (i + 1) // 2
            if i + 1 == k:  # the last row alone
                for j in range(i):
                    _cholesky_entry(Mp, lanes, g, oi, j * (j + 1) // 2, j, inv, False)
                _cholesky_entry(Mp, lanes, g, oi, oi, i, inv, True)
                _cholesky_pivot(Mp, lanes, g, oi, i, floor, ok, inv)
                continue
            oh = oi + i + 1  # row i + 1
            j = 0
            while j + 4 <= i:
                o0 = j * (j + 1) // 2
                o1 = o0 + j + 1
                o2 = o1 + j + 2
                o3 = o2 + j + 3
                a0 = vload(Mp, (oi + j) * lanes + g)
                a1 = vload(Mp, (oi + j + 1) * lanes + g)
                a2 = vload(Mp, (oi + j + 2) * lanes + g)
                a3 = vload(Mp, (oi + j + 3) * lanes + g)
                b0 = vload(Mp, (oh + j) * lanes + g)
                b1 = vload(Mp, (oh + j + 1) * lanes + g)
                b2 = vload(Mp, (oh + j + 2) * lanes + g)
                b3 = vload(Mp, (oh + j + 3) * lanes + g)
                for m in range(j):
                    x = vload(Mp, (oi + m) * lanes + g)
                    y = vload(Mp, (oh + m) * lanes + g)
                    l0 = vload(Mp, (o0 + m) * lanes + g)
                    l1 = vload(Mp, (o1 + m) * lanes + g)
                    l2 = vload(Mp, (o2 + m) * lanes + g)
                    l3 = vload(Mp, (o3 + m) * lanes + g)
                    a0 = vfnma(a0, x, l0)
                    a1 = vfnma(a1, x, l1)
                    a2 = vfnma(a2, x, l2)
                    a3 = vfnma(a3, x, l3)
                    b0 = vfnma(b0, y, l0)
                    b1 = vfnma(b1, y, l1)
                    b2 = vfnma(b2, y, l2)
                    b3 = vfnma(b3, y, l3)
                # The 4 x 4 triangle of the columns j..j+3, for both rows.
                r0 = vload(inv, j * lanes + g)
                r1 = vload(inv, (j + 1) * lanes + g)
                r2 = vload(inv, (j + 2) * lanes + g)
                r3 = vload(inv, (j + 3) * lanes + g)
                l10 = vload(Mp, (o1 + j) * lanes + g)
                l20 = vload(Mp, (o2 + j) * lanes + g)
                l30 = vload(Mp, (o3 + j) * lanes + g)
                l21 = vload(Mp, (o2 + j + 1) * lanes + g)
                l31 = vload(Mp, (o3 + j + 1) * lanes + g)
                l32 = vload(Mp, (o3 + j + 2) * lanes + g)
                a0 = vmul(a0, r0)
                a1 = vmul(vfnma(a1, a0, l10), r1)
                a2 = vmul(vfnma(vfnma(a2, a0, l20), a1, l21), r2)
                a3 = vmul(vfnma(vfnma(vfnma(a3, a0, l30), a1, l31), a2, l32), r3)
                b0 = vmul(b0, r0)
                b1 = vmul(vfnma(b1, b0, l10), r1)
                b2 = vmul(vfnma(vfnma(b2, b0, l20), b1, l21), r2)
                b3 = vmul(vfnma(vfnma(vfnma(b3, b0, l30), b1, l31), b2, l32), r3)
                vstore(Mp, (oi + j) * lanes + g, a0)
                vstore(Mp, (oi + j + 1) * lanes + g, a1)
                vstore(Mp, (oi + j + 2) * lanes + g, a2)
                vstore(Mp, (oi + j + 3) * lanes + g, a3)
                vstore(Mp, (oh + j) * lanes + g, b0)
                vstore(Mp, (oh + j + 1) * lanes + g, b1)
                vstore(Mp, (oh + j + 2) * lanes + g, b2)
                vstore(Mp, (oh + j + 3) * lanes + g, b3)
                j += 4
            while j < i:
                oj = j * (j + 1) // 2
                _cholesky_entry(Mp, lanes, g, oi, oj, j, inv, False)
                _cholesky_entry(Mp, lanes, g, oh, oj, j, inv, False)
                j += 1
            _cholesky_entry(Mp, lanes, g, oi, oi, i, inv, True)
            _cholesky_pivot(Mp, lanes, g, oi, i, floor, ok, inv)
            _cholesky_entry(Mp, lanes, g, oh, oi, i, inv, False)
            _cholesky_entry(Mp, lanes, g, oh, oh, i + 1, inv, True)
            _cholesky_pivot(Mp, lanes, g, oh, i + 1, floor, ok, inv)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _column_dot(acc, A, a, a_step, B, b, b_step, k, subtract):
    """``acc + sum_i A_i B_i`` (or ``acc - ...`` when ``subtract``), the sum in order, for
    the 8-lane vectors ``A_i`` at the flat offsets ``a + i a_step`` of ``A`` (``B`` alike)."""
    if subtract:
        for i in range(k):
            acc = vfnma(acc, vload(A, a + i * a_step), vload(B, b + i * b_step))
    else:
        for i in range(k):
            acc = vfma(acc, vload(A, a + i * a_step), vload(B, b + i * b_step))
    return acc


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _column_subtract(A, a, a_step, s, B, b, b_step, k):
    """``A_i -= s B_i`` for the 8-lane vectors at ``a + i a_step`` and ``b + i b_step``."""
    for i in range(k):
        at = a + i * a_step
        vstore(A, at, vfnma(vload(A, at), s, vload(B, b + i * b_step)))


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath={"contract"}, error_model="numpy")
def _lanes_solve(X, Y, ridge, hoods, first, code, inv_h2, powers, work, ok):
    """Solve the saddle-point systems of the neighbourhoods ``hoods[first + u]``, one per lane
    ``u`` (the last one repeated past the end), all at once; ``lanes`` is a multiple of 8.

    The lanes are the innermost, contiguous axis of every array, and every step is the same
    for all of them: the ``k x k`` systems are solved at SIMD width, where one system at a time
    runs loops of a few elements. The heavy steps work on :data:`._simd.vec8` values (8 lanes
    in a register); the light ones (loading, bounding boxes, per-lane checks) loop over the
    lanes. The null-space method of
    :mod:`skinterp.kernel_machine._direct`: with ``P = Q1 R`` (Gram-Schmidt, twice),
    ``M = Pi (K + Lambda) Pi + c Q1 Q1^T`` (``c`` the mean eigenvalue of the null-space block)
    is symmetric positive definite for a kernel conditionally positive definite of the tail's
    order; ``M a = Pi y`` by Cholesky (packed lower triangle), one step of iterative refinement
    against the exact ``K``, and ``b = R^{-1} Q1^T (y - (K + Lambda) a)``. ``ok[u]`` is False
    when lane ``u``'s system is not numerically positive definite there (its results are then
    not meaningful: the caller solves it by LU).

    Results in ``work`` (:func:`_lanes_workspace`): ``a`` in ``work[7]`` (``c x k x lanes``),
    ``b`` in ``work[12]`` (``c x Q x lanes``, in the basis of the monomials of
    ``(x - shift) / scale``), shift and ``1 / scale`` in ``work[1]``.
    """
    pts, box, P, R, Kp, Mp, W, A, residual, scalars, middle, V, tail = work
    k, d, lanes = pts.shape
    c, Q = Y.shape[1], powers.shape[0]
    n_hoods = hoods.shape[0]
    for u in range(lanes):
        ok[u] = Q <= k
    if Q > k:
        return
    # Points and targets; the bounding box of each neighbourhood.
    for u in range(lanes):
        hood = hoods[min(first + u, n_hoods - 1)]
        for i in range(k):
            row = hood[i]
            for t in range(d):
                pts[i, t, u] = X[row, t]
            for o in range(c):
                A[o, i, u] = Y[row, o]
    for t in range(d):
        low, high = box[0, t], box[1, t]
        low[:] = pts[0, t]
        high[:] = pts[0, t]
        for i in range(1, k):
            p = pts[i, t]
            for u in range(lanes):
                low[u] = min(low[u], p[u])
                high[u] = max(high[u], p[u])
        for u in range(lanes):
            half = (high[u] - low[u]) / 2
            low[u] = (high[u] + low[u]) / 2  # shift
            high[u] = 1.0 / half if half != 0 else 1.0  # 1 / scale
    # P: the scaled monomials at the points.
    for g in range(0, lanes, WIDTH):
        for i in range(k):
            for q in range(Q):
                value = vbroadcast(1.0)
                for t in range(d):
                    x = vload(pts, (i * d + t) * lanes + g)
                    scaled = vmul(
                        vsub(x, vload(box, t * lanes + g)), vload(box, (d + t) * lanes + g)
                    )
                    for _ in range(powers[q, t]):
                        value = vmul(value, scaled)
                vstore(P, (i * Q + q) * lanes + g, value)
    # Squared distances of the lower triangle's pairs (in Mp), then the kernel over all at
    # once (into Kp).
    _packed_squared_distances(pts, Mp)
    flat, values = Mp.reshape(-1), Kp.reshape(-1)
    d2, exponent, prefactor, bits = kernel_workspace(KERNEL_BLOCK, values)
    for start in range(0, flat.shape[0], KERNEL_BLOCK):  # blocks of KERNEL_BLOCK values
        stop = min(start + KERNEL_BLOCK, flat.shape[0])
        width = stop - start
        _distances_to_kernel(
            flat[start:stop],
            inv_h2,
            values[start:stop],
            code,
            exponent[:width],
            prefactor[:width],
            bits[:width],
        )
    trace = scalars[0]
    trace[:] = 0.0
    for u in range(lanes):
        hood = hoods[min(first + u, n_hoods - 1)]
        for i in range(k):
            Kp[i * (i + 1) // 2 + i, u] += ridge[hood[i]]
    for i in range(k):
        diagonal = Kp[i * (i + 1) // 2 + i]
        for u in range(lanes):
            trace[u] += diagonal[u]
    # Kp keeps K + Lambda for the refinement step; M goes to Mp.
    if Q == 0:
        Mp[:, :] = Kp
    if Q > 0:
        # P = Q1 R by Gram-Schmidt, twice (columns orthonormal to rounding).
        scratch = scalars[1]
        R[:, :, :] = 0.0
        before = scalars[4]
        step = Q * lanes
        for g in range(0, lanes, WIDTH):
            for q in range(Q):
                column = q * lanes + g
                vstore(before, g, _column_dot(vzero(), P, column, step, P, column, step, k, False))
                for _ in range(2):
                    for r in range(q):
                        other = r * lanes + g
                        dot = _column_dot(vzero(), P, other, step, P, column, step, k, False)
                        _column_subtract(P, column, step, dot, P, other, step, k)
                        at = (r * Q + q) * lanes + g
                        vstore(R, at, vadd(vload(R, at), dot))
                vstore(
                    scratch, g, _column_dot(vzero(), P, column, step, P, column, step, k, False)
                )
                for u in range(g, g + WIDTH):
                    norm = np.sqrt(scratch[u])
                    # P of (numerically) lower rank: the tail is not unisolvent on these points.
                    if not norm > 1e-12 * np.sqrt(before[u]):
                        ok[u] = False
                        norm = 1.0
                    R[q, q, u] = norm
                    scratch[u] = 1.0 / norm
                inverse = vload(scratch, g)
                for i in range(k):
                    at = column + i * step
                    vstore(P, at, vmul(vload(P, at), inverse))
        # W = (K + Lambda) Q1 from the packed lower triangle.
        _packed_product_columns(Kp, P, W)
        # G = Q1^T W, c = (trace(K) - trace(G)) / (k - Q), V = W - Q1 (G + c I).
        for g in range(0, lanes, WIDTH):
            for q in range(Q):
                for r in range(Q):
                    dot = _column_dot(
                        vzero(), P, q * lanes + g, step, W, r * lanes + g, step, k, False
                    )
                    vstore(middle, (q * Q + r) * lanes + g, dot)
        for q in range(Q):
            for r in range(q):
                a, b = middle[q, r], middle[r, q]
                for u in range(lanes):
                    mean = 0.5 * (a[u] + b[u])
                    a[u] = mean
                    b[u] = mean
        shift = scalars[2]
        for u in range(lanes):
            total = trace[u]
            for q in range(Q):
                total -= middle[q, q, u]
            value = abs(total / max(k - Q, 1))
            shift[u] = value if value > 0.0 and np.isfinite(value) else 1.0
        for q in range(Q):
            diagonal = middle[q, q]
            for u in range(lanes):
                diagonal[u] += shift[u]
        for g in range(0, lanes, WIDTH):
            for i in range(k):
                for r in range(Q):
                    v = _column_dot(
                        vload(W, (i * Q + r) * lanes + g),
                        P,
                        (i * Q) * lanes + g,
                        lanes,
                        middle,
                        r * lanes + g,
                        Q * lanes,
                        Q,
                        True,
                    )
                    vstore(V, (i * Q + r) * lanes + g, v)
        # M = K + Lambda - Q1 V^T - W Q1^T (lower triangle).
        _packed_projected(Kp, P, V, W, Mp)
        _project(P, A, scratch)
    # Cholesky of M (:func:`_packed_cholesky`), packed lower triangle. A pivot at the rounding
    # level of M's diagonal means a numerically singular system (duplicate points): LU's.
    floor = scalars[5]
    floor[:] = 0.0
    for j in range(k):
        dj = Mp[j * (j + 1) // 2 + j]
        for u in range(lanes):
            floor[u] = max(floor[u], abs(dj[u]))
    for u in range(lanes):
        floor[u] *= 16 * k * 2.220446049250313e-16
    _packed_cholesky(Mp, floor, ok, residual[0])
    # a = M^{-1} Pi y (Pi y is in A), then one step of iterative refinement against the exact
    # residual Pi (y - (K + Lambda) a): the rank-2Q projection rounds M's entries at
    # eps * |K|, which can cost digits.
    _packed_cholesky_solve(Mp, A)
    _packed_product(Kp, A, residual)
    for u in range(lanes):
        hood = hoods[min(first + u, n_hoods - 1)]
        for i in range(k):
            for o in range(c):
                residual[o, i, u] = Y[hood[i], o] - residual[o, i, u]
    if Q > 0:
        # Q1^T (y - (K + Lambda) a) for the tail, before the residual is projected.
        for g in range(0, lanes, WIDTH):
            for o in range(c):
                for q in range(Q):
                    dot = _column_dot(
                        vzero(),
                        P,
                        q * lanes + g,
                        Q * lanes,
                        residual,
                        o * k * lanes + g,
                        lanes,
                        k,
                        False,
                    )
                    vstore(tail, (o * tail.shape[1] + q) * lanes + g, dot)
        _project(P, residual, scalars[1])
    _packed_cholesky_solve(Mp, residual)
    for g in range(0, lanes, WIDTH):
        for o in range(c):
            for i in range(k):
                at = (o * k + i) * lanes + g
                vstore(A, at, vadd(vload(A, at), vload(residual, at)))
    if Q > 0:
        # The correction changed Q1^T (K + Lambda) a by W^T (correction): b from the refined a.
        for g in range(0, lanes, WIDTH):
            for o in range(c):
                for q in range(Q):
                    at = (o * tail.shape[1] + q) * lanes + g
                    acc = _column_dot(
                        vload(tail, at),
                        W,
                        q * lanes + g,
                        Q * lanes,
                        residual,
                        o * k * lanes + g,
                        lanes,
                        k,
                        True,
                    )
                    vstore(tail, at, acc)
        for o in range(c):
            for q in range(Q - 1, -1, -1):
                acc = tail[o, q]
                for r in range(q + 1, Q):
                    other, rqr = tail[o, r], R[q, r]
                    for u in range(lanes):
                        acc[u] -= rqr[u] * other[u]
                rqq = R[q, q]
                for u in range(lanes):
                    acc[u] /= rqq[u]
    for u in range(lanes):
        for o in range(c):
            for i in range(k):
                if not np.isfinite(A[o, i, u]):
                    ok[u] = False
            for q in range(Q):
                if not np.isfinite(tail[o, q, u]):
                    ok[u] = False


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _batched_solve_and_evaluate(
    X, Y, ridge, neighborhoods, Z, query_order, starts, code, inv_h2, powers, out
):
    """:func:`_solve_and_evaluate` with the systems solved ``LANES`` at a time by
    :func:`_lanes_solve` (up to ``LANES_MAX_NEIGHBORS`` neighbours; LU beyond); a
    neighbourhood whose system is not numerically positive definite there (a tail below the
    kernel's minimum degree, a numerically singular system) is solved by LU as before, which
    raises ``LinAlgError`` when it is singular."""
    n_hoods, k = neighborhoods.shape
    d, c, Q = X.shape[1], Y.shape[1], powers.shape[0]
    if k > LANES_MAX_NEIGHBORS:
        # Large systems: LAPACK's LU on each is faster than short loops over a few lanes.
        _solve_and_evaluate(
            X, Y, ridge, neighborhoods, Z, query_order, starts, code, inv_h2, powers, out
        )
        return
    # A whole number of vec8 groups (the last neighbourhood repeated in the lanes past the end).
    lanes = min(LANES, -(-n_hoods // WIDTH) * WIDTH)
    work = _lanes_workspace(k, d, c, Q, lanes)
    box, A, tail = work[1], work[7], work[12]
    ok = np.empty(lanes, dtype=np.bool_)
    values = np.empty(k)
    d2, exponent, prefactor, bits = kernel_workspace(k, values)
    monomials = np.empty(Q)
    coef = np.empty(k)
    for first in range(0, n_hoods, lanes):
        _lanes_solve(X, Y, ridge, neighborhoods, first, code, inv_h2, powers, work, ok)
        for u in range(min(lanes, n_hoods - first)):
            b = first + u
            if starts[b + 1] == starts[b]:
                continue
            if not ok[u]:
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
            hood = neighborhoods[b]
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
                for q in range(Q):
                    value = 1.0
                    for t in range(d):
                        for _ in range(powers[q, t]):
                            value *= (z[t] - box[0, t, u]) * box[1, t, u]
                    monomials[q] = value
                for o in range(c):
                    for j in range(k):
                        coef[j] = A[o, j, u]
                    total = 0.0
                    for j in range(k):
                        total += values[j] * coef[j]
                    for q in range(Q):
                        total += monomials[q] * tail[o, q, u]
                    out[query, o] = total


# RBFInterpolator's tree is scipy.spatial.KDTree(y), whose leafsize is 10: the leaf size
# decides which of the points tied on a neighbourhood's boundary a query returns.
SCIPY_LEAFSIZE = 10
# Queries per chunk of the neighbour search (about 0.05 s for k = 50 in 2-D).
QUERY_CHUNK = 10_000
# The grid search (:mod:`._grid_search`) replaces the tree when its searches from this many
# training points examine at most GRID_MAX_SCAN (k + 1) points on average; a query that has
# examined GRID_MAX_FALLBACK_SCAN (k + 1) points without a certain set goes to the tree.
GRID_SAMPLE = 256
GRID_MAX_SCAN = 10
GRID_MAX_FALLBACK_SCAN = 30


def _morton_order(Z):
    """The permutation of the rows of ``Z`` that sorts them along a Morton (Z-order) curve of
    their bounding box (``63 // d`` bits a coordinate, at most 21)."""
    n, d = Z.shape
    bits = max(1, min(21, 63 // max(d, 1)))
    low, high = Z.min(axis=0), Z.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    cells = ((Z - low) / span * (2**bits - 1)).astype(np.uint64)
    key = np.zeros(n, dtype=np.uint64)
    one = np.uint64(1)
    for b in range(bits - 1, -1, -1):
        for t in range(d):
            key = (key << one) | ((cells[:, t] >> np.uint64(b)) & one)
    return np.argsort(key, kind="stable")


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _row_hashes(index, weights):
    """A random linear form of each row modulo 2**64."""
    n, k = index.shape
    keys = np.empty(n, dtype=np.uint64)
    for r in range(n):
        total = np.uint64(0)
        for j in range(k):
            total += np.uint64(index[r, j]) * weights[j]
        keys[r] = total
    return keys


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _groups_in_first_order(index, keys, by_key, in_place):
    """The groups of identical rows, from the rows sorted by hash (``by_key``, stable), in the
    order of their first row: ``(first rows, members, starts)``, the members of a group in
    ascending order. Linear after the sort: each row's leader (its group's first row, the
    first of the group in ``by_key``), then the groups numbered as their leaders come, and the
    rows placed by a counting sort. ``in_place``: the first rows are written over the first rows
    of ``index`` (a group's first row is never before its number), which saves the allocation
    of their copy (page faults: 30 ms for 10**5 rows of 50)."""
    n, k = index.shape
    leader = np.empty(n, dtype=np.int64)
    lead = 0
    for p in range(n):
        row = by_key[p]
        new = p == 0 or keys[row] != keys[by_key[p - 1]]
        if not new:
            a, b = index[row], index[by_key[p - 1]]
            for j in range(k):
                if a[j] != b[j]:
                    new = True
                    break
        if new:
            lead = row
        leader[row] = lead
    group = np.empty(n, dtype=np.int64)
    counts = np.zeros(n + 1, dtype=np.int64)
    n_groups = 0
    for row in range(n):
        if leader[row] == row:
            group[row] = n_groups
            n_groups += 1
        else:
            group[row] = group[leader[row]]
        counts[group[row] + 1] += 1
    starts = np.cumsum(counts[: n_groups + 1])
    hoods = index if in_place else np.empty((n_groups, k), dtype=index.dtype)
    members = np.empty(n, dtype=np.int64)
    cursor = starts[:n_groups].copy()
    for row in range(n):
        g = group[row]
        if leader[row] == row and not (in_place and g == row):
            for j in range(k):
                hoods[g, j] = index[row, j]
        members[cursor[g]] = row
        cursor[g] += 1
    return hoods[:n_groups], members, starts


def _group_identical_rows(index, in_place=False):
    """Queries grouped by neighbourhood: ``(neighborhoods, order, starts)`` with the queries
    ``order[starts[b]:starts[b + 1]]`` sharing the sorted row ``neighborhoods[b]``, the
    groups in the order of their first row (for queries in Morton order, neighbouring
    neighbourhoods stay together: the lanes of a solve read nearby training points).

    Rows are sorted by a hash (a random linear form modulo 2**64) and consecutive rows compared
    whole, so that two different rows are never grouped (a hash collision only splits a group,
    which then is solved twice); ``numpy.unique(axis=0)``, which sorts the rows
    lexicographically, took 0.6 s for 10**5 rows of 50, numpy's hash and compare 0.05 s, this
    (numba, linear after the sort of the hashes) about 0.015 s with ``in_place`` (the
    neighbourhoods then overwrite the first rows of ``index``, a C-contiguous int64 array).
    """
    if not in_place:
        index = np.ascontiguousarray(index)
    weights = np.random.RandomState(0).randint(1, 2**62, size=index.shape[1], dtype=np.int64)
    keys = _row_hashes(index, weights.astype(np.uint64) | np.uint64(1))
    by_key = np.argsort(keys, kind="stable")
    return _groups_in_first_order(index, keys, by_key, in_place)


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
    search : {"auto", "grid", "tree"}
        How the neighbourhoods are found: ``"auto"`` chooses the grid when it pays
        (:meth:`_choose_grid`), ``"grid"`` takes it whenever it applies (1 to 3 dimensions,
        ``k < n``; tests), ``"tree"`` never. The sets are cKDTree's in every case.
    """

    def __init__(self, X, Y, code, bandwidth, ridge, powers, neighbors, search="auto"):
        self.X = np.ascontiguousarray(X, dtype=np.float64)
        self.Y = np.ascontiguousarray(Y, dtype=np.float64)
        self.code, self.bandwidth = code, float(bandwidth)
        self.ridge = np.asarray(ridge, dtype=np.float64)
        self.powers = powers
        self.k = int(min(neighbors, X.shape[0]))
        # The tree is built when first needed (with the grid, only for ties on a
        # neighbourhood's boundary and queries far from the data: 33 ms of the fit at
        # n = 10**5 in 2-D saved on scattered data).
        self._tree = None
        self._tree_lock = threading.Lock()
        self.grid = None if search == "tree" else self._choose_grid(always=search == "grid")
        # With the grid, the solves read the training set in its cell order, where the points
        # of a neighbourhood are close in memory (the neighbourhoods hold positions in that
        # order); the tree's indices are mapped to it (``rank``).
        if self.grid is None:
            self.X_solve, self.Y_solve, self.ridge_solve, self.rank = (
                self.X,
                self.Y,
                self.ridge,
                None,
            )
        else:
            order = self.grid.order
            self.X_solve = np.ascontiguousarray(self.X[order])
            self.Y_solve = np.ascontiguousarray(self.Y[order])
            self.ridge_solve = np.ascontiguousarray(self.ridge[order])
            self.rank = np.empty_like(order)
            self.rank[order] = np.arange(len(order))

    @property
    def tree(self):
        """The ``cKDTree`` of ``X`` with scipy ``KDTree``'s defaults (leaf size 10, where
        cKDTree's is 16): among points tied on a neighbourhood's boundary it takes the ones
        RBFInterpolator's tree takes. Built once, on first use, by one thread."""
        if self._tree is None:
            with self._tree_lock:
                if self._tree is None:
                    self._tree = cKDTree(self.X, leafsize=SCIPY_LEAFSIZE)
        return self._tree

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_tree_lock"]  # a lock does not pickle; the tree is rebuilt when needed
        state["_tree"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._tree_lock = threading.Lock()

    def _choose_grid(self, always=False):
        """A :class:`~._grid_search.CellGrid` of the training points when it finds the
        neighbourhoods with less work than the tree: in 1 to 3 dimensions, when its searches
        from a fixed sample of the training points examine at most ``GRID_MAX_SCAN`` times
        ``k + 1`` points on average (uniform data: 2.5 times in 2-D, 6 in 3-D; clustered
        data scan crowded cells); else None (the tree alone)."""
        n, d = self.X.shape
        if not 1 <= d <= GRID_MAX_FEATURES or self.k >= n:
            return None
        grid = CellGrid(self.X)
        if always:
            return grid
        sample = self.X[np.unique(np.linspace(0, n - 1, min(n, GRID_SAMPLE)).astype(np.int64))]
        examined = self._grid_search(grid, sample)[2]
        return grid if examined.mean() <= GRID_MAX_SCAN * (self.k + 1) else None

    def _grid_search(self, grid, Z):
        """:func:`~._grid_search.grid_search` of the rows of ``Z``: ``(index, fallback,
        examined)``; a query examines at most ``GRID_MAX_FALLBACK_SCAN`` times ``k + 1``
        points before it is left to the tree."""
        k = self.k
        index = np.empty((Z.shape[0], k), dtype=np.int64)
        fallback = np.empty(Z.shape[0], dtype=np.bool_)
        examined = np.empty(Z.shape[0], dtype=np.int64)
        grid_search(
            np.ascontiguousarray(Z),
            grid.low,
            grid.inverse_width,
            grid.shape,
            grid.starts,
            grid.points,
            k,
            GRID_MAX_FALLBACK_SCAN * (k + 1),
            index,
            fallback,
            examined,
        )
        return index, fallback, examined

    def neighbourhoods(self, Z, rows):
        """The positions ``(len(rows), k)`` in ``X_solve``, ascending in each row, of the ``k``
        training points nearest to each query ``Z[rows]``: the set ``cKDTree.query`` returns
        (the grid's queries with a tie on the boundary, or too far from the data, are asked to
        the tree)."""
        k, queries = self.k, Z[rows]
        if self.grid is None:
            _, found = self.tree.query(queries, k)
            return np.sort(found.reshape(len(rows), k), axis=1)
        index, fallback, _ = self._grid_search(self.grid, queries)
        if fallback.any():
            _, found = self.tree.query(queries[fallback], k)
            index[fallback] = np.sort(self.rank[found.reshape(-1, k)], axis=1)
        return index

    def predict(self, Z, *, n_jobs=None, verbose=0):
        """Values ``(len(Z), c)`` at the queries ``Z``."""
        Z = np.ascontiguousarray(Z, dtype=np.float64)
        k, Q, c, d = self.k, self.powers.shape[0], self.Y.shape[1], self.X.shape[1]
        out = np.empty((Z.shape[0], c))
        if Z.shape[0] == 0:
            return out
        index = np.empty((Z.shape[0], k), dtype=np.int64)
        # Queries in Morton order: consecutive searches walk the same branches of the tree
        # (measured: 0.85 -> 0.65 CPU s for 10**5 queries, k = 50, in 2-D).
        spatial = _morton_order(Z)

        def search(start, stop):
            # The grid search and cKDTree's query release the GIL: the chunks run in parallel.
            # Row i of index: the query spatial[i].
            index[start:stop] = self.neighbourhoods(Z, spatial[start:stop])

        run_in_chunks(
            search,
            Z.shape[0],
            QUERY_CHUNK,
            n_jobs=n_jobs,
            verbose=verbose,
            description=f"{k} nearest neighbours of {Z.shape[0]} queries",
        )
        # In a worker thread (interruptible): a SIGINT that lands while numba boxes the
        # returned arrays (a Python callback in the main thread) became a SystemError.
        neighborhoods, order, starts = interruptible(_group_identical_rows, index, in_place=True)
        order = spatial[order]
        # Batches of a few groups of LANES neighbourhoods (a few milliseconds each): Ctrl-C is
        # prompt, threads share well.
        batch = LANES * max(1, 4_000_000 // (LANES * (k + Q) ** 2 * max(d, 1)))
        if k > LANES_MAX_NEIGHBORS:  # LU one system at a time
            batch = max(1, 200_000 // ((k + Q) ** 2 * max(d, 1)))
        inv_h2 = 1.0 / self.bandwidth**2
        powers = np.ascontiguousarray(self.powers, dtype=np.int64)

        def work(b0, b1):
            try:
                _batched_solve_and_evaluate(
                    self.X_solve,
                    self.Y_solve,
                    self.ridge_solve,
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
