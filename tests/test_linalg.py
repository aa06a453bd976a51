"""skinterp._linalg: LAPACK calls that release the GIL, so that Ctrl-C interrupts them."""

import os
import signal
import threading
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
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
    # The premise: no eigenvalue near the cut-off. A singular matrix's zero eigenvalues come
    # out of an eigensolver at the rounding level, n eps |A| give or take a small factor,
    # which is the default cut-off itself (falsified at n = 7: 3.3e-15 against 1.6e-15).
    assume(not (cutoff is None and rank < n))
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


# ------------------------------------------------------------------------------------------
# lapack_cholesky: one in-place LAPACK potrf (cholesky_in_place's path up to POTRF_MAX_SIZE)
# ------------------------------------------------------------------------------------------
def _spd(rng, n, dtype, log_condition=0.0):
    """A symmetric positive definite matrix with eigenvalues from 1 down to 10**-log_condition."""
    basis, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = (basis * np.logspace(0, -log_condition, n)) @ basis.T
    return ((A + A.T) / 2).astype(dtype)


def _with_garbage_above(A, rng, kind):
    """``A`` with its strict upper triangle overwritten (``nan``, ``inf`` or random values)."""
    garbage = A.copy()
    upper = np.triu_indices(A.shape[0], 1)
    values = {"nan": np.nan, "inf": np.inf}.get(kind)
    garbage[upper] = rng.normal(size=len(upper[0])) * 1e3 if values is None else values
    return garbage


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    n=st.integers(0, 90),
    dtype=st.sampled_from([np.float32, np.float64]),
    log_condition=st.sampled_from([0.0, 3.0]),
    garbage=st.sampled_from(["nan", "inf", "random"]),
)
def test_lapack_cholesky_is_numpys_factor_from_the_lower_triangle(
    seed, n, dtype, log_condition, garbage
):
    """The lower triangle of the result is numpy's Cholesky factor of the symmetric matrix
    that A's lower triangle describes, whatever the strict upper triangle holds; that
    triangle is left as it was; the factorisation is in place, in A's dtype."""
    from skinterp._linalg import lapack_cholesky

    rng = np.random.default_rng(seed)
    A = _spd(rng, n, dtype, log_condition)
    work = _with_garbage_above(A, rng, garbage)
    above = work[np.triu_indices(n, 1)].copy()
    factor = lapack_cholesky(work)
    assert factor is work and factor.dtype == dtype
    expected = np.linalg.cholesky(A.astype(np.float64)) if n else np.zeros((0, 0))
    eps = float(np.finfo(dtype).eps)
    # Backward stable: |L - L_numpy| <~ n eps cond(A) |L|, cond(A) = 10**log_condition.
    tolerance = 50 * max(n, 1) * eps * 10**log_condition * np.abs(expected).max(initial=1.0)
    np.testing.assert_allclose(np.tril(factor), expected, rtol=0, atol=tolerance)
    np.testing.assert_array_equal(factor[np.triu_indices(n, 1)], above)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [257, 600])
def test_lapack_cholesky_on_larger_matrices(n, dtype):
    """Sizes where OpenBLAS's potrf recurses into blocks (and threads): still numpy's factor,
    still blind to (and leaving) a NaN strict upper triangle."""
    from skinterp._linalg import lapack_cholesky

    rng = np.random.default_rng(n)
    G = rng.normal(size=(n, n // 2))
    A = (G @ G.T + n * np.eye(n)).astype(dtype)
    work = _with_garbage_above(A, rng, "nan")
    lapack_cholesky(work)
    expected = np.linalg.cholesky(A.astype(np.float64))
    atol = 50 * n * float(np.finfo(dtype).eps) * np.abs(expected).max()
    np.testing.assert_allclose(np.tril(work), expected, rtol=0, atol=atol)
    assert np.isnan(work[np.triu_indices(n, 1)]).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lapack_cholesky_refuses_a_matrix_that_is_not_positive_definite(dtype):
    """LinAlgError naming the first leading minor that is not positive: an indefinite matrix,
    a singular one, and NaN or infinite entries of the lower triangle (LAPACK's potrf itself
    lets a NaN pivot through and returns a NaN factor)."""
    from skinterp._linalg import lapack_cholesky

    indefinite = np.diag([1.0, 2.0, -1.0, 4.0]).astype(dtype)
    indefinite[3, 0] = indefinite[0, 3] = 0.5
    with pytest.raises(linalg.LinAlgError, match="leading minor of order 3 not positive"):
        lapack_cholesky(indefinite)
    rng = np.random.default_rng(4)
    v = rng.normal(size=(6, 1))
    with pytest.raises(linalg.LinAlgError, match="not positive"):
        lapack_cholesky((v @ v.T).astype(dtype))  # rank 1
    with pytest.raises(linalg.LinAlgError, match="leading minor of order 1 not positive"):
        lapack_cholesky(np.zeros((3, 3), dtype))
    for bad in (np.nan, np.inf, -np.inf):
        for position in [(0, 0), (5, 2), (6, 0), (6, 6)]:
            A = _spd(rng, 7, dtype)
            A[position] = bad
            with pytest.raises(linalg.LinAlgError):
                lapack_cholesky(A)


def test_blocked_cholesky_refuses_non_finite_entries_in_any_block():
    """The blocked factorisation's potrf calls let a NaN pivot through as the whole-matrix
    one does: a NaN or inf anywhere in the lower triangle is a LinAlgError, not a NaN
    factor."""
    from skinterp._linalg import blocked_cholesky

    rng = np.random.default_rng(5)
    for bad in (np.nan, np.inf):
        for position in [(0, 0), (9, 3), (17, 2), (19, 19)]:
            A = _spd(rng, 20, np.float64)
            A[position] = bad
            with pytest.raises(linalg.LinAlgError):
                blocked_cholesky(A, block=8, update_rows=4)


def test_lapack_cholesky_refuses_what_it_cannot_factor_in_place():
    """Only a square, writeable, C-contiguous float32/float64 ndarray: anything else is a
    ValueError before LAPACK runs (which would read n * n values from its memory: out of
    bounds for a wide 1-D or a tall non-square array), and the input is left untouched."""
    from skinterp._linalg import lapack_cholesky

    spd = np.array([[4.0, 2.0, 0.0], [2.0, 5.0, 1.0], [0.0, 1.0, 3.0]])
    read_only = spd.copy()
    read_only.flags.writeable = False
    bad_inputs = {
        "Fortran-ordered": np.asfortranarray(spd + np.tril(spd, -1)),  # not symmetric
        "a strided view": np.kron(spd, np.ones((2, 2)))[::2, ::2],
        "float16": spd.astype(np.float16),
        "int": np.array([[4, 2], [2, 5]]),
        "complex": spd.astype(complex),
        "tall": np.ones((3, 2)),
        "wide": np.ones((2, 3)),
        "1-D": np.ones(4),
        "3-D": np.ones((2, 2, 2)),
        "read-only": read_only,
    }
    for name, A in bad_inputs.items():
        before = A.copy()
        with pytest.raises(ValueError, match="square, writeable, C-contiguous"):
            lapack_cholesky(A)
        np.testing.assert_array_equal(A, before, err_msg=name)
    with pytest.raises(ValueError, match="got list"):
        lapack_cholesky(spd.tolist())
    # The same matrix, C-ordered and writeable, is factored.
    np.testing.assert_allclose(np.tril(lapack_cholesky(spd.copy())), np.linalg.cholesky(spd))


def _interruptible_threads():
    return [
        t for t in threading.enumerate() if t.name == "skinterp-interruptible" and t.is_alive()
    ]


def test_ctrl_c_interrupts_lapack_cholesky_mid_call():
    """A real SIGINT 0.2 s into the one potrf call on an 8,000-row matrix (seconds of work,
    GIL released in a worker thread) raises KeyboardInterrupt within a second, while the call
    is still running: the caller did not wait for LAPACK."""
    from skinterp._linalg import lapack_cholesky

    rng = np.random.default_rng(5)
    G = rng.normal(size=(8000, 64)).astype(np.float32)
    A = G @ G.T
    A[np.diag_indices(8000)] += 8000.0
    assert not _interruptible_threads()
    sent = {}

    def interrupt():
        sent["at"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(0.2, interrupt)
    finished = False
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            lapack_cholesky(A)
            finished = True
        raised_at = time.perf_counter()
        still_running = bool(_interruptible_threads())
    finally:
        timer.cancel()
    assert not finished
    assert still_running  # LAPACK had not returned: interrupted mid-call
    assert raised_at - sent["at"] < 1.0
