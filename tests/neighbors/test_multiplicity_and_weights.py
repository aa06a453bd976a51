"""Duplicates count as the rows they stand for, sample weights as repetitions (issues 10, 14)."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

from skinterp import SingularKernelNN, SingularKernelNNClassifier


def rows_with_duplicates(seed, n_points, n_rows, n_features):
    """``n_rows`` rows drawn with replacement from ``n_points`` random points (many duplicates),
    with one random target per row; distinct points are continuous, so no distance ties."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n_points, n_features))
    which = rng.integers(0, n_points, size=n_rows)
    return points[which], rng.normal(size=n_rows), rng.normal(size=(20, n_features)), rng, which


def split_boundary(X, queries, k):
    """Whether the k-th row of each query falls inside a group of duplicates (scikit-learn then
    takes some of the group's rows, this package the group's mean target for the rows needed)."""
    distances = np.linalg.norm(queries[:, None, :] - X[None, :, :], axis=2)
    split = []
    for row in distances:
        ordered = np.sort(row)
        split.append(ordered[k - 1] == ordered[k] if k < len(ordered) else False)
    return np.array(split)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_points=st.integers(2, 12),
    n_rows=st.integers(4, 40),
    n_features=st.integers(1, 4),
    data=st.data(),
)
def test_alpha_one_equals_scikit_learn_with_many_duplicates(
    seed, n_points, n_rows, n_features, data
):
    X, y, queries, _, _ = rows_with_duplicates(seed, n_points, n_rows, n_features)
    k = data.draw(st.integers(1, n_rows))
    theirs = KNeighborsRegressor(n_neighbors=k, weights="distance").fit(X, y).predict(queries)
    for algorithm in ["kd_tree", "brute"]:
        ours = SingularKernelNN(k, alpha=1.0, algorithm=algorithm).fit(X, y).predict(queries)
        # Where the k rows end inside a group of duplicates, scikit-learn's choice of rows is
        # arbitrary: compare the rest exactly.
        whole = ~split_boundary(X, queries, k)
        np.testing.assert_allclose(ours[whole], theirs[whole], rtol=1e-10, atol=1e-12)
        # With one target per point, the choice does not matter: every query agrees.
        y_point = np.sin(3 * X).sum(axis=1)
        theirs_point = KNeighborsRegressor(n_neighbors=k, weights="distance").fit(X, y_point)
        ours_point = SingularKernelNN(k, alpha=1.0, algorithm=algorithm).fit(X, y_point)
        np.testing.assert_allclose(
            ours_point.predict(queries), theirs_point.predict(queries), rtol=1e-10, atol=1e-12
        )


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_points=st.integers(2, 10), data=st.data())
def test_classifier_alpha_one_equals_scikit_learn_with_duplicates(seed, n_points, data):
    X, _, queries, rng, which = rows_with_duplicates(seed, n_points, 30, 3)
    y = np.array(["a", "b", "c"])[rng.integers(0, 3, size=n_points)][which]  # one per point
    k = data.draw(st.integers(1, 30))
    ours = SingularKernelNNClassifier(k, alpha=1.0).fit(X, y)
    theirs = KNeighborsClassifier(n_neighbors=k, weights="distance").fit(X, y)
    np.testing.assert_allclose(
        ours.predict_proba(queries), theirs.predict_proba(queries), rtol=1e-10, atol=1e-12
    )


def reference_mass_rule(X, y, sample_weight, queries, k, alpha, weight):
    """The documented rule in numpy: merge rows, then take points in distance order until their
    masses cover k rows (the last one partly), each weighing used mass times phi."""
    points, inverse = np.unique(X, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    masses = np.bincount(inverse, weights=sample_weight)
    targets = np.bincount(inverse, weights=sample_weight * y) / masses
    predictions = []
    for query in queries:
        distances = np.linalg.norm(points - query, axis=1)
        order = np.argsort(distances, kind="stable")
        cumulative = np.cumsum(masses[order])
        n_used = int(np.searchsorted(cumulative, k - 1e-9)) + 1
        used = masses[order[:n_used]].copy()
        used[-1] -= cumulative[n_used - 1] - k
        near = distances[order[:n_used]]
        if near[0] == 0:
            phi = (near == 0).astype(float)
        elif weight == "power":
            phi = (near / near[0]) ** -alpha
        else:
            after = n_used if cumulative[n_used - 1] <= k + 1e-9 else n_used - 1
            phi = np.maximum(np.log(distances[order[after]] / near), 0)
        w = used * phi
        if w.sum() == 0:
            w = used
        predictions.append(w @ targets[order[:n_used]] / w.sum())
    return np.array(predictions)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    weight=st.sampled_from(["power", "log"]),
    alpha=st.floats(0.5, 8.0),
    fractional=st.booleans(),
    data=st.data(),
)
def test_sample_weights_follow_the_documented_rule(seed, weight, alpha, fractional, data):
    X, y, queries, rng, _ = rows_with_duplicates(seed, 15, 40, 2)
    sample_weight = (
        rng.uniform(0.05, 0.6, size=40)
        if fractional
        else rng.integers(1, 4, size=40).astype(float)
    )
    total = sample_weight.sum()
    k = data.draw(st.integers(1, max(int(total) - 1, 1)))
    assume(k < total - 1e-6)
    model = SingularKernelNN(k, alpha=alpha, weight=weight).fit(X, y, sample_weight=sample_weight)
    expected = reference_mass_rule(X, y, sample_weight, queries, k, alpha, weight)
    np.testing.assert_allclose(model.predict(queries), expected, rtol=1e-9, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    weight=st.sampled_from(["power", "log"]),
    k=st.integers(1, 12),
    classifier=st.booleans(),
)
def test_repeating_a_row_r_times_equals_sample_weight_r(seed, weight, k, classifier):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(12, 3))
    y = rng.integers(0, 3, size=12) if classifier else rng.normal(size=12)
    repeats = rng.integers(0, 4, size=12)
    repeats[:2] = 1  # at least two distinct rows left
    assume(k < repeats.sum())
    queries = np.vstack([rng.normal(size=(15, 3)), X])
    Estimator = SingularKernelNNClassifier if classifier else SingularKernelNN
    weighted = Estimator(k, alpha=2.0, weight=weight).fit(X, y, sample_weight=repeats)
    repeated = Estimator(k, alpha=2.0, weight=weight).fit(
        np.repeat(X, repeats, axis=0), np.repeat(y, repeats)
    )
    method = "predict_proba" if classifier else "predict"
    np.testing.assert_allclose(
        getattr(weighted, method)(queries),
        getattr(repeated, method)(queries),
        rtol=1e-12,
        atol=1e-14,
    )
    assert weighted.n_points_fit_ == repeated.n_points_fit_ == np.count_nonzero(repeats)


def test_scikit_learn_zero_distance_case():
    """scikit-learn's test_neighbors_regressors_zero_distance, both weights of ours."""
    X = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0], [2.5, 2.5]])
    y = np.array([1.0, 1.5, 2.0, 0.0])
    model = SingularKernelNN(n_neighbors=2, alpha=1.0).fit(X, y)
    np.testing.assert_allclose(model.predict([[1.1, 1.1]]), [1.25])
    np.testing.assert_allclose(model.predict(X), [1.25, 1.25, 2.0, 0.0])  # merged mean at (1, 1)
    assert model.train_residual_ == pytest.approx(0.25 / 2.0) and not model.interpolates_
    assert SingularKernelNN(3, alpha=1.0).fit(X, y).predict([[1.1, 1.1]])[0] == pytest.approx(
        KNeighborsRegressor(3, weights="distance").fit(X, y).predict([[1.1, 1.1]])[0]
    )


def test_interpolation_is_reported_honestly():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    model = SingularKernelNN(5).fit(X, y)
    assert model.train_residual_ == 0.0 and model.interpolates_
    labels = np.array([0, 1, 0, 1])
    clf = SingularKernelNNClassifier(2).fit(np.array([[0.0], [0.0], [1.0], [2.0]]), labels)
    # The first point carries both labels: half a vote off the one-hot targets.
    assert clf.train_residual_ == pytest.approx(0.5) and not clf.interpolates_
    np.testing.assert_allclose(clf.predict_proba([[0.0]]), [[0.5, 0.5]])


def test_zero_weights_remove_rows_and_bad_weights_raise():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 2)), rng.normal(size=30)
    w = np.ones(30)
    w[:10] = 0
    queries = rng.normal(size=(10, 2))
    np.testing.assert_array_equal(
        SingularKernelNN(4, alpha=1.0).fit(X, y, sample_weight=w).predict(queries),
        SingularKernelNN(4, alpha=1.0).fit(X[10:], y[10:]).predict(queries),
    )
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        SingularKernelNN(4).fit(X, y, sample_weight=-w)
    with pytest.raises(ValueError, match="non-zero"):
        SingularKernelNN(4).fit(X, y, sample_weight=np.zeros(30))
    with pytest.raises(ValueError, match="total sample weight 1.5"):
        SingularKernelNN(4).fit(X, y, sample_weight=np.full(30, 0.05))
    with pytest.raises(ValueError, match="n_neighbors < n_samples_fit"):
        SingularKernelNN(30, weight="log").fit(X, y)


def test_a_single_class_left_by_the_weights_is_predicted_everywhere():
    X = np.arange(12.0).reshape(6, 2)
    y = np.array([0, 1, 0, 1, 0, 1])
    model = SingularKernelNNClassifier(10).fit(X, y, sample_weight=y)
    np.testing.assert_array_equal(model.classes_, [1])
    np.testing.assert_array_equal(model.predict(X + 0.3), np.ones(6))
