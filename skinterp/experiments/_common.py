"""Helpers the experiments share: data arguments, argument checks, bandwidths, power-law fits."""

from numbers import Integral, Real

import numpy as np

from skinterp.datasets import load_mnist

#: Number of pixels of an MNIST image; bandwidths chosen for MNIST are carried over from it.
MNIST_FEATURES = 784


def log_log_slope(x, y):
    """Least-squares slope of ``log y`` against ``log x`` (the exponent of a power law).

    Points where ``x`` or ``y`` is not positive are left out; NaN when fewer than two remain.

    Examples
    --------
    >>> from skinterp.experiments._common import log_log_slope
    >>> round(log_log_slope([1, 10, 100], [1.0, 0.1, 0.01]), 6)
    -1.0
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = (x > 0) & (y > 0)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def mnist_or_arrays(X_train, y_train, X_test, y_test, *, n_train, n_test, data_home, random_state):
    """The four arrays given, or MNIST loaded with :func:`~skinterp.datasets.load_mnist`.

    Returns ``(X_train, y_train, X_test, y_test, source)``, ``source`` ``"arrays"`` for given
    arrays. All four arrays or none must be given.
    """
    given = [array is not None for array in (X_train, y_train, X_test, y_test)]
    if any(given) and not all(given):
        raise ValueError("Pass all of X_train, y_train, X_test and y_test, or none of them.")
    if all(given):
        X_train, X_test = (np.ascontiguousarray(X, dtype=np.float64) for X in (X_train, X_test))
        y_train, y_test = np.asarray(y_train), np.asarray(y_test)
        if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1]:
            raise ValueError(
                f"X_train and X_test must be 2-D with the same number of features, got shapes "
                f"{X_train.shape} and {X_test.shape}."
            )
        if y_train.shape != (X_train.shape[0],) or y_test.shape != (X_test.shape[0],):
            raise ValueError("y_train and y_test must hold one label per row of X_train, X_test.")
        return X_train, y_train, X_test, y_test, "arrays"
    data = load_mnist(n_train, n_test, data_home=data_home, random_state=random_state)
    return data.X_train, data.y_train, data.X_test, data.y_test, data.source


def scaled_bandwidth(mnist_value, n_features):
    """A bandwidth chosen for MNIST (784 features in [0, 1]) carried over to ``n_features``.

    Distances between images in [0, 1] grow like the square root of the number of pixels, so
    the bandwidth is scaled by ``sqrt(n_features / 784)`` (a no-op on MNIST; 0.29 on the 8 x 8
    digits of the offline fallback).
    """
    return float(mnist_value * np.sqrt(n_features / MNIST_FEATURES))


def check_positive_int(value, name, minimum=1):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_positive(value, name):
    if not isinstance(value, Real) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}.")
    return float(value)
