"""Defaults, honesty at the threshold, scores, weights, partial_fit, progress, Ctrl-C, dtypes."""

import io
import os
import signal
import threading
import time
import warnings
from contextlib import redirect_stderr

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.linear_model import Ridge
from sklearn.model_selection import KFold, cross_val_score

from skinterp import (
    MinNormRFFClassifier,
    MinNormRFFRegressor,
    RandomFourierFeatures,
    RandomReLUFeatures,
)
from skinterp._base import relative_residual
from skinterp._parallel import interruptible
from skinterp.exceptions import InterpolationWarning
from skinterp.kernels._bandwidth import auto_bandwidth
from skinterp.random_features._min_norm import (
    DEFAULT_CUTOFF,
    InterpolationThresholdWarning,
    simplex_projection,
)


def features_of(model, X):
    pre_activation = np.asarray(X, dtype=np.float64) @ model.random_weights_ + model.random_offset_
    activation = np.cos if model.features == "fourier" else (lambda z: np.maximum(z, 0.0))
    return np.sqrt(2.0 / model.n_components) * activation(pre_activation)


def smooth_noisy_data(n_samples, seed=0, n_features=4):
    """Low-dimensional, smooth target plus noise: where the Gaussian interpolant overfits."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + 0.3 * rng.standard_normal(n_samples)
    return X, y


# ------------------------------------------------------------------------------------------
# 1. Data-aware defaults
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "estimator",
    [
        MinNormRFFRegressor(n_components=50, random_state=0),
        RandomFourierFeatures(random_state=0),
        RandomReLUFeatures(random_state=0),
    ],
    ids=["regressor", "fourier", "relu"],
)
def test_default_bandwidth_is_the_package_auto_rule(estimator):
    X, y = smooth_noisy_data(200)
    X = 7.0 * X
    assert estimator.get_params()["bandwidth"] == "auto"
    estimator.fit(X, y)
    assert estimator.bandwidth_ == pytest.approx(auto_bandwidth(X, rule="median"), rel=1e-12)
    scaled = type(estimator)(**estimator.get_params()).fit(10 * X, y)
    assert scaled.bandwidth_ == pytest.approx(10 * estimator.bandwidth_, rel=1e-9)
    # Repeated rows do not change the rule (it runs on the distinct rows).
    repeated = type(estimator)(**estimator.get_params()).fit(
        np.vstack([X, X[:50]]), np.r_[y, y[:50]]
    )
    assert repeated.bandwidth_ == estimator.bandwidth_
    # "scale" stays available.
    scale = type(estimator)(**{**estimator.get_params(), "bandwidth": "scale"}).fit(X, y)
    np.testing.assert_allclose(scale.bandwidth_, np.sqrt(X.shape[1] * X.var() / 2))


def test_defaults_do_not_overfit_noise_where_the_paper_pseudo_inverse_does():
    # The California failure in miniature: smooth noisy targets in low dimension. With the
    # paper's cut-off the minimum-norm solution spends huge coefficients on tiny singular
    # directions; the default cut-off drops them.
    X, y = smooth_noisy_data(500)
    cv = KFold(5, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterpolationThresholdWarning)
        default = cross_val_score(MinNormRFFRegressor(random_state=0), X, y, cv=cv)
        paper = cross_val_score(
            MinNormRFFRegressor(random_state=0, cutoff=DEFAULT_CUTOFF), X, y, cv=cv
        )
    assert default.min() > 0.5
    assert paper.mean() < default.mean() - 0.2
    model = MinNormRFFRegressor(random_state=0).fit(X, y)
    assert model.n_directions_cut_ > 0 and model.rank_ + model.n_directions_cut_ == 500


# ------------------------------------------------------------------------------------------
# 2. Honesty at the threshold
# ------------------------------------------------------------------------------------------
def test_cut_off_is_reported_and_warned_near_the_threshold():
    X, y = smooth_noisy_data(200)
    with pytest.warns(InterpolationThresholdWarning, match=r"n_samples=200.*dropped (\d+)"):
        near = MinNormRFFRegressor(n_components=220, random_state=0).fit(X, y)
    assert near.rank_ + near.n_directions_cut_ == 200
    # The cut-off acted (smooth features of 4-D data), so the fit does not interpolate.
    assert near.n_directions_cut_ > 0 and not near.interpolates_
    with pytest.warns(InterpolationThresholdWarning, match="dropped none"):
        MinNormRFFRegressor(n_components=200, bandwidth=0.3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InterpolationThresholdWarning)
        MinNormRFFRegressor(n_components=50, random_state=0).fit(X, y)  # N < n / 2
        far = MinNormRFFRegressor(n_components=1000, bandwidth=0.3, random_state=0).fit(X, y)
    assert far.n_directions_cut_ == 0 and far.rank_ == 200 and far.interpolates_


def test_a_cut_off_that_prevents_interpolation_above_the_threshold_is_warned():
    # Far above the threshold an interpolant exists; the default cut-off of smooth 4-D features
    # drops directions, and the fit says so (naming cutoff) and points at the caller's line.
    X, y = smooth_noisy_data(100)
    message = r"did not interpolate.*\(cutoff=0.001\) dropped [1-9]"
    with pytest.warns(InterpolationWarning, match=message) as caught:
        cut = MinNormRFFRegressor(n_components=1000, random_state=0).fit(X, y)
    assert not cut.interpolates_ and cut.n_directions_cut_ > 0
    assert not any(issubclass(w.category, InterpolationThresholdWarning) for w in caught)
    assert {w.filename for w in caught} == {__file__}
    with warnings.catch_warnings():
        warnings.simplefilter("error", InterpolationWarning)
        exact = MinNormRFFRegressor(n_components=1000, cutoff=1e-7, random_state=0).fit(X, y)
    assert exact.interpolates_ and exact.n_directions_cut_ == 0
    # At the smallest cut-off the advice is not to lower it but to look at the data.
    X2 = np.vstack([X, X[:5] + 1e-12])
    y2 = np.append(y, y[:5] + 1.0)
    with pytest.warns(InterpolationWarning, match="rank-deficient at this cut-off"):
        MinNormRFFRegressor(n_components=1000, cutoff=1e-7, random_state=0).fit(X2, y2)
    # partial_fit reports the same way, near the threshold and above it.
    with pytest.warns(InterpolationWarning, match="did not interpolate") as caught:
        MinNormRFFRegressor(n_components=1000, random_state=0).partial_fit(X, y)
    assert {w.filename for w in caught} == {__file__}
    with pytest.warns(InterpolationThresholdWarning, match="n_samples=100"):
        MinNormRFFRegressor(n_components=120, random_state=0).partial_fit(X, y)


@pytest.mark.parametrize("n_components, solver", [(40, "primal"), (800, "dual"), (800, "primal")])
def test_train_residual_is_the_package_relative_residual(n_components, solver):
    X, y = smooth_noisy_data(200)
    model = MinNormRFFRegressor(
        n_components=n_components, bandwidth=0.5, solver=solver, random_state=0
    ).fit(X, y)
    expected = relative_residual(model.predict(X), y)
    assert model.train_residual_ == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert model.interpolates_ == (model.train_residual_ <= 1e-6)
    # Below the threshold: least squares, not interpolation.
    assert model.interpolates_ == (n_components > 200)


# ------------------------------------------------------------------------------------------
# 3. Classifier scores
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_decision_function_and_predict_proba(n_classes):
    rng = np.random.default_rng(n_classes)
    X = rng.standard_normal((120, 3))
    y = np.array(list("abcde"))[
        np.digitize(X[:, 0] + 0.3 * X[:, 1], np.linspace(-1, 1, n_classes - 1))
    ]
    X_test = rng.standard_normal((80, 3)) * 3  # also far from the data
    model = MinNormRFFClassifier(n_components=60, random_state=0).fit(X, y)
    scores = model._predict_targets(X_test)
    decision = model.decision_function(X_test)
    proba = model.predict_proba(X_test)
    predicted = model.predict(X_test)
    assert proba.shape == (80, n_classes)
    assert np.all(proba >= 0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(model.classes_[np.argmax(proba, axis=1)], predicted)
    if n_classes == 2:
        assert decision.shape == (80,)
        np.testing.assert_allclose(decision, scores[:, 1] - scores[:, 0])
        np.testing.assert_array_equal(predicted, model.classes_[(decision > 0).astype(int)])
        np.testing.assert_allclose(proba[:, 1], np.clip((1 + decision) / 2, 0, 1), atol=1e-12)
    else:
        assert decision.shape == (80, n_classes)
        np.testing.assert_array_equal(decision, scores)
        np.testing.assert_array_equal(model.classes_[np.argmax(decision, axis=1)], predicted)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 6)),
        elements=st.floats(-5, 5, allow_subnormal=False),
    )
)
def test_simplex_projection_is_the_nearest_probability_vector(scores):
    p = simplex_projection(scores)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    # Order kept: the class of the largest score has the largest probability (ties only
    # where the scores differ by rounding).
    rows = np.arange(scores.shape[0])
    np.testing.assert_array_equal(p[rows, np.argmax(scores, axis=1)], p.max(axis=1))
    assert np.all(np.diff(p[rows[:, None], np.argsort(scores, axis=1)], axis=1) >= 0)
    # Optimality (KKT): p = max(s - tau, 0) with one tau per row.
    tau = np.array([np.mean((s - q)[q > 0]) for s, q in zip(scores, p)])
    np.testing.assert_allclose(p, np.maximum(scores - tau[:, None], 0), atol=1e-12)
    # Shift invariance, and probability vectors are kept.
    np.testing.assert_allclose(simplex_projection(scores + 3.0), p, atol=1e-12)
    np.testing.assert_allclose(simplex_projection(p), p, atol=1e-12)


# ------------------------------------------------------------------------------------------
# 4. sample_weight and partial_fit
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_components", [30, 400])
def test_integer_weights_equal_repeated_rows(n_components):
    X, y = smooth_noisy_data(60, seed=3)
    counts = np.random.default_rng(0).integers(0, 4, size=60)
    params = dict(n_components=n_components, random_state=0, cutoff=DEFAULT_CUTOFF)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterpolationThresholdWarning)
        weighted = MinNormRFFRegressor(**params).fit(X, y, sample_weight=counts)
        repeated = MinNormRFFRegressor(**params).fit(
            np.repeat(X, counts, axis=0), np.repeat(y, counts)
        )
    assert weighted.bandwidth_ == repeated.bandwidth_
    X_test, _ = smooth_noisy_data(50, seed=4)
    np.testing.assert_allclose(
        weighted.predict(X_test), repeated.predict(X_test), rtol=1e-6, atol=1e-6 * np.abs(y).max()
    )
    assert weighted.n_samples_fit_ == np.count_nonzero(counts)


@pytest.mark.parametrize("n_components", [25, 200])
def test_weighted_fit_is_the_minimum_norm_weighted_least_squares(n_components):
    X, y = smooth_noisy_data(80, seed=5)
    weights = np.random.default_rng(1).uniform(0.1, 3.0, size=80)
    model = MinNormRFFRegressor(
        n_components=n_components, bandwidth=1.0, random_state=0, cutoff=DEFAULT_CUTOFF
    ).fit(X, y, sample_weight=weights)
    Phi = features_of(model, X)
    root = np.sqrt(weights)
    reference = np.linalg.lstsq(Phi * root[:, None], y * root, rcond=DEFAULT_CUTOFF)[0]
    np.testing.assert_allclose(
        model.coef_[:, 0], reference, rtol=1e-6, atol=1e-6 * np.abs(reference).max()
    )
    if n_components < 80:  # below the threshold: scikit-learn's weighted ridge as alpha -> 0
        ridge = Ridge(alpha=1e-12, fit_intercept=False, solver="svd").fit(
            Phi, y, sample_weight=weights
        )
        np.testing.assert_allclose(model.predict(X), ridge.predict(Phi), rtol=1e-6, atol=1e-8)


def test_zero_weights_drop_rows_and_bad_weights_raise():
    X, y = smooth_noisy_data(60)
    weights = np.ones(60)
    weights[::3] = 0
    params = dict(n_components=300, random_state=0)
    dropped = MinNormRFFRegressor(**params).fit(X[weights > 0], y[weights > 0])
    weighted = MinNormRFFRegressor(**params).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(weighted.coef_, dropped.coef_, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="non-zero|positive"):
        MinNormRFFRegressor(**params).fit(X, y, sample_weight=np.zeros(60))
    with pytest.raises(ValueError, match="[Nn]egative"):
        MinNormRFFRegressor(**params).fit(X, y, sample_weight=-weights)


@pytest.mark.parametrize("n_components", [20, 150])
def test_partial_fit_over_batches_equals_fit_on_the_concatenation(n_components):
    X, y = smooth_noisy_data(100, seed=2)
    y2 = np.c_[y, np.cos(X[:, 2])]
    weights = np.random.default_rng(3).uniform(0.5, 2.0, size=100)
    params = dict(n_components=n_components, bandwidth=1.5, random_state=0)
    whole = MinNormRFFRegressor(solver="primal", **params).fit(X, y2, sample_weight=weights)
    batches = MinNormRFFRegressor(**params)
    for rows in np.array_split(np.arange(100), 5):
        batches.partial_fit(X[rows], y2[rows], sample_weight=weights[rows])
    X_test, _ = smooth_noisy_data(40, seed=9)
    np.testing.assert_allclose(
        batches.predict(X_test), whole.predict(X_test), rtol=1e-7, atol=1e-8
    )
    assert batches.rank_ == whole.rank_ and batches.n_samples_fit_ == 100
    assert batches.solver_ == "primal"
    if n_components > 100:  # above the threshold: the dual solver's minimum-norm solution too
        dual = MinNormRFFRegressor(solver="dual", **params).fit(X, y2, sample_weight=weights)
        assert dual.rank_ == batches.rank_
        np.testing.assert_allclose(
            batches.predict(X_test), dual.predict(X_test), rtol=1e-5, atol=1e-6
        )
    # Its training residual is the weighted RMS one from the normal equations.
    fitted = batches.predict(X)
    root = np.sqrt(weights)[:, None]
    expected = np.linalg.norm(root * (y2 - fitted)) / np.linalg.norm(root * y2)
    assert batches.train_residual_ == pytest.approx(expected, rel=1e-4, abs=1e-9)
    # fit discards the accumulation; a later partial_fit starts afresh.
    batches.fit(X[:50], y2[:50])
    batches.partial_fit(X[50:], y2[50:])
    assert batches.n_samples_fit_ == 50


def test_classifier_partial_fit_needs_classes_then_equals_fit():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 3))
    y = np.array(["x", "y", "z"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int)]
    params = dict(n_components=30, bandwidth=2.0, random_state=0)
    model = MinNormRFFClassifier(**params)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X[:30], y[:30])
    assert not hasattr(model, "coef_")
    for rows in np.array_split(np.arange(90), 3):
        model.partial_fit(X[rows], y[rows], classes=["x", "y", "z"])
    whole = MinNormRFFClassifier(solver="primal", **params).fit(X, y)
    np.testing.assert_allclose(
        model.decision_function(X), whole.decision_function(X), rtol=1e-7, atol=1e-9
    )
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X[:5], np.array(["w"] * 5))


def test_partial_fit_refuses_normal_equations_beyond_the_memory_budget():
    X, y = smooth_noisy_data(10)
    model = MinNormRFFRegressor(n_components=20_000, memory_limit=100, random_state=0)
    with pytest.raises(MemoryError, match="partial_fit.*n_components"):
        model.partial_fit(X, y)
    assert not hasattr(model, "coef_") and not hasattr(model, "n_features_in_")


def test_dask_ml_incremental_fits_the_regressor():
    wrappers = pytest.importorskip("dask_ml.wrappers")
    da = pytest.importorskip("dask.array")
    X, y = smooth_noisy_data(200)
    dX, dy = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    params = dict(n_components=30, bandwidth=1.5, random_state=0)
    incremental = wrappers.Incremental(MinNormRFFRegressor(**params)).fit(dX, dy)
    whole = MinNormRFFRegressor(solver="primal", **params).fit(X, y)
    np.testing.assert_allclose(incremental.estimator_.predict(X), whole.predict(X), rtol=1e-7)


# ------------------------------------------------------------------------------------------
# 5. Progress and Ctrl-C
# ------------------------------------------------------------------------------------------
def test_verbose_reports_the_blocks_and_the_solve():
    X, y = smooth_noisy_data(300)
    stream = io.StringIO()
    with redirect_stderr(stream):
        MinNormRFFRegressor(n_components=2000, random_state=0, verbose=1).fit(X, y)
    lines = stream.getvalue().splitlines()
    assert any(line.startswith("MinNormRFFRegressor: Gram matrix") for line in lines)
    assert any("solved the 300 x 300 system" in line for line in lines)
    quiet = io.StringIO()
    with redirect_stderr(quiet):
        MinNormRFFRegressor(n_components=2000, random_state=0).fit(X, y)
    assert quiet.getvalue() == ""


def test_transformer_verbose_reports_chunks_of_rows():
    X, _ = smooth_noisy_data(50)
    stream = io.StringIO()
    with redirect_stderr(stream):
        RandomFourierFeatures(n_components=30, random_state=0, verbose=1).fit(X).transform(X)
    assert stream.getvalue().startswith("RandomFourierFeatures.transform: rows [1/1]")


def _interrupt_after(seconds):
    timer = threading.Timer(seconds, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_sigint_stops_a_large_fit_within_a_second_and_leaves_the_estimator_as_it_was():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((2500, 40)), rng.standard_normal(2500)
    model = MinNormRFFRegressor(n_components=12_000, random_state=0)  # ~10 s or more
    timer = _interrupt_after(1.0)
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    elapsed = time.perf_counter() - start
    timer.cancel()
    assert elapsed < 2.5  # the signal at 1 s, seen within about a second
    assert not hasattr(model, "n_features_in_") and not hasattr(model, "coef_")
    # A fitted estimator keeps its previous fit.
    model.set_params(n_components=50).fit(X[:100, :3], y[:100])
    before = {name: value for name, value in vars(model).items()}
    model.set_params(n_components=12_000)
    timer = _interrupt_after(1.0)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    timer.cancel()
    assert model.n_features_in_ == 3 and model.coef_ is before["coef_"]
    assert set(vars(model)) == set(before)


def test_a_long_solve_is_interruptible():
    timer = _interrupt_after(0.3)
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        interruptible(time.sleep, 5.0)  # stands for one long LAPACK call
    timer.cancel()
    assert time.perf_counter() - start < 1.0
    assert interruptible(divmod, 7, 2) == (3, 1)
    with pytest.raises(ZeroDivisionError):
        interruptible(divmod, 1, 0)


def test_sigint_during_the_eigendecomposition_reaches_the_caller(monkeypatch):
    """A real SIGINT 0.3 s into the eigendecomposition of a 3,000-row Gram matrix (seconds of
    one LAPACK call, which releases the GIL) raises KeyboardInterrupt long before it returns."""
    from skinterp.random_features import _min_norm

    events = {}
    solve = _min_norm.min_norm_solve

    def solve_with_sigint(*args):
        events["start"] = time.perf_counter()
        events["timer"] = _interrupt_after(0.3)
        result = solve(*args)
        events["end"] = time.perf_counter()
        return result

    monkeypatch.setattr(_min_norm, "min_norm_solve", solve_with_sigint)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((3000, 5)), rng.standard_normal(3000)
    model = MinNormRFFRegressor(n_components=3000, cutoff=1e-7, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
    stopped = time.perf_counter()
    events["timer"].cancel()
    assert "end" not in events  # interrupted while LAPACK was still running
    assert stopped - events["start"] < 0.3 + 1.2
    assert not hasattr(model, "coef_")


# ------------------------------------------------------------------------------------------
# 6. float32 in, float32 out
# ------------------------------------------------------------------------------------------
def test_float32_inputs_give_float32_outputs():
    X, y = smooth_noisy_data(80)
    X32 = X.astype(np.float32)
    labels = (y > 0).astype(int) + (y > 1).astype(int)
    regressor = MinNormRFFRegressor(n_components=40, random_state=0).fit(X32, y)
    classifier = MinNormRFFClassifier(n_components=40, random_state=0).fit(X32, labels)
    assert regressor.predict(X32).dtype == np.float32
    assert regressor.predict(X).dtype == np.float64
    assert classifier.decision_function(X32).dtype == np.float32
    assert classifier.predict_proba(X32).dtype == np.float32
    assert classifier.predict_proba(X).dtype == np.float64
    for transformer in (RandomFourierFeatures(random_state=0), RandomReLUFeatures(random_state=0)):
        assert transformer.fit(X32).transform(X32).dtype == np.float32
        assert transformer.transform(X).dtype == np.float64
    np.testing.assert_allclose(
        regressor.predict(X32), regressor.predict(X32.astype(float)), rtol=1e-6, atol=1e-6
    )
