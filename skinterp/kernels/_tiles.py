"""``K(X, Z)`` and ``K(X, Z) @ A`` computed tile by tile, in bounded memory.

One tile of kernel values is computed at a time and, for the product, immediately multiplied
into the output (``out[rows] += K_t @ A_t``); nothing larger than a tile per thread is stored.
A tile is either

* BLAS cross products ``X_t @ Z_t.T`` turned into kernel values in place by
  :func:`~skinterp.kernels._functions.cross_to_kernel` (a ``nogil`` numba kernel), or
* for few features (``d <= DIRECT_MAX_FEATURES``) explicit distances and kernel values at once
  by :func:`~skinterp.kernels._functions.direct_kernel_tile`.

Parallelism (``n_jobs`` threads, :func:`skinterp._parallel.run_in_chunks`) takes one of two
forms, both measured in ``benchmarks/bench_kernels.py``:

* called from the main thread: **one tile per thread, each with a single-threaded BLAS**
  (threadpoolctl lowers the process-wide BLAS thread count for the call and restores it). This
  is 1.2-2x faster than the alternative below: OpenBLAS's idle workers spin after each call and
  steal the cores from the numba phase.
* called from any other thread (a threaded ``GridSearchCV``, a user's pool): BLAS keeps its
  threads and the numba phase of each tile is split over ``n_jobs`` threads. No global state
  changes: restoring OpenBLAS's thread count from worker threads proved unreliable (it could
  stay at 1 for the rest of the process).

One thread with a multi-threaded BLAS and a serial numba phase was 2-4x slower than either.
"""

import threading

import numpy as np
from joblib import effective_n_jobs

from .._parallel import chunk_bounds, run_in_chunks, single_threaded_blas
from .._progress import progress
from ._functions import (
    check_bandwidth,
    cross_to_kernel,
    direct_kernel_tile,
    kernel_code,
    min_degree,
    radial_profile,
)

TILE_ROWS = 1024
TILE_COLS = 4096
# Tiles per thread when each thread owns whole tiles (one tile per thread at a time).
THREAD_TILE_ROWS = 256
THREAD_TILE_COLS = 2048
# Up to this many features, explicit squared distances in numba beat a BLAS cross product with
# a short inner dimension (memory bound) and are exact for duplicates.
DIRECT_MAX_FEATURES = 10
# Kernel values per chunk of work handed to a thread: a fraction of a second, so that Ctrl-C,
# which waits for the running chunks, is prompt.
CHUNK_VALUES = 2**24


def squared_norms(X):
    """Squared Euclidean norms of the rows of ``X``, in float64."""
    X = np.asarray(X)
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


class KernelSpec:
    """A resolved kernel: a built-in (code, bandwidth) or a user callable.

    Parameters
    ----------
    kernel : str or callable
        The kernel: a name of :data:`~skinterp.kernels.KERNEL_NAMES`. A callable is called as ``kernel(X_tile, Z_tile)`` and must return the
        ``(len(X_tile), len(Z_tile))`` kernel block (the bandwidth is then not used).
    bandwidth : float
        The bandwidth ``h`` of a built-in kernel.
    nu : float or None
        Smoothness of the Matern kernel (1/2, 3/2 or 5/2; ``None`` means 3/2).
    """

    def __init__(self, kernel="laplacian", bandwidth=1.0, nu=None):
        self.code = kernel_code(kernel, nu)
        self.function = kernel if self.code is None else None
        self.bandwidth = check_bandwidth(bandwidth) if self.code is not None else None

    @property
    def is_builtin(self):
        return self.code is not None

    @property
    def min_degree(self):
        """The smallest polynomial tail degree the kernel needs (-1: none, positive definite)."""
        return -1 if self.code is None else min_degree(self.code)

    @property
    def is_positive_definite(self):
        """Whether the kernel is (assumed, for a callable) positive definite, so that no
        polynomial tail is needed and EigenPro applies."""
        return self.min_degree < 0

    def block(self, X, Z, x_sq=None, z_sq=None, out=None, ZT=None):
        """The kernel block ``K(X, Z)`` in the dtype of ``X`` (one tile; no tiling here).

        ``ZT`` (``Z`` transposed, C order) selects the explicit-distance path for few features.
        """
        if not self.is_builtin:
            values = np.asarray(self.function(X, Z), dtype=X.dtype)
            if values.shape != (X.shape[0], Z.shape[0]):
                raise ValueError(
                    f"The kernel callable returned shape {values.shape}, expected "
                    f"{(X.shape[0], Z.shape[0])}."
                )
            if not np.all(np.isfinite(values)):
                bad = int(np.count_nonzero(~np.isfinite(values)))
                raise ValueError(
                    f"The kernel callable returned {bad} non-finite values (NaN or inf) in a "
                    f"{values.shape[0]} x {values.shape[1]} block; a kernel must be finite."
                )
            if out is None:
                return values
            out[...] = values
            return out
        if out is None:
            out = np.empty((X.shape[0], Z.shape[0]), dtype=X.dtype)
        if ZT is not None:
            direct_kernel_tile(X, ZT, self.code, 1.0 / self.bandwidth**2, out)
            return out
        x_sq = squared_norms(X) if x_sq is None else x_sq
        z_sq = squared_norms(Z) if z_sq is None else z_sq
        out = np.matmul(X, Z.T, out=out)
        cross_to_kernel(out, x_sq, z_sq, self.code, 1.0 / self.bandwidth**2)
        return out

    def diagonal(self, X):
        """``k(x, x)`` for every row of ``X`` (``phi(0)`` for the built-in kernels: 1 for the
        positive definite ones, 0 or -1 for the conditionally positive definite ones)."""
        if self.is_builtin:
            return np.full(X.shape[0], float(radial_profile(self.code, 0.0)), dtype=np.float64)
        return np.array([self.function(X[i : i + 1], X[i : i + 1])[0, 0] for i in range(len(X))])


def _tile_per_thread(n_threads):
    return n_threads > 1 and threading.current_thread() is threading.main_thread()


def _as_spec(kernel, bandwidth, nu):
    return kernel if isinstance(kernel, KernelSpec) else KernelSpec(kernel, bandwidth, nu)


def _n_threads(n_jobs):
    """Threads for the numba phase: joblib's meaning, ``None`` is one thread."""
    return max(1, effective_n_jobs(n_jobs))


class _TileComputer:
    """Computes kernel tiles ``K(X[r0:r1], Z[c0:c1])`` into a given buffer."""

    def __init__(self, spec, X, Z, n_jobs, tile_cols, z_sq=None):
        """``n_jobs`` threads split each tile's numba phase (1 when threads own whole tiles)."""
        self.spec, self.X, self.Z = spec, X, Z
        self.n_threads = _n_threads(n_jobs)
        self.direct = spec.is_builtin and X.shape[1] <= DIRECT_MAX_FEATURES
        self.inv_h2 = 1.0 / spec.bandwidth**2 if spec.is_builtin else None
        if spec.is_builtin and not self.direct:
            self.x_sq = squared_norms(X)
            self.z_sq = squared_norms(Z) if z_sq is None else z_sq
        self.ZT_tiles = {}
        if self.direct:
            # Contiguous Z^T per column tile (n_z * d values in all): the inner loop runs
            # over Z's rows with unit stride and vectorises.
            for c0 in range(0, Z.shape[0], tile_cols):
                self.ZT_tiles[c0] = np.ascontiguousarray(Z[c0 : c0 + tile_cols].T)

    def _split_rows(self, function, n_rows):
        """Run ``function(a, b)`` over row ranges of the tile on the numba threads."""
        threads = min(self.n_threads, max(1, n_rows // 8))
        run_in_chunks(function, n_rows, -(-n_rows // threads), n_jobs=threads)

    def tile(self, r0, r1, c0, c1, out):
        spec, X = self.spec, self.X
        if not spec.is_builtin:
            return spec.block(X[r0:r1], self.Z[c0:c1], out=out)
        if self.direct:
            ZT = self.ZT_tiles[c0]
            self._split_rows(
                lambda a, b: direct_kernel_tile(X[r0 + a : r0 + b], ZT, spec.code,
                                                self.inv_h2, out[a:b]),
                r1 - r0,
            )
            return out
        np.matmul(X[r0:r1], self.Z[c0:c1].T, out=out)
        x_sq, z_sq = self.x_sq[r0:r1], self.z_sq[c0:c1]
        self._split_rows(
            lambda a, b: cross_to_kernel(out[a:b], x_sq[a:b], z_sq, spec.code, self.inv_h2),
            r1 - r0,
        )
        return out


def kernel_matrix(X, Z=None, *, kernel="laplacian", bandwidth=1.0, nu=None, n_jobs=None,
                  out=None, tile_rows=TILE_ROWS, verbose=0):
    """The kernel matrix ``K(X, Z)``, computed by blocks of rows.

    Parameters
    ----------
    X : ndarray of shape (n_x, n_features), float64 or float32
        Left points.
    Z : ndarray of shape (n_z, n_features) or None
        Right points; ``None`` means ``X`` (the diagonal is then set to ``k(x, x)`` exactly,
        which the ``||x||**2 - 2 x.z + ||z||**2`` identity only gives up to rounding).
    kernel, bandwidth, nu :
        See :class:`KernelSpec`.
    n_jobs : int or None
        Threads of the numba phase (joblib's meaning: ``None`` is one thread).
    out : ndarray of shape (n_x, n_z) or None
        Where to write the result (dtype of ``X``).
    tile_rows : int
        Rows per block.
    verbose : int
        Progress lines (blocks of rows done, time left) on stderr when > 0.

    Returns
    -------
    K : ndarray of shape (n_x, n_z)

    Notes
    -----
    Ctrl-C raises ``KeyboardInterrupt`` between blocks of rows (within about one block's time).
    """
    spec = _as_spec(kernel, bandwidth, nu)
    X = np.ascontiguousarray(X)
    same = Z is None
    Z = X if same else np.ascontiguousarray(Z, dtype=X.dtype)
    n_x, n_z = X.shape[0], Z.shape[0]
    if out is None:
        out = np.empty((n_x, n_z), dtype=X.dtype)
    n_threads = _n_threads(n_jobs)
    if _tile_per_thread(n_threads):
        # Threads own blocks of rows of ``out``, each with a single-threaded BLAS.
        computer = _TileComputer(spec, X, Z, 1, tile_cols=max(n_z, 1))
        rows = min(tile_rows, THREAD_TILE_ROWS)

        def fill(start, stop):
            computer.tile(start, stop, 0, n_z, out[start:stop])

        with single_threaded_blas():
            run_in_chunks(fill, n_x, rows, n_jobs=n_threads, verbose=verbose,
                          description=f"kernel matrix {n_x} x {n_z}")
    else:
        # Each block of rows is written in place; its numba phase is split over the threads.
        computer = _TileComputer(spec, X, Z, n_jobs, tile_cols=max(n_z, 1))
        starts = range(0, n_x, tile_rows)
        for r0 in progress(starts, f"kernel matrix {n_x} x {n_z}", verbose=verbose,
                           min_interval=1.0):
            r1 = min(r0 + tile_rows, n_x)
            computer.tile(r0, r1, 0, n_z, out[r0:r1])
    if same:
        np.fill_diagonal(out, spec.diagonal(X))
    return out


def kernel_product(X, Z, A, *, kernel="laplacian", bandwidth=1.0, nu=None, n_jobs=None,
                   z_sq=None, tile_rows=TILE_ROWS, tile_cols=TILE_COLS, keep_first=0,
                   verbose=0):
    """``K(X, Z) @ A`` without storing ``K``: one ``tile_rows x tile_cols`` tile at a time.

    Parameters
    ----------
    X : ndarray of shape (n_x, n_features), float64 or float32
        Left points.
    Z : ndarray of shape (n_z, n_features)
        Right points (the centres).
    A : ndarray of shape (n_z,) or (n_z, n_outputs)
        Coefficients.
    kernel, bandwidth, nu :
        See :class:`KernelSpec`.
    n_jobs : int or None
        Threads of the numba phase (joblib's meaning: ``None`` is one thread); BLAS uses its
        own threads.
    z_sq : ndarray of shape (n_z,) or None
        Precomputed squared norms of ``Z`` (saves ``n_z * n_features`` work per call).
    tile_rows, tile_cols : int
        Tile shape; the working memory is one tile (32 MiB in float64 by default).
    keep_first : int
        When positive, the first columns ``K(X, Z[:keep_first])`` are copied out of the tiles
        as they pass and returned as well (EigenPro reuses them instead of evaluating the
        kernel a second time).
    verbose : int
        Progress lines (blocks of rows done, time left) on stderr when > 0.

    Returns
    -------
    KA : ndarray of shape (n_x,) or (n_x, n_outputs), dtype of ``X``
    K_kept : ndarray of shape (n_x, keep_first)
        Only when ``keep_first > 0``.
    """
    spec = _as_spec(kernel, bandwidth, nu)
    X = np.ascontiguousarray(X)
    Z = np.ascontiguousarray(Z, dtype=X.dtype)
    A = np.asarray(A, dtype=X.dtype)
    vector = A.ndim == 1
    A2 = A.reshape(-1, 1) if vector else A
    if A2.shape[0] != Z.shape[0]:
        raise ValueError(f"A has {A2.shape[0]} rows, Z has {Z.shape[0]}.")
    n_x, n_z = X.shape[0], Z.shape[0]
    n_threads = _n_threads(n_jobs)
    result = np.zeros((n_x, A2.shape[1]), dtype=X.dtype)
    per_thread = _tile_per_thread(n_threads)
    if per_thread:
        tile_rows, tile_cols = min(tile_rows, THREAD_TILE_ROWS), min(tile_cols, THREAD_TILE_COLS)
    tile_rows, tile_cols = max(1, min(tile_rows, n_x)), max(1, min(tile_cols, n_z))
    computer = _TileComputer(spec, X, Z, 1 if per_thread else n_jobs, tile_cols, z_sq=z_sq)
    keep_first = min(int(keep_first), n_z)
    kept = np.empty((n_x, keep_first), dtype=X.dtype) if keep_first > 0 else None

    def accumulate(row_blocks, col_blocks, out):
        """``out[rows] += K(X[rows], Z[cols]) @ A[cols]`` over the given blocks."""
        buffer = np.empty(tile_rows * tile_cols, dtype=X.dtype)
        for r0, r1 in row_blocks:
            for c0, c1 in col_blocks:
                tile = buffer[: (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
                tile = computer.tile(r0, r1, c0, c1, tile)
                out[r0:r1] += tile @ A2[c0:c1]
                if c0 < keep_first:
                    kept[r0:r1, c0 : min(c1, keep_first)] = tile[:, : keep_first - c0]

    row_blocks = chunk_bounds(n_x, tile_rows)
    col_blocks = chunk_bounds(n_z, tile_cols)
    description = f"kernel product {n_x} x {n_z}"
    if not per_thread:
        # One block of rows at a time: Ctrl-C is seen between tiles.
        for block in progress(row_blocks, description, verbose=verbose, min_interval=1.0):
            accumulate([block], col_blocks, result)
    elif len(row_blocks) >= n_threads:
        # Threads own disjoint blocks of output rows: no reduction.
        def rows(start, stop):
            accumulate(chunk_bounds(stop, tile_rows)[start // tile_rows :], col_blocks, result)

        with single_threaded_blas():
            # Chunks of at most ~16M kernel values (a fraction of a second): Ctrl-C waits
            # for the running chunks only.
            per_chunk = max(1, min(-(-len(row_blocks) // n_threads),
                                   CHUNK_VALUES // (tile_rows * max(n_z, 1))))
            run_in_chunks(rows, n_x, per_chunk * tile_rows, n_jobs=n_threads,
                          verbose=verbose, description=description)
    else:
        # Few rows (e.g. one query): threads take groups of column tiles; partial sums added
        # in a fixed order, so the result does not depend on scheduling.
        groups = [col_blocks[g::n_threads] for g in range(n_threads)]
        partial = np.zeros((n_threads, n_x, A2.shape[1]), dtype=X.dtype)

        def columns(start, stop):
            for g in range(start, stop):
                accumulate(row_blocks, groups[g], partial[g])

        with single_threaded_blas():
            run_in_chunks(columns, n_threads, 1, n_jobs=n_threads)
        result = partial.sum(axis=0)
    result = result.ravel() if vector else result
    return result if kept is None else (result, kept)
