"""neighbors=k: the grid search of the neighbourhoods finds exactly cKDTree's sets (ties on
the boundary and queries far from the data included), and the predictions do not depend on
which search found them."""

import os
import pickle
import signal
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import RBFInterpolator
from scipy.spatial import KDTree

from skinterp import KernelInterpolator
from skinterp.kernel_machine._grid_search import (
    BITMAP_WORDS,
    CellGrid,
    _sorted_positions,
    grid_search,
)
from skinterp.kernel_machine._local import LocalInterpolant
from skinterp.kernel_machine._polynomial_tail import monomial_powers
from skinterp.kernels import kernel_code


def local(X, k, search, degree=1):
    Y = np.sin(3 * X[:, :1]) + X.sum(axis=1, keepdims=True)
    powers = monomial_powers(X.shape[1], degree)
    code = kernel_code("thin_plate_spline")
    return LocalInterpolant(X, Y, code, 1.0, np.zeros(len(X)), powers, k, search=search)


def training_indices(model, Z):
    """The neighbourhoods of Z as sorted training indices (the model's rows hold positions in
    its solve order)."""
    positions = model.neighbourhoods(Z, np.arange(len(Z)))
    order = model.grid.order if model.grid is not None else np.arange(len(model.X))
    return np.sort(order[positions], axis=1)


def tree_indices(X, Z, k):
    """scipy's sets: RBFInterpolator's tree is KDTree(X) (leaf size 10)."""
    return np.sort(KDTree(X).query(Z, k)[1].reshape(len(Z), k), axis=1)


def point_sets(kind, n, d, rng):
    if kind == "uniform":
        return rng.uniform(size=(n, d))
    if kind == "lattice":  # ties everywhere: integer points, some repeated
        side = max(2, int(round(n ** (1 / d))))
        return rng.randint(0, side, size=(n, d)).astype(float)
    if kind == "clustered":
        centers = rng.uniform(size=(3, d))
        return centers[rng.randint(3, size=n)] + 1e-3 * rng.standard_normal((n, d))
    if kind == "flat":  # one coordinate constant: a degenerate axis of the grid
        X = rng.uniform(size=(n, d))
        X[:, 0] = 0.5
        return X
    raise ValueError(kind)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    d=st.integers(1, 3),
    n=st.integers(2, 400),
    k_fraction=st.floats(0.0, 1.0),
    kind=st.sampled_from(["uniform", "lattice", "clustered", "flat"]),
    query_kind=st.sampled_from(["inside", "training", "lattice", "far"]),
)
def test_grid_search_finds_exactly_the_tree_sets(seed, d, n, k_fraction, kind, query_kind):
    """Whatever the data (ties on a lattice, duplicates, clusters, a constant coordinate) and
    wherever the queries (training points, lattice points, far outside): cKDTree's sets."""
    rng = np.random.RandomState(seed)
    X = point_sets(kind, n, d, rng)
    k = 1 + int(k_fraction * (n - 2))  # 1 <= k < n: the grid applies
    if query_kind == "inside":
        Z = rng.uniform(X.min(axis=0), X.max(axis=0) + 1e-9, size=(30, d))
    elif query_kind == "training":
        Z = X[rng.randint(n, size=30)]
    elif query_kind == "lattice":
        Z = np.round(rng.uniform(X.min(axis=0), X.max(axis=0) + 1e-9, size=(30, d)) * 2) / 2
    else:
        Z = X[rng.randint(n, size=30)] + rng.choice([-1e3, 1e3], size=(30, d))
    model = local(X, k, "grid")
    assert model.grid is not None
    np.testing.assert_array_equal(training_indices(model, Z), tree_indices(X, Z, k))


def test_grid_search_sends_boundary_ties_to_the_tree():
    """A query on a lattice point, k = 3: itself, then four points at distance 1 for two
    places; the grid cannot know which two the tree takes and must not answer."""
    X = np.array([[i, j] for i in range(10) for j in range(10)], dtype=float)
    grid = CellGrid(X)
    Z = np.array([[4.0, 4.0], [4.2, 4.1]])
    out = np.empty((2, 3), dtype=np.int64)
    fallback = np.empty(2, dtype=np.bool_)
    examined = np.empty(2, dtype=np.int64)
    args = (grid.low, grid.inverse_width, grid.shape, grid.starts, grid.points, 3, 10**6)
    grid_search(Z, *args, out, fallback, examined)
    assert fallback.tolist() == [True, False]
    assert sorted(grid.order[out[1]]) == sorted(tree_indices(X, Z[1:], 3)[0])
    assert 3 < examined[1] < len(X)


def test_grid_search_gives_up_on_queries_far_from_the_data():
    X = np.random.RandomState(0).uniform(size=(2000, 2))
    grid = CellGrid(X)
    Z = np.array([[50.0, 0.5], [0.5, 0.5]])
    out = np.empty((2, 20), dtype=np.int64)
    fallback = np.empty(2, dtype=np.bool_)
    examined = np.empty(2, dtype=np.int64)
    args = (grid.low, grid.inverse_width, grid.shape, grid.starts, grid.points, 20, 30 * 21)
    grid_search(Z, *args, out, fallback, examined)
    assert fallback.tolist() == [True, False]
    assert examined[0] <= 30 * 21 + 100  # stopped after the ring that passed the limit


def test_the_grid_is_chosen_where_it_pays():
    rng = np.random.RandomState(0)
    assert local(rng.uniform(size=(5000, 2)), 50, "auto").grid is not None
    assert local(rng.uniform(size=(5000, 3)), 50, "auto").grid is not None
    assert local(rng.uniform(size=(5000, 4)), 50, "auto").grid is None  # d > 3
    assert local(rng.uniform(size=(60, 2)), 60, "auto").grid is None  # k = n
    # A few tight clusters in a wide box: the cells there hold thousands of points.
    centers = rng.uniform(size=(4, 2))
    X = centers[rng.randint(4, size=5000)] + 1e-4 * rng.standard_normal((5000, 2))
    X[:10] = rng.uniform(size=(10, 2))
    assert local(X, 50, "auto").grid is None


@pytest.mark.parametrize("d", [1, 2, 3])
def test_predictions_do_not_depend_on_the_search(d):
    rng = np.random.RandomState(d)
    X = rng.uniform(size=(3000, d))
    # Queries inside, on training points and just outside the box (far extrapolation would
    # amplify the rounding of the two summation orders beyond any tolerance).
    outside = X.max(axis=0) + 0.01 * np.arange(1, 6)[:, None]
    Z = np.vstack([rng.uniform(size=(500, d)), X[:20], outside])
    grid, tree = local(X, 30, "grid"), local(X, 30, "tree")
    expected = tree.predict(Z, n_jobs=1)
    np.testing.assert_allclose(
        grid.predict(Z, n_jobs=1), expected, atol=1e-10 * np.abs(expected).max(), rtol=0
    )
    # The same bits whatever the threads.
    np.testing.assert_array_equal(grid.predict(Z, n_jobs=1), grid.predict(Z, n_jobs=2))


def test_neighbors_on_a_lattice_with_ties_equals_scipy():
    """Gridded data, queries on the lattice and half-way: ties on the neighbourhood boundary
    everywhere; the same sets as scipy's tree, so the same values (cKDTree's default leaf
    size, 16 where KDTree's is 10, took other tied points at 4 of these queries)."""
    side = np.arange(25, dtype=float) / 24
    X = np.array([[a, b] for a in side for b in side])
    y = np.sin(4 * X[:, 0]) * np.cos(3 * X[:, 1])
    rng = np.random.RandomState(3)
    Z = np.vstack([X[rng.randint(len(X), size=100)], (np.arange(50)[:, None] + 0.5) / 48 * [1, 1]])
    expected = RBFInterpolator(X, y, kernel="thin_plate_spline", neighbors=12)(Z)
    model = KernelInterpolator(kernel="thin_plate_spline", bandwidth=1.0, neighbors=12)
    model.fit(X, y)
    assert model.local_interpolant_.grid is not None
    np.testing.assert_allclose(model.predict(Z), expected, atol=1e-8 * np.abs(expected).max())


@settings(max_examples=50, deadline=None)
@given(
    positions=st.lists(st.integers(0, 2**40), min_size=1, max_size=80, unique=True),
    near=st.booleans(),
)
def test_sorted_positions_sorts_through_the_bitmap_or_by_insertion(positions, near):
    """Positions close together (the bitmap) or far apart (insertion sort): ascending, and the
    bitmap left clean for the next query."""
    values = np.array(positions, dtype=np.int64)
    if near:
        values = values % (64 * BITMAP_WORDS) + 12345
        values = np.unique(values)
    np.random.RandomState(0).shuffle(values)
    out = np.empty_like(values)
    bitmap = np.zeros(BITMAP_WORDS, dtype=np.uint64)
    _sorted_positions(values, out, bitmap)
    np.testing.assert_array_equal(out, np.sort(values))
    assert not bitmap.any()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_sigint_during_a_local_prediction_stops_between_chunks(n_jobs):
    """A real SIGINT during the grid searches and local solves of 300,000 queries (several
    seconds): KeyboardInterrupt within about a second."""
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(20_000, 2))
    model = local(X, 50, "auto")
    assert model.grid is not None
    Z = rng.uniform(size=(300_000, 2))  # about 3 s of work on one thread
    model.predict(Z[:100], n_jobs=1)  # compiled / loaded outside the timing
    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    begin = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        model.predict(Z, n_jobs=n_jobs)
    elapsed = time.perf_counter() - begin
    timer.cancel()
    assert elapsed < 1.5


def test_the_tree_is_built_only_when_a_query_needs_it_and_pickles():
    rng = np.random.RandomState(0)
    X = rng.uniform(size=(5000, 2))
    Z = rng.uniform(size=(300, 2))
    model = local(X, 20, "auto")
    assert model.grid is not None
    values = model.predict(Z, n_jobs=2)
    assert model._tree is None  # scattered data, queries inside: the grid alone
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(Z, n_jobs=2), values)
    far = np.array([[40.0, 0.5], [0.5, -30.0]])  # far from the data: the tree's
    np.testing.assert_array_equal(training_indices(restored, far), tree_indices(X, far, 20))
    assert restored._tree is not None
