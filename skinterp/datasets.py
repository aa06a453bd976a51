"""Data for experiments: label corruption and loaders for the optional real data samples.

The real samples (an MNIST subset and California housing) are *not* shipped with the package.
Loaders find them in a folder given as an argument or through the environment variable
``SKINTERP_DATA``; without either they raise ``FileNotFoundError`` so that callers can fall back
to scikit-learn's bundled data (``sklearn.datasets.load_digits``).
"""

import os
from pathlib import Path

import numpy as np
from sklearn.utils import check_random_state

DATA_ENV_VAR = "SKINTERP_DATA"


def corrupt_labels(y, noise_level, *, random_state=None):
    """Replace a fraction of labels by labels drawn uniformly from the *other* classes.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    noise_level : float in [0, 1]
        Fraction of samples whose label is replaced (exactly ``round(noise_level * n_samples)``).
    random_state : int, RandomState instance or None
        Seed of the choice of samples and of their new labels.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The labels, with the chosen ones replaced by a different class.
    corrupted : ndarray of bool, shape (n_samples,)
        Which samples were corrupted.

    Examples
    --------
    >>> from skinterp.datasets import corrupt_labels
    >>> y_noisy, corrupted = corrupt_labels([0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 0.2, random_state=0)
    >>> int(corrupted.sum())
    2
    """
    y = np.asarray(y)
    if not 0.0 <= noise_level <= 1.0:
        raise ValueError(f"noise_level must be in [0, 1], got {noise_level!r}.")
    classes, encoded = np.unique(y, return_inverse=True)
    rng = check_random_state(random_state)
    n_corrupted = int(round(noise_level * y.shape[0]))
    corrupted = np.zeros(y.shape[0], dtype=bool)
    if n_corrupted == 0 or classes.shape[0] < 2:
        return y.copy(), corrupted
    chosen = rng.choice(y.shape[0], size=n_corrupted, replace=False)
    corrupted[chosen] = True
    # A shift in 1..n_classes-1 modulo n_classes is uniform over the other classes.
    shift = rng.randint(1, classes.shape[0], size=n_corrupted)
    noisy = encoded.copy()
    noisy[chosen] = (encoded[chosen] + shift) % classes.shape[0]
    return classes[noisy], corrupted


def data_folder(data_home=None):
    """The folder of the real data samples: ``data_home``, else ``$SKINTERP_DATA``.

    Raises ``FileNotFoundError`` when neither names an existing folder.
    """
    folder = data_home if data_home is not None else os.environ.get(DATA_ENV_VAR)
    if folder is None:
        raise FileNotFoundError(
            f"No data folder: pass data_home or set the environment variable {DATA_ENV_VAR}."
        )
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"The data folder {str(folder)!r} does not exist.")
    return folder


def _load_npz(name, data_home):
    path = data_folder(data_home) / name
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} not found.")
    with np.load(path) as archive:
        return archive["X"], archive["y"]


def load_mnist_sample(data_home=None, *, scale=True):
    """Load the 5000 + 5000 image MNIST sample.

    Returns ``X_train, y_train, X_test, y_test``; pixels are divided by 255 when ``scale``.
    """
    X_train, y_train = _load_npz("mnist_train_5k.npz", data_home)
    X_test, y_test = _load_npz("mnist_test_5k.npz", data_home)
    if scale:
        X_train = X_train.astype(np.float64) / 255.0
        X_test = X_test.astype(np.float64) / 255.0
    return X_train, y_train, X_test, y_test


def load_california_sample(data_home=None):
    """Load the 15,000 row California housing sample: ``X`` (15000, 8) and ``y`` (100k USD)."""
    return _load_npz("california_housing_15k.npz", data_home)
