"""Label corruption and the loaders of the optional real data."""

import numpy as np
import pytest
import sklearn.datasets
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils import Bunch

from skinterp import datasets
from skinterp.datasets import (
    DATA_ENV_VAR,
    corrupt_labels,
    load_california,
    load_mnist,
    load_mnist_sample,
)


@settings(max_examples=50, deadline=None)
@given(
    n_samples=st.integers(1, 300),
    n_classes=st.integers(2, 10),
    noise=st.floats(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_corrupted_labels_change_exactly_the_chosen_fraction(n_samples, n_classes, noise, seed):
    y = np.arange(n_samples) % n_classes
    y_noisy, corrupted = corrupt_labels(y, noise, random_state=seed)
    present = np.unique(y)
    # With a single class present there is no other class to corrupt to.
    assert corrupted.sum() == (round(noise * n_samples) if len(present) > 1 else 0)
    assert np.all(y_noisy[corrupted] != y[corrupted])
    np.testing.assert_array_equal(y_noisy[~corrupted], y[~corrupted])
    assert set(np.unique(y_noisy)) <= set(present)


def test_corrupt_labels_rejects_a_bad_noise_level():
    with pytest.raises(ValueError, match="noise_level"):
        corrupt_labels([0, 1], 1.5)


def test_loaders_read_the_folder_from_the_environment(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for name in ["mnist_train_5k.npz", "mnist_test_5k.npz"]:
        np.savez(
            tmp_path / name, X=rng.integers(0, 256, size=(4, 784), dtype=np.uint8), y=np.arange(4)
        )
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path))
    X_train, y_train, X_test, _ = load_mnist_sample()
    assert X_train.shape == (4, 784) and X_train.max() <= 1.0 and X_test.dtype == np.float64
    monkeypatch.delenv(DATA_ENV_VAR)
    with pytest.raises(FileNotFoundError, match=DATA_ENV_VAR):
        load_mnist_sample()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist_sample(tmp_path / "missing")


# The three sources of load_mnist / load_california, each with the fetchers monkeypatched: the
# suite never touches the network or the real sample files.


@pytest.fixture(autouse=True)
def _fresh_fetch_memory(monkeypatch):
    monkeypatch.setattr(datasets, "_failed_fetches", {})
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)


def _forbid(*args, **kwargs):
    raise AssertionError("the fetcher must not be called")


def _offline(*args, **kwargs):
    from urllib.error import URLError

    raise URLError("Name or service not known")


def _mnist_files(folder, n=30):
    rng = np.random.default_rng(1)
    for name in ["mnist_train_5k.npz", "mnist_test_5k.npz"]:
        X = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
        np.savez(folder / name, X=X, y=np.arange(n) % 10)


def test_mnist_comes_from_the_files_when_they_hold_enough_images(tmp_path, monkeypatch):
    _mnist_files(tmp_path)
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _forbid)
    data = load_mnist(20, 10, data_home=tmp_path, random_state=0)
    assert data.source == "files"
    assert data.X_train.shape == (20, 784) and data.X_test.shape == (10, 784)
    assert data.X_train.dtype == np.float64 and 0 <= data.X_train.min() and data.X_train.max() <= 1
    # Distinct rows of the file, and the labels are those of the chosen rows.
    with np.load(tmp_path / "mnist_train_5k.npz") as archive:
        rows = {tuple(row) for row in archive["X"] / 255.0}
    assert all(tuple(row) in rows for row in data.X_train)
    assert len({tuple(row) for row in data.X_train}) == 20
    again = load_mnist(20, 10, data_home=tmp_path, random_state=0)
    np.testing.assert_array_equal(again.X_train, data.X_train)


def test_mnist_is_downloaded_when_there_are_no_files(monkeypatch):
    calls = []

    def fake_openml(name, **kwargs):
        calls.append((name, kwargs))
        rng = np.random.default_rng(0)
        return Bunch(
            data=rng.integers(0, 256, size=(70000, 4)).astype(float),
            target=np.array([str(i % 10) for i in range(70000)]),
        )

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", fake_openml)
    data = load_mnist(50, 40)
    assert data.source == "openml" and calls[0][0] == "mnist_784"
    assert calls[0][1]["as_frame"] is False
    assert data.y_train.dtype.kind == "i" and data.X_train.max() <= 1.0
    assert data.X_test.shape == (40, 4)


def test_mnist_falls_back_to_digits_offline_with_a_warning_and_asks_once(monkeypatch):
    calls = []

    def offline(*args, **kwargs):
        calls.append(1)
        _offline()

    monkeypatch.setattr(sklearn.datasets, "fetch_openml", offline)
    with pytest.warns(UserWarning, match=r"MNIST could not be loaded \(URLError.*digits"):
        data = load_mnist(2000, 5000)
    assert data.source == "digits" and data.X_train.shape[1] == 64
    assert data.X_train.shape[0] + data.X_test.shape[0] == 1797  # capped, split in proportion
    assert abs(data.X_train.shape[0] / 1797 - 2000 / 7000) < 0.01
    with pytest.warns(UserWarning, match="digits"):
        load_mnist(100, 100)
    assert len(calls) == 1  # the failure is remembered within the process
    with pytest.warns(UserWarning, match="100 training and 50 test rows"):
        small = load_mnist(100, 50)
    assert small.X_train.shape == (100, 64) and small.X_test.shape == (50, 64)


def test_mnist_without_download_does_not_fetch(monkeypatch):
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _forbid)
    with pytest.warns(UserWarning, match="download=False"):
        assert load_mnist(10, 10, download=False).source == "digits"


def test_digits_fallback_takes_test_sets_smaller_than_the_number_of_classes(monkeypatch):
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _offline)
    with pytest.warns(UserWarning, match="digits"):
        data = load_mnist(200, 3)
    assert data.X_train.shape == (200, 64) and data.y_test.shape == (3,)


def test_too_small_files_fall_through_to_the_download(tmp_path, monkeypatch):
    _mnist_files(tmp_path, n=5)
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _offline)
    with pytest.warns(UserWarning, match="digits"):
        assert load_mnist(20, 10, data_home=tmp_path).source == "digits"


def test_a_missing_data_folder_is_said(tmp_path, monkeypatch):
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _offline)
    with pytest.warns(UserWarning) as record:
        load_mnist(10, 10, data_home=tmp_path / "nowhere")
    messages = [str(warning.message) for warning in record]
    assert any("does not exist" in message for message in messages)
    assert any("digits" in message for message in messages)


@pytest.mark.parametrize("sizes", [(0, 10), (10, -1), (2.5, 10), (True, 10)])
def test_loaders_reject_bad_sizes(sizes):
    for loader in (load_mnist, load_california):
        with pytest.raises(ValueError, match="positive integer"):
            loader(*sizes, download=False)


def test_california_from_the_file(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "california_housing_15k.npz",
        X=rng.normal(size=(300, 8)),
        y=rng.normal(size=300),
    )
    monkeypatch.setattr(sklearn.datasets, "fetch_california_housing", _forbid)
    data = load_california(200, 100, data_home=tmp_path)
    assert (
        data.source == "files" and data.X_train.shape == (200, 8) and data.X_test.shape == (100, 8)
    )
    # disjoint split of the file's rows
    rows = {tuple(row) for row in data.X_train}
    assert not any(tuple(row) in rows for row in data.X_test)


def test_california_download_then_offline_fallback(monkeypatch):
    rng = np.random.default_rng(0)
    fetched = Bunch(data=rng.normal(size=(1000, 8)), target=rng.normal(size=1000))
    monkeypatch.setattr(sklearn.datasets, "fetch_california_housing", lambda **kwargs: fetched)
    data = load_california(600, 300)
    assert data.source == "fetch" and data.X_train.shape == (600, 8)
    with pytest.raises(ValueError, match="the source has 1000"):
        load_california(900, 300)
    monkeypatch.setattr(datasets, "_failed_fetches", {})
    monkeypatch.setattr(sklearn.datasets, "fetch_california_housing", _offline)
    with pytest.warns(UserWarning, match="California housing could not be loaded.*diabetes"):
        data = load_california(12000, 3000)
    assert data.source == "diabetes" and data.X_train.shape[0] + data.X_test.shape[0] == 442


# ``python -m skinterp data FOLDER``: the sample files written from (monkeypatched) fetchers.
def _fake_mnist_784(name, **kwargs):
    assert name == "mnist_784" and kwargs["as_frame"] is False
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=70000)
    pixels = np.zeros((70000, 784))
    pixels[:, 0] = labels * 20  # each image carries its label, to check the pairing
    pixels[:, 1] = np.arange(70000) % 256
    return Bunch(data=pixels, target=labels.astype(str))


def _fake_housing(**kwargs):
    rng = np.random.default_rng(1)
    data = rng.normal(size=(20640, 8))
    return Bunch(data=data, target=data[:, 0] * 2.0, feature_names=[f"f{i}" for i in range(8)])


def test_write_sample_files_then_the_loaders_read_them(tmp_path, monkeypatch):
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _fake_mnist_784)
    monkeypatch.setattr(sklearn.datasets, "fetch_california_housing", _fake_housing)
    from skinterp.__main__ import main

    assert main(["data", str(tmp_path / "data")]) == 0
    folder = tmp_path / "data"
    assert sorted(p.name for p in folder.iterdir()) == sorted(datasets.SAMPLE_FILES)
    X_train, y_train, X_test, y_test = load_mnist_sample(folder, scale=False)
    # 500 of each digit from the training part, in the official order; the first 5000 tests.
    assert X_train.shape == (5000, 784) and X_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [500] * 10
    np.testing.assert_array_equal(X_train[:, 0], y_train * 20)
    assert X_test.shape == (5000, 784) and np.all(X_test[:, 0] == y_test * 20)
    np.testing.assert_array_equal(X_test[:, 1], np.arange(60000, 65000) % 256)
    X, y = datasets.load_california_sample(folder)
    assert X.shape == (15000, 8) and len(np.unique(X[:, 0])) == 15000
    np.testing.assert_allclose(y, 2.0 * X[:, 0])
    # The loaders take the files (the fetchers are no longer called).
    monkeypatch.setattr(sklearn.datasets, "fetch_openml", _forbid)
    monkeypatch.setenv(DATA_ENV_VAR, str(folder))
    assert load_mnist(100, 100).source == "files"
    assert load_california(1000, 500).source == "files"


def test_write_sample_files_rejects_a_wrong_mnist(tmp_path, monkeypatch):
    monkeypatch.setattr(
        sklearn.datasets,
        "fetch_openml",
        lambda *a, **k: Bunch(data=np.zeros((10, 784)), target=np.zeros(10)),
    )
    monkeypatch.setattr(sklearn.datasets, "fetch_california_housing", _fake_housing)
    with pytest.raises(ValueError, match="70000, 784"):
        datasets.write_sample_files(tmp_path)
