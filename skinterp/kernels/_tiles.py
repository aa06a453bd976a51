"""``K(X, Z)`` and ``K(X, Z) @ A`` computed tile by tile, in bounded memory.

One tile of kernel values is computed at a time and, for the product, immediately multiplied
into the output (``out[rows] += K_t @ A_t``); nothing larger than a tile per thread is stored.
A tile is either

* BLAS cross products ``X_t @ Z_t.T`` turned into kernel values in place by
  :func:`~skinterp.kernels._functions.cross_to_kernel` (a ``nogil`` numba kernel), or
* for few features (``d <= DIRECT_MAX_FEATURES``) explicit distances and kernel values at once
  by :func:`~skinterp.kernels._functions.direct_kernel_tile`.

Parallelism: ``n_jobs`` threads (:func:`skinterp._parallel.run_in_chunks`, which also sets
the BLAS policy) each own whole tiles, at most one tile per thread at a time. Threads take
disjoint blocks of output rows; when there are fewer blocks of rows than threads (a few
queries against many centres) they take column tiles, and the partial products are added in
the order of the columns. Either way every output value is the same sum in the same order as
with one thread: the tile shape and the order of summation do not depend on ``n_jobs`` or on
the calling thread, so results are identical bit for bit (tested).

The tile shape, 256 x 2048, measured in ``benchmarks/bench_kernels.py`` and on one core
(CPU seconds, BLAS single-threaded): as fast as or faster than 1024 x 4096 for d = 10 to
784 (0.52 against 0.68 s at n = 20,000, d = 10), and a tile of float64 (4 MiB) stays in
a core's cache.
"""

import numpy as np

from .._parallel import chunk_bounds, n_threads, run_in_chunks, small_dense_blas
from .._progress import progress
from ._functions import (
    check_bandwidth,
    cross_to_kernel,
    direct_kernel_lower,
    direct_kernel_product,
    direct_kernel_tile,
    kernel_code,
    min_degree,
    radial_profile,
)

TILE_ROWS = 256
TILE_COLS = 2048
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
        The kernel: a name of :data:`~skinterp.kernels.KERNEL_NAMES`. A callable is called as
        ``kernel(X_tile, Z_tile)`` and must return the ``(len(X_tile), len(Z_tile))`` kernel
        block (the bandwidth is then not used).
    bandwidth : float
        The bandwidth ``h`` of a built-in kernel.
    nu : float or None
        Smoothness of the Matern kernel (1/2, 3/2 or 5/2; ``None`` means 3/2).
    """

    def __init__(self, kernel="laplacian", bandwidth=1.0, nu=None):
        self.code = kernel_code(kernel, nu)
        self.function = kernel if self.code is None else None
        self.bandwidth = check_bandwidth(bandwidth) if self.code is not None else None
        self.name = kernel if self.code is not None else getattr(kernel, "__name__", "callable")
        self.nu = nu if kernel == "matern" else None

    def __repr__(self):
        if not self.is_builtin:
            return f"KernelSpec({self.name})"
        nu = f", nu={self.nu:g}" if self.nu is not None else ""
        return f"KernelSpec({self.name!r}, bandwidth={self.bandwidth:.6g}{nu})"

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

    def callable_block(self, X, Z, out=None):
        """``K(X, Z)`` of a user callable, in the dtype of ``X``, checked (shape, finiteness).

        The built-in kernels never come here: their tiles are computed by
        :class:`_TileComputer` (explicit distances or BLAS cross products, then numba).
        """
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

    def diagonal(self, X):
        """``k(x, x)`` for every row of ``X`` (``phi(0)`` for the built-in kernels: 1 for the
        positive definite ones, 0 or -1 for the conditionally positive definite ones)."""
        if self.is_builtin:
            return np.full(X.shape[0], float(radial_profile(self.code, 0.0)), dtype=np.float64)
        return np.array([self.function(X[i : i + 1], X[i : i + 1])[0, 0] for i in range(len(X))])


def _as_spec(kernel, bandwidth, nu):
    return kernel if isinstance(kernel, KernelSpec) else KernelSpec(kernel, bandwidth, nu)


class _TileComputer:
    """Computes kernel tiles ``K(X[r0:r1], Z[c0:c1])`` into a given buffer (one thread's work)."""

    def __init__(self, spec, X, Z, tile_cols, z_sq=None):
        self.spec, self.X, self.Z = spec, X, Z
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

    def lower_rows(self, r0, r1, out):
        """Rows ``r0:r1`` of ``K(X, X)`` into ``out`` (C-ordered, whole rows), at least their
        entries on and left of the diagonal (only those for few features)."""
        if self.direct:
            direct_kernel_lower(
                self.X[r0:r1], self.ZT_tiles[0], self.spec.code, self.inv_h2, out, r0
            )
            return out
        return self.tile(r0, r1, 0, self.Z.shape[0], out)

    def tile(self, r0, r1, c0, c1, out):
        spec, X = self.spec, self.X
        if not spec.is_builtin:
            return spec.callable_block(X[r0:r1], self.Z[c0:c1], out=out)
        if self.direct:
            direct_kernel_tile(X[r0:r1], self.ZT_tiles[c0], spec.code, self.inv_h2, out)
            return out
        np.matmul(X[r0:r1], self.Z[c0:c1].T, out=out)
        cross_to_kernel(out, self.x_sq[r0:r1], self.z_sq[c0:c1], spec.code, self.inv_h2)
        return out


def kernel_matrix(
    X,
    Z=None,
    *,
    kernel="laplacian",
    bandwidth=1.0,
    nu=None,
    n_jobs=None,
    out=None,
    tile_rows=TILE_ROWS,
    verbose=0,
    lower=False,
):
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
        Threads (:func:`skinterp._parallel.n_threads`); the result does not depend on it,
        bit for bit.
    out : ndarray of shape (n_x, n_z) or None
        Where to write the result (dtype of ``X``).
    tile_rows : int
        Rows per block.
    verbose : int
        Progress lines (blocks of rows done, time left) on stderr when > 0.
    lower : bool
        With ``Z=None``: only the lower triangle (diagonal included) is guaranteed; for few
        features (``d <= DIRECT_MAX_FEATURES``) only it is computed, half the work, and the
        strict upper triangle keeps what ``out`` held (zeros when ``out`` is None).

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
    lower = lower and same
    if out is None:
        # Zeros (pages the kernel commits lazily) rather than empty for the lower triangle:
        # the untouched upper triangle then holds no inf or NaN for a later whole-matrix pass.
        out = (np.zeros if lower else np.empty)((n_x, n_z), dtype=X.dtype)
    # Blocks of whole rows, written in place; a thread owns a block at a time.
    computer = _TileComputer(spec, X, Z, tile_cols=max(n_z, 1))
    rows = max(1, min(int(tile_rows), CHUNK_VALUES // max(n_z, 1)))

    def fill(start, stop):
        for r0, r1 in chunk_bounds(stop - start, rows):
            block = out[start + r0 : start + r1]
            if lower:
                computer.lower_rows(start + r0, start + r1, block)
            else:
                computer.tile(start + r0, start + r1, 0, n_z, block)

    # BLAS (the cross products of d > DIRECT_MAX_FEATURES) by rule 2 of skinterp._parallel:
    # their inner dimension is the few features.
    with small_dense_blas(X.shape[1]):
        run_in_chunks(
            fill,
            n_x,
            rows,
            n_jobs=n_jobs,
            verbose=verbose,
            description=f"kernel matrix {n_x} x {n_z}",
        )
    if same:
        np.fill_diagonal(out, spec.diagonal(X))
    return out


def kernel_product(
    X,
    Z,
    A,
    *,
    kernel="laplacian",
    bandwidth=1.0,
    nu=None,
    n_jobs=None,
    z_sq=None,
    tile_rows=TILE_ROWS,
    tile_cols=TILE_COLS,
    keep_first=0,
    verbose=0,
):
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
        Threads (:func:`skinterp._parallel.n_threads`); the result does not depend on it,
        bit for bit.
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
    threads = n_threads(n_jobs)
    result = np.zeros((n_x, A2.shape[1]), dtype=X.dtype)
    tile_rows, tile_cols = max(1, min(tile_rows, n_x)), max(1, min(tile_cols, n_z))
    computer = _TileComputer(spec, X, Z, tile_cols, z_sq=z_sq)
    keep_first = min(int(keep_first), n_z)
    kept = np.empty((n_x, keep_first), dtype=X.dtype) if keep_first > 0 else None

    AT_tiles = {}
    if computer.direct and kept is None:
        # Few features: rows of kernel values reduced as they are made (no tile in memory).
        for c0, c1 in chunk_bounds(n_z, tile_cols):
            AT_tiles[c0] = np.ascontiguousarray(A2[c0:c1].T)

    def tile_product(r0, r1, c0, c1, buffer):
        """``K(X[r0:r1], Z[c0:c1]) @ A[c0:c1]`` (and the kept columns copied out)."""
        if AT_tiles:
            return direct_kernel_product(
                X[r0:r1], computer.ZT_tiles[c0], spec.code, computer.inv_h2, AT_tiles[c0]
            )
        tile = computer.tile(
            r0, r1, c0, c1, buffer[: (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
        )
        if c0 < keep_first:
            kept[r0:r1, c0 : min(c1, keep_first)] = tile[:, : keep_first - c0]
        return tile @ A2[c0:c1]

    row_blocks = chunk_bounds(n_x, tile_rows)
    col_blocks = chunk_bounds(n_z, tile_cols)
    description = f"kernel product {n_x} x {n_z}"
    # The tiles' BLAS calls are small (inner dimension: the tile's columns, or the features):
    # one BLAS thread (rule 2 of skinterp._parallel), whatever n_jobs is. Measured with one
    # thread and OpenBLAS's two: 7.5 ms per 256 x 2048 product against 0.15 ms.
    with small_dense_blas(max(tile_cols, X.shape[1])):
        _accumulate(
            tile_product,
            result,
            row_blocks,
            col_blocks,
            tile_rows,
            tile_cols,
            threads,
            verbose,
            description,
        )
    result = result.ravel() if vector else result
    return result if kept is None else (result, kept)


def _accumulate(
    tile_product,
    result,
    row_blocks,
    col_blocks,
    tile_rows,
    tile_cols,
    threads,
    verbose,
    description,
):
    """``result += K @ A`` over the tiles, in one order of summation whatever ``threads``."""
    dtype = result.dtype
    n_z = col_blocks[-1][1] if col_blocks else 0
    n_x = result.shape[0]
    if len(row_blocks) >= threads:
        # Threads own disjoint blocks of output rows; each block sums its column tiles in
        # order. Chunks of at most ~16M kernel values (a fraction of a second): Ctrl-C waits
        # for the running chunks only.
        def rows(start, stop):
            buffer = np.empty(tile_rows * tile_cols, dtype=dtype)
            for r0 in range(start, stop, tile_rows):
                r1 = min(r0 + tile_rows, n_x)
                for c0, c1 in col_blocks:
                    result[r0:r1] += tile_product(r0, r1, c0, c1, buffer)

        per_chunk = max(
            1, min(-(-len(row_blocks) // threads), CHUNK_VALUES // (tile_rows * max(n_z, 1)))
        )
        run_in_chunks(
            rows,
            n_x,
            per_chunk * tile_rows,
            n_jobs=threads,
            verbose=verbose,
            description=description,
        )
    else:
        # Fewer blocks of rows than threads (e.g. one query against many centres): the
        # threads take column tiles, a group of ``threads`` at a time, and the group's partial
        # products are added in column order: the same sums, in the same order, as above.
        partial = np.empty((threads, n_x, result.shape[1]), dtype=dtype)
        buffers = np.empty((threads, tile_rows * tile_cols), dtype=dtype)
        groups = chunk_bounds(len(col_blocks), threads)
        for first, last in progress(groups, description, verbose=verbose, min_interval=1.0):

            def columns(start, stop, first=first):
                for j in range(start, stop):
                    c0, c1 = col_blocks[first + j]
                    for r0, r1 in row_blocks:
                        partial[j, r0:r1] = tile_product(r0, r1, c0, c1, buffers[j])

            run_in_chunks(columns, last - first, 1, n_jobs=threads)
            for j in range(last - first):
                result += partial[j]
