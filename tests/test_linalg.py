"""skinterp._linalg: LAPACK calls that release the GIL, so that Ctrl-C interrupts them."""

import os
import signal
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from skinterp._linalg import top_eigenpairs


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 60),
    fraction=st.floats(0.01, 1.0),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float32, np.float64]),
    fortran=st.booleans(),
)
def test_top_eigenpairs_equal_scipys_subset_eigh(n, fraction, seed, dtype, fortran):
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(n, n)).astype(dtype)
    A = B @ B.T
    A = np.asfortranarray(A) if fortran else A
    k = max(1, int(round(fraction * n)))
    values, vectors = top_eigenpairs(A.copy(), k)
    expected, _ = linalg.eigh(A, subset_by_index=(n - k, n - 1))
    scale = max(float(np.abs(expected).max()), 1.0)
    eps = np.finfo(dtype).eps
    assert values.shape == (k,) and vectors.shape == (n, k) and values.dtype == dtype
    np.testing.assert_allclose(values, expected, atol=100 * n * eps * scale)
    np.testing.assert_allclose(A @ vectors, vectors * values, atol=100 * n * eps * scale)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(k), atol=100 * n * eps)


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="square"):
        top_eigenpairs(np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="float32 or float64"):
        top_eigenpairs(np.ones((2, 2), dtype=int), 1)
    with pytest.raises(ValueError, match=r"k must be in \[1, 2\]"):
        top_eigenpairs(np.eye(2), 3)


def test_ctrl_c_interrupts_a_long_eigendecomposition():
    """A real SIGINT 0.3 s into a decomposition of several seconds raises KeyboardInterrupt
    promptly (scipy's eigh would hold the GIL to its end)."""
    rng = np.random.default_rng(0)
    B = rng.normal(size=(3000, 3000)).astype(np.float32)
    A = B @ B.T
    start = time.perf_counter()
    top_eigenpairs(A[:1500, :1500].copy(), 400)
    quarter = time.perf_counter() - start  # ~1/8 of the full size's time
    timer = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        top_eigenpairs(A, 700)
    elapsed = time.perf_counter() - start
    timer.cancel()
    assert elapsed < max(1.5, 0.5 * quarter)


# ------------------------------------------------------------------------------------------
# The one minimum-norm PSD solve
# ------------------------------------------------------------------------------------------
def _psd(rng, n, rank, log_condition, dtype=np.float64):
    basis, _ = np.linalg.qr(rng.normal(size=(n, n)))
    spectrum = np.zeros(n)
    spectrum[:rank] = np.logspace(0, -log_condition, rank)
    A = (basis * spectrum) @ basis.T
    return ((A + A.T) / 2).astype(dtype)


def _reference(A, B, cutoff):
    """numpy's eigendecomposition with the same cut-off on the eigenvalues."""
    values, vectors = np.linalg.eigh(A.astype(np.float64))
    keep = values > max(cutoff * values[-1], 0.0)
    kept = vectors[:, keep]
    return kept @ ((kept.T @ B) / values[keep][:, None]), int(keep.sum())


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(1, 50),
    rank_fraction=st.floats(0.1, 1.0),
    log_condition=st.sampled_from([0.0, 2.0, 5.0, 9.0]),
    cutoff=st.sampled_from([None, 3e-13, 3e-7, 3e-4]),  # between the decades
)
def test_min_norm_psd_solve_is_the_cut_minimum_norm_solution(
    seed, n, rank_fraction, log_condition, cutoff
):
    """Eigenvalues spaced by decades (none near the cut-off): the solution, its rank and the
    method follow the rule, and equal numpy's eigendecomposition with the same cut-off."""
    from skinterp._linalg import min_norm_psd_solve, rounding_cutoff

    rng = np.random.default_rng(seed)
    rank = max(1, int(round(rank_fraction * n)))
    A = _psd(rng, n, rank, log_condition)
    B = rng.normal(size=(n, 2))
    before = A.copy()
    solution = min_norm_psd_solve(A, B, cutoff=cutoff)
    np.testing.assert_array_equal(A, before)  # not modified
    effective = rounding_cutoff(n, A.dtype) if cutoff is None else cutoff
    smallest_kept = 10.0**-log_condition
    if rank == n and smallest_kept > 1e4 * effective:
        assert solution.method == "cholesky" and solution.rank == n
    if rank < n:  # singular: Cholesky may factor it (a rounded pivot), but is never taken
        assert solution.method == "eigh"
    reference, reference_rank = _reference(A, B, effective)
    assert solution.rank == reference_rank
    scale = np.abs(reference).max()
    # Rounding over the condition number of the eigenvalues kept (two eigensolvers).
    tolerance = 1e-9 + 100 * np.finfo(float).eps / smallest_kept
    assert np.abs(solution.x - reference).max() <= tolerance * scale


def test_the_cutoff_is_checked_against_the_condition_estimate():
    """Positive definite with condition 1e8: Cholesky succeeds, but a cut-off of 1e-6 must drop
    the small eigenvalues, so the eigendecomposition is used; at the rounding level Cholesky's
    solution, which interpolates, is taken, also at condition 1e12 (far from singular), but
    not for a matrix of rank 29, whose last pivot may round to a positive number."""
    from skinterp._linalg import CONDITION_SAFETY, min_norm_psd_solve

    rng = np.random.default_rng(1)
    A = _psd(rng, 30, 30, 8.0)
    B = rng.normal(size=(30, 1))
    cut = min_norm_psd_solve(A, B, cutoff=1e-6)
    assert cut.method == "eigh" and cut.rank < 30
    exact = min_norm_psd_solve(A, B)
    assert exact.method == "cholesky" and exact.rank == 30
    assert np.abs(A @ exact.x - B).max() < 1e-6 * np.abs(B).max()
    # A cut-off just below what the condition estimate allows keeps Cholesky.
    assert min_norm_psd_solve(A, B, cutoff=1e-8 / CONDITION_SAFETY / 100).method == "cholesky"
    ill = _psd(rng, 30, 30, 12.0)
    assert min_norm_psd_solve(ill, B).method == "cholesky"
    singular = _psd(rng, 30, 29, 0.0)
    assert min_norm_psd_solve(singular, B).method == "eigh"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_singular_and_zero_matrices(dtype):
    from skinterp._linalg import min_norm_psd_solve

    rng = np.random.default_rng(2)
    A = _psd(rng, 20, 12, 1.0, dtype)
    B = rng.normal(size=(20, 3)).astype(dtype)
    solution = min_norm_psd_solve(A, B)
    assert solution.method == "eigh" and solution.rank == 12
    assert solution.x.dtype == dtype
    reference, _ = _reference(A, B.astype(np.float64), 20 * np.finfo(dtype).eps)
    np.testing.assert_allclose(solution.x, reference, rtol=0, atol=1e-3 * np.abs(reference).max())
    zero = min_norm_psd_solve(np.zeros((4, 4), dtype), np.ones((4, 1), dtype))
    assert zero.rank == 0 and not np.any(zero.x)


def test_blocked_cholesky_is_interruptible_between_calls():
    """A real SIGINT 0.3 s into the factorisation of an 8,000-row matrix (seconds of work in
    calls of a fraction of a second) raises KeyboardInterrupt before the factorisation ends."""
    from skinterp._linalg import blocked_cholesky

    rng = np.random.default_rng(3)
    G = rng.normal(size=(8000, 100))
    A = G @ G.T + 8000 * np.eye(8000)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    finished = False
    with pytest.raises(KeyboardInterrupt):
        blocked_cholesky(A, block=256, update_rows=128)
        finished = True
    timer.cancel()
    assert not finished
    assert time.perf_counter() - start < 0.3 + 1.5


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 40), log_condition=st.sampled_from([1, 8, 14]))
def test_only_the_lower_triangle_is_read(seed, n, log_condition):
    """The direct kernel solver assembles only the lower triangle: the 1-norm behind the
    condition check and the solve must not read the upper one."""
    from skinterp._linalg import cholesky_solve, symmetric_one_norm

    rng = np.random.default_rng(seed)
    A = _psd(rng, n, n, float(log_condition))
    assert symmetric_one_norm(np.tril(A)) == pytest.approx(np.abs(A).sum(axis=0).max(), rel=1e-12)
    B = rng.normal(size=(n, 1))
    full, lower = cholesky_solve(A, B), cholesky_solve(np.tril(A), B)
    assert (full is None) == (lower is None)
    if full is not None:
        np.testing.assert_array_equal(full.x, lower.x)


def test_large_matrices_are_factored_by_blocks(monkeypatch):
    """Above POTRF_MAX_SIZE the factorisation goes by blocks (OpenBLAS's multithreaded
    whole-matrix potrf crashed from n = 16,000); both paths give numpy's factor."""
    import skinterp._linalg as linalg_module

    calls = []
    for name in ("lapack_cholesky", "blocked_cholesky"):
        original = getattr(linalg_module, name)

        def recorded(A, original=original, name=name):
            calls.append(name)
            return original(A)

        monkeypatch.setattr(linalg_module, name, recorded)
    rng = np.random.default_rng(0)
    G = rng.normal(size=(300, 300))
    A = G @ G.T + 300 * np.eye(300)
    L = np.linalg.cholesky(A)
    for limit, expected in ((1000, "lapack_cholesky"), (200, "blocked_cholesky")):
        monkeypatch.setattr(linalg_module, "POTRF_MAX_SIZE", limit)
        calls.clear()
        factor = linalg_module.cholesky_in_place(A.copy())
        assert calls == [expected]
        np.testing.assert_allclose(np.tril(factor), L, atol=1e-10 * np.abs(L).max())
    assert linalg_module.POTRF_MAX_SIZE < 16_000
