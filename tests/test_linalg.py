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
