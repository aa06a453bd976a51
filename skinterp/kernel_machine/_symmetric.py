"""``K(X, X) @ V`` from the upper triangle of tiles: half the kernel values of a full pass.

Conjugate gradient applies the same symmetric ``K(X, X)`` at every iteration, and a pass is
dominated by the kernel values (an ``exp``, a ``log`` or a ``sqrt`` each), not by the
products with ``V``. Each tile ``T = K(X_I, X_J)`` with ``J >= I`` (square tiles of ``t``
rows) is computed once (by the tile computer of :mod:`skinterp.kernels._tiles`, the same
kernel values as :func:`~skinterp.kernels.kernel_product`) and used twice:
``out[I] += T V[J]`` and, for ``J > I``, ``out[J] += T^T V[I]``.

Parallelism and order of summation: a chunk of work is a set of pairs of row blocks
``(i, m - 1 - i)`` (``m`` blocks; a pair has ``m + 1`` tiles, so the chunks have equal work).
A chunk owns its rows' ``T V[J]`` sums and returns its transposed contributions in a buffer of
its own; the buffers are added to the output in the order of the chunks, as each chunk ends.
The result is thus the same, bit for bit, whatever ``n_jobs`` (not the same bits as
``kernel_product``, whose sums run in another order). Chunks hold at most ``CHUNK_VALUES``
kernel values (a fraction of a second), so Ctrl-C is prompt (:func:`run_in_chunks`).
"""

import threading

import numba
import numpy as np

from .._numba import NUMBA_CACHE
from .._parallel import run_in_chunks, small_dense_blas
from ..kernels._exp import exp_row_axpy
from ..kernels._functions import (
    GAUSSIAN,
    LAPLACIAN,
    _distances_to_kernel,
    _squared_distances,
    kernel_workspace,
)
from ..kernels._tiles import CHUNK_VALUES, _TileComputer

SYMMETRIC_TILE = 512
# Up to this many outputs the built-in kernels' direct tiles (few features) are multiplied in
# numba as they are computed, a row at a time (:func:`_fused_tile`); more outputs go to BLAS.
FUSED_MAX_OUTPUTS = 4


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath={"reassoc", "contract"})
def _dot(a, b):
    """``sum(a * b)`` (reassociated: LLVM vectorises the sum)."""
    total = a.dtype.type(0.0)
    for j in range(a.shape[0]):
        total += a[j] * b[j]
    return total


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath={"contract"})
def _axpy(alpha, x, y):
    """``y += alpha * x``."""
    for j in range(x.shape[0]):
        y[j] += alpha * x[j]


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def _fused_tile(X, ZT, r0, r1, c0, code, inv_h2, VT, rows_T, columns_T, transposed):
    """One tile ``T = K(X[r0:r1], Z[c0:c0 + t])`` (``ZT``: that tile of ``Z`` transposed) of
    a built-in kernel by explicit distances, a row at a time, never stored:
    ``rows_T[o, i] += T[i] . VT[o, c0:c1]`` and, when ``transposed``,
    ``columns_T[o, c0:c1] += VT[o, i] T[i]`` (whole arrays and offsets: their rows stay
    contiguous for numba, so the loops vectorise).

    The same kernel values as :func:`~skinterp.kernels._functions.direct_kernel_tile`; the
    row of values stays in L1 where the BLAS products of a stored tile read 2 MiB (a 512 x 512
    float64 tile) twice from outside L2. Measured (California 12k, 8-D, Laplacian, one
    thread): 3.08 -> 2.55 ns a kernel value for the whole pass.
    """
    n_cols, n_outputs = ZT.shape[1], VT.shape[0]
    c1 = c0 + n_cols
    d2, exponent, prefactor, bits = kernel_workspace(n_cols, rows_T)
    values = np.empty(n_cols, dtype=rows_T.dtype)
    real = rows_T.dtype.type
    # The exponential kernels' values and the first output's transposed part in one loop
    # (exp_row_axpy: the same bits as _distances_to_kernel).
    fused = transposed and (code == LAPLACIAN or code == GAUSSIAN)
    scale = real(inv_h2) if code == LAPLACIAN else real(inv_h2) * real(0.5)
    for i in range(r0, r1):
        _squared_distances(X[i], ZT, d2)
        if fused:
            exp_row_axpy(d2, scale, code == LAPLACIAN, values, VT[0, i], columns_T[0, c0:c1])
        else:
            _distances_to_kernel(d2, inv_h2, values, code, exponent, prefactor, bits)
        for o in range(n_outputs):
            rows_T[o, i] += _dot(values, VT[o, c0:c1])
            if transposed and not (fused and o == 0):
                _axpy(VT[o, i], values, columns_T[o, c0:c1])


def symmetric_kernel_product(X, V, spec, *, n_jobs=None, tile=SYMMETRIC_TILE, verbose=0):
    """``K(X, X) @ V`` (module docstring), in the dtype of ``X``.

    Parameters
    ----------
    X : ndarray of shape (n, n_features), float64 or float32
    V : ndarray of shape (n, n_outputs)
    spec : KernelSpec
    n_jobs : int or None
        Threads; the result does not depend on it.
    tile : int
        Rows (and columns) of a tile.
    verbose : int
        Progress lines on stderr.

    Returns
    -------
    KV : ndarray of shape (n, n_outputs)
    """
    X = np.ascontiguousarray(X)
    V = np.ascontiguousarray(V, dtype=X.dtype)
    n, c = V.shape
    if n == 0:
        return np.zeros((n, c), dtype=X.dtype)
    t = max(1, min(int(tile), n))
    m = -(-n // t)
    computer = _TileComputer(spec, X, X, t)
    description = f"symmetric kernel product {n} x {n}"
    if computer.direct and c <= FUSED_MAX_OUTPUTS:
        # Built-in kernel, few features: _fused_tile, outputs transposed (c x n).
        VT = np.ascontiguousarray(V.T)
        out_T = np.zeros((c, n), dtype=X.dtype)  # the transposed parts, merged in order
        rows_T = np.zeros((c, n), dtype=X.dtype)  # the row sums: disjoint rows per chunk

        def fused_block_row(i, transposed):
            r0, r1 = i * t, min((i + 1) * t, n)
            for j in range(i, m):
                c0 = j * t
                _fused_tile(
                    X,
                    computer.ZT_tiles[c0],
                    r0,
                    r1,
                    c0,
                    computer.spec.code,
                    computer.inv_h2,
                    VT,
                    rows_T,
                    transposed,
                    j > i,
                )

        _by_pairs_of_block_rows(
            m, t, (c, n), X.dtype, fused_block_row, out_T, n_jobs, verbose, description
        )
        out_T += rows_T
        return np.ascontiguousarray(out_T.T)

    out = np.zeros((n, c), dtype=X.dtype)
    rows = np.zeros((n, c), dtype=X.dtype)
    buffers = threading.local()

    def block_row(i, transposed):
        if not hasattr(buffers, "tile"):
            buffers.tile = np.empty(t * t, dtype=X.dtype)
        r0, r1 = i * t, min((i + 1) * t, n)
        row_sum = np.zeros((r1 - r0, c), dtype=X.dtype)
        for j in range(i, m):
            c0, c1 = j * t, min((j + 1) * t, n)
            T = computer.tile(
                r0, r1, c0, c1, buffers.tile[: (r1 - r0) * (c1 - c0)].reshape(r1 - r0, c1 - c0)
            )
            row_sum += T @ V[c0:c1]
            if j > i:
                transposed[c0:c1] += T.T @ V[r0:r1]
        rows[r0:r1] = row_sum

    with small_dense_blas(max(t, X.shape[1])):
        _by_pairs_of_block_rows(
            m, t, (n, c), X.dtype, block_row, out, n_jobs, verbose, description
        )
    out += rows
    return out


def _by_pairs_of_block_rows(m, t, shape, dtype, block_row, out, n_jobs, verbose, description):
    """Run ``block_row(i, transposed)`` for the ``m`` block rows in chunks of pairs
    ``(i, m - 1 - i)`` (module docstring): each chunk adds its transposed contributions to a
    zeroed buffer of ``shape`` of its own, and the buffers are added to ``out`` in the order
    of the chunks, as each chunk ends; chunks of a fixed size (not depending on ``n_jobs``),
    so the sums are the same whatever the threads."""
    n_pairs = -(-m // 2)
    per_chunk = max(1, CHUNK_VALUES // ((m + 1) * t * t))
    lock = threading.Lock()
    pending = {}
    state = {"next": 0}

    def chunk(start, stop):
        transposed = np.zeros(shape, dtype=dtype)
        for pair in range(start, stop):
            for i in sorted({pair, m - 1 - pair}):
                block_row(i, transposed)
        with lock:
            pending[start] = transposed
            while state["next"] in pending:
                out[...] += pending.pop(state["next"])
                state["next"] += per_chunk

    run_in_chunks(
        chunk, n_pairs, per_chunk, n_jobs=n_jobs, verbose=verbose, description=description
    )
