"""``X @ W`` for sparse rows ``X`` (CSR) and a dense block of weights, in numba.

Images and bag-of-words data are mostly zeros: a sample of 2000 MNIST images has 24% nonzero
pixels (after the always-blank ones are dropped). Summing ``x_ij W[j]`` over the nonzero
entries only does a quarter of the multiply-adds of the dense BLAS product and measured
0.040 s against 0.061 s for 2000 rows times 2048 features, both on two threads. The rows of
``W`` are read four at a time so that each output row is loaded and stored once per four
nonzeros.
"""

import numba

from .._numba import NUMBA_CACHE


@numba.njit(cache=NUMBA_CACHE, nogil=True, fastmath={"contract"})
def sparse_rows_times_dense(indptr, indices, data, W, out, start):
    """``out[r] = X[start + r] @ W`` for the rows of ``out``, ``X`` in CSR form.

    ``W`` is C-ordered ``(n_inputs, n_columns)``; ``out`` is ``(n_rows, n_columns)``.
    """
    n_columns = W.shape[1]
    for r in range(out.shape[0]):
        z = out[r]
        z[:] = 0.0
        p, end = indptr[start + r], indptr[start + r + 1]
        while p + 3 < end:
            v0, v1, v2, v3 = data[p], data[p + 1], data[p + 2], data[p + 3]
            w0, w1 = W[indices[p]], W[indices[p + 1]]
            w2, w3 = W[indices[p + 2]], W[indices[p + 3]]
            for c in range(n_columns):
                z[c] += (v0 * w0[c] + v1 * w1[c]) + (v2 * w2[c] + v3 * w3[c])
            p += 4
        while p < end:
            v0, w0 = data[p], W[indices[p]]
            for c in range(n_columns):
                z[c] += v0 * w0[c]
            p += 1
