"""Label corruption and the loaders of the optional real data."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.datasets import DATA_ENV_VAR, corrupt_labels, load_mnist_sample


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
        np.savez(tmp_path / name, X=rng.integers(0, 256, size=(4, 784), dtype=np.uint8), y=np.arange(4))
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path))
    X_train, y_train, X_test, _ = load_mnist_sample()
    assert X_train.shape == (4, 784) and X_train.max() <= 1.0 and X_test.dtype == np.float64
    monkeypatch.delenv(DATA_ENV_VAR)
    with pytest.raises(FileNotFoundError, match=DATA_ENV_VAR):
        load_mnist_sample()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_mnist_sample(tmp_path / "missing")
