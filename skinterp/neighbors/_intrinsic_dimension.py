"""Levina–Bickel maximum-likelihood estimate of the intrinsic dimension of a point cloud."""

import numpy as np
from sklearn.utils import check_random_state

from skinterp.neighbors._normalise import normalisation, normalise
from skinterp.neighbors._search import build_index, choose_algorithm, kneighbors


def intrinsic_dimension(X, *, n_neighbors=10, max_samples=1000, random_state=0, n_jobs=None):
    """Estimate the intrinsic dimension of the data ``X`` (Levina & Bickel, 2004).

    For each point x with neighbour distances ``T_1 <= ... <= T_k`` (itself excluded), the
    likelihood estimate is ``m(x) = (k - 1) / sum_{j<k} log(T_k / T_j)``; the estimate of the
    data set is the inverse of the mean of ``1 / m(x)`` (MacKay & Ghahramani's correction of the
    plain average, which is biased upwards). Points are subsampled to ``max_samples`` queries
    (against all of ``X``) to keep the cost of a large fit small.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Distinct points (duplicates give zero distances and are skipped), of any scale or
        offset (they are centred and scaled by a power of two first).
    n_neighbors : int, default=10
        Neighbours per point (``k``).
    max_samples : int, default=1000
        At most this many points are used as queries.
    random_state : int, RandomState instance or None, default=0
        Seed of the subsample.
    n_jobs : int or None, default=None
        Threads of the neighbour search (see :func:`skinterp._parallel.n_threads`); the
        estimate does not depend on it.

    Returns
    -------
    dimension : float
        The estimate, at least 1.

    References
    ----------
    E. Levina and P. J. Bickel, "Maximum likelihood estimation of intrinsic dimension", NeurIPS
    2004; D. J. C. MacKay and Z. Ghahramani, "Comments on 'Maximum likelihood estimation of
    intrinsic dimension'", 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp.neighbors import intrinsic_dimension
    >>> rng = np.random.default_rng(0)
    >>> plane = rng.uniform(size=(2000, 2)) @ rng.normal(size=(2, 30))  # a 2-D plane in 30-D
    >>> round(intrinsic_dimension(plane))
    2
    """
    X = np.asarray(X)
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    # Invariant under translation and scaling: normalised, it works at any scale or offset.
    return intrinsic_dimension_of_normalised(
        normalise(X, *normalisation(X)),
        n_neighbors=n_neighbors,
        max_samples=max_samples,
        random_state=random_state,
        n_jobs=n_jobs,
    )


def intrinsic_dimension_of_normalised(
    X, *, n_neighbors=10, max_samples=1000, random_state=0, n_jobs=None
):
    """:func:`intrinsic_dimension` of points already normalised (C-contiguous float64)."""
    n_samples = X.shape[0]
    k = min(int(n_neighbors), n_samples - 1)
    if k < 2:
        return 1.0
    rng = check_random_state(random_state)
    if n_samples > max_samples:
        queries = X[np.sort(rng.choice(n_samples, size=max_samples, replace=False))]
    else:
        queries = X
    index = build_index(X, choose_algorithm("auto", X.shape[1]))
    distances, _ = kneighbors(X, queries, k + 1, index=index, n_jobs=n_jobs)
    distances = distances[:, 1:]  # drop the query itself
    distances = distances[distances[:, 0] > 0]
    if distances.shape[0] == 0:
        return 1.0
    log_ratios = np.log(distances[:, -1:] / distances[:, :-1]).sum(axis=1) / (k - 1)
    mean_inverse = float(np.mean(log_ratios))
    if not mean_inverse > 0:
        return 1.0
    return max(1.0 / mean_inverse, 1.0)
