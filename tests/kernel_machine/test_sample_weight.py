"""KernelInterpolator(Classifier).fit(..., sample_weight=w): weighted kernel ridge regression
(KernelRidge's weighted problem) with ridge > 0, weighted means of exact duplicates at ridge 0."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.kernel_ridge import KernelRidge

from skinterp import KernelInterpolationClassifier, KernelInterpolator
from skinterp.kernels import kernel_matrix


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(5, 40),
    seed=st.integers(0, 2**16),
    ridge=st.floats(1e-3, 10.0),
    zeros=st.booleans(),
)
def test_weighted_ridge_equals_kernel_ridge(n, seed, ridge, zeros):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, 3)), rng.normal(size=n)
    w = rng.uniform(0.1, 3.0, size=n)
    if zeros:
        w[: n // 3] = 0.0
    Q = rng.normal(size=(7, 3))
    ours = KernelInterpolator(bandwidth=1.5, ridge=ridge, solver="direct").fit(
        X, y, sample_weight=w
    )
    peer = KernelRidge(kernel="precomputed", alpha=ridge)
    peer.fit(kernel_matrix(X, bandwidth=1.5), y, sample_weight=w)
    expected = peer.predict(kernel_matrix(Q, X, bandwidth=1.5))
    np.testing.assert_allclose(ours.predict(Q), expected, rtol=1e-8, atol=1e-10)


def test_integer_weights_are_repeated_rows_for_the_ridge_fit():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    counts = rng.integers(1, 4, size=30)
    Q = rng.normal(size=(10, 2))
    weighted = KernelInterpolator(bandwidth=1.0, ridge=0.1).fit(X, y, sample_weight=counts)
    repeated = KernelInterpolator(bandwidth=1.0, ridge=0.1).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    np.testing.assert_allclose(weighted.predict(Q), repeated.predict(Q), rtol=1e-7, atol=1e-9)


def test_at_ridge_zero_weights_average_duplicates_and_leave_distinct_points_alone():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    Q = rng.normal(size=(5, 2))
    plain = KernelInterpolator(bandwidth=1.0).fit(X, y)
    weighted = KernelInterpolator(bandwidth=1.0).fit(X, y, sample_weight=rng.uniform(1, 2, 20))
    np.testing.assert_allclose(weighted.predict(Q), plain.predict(Q), rtol=1e-9, atol=1e-12)
    X2, y2 = np.vstack([X, X[:1]]), np.append(y, y[0] + 3.0)  # a duplicate, another target
    w2 = np.append(np.ones(20), 2.0)
    with pytest.warns(UserWarning, match="duplicates"):
        model = KernelInterpolator(bandwidth=1.0).fit(X2, y2, sample_weight=w2)
    np.testing.assert_allclose(model.predict(X[:1]), [y[0] + 2.0], rtol=1e-9)  # (1 y + 2 y') / 3


def test_bad_weights_and_the_classifier():
    X = np.random.default_rng(2).normal(size=(12, 2))
    labels = np.arange(12) % 3
    with pytest.raises(ValueError, match="non-zero|positive"):
        KernelInterpolator().fit(X, labels, sample_weight=np.zeros(12))
    with pytest.raises(ValueError, match="(?i)negative"):
        KernelInterpolator().fit(X, labels, sample_weight=-np.ones(12))
    model = KernelInterpolationClassifier(ridge=0.5).fit(X, labels, sample_weight=np.ones(12))
    reference = KernelInterpolationClassifier(ridge=0.5).fit(X, labels)
    np.testing.assert_allclose(model.decision_function(X), reference.decision_function(X))
    assert not hasattr(model, "_sample_weight")
