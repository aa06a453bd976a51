"""inverse_vs_direct: alpha = K^-1 y interpolates and beats alpha = y at every shared bandwidth."""

import matplotlib
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.datasets import load_digits
from sklearn.neighbors import KNeighborsClassifier

from skinterp.experiments import ExperimentResult
from skinterp.experiments.inverse_vs_direct import inverse_vs_direct, nadaraya_watson_predict

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:300], y[:300], X[1000:1300], y[1000:1300]


@pytest.fixture(scope="module")
def result(digits):
    return inverse_vs_direct(*digits, bandwidths=(0.03, 0.3, 1.0, 10.0), n_neighbors=(3, 10))


def test_nadaraya_watson_is_the_arg_max_of_kernel_weighted_label_counts():
    rng = np.random.RandomState(0)
    X, X_query = rng.normal(size=(60, 3)), rng.normal(size=(40, 3))
    y = rng.randint(4, size=60)
    for kernel, profile in [
        ("laplacian", lambda r: np.exp(-r)),
        ("gaussian", lambda r: np.exp(-(r**2) / 2)),
    ]:
        weights = profile(cdist(X_query, X) / 0.7)
        counts = np.stack([weights[:, y == c].sum(axis=1) for c in range(4)], axis=1)
        predicted = nadaraya_watson_predict(X, y, X_query, kernel=kernel, bandwidth=0.7)
        np.testing.assert_array_equal(predicted, np.argmax(counts, axis=1))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_nadaraya_watson_tends_to_one_nearest_neighbour_as_the_bandwidth_shrinks(seed):
    rng = np.random.RandomState(seed)
    X, X_query = rng.uniform(size=(40, 2)), rng.uniform(size=(20, 2))
    y = rng.randint(3, size=40)
    distances = np.sort(cdist(X_query, X), axis=1)
    # The smallest bandwidth at which every query keeps a non-zero weight (r / h < 700 stays in
    # float64's range); exp(-r / h) then puts all the weight on the nearest point wherever the
    # gap to the second one is many bandwidths. Elsewhere (near ties) 1-NN is fragile anyway.
    bandwidth = distances[:, 0].max() / 500
    clear = distances[:, 1] - distances[:, 0] > 40 * bandwidth
    assume(clear.sum() >= 5)
    nearest = KNeighborsClassifier(n_neighbors=1).fit(X, y).predict(X_query)
    predicted = nadaraya_watson_predict(X, y, X_query, bandwidth=bandwidth)
    np.testing.assert_array_equal(predicted[clear], nearest[clear])


def test_kernel_machine_interpolates_and_beats_nadaraya_watson_at_every_bandwidth(result):
    machine = [row for row in result.rows if row["method"] == "kernel interpolation"]
    direct = [row for row in result.rows if row["method"] == "Nadaraya-Watson"]
    assert [row["bandwidth"] for row in machine] == [row["bandwidth"] for row in direct]
    assert all(row["train_accuracy"] == 1.0 for row in machine)
    for inverse, plain in zip(machine, direct, strict=True):
        assert inverse["accuracy"] >= plain["accuracy"] - 0.01, inverse["bandwidth"]
    # Averaging over a wide window stops Nadaraya-Watson from even fitting its training data.
    assert direct[-1]["train_accuracy"] < 0.95
    assert (
        result.summary["kernel interpolation best accuracy"]
        > result.summary["Nadaraya-Watson best accuracy"]
    )


def test_result_shape_summary_and_json_round_trip(result):
    keys = set(result.rows[0])
    assert all(set(row) == keys for row in result.rows)
    assert [row["method"] for row in result.rows].count("wiNN") == 2
    assert result.summary["1-NN accuracy"] == next(
        row["accuracy"] for row in result.rows if row["method"] == "1-NN"
    )
    assert result.reference["kernel interpolation best accuracy"] == 0.972
    assert set(result.reference) <= set(result.summary)
    back = ExperimentResult.from_json(result.to_json())
    assert back.rows == result.rows and back.summary == result.summary
    assert len(back.plot()) == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(bandwidths=(1.0, -1.0)), "bandwidth"),
        (dict(bandwidths=()), "bandwidths"),
        (dict(n_neighbors=(0,)), "n_neighbors"),
        (dict(kernel="cosine"), "kernel"),
        (dict(kernel="thin_plate_spline"), "kernel must be one of .*laplacian"),
        (dict(quick=1), "quick"),
    ],
)
def test_bad_arguments_raise_value_errors(digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        inverse_vs_direct(*digits, **kwargs)
