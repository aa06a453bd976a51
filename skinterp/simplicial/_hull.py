"""Euclidean projection of a query onto the convex hull of the training points (numba kernels).

The projection ``p`` of ``q`` onto ``conv{x_1, ..., x_n}`` is the minimum-norm point of
``conv{x_i - q}`` shifted back by ``q``. It is found by Wolfe's algorithm (Wolfe, 1976), the exact
active-set method for this quadratic program: a *corral* ``S`` of affinely independent points
carries the current point ``x = sum_{i in S} lambda_i (x_i - q)``; a *major* step adds the point
``j`` minimising ``(x_j - q) . x`` (one pass over all points, the optimality certificate); *minor*
steps move to the minimum-norm point of the affine hull of ``S`` and drop points whose weight
reaches zero. The algorithm stops when ``x . x <= (x_j - q) . x`` up to rounding for all ``j``:
then the hyperplane through ``p`` orthogonal to ``q - p`` supports the hull. It returns the
support ``S`` and its convex weights ``lambda``, so ``p = sum lambda_i x_i``.

The affine minimum-norm point of a corral is obtained from its Gram matrix ``G = V V^T`` by the
Karush-Kuhn-Tucker system ``[G 1; 1^T 0][alpha; mu] = [0; 1]``, solved through the equivalent
normal equations in the differences ``v_i - v_0`` with a small pivot-checked Cholesky
factorisation; the Gram matrix is updated, not recomputed, when the corral changes.
"""

import numba
import numpy as np

from .._numba import NUMBA_CACHE, SAFE_FASTMATH

# Reassociation lets the dot products of the pricing loops vectorise; no NaN/inf flags, so the
# guards keep working.
_FASTMATH = SAFE_FASTMATH


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _affine_min_norm(gram, k, alpha, work_a, work_b):
    """Weights ``alpha`` (sum 1) of the minimum-norm point of the affine hull of the corral.

    ``gram[:k, :k]`` holds ``(x_i - q) . (x_j - q)``. Returns False when the corral is affinely
    dependent to working precision (a Cholesky pivot vanishes).
    """
    if k == 1:
        alpha[0] = 1.0
        return True
    m = k - 1
    # Normal equations of min || v_0 + sum_i beta_i (v_i - v_0) ||: H beta = -g.
    H = work_a
    g = work_b
    g00 = gram[0, 0]
    scale = 0.0
    for i in range(m):
        for j in range(m):
            H[i, j] = gram[i + 1, j + 1] - gram[i + 1, 0] - gram[0, j + 1] + g00
        g[i] = gram[i + 1, 0] - g00
        if H[i, i] > scale:
            scale = H[i, i]
    # In-place Cholesky H = L L^T (lower triangle).
    for j in range(m):
        diag = H[j, j]
        for p in range(j):
            diag -= H[j, p] * H[j, p]
        if not (diag > 1e-13 * scale):
            return False
        diag = np.sqrt(diag)
        H[j, j] = diag
        for i in range(j + 1, m):
            value = H[i, j]
            for p in range(j):
                value -= H[i, p] * H[j, p]
            H[i, j] = value / diag
    # Solve L y = -g, then L^T beta = y (beta stored in g).
    for i in range(m):
        value = -g[i]
        for p in range(i):
            value -= H[i, p] * g[p]
        g[i] = value / H[i, i]
    for i in range(m - 1, -1, -1):
        value = g[i]
        for p in range(i + 1, m):
            value -= H[p, i] * g[p]
        g[i] = value / H[i, i]
    total = 0.0
    for i in range(m):
        alpha[i + 1] = g[i]
        total += g[i]
    alpha[0] = 1.0 - total
    return True


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _gram_row(points, q, support, k, row, gram):
    """Fill row/column ``row`` of the corral Gram matrix."""
    r = points.shape[1]
    a = support[row]
    for c in range(k):
        b = support[c]
        value = 0.0
        for t in range(r):
            value += (points[a, t] - q[t]) * (points[b, t] - q[t])
        gram[row, c] = value
        gram[c, row] = value


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _remove(support, lam, gram, k, index):
    """Remove corral member ``index`` (keeps order of the others)."""
    for i in range(index, k - 1):
        support[i] = support[i + 1]
        lam[i] = lam[i + 1]
    for i in range(index, k - 1):
        for c in range(k):
            gram[i, c] = gram[i + 1, c]
    for c in range(index, k - 1):
        for i in range(k - 1):
            gram[i, c] = gram[i, c + 1]
    return k - 1


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _precedes(values, a, b):
    """Whether index ``a`` comes before ``b`` in the order of ``(values[i], i)``."""
    return values[a] < values[b] or (values[a] == values[b] and a < b)


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _sift_down(values, heap, node, size):
    """Restore the max-heap order of ``heap[:size]`` (keys ``(values[i], i)``) below ``node``."""
    while True:
        largest = node
        for child in (2 * node + 1, 2 * node + 2):
            if child < size and _precedes(values, heap[largest], heap[child]):
                largest = child
        if largest == node:
            return
        heap[node], heap[largest] = heap[largest], heap[node]
        node = largest


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def nearest_order(values, n_values, k):
    """Indices of the ``k`` smallest of ``values[:n_values]``, increasing: O(n log k).

    Ties go to the lower index, so the order is deterministic. A bounded max-heap of the ``k``
    best so far, sorted at the end (heapsort); loops only, no ``np.argpartition``/``np.argsort``,
    whose numba implementations cost seconds of compilation each.
    """
    k = min(max(k, 1), n_values)
    heap = np.empty(k, dtype=np.int64)
    for j in range(n_values):
        if j < k:  # grow the heap: sift the new index up
            heap[j] = j
            child = j
            while child > 0:
                parent = (child - 1) // 2
                if not _precedes(values, heap[parent], heap[child]):
                    break
                heap[parent], heap[child] = heap[child], heap[parent]
                child = parent
        elif _precedes(values, j, heap[0]):  # better than the worst kept: replace it
            heap[0] = j
            _sift_down(values, heap, 0, k)
    for end in range(k - 1, 0, -1):  # heapsort: the largest to the end, one by one
        heap[0], heap[end] = heap[end], heap[0]
        _sift_down(values, heap, 0, end)
    return heap


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _candidate_distances(points, q, candidates, distance2):
    """``distance2[c] = ||x_candidates[c] - q||^2``; returns the largest and the (first)
    position of the smallest."""
    r = points.shape[1]
    scale2 = 0.0
    nearest = 0
    for c in range(candidates.shape[0]):
        j = candidates[c]
        d2 = 0.0
        for t in range(r):
            diff = points[j, t] - q[t]
            d2 += diff * diff
        distance2[c] = d2
        if d2 > scale2:
            scale2 = d2
        if d2 < distance2[nearest]:
            nearest = c
    return scale2, nearest


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _squared_norm(x):
    value = 0.0
    for t in range(x.shape[0]):
        value += x[t] * x[t]
    return value


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _price(points, q, x, pool, n_pool, values):
    """The member of ``pool[:n_pool]`` minimising ``(x_j - q) . x``, and that value.

    ``values[c]`` receives the value of ``pool[c]``.
    """
    r = points.shape[1]
    qx = 0.0
    for t in range(r):
        qx += q[t] * x[t]
    best_value = np.inf
    best_j = -1
    for c in range(n_pool):
        j = pool[c]
        value = -qx
        for t in range(r):
            value += points[j, t] * x[t]
        values[c] = value
        if value < best_value:
            best_value = value
            best_j = j
    return best_j, best_value


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _grow_working_set(candidates, values, xx, limit, r, working, n_work, in_work):
    """Column generation: the (at most ``r + 1``) candidates violating the certificate most
    (``xx - values[c] > limit``) join ``working``; returns its new size."""
    for c in nearest_order(values, candidates.shape[0], r + 1):
        j = candidates[c]
        if xx - values[c] > limit and not in_work[j]:
            in_work[j] = True
            working[n_work] = j
            n_work += 1
    return n_work


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _in_corral(support, k, j):
    for i in range(k):
        if support[i] == j:
            return True
    return False


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _minor_steps(points, q, first, support, lam, gram, k, alpha, work_a, work_b):
    """Wolfe's minor cycle after a point joined the corral: move towards the affine minimum-norm
    point of the corral, dropping the points whose weight reaches zero, until it lies inside.
    Returns the new corral size."""
    cap = support.shape[0]
    for _minor in range(cap + 1):
        if not _affine_min_norm(gram, k, alpha, work_a, work_b):
            # The new point is affinely dependent on the corral (rounding): drop it.
            return _remove(support, lam, gram, k, k - 1)
        positive = True
        for i in range(k):
            if alpha[i] <= 1e-15:
                positive = False
        if positive:
            for i in range(k):
                lam[i] = alpha[i]
            return k
        theta = 1.0
        for i in range(k):
            if alpha[i] <= 1e-15:
                denom = lam[i] - alpha[i]
                if denom > 0.0:
                    ratio = lam[i] / denom
                    if ratio < theta:
                        theta = ratio
        drop = -1
        smallest = np.inf
        for i in range(k):
            lam[i] = (1.0 - theta) * lam[i] + theta * alpha[i]
            if alpha[i] <= 1e-15 and lam[i] < smallest:
                smallest = lam[i]
                drop = i
        # Drop the blocking point and any other weight that reached zero.
        i = k - 1
        while i >= 0:
            if i == drop or lam[i] <= 1e-15:
                k = _remove(support, lam, gram, k, i)
            i -= 1
        if k == 0:  # pragma: no cover - cannot happen in exact arithmetic
            support[0] = first
            lam[0] = 1.0
            k = 1
            _gram_row(points, q, support, k, 0, gram)
    return k


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def _corral_point(points, q, support, lam, k, x):
    """Normalise the corral's weights to sum one and set ``x = sum lam_i (x_i - q)``."""
    r = points.shape[1]
    total = 0.0
    for i in range(k):
        total += lam[i]
    for t in range(r):
        value = 0.0
        for i in range(k):
            value += lam[i] * (points[support[i], t] - q[t])
        x[t] = value / total
    for i in range(k):
        lam[i] /= total


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _start_working_set(distance2, candidates, n_working, working, in_work):
    """The working set: the ``n_working`` candidates nearest to ``q``; returns its size."""
    n_cand = candidates.shape[0]
    n_work = min(max(n_working, 1), n_cand)
    near = nearest_order(distance2, n_cand, n_work)
    for c in range(n_work):
        working[c] = candidates[near[c]]
        in_work[working[c]] = True
    return n_work


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath=_FASTMATH)
def project_batch(points, Q, candidates, n_working, tol, supports, weights, distance2, certified):
    """Project every row ``q`` of ``Q`` onto the hull of ``points[candidates]`` (Wolfe).

    Major steps price a working set first (initially the ``n_working`` candidates nearest to
    ``q``) and all candidates only when the working set is optimal (column generation: the
    ``r + 1`` most violating candidates join the working set); the answer is certified against
    every candidate, and the corral is built from nearby points. ``tol`` is the relative
    tolerance of the optimality test (e.g. 1e-12).

    Writes, per query, the support (padded with -1) and its convex weights into ``supports``
    and ``weights``, the squared distance to the hull into ``distance2``, and whether the
    optimality certificate held into ``certified`` (False when rounding stalled the algorithm:
    the caller solves that query otherwise). One kernel for the whole batch, per-query steps
    in helpers: a per-query kernel between them would cost its own compilation of all of them.
    """
    r = points.shape[1]
    n_cand = candidates.shape[0]
    cap = r + 2
    support = np.empty(cap, dtype=np.int64)
    lam = np.empty(cap)
    gram = np.zeros((cap, cap))
    alpha = np.empty(cap)
    work_a = np.empty((cap, cap))
    work_b = np.empty(cap)
    x = np.empty(r)
    values = np.empty(n_cand)
    to_candidates = np.empty(n_cand)
    working = np.empty(n_cand, dtype=np.int64)
    in_work = np.zeros(points.shape[0], dtype=np.bool_)
    for i in range(Q.shape[0]):
        q = Q[i]
        scale2, nearest = _candidate_distances(points, q, candidates, to_candidates)
        n_work = _start_working_set(to_candidates, candidates, n_working, working, in_work)
        # The corral starts at the nearest candidate.
        first = candidates[nearest]
        support[0] = first
        lam[0] = 1.0
        k = 1
        _gram_row(points, q, support, k, 0, gram)
        for t in range(r):
            x[t] = points[first, t] - q[t]
        limit = tol * scale2
        done = to_candidates[nearest] == 0.0
        for _major in range(0 if done else 20 * (r + 2) + 100):
            xx = _squared_norm(x)
            if xx <= 1e-28 * scale2:
                done = True
                break
            # Major step: the working point minimising (x_j - q) . x, then the certificate.
            best_j, best_value = _price(points, q, x, working, n_work, values)
            if xx - best_value <= limit:
                if n_work == n_cand:
                    done = True
                    break
                best_j, best_value = _price(points, q, x, candidates, n_cand, values)
                if xx - best_value <= limit:
                    done = True
                    break
                n_work = _grow_working_set(
                    candidates, values, xx, limit, r, working, n_work, in_work
                )
            if _in_corral(support, k, best_j) or k >= cap - 1:
                break
            support[k] = best_j
            lam[k] = 0.0
            k += 1
            _gram_row(points, q, support, k, k - 1, gram)
            k = _minor_steps(points, q, first, support, lam, gram, k, alpha, work_a, work_b)
            _corral_point(points, q, support, lam, k, x)
        for c in range(n_work):  # reset for the next query
            in_work[working[c]] = False
        certified[i] = done
        distance2[i] = _squared_norm(x)
        for c in range(supports.shape[1]):
            supports[i, c] = support[c] if c < k else -1
            weights[i, c] = lam[c] if c < k else 0.0


def min_norm_point(points, q, candidates, n_working, tol, support, lam):
    """:func:`project_batch` for one query (tests and experiments).

    Returns ``(k, distance2)``: the size ``k`` of the support written into ``support[:k]``
    and ``lam[:k]`` (``-k`` when the certificate did not hold) and the squared distance.
    """
    r = points.shape[1]
    supports = np.empty((1, r + 2), dtype=np.int64)
    weights = np.empty((1, r + 2))
    distance2 = np.empty(1)
    certified = np.empty(1, dtype=bool)
    project_batch(
        points,
        np.ascontiguousarray(q, dtype=np.float64)[None],
        np.ascontiguousarray(candidates, dtype=np.int64),
        n_working,
        tol,
        supports,
        weights,
        distance2,
        certified,
    )
    k = int(np.count_nonzero(supports[0] >= 0))
    support[:k] = supports[0, :k]
    lam[:k] = weights[0, :k]
    return (k if certified[0] else -k), float(distance2[0])
