"""Issues 10 and 14 for the simplicial estimators: co-spherical ties, near-duplicates,
interrupts, and what the estimators report (train_residual_, verbose, float32)."""

import os
import signal
import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp import SimplicialClassifier, SimplicialInterpolator
from skinterp._base import InterpolationWarning
from skinterp.simplicial import _core, _lifted

METHODS = ["triangulation", "lifted"]


def _grid(sizes, spacings=None):
    axes = [
        np.arange(k) * (1.0 if spacings is None else s)
        for k, s in zip(sizes, spacings or [1.0] * len(sizes))
    ]
    return np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(sizes), -1).T


# --- co-spherical points: one tie-break for both methods ------------------------------------
def test_unit_square_of_the_issue():
    """Issue 10: lifted answered -1 at (0.5, 0.5) and 2.25 at (0.75, 0.5) (two diagonals)."""
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, 2.0, -3.0, 5.0])
    Q = np.array([[0.5, 0.5], [0.75, 0.5], [0.5, 0.75], [0.25, 0.5]])
    answers = [SimplicialInterpolator(method=m).fit(X, y).predict(Q) for m in METHODS]
    np.testing.assert_allclose(answers[1], answers[0], atol=1e-14)
    # one diagonal for all queries: (0,0)-(1,1) gives 3 at the centre, (1,0)-(0,1) gives -0.5
    diagonal_a = np.array([3.0, 3.25, 2.0, 1.0])
    diagonal_b = np.array([-0.5, 1.5, 0.25, -0.75])
    assert np.allclose(answers[0], diagonal_a, atol=1e-12) or np.allclose(
        answers[0], diagonal_b, atol=1e-12
    )


def _gradients(model):
    """Largest gradient norm over the simplices of a fitted triangulation (original units)."""
    T = model.transform_[:, :-1]  # barycentric: lambda[:r] = T (z - o)
    values = model.targets_[model.simplices_, 0]  # (n_s, r + 1)
    grad_z = np.einsum("sk,skt->st", values[:, :-1] - values[:, -1:], T)
    # z = ((x - offset) / extent) @ basis.T
    grad_x = grad_z @ model.affine_basis_ / model.affine_extent_
    return float(np.max(np.linalg.norm(grad_x, axis=1)))


@settings(max_examples=12, deadline=None)
@given(
    d=st.integers(2, 5),
    data=st.data(),
    seed=st.integers(0, 2**31),
)
def test_grids_methods_agree_are_continuous_and_order_free(d, data, seed):
    rng = np.random.default_rng(seed)
    max_size = {2: 6, 3: 4, 4: 3, 5: 3}[d]
    sizes = data.draw(st.lists(st.integers(2, max_size), min_size=d, max_size=d))
    spacings = data.draw(st.sampled_from([None, list(rng.choice([0.5, 1.0, 2.0], size=d))]))
    X = _grid(sizes, spacings) + data.draw(st.sampled_from([0.0, 1e3]))
    y = rng.standard_normal(X.shape[0])
    low, high = X.min(axis=0), X.max(axis=0)
    Q = low + (high - low) * (rng.random((150, d)) * 1.2 - 0.1)  # some outside: projected
    tri = SimplicialInterpolator(method="triangulation").fit(X, y)
    assert tri.method_ == "triangulation"
    expected = tri.predict(Q)
    lifted = SimplicialInterpolator(method="lifted").fit(X, y)
    np.testing.assert_allclose(lifted.predict(Q), expected, atol=1e-9)
    # row order: the same simplex and the same answers, to rounding. (Bit-equality failed in 3
    # of ~10 full runs by 1-2 ulps, e.g. 6.7e-16 at 1.49, "on the first call only": the
    # permuted fit computes the same barycentric weights in another order.)
    perm = rng.permutation(X.shape[0])
    np.testing.assert_allclose(
        SimplicialInterpolator(method="triangulation").fit(X[perm], y[perm]).predict(Q),
        expected,
        rtol=1e-13,
        atol=1e-13,
    )
    np.testing.assert_allclose(
        SimplicialInterpolator(method="lifted").fit(X[perm], y[perm]).predict(Q),
        expected,
        atol=1e-9,
    )
    # continuity: along a segment through the hull, no jump beyond the Lipschitz bound
    lipschitz = _gradients(tri)
    a, b = low + (high - low) * rng.random(d), low + (high - low) * rng.random(d)
    t = np.linspace(0.0, 1.0, 2001)[:, None]
    path = a + t * (b - a)
    step = np.linalg.norm(b - a) / 2000
    for model in (tri, lifted):
        jumps = np.abs(np.diff(model.predict(path)))
        assert jumps.max() <= lipschitz * step * (1 + 1e-6) + 1e-9


def test_lifted_reference_breaks_ties_as_the_numba_solver():
    X = _grid([4, 4, 3])
    y = np.random.default_rng(0).standard_normal(X.shape[0])
    model = SimplicialInterpolator(method="lifted").fit(X, y)
    Q = np.random.default_rng(1).random((40, 3)) * [3, 3, 2]
    Z, _ = _core.reduce_queries(model._model(), Q)
    ours = model.predict(Q)
    for i in range(Q.shape[0]):
        keep, lam = _lifted.delaunay_lp_reference(model.points_, Z[i], model.tie_heights_)
        assert abs(lam @ model.targets_[keep, 0] - ours[i]) < 1e-9


def test_ties_do_not_depend_on_translation_and_scale_of_a_grid():
    X = _grid([5, 4])
    y = np.random.default_rng(0).standard_normal(X.shape[0])
    Q = np.random.default_rng(1).random((200, 2)) * [4, 3]
    base = SimplicialInterpolator().fit(X, y).predict(Q)
    moved = SimplicialInterpolator().fit(X * 8.0 + 1e6, y).predict(Q * 8.0 + 1e6)
    np.testing.assert_allclose(moved, base, atol=1e-9)


# --- near-duplicates --------------------------------------------------------------------------
@settings(max_examples=20, deadline=None)
@given(
    log_factor=st.floats(-1.5, 1.5).filter(lambda v: abs(v) > 0.05),
    d=st.integers(2, 4),
    method=st.sampled_from(METHODS),
    seed=st.integers(0, 2**31),
)
def test_near_duplicates_are_merged_below_the_tolerance(log_factor, d, method, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((30, d)) * 100.0 - 50.0
    y = rng.standard_normal(30)
    radius = np.max(np.linalg.norm(X[1:] - X[1:].mean(axis=0), axis=1))
    direction = rng.standard_normal(d)
    X[0] = X[1] + direction / np.linalg.norm(direction) * (
        10.0**log_factor * _core.NEAR_DUPLICATE_RTOL * radius
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SimplicialInterpolator(method=method).fit(X, y)
    merged = [w for w in caught if issubclass(w.category, InterpolationWarning)]
    predicted = model.predict(X)
    if log_factor < 0:  # closer than the tolerance: merged, the mean target, reported
        assert len(merged) == 1 and "1 training points" in str(merged[0].message)
        assert model.n_near_duplicates_ == 1 and model.n_points_fit_ == 29
        mean = 0.5 * (y[0] + y[1])
        # the kept point gives the mean exactly; the merged row, within 1e-8 radii of it,
        # the interpolant there (the mean up to the gradient times that distance)
        assert np.min(np.abs(predicted[:2] - mean)) <= 1e-9
        np.testing.assert_allclose(predicted[:2], [mean, mean], atol=1e-4)
        np.testing.assert_allclose(predicted[2:], y[2:], atol=1e-9)
        expected = abs(y[0] - y[1]) / 2 / np.max(np.abs(y))
        assert model.train_residual_ == pytest.approx(expected, rel=1e-9)
        assert model.interpolates_ == (expected <= 1e-6)
    else:  # farther: interpolated exactly
        assert not merged and model.n_near_duplicates_ == 0
        np.testing.assert_allclose(predicted, y, atol=1e-6 * np.max(np.abs(y)))
        assert model.train_residual_ == 0.0 and model.interpolates_


def test_exact_duplicates_report_their_residual():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    y = np.array([1.0, 2.0, 3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exact duplicates merge silently (documented)
        model = SimplicialInterpolator().fit(X, y)
    assert model.train_residual_ == pytest.approx(0.5 / 4.0)
    assert not model.interpolates_
    clf = SimplicialClassifier().fit(X, [0, 1, 1, 1])
    assert clf.train_residual_ == 0.0 and clf.interpolates_


# --- float32, verbose, predict_proba ----------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_float32_in_float32_out(method):
    rng = np.random.default_rng(0)
    X = rng.random((50, 3))
    y = rng.standard_normal(50)
    model64 = SimplicialInterpolator(method=method).fit(X, y)
    model32 = SimplicialInterpolator(method=method).fit(X.astype(np.float32), y)
    Q = rng.random((20, 3))
    out = model32.predict(Q.astype(np.float32))
    assert out.dtype == np.float32
    assert model64.predict(Q).dtype == np.float64
    np.testing.assert_allclose(
        out, model32.predict(Q.astype(np.float32).astype(np.float64)), rtol=1e-6, atol=1e-6
    )
    clf = SimplicialClassifier(method=method).fit(X.astype(np.float32), y > 0)
    proba = clf.predict_proba(Q.astype(np.float32))
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert clf.predict_proba(Q).dtype == np.float64


def test_verbose_reports_progress_with_time_left(capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 12))
    model = SimplicialInterpolator(method="lifted", verbose=1).fit(X, X[:, 0])
    model.predict(rng.standard_normal((50, 12)) * 0.3)
    err = capsys.readouterr().err
    assert "simplicial: lifted programs [" in err and "spent" in err
    SimplicialInterpolator(method="lifted").fit(X, X[:, 0]).predict(X[:5])
    assert capsys.readouterr().err == ""


# --- interrupts -------------------------------------------------------------------------------
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_sigint_stops_a_long_lifted_predict_and_keeps_the_model(n_jobs):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 30))
    model = SimplicialInterpolator(method="lifted", n_jobs=n_jobs).fit(X, X[:, 0])
    probe = rng.standard_normal((100, 30)) * 0.3
    begin = time.perf_counter()
    before = model.predict(probe)
    per_query = (time.perf_counter() - begin) / 100
    n_queries = int(8.0 / per_query) + 100  # about 8 s when not interrupted
    Q = rng.standard_normal((n_queries, 30)) * 0.3
    timer = threading.Timer(0.5, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    begin = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        model.predict(Q)
    elapsed = time.perf_counter() - begin
    timer.cancel()
    assert elapsed < 1.5
    np.testing.assert_array_equal(model.predict(probe), before)


def test_sigint_during_a_fit_leaves_the_previous_fit(monkeypatch):
    """A refit interrupted while re-triangulating a 3-D grid's cubes (about 0.1 ms each).

    The signal is sent 0.3 s after Qhull returns (the interrupt during Qhull is tested below)."""
    from skinterp.simplicial import _triangulation

    qhull_done = []
    timers = []
    delaunay_arrays = _triangulation.delaunay_arrays

    def delaunay_arrays_then_sigint(points):
        result = delaunay_arrays(points)
        qhull_done.append(time.perf_counter())
        timers.append(threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT)))
        timers[-1].start()
        return result

    rng = np.random.default_rng(0)
    X_small = rng.random((40, 3))
    model = SimplicialInterpolator(method="triangulation").fit(X_small, X_small[:, 0])
    Q = rng.random((20, 3))
    before = model.predict(Q)
    monkeypatch.setattr(_triangulation, "delaunay_arrays", delaunay_arrays_then_sigint)
    X = _grid([40, 40, 25])  # about 37,000 cubes to re-triangulate: several seconds
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, X[:, 0])
    stopped = time.perf_counter()
    timers[0].cancel()
    # About a second on a quiet machine; the margin is for the shared 2-core CI machine.
    assert stopped - qhull_done[0] < 0.3 + 2.0
    assert model.n_points_fit_ == 40
    np.testing.assert_array_equal(model.predict(Q), before)


def test_sigint_during_qhull_reaches_the_caller_promptly(monkeypatch):
    """Qhull runs in a worker thread (scipy releases the GIL there): a real SIGINT 0.3 s into
    a triangulation of several seconds raises KeyboardInterrupt long before Qhull returns, the
    previous fit stays, and the abandoned Qhull call finishes in the background."""
    from skinterp.simplicial import _triangulation

    events = {}
    timers = []
    qhull = _triangulation._qhull_delaunay

    def qhull_with_sigint(points):
        events["qhull_start"] = time.perf_counter()
        timers.append(threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT)))
        timers[-1].start()
        result = qhull(points)
        events["qhull_end"] = time.perf_counter()
        return result

    rng = np.random.default_rng(0)
    X_small = rng.random((40, 3))
    model = SimplicialInterpolator(method="triangulation").fit(X_small, X_small[:, 0])
    Q = rng.random((20, 3))
    before = model.predict(Q)
    monkeypatch.setattr(_triangulation, "_qhull_delaunay", qhull_with_sigint)
    X = rng.random((60_000, 3))  # Qhull alone: about 5 s
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, X[:, 0])
    stopped = time.perf_counter()
    timers[0].cancel()
    assert "qhull_end" not in events  # interrupted while Qhull was still running
    # About 0.3-0.4 s on a quiet machine; the margin is for a loaded 2-core machine (the
    # abandoned Qhull thread holds the GIL for a few short moments).
    assert stopped - events["qhull_start"] < 0.3 + 1.2
    assert model.n_points_fit_ == 40
    np.testing.assert_array_equal(model.predict(Q), before)
    # The abandoned call finishes in the background (waited for here, not to slow later tests).
    for worker in threading.enumerate():
        if worker.name == "skinterp-interruptible":
            worker.join(120)
    assert "qhull_end" in events


@settings(max_examples=20, deadline=None)
@given(
    offset=st.floats(-1e8, 1e8),
    exponent=st.integers(-300, 300),
    method=st.sampled_from(["triangulation", "lifted"]),
    seed=st.integers(0, 1000),
)
def test_training_points_return_their_targets_exactly(offset, exponent, method, seed):
    """Full-rank data anywhere: the training rows are reduced by the same operations as queries
    and land on their vertex bit for bit, so predict(X_train) == y exactly (an offset of 2**19
    used to leave 4e-8 of the targets' range)."""
    rng = np.random.RandomState(seed)
    X = (rng.rand(30, 2) + offset) * 2.0**exponent
    y = rng.randn(30)
    if np.unique(X, axis=0).shape[0] < 30:  # rounding merged rows: not this test's subject
        return
    model = SimplicialInterpolator(method=method).fit(X, y)
    if model.n_near_duplicates_:
        return
    np.testing.assert_array_equal(model.predict(X), y)
