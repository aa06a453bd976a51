"""Properties of SingularKernelNN and SingularKernelNNClassifier."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import config_context
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor, NearestNeighbors

from skinterp import SingularKernelNN, SingularKernelNNClassifier

ALGORITHMS = ["kd_tree", "brute"]


def distinct_points(min_samples=3, max_samples=40, max_features=5):
    """Point clouds of distinct rows on a grid of multiples of 1/8.

    Ties are likely, overflow not.
    """

    @st.composite
    def build(draw):
        n_features = draw(st.integers(1, max_features))
        n_samples = draw(st.integers(min_samples, max_samples))
        grid = draw(arrays(np.int64, (n_samples, n_features), elements=st.integers(-40, 40)))
        points = np.unique(grid, axis=0).astype(np.float64) / 8.0
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        points = points[rng.permutation(points.shape[0])]
        if points.shape[0] < min_samples:
            points = np.vstack(
                [points, points.max(axis=0) + np.arange(1, min_samples + 1)[:, None]]
            )
        return points

    return build()


def reference_predictions(X, y, queries, n_neighbors, alpha, weight):
    """The formula of the docstring, in numpy, neighbours from scikit-learn."""
    search = NearestNeighbors(n_neighbors=min(n_neighbors + 1, X.shape[0])).fit(X)
    distances, indices = search.kneighbors(queries)
    predictions = []
    for dist, ind in zip(distances, indices):
        near, scale = dist[:n_neighbors], dist[n_neighbors] if len(dist) > n_neighbors else None
        if near[0] == 0:
            weights = (near == 0).astype(float)
        elif weight == "power":
            weights = (near / near[0]) ** -alpha
        else:
            weights = np.maximum(np.log(scale / near), 0)
            if weights.sum() == 0:
                weights = np.ones_like(near)
        predictions.append(weights @ y[ind[:n_neighbors]] / weights.sum())
    return np.array(predictions)


@settings(max_examples=30, deadline=None)
@given(points=distinct_points(), data=st.data())
def test_predictions_at_training_points_equal_the_targets(points, data):
    y = data.draw(arrays(np.float64, points.shape[0], elements=st.floats(-1e3, 1e3)))
    k = data.draw(st.integers(1, points.shape[0] - 1))
    for weight in ["power", "log"]:
        for algorithm in ALGORITHMS:
            model = SingularKernelNN(k, alpha=2.0, weight=weight, algorithm=algorithm).fit(
                points, y
            )
            np.testing.assert_array_equal(model.predict(points), y)


@settings(max_examples=30, deadline=None)
@given(points=distinct_points(min_samples=4), data=st.data())
def test_alpha_one_equals_scikit_learn_distance_weighted_knn(points, data):
    y = data.draw(arrays(np.float64, points.shape[0], elements=st.floats(-10, 10)))
    k = data.draw(st.integers(1, points.shape[0]))
    queries = points[:5] + 1 / 3  # off the grid, not a training point
    for algorithm in ALGORITHMS:
        ours = SingularKernelNN(k, alpha=1.0, algorithm=algorithm).fit(points, y)
        theirs = KNeighborsRegressor(n_neighbors=k, weights="distance").fit(points, y)
        # Ties among the k-th neighbours may be broken differently; compare where unambiguous.
        distances = (
            NearestNeighbors(n_neighbors=min(k + 1, len(points)))
            .fit(points)
            .kneighbors(queries)[0]
        )
        unambiguous = (distances.shape[1] == k) | (
            distances[:, -1] > distances[:, k - 1] * (1 + 1e-9)
        )
        np.testing.assert_allclose(
            ours.predict(queries)[unambiguous],
            theirs.predict(queries)[unambiguous],
            rtol=1e-10,
            atol=1e-12,
        )


@settings(max_examples=20, deadline=None)
@given(
    alpha=st.floats(0.1, 50.0),
    weight=st.sampled_from(["power", "log"]),
    algorithm=st.sampled_from(ALGORITHMS),
    seed=st.integers(0, 2**32 - 1),
)
def test_agrees_with_numpy_reference(alpha, weight, algorithm, seed):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=(60, 2))
    queries = rng.normal(size=(30, 3))
    model = SingularKernelNN(7, alpha=alpha, weight=weight, algorithm=algorithm).fit(X, y)
    expected = reference_predictions(X, y, queries, 7, alpha, weight)
    np.testing.assert_allclose(model.predict(queries), expected, rtol=1e-9, atol=1e-12)


def test_all_points_is_the_hilbert_kernel_estimate():
    rng = np.random.default_rng(0)
    X, y = rng.uniform(size=(80, 3)), rng.normal(size=80)
    queries = rng.uniform(size=(20, 3))
    model = SingularKernelNN(None, alpha=3.0).fit(X, y)
    distances = np.linalg.norm(queries[:, None, :] - X[None, :, :], axis=2)
    weights = distances**-3.0
    np.testing.assert_allclose(
        model.predict(queries), weights @ y / weights.sum(axis=1), rtol=1e-10
    )
    assert model.n_neighbors_ == 80 and model.algorithm_ == "brute"
    np.testing.assert_array_equal(model.predict(X), y)


@settings(max_examples=15, deadline=None)
@given(points=distinct_points(min_samples=5), seed=st.integers(0, 2**32 - 1))
def test_invariant_to_permutation_of_training_set(points, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=points.shape[0])
    queries = rng.uniform(-5, 5, size=(10, points.shape[1]))
    order = rng.permutation(points.shape[0])
    for algorithm in ALGORITHMS:
        first = SingularKernelNN(4, alpha=2.0, algorithm=algorithm).fit(points, y).predict(queries)
        second = SingularKernelNN(4, alpha=2.0, algorithm=algorithm).fit(points[order], y[order])
        np.testing.assert_array_equal(first, second.predict(queries))


@settings(max_examples=15, deadline=None)
@given(
    points=distinct_points(min_samples=5), shift=st.integers(-64, 64), seed=st.integers(0, 1000)
)
def test_invariant_to_translation_of_all_inputs(points, shift, seed):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=points.shape[0])
    queries = rng.uniform(-5, 5, size=(10, points.shape[1]))
    offset = shift / 4.0  # exact in binary, so translated distances are exactly equal
    for weight in ["power", "log"]:
        model = SingularKernelNN(4, alpha=2.0, weight=weight)
        first = model.fit(points, y).predict(queries)
        second = model.fit(points + offset, y).predict(queries + offset)
        np.testing.assert_allclose(first, second, rtol=1e-12, atol=1e-12)


def test_duplicate_training_points_are_merged_and_counted_as_their_rows():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = np.array([1.0, 2.0, 6.0, 10.0, 20.0])
    model = SingularKernelNN(2, alpha=1.0).fit(X, y)
    assert (model.n_samples_fit_, model.n_points_fit_) == (5, 3)
    np.testing.assert_allclose(model.predict([[0.0, 0.0]]), [3.0])
    # The merged point stands for 3 rows: k = 2 rows are both covered by it.
    np.testing.assert_allclose(model.predict([[0.1, 0.1]]), [3.0])
    np.testing.assert_allclose(
        SingularKernelNN(4, alpha=1.0).fit(X, y).predict([[0.1, 0.2]]),
        KNeighborsRegressor(4, weights="distance").fit(X, y).predict([[0.1, 0.2]]),
    )
    # Targets differ at the merged point: the fit reports it does not interpolate them.
    assert model.train_residual_ == pytest.approx(3.0 / 20.0) and not model.interpolates_
    with pytest.raises(ValueError, match="n_samples_fit = 5"):
        SingularKernelNN(6).fit(X, y)


def test_tiny_distances_and_large_alpha_give_finite_predictions():
    X = np.array([[0.0], [1e-300], [3e-300], [1.0]])
    y = np.array([0.0, 1.0, 2.0, 3.0])
    queries = np.array([[2e-300], [5e-301], [0.5]])
    for alpha in [1.0, 30.0, 784.0]:
        predictions = SingularKernelNN(3, alpha=alpha).fit(X, y).predict(queries)
        assert np.all(np.isfinite(predictions))
        assert np.all((predictions >= 0) & (predictions <= 3))


def test_float32_input_matches_float64():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(300, 20)).astype(np.float32), rng.normal(size=300)
    queries = rng.normal(size=(50, 20)).astype(np.float32)
    for algorithm in ALGORITHMS:
        single = SingularKernelNN(5, alpha=4.0, algorithm=algorithm).fit(X, y).predict(queries)
        double = SingularKernelNN(5, alpha=4.0, algorithm=algorithm).fit(X.astype(float), y)
        np.testing.assert_allclose(single, double.predict(queries.astype(float)), rtol=1e-5)


def test_predictions_do_not_depend_on_working_memory_or_threads():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(500, 30)), rng.normal(size=(500, 3))
    queries = rng.normal(size=(700, 30))
    expected = SingularKernelNN(8, alpha=3.0, algorithm="brute").fit(X, y).predict(queries)
    with config_context(working_memory=0.05):  # ~13 query rows per chunk
        small = SingularKernelNN(8, alpha=3.0, algorithm="brute", n_jobs=2).fit(X, y)
        np.testing.assert_allclose(small.predict(queries), expected, rtol=1e-12)
        hilbert = SingularKernelNN(None, alpha=3.0).fit(X, y).predict(queries)
    np.testing.assert_allclose(
        hilbert, SingularKernelNN(None, alpha=3.0).fit(X, y).predict(queries), rtol=1e-12
    )


def test_auto_alpha_is_half_the_intrinsic_dimension():
    rng = np.random.default_rng(3)
    # A 4-dimensional cube embedded linearly in 40 dimensions.
    X = rng.uniform(size=(1500, 4)) @ rng.normal(size=(4, 40))
    model = SingularKernelNN(10).fit(X, rng.normal(size=1500))
    assert 3.0 < model.intrinsic_dimension_ < 5.0
    assert model.alpha_ == pytest.approx(model.intrinsic_dimension_ / 2)
    assert SingularKernelNN(10, alpha=2.5).fit(X[:50], np.ones(50)).intrinsic_dimension_ is None


def test_classifier_proba_equals_scikit_learn_distance_weighted_knn():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 4))
    y = rng.choice(["a", "b", "c"], size=200)
    queries = rng.normal(size=(50, 4))
    ours = SingularKernelNNClassifier(9, alpha=1.0).fit(X, y)
    theirs = KNeighborsClassifier(n_neighbors=9, weights="distance").fit(X, y)
    np.testing.assert_allclose(
        ours.predict_proba(queries), theirs.predict_proba(queries), rtol=1e-10
    )
    np.testing.assert_array_equal(ours.predict(queries), theirs.predict(queries))
    np.testing.assert_array_equal(ours.predict(X), y)  # interpolates noisy labels
    assert list(ours.classes_) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 4.0]]), "infinity"),
        (np.empty((0, 2)), "0 sample"),
        (np.array([[1.0, 2.0]]), "minimum of 2 is required"),
        (np.array([1.0, 2.0, 3.0]), "Expected 2D array"),
    ],
)
def test_bad_training_input_raises_a_clear_value_error(X, message):
    with pytest.raises(ValueError, match=message):
        SingularKernelNN(1).fit(X, np.arange(X.shape[0], dtype=float))
    with pytest.raises(ValueError, match=message):
        SingularKernelNNClassifier(1).fit(X, np.arange(X.shape[0]) % 2)


def test_bad_parameters_and_queries_raise_clear_errors():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5.0)
    with pytest.raises(ValueError, match="n_neighbors = 6, n_samples_fit = 5"):
        SingularKernelNN(6).fit(X, y)
    with pytest.raises(ValueError, match="Expected n_neighbors < n_samples_fit"):
        SingularKernelNN(5, weight="log").fit(X, y)
    with pytest.raises(ValueError, match="needs weight='power'"):
        SingularKernelNN(None, weight="log").fit(X, y)
    with pytest.raises(ValueError, match="'alpha' parameter"):
        SingularKernelNN(2, alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="'weight' parameter"):
        SingularKernelNN(2, weight="gaussian").fit(X, y)
    model = SingularKernelNN(2, alpha=1.0).fit(X, y)
    with pytest.raises(ValueError, match="has 3 features"):
        model.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.array([[np.nan, 0.0]]))
