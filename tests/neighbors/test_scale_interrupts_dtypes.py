"""Affine invariance at extreme scales, Ctrl-C, float32 outputs and progress (issues 10, 14)."""

import os
import signal
import threading
import time

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from skinterp import SingularKernelNN, SingularKernelNNClassifier


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    offset=st.integers(-(10**12), 10**12),
    exponent=st.integers(-1000, 1000),
    n_features=st.integers(1, 12),
    weight=st.sampled_from(["power", "log"]),
    alpha=st.sampled_from([1.0, 3.0, "auto"]),
)
def test_predictions_unchanged_by_translation_and_scaling(
    seed, offset, exponent, n_features, weight, alpha
):
    """Inputs on a grid of 1/8, translated by an integer up to 1e12 and scaled by 2^k, |k| <=
    1000: every transformed input is exact, and so are the internal centring (a coordinate of
    the data) and scaling (a power of two). Predictions then agree to rtol 1e-12 (in fact
    bitwise); ``alpha="auto"`` (the intrinsic dimension) is invariant too."""
    assume(abs(offset) * 2.0**exponent < 1e300 and 2.0**exponent * 16 > 1e-300)
    rng = np.random.default_rng(seed)
    X = rng.integers(-40, 40, size=(60, n_features)) / 8.0
    y = rng.normal(size=60)
    queries = rng.integers(-48, 48, size=(25, n_features)) / 8.0 + 1 / 16
    queries = np.vstack([queries, X[:5]])
    scale = 2.0**exponent
    for algorithm in ["kd_tree", "brute"]:
        model = SingularKernelNN(5, alpha=alpha, weight=weight, algorithm=algorithm)
        base = model.fit(X, y).predict(queries)
        base_alpha = model.alpha_
        moved = model.fit((X + offset) * scale, y).predict((queries + offset) * scale)
        assert np.all(np.isfinite(moved))
        assert model.alpha_ == base_alpha
        np.testing.assert_allclose(moved, base, rtol=1e-12, atol=0)


def test_intrinsic_dimension_does_not_depend_on_scale_or_offset():
    from skinterp.neighbors import intrinsic_dimension

    rng = np.random.default_rng(4)
    plane = rng.uniform(size=(1500, 2)) @ rng.normal(size=(2, 12))
    expected = intrinsic_dimension(plane)
    assert 1.7 < expected < 2.3
    for exponent in [-1000, 1000]:
        assert intrinsic_dimension(plane * 2.0**exponent) == expected
    assert intrinsic_dimension(plane.tolist()) == expected


def test_exact_at_offset_1e6_in_20_dimensions_where_expanded_distances_fail():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 8, size=(200, 20)).astype(float)
    y = rng.randn(200)
    queries = X[:10] + 0.5
    base = SingularKernelNN(5, alpha=1.0, algorithm="brute").fit(X, y).predict(queries)
    for offset in [1e6, 1e12]:
        moved = SingularKernelNN(5, alpha=1.0, algorithm="brute").fit(X + offset, y)
        np.testing.assert_array_equal(moved.predict(queries + offset), base)


def test_tiny_and_subnormal_scales_interpolate():
    rng = np.random.default_rng(0)
    X, y = rng.uniform(size=(50, 3)), rng.normal(size=50)
    for scale in [1e-300, 1e-310, 1e300]:
        model = SingularKernelNN(5, alpha=1.0).fit(X * scale, y)
        np.testing.assert_allclose(model.predict(X * scale), y, rtol=1e-12)


def test_queries_beyond_the_float64_range_of_distances_raise():
    X = np.array([[0.0], [1e-300], [2e-300]])
    model = SingularKernelNN(2, alpha=1.0).fit(X, np.arange(3.0))
    with pytest.raises(ValueError, match="query rows .* overflow"):
        model.predict([[1.0]])
    # Data spanning the whole float64 range: the centring cannot overflow.
    wide = SingularKernelNN(1, alpha=1.0).fit(
        np.array([[-1.7e308], [1.7e308], [0.0]]), [0.0, 1.0, 2.0]
    )
    np.testing.assert_array_equal(wide.predict([[-1.7e308], [1.7e308], [1e307]]), [0.0, 1.0, 2.0])


def _interrupted(call, after=0.5):
    """Run ``call`` with a real SIGINT ``after`` seconds in; return the seconds until it stopped.

    Fails if ``call`` is not interrupted; the timer never outlives the call.
    """
    timer = threading.Timer(after, os.kill, args=(os.getpid(), signal.SIGINT))
    begin = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            call()
    finally:
        timer.cancel()
        timer.join()
    return time.perf_counter() - begin - after


@pytest.mark.parametrize("n_jobs", [None, 2])
@pytest.mark.parametrize("algorithm", ["kd_tree", "brute"])
def test_sigint_stops_a_long_predict_within_a_second(algorithm, n_jobs):
    rng = np.random.default_rng(0)
    n_features = 3 if algorithm == "kd_tree" else 50
    model = SingularKernelNN(10, alpha=1.0, algorithm=algorithm, n_jobs=n_jobs)
    model.fit(rng.uniform(size=(20000, n_features)), rng.normal(size=20000))
    # About 8 s (KD-tree) and 5-10 s (brute force) uninterrupted.
    queries = rng.uniform(size=(2_000_000 if algorithm == "kd_tree" else 100_000, n_features))
    model.predict(queries[:100])  # compiled
    # ~0.1 s chunks; the margin is for a loaded machine (uninterrupted: several seconds).
    assert _interrupted(lambda: model.predict(queries)) < 1.5


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_sigint_stops_a_long_brute_force_fit_and_leaves_the_estimator_as_it_was(n_jobs):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600_000, 50)).astype(np.float32)
    y = rng.normal(size=600_000)
    model = SingularKernelNN(10, algorithm="brute", n_jobs=n_jobs)  # alpha="auto": ~3 s fit
    model.fit(X[:100], y[:100])  # compiled; this fit must survive the interrupted one
    fitted = dict(vars(model))
    assert _interrupted(lambda: model.fit(X, y), after=0.3) < 1.5
    assert model.n_samples_fit_ == 100 and model.n_features_in_ == 50
    assert vars(model).keys() == fitted.keys()
    assert all(vars(model)[key] is fitted[key] for key in fitted)
    unfitted = SingularKernelNN(10, algorithm="brute")
    _interrupted(lambda: unfitted.fit(X, y), after=0.3)
    assert not hasattr(unfitted, "n_features_in_") and not hasattr(unfitted, "alpha_")


def test_float32_inputs_give_float32_outputs_computed_in_float64():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 5))
    y = rng.normal(size=300)
    labels = (X[:, 0] > 0).astype(int)
    queries = rng.normal(size=(40, 5))
    regressor = SingularKernelNN(5, alpha=2.0).fit(X.astype(np.float32), y)
    single = regressor.predict(queries.astype(np.float32))
    assert single.dtype == np.float32
    assert regressor.predict(queries).dtype == np.float64
    # float64 arithmetic inside: the float32 answer is the float64 one (on float32 inputs) cast.
    np.testing.assert_array_equal(
        single, regressor.predict(queries.astype(np.float32).astype(np.float64)).astype(np.float32)
    )
    classifier = SingularKernelNNClassifier(5, alpha=2.0).fit(X.astype(np.float32), labels)
    assert classifier.predict_proba(queries.astype(np.float32)).dtype == np.float32
    assert classifier.predict_proba(queries).dtype == np.float64


def test_verbose_reports_progress_with_time_left(capsys):
    rng = np.random.default_rng(3)
    model = SingularKernelNN(5, alpha=1.0, verbose=1).fit(
        rng.uniform(size=(500, 2)), rng.normal(size=500)
    )
    model.predict(rng.uniform(size=(40_000, 2)))
    err = capsys.readouterr().err
    assert "SingularKernelNN.fit [3/3]" in err
    assert "SingularKernelNN.predict [3/3]" in err and "left" in err
    SingularKernelNN(5, alpha=1.0).fit(np.eye(6), np.arange(6.0)).predict(np.eye(6))
    assert capsys.readouterr().err == ""
