"""sample_weight, read once by the mixins (skinterp._base.positive_weight_rows) for every
estimator: integer weights act as repeated rows, weight 0 as the row removed, and bad weights
are clear errors before any work."""

import numpy as np
import pytest
from sklearn.base import is_classifier

from skinterp import (
    KernelInterpolationClassifier,
    KernelInterpolator,
    MinNormRFFClassifier,
    MinNormRFFRegressor,
    SimplicialClassifier,
    SimplicialInterpolator,
    SingularKernelNN,
    SingularKernelNNClassifier,
)

REGRESSORS = [
    lambda: KernelInterpolator(bandwidth=1.0),
    lambda: KernelInterpolator(bandwidth=1.0, ridge=0.1),
    lambda: MinNormRFFRegressor(n_components=200, bandwidth=1.0, random_state=0),
    lambda: SingularKernelNN(n_neighbors=3, alpha=1.0),
    lambda: SimplicialInterpolator(),
]
CLASSIFIERS = [
    lambda: KernelInterpolationClassifier(bandwidth=1.0),
    lambda: MinNormRFFClassifier(n_components=200, bandwidth=1.0, random_state=0),
    lambda: SingularKernelNNClassifier(n_neighbors=3, alpha=1.0),
    lambda: SimplicialClassifier(),
]


def _data(seed=0, n=30):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, 2))
    return X, np.sin(3 * X[:, 0]) + X[:, 1], rng.uniform(0.1, 0.9, size=(10, 2))


@pytest.mark.parametrize("make", REGRESSORS)
def test_integer_weights_are_repeated_rows_and_zero_removes_the_row(make):
    X, y, Q = _data()
    weights = np.tile([0, 1, 2], 10)
    weighted = make().fit(X, y, sample_weight=weights).predict(Q)
    repeated = make().fit(np.repeat(X, weights, axis=0), np.repeat(y, weights)).predict(Q)
    np.testing.assert_allclose(weighted, repeated, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_classifier_classes_come_from_the_rows_of_positive_weight(make):
    X, _, Q = _data(1)
    y = np.where(X[:, 0] > 0.5, "b", "a")
    y[0] = "z"  # its only row has weight 0: not a class of the fit
    weights = np.ones(30)
    weights[0] = 0
    model = make().fit(X, y, sample_weight=weights)
    assert list(model.classes_) == ["a", "b"]
    reference = make().fit(X[1:], y[1:])
    np.testing.assert_array_equal(model.predict(Q), reference.predict(Q))


@pytest.mark.parametrize("make", REGRESSORS + CLASSIFIERS)
@pytest.mark.parametrize(
    "weights, message",
    [
        (-np.ones(30), "(?i)negative"),
        (np.zeros(30), "at least one (positive|non-zero)"),
        (np.ones(29), "shape|samples"),
        (np.full(30, np.nan), "NaN|finite|infinity"),
    ],
)
def test_bad_weights_are_clear_errors(make, weights, message):
    X, y, _ = _data()
    labels = (y > np.median(y)).astype(int)
    model = make()
    target = labels if is_classifier(model) else y
    with pytest.raises(ValueError, match=message):
        model.fit(X, target, sample_weight=weights)
    assert not hasattr(model, "n_features_in_")  # the failed fit left nothing behind
