"""The one data-aware bandwidth rule of the package: ``bandwidth="auto"``.

Every estimator with a bandwidth (kernel machines, random features) resolves ``"auto"`` here
and stores the value as the fitted ``bandwidth_``.
"""

import numpy as np

# Points whose pairwise distances estimate the median: enough for two digits, O(s^2 d) work.
AUTO_SUBSAMPLE = 1000


def median_distance(X, *, subsample=AUTO_SUBSAMPLE):
    """The median Euclidean distance between distinct rows of a fixed subsample of ``X``.

    The subsample is drawn with a fixed seed, so the rule is a deterministic function of the
    data. Distances are computed on ``X`` divided by its largest magnitude (no overflow at
    1e300, no underflow at 1e-300) and scaled back. Returns 0.0 when all rows are equal.
    """
    X = np.asarray(X)
    n = X.shape[0]
    if n < 2:
        return 0.0
    rows = X
    if n > subsample:
        rows = X[np.sort(np.random.RandomState(0).choice(n, subsample, replace=False))]
    magnitude = float(np.max(np.abs(rows)))
    if not (np.isfinite(magnitude) and magnitude > 0.0):
        return 0.0
    unit = np.asarray(rows, dtype=np.float64) / magnitude
    unit = unit - unit.mean(axis=0)
    sq = np.einsum("ij,ij->i", unit, unit)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (unit @ unit.T)
    upper = d2[np.triu_indices(unit.shape[0], k=1)]
    distance = float(np.sqrt(max(np.median(np.maximum(upper, 0.0)), 0.0)))
    return distance * magnitude


def auto_bandwidth(X):
    """The default bandwidth for data ``X``: the median pairwise distance (1.0 for constant X).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).normal(size=(500, 10))
    >>> round(auto_bandwidth(X), 1)  # about sqrt(2 * 10) for standard normal data
    4.3
    >>> bool(np.isclose(auto_bandwidth(1e6 * X), 1e6 * auto_bandwidth(X)))
    True
    """
    distance = median_distance(X)
    return distance if distance > 0.0 else 1.0
