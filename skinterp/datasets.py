"""Data for experiments: label corruption and loaders of real data that work offline too.

:func:`load_mnist` and :func:`load_california` give the data the paper's experiments use, from
the first source that has it:

1. the sample files (``mnist_train_5k.npz``, ``mnist_test_5k.npz``,
   ``california_housing_15k.npz``) in ``data_home`` or the folder named by the environment
   variable ``SKINTERP_DATA``;
2. otherwise scikit-learn's fetchers (``fetch_openml("mnist_784")``,
   ``fetch_california_housing``), which download once and cache in scikit-learn's data home;
3. otherwise (offline) a data set bundled with scikit-learn (digits for MNIST, diabetes for
   California housing), with a warning that says so.

The result says which source it came from (``source``), so that an experiment can print it
beside its numbers. :func:`load_mnist_sample` and :func:`load_california_sample` read the sample
files alone and raise ``FileNotFoundError`` without them.
"""

import os
from numbers import Real
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch, check_random_state

from skinterp._base import warn_user

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


def uniform_label_noise(y, noise_level, *, classes=None, random_state=None):
    """Replace each label, with probability ``noise_level``, by one uniform over all classes.

    Unlike :func:`corrupt_labels` (exactly a fraction of labels, each moved
    to a *different* class), the new label may equal the old one: this is the noise model of
    Belkin (2021, Section 3.4), under which a fraction ``(1 - 1/c) q`` of the labels is wrong
    and the Bayes error is at least that. With the same seed, the labels replaced at a level
    ``q`` are also replaced, by the same new labels, at every larger level (nested noise).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels.
    noise_level : float in [0, 1]
        Probability ``q`` that a label is replaced.
    classes : array-like or None, default=None
        The classes to draw from; the classes present in ``y`` when None.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Returns
    -------
    y_noisy : ndarray of shape (n_samples,)
        The labels, some replaced.
    replaced : ndarray of bool, shape (n_samples,)
        Which labels were redrawn (a redrawn label may be unchanged).

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp.datasets import uniform_label_noise
    >>> y = np.repeat(np.arange(10), 1000)
    >>> y_noisy, replaced = uniform_label_noise(y, 0.5, random_state=0)
    >>> round(float(np.mean(y_noisy != y)), 2)  # about 0.9 * 0.5 of the labels are wrong
    0.45
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}.")
    if not isinstance(noise_level, Real) or not 0.0 <= noise_level <= 1.0:
        raise ValueError(f"noise_level must be a number in [0, 1], got {noise_level!r}.")
    classes = np.unique(y) if classes is None else np.asarray(classes)
    if classes.size == 0:
        raise ValueError("There must be at least one class to draw labels from.")
    rng = check_random_state(random_state)
    # Both draws are made for every sample whatever the level, so that one seed gives nested
    # corruptions across levels.
    chance = rng.uniform(size=y.shape[0])
    new_labels = classes[rng.randint(classes.shape[0], size=y.shape[0])]
    replaced = chance < noise_level
    return np.where(replaced, new_labels, y), replaced


def data_folder(data_home=None):
    """The folder of the real data samples: ``data_home``, else ``$SKINTERP_DATA``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder; ``None`` reads the environment variable ``SKINTERP_DATA``.

    Returns
    -------
    folder : pathlib.Path

    Raises ``FileNotFoundError`` when neither names an existing folder.

    Examples
    --------
    >>> from skinterp.datasets import data_folder
    >>> data_folder(".").is_dir()
    True
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


def _read_npz(path):
    with np.load(path) as archive:
        return archive["X"], archive["y"]


def _load_npz(name, data_home):
    path = data_folder(data_home) / name
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} not found.")
    return _read_npz(path)


def load_mnist_sample(data_home=None, *, scale=True):
    """Load the 5000 + 5000 image MNIST sample (written by :func:`write_sample_files`).

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder (:func:`data_folder`; ``None``: ``$SKINTERP_DATA``).
    scale : bool, default=True
        Divide the pixels (0-255) by 255, as float64.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        ``(5000, 784)`` images and their digits, twice.
    """
    X_train, y_train = _load_npz("mnist_train_5k.npz", data_home)
    X_test, y_test = _load_npz("mnist_test_5k.npz", data_home)
    if scale:
        X_train = X_train.astype(np.float64) / 255.0
        X_test = X_test.astype(np.float64) / 255.0
    return X_train, y_train, X_test, y_test


def load_california_sample(data_home=None):
    """Load the 15,000 row California housing sample (written by :func:`write_sample_files`).

    Parameters
    ----------
    data_home : str or path-like, default=None
        The data folder (:func:`data_folder`; ``None``: ``$SKINTERP_DATA``).

    Returns
    -------
    X : ndarray of shape (15000, 8)
    y : ndarray of shape (15000,)
        Median house values in 100k USD.
    """
    return _load_npz("california_housing_15k.npz", data_home)


SAMPLE_FILES = ("mnist_train_5k.npz", "mnist_test_5k.npz", "california_housing_15k.npz")


def write_sample_files(folder, *, scikit_learn_data_home=None, random_state=0):
    """Download the real data once and write the sample files the benchmarks and examples read.

    ``python -m skinterp data FOLDER`` calls this; then ``SKINTERP_DATA=FOLDER`` makes every
    loader, experiment, example and benchmark use the files. The data come through
    scikit-learn's fetchers (``fetch_openml("mnist_784")``, about 15 MB, and
    ``fetch_california_housing``, about 0.5 MB; both cached in scikit-learn's data home):

    * ``mnist_train_5k.npz``: 500 images of each digit, the first ones of each class in the
      official 60,000-image training set (uint8 pixels 0-255);
    * ``mnist_test_5k.npz``: the first 5,000 images of the official 10,000-image test set;
    * ``california_housing_15k.npz``: a random 15,000 of the 20,640 census blocks (``X``
      (15000, 8), ``y`` in 100k USD, ``feature_names``).

    The test file is the one the project's own sample folder holds; the training images and
    the California rows are chosen the same way but need not be the same rows, so numbers
    differ from the documentation's in the last digit or so.

    Parameters
    ----------
    folder : str or path
        Where to write (created if missing).
    scikit_learn_data_home : str or None
        scikit-learn's download cache, passed to the fetchers.
    random_state : int
        Seed of the choice of California rows.

    Returns
    -------
    paths : list of pathlib.Path
        The three files written.
    """
    from sklearn.datasets import fetch_california_housing, fetch_openml

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mnist = fetch_openml("mnist_784", version=1, as_frame=False, data_home=scikit_learn_data_home)
    pixels = np.asarray(mnist.data).astype(np.uint8)
    labels = np.asarray(mnist.target).astype(np.int64)
    if pixels.shape != (70000, 784):
        raise ValueError(
            f"fetch_openml('mnist_784') gave data of shape {pixels.shape}, "
            "not the official (70000, 784)."
        )
    train = np.concatenate([np.flatnonzero(labels[:60000] == digit)[:500] for digit in range(10)])
    train.sort()
    housing = fetch_california_housing(data_home=scikit_learn_data_home)
    rows = np.sort(
        np.random.RandomState(random_state).choice(
            housing.data.shape[0], size=15000, replace=False
        )
    )
    paths = [folder / name for name in SAMPLE_FILES]
    np.savez_compressed(paths[0], X=pixels[train], y=labels[train])
    np.savez_compressed(paths[1], X=pixels[60000:65000], y=labels[60000:65000])
    np.savez_compressed(
        paths[2],
        X=np.asarray(housing.data, dtype=np.float64)[rows],
        y=np.asarray(housing.target, dtype=np.float64)[rows],
        feature_names=np.asarray(housing.feature_names),
    )
    return paths


# A fetch that failed (offline) is not tried again in the same process: each attempt costs
# seconds of retries, and a gallery build or ``reproduce all`` loads the same data many times.
_failed_fetches = {}


def _fetch(name, fetcher, download):
    """``fetcher()``, or None (with the reason remembered) when offline or not allowed."""
    if not download:
        _failed_fetches.setdefault(name, "downloads are disabled (download=False)")
        return None
    if name in _failed_fetches:
        return None
    try:
        return fetcher()
    except Exception as error:  # URLError, HTTPError, OSError, a corrupted cache: all offline
        _failed_fetches[name] = f"{type(error).__name__}: {error}"
        return None


def _sample_files(names, data_home):
    """The paths of ``names`` in the data folder, or None when the folder or a file is missing."""
    try:
        folder = data_folder(data_home)
    except FileNotFoundError:
        if data_home is not None:
            warn_user(f"The data folder {str(data_home)!r} does not exist.", UserWarning)
        return None
    paths = [folder / name for name in names]
    if not all(path.is_file() for path in paths):
        return None
    return paths


def _split(X, y, n_train, n_test, random_state, *, stratify):
    """Disjoint random training and test subsets of sizes ``n_train`` and ``n_test``."""
    from sklearn.model_selection import train_test_split

    X_train, X_test, y_train, y_test = train_test_split(
        X,
        y,
        train_size=n_train,
        test_size=n_test,
        random_state=random_state,
        stratify=y if stratify else None,
    )
    return X_train, y_train, X_test, y_test


def _subset(X, y, size, rng, what):
    if size > X.shape[0]:
        raise ValueError(f"{what} asks for {size} rows, but the source has {X.shape[0]}.")
    if size == X.shape[0]:
        return X, y
    chosen = rng.choice(X.shape[0], size=size, replace=False)  # random order: shuffled too
    return X[chosen], y[chosen]


def _check_sizes(n_train, n_test):
    for name, size in [("n_train", n_train), ("n_test", n_test)]:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size!r}.")


def _fallback_sizes(n_train, n_test, n_available, dataset, bundled, reason):
    """Sizes capped to a bundled data set of ``n_available`` rows, and a warning saying so."""
    if n_train + n_test > n_available:
        share = n_train / (n_train + n_test)
        n_train = max(1, min(n_available - 1, int(share * n_available)))
        n_test = n_available - n_train
    warn_user(
        f"{dataset} could not be loaded ({reason}); using scikit-learn's bundled {bundled} "
        f"instead ({n_train} training and {n_test} test rows). Numbers will differ from the "
        f"paper's. Set {DATA_ENV_VAR} to a folder with the sample files, or connect to the "
        "internet once so that scikit-learn can download and cache the data.",
        UserWarning,
    )
    return n_train, n_test


def load_mnist(
    n_train=5000,
    n_test=5000,
    *,
    data_home=None,
    download=True,
    scikit_learn_data_home=None,
    random_state=0,
):
    """MNIST digits with pixels in [0, 1], from sample files, a download, or offline digits.

    Parameters
    ----------
    n_train, n_test : int, default=5000
        Numbers of training and test images, drawn at random (``random_state``) from the
        source's training and test sets.
    data_home : str, path or None, default=None
        Folder of ``mnist_train_5k.npz`` and ``mnist_test_5k.npz``; ``$SKINTERP_DATA`` when
        None. Used when both files are there and hold enough images.
    download : bool, default=True
        Whether :func:`sklearn.datasets.fetch_openml` may be called (it downloads ~15 MB once
        and then reads scikit-learn's cache).
    scikit_learn_data_home : str, path or None, default=None
        scikit-learn's cache folder, passed to the fetcher.
    random_state : int, RandomState instance or None, default=0
        Seed of the choice of images.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X_train`` (n_train, 784) float64, ``y_train`` (n_train,) int, ``X_test``, ``y_test``,
        and ``source``: ``"files"``, ``"openml"`` or ``"digits"``. With digits (8 x 8 images,
        64 features, 1797 in all) the sizes are capped, and a warning says so.

    Examples
    --------
    >>> import warnings
    >>> from skinterp.datasets import load_mnist
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     data = load_mnist(100, 50, download=False)
    >>> data.X_train.shape[0], data.X_test.shape[0], float(data.X_train.max()) <= 1.0
    (100, 50, True)
    """
    _check_sizes(n_train, n_test)
    rng = check_random_state(random_state)
    paths = _sample_files(["mnist_train_5k.npz", "mnist_test_5k.npz"], data_home)
    if paths is not None:
        (X_train, y_train), (X_test, y_test) = (_read_npz(path) for path in paths)
        if n_train <= X_train.shape[0] and n_test <= X_test.shape[0]:
            X_train, y_train = _subset(X_train, y_train, n_train, rng, "n_train")
            X_test, y_test = _subset(X_test, y_test, n_test, rng, "n_test")
            return _mnist_bunch(X_train / 255.0, y_train, X_test / 255.0, y_test, "files")

    def fetch():
        from sklearn.datasets import fetch_openml

        return fetch_openml(
            "mnist_784", version=1, as_frame=False, data_home=scikit_learn_data_home
        )

    fetched = _fetch("mnist_784", fetch, download)
    if fetched is not None:
        X, y = np.asarray(fetched.data, dtype=np.float64), np.asarray(fetched.target).astype(int)
        # OpenML's mnist_784 keeps the official order: 60,000 training images, then 10,000 test.
        X_train, y_train = _subset(X[:60000], y[:60000], n_train, rng, "n_train")
        X_test, y_test = _subset(X[60000:], y[60000:], n_test, rng, "n_test")
        return _mnist_bunch(X_train / 255.0, y_train, X_test / 255.0, y_test, "openml")

    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    n_train, n_test = _fallback_sizes(
        n_train, n_test, X.shape[0], "MNIST", "digits", _failed_fetches["mnist_784"]
    )
    # Stratified when both parts can hold every class (train_test_split refuses otherwise).
    stratify = min(n_train, n_test) >= np.unique(y).shape[0]
    X_train, y_train, X_test, y_test = _split(X / 16.0, y, n_train, n_test, rng, stratify=stratify)
    return _mnist_bunch(X_train, y_train, X_test, y_test, "digits")


def _mnist_bunch(X_train, y_train, X_test, y_test, source):
    return Bunch(
        X_train=np.ascontiguousarray(X_train, dtype=np.float64),
        y_train=np.asarray(y_train).astype(int),
        X_test=np.ascontiguousarray(X_test, dtype=np.float64),
        y_test=np.asarray(y_test).astype(int),
        source=source,
    )


def load_california(
    n_train=12000,
    n_test=3000,
    *,
    data_home=None,
    download=True,
    scikit_learn_data_home=None,
    random_state=0,
):
    """California housing (median house value, 100k USD), from sample file, download or offline.

    Parameters
    ----------
    n_train, n_test : int, default=12000 and 3000
        Numbers of disjoint training and test rows, drawn at random.
    data_home : str, path or None, default=None
        Folder of ``california_housing_15k.npz``; ``$SKINTERP_DATA`` when None.
    download : bool, default=True
        Whether :func:`sklearn.datasets.fetch_california_housing` may be called.
    scikit_learn_data_home : str, path or None, default=None
        scikit-learn's cache folder, passed to the fetcher.
    random_state : int, RandomState instance or None, default=0
        Seed of the split.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        ``X_train`` (n_train, 8), ``y_train``, ``X_test``, ``y_test`` (float64), ``source``
        (``"files"``, ``"fetch"`` or ``"diabetes"``: scikit-learn's 442-row diabetes data,
        10 features, when offline, with a warning and capped sizes).

    Examples
    --------
    >>> import warnings
    >>> from skinterp.datasets import load_california
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     data = load_california(200, 100, download=False)
    >>> data.X_train.shape[0] + data.X_test.shape[0] <= 300
    True
    """
    _check_sizes(n_train, n_test)
    rng = check_random_state(random_state)
    X = y = None
    source = "files"
    paths = _sample_files(["california_housing_15k.npz"], data_home)
    if paths is not None:
        X, y = _read_npz(paths[0])
    if X is None or n_train + n_test > X.shape[0]:

        def fetch():
            from sklearn.datasets import fetch_california_housing

            return fetch_california_housing(data_home=scikit_learn_data_home)

        fetched = _fetch("california_housing", fetch, download)
        if fetched is not None:
            X, y, source = fetched.data, fetched.target, "fetch"
        else:
            from sklearn.datasets import load_diabetes

            X, y = load_diabetes(return_X_y=True)
            n_train, n_test = _fallback_sizes(
                n_train,
                n_test,
                X.shape[0],
                "California housing",
                "diabetes data",
                _failed_fetches["california_housing"],
            )
            source = "diabetes"
    if n_train + n_test > X.shape[0]:
        raise ValueError(
            f"n_train + n_test = {n_train + n_test} rows asked for, the source has {X.shape[0]}."
        )
    X_train, y_train, X_test, y_test = _split(X, y, n_train, n_test, rng, stratify=False)
    return Bunch(
        X_train=np.ascontiguousarray(X_train, dtype=np.float64),
        y_train=np.asarray(y_train, dtype=np.float64),
        X_test=np.ascontiguousarray(X_test, dtype=np.float64),
        y_test=np.asarray(y_test, dtype=np.float64),
        source=source,
    )
