"""The polynomial tail of an RBF interpolant: monomials, their scaled basis and checks.

An interpolant with a tail of degree ``p`` is ``f(x) = sum_i a_i k(x, x_i) + sum_j b_j m_j(x)``
over the ``Q = C(p + d, d)`` monomials ``m_j`` of degree at most ``p`` in ``d`` variables, with
the side conditions ``P^T a = 0`` (``P_ij = m_j(x_i)``). A kernel conditionally positive
definite of order ``p + 1`` is positive definite on those ``a``, so the system is uniquely
solvable when ``P`` has full column rank.

The monomials are evaluated on inputs shifted to the centre of the training bounding box and
scaled by its half-widths (a coordinate without spread keeps scale 1), so that they lie in
``[-1, 1]``: raw powers of coordinates of size 1e3 would make ``P`` hopelessly ill conditioned.
This is also what scipy's ``RBFInterpolator`` does, so the coefficients ``b`` are comparable.
"""

from itertools import combinations_with_replacement
from math import comb

import numpy as np


def monomial_powers(n_features, degree):
    """Exponents of the monomials of degree at most ``degree``: ``(Q, n_features)`` int array.

    Ordered by total degree, then lexicographically by the variables involved (1, x0, x1, ...,
    x0**2, x0 x1, ...). ``degree = -1`` gives no monomial.
    """
    n_monomials = comb(degree + n_features, n_features) if degree >= 0 else 0
    powers = np.zeros((n_monomials, n_features), dtype=np.int64)
    row = 0
    for total in range(degree + 1):
        for variables in combinations_with_replacement(range(n_features), total):
            for variable in variables:
                powers[row, variable] += 1
            row += 1
    return powers


def n_monomials(n_features, degree):
    """``Q``, the number of monomials of degree at most ``degree`` in ``n_features`` variables."""
    return comb(degree + n_features, n_features) if degree >= 0 else 0


class PolynomialBasis:
    """The scaled monomial basis of a tail, fixed by the training inputs.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Training inputs: they fix the shift (centre of the bounding box) and scale
        (half-widths, 1 where a coordinate has no spread).
    degree : int
        Degree of the tail (-1: no tail).
    """

    def __init__(self, X, degree):
        self.degree = int(degree)
        self.powers = monomial_powers(X.shape[1], self.degree)
        if X.shape[0]:
            low = X.min(axis=0).astype(np.float64)
            high = X.max(axis=0).astype(np.float64)
        else:
            low = high = np.zeros(X.shape[1])
        self.shift = (high + low) / 2
        scale = (high - low) / 2
        self.scale = np.where(scale == 0, 1.0, scale)

    @property
    def size(self):
        return self.powers.shape[0]

    def matrix(self, X, dtype=np.float64):
        """``P[i, j] = m_j((X[i] - shift) / scale)``: ``(len(X), Q)`` in ``dtype``."""
        return evaluate_monomials(X, self.powers, self.shift, self.scale, dtype)


def evaluate_monomials(X, powers, shift, scale, dtype=np.float64):
    """The monomials of exponents ``powers`` at the scaled inputs ``(X - shift) / scale``."""
    X_hat = (np.asarray(X, dtype=np.float64) - shift) / scale
    P = np.ones((X_hat.shape[0], powers.shape[0]), dtype=np.float64)
    for j, exponents in enumerate(powers):
        for variable in np.flatnonzero(exponents):
            P[:, j] *= X_hat[:, variable] ** exponents[variable]
    return P.astype(dtype, copy=False)


def check_tail_size(n_points, n_features, degree):
    """``ValueError`` when there are fewer points than monomials in the tail (``P`` cannot have
    full column rank)."""
    needed = n_monomials(n_features, degree)
    if needed > n_points:
        raise ValueError(
            f"A polynomial tail of degree {degree} in {n_features} dimensions has {needed} "
            f"monomials and needs at least {needed} distinct data points; got {n_points}. "
            "Lower `degree` (-1: no tail) or add points."
        )


def orthonormal_tail(P):
    """``Q1, R`` with ``P = Q1 R`` (reduced QR, float64); ``numpy.linalg.LinAlgError`` when
    ``P`` is rank deficient (the points lie on a set where a monomial combination vanishes,
    e.g. on a line for a degree-1 tail in 2-D)."""
    Q1, R = np.linalg.qr(np.asarray(P, dtype=np.float64))
    diagonal = np.abs(np.diagonal(R))
    if diagonal.size:
        cutoff = max(P.shape) * np.finfo(np.float64).eps * diagonal.max()
        rank = int(np.count_nonzero(diagonal > max(cutoff, 1e-10 * diagonal.max())))
        if rank < P.shape[1] or not np.all(np.isfinite(diagonal)):
            rank = int(np.linalg.matrix_rank(P))
            raise np.linalg.LinAlgError(
                "Singular system: the matrix of monomials evaluated at the data points does "
                f"not have full column rank ({rank}/{P.shape[1]}); the points lie on a set "
                "where a polynomial of the tail's degree vanishes (e.g. on a line for "
                "degree 1 in 2-D). Lower `degree` or use points in general position."
            )
    return Q1, R
