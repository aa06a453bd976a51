"""Centring and scaling by a power of two: the neighbour methods' exact affine normalisation.

The neighbours of a query and the ratios of their distances do not change when all inputs are
translated or scaled, so the estimators work on normalised copies that lie in [-1, 1]: squared
distances can then neither overflow nor underflow, and float32 scores of the brute-force search
stay well conditioned, whatever the scale or offset of the data.
"""

import numpy as np

# Rows normalised per step (a Python loop, so that Ctrl-C is seen between steps).
NORMALISE_ROWS = 65536


def normalisation(X):
    """``(centre, exponent)`` such that ``ldexp(X - centre, -exponent)`` lies in [-1, 1].

    The centre is, per feature, the midrange ``min / 2 + max / 2``: it cannot overflow, even for
    data spanning the whole float64 range, and it lies on the grid of half the data's own steps,
    so subtracting it is exact for points on a common grid (and never worse than the rounding of
    the inputs themselves). The scale is a power of two, so scaling is exact. Both commute with
    translating and scaling the data: the normalised points do not change when those are exact.
    Costs two passes over ``X`` and no copy of it.
    """
    low = X.min(axis=0).astype(np.float64)
    high = X.max(axis=0).astype(np.float64)
    centre = low / 2 + high / 2
    extent = float(np.max(np.maximum(high - centre, centre - low), initial=0.0))
    exponent = int(np.frexp(extent)[1]) if extent > 0 else 0
    return centre, exponent


def normalise(X, centre, exponent, out=None):
    """``ldexp(X - centre, -exponent)`` in float64, row block by row block (Ctrl-C between)."""
    if out is None:
        out = np.empty(X.shape, dtype=np.float64)
    for start in range(0, X.shape[0], NORMALISE_ROWS):
        block = slice(start, min(start + NORMALISE_ROWS, X.shape[0]))
        np.subtract(X[block], centre, out=out[block], dtype=np.float64)
        np.ldexp(out[block], -exponent, out=out[block])
    return out
