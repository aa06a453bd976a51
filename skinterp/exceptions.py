"""The warnings skinterp's estimators emit, for users who filter or catch them.

Both say that a fit did not deliver the interpolation the class promises, and why; the fitted
``train_residual_`` and ``interpolates_`` hold the measured result.

Examples
--------
>>> import warnings
>>> from skinterp.exceptions import InterpolationWarning
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", InterpolationWarning)  # silences both classes
"""

__all__ = ["InterpolationWarning", "InterpolationThresholdWarning"]


class InterpolationWarning(UserWarning):
    """A fit that does not interpolate its training targets to working precision.

    Emitted, for instance, when a kernel matrix is numerically singular (a bandwidth much larger
    than the spread of the data, near-duplicate points), when an iterative solve or a cut-off
    left a training residual, or when near-duplicate points were merged; the message names the
    parameter to change. ``train_residual_`` holds the measured training residual.
    """


class InterpolationThresholdWarning(InterpolationWarning):
    """A random-feature fit with ``n_components`` near the number of samples ``n``.

    At the interpolation threshold ``N = n`` the feature matrix is square and ill-conditioned:
    the minimum-norm solution has a huge norm and a test error that can be orders of magnitude
    above that of ``N`` far from ``n`` (the peak of double descent), and it depends on
    ``cutoff``. The message says how many singular directions the cut-off dropped.
    """
