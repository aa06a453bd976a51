"""neighbors=k: the lanes-batched null-space Cholesky solver of the local systems against LU
on the same systems, its LU fallback, and the grouping of queries by neighbourhood."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import RBFInterpolator
from scipy.spatial import cKDTree

from skinterp import KernelInterpolator
from skinterp.kernel_machine._local import (
    LANES,
    LANES_MAX_NEIGHBORS,
    _batched_solve_and_evaluate,
    _group_identical_rows,
    _lanes_solve,
    _lanes_workspace,
    _morton_order,
    _packed_cholesky,
    _packed_cholesky_solve,
    _packed_product,
    _solve_and_evaluate,
)
from skinterp.kernel_machine._polynomial_tail import monomial_powers
from skinterp.kernels import kernel_code


@pytest.mark.parametrize(
    "kernel, degree, d, k, ridge",
    [
        ("thin_plate_spline", 1, 2, 50, 0.0),
        ("thin_plate_spline", 1, 3, 30, 1e-3),
        ("cubic", 1, 2, 20, 0.0),
        ("quintic", 2, 2, 25, 0.0),
        ("linear", 0, 4, 15, 0.0),
        ("multiquadric", 0, 2, 10, 0.0),
        ("gaussian", -1, 3, 12, 0.0),
        ("inverse_multiquadric", 1, 2, 12, 0.0),
        ("thin_plate_spline", -1, 2, 12, 0.0),  # below the minimum degree: the LU fallback
    ],
)
def test_null_space_solver_equals_lu_on_the_same_neighbourhoods(kernel, degree, d, k, ridge):
    rng = np.random.RandomState(d * 100 + k)
    # Smooth kernels: neighbourhoods not much smaller than the bandwidth, or the local systems
    # are so ill-conditioned that two exact solvers differ at 1e-8.
    smooth = kernel in ("multiquadric", "gaussian", "inverse_multiquadric")
    X = rng.uniform(size=(300 if smooth else 2000, d))
    Y = np.column_stack([np.sin(5 * X[:, 0]), X.sum(axis=1) ** 2])
    Z = rng.uniform(size=(300, d))
    index = np.sort(cKDTree(X).query(Z, k)[1], axis=1)
    hoods, order, starts = _group_identical_rows(index)
    args = (X, Y, np.full(len(X), ridge), hoods, Z, order, starts, kernel_code(kernel))
    powers = monomial_powers(d, degree)
    expected, out = np.empty((len(Z), 2)), np.empty((len(Z), 2))
    _solve_and_evaluate(*args, 1.0 / 0.4**2, powers, expected)
    _batched_solve_and_evaluate(*args, 1.0 / 0.4**2, powers, out)
    np.testing.assert_allclose(out, expected, atol=1e-9 * np.abs(expected).max(), rtol=0)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    d=st.integers(1, 4),
    degree=st.integers(1, 2),
    extra=st.integers(1, 30),
    n_queries=st.integers(1, 3 * LANES + 5),
    kernel=st.sampled_from(["thin_plate_spline", "cubic", "linear", "quintic"]),
    duplicate=st.booleans(),
)
def test_lanes_solver_equals_lu_on_random_neighbourhoods(
    seed, d, degree, extra, n_queries, kernel, duplicate
):
    """Any number of neighbourhoods (full and partial groups of LANES), any k above the tail's
    size, with or without a duplicated training point: the same values as LU, and the same
    LinAlgError when a system is singular."""
    degree = max(degree, 2) if kernel == "quintic" else degree
    powers = monomial_powers(d, degree)
    k = powers.shape[0] + extra
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(k + 40, d))
    if duplicate:
        X[1] = X[0]
    Y = np.column_stack([np.cos(3 * X[:, 0]), X.sum(axis=1)])
    Z = rng.uniform(size=(n_queries, d))
    index = np.sort(cKDTree(X).query(Z, k)[1].reshape(n_queries, k), axis=1)
    hoods, order, starts = _group_identical_rows(index)
    args = (X, Y, np.zeros(len(X)), hoods, Z, order, starts, kernel_code(kernel), 1.0, powers)
    expected, out = np.empty((n_queries, 2)), np.empty((n_queries, 2))
    try:
        _solve_and_evaluate(*args, expected)
    except np.linalg.LinAlgError:
        with pytest.raises(np.linalg.LinAlgError):
            _batched_solve_and_evaluate(*args, out)
        return
    _batched_solve_and_evaluate(*args, out)
    scale = np.abs(expected).max()
    if np.all(np.isfinite(expected)) and scale < 1e8:  # LU on a numerically singular system
        np.testing.assert_allclose(out, expected, atol=1e-7 * scale, rtol=0)


def test_lanes_solver_sends_a_tail_without_unisolvent_points_to_lu():
    """Collinear points in 2-D with a degree-1 tail: the tail's columns are dependent; the
    batched solver must not return a number for it (LU then raises), whatever the other
    lanes hold."""
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.uniform(size=60), np.zeros(60)])
    X = np.vstack([X, rng.uniform(size=(200, 2)) + [0.0, 5.0]])
    Y = rng.normal(size=(len(X), 1))
    Z = np.vstack([[[0.5, 0.0]], rng.uniform(size=(40, 2)) + [0.0, 5.0]])
    index = np.sort(cKDTree(X).query(Z, 20)[1], axis=1)
    hoods, order, starts = _group_identical_rows(index)
    args = (X, Y, np.zeros(len(X)), hoods, Z, order, starts, kernel_code("thin_plate_spline"))
    with pytest.raises(np.linalg.LinAlgError):
        _batched_solve_and_evaluate(*args, 1.0, monomial_powers(2, 1), np.empty((len(Z), 1)))


def test_grouping_keeps_exactly_the_identical_rows_together():
    rng = np.random.RandomState(0)
    rows = rng.randint(0, 5, size=(40, 3))
    index = rows[rng.randint(0, 40, size=500)]
    hoods, order, starts = _group_identical_rows(index)
    assert sorted(order.tolist()) == list(range(500))
    for b in range(len(hoods)):
        members = order[starts[b] : starts[b + 1]]
        assert len(members) > 0
        np.testing.assert_array_equal(index[members], np.broadcast_to(hoods[b], (len(members), 3)))
    # Distinct rows end in distinct groups (no collision here): as many groups as rows.
    assert len(hoods) == len(np.unique(index, axis=0))
    # Groups in the order of their first row, members ascending; in place, the same groups.
    first_rows = [order[starts[b]] for b in range(len(hoods))]
    assert first_rows == sorted(first_rows)
    assert all(np.all(np.diff(order[starts[b] : starts[b + 1]]) > 0) for b in range(len(hoods)))
    again = _group_identical_rows(index.copy(), in_place=True)
    for expected, got in zip((hoods, order, starts), again):
        np.testing.assert_array_equal(got, expected)


def test_neighbors_below_the_minimum_degree_equals_scipy():
    rng = np.random.RandomState(3)
    X, y = rng.uniform(size=(400, 2)), rng.normal(size=400)
    Z = rng.uniform(size=(60, 2))
    with pytest.warns(UserWarning):
        expected = RBFInterpolator(X, y, kernel="thin_plate_spline", degree=0, neighbors=20)(Z)
    model = KernelInterpolator(kernel="thin_plate_spline", bandwidth=1.0, degree=0, neighbors=20)
    model.fit(X, y)
    np.testing.assert_allclose(model.predict(Z), expected, atol=1e-8 * np.abs(expected).max())


def test_neighbors_duplicate_training_points_in_a_neighbourhood_raise_or_merge():
    rng = np.random.RandomState(4)
    X = rng.uniform(size=(100, 2))
    y = rng.normal(size=100)
    X[1] = X[0]
    y[1] = y[0]
    model = KernelInterpolator(kernel="thin_plate_spline", neighbors=10).fit(X, y)
    np.testing.assert_allclose(model.predict(X[:5]), y[:5], atol=1e-8)


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_morton_order_is_a_permutation_that_keeps_quadrants_together(d):
    rng = np.random.RandomState(d)
    Z = rng.uniform(size=(1000, d))
    Z[:, 0] = np.where(Z[:, 0] < 0.5, Z[:, 0], 1.0)  # repeated values
    Z[10] = Z[11]
    order = _morton_order(Z)
    assert sorted(order.tolist()) == list(range(1000))
    # The first coordinate's top bit is the key's top bit when d == 1; in every dimension the
    # points of the lower half-box in all coordinates come before those of the upper one.
    middle = (Z.min(axis=0) + Z.max(axis=0)) / 2
    low = np.all(Z[order] < middle - 1e-3, axis=1)
    high = np.all(Z[order] > middle + 1e-3, axis=1)
    assert np.flatnonzero(low).max() < np.flatnonzero(high).min()
    # A constant column does not stop the ordering.
    np.testing.assert_array_equal(
        np.sort(_morton_order(np.column_stack([Z, np.ones(1000)]))), np.arange(1000)
    )


def test_large_neighbourhoods_go_to_lu_with_the_same_values():
    """Above LANES_MAX_NEIGHBORS the systems are solved by LU (the lanes' matrices would leave
    the caches): the same values as the LU reference."""
    rng = np.random.RandomState(5)
    k = LANES_MAX_NEIGHBORS + 7
    X = rng.uniform(size=(k + 100, 2))
    Y = np.sin(4 * X[:, :1])
    Z = rng.uniform(size=(3, 2))
    index = np.sort(cKDTree(X).query(Z, k)[1], axis=1)
    hoods, order, starts = _group_identical_rows(index)
    args = (X, Y, np.zeros(len(X)), hoods, Z, order, starts, kernel_code("thin_plate_spline"))
    powers = monomial_powers(2, 1)
    expected, out = np.empty((3, 1)), np.empty((3, 1))
    _solve_and_evaluate(*args, 1.0, powers, expected)
    _batched_solve_and_evaluate(*args, 1.0, powers, out)
    np.testing.assert_array_equal(out, expected)


def packed(matrices):
    """``lanes x k x k`` symmetric matrices packed by rows of their lower triangle:
    ``(k (k + 1) / 2) x lanes``."""
    k = matrices.shape[1]
    rows, cols = np.tril_indices(k)
    order = np.lexsort((cols, rows))  # row by row, then column
    return np.ascontiguousarray(matrices[:, rows[order], cols[order]].T)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), k=st.integers(1, 40), groups=st.integers(1, 3))
def test_packed_vector_kernels_equal_numpy(seed, k, groups):
    """The 8-wide packed kernels (Cholesky two rows at a time, its solves, the symmetric
    product) against numpy on random positive definite matrices, any k (odd and even, below
    and above the 4-column blocks), several lane groups."""
    lanes = 8 * groups
    rng = np.random.RandomState(seed)
    B = rng.standard_normal((lanes, k, k))
    M = B @ B.transpose(0, 2, 1) + k * np.eye(k)
    Mp = packed(M)
    A = rng.standard_normal((2, k, lanes))
    product = np.empty_like(A)
    _packed_product(Mp, A, product)
    np.testing.assert_allclose(product, np.einsum("uij,oju->oiu", M, A), rtol=1e-12, atol=1e-11)
    ok = np.ones(lanes, dtype=np.bool_)
    _packed_cholesky(Mp, np.zeros(lanes), ok, np.empty((k, lanes)))
    assert ok.all()
    np.testing.assert_allclose(Mp, packed(np.linalg.cholesky(M)), rtol=1e-12, atol=1e-12)
    solved = A.copy()
    _packed_cholesky_solve(Mp, solved)
    expected = np.linalg.solve(M, A.transpose(2, 1, 0)).transpose(2, 1, 0)
    np.testing.assert_allclose(solved, expected, rtol=1e-9, atol=1e-10)
    # A pivot at or below the floor (here: the matrix made singular in lane 3) flags its lane
    # only.
    M[3] = np.outer(M[3][0], M[3][0]) if k > 1 else 0.0
    ok = np.ones(lanes, dtype=np.bool_)
    Mp = packed(M)
    _packed_cholesky(Mp, np.full(lanes, 1e-8 * np.abs(M).max()), ok, np.empty((k, lanes)))
    assert ok.tolist() == [u != 3 for u in range(lanes)]


def test_lanes_solver_takes_well_posed_systems_itself():
    """Well-posed neighbourhoods are solved in the lanes (none sent to LU), to LU's values."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(3000, 2))
    Y = np.sin(4 * X[:, :1])
    Z = rng.uniform(size=(3 * LANES, 2))
    powers = monomial_powers(2, 1)
    hoods = np.sort(cKDTree(X).query(Z, 50)[1], axis=1)
    work = _lanes_workspace(50, 2, 1, powers.shape[0], LANES)
    for first in range(0, len(hoods), LANES):
        ok = np.empty(LANES, dtype=np.bool_)
        code = kernel_code("thin_plate_spline")
        _lanes_solve(X, Y, np.zeros(len(X)), hoods, first, code, 1.0, powers, work, ok)
        assert ok.all()
