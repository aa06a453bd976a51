"""The Delaunay simplex of one query without a triangulation: the lifted linear program.

Lift every training point onto the paraboloid, ``x_i -> (x_i, ||x_i - q||^2)``. The Delaunay
simplex containing ``q`` is the lower facet of the lifted hull above ``q``, and its barycentric
weights solve the linear program

    min  sum_i lambda_i ||x_i - q||^2   s.t.  sum_i lambda_i x_i = q,  sum_i lambda_i = 1,
    lambda >= 0

(centring the paraboloid at ``q`` only adds a constant on the feasible set and keeps the numbers
well scaled). Its dual variables ``(a, b)`` describe the lifted hyperplane through the simplex'
vertices; the dual is feasible -- the answer is certified -- when no lifted point lies below it:
``||x_j - q||^2 - a . (x_j - q) - b >= -tol`` for every ``j``, i.e. the circumsphere of the
simplex is empty.

:func:`lifted_batch` is a dense revised simplex method on the ``(r + 1) x (r + 1)`` basis with
*column generation*: it prices a candidate set (the ``n_candidates`` nearest points to ``q``) and,
when the candidates are optimal, prices all points (one pass, the certificate) and adds the most
violating ones. It starts from a feasible basis, the corral of Wolfe's projection of ``q``
(which contains ``q``), completed with nearby points at zero weight. Dantzig's rule with
lowest-index tie-breaking is used, and Bland's rule after a run of degenerate pivots, so the
method terminates. A step cap returns a failure code and the caller solves the full program with
:func:`scipy.optimize.linprog` instead.

Co-spherical points (the tie-break shared with the triangulation)
-----------------------------------------------------------------
When more than ``r + 1`` points lie on the empty circumsphere found (a Delaunay *cell* that is not
a simplex, e.g. a square of a grid), every triangulation of the cell is optimal. The answer is
then made canonical by a second, lexicographic stage: among the optimal solutions, minimise
``sum_i lambda_i h_i`` over the cell's points, where ``h`` are the tie-breaking heights of
:func:`skinterp.simplicial._triangulation.tie_heights`. This is the limit, as ``epsilon -> 0``,
of the Delaunay simplex for the perturbed lifting ``||x_i||^2 + epsilon h_i``, i.e. the cell is
triangulated by the regular triangulation of its points with heights ``h``, exactly the
triangulation :func:`skinterp.simplicial._triangulation.break_ties` builds for the
``"triangulation"`` method. A cell is the set of points whose lifted residual is at most
``TIE_RTOL`` times the squared circumradius.
"""

import numba
import numpy as np

from .._numba import NUMBA_CACHE, SAFE_FASTMATH
from ._hull import nearest_order
from ._lapack import invert
from ._triangulation import TIE_RTOL

# Reassociation lets the dot products of the pricing loops vectorise; no NaN/inf flags, so the
# guards keep working.
_FASTMATH = SAFE_FASTMATH

LP_OK = 0
LP_FAILED = 1


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _refactor(points, q, basis, B, Binv):
    """``B``: the lifted columns ``(x_j - q, 1)`` of the basis; ``Binv`` its inverse. Returns
    False when ``B`` is singular (the caller gives up: the exact fallback solves the query)."""
    n1 = basis.shape[0]
    r = n1 - 1
    for c in range(n1):
        j = basis[c]
        for t in range(r):
            B[t, c] = points[j, t] - q[t]
        B[r, c] = 1.0
    return invert(B, Binv)


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _pivot(points, q, entering, basis, in_basis, Binv, xB, col, u, bland):
    """One pivot of the revised simplex method: ``entering`` replaces the ratio test's winner.

    Updates ``xB``, ``Binv`` (product form), ``basis`` and ``in_basis``; returns the position
    that left and the step ``theta``, or ``(-1, inf)`` when no position can leave. Ties of the
    ratio test go to the largest pivot (Bland's rule: the lowest index when ``bland``).
    """
    n1 = basis.shape[0]
    r = n1 - 1
    for t in range(r):
        col[t] = points[entering, t] - q[t]
    col[r] = 1.0
    for i in range(n1):  # direction u = B^{-1} A_j
        value = 0.0
        for t in range(n1):
            value += Binv[i, t] * col[t]
        u[i] = value
    leave = -1
    theta = np.inf
    for i in range(n1):
        if u[i] > 1e-11:
            ratio = xB[i] / u[i]
            if ratio < theta - 1e-14 or (
                ratio <= theta + 1e-14
                and leave >= 0
                and (basis[i] < basis[leave] if bland else u[i] > u[leave])
            ):
                theta = ratio
                leave = i
    if leave < 0:
        return leave, theta
    for i in range(n1):
        xB[i] = max(xB[i] - theta * u[i], 0.0)
    xB[leave] = theta
    pivot = u[leave]
    for t in range(n1):
        Binv[leave, t] /= pivot
    for i in range(n1):
        if i != leave and u[i] != 0.0:
            factor = u[i]
            for t in range(n1):
                Binv[i, t] -= factor * Binv[leave, t]
    in_basis[basis[leave]] = False
    basis[leave] = entering
    in_basis[entering] = True
    return leave, theta


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _lifted_costs(points, q, cost):
    """``cost[j] = ||x_j - q||^2`` (the lifted heights); returns their largest (> 0)."""
    m, r = points.shape
    scale = 0.0
    for j in range(m):
        value = 0.0
        for t in range(r):
            diff = points[j, t] - q[t]
            value += diff * diff
        cost[j] = value
        if value > scale:
            scale = value
    return max(scale, 1e-300)


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _join_if_independent(points, q, j, ortho, n_basis, col):
    """Gram-Schmidt of the lifted column of point ``j`` against ``ortho[:n_basis]``: stores it
    as row ``n_basis`` and returns True when it is independent of them."""
    n1 = ortho.shape[0]
    r = n1 - 1
    for t in range(r):
        col[t] = points[j, t] - q[t]
    col[r] = 1.0
    norm0 = 0.0
    for t in range(n1):
        norm0 += col[t] * col[t]
    norm0 = np.sqrt(norm0)
    for _ in range(2):  # twice is enough (Kahan)
        for b in range(n_basis):
            dot = 0.0
            for t in range(n1):
                dot += ortho[b, t] * col[t]
            for t in range(n1):
                col[t] -= dot * ortho[b, t]
    norm = 0.0
    for t in range(n1):
        norm += col[t] * col[t]
    norm = np.sqrt(norm)
    if norm <= 1e-9 * norm0:
        return False
    for t in range(n1):
        ortho[n_basis, t] = col[t] / norm
    return True


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _initial_basis(points, q, start, n_start, cost, order, basis, in_basis):
    """A full-rank start basis: the support ``start[:n_start]``, completed with the points of
    ``order`` (the nearest ones), then, rarely, with any point, that keep it independent.
    Returns whether ``r + 1`` points were found."""
    m, r = points.shape
    n1 = r + 1
    ortho = np.zeros((n1, n1))
    col = np.empty(n1)
    n_basis = 0
    for pass_ in range(3):
        if pass_ == 2:
            if n_basis == n1:
                break
            order = nearest_order(cost, m, m)  # rarely needed: the nearest were rank-deficient
        limit = n_start if pass_ == 0 else order.shape[0]
        for c in range(limit):
            if n_basis == n1:
                break
            j = start[c] if pass_ == 0 else order[c]
            if in_basis[j]:
                continue
            if _join_if_independent(points, q, j, ortho, n_basis, col):
                basis[n_basis] = j
                in_basis[j] = True
                n_basis += 1
    return n_basis == n1


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _initial_candidates(order, n_candidates, basis, in_cand, cand):
    """The priced candidate set: the ``n_candidates`` nearest points and the basis; returns
    its size."""
    n_cand = 0
    for c in range(min(n_candidates, order.shape[0])):
        j = order[c]
        in_cand[j] = True
        cand[n_cand] = j
        n_cand += 1
    for i in range(basis.shape[0]):
        j = basis[i]
        if not in_cand[j]:
            in_cand[j] = True
            cand[n_cand] = j
            n_cand += 1
    return n_cand


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _duals(weights, basis, Binv, y):
    """``y^T = w_B^T B^{-1}`` for the basis' weights ``w_B`` (row-wise, contiguous)."""
    n1 = basis.shape[0]
    for t in range(n1):
        y[t] = 0.0
    for i in range(n1):
        weight = weights[basis[i]]
        for t in range(n1):
            y[t] += weight * Binv[i, t]


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _price_candidates(points, cost, y, shift, cand, n_cand, in_basis, price_tol, bland):
    """The entering point among the candidates (most negative reduced cost below
    ``-price_tol``, or the lowest index with Bland's rule), ``-1`` when they are optimal."""
    r = points.shape[1]
    entering = -1
    best = -price_tol
    for c in range(n_cand):
        j = cand[c]
        if in_basis[j]:
            continue
        dot = 0.0
        for t in range(r):
            dot += y[t] * points[j, t]
        reduced = cost[j] - shift - dot
        if reduced < best:
            if bland:
                if entering < 0 or j < entering:
                    entering = j
            else:
                best = reduced
                entering = j
    return entering


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _certificate(points, cost, y, shift, in_basis, in_cand, price_tol, violators, violation, ties):
    """Price every point outside the basis and candidates (the optimality certificate).

    The violators (reduced cost below ``-price_tol``) go to ``violators``/``violation``; the
    points on the lifted hyperplane (ties, within twice the tie tolerance) to ``ties``, kept
    for the tie-breaking stage, which then needs no pass of its own. Returns both counts.
    """
    m, r = points.shape
    tie_tol = 0.0
    for t in range(r):
        tie_tol += 0.25 * y[t] * y[t]
    tie_tol = 2.0 * TIE_RTOL * max(tie_tol + y[r], 0.0)
    n_viol = 0
    n_ties = 0
    for j in range(m):
        if in_basis[j] or in_cand[j]:
            continue
        dot = 0.0
        for t in range(r):
            dot += y[t] * points[j, t]
        reduced = cost[j] - shift - dot
        if reduced < -price_tol:
            violators[n_viol] = j
            violation[n_viol] = reduced
            n_viol += 1
        elif reduced <= tie_tol:
            ties[n_ties] = j
            n_ties += 1
    return n_viol, n_ties


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _add_violators(violators, violation, n_viol, n_add, in_cand, cand, n_cand):
    """The ``n_add`` most violating points join the candidates; returns the most violating
    one (which enters the basis) and the new candidate count."""
    ranked = nearest_order(violation, n_viol, min(n_viol, n_add))
    for c in range(ranked.shape[0]):
        j = violators[ranked[c]]
        in_cand[j] = True
        cand[n_cand] = j
        n_cand += 1
    return violators[ranked[0]], n_cand


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _refresh(points, q, basis, B, Binv, xB):
    """Refactorise the basis and recompute its (clipped) weights: rounding stays bounded.
    Returns False when the basis is singular."""
    if not _refactor(points, q, basis, B, Binv):
        return False
    for i in range(basis.shape[0]):
        xB[i] = max(Binv[i, basis.shape[0] - 1], 0.0)
    return True


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _revised_simplex(
    points,
    q,
    cost,
    scale,
    tol,
    max_iter,
    basis,
    in_basis,
    B,
    Binv,
    xB,
    in_cand,
    cand,
    n_cand,
    ties,
):
    """Column generation from a feasible basis until the certificate holds (see
    :func:`lifted_batch`). Returns ``(status, n_cand, n_ties)``: the candidates and the points
    found on the optimal lifted hyperplane are kept for the tie-breaking stage."""
    m, r = points.shape
    n1 = r + 1
    y = np.empty(n1)
    u = np.empty(n1)
    col = np.empty(n1)
    violators = np.empty(m, dtype=np.int64)
    violation = np.empty(m)
    n_ties = 0
    degenerate_run = 0
    since_refactor = 0
    price_tol = tol * scale
    fresh_duals = True
    for _it in range(max_iter):
        if fresh_duals:
            _duals(cost, basis, Binv, y)  # after a pivot they are updated instead
            fresh_duals = False
        shift = y[r]
        for t in range(r):
            shift -= y[t] * q[t]
        bland = degenerate_run > 2 * n1
        entering = _price_candidates(
            points, cost, y, shift, cand, n_cand, in_basis, price_tol, bland
        )
        if entering < 0:
            # candidates optimal: certify against every point, add the violators
            n_viol, n_ties = _certificate(
                points, cost, y, shift, in_basis, in_cand, price_tol, violators, violation, ties
            )
            if n_viol == 0:
                return LP_OK, n_cand, n_ties
            entering, n_cand = _add_violators(
                violators, violation, n_viol, n1, in_cand, cand, n_cand
            )
        entering_reduced = cost[entering] - shift
        for t in range(r):
            entering_reduced -= y[t] * points[entering, t]
        leave, theta = _pivot(points, q, entering, basis, in_basis, Binv, xB, col, u, bland)
        if leave < 0:
            break  # unbounded: impossible for a bounded feasible set
        degenerate_run = degenerate_run + 1 if theta <= 1e-14 else 0
        # y' = y + d_q B'^{-1}[l, :] zeroes the entering reduced cost, keeps the others basic
        for t in range(n1):
            y[t] += entering_reduced * Binv[leave, t]
        since_refactor += 1
        if since_refactor >= 32:
            if not _refresh(points, q, basis, B, Binv, xB):
                break
            since_refactor = 0
            fresh_duals = True
    return LP_FAILED, n_cand, n_ties


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _optimal_cell(points, q, cost, basis, y, others, n_others, cell):
    """The points of the optimal basis' Delaunay cell into ``cell``; returns their number.

    ``y`` are the basis' duals: the lifted hyperplane is ``cost_j = y[:r] . (x_j - q) + y[r]``
    on the circumsphere, whose squared radius is ``y[r] + |y[:r]|^2 / 4``. The cell is the
    basis and every point of ``others[:n_others]`` within ``TIE_RTOL`` times that of it.
    """
    r = points.shape[1]
    n1 = r + 1
    radius2 = y[r]
    for t in range(r):
        radius2 += 0.25 * y[t] * y[t]
    tie_tol = TIE_RTOL * max(radius2, 0.0)
    n_cell = 0
    for i in range(n1):
        cell[n_cell] = basis[i]  # a basis point can leave and come back
        n_cell += 1
    for c in range(n_others):
        j = others[c]
        value = cost[j] - y[r]
        for t in range(r):
            value -= y[t] * (points[j, t] - q[t])
        if value <= tie_tol:
            cell[n_cell] = j
            n_cell += 1
    return n_cell


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _price_cell(points, q, heights, y, cell, n_cell, in_basis, bland):
    """The cell point entering the basis for the heights' objective, ``-1`` when optimal."""
    r = points.shape[1]
    entering = -1
    best = -1e-12
    for c in range(n_cell):
        j = cell[c]
        if in_basis[j]:
            continue
        reduced = heights[j] - y[r]
        for t in range(r):
            reduced -= y[t] * (points[j, t] - q[t])
        if reduced < best:
            if bland:
                if entering < 0 or j < entering:
                    entering = j
            else:
                best = reduced
                entering = j
    return entering


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _break_ties(points, heights, q, cost, basis, in_basis, B, Binv, max_iter, others, n_others):
    """Second, lexicographic stage: the cell of the optimal basis triangulated by ``heights``.

    ``basis`` is optimal for ``cost`` and ``Binv`` its fresh inverse. The cell is every point
    on the basis' lifted hyperplane (reduced cost at most ``TIE_RTOL`` times the squared
    circumradius), looked for among the basis and ``others[:n_others]`` (the points the
    certificate found near the hyperplane, and the candidates); when it has more than
    ``r + 1`` points, ``sum lambda_i heights_i`` is minimised over them by the same revised
    simplex method (all cell points priced), from the current basis (feasible). Updates
    ``basis`` and ``Binv``; returns ``LP_OK`` or ``LP_FAILED`` (pivot cap).
    """
    n1 = basis.shape[0]
    r = n1 - 1
    y = np.empty(n1)
    _duals(cost, basis, Binv, y)
    cell = np.empty(n1 + n_others, dtype=np.int64)
    n_cell = _optimal_cell(points, q, cost, basis, y, others, n_others, cell)
    if n_cell == n1:
        return LP_OK  # a simplicial cell: the Delaunay simplex is unique
    xB = np.empty(n1)
    for i in range(n1):
        xB[i] = max(Binv[i, r], 0.0)
    col = np.empty(n1)
    u = np.empty(n1)
    degenerate_run = 0
    since_refactor = 0
    for _it in range(max_iter):
        _duals(heights, basis, Binv, y)
        bland = degenerate_run > 2 * n1
        entering = _price_cell(points, q, heights, y, cell, n_cell, in_basis, bland)
        if entering < 0:
            return LP_OK if _refactor(points, q, basis, B, Binv) else LP_FAILED
        leave, theta = _pivot(points, q, entering, basis, in_basis, Binv, xB, col, u, bland)
        if leave < 0:
            return LP_FAILED
        degenerate_run = degenerate_run + 1 if theta <= 1e-14 else 0
        since_refactor += 1
        if since_refactor >= 32:
            if not _refresh(points, q, basis, B, Binv, xB):
                return LP_FAILED
            since_refactor = 0
    return LP_FAILED


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _feasible_start(Binv, xB):
    """The start basis' weights ``xB`` (the last column of ``B^{-1}``), rounding clipped;
    False when the start does not contain ``q``."""
    r = Binv.shape[0] - 1
    for i in range(r + 1):
        xB[i] = Binv[i, r]
        if xB[i] < -1e-9:
            return False
        if xB[i] < 0.0:
            xB[i] = 0.0
    return True


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _candidate_ties(cand, n_cand, in_basis, ties, n_ties):
    """The candidates outside the basis join the tie list (checked on the hyperplane by the
    tie-breaking stage); returns its new length."""
    for c in range(n_cand):
        if not in_basis[cand[c]]:
            ties[n_ties] = cand[c]
            n_ties += 1
    return n_ties


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _basis_weights(basis, Binv, vertices, weights):
    """The basis and its convex weights (the last column of ``B^{-1}``, clipped, summing to 1)."""
    n1 = basis.shape[0]
    total = 0.0
    for i in range(n1):
        value = max(Binv[i, n1 - 1], 0.0)
        weights[i] = value
        total += value
    for i in range(n1):
        vertices[i] = basis[i]
        weights[i] /= total


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def lifted_batch(
    points, heights, Q, starts, n_starts, n_candidates, tol, max_iter, vertices, weights, status
):
    """Solve the lifted program at every row ``q`` of ``Q`` from the feasible support
    ``starts[i, :n_starts[i]]``.

    Ties between co-spherical points are broken by the heights ``heights`` (see the module
    docstring). ``starts[i, :n_starts[i]]`` must be affinely independent points whose convex
    hull contains ``q`` (Wolfe's corral); the basis is completed with the nearest points that
    keep it of full rank (at zero weight, so it stays feasible). ``n_candidates`` nearest
    points are priced first; ``tol`` is the relative tolerance of the reduced costs (the
    certificate), ``max_iter`` the pivot cap. On success writes the ``r + 1`` basis indices
    into ``vertices[i]``, their weights into ``weights[i]`` and ``LP_OK`` into ``status[i]``;
    otherwise ``LP_FAILED`` (infeasible start, rank-deficient points, a singular basis or the
    pivot cap) and the caller falls back to the full program.

    The steps per query: the lifted costs; a full-rank start basis (:func:`_initial_basis`);
    the revised simplex method with column generation (:func:`_revised_simplex`); the
    tie-breaking stage (:func:`_break_ties`); the weights from a fresh factorisation. One
    kernel for the whole batch: a per-query kernel between the steps and the batch would cost
    its own compilation of all of them.
    """
    m, r = points.shape
    n1 = r + 1
    cost = np.empty(m)
    basis = np.empty(n1, dtype=np.int64)
    B = np.empty((n1, n1))
    Binv = np.empty((n1, n1))
    xB = np.empty(n1)
    cand = np.empty(m, dtype=np.int64)
    ties = np.empty(m, dtype=np.int64)
    for i in range(Q.shape[0]):
        q = Q[i]
        status[i] = LP_FAILED
        scale = _lifted_costs(points, q, cost)
        order = nearest_order(cost, m, max(n_candidates, 2 * n1))
        in_basis = np.zeros(m, dtype=np.bool_)
        if not _initial_basis(points, q, starts[i], n_starts[i], cost, order, basis, in_basis):
            continue
        if not (_refactor(points, q, basis, B, Binv) and _feasible_start(Binv, xB)):
            continue
        in_cand = np.zeros(m, dtype=np.bool_)
        n_cand = _initial_candidates(order, n_candidates, basis, in_cand, cand)
        code, n_cand, n_ties = _revised_simplex(
            points,
            q,
            cost,
            scale,
            tol,
            max_iter,
            basis,
            in_basis,
            B,
            Binv,
            xB,
            in_cand,
            cand,
            n_cand,
            ties,
        )
        # final weights from a fresh factorisation (accuracy)
        if code != LP_OK or not _refactor(points, q, basis, B, Binv):
            continue
        n_ties = _candidate_ties(cand, n_cand, in_basis, ties, n_ties)
        if (
            _break_ties(points, heights, q, cost, basis, in_basis, B, Binv, max_iter, ties, n_ties)
            != LP_OK
        ):
            continue
        _basis_weights(basis, Binv, vertices[i], weights[i])
        status[i] = LP_OK


def delaunay_lp(points, heights, q, start, n_start, n_candidates, tol, max_iter, basis, lam):
    """:func:`lifted_batch` for one query (tests and experiments): writes the basis and its
    weights into ``basis`` and ``lam`` and returns ``LP_OK`` or ``LP_FAILED``."""
    r = points.shape[1]
    vertices = np.empty((1, r + 1), dtype=np.int64)
    weights = np.empty((1, r + 1))
    status = np.empty(1, dtype=np.int64)
    starts = np.ascontiguousarray(start, dtype=np.int64)[None]
    lifted_batch(
        points,
        heights,
        np.ascontiguousarray(q, dtype=np.float64)[None],
        starts,
        np.array([n_start], dtype=np.int64),
        n_candidates,
        tol,
        max_iter,
        vertices,
        weights,
        status,
    )
    if status[0] == LP_OK:
        basis[:] = vertices[0]
        lam[:] = weights[0]
    return int(status[0])


def delaunay_lp_reference(points, q, heights=None):
    """The full lifted program solved by :func:`scipy.optimize.linprog` (HiGHS).

    Returns ``(vertices, weights)`` of the positive weights. Used as the exact fallback of the
    numba solver and as the slow reference in tests and benchmarks. With ``heights``, ties
    between co-spherical points are broken as :func:`lifted_batch` breaks them: a second program
    minimises ``sum lambda_i heights_i`` over the points of the optimal cell.
    """
    from scipy.optimize import linprog

    m, r = points.shape
    diff = points - q
    cost = np.einsum("ij,ij->i", diff, diff)
    A_eq = np.vstack([diff.T, np.ones((1, m))])
    b_eq = np.zeros(r + 1)
    b_eq[r] = 1.0
    result = linprog(cost, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if result.status != 0:
        raise RuntimeError(f"linprog failed on the lifted program: {result.message}")
    lam = np.maximum(result.x, 0.0)
    if heights is not None:
        y = result.eqlin.marginals
        reduced = cost - A_eq.T @ y
        radius2 = max(float(y[r] + 0.25 * y[:r] @ y[:r]), 0.0)
        cell = np.flatnonzero(reduced <= TIE_RTOL * radius2)
        # (the points may span fewer than r dimensions: a face of the hull)
        if cell.size > np.count_nonzero(lam > 1e-12):
            second = linprog(
                heights[cell], A_eq=A_eq[:, cell], b_eq=b_eq, bounds=(0, None), method="highs"
            )
            if second.status == 0:
                lam = np.zeros(m)
                lam[cell] = np.maximum(second.x, 0.0)
    keep = np.flatnonzero(lam > 1e-12)
    weights = lam[keep] / lam[keep].sum()
    return keep, weights
