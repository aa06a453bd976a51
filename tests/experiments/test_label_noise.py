"""label_noise: the uniform noise model, and interpolants of noisy labels that still generalise."""

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs

from skinterp.datasets import uniform_label_noise
from skinterp.experiments.label_noise import LabelNoiseResult, label_noise

matplotlib.use("Agg")

NOISE = 0.4


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(300, n_features=8, centers=3, cluster_std=2.0, random_state=0)
    return X[:150], y[:150], X[150:], y[150:]


@pytest.fixture(scope="module")
def result(blobs):
    return label_noise(
        *blobs,
        noise_levels=(0.0, NOISE),
        laplace_bandwidth=5.0,
        gauss_bandwidth=3.0,
        n_simplicial_test=10,
        random_state=0,
    )


def rows_of(result, method, q):
    (row,) = [row for row in result.rows if row["method"] == method and row["q"] == q]
    return row


def test_uniform_noise_redraws_a_fraction_q_over_all_classes_including_the_old_one():
    y = np.repeat(np.arange(10), 2000)
    y_noisy, replaced = uniform_label_noise(y, 0.3, random_state=1)
    n = y.size
    # Binomial counts: 5 standard deviations.
    assert abs(replaced.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)
    wrong = 0.9 * 0.3
    assert abs(np.mean(y_noisy != y) - wrong) < 5 * np.sqrt(wrong * (1 - wrong) / n)
    # A redrawn label keeps its old value with probability 1/10, unlike corrupt_labels.
    kept = np.mean(y_noisy[replaced] == y[replaced])
    assert abs(kept - 0.1) < 5 * np.sqrt(0.09 / replaced.sum())
    assert np.array_equal(y_noisy[~replaced], y[~replaced])
    counts = np.bincount(y_noisy[replaced], minlength=10) / replaced.sum()
    assert np.all(np.abs(counts - 0.1) < 0.03)


@settings(max_examples=30, deadline=None)
@given(low=st.floats(0, 1), high=st.floats(0, 1), seed=st.integers(0, 2**31 - 1))
def test_uniform_noise_is_nested_in_the_level_for_one_seed(low, high, seed):
    low, high = min(low, high), max(low, high)
    y = np.arange(50) % 4
    y_low, replaced_low = uniform_label_noise(y, low, random_state=seed)
    y_high, replaced_high = uniform_label_noise(y, high, random_state=seed)
    assert np.all(replaced_high[replaced_low])
    assert np.array_equal(y_high[replaced_low], y_low[replaced_low])


def test_uniform_noise_levels_zero_and_one_and_bad_input():
    y = np.arange(20) % 3
    assert np.array_equal(uniform_label_noise(y, 0.0, random_state=0)[0], y)
    assert uniform_label_noise(y, 1.0, random_state=0)[1].all()
    for bad in (-0.1, 1.5, "half"):
        with pytest.raises(ValueError, match="noise_level"):
            uniform_label_noise(y, bad)
    with pytest.raises(ValueError, match="one-dimensional"):
        uniform_label_noise(y.reshape(4, 5), 0.1)


def test_interpolants_fit_noisy_labels_exactly_and_still_classify_clean_labels(result):
    share = 2 / 3 * NOISE  # the fraction of training labels that are wrong, for 3 classes
    for method in ("laplace", "gauss", "laplace overfitted", "gauss overfitted", "wiNN", "1-NN"):
        assert rows_of(result, method, NOISE)["train_error"] == 0.0, method
    # Fig. 2: the Laplace interpolant of labels of which ~27% are wrong errs far less often on
    # clean labels than the noise rate, and less than 1-NN, which copies its neighbour's noise.
    laplace = rows_of(result, "laplace", NOISE)
    assert laplace["clean_error"] < share / 2
    assert laplace["clean_error"] < rows_of(result, "1-NN", NOISE)["clean_error"]


def test_error_on_corrupted_labels_is_the_clean_error_mixed_with_the_bayes_floor(result):
    n_test = rows_of(result, "laplace", NOISE)["n_test"]
    for row in result.rows:
        if row["q"] == NOISE and row["n_test"] == n_test:
            assert row["bayes_error"] == pytest.approx(2 / 3 * NOISE)
            assert row["noisy_error"] >= row["bayes_error"] - 5 * np.sqrt(0.25 / n_test)
            # The corrupted test labels are independent of the images: 5 binomial deviations.
            assert abs(row["noisy_error"] - row["expected_noisy_error"]) < 5 * np.sqrt(
                0.25 / n_test
            ), row["method"]


def test_overfitted_fit_stops_at_the_first_epoch_with_zero_training_error(blobs, result):
    from skinterp import KernelInterpolationClassifier
    from skinterp.experiments.early_stopping import eigenpro_epochs

    X, y = blobs[0], blobs[1]
    epochs = eigenpro_epochs(X, y, bandwidth=5.0, n_epochs=20, stop_when_interpolating=True)
    assert np.array_equal(epochs[-1]["train_pred"], y)
    assert all(not np.array_equal(entry["train_pred"], y) for entry in epochs[:-1])
    exact = KernelInterpolationClassifier(bandwidth=5.0, solver="direct").fit(X, y)
    assert exact.score(X, y) == 1.0
    assert rows_of(result, "laplace overfitted", 0.0)["epochs"] >= 1


def test_result_shape_summary_and_json_round_trip(result):
    keys = set(result.rows[0])
    assert all(set(row) == keys for row in result.rows)
    methods = {row["method"] for row in result.rows}
    assert methods == {
        "laplace",
        "laplace overfitted",
        "laplace ridge",
        "gauss",
        "gauss overfitted",
        "gauss ridge",
        "wiNN",
        "simplicial",
        "1-NN",
    }
    assert rows_of(result, "simplicial", NOISE)["n_test"] == 10
    assert set(result.reference) <= set(result.summary)
    assert result.reference["laplace clean error q=0"] == 0.061
    assert result.params["data_source"] == "arrays"
    back = LabelNoiseResult.from_json(result.to_json())
    assert back.rows == result.rows and back.summary == result.summary
    axes = back.plot()
    assert len(axes) == 2
    floor = [line for line in axes[1].get_lines() if line.get_label().startswith("Bayes floor")]
    assert len(floor) == 1
    np.testing.assert_allclose(floor[0].get_ydata(), [0.0, 2 / 3 * NOISE])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(noise_levels=(0.1, 1.2)), "noise_levels"),
        (dict(n_simplicial_test=-1), "n_simplicial_test"),
        (dict(laplace_bandwidth=0.0), "laplace_bandwidth"),
        (dict(ridge_alphas=()), "ridge_alphas"),
        (dict(max_epochs=0), "max_epochs"),
        (dict(quick="yes"), "quick"),
        (dict(random_state=None), "random_state"),
    ],
)
def test_bad_arguments_raise_value_errors(blobs, kwargs, match):
    with pytest.raises(ValueError, match=match):
        label_noise(*blobs, **kwargs)


def test_data_arguments_come_all_or_none(blobs):
    with pytest.raises(ValueError, match="all of X_train"):
        label_noise(blobs[0], blobs[1])
