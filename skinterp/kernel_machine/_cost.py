"""A cost model for the kernel machine's solvers: flops, bytes and seconds, before allocating.

The machine's rates are measured once per process (the first fit that asks): a 256 x 256 GEMM
for the BLAS rate and one 128 x 1024 kernel tile for the rate of kernel values (in the working
dtype, with the fit's kernel). Each takes a few milliseconds. The estimates are rough (a factor
of two either way: shared cores, caches, threads), enough to say "minutes" or "hours" before a
fit starts and to refuse, with numbers, a request over ``memory_limit``.
"""

import time
from dataclasses import dataclass

import numpy as np

from .._base import memory_budget_bytes
from .._parallel import blas_threads, one_blas_thread
from .._progress import format_duration
from ..kernels import kernel_product

_RATES = {}
# solver="auto" with a ridge on every sample: the iterations per decade of cg_tol assumed to
# compare cg with the direct solve (measured with the Nystrom preconditioner on 1,000
# randomly pivoted Cholesky landmarks: California 12k, 8-D, Laplacian h=2, ridge 1e-3: 57-58
# iterations to 1e-7, 8.2 a decade; 87 with 500 uniform landmarks; a ridge bounds the
# condition number, so the count does not grow with n as an interpolation's does).
CG_ITERATIONS_PER_DECADE = 9
# Mixed-precision cg: iterations between two reliable updates (float64 passes) on average
# (RELIABLE_DROP = 1e-2: about two decades of the residual; measured: 4 float64 passes for 59
# iterations to 1e-7 on California 12k, 5 for 85 to 1e-10, 6 for 43 on MNIST 5k).
ITERATIONS_PER_RELIABLE_UPDATE = 15
# The dense Cholesky (LAPACK, BLAS threads) runs at about this fraction of the GEMM rate
# measured by gemm_rate (California 12k: 11.97 s measured against 7.7 s estimated at the full
# rate, on two quiet cores).
CHOLESKY_RATE_FRACTION = 0.5
# The two-level preconditioner's block work runs at this fraction of the GEMM rate (see cg_cost).
BLOCK_RATE_FRACTION = 6


def gemm_rate():
    """Float64 GEMM flops per second: the best of five 256 x 256 products on one BLAS thread,
    times BLAS's thread count. Measured on BLAS's own threads the rate swung from 2.5 to 92
    Gflop/s between two runs on shared cores (idle threads spinning against other jobs); one
    thread is steadier, and the estimate stays that of the machine, not of the moment."""
    if "gemm" not in _RATES:
        a = np.random.RandomState(0).normal(size=(256, 256))
        with one_blas_thread():
            a @ a  # the first call measured 50x slower than the next
            best = np.inf
            for _ in range(5):
                start = time.perf_counter()
                a @ a
                best = min(best, time.perf_counter() - start)
        _RATES["gemm"] = 2 * 256**3 / max(best, 1e-9) * max(1, blas_threads())
    return _RATES["gemm"]


def kernel_rate(spec, n_features, dtype):
    """Measured kernel values per second of ``K(X, Z) @ A`` tiles, per (kernel, d, dtype)."""
    key = ("kernel", spec.code, min(int(n_features), 64), np.dtype(dtype).name)
    if key not in _RATES:
        rng = np.random.RandomState(0)
        X = rng.normal(size=(128, key[2])).astype(dtype)
        Z = rng.normal(size=(1024, key[2])).astype(dtype)
        A = np.ones((1024, 1), dtype=dtype)
        tiles = dict(kernel=spec, n_jobs=1, tile_rows=128, tile_cols=1024)
        kernel_product(X[:8], Z[:8], A[:8], **tiles)  # compile / load
        best = np.inf
        for _ in range(3):
            start = time.perf_counter()
            kernel_product(X, Z, A, **tiles)
            best = min(best, time.perf_counter() - start)
        # Features beyond 64 scale the distance part linearly.
        _RATES[key] = 128 * 1024 / max(best, 1e-9) * min(1.0, 64 / max(n_features, 1))
    return _RATES[key]


@dataclass
class Cost:
    """An estimate: what it is for, floating-point operations, peak working bytes, seconds."""

    what: str
    flops: float
    bytes: float
    seconds: float

    def __str__(self):
        return (
            f"{self.what}: ~{self.flops / 1e9:,.3g} Gflop, {self.bytes / 2**20:,.0f} MiB, "
            f"~{format_duration(self.seconds)} (rates measured in this process)"
        )


def _threads():
    """The threads of the kernel passes by default (``n_jobs=None``: as many as BLAS's);
    :func:`kernel_rate` is one thread's rate."""
    return max(1, blas_threads())


def direct_cost(n, d, n_outputs, n_monomials, itemsize, spec, dtype):
    """The direct saddle-point solve: kernel matrix, projection, Cholesky, refinement."""
    values = n * n * (1 + 3)  # the matrix, the residual pass and up to two refinement passes
    flops = n * n * (3 * d + 10) + n**3 / 3 + 4 * n * n * n_monomials
    seconds = values / (kernel_rate(spec, d, dtype) * _threads()) + (
        n**3 / 3 + 4 * n * n * n_monomials
    ) / (gemm_rate() * CHOLESKY_RATE_FRACTION * (1 if itemsize == 8 else 2))
    return Cost(f"direct solve, n={n:,}", flops, n * n * itemsize, seconds)


def cg_cost(n, d, n_outputs, n_monomials, n_landmarks, iterations, spec, dtype, two_level=None):
    """Projected preconditioned CG: setup (the ``n x s`` landmark block, its factor, and for
    the two-level preconditioner the local blocks and ``G B``) and ``iterations`` kernel
    passes of ``n**2 / 2`` values each (the upper triangle of tiles; iterations unknown in
    advance: an upper bound with ``cg_max_iter``)."""
    from ._cg import cg_memory_bytes, uses_two_level
    from ._preconditioner import LEAF_SIZE

    if two_level is None:
        two_level = uses_two_level(d)
    s = n_landmarks
    setup_values = n * s
    # B = C L^-T and B^T B (or B^T G B): 2 n s^2; the eigendecomposition or Cholesky: s^3.
    setup_flops = 2 * n * s**2 + s**3
    block_flops = 0.0
    if two_level:
        # n / (0.75 L) blocks of ~1.3 L points: B_E B_E^T, the factor's inverse and G B.
        block = 1.3 * min(LEAF_SIZE, n)
        n_blocks = n / (0.75 * min(LEAF_SIZE, n))
        block_flops = n_blocks * (6 * block**2 * s + block**3)
        setup_values += n_blocks * block**2
    setup_flops += block_flops
    from ._cg import uses_mixed_precision

    pass_values = n * n / 2
    per_iteration = pass_values * (3 * d + 10 + 4 * n_outputs)
    rate = kernel_rate(spec, d, dtype) * _threads()
    per_second = pass_values / rate
    exact_seconds = 0.0
    if uses_mixed_precision(spec, dtype, n_monomials):
        # float32 passes, and about one float64 pass (a reliable update) every
        # ITERATIONS_PER_RELIABLE_UPDATE iterations.
        exact_passes = 1 + iterations / ITERATIONS_PER_RELIABLE_UPDATE
        exact_seconds = exact_passes * per_second
        per_second = pass_values / (kernel_rate(spec, d, np.float32) * _threads())
    # The blocks' small products run at about a sixth of the GEMM rate (one BLAS thread,
    # ~150-point matrices, a Python loop; measured setup at n = 50,000: 7.0 s, at 200,000:
    # 23 s on two shared cores).
    setup_seconds = (
        setup_values / rate
        + (setup_flops - block_flops) / gemm_rate()
        + block_flops / (gemm_rate() / BLOCK_RATE_FRACTION)
    )
    return Cost(
        f"cg, n={n:,}, {iterations} iterations at most ({per_second:.2g} s each, setup "
        f"{setup_seconds:.2g} s)",
        setup_flops + iterations * per_iteration,
        cg_memory_bytes(
            n, n_outputs, n_landmarks, n_monomials, np.dtype(dtype).itemsize, two_level
        ),
        setup_seconds + iterations * per_second + exact_seconds,
    )


def cg_iterations_estimate(cg_tol):
    """The iterations ``solver="auto"`` assumes for a ridge: ``CG_ITERATIONS_PER_DECADE``
    per decade of ``cg_tol``."""
    return int(np.ceil(CG_ITERATIONS_PER_DECADE * np.log10(1 / max(float(cg_tol), 1e-16))))


def ridge_prefers_cg(n, d, n_outputs, n_monomials, n_landmarks, cg_tol, spec, dtype):
    """``(choice, cg, direct)``: whether the cost model expects cg (at
    :func:`cg_iterations_estimate` iterations) to be faster than the direct solve, and the two
    estimates."""
    cg = cg_cost(
        n, d, n_outputs, n_monomials, n_landmarks, cg_iterations_estimate(cg_tol), spec, dtype
    )
    direct = direct_cost(n, d, n_outputs, n_monomials, np.dtype(dtype).itemsize, spec, dtype)
    return cg.seconds < direct.seconds, cg, direct


def eigenpro_cost(n, d, n_outputs, epochs, subsample, spec, dtype, memory_limit):
    """EigenPro: the Nystrom eigensystem and ``epochs`` passes of about ``2 n**2`` values."""
    rate = kernel_rate(spec, d, dtype)
    flops = epochs * 2 * n * n * (3 * d + 10) + 4 * subsample**3
    seconds = epochs * 2 * n * n / rate + 4 * subsample**3 / gemm_rate()
    working = 3 * subsample * subsample * 8 + min(
        memory_budget_bytes(memory_limit) // 8, n * n * np.dtype(dtype).itemsize
    )
    return Cost(f"eigenpro, n={n:,}, {epochs} epochs at most", flops, working, seconds)


def local_cost(n_queries, d, n_outputs, k, n_monomials, spec, dtype):
    """``neighbors=k`` at prediction: one neighbourhood system per query at most."""
    m = k + n_monomials
    rate = kernel_rate(spec, d, dtype)
    flops = n_queries * (k * k * (3 * d + 10) / 2 + 2 * m**3 / 3 + k * (3 * d + 2 * n_outputs))
    seconds = n_queries * ((k * k / 2 + k) / rate + 2 * m**3 / 3 / (gemm_rate() / 20))
    return Cost(
        f"local solves, {n_queries:,} queries, k={k}",
        flops,
        n_queries * (k + 1) * 8 + m * m * 8,
        seconds,
    )


def check_cost(cost, memory_limit, *, advice):
    """``MemoryError`` with the estimate when its bytes exceed the budget."""
    budget = memory_budget_bytes(memory_limit)
    if cost.bytes > budget:
        raise MemoryError(
            f"Refused before allocating: {cost}; that is more than the memory budget of "
            f"{budget / 2**20:,.0f} MiB (memory_limit). {advice}"
        )
