"""``K(X, Z)`` and ``K(X, Z) @ A`` computed tile by tile, in bounded memory.

For a tile of ``X`` rows and ``Z`` rows the cross products ``X_t @ Z_t.T`` come from BLAS (which
releases the GIL), :func:`~skinterp.kernels._functions.cross_to_kernel` (a ``nogil`` numba
kernel) turns them into kernel values in place, and, for the product, a second BLAS call adds
``K_t @ A_t`` to the output rows. No more than one tile per thread is ever stored.

Tiles run on ``n_jobs`` threads (:func:`skinterp._parallel.run_in_chunks`), each with a
single-threaded BLAS; with ``n_jobs=None`` (one thread) BLAS keeps its own threads. The
benchmark ``benchmarks/bench_kernels.py`` compares the two.
"""

import contextlib
import threading

import numpy as np
from joblib import effective_n_jobs

from .._parallel import chunk_bounds, run_in_chunks
from ._functions import check_bandwidth, cross_to_kernel, direct_kernel_tile, kernel_code

TILE_ROWS = 256
TILE_COLS = 2048
# Up to this many features, explicit squared distances in numba beat a BLAS cross product with
# a short inner dimension (memory bound) and are exact for duplicates.
DIRECT_MAX_FEATURES = 10

_controller_lock = threading.Lock()
_controller = None


def _single_threaded_blas():
    """A context in which BLAS uses one thread (threadpoolctl), or a no-op without it."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl is a scikit-learn dependency
        return contextlib.nullcontext()
    with _controller_lock:
        if _controller is None:
            _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def squared_norms(X):
    """Squared Euclidean norms of the rows of ``X``, in float64."""
    X = np.asarray(X)
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


class KernelSpec:
    """A resolved kernel: a built-in (code, bandwidth) or a user callable.

    Parameters
    ----------
    kernel : {"laplacian", "gaussian", "cauchy", "matern"} or callable
        The kernel. A callable is called as ``kernel(X_tile, Z_tile)`` and must return the
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
        """``k(x, x)`` for every row of ``X`` (1 for the built-in kernels)."""
        if self.is_builtin:
            return np.ones(X.shape[0], dtype=np.float64)
        return np.array([self.function(X[i : i + 1], X[i : i + 1])[0, 0] for i in range(len(X))])


def _as_spec(kernel, bandwidth, nu):
    return kernel if isinstance(kernel, KernelSpec) else KernelSpec(kernel, bandwidth, nu)


def _transposed_if_direct(spec, Z):
    if spec.is_builtin and Z.shape[1] <= DIRECT_MAX_FEATURES:
        return np.ascontiguousarray(Z.T)
    return None


def _threads(n_jobs, n_tasks):
    return max(1, min(effective_n_jobs(n_jobs), n_tasks))


def kernel_matrix(X, Z=None, *, kernel="laplacian", bandwidth=1.0, nu=None, n_jobs=None,
                  out=None):
    """The kernel matrix ``K(X, Z)``, computed tile by tile.

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
        Threads over tiles (joblib's meaning: ``None`` is one thread with multi-threaded BLAS).
    out : ndarray of shape (n_x, n_z) or None
        Where to write the result (dtype of ``X``).

    Returns
    -------
    K : ndarray of shape (n_x, n_z)
    """
    spec = _as_spec(kernel, bandwidth, nu)
    X = np.ascontiguousarray(X)
    same = Z is None
    Z = X if same else np.ascontiguousarray(Z, dtype=X.dtype)
    if out is None:
        out = np.empty((X.shape[0], Z.shape[0]), dtype=X.dtype)
    x_sq = squared_norms(X) if spec.is_builtin else None
    z_sq = x_sq if same else (squared_norms(Z) if spec.is_builtin else None)
    ZT = _transposed_if_direct(spec, Z)

    def fill(start, stop):
        spec.block(
            X[start:stop], Z, None if x_sq is None else x_sq[start:stop], z_sq,
            out=out[start:stop], ZT=ZT,
        )

    n_tasks = len(chunk_bounds(X.shape[0], TILE_ROWS))
    n_threads = _threads(n_jobs, n_tasks)
    context = _single_threaded_blas() if n_threads > 1 else contextlib.nullcontext()
    with context:
        run_in_chunks(fill, X.shape[0], TILE_ROWS, n_jobs=n_threads)
    if same:
        np.fill_diagonal(out, spec.diagonal(X))
    return out


def kernel_product(X, Z, A, *, kernel="laplacian", bandwidth=1.0, nu=None, n_jobs=None,
                   z_sq=None, tile_rows=TILE_ROWS, tile_cols=TILE_COLS):
    """``K(X, Z) @ A`` without storing ``K``: at most one ``tile_rows x tile_cols`` tile per thread.

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
        Threads over tiles (joblib's meaning).
    z_sq : ndarray of shape (n_z,) or None
        Precomputed squared norms of ``Z`` (saves ``n_z * n_features`` work per call).
    tile_rows, tile_cols : int
        Tile shape.

    Returns
    -------
    KA : ndarray of shape (n_x,) or (n_x, n_outputs), dtype of ``X``
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
    if spec.is_builtin:
        x_sq = squared_norms(X)
        z_sq = squared_norms(Z) if z_sq is None else z_sq
    else:
        x_sq = z_sq = None
    col_bounds = chunk_bounds(n_z, tile_cols)
    # Contiguous Z^T per column tile for the explicit-distance path (n_z * d values in all).
    ZT_tiles = None
    if _transposed_if_direct(spec, Z[:0]) is not None:
        ZT_tiles = [np.ascontiguousarray(Z[c0:c1].T) for c0, c1 in col_bounds]
    row_bounds = chunk_bounds(n_x, tile_rows)
    n_threads = _threads(n_jobs, max(len(row_bounds), len(col_bounds)))

    def tile_sum(r0, r1, columns, out):
        """``out = K(X[r0:r1], Z[columns]) @ A[columns]`` summed over column tiles."""
        buffer = np.empty((r1 - r0) * min(tile_cols, n_z), dtype=X.dtype)
        for c0, c1 in columns:
            tile = spec.block(
                X[r0:r1], Z[c0:c1],
                None if x_sq is None else x_sq[r0:r1],
                None if z_sq is None else z_sq[c0:c1],
                out=buffer[: (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0),
                ZT=None if ZT_tiles is None else ZT_tiles[c0 // tile_cols],
            )
            out += tile @ A2[c0:c1]

    if len(row_bounds) >= n_threads:
        # Threads own disjoint output rows: no reduction needed.
        result = np.zeros((n_x, A2.shape[1]), dtype=X.dtype)

        def rows(start, stop):
            for r0, r1 in chunk_bounds(stop - start, tile_rows):
                tile_sum(start + r0, start + r1, col_bounds, result[start + r0 : start + r1])

        per_thread = -(-len(row_bounds) // n_threads) * tile_rows
        context = _single_threaded_blas() if n_threads > 1 else contextlib.nullcontext()
        with context:
            run_in_chunks(rows, n_x, per_thread, n_jobs=n_threads)
    else:
        # Few rows (e.g. one query): threads take column groups and the partial sums are added.
        groups = [col_bounds[g::n_threads] for g in range(n_threads)]
        partial = np.zeros((n_threads, n_x, A2.shape[1]), dtype=X.dtype)

        def columns(start, stop):
            for g in range(start, stop):
                for r0, r1 in row_bounds:
                    tile_sum(r0, r1, groups[g], partial[g, r0:r1])

        with _single_threaded_blas():
            run_in_chunks(columns, n_threads, 1, n_jobs=n_threads)
        result = partial.sum(axis=0)
    return result.ravel() if vector else result
