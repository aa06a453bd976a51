"""Preconditioners of the conjugate gradient solver (:mod:`._cg`): Nystrom, and two-level.

Both start from a landmark Nystrom factor ``B`` (``n x s``) with ``K~ ~ B B^T``, where ``K~``
is ``K`` for a positive definite kernel and, with a polynomial tail, the positive definite
kernel that agrees with ``K`` on ``range(Pi)`` (see :mod:`._cg`).

* :class:`NystromPreconditioner` (Frangella, Tropp and Udell, SIAM J. Matrix Anal. Appl. 44,
  2023): ``B B^T = U diag(lam) U^T``, ``M^{-1} = (lam_s + mu) U (lam + mu)^{-1} U^T + I - U U^T``,
  on landmarks drawn uniformly (:func:`nystrom_factor`) or, for kernels without a tail, by
  randomly pivoted Cholesky (:func:`rpcholesky_factor`, fewer iterations for the same ``s``).
  It moves the ``s`` largest eigenvalues; it cannot move the small ones, which for smooth
  kernels in few dimensions (a thin-plate spline: near pairs of points, high frequencies) set
  the iteration count: hundreds of iterations, growing with ``n``.
* :class:`SchwarzPreconditioner`, two levels: ``M = G^{-1} + B B^T`` with ``G`` the
  overlapping additive Schwarz inverse of the Nystrom residual,

      G = sum_i R_i^T (K~ - B B^T + Lambda)_{E_i E_i}^{-1} R_i,

  ``E_i`` a leaf of a kd-tree (at most ``leaf_size`` points, split at the median of the widest
  coordinate) grown by the ``overlap`` nearest neighbours of each of its points. The local
  solves take the near-field (near pairs, the high frequencies) the Nystrom factor misses; the
  low-rank term the smooth far field. ``M^{-1}`` by Woodbury:
  ``G - G B (I + B^T G B)^{-1} B^T G``; it is symmetric positive definite (``G`` is, as a sum of
  ``W_i^T W_i`` with ``W_i`` the inverse Cholesky factor of a block), so CG applies. This is
  the PITC approximation of Gaussian process regression (Snelson and Ghahramani 2007) with
  overlapping blocks, used as a preconditioner (Cutajar et al., ICML 2016, compare PITC and
  Nystrom preconditioners for kernel systems). Measured on a thin-plate spline in 2-D (degree
  1, to 1e-8): 16 iterations at n = 2,000, 23 at 10,000 and 38 at 50,000, where Nystrom
  alone took 389 at 2,000 and more than 600 at 10,000 (``benchmarks/bench_rbf.py cg``).
  Used for ``n_features <= SCHWARZ_MAX_FEATURES``: in
  more dimensions the neighbourhoods of a kd-tree leaf hold most of the points (California,
  8-D: blocks of ~550 points for leaves of 128) and the blocks cost more memory than they save
  iterations.
"""

import numpy as np
from scipy import linalg
from scipy.spatial import cKDTree
from sklearn.utils import check_random_state

from .._parallel import chunk_bounds, run_in_chunks, small_dense_blas
from ..kernels import kernel_matrix

SCHWARZ_MAX_FEATURES = 3
LEAF_SIZE = 128
OVERLAP = 8
# Rows of B per block of the Nystrom preconditioner's products (a block per thread).
PRECONDITIONER_ROWS = 2048
# Randomly pivoted Cholesky: candidates drawn per round, and the residual trace (relative to
# the kernel's) below which the factor is exact.
RPCHOLESKY_BLOCK = 128
RPCHOLESKY_EXACT = 1e-13


def nystrom_factor(X, spec, landmarks, P, n_jobs):
    """``B`` (``n x s``, float64) with ``K~ ~ B B^T`` on the landmarks, the Cholesky shift
    used, and the tail's pieces for :func:`modified_kernel_block` (or ``None``)."""
    X_S = X[landmarks]
    C = np.asarray(kernel_matrix(X, X_S, kernel=spec, n_jobs=n_jobs), dtype=np.float64)
    W = C[landmarks].copy()
    tail = None
    if P is not None and P.shape[1]:
        # Q unisolvent landmarks: the pivots of a column-pivoted QR of P_S^T.
        P_S = P[landmarks]
        _, _, pivots = linalg.qr(P_S.T, pivoting=True, mode="economic")
        unisolvent = landmarks[pivots[: P.shape[1]]]
        lagrange = np.linalg.solve(P[unisolvent].T, P.T).T  # L(X): n x Q
        L_S = lagrange[landmarks]
        C_xi = C[:, pivots[: P.shape[1]]].copy()  # k(X, Xi)
        W_xi = W[pivots[: P.shape[1]]]  # k(Xi, S)
        K_xixi = W_xi[:, pivots[: P.shape[1]]]
        C -= lagrange @ W_xi
        C -= C_xi @ L_S.T
        C += lagrange @ (K_xixi @ L_S.T + L_S.T)
        W = C[landmarks].copy()
        tail = (unisolvent, lagrange, K_xixi)
    # Rule 2 of skinterp._parallel: factors of s x s matrices with one BLAS thread.
    with small_dense_blas(W.shape[0]):
        W = (W + W.T) / 2
        # A shift for the Cholesky of W (Frangella et al.: nu = eps * ||W||).
        shift = np.finfo(np.float64).eps * max(float(np.abs(W).max()), 1e-300) * W.shape[0]
        try:
            factor = linalg.cholesky(W + shift * np.eye(W.shape[0]), lower=True)
        except linalg.LinAlgError:
            shift = 1e-10 * float(np.abs(np.diagonal(W)).max() or 1.0)
            factor = linalg.cholesky(W + shift * np.eye(W.shape[0]), lower=True)
        # B = C factor^{-T}, in place, by blocks of rows (short calls: Ctrl-C stays prompt).
        for r0, r1 in chunk_bounds(C.shape[0], 8192):
            C[r0:r1] = linalg.solve_triangular(
                factor, C[r0:r1].T, lower=True, check_finite=False
            ).T
    return C, shift, tail


def modified_kernel_block(X, spec, index, tail):
    """``K~(X[index], X[index])`` (``K`` without a tail), float64."""
    XE = X[index]
    block = np.asarray(kernel_matrix(XE, kernel=spec, n_jobs=1), dtype=np.float64)
    if tail is None:
        return block
    unisolvent, lagrange, K_xixi = tail
    L_E = lagrange[index]
    cross = np.asarray(kernel_matrix(XE, X[unisolvent], kernel=spec, n_jobs=1), dtype=np.float64)
    block -= L_E @ cross.T
    block -= cross @ L_E.T
    block += L_E @ (K_xixi + np.eye(K_xixi.shape[0])) @ L_E.T
    return block


def rpcholesky_factor(X, spec, rank, *, random_state, n_jobs, block_size=RPCHOLESKY_BLOCK):
    """``(B, pivots)``: ``K ~ B B^T`` (``B``: ``n x k``, float64, ``k <= rank``) by accelerated
    randomly pivoted Cholesky (Epperly, Tropp and Webber, "Embrace rejection: kernel matrix
    approximation by accelerated randomly pivoted Cholesky", 2024), for a kernel without tail.

    ``B B^T`` is the Nystrom approximation of ``K`` on the pivots, which are drawn with
    probabilities proportional to the diagonal of the residual ``K - B B^T``: points that the
    pivots so far explain badly are likely next. Each round draws ``block_size`` candidates
    at once (one ``n x block_size`` kernel block and one product with ``B``), then accepts
    candidate ``j`` with probability ``H_jj / d_j`` (``H``: the residual on the candidates,
    updated by the candidates accepted before ``j``; ``d``: the residual diagonal at the
    round's start), which makes the accepted pivots those of sequential RPCholesky. Measured
    on California 12k (8-D, Laplacian h=2, ridge 1e-3, cg to 1e-7): 76 iterations at rank
    500 and 56 at 1,000, against 89 and 75 with uniformly drawn landmarks; the residual's
    trace falls faster too (3,300 against 3,380 at 500 of a trace of 12,000).

    Work: ``rank`` kernel columns and ``n rank**2`` flops; memory: ``B`` and one block.
    """
    rng = check_random_state(random_state)
    n = X.shape[0]
    rank = min(int(rank), n)
    B = np.empty((n, rank))
    residual = np.asarray(spec.diagonal(X), dtype=np.float64).copy()
    total = float(residual.sum())
    floor = 1e-12 * total / max(n, 1)
    pivots = []
    k = 0
    rounds = 0
    while k < rank and rounds < 4 * (rank // max(block_size, 1) + 1) + 16:
        rounds += 1
        mass = float(residual.sum())
        if not mass > RPCHOLESKY_EXACT * total:
            break  # B B^T is K up to rounding: K has rank k
        m = min(block_size, rank - k)
        candidates = rng.choice(n, size=m, p=residual / mass)
        G = np.asarray(kernel_matrix(X, X[candidates], kernel=spec, n_jobs=n_jobs), np.float64)
        if k:
            F_c = B[candidates, :k].copy()

            def subtract(r0, r1, G=G, F_c=F_c, k=k):
                G[r0:r1] -= B[r0:r1, :k] @ F_c.T

            # Row blocks of a fixed size in threads, one BLAS thread each (rules 1 and 2 of
            # skinterp._parallel: the inner dimension is k <= s): the same bits whatever n_jobs.
            with small_dense_blas(k):
                run_in_chunks(subtract, n, 2048, n_jobs=n_jobs)
        H = G[candidates].copy()
        accepted = []
        for j in range(m):
            # Positive and above rounding (a candidate drawn twice has H_jj ~ 0 after its copy).
            if H[j, j] > floor and rng.uniform() * residual[candidates[j]] < H[j, j]:
                accepted.append(j)
                H[j + 1 :, j + 1 :] -= np.outer(H[j + 1 :, j], H[j, j + 1 :]) / H[j, j]
        if not accepted:
            continue
        chosen = candidates[accepted]
        block = G[:, accepted]
        with small_dense_blas(len(accepted)):
            core = (block[chosen] + block[chosen].T) / 2
            jitter = 0.0
            for _attempt in range(4):
                try:
                    factor = linalg.cholesky(
                        core + jitter * np.eye(len(accepted)), lower=True, check_finite=False
                    )
                    break
                except linalg.LinAlgError:
                    jitter = max(jitter * 1e3, 1e-13 * float(np.trace(core)) / len(accepted))
            else:  # pragma: no cover - the accepted pivots have positive residuals
                break
            t = len(accepted)
            for r0, r1 in chunk_bounds(n, 8192):
                B[r0:r1, k : k + t] = linalg.solve_triangular(
                    factor, block[r0:r1].T, lower=True, check_finite=False
                ).T
        residual -= np.einsum("ij,ij->i", B[:, k : k + t], B[:, k : k + t])
        np.maximum(residual, 0.0, out=residual)
        residual[chosen] = 0.0
        pivots.extend(int(i) for i in chosen)
        k += t
    return B[:, :k], np.asarray(pivots, dtype=np.intp)


class NystromPreconditioner:
    """``M^{-1}`` from the eigendecomposition of ``B^T B`` (module docstring), applied as
    ``R + B W B^T R`` with ``W = V diag((lam_s + mu) / (lam + mu) - 1) diag(values)^{-1} V^T``
    (``B^T B = V diag(values) V^T``, ``U = B V diag(values)^{-1/2}``): the same operator as
    ``U (...) U^T`` without the second ``n x s`` block ``U``."""

    kind = "nystrom"

    def __init__(self, B, shift, mu, n_jobs=1):
        gram = B.T @ B
        with small_dense_blas(gram.shape[0]):
            values, vectors = linalg.eigh(gram)
        del gram
        values, vectors = values[::-1], vectors[:, ::-1]
        keep = values > max(values[0], 0.0) * 1e-14 if values.size else values > 0
        lam = np.maximum(values - shift, 0.0)
        keep &= lam + mu > 0
        values, vectors, lam = values[keep], vectors[:, keep], lam[keep]
        self.B = B
        self.lam = lam
        self.mu = mu
        self.n_jobs = n_jobs
        self.scale = (self.lam[-1] + mu) if self.lam.size else 1.0
        weights = (self.scale / (lam + mu) - 1.0) / values
        self.W = (vectors * weights) @ vectors.T

    def describe(self):
        if not self.lam.size:
            return "no preconditioner"
        return (
            f"Nystrom, eigenvalues {self.lam[0]:.3g} .. {self.lam[-1]:.3g} (rank {self.lam.size})"
        )

    def __call__(self, R):
        """``R + B W B^T R`` by blocks of ``PRECONDITIONER_ROWS`` rows on ``n_jobs`` threads:
        two memory-bound passes over ``B``; ``B^T R`` summed over the blocks in their order,
        so the bits do not depend on ``n_jobs``. Call it with one BLAS thread."""
        if not self.lam.size:
            return R.copy()
        B, n = self.B, R.shape[0]
        partial = run_in_chunks(
            lambda r0, r1: B[r0:r1].T @ R[r0:r1], n, PRECONDITIONER_ROWS, n_jobs=self.n_jobs
        )
        BtR = partial[0]
        for block in partial[1:]:
            BtR = BtR + block
        T = self.W @ BtR
        out = R.copy()

        def add(r0, r1):
            out[r0:r1] += B[r0:r1] @ T

        run_in_chunks(add, n, PRECONDITIONER_ROWS, n_jobs=self.n_jobs)
        return out


def kd_leaves(X, leaf_size):
    """Index arrays of the leaves of a median-split kd-tree (at most ``leaf_size`` points)."""
    leaves, stack = [], [np.arange(X.shape[0])]
    while stack:
        index = stack.pop()
        if index.size <= leaf_size:
            leaves.append(index)
            continue
        points = X[index]
        axis = int(np.argmax(points.max(axis=0) - points.min(axis=0)))
        order = np.argsort(points[:, axis], kind="stable")
        half = index.size // 2
        stack += [index[order[half:]], index[order[:half]]]
    return leaves


def schwarz_memory_bytes(n, leaf_size=LEAF_SIZE, overlap=OVERLAP):
    """An upper estimate of the blocks' inverse factors (float64): ``n / (0.75 leaf_size)``
    blocks padded to about ``1.5 leaf_size`` points (measured in 2-D: blocks of 1.3 leaf
    sizes on average), and the neighbour lists."""
    leaf = min(leaf_size, max(n, 1))
    return int(8 * n * 3 * leaf) + 8 * n * overlap


class SchwarzPreconditioner:
    """Two-level: overlapping additive Schwarz on the Nystrom residual plus ``B B^T``
    (module docstring)."""

    kind = "schwarz"

    def __init__(
        self, X, spec, B, tail, ridge, *, leaf_size=LEAF_SIZE, overlap=OVERLAP, n_jobs=None
    ):
        n = X.shape[0]
        points = np.asarray(X, dtype=np.float64)
        neighbours = cKDTree(points).query(points, k=min(overlap, n), workers=1)[1]
        neighbours = neighbours.reshape(n, -1)
        blocks = [np.unique(neighbours[leaf].ravel()) for leaf in kd_leaves(points, leaf_size)]
        size = max(block.size for block in blocks)
        # Padded with index 0: the padded rows and columns of the factors are zero, so the
        # padding neither reads nor adds anything.
        self.index = np.zeros((len(blocks), size), dtype=np.intp)
        self.inverse_factor = np.zeros((len(blocks), size, size))

        def factor_blocks(start, stop):
            # numpy.linalg releases the GIL (scipy.linalg's wrappers hold it): the threads
            # of run_in_chunks factor their blocks at the same time.
            for b in range(start, stop):
                block = blocks[b]
                D = modified_kernel_block(X, spec, block, tail)
                D -= B[block] @ B[block].T
                D = (D + D.T) / 2
                D[np.diag_indices_from(D)] += ridge[block]
                # A relative jitter keeps the Cholesky defined when near pairs make D
                # numerically singular.
                jitter = 1e-13 * max(float(np.trace(D)) / block.size, 1e-300)
                for _attempt in range(4):
                    try:
                        L = np.linalg.cholesky(D + jitter * np.eye(block.size))
                        break
                    except np.linalg.LinAlgError:
                        jitter *= 1e3
                else:
                    L = np.diag(np.sqrt(np.maximum(np.diagonal(D), jitter)))
                self.index[b, : block.size] = block
                self.inverse_factor[b, : block.size, : block.size] = np.tril(np.linalg.inv(L))

        with small_dense_blas(size):
            run_in_chunks(factor_blocks, len(blocks), 16, n_jobs=n_jobs)
        self.n, self.n_blocks, self.block_size = n, len(blocks), size
        self.mean_block = float(np.mean([block.size for block in blocks]))
        # Woodbury with the low-rank term: G B (n x s; columns in parallel, each the same
        # sums whatever the threads) and the Cholesky of I + B^T G B.
        GB = np.empty_like(B)

        def local_columns(start, stop):
            GB[:, start:stop] = self.local(B[:, start:stop])

        with small_dense_blas(size):
            run_in_chunks(local_columns, B.shape[1], 32, n_jobs=n_jobs)
        capacitance = np.eye(B.shape[1])
        for r0, r1 in chunk_bounds(n, 8192):
            capacitance += B[r0:r1].T @ GB[r0:r1]
        capacitance = (capacitance + capacitance.T) / 2
        self.GB = GB
        with small_dense_blas(capacitance.shape[0]):
            self.capacitance = linalg.cho_factor(capacitance, lower=True)

    def describe(self):
        return (
            f"two-level Schwarz, {self.n_blocks} blocks of {self.mean_block:.0f} points "
            f"(at most {self.block_size}) + Nystrom rank {self.GB.shape[1]}"
        )

    def local(self, R):
        """``G R``: the sum of the local solves."""
        c = R.shape[1]
        out = np.zeros((self.n, c))
        # A bounded number of blocks at a time (memory: blocks x size x columns).
        step = max(1, 2**22 // max(self.block_size * c, 1))
        for b0, b1 in chunk_bounds(self.n_blocks, step):
            index = self.index[b0:b1]
            W = self.inverse_factor[b0:b1]
            local = np.matmul(W, R[index])
            local = np.matmul(W.transpose(0, 2, 1), local)
            flat = index.ravel()
            for j in range(c):
                out[:, j] += np.bincount(flat, weights=local[:, :, j].ravel(), minlength=self.n)
        return out

    def __call__(self, R):
        GR = self.local(R)
        return GR - self.GB @ linalg.cho_solve(self.capacitance, self.GB.T @ R)
