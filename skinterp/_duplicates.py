"""The one duplicate merger: exact duplicate training points merged in O(n d) time and memory.

Every estimator that merges duplicates (neighbours, simplicial) calls
:func:`merge_duplicate_points`; the merged points keep their multiplicity (``counts``), so that
methods whose maths counts points (k nearest neighbours, sample weights) can count them.
"""

from typing import NamedTuple

import numba
import numpy as np

from skinterp._numba import NUMBA_CACHE


@numba.njit(cache=NUMBA_CACHE, nogil=True)
def row_hashes(words):
    """A 64-bit FNV-1a style hash of each row of ``words`` (the rows' bytes as unsigned ints)."""
    n_rows, n_words = words.shape
    hashes = np.empty(n_rows, dtype=np.uint64)
    prime = np.uint64(0x100000001B3)
    for row in range(n_rows):
        h = np.uint64(0xCBF29CE484222325)
        for j in range(n_words):
            h = (h ^ np.uint64(words[row, j])) * prime
        hashes[row] = h
    return hashes


class MergedPoints(NamedTuple):
    """Distinct training points, their averaged targets and multiplicities."""

    points: np.ndarray
    """``(n_distinct, n_features)``, C-contiguous, in the dtype of ``X``, canonical order."""
    targets: np.ndarray
    """``(n_distinct, n_outputs)`` float64: the (weighted) mean target of each point."""
    counts: np.ndarray
    """``(n_distinct,)`` int64: how many rows of ``X`` each point stands for."""
    weights: np.ndarray
    """``(n_distinct,)`` float64: the summed sample weights of those rows (``counts`` when
    no weights were given)."""
    inverse: np.ndarray
    """``(n_samples,)`` int64: the distinct point of each row of ``X``
    (``points[inverse] == X``)."""


def merge_duplicate_points(X, Y, sample_weight=None):
    """Merge exact duplicate rows of ``X``, averaging their targets ``Y`` (2-D).

    Rows are hashed, sorted by hash, and rows of equal hash compared exactly, so the cost is
    O(n d) with no copy beyond the output (``np.unique(X, axis=0)`` sorts full rows: 25x slower
    at 50,000 x 784). The canonical order depends only on the set of rows, never on their order
    in ``X``: sorted by hash, then lexicographically among equal hashes. ``-0.0`` and ``0.0``
    are distinct bit patterns but the same point: they are unified before hashing.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64 or float32
    Y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None
        Positive weights; a merged point's target is the weighted mean of its rows' targets.

    Returns
    -------
    MergedPoints
        ``(points, targets, counts, weights, inverse)``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    >>> merged = merge_duplicate_points(X, np.array([[1.0], [2.0], [5.0]]))
    >>> sorted(merged.counts.tolist()), sorted(merged.targets[:, 0].tolist())
    ([1, 2], [1.5, 5.0])
    >>> bool(np.array_equal(merged.points[merged.inverse], X))
    True
    """
    n_samples = X.shape[0]
    X = X + X.dtype.type(0.0)  # -0.0 + 0.0 is +0.0: one bit pattern for the point zero
    words = X.view(np.uint64 if X.itemsize == 8 else np.uint32)
    hashes = row_hashes(words)
    order = np.argsort(hashes, kind="stable")
    sorted_hashes = hashes[order]
    starts = np.flatnonzero(np.r_[True, sorted_hashes[1:] != sorted_hashes[:-1]])
    sizes = np.diff(np.r_[starts, n_samples])
    Y = np.asarray(Y, dtype=np.float64)
    weights = (
        np.ones(n_samples)
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    inverse = np.empty(n_samples, dtype=np.int64)
    if np.all(sizes == 1):
        inverse[order] = np.arange(n_samples)
        return MergedPoints(
            np.ascontiguousarray(X[order]),
            Y[order],
            np.ones(n_samples, dtype=np.int64),
            weights[order],
            inverse,
        )
    points, targets, counts, summed_weights = [], [], [], []
    n_done = 0
    for start, size in zip(starts, sizes):
        members = order[start : start + size]
        if size == 1:
            points.append(X[members])
            targets.append(Y[members])
            counts.append(np.ones(1, dtype=np.int64))
            summed_weights.append(weights[members])
            inverse[members] = n_done
            n_done += 1
            continue
        # Equal hashes: the exact distinct rows (lexicographic), their targets averaged.
        distinct, member_inverse, member_counts = np.unique(
            X[members], axis=0, return_inverse=True, return_counts=True
        )
        member_inverse = member_inverse.reshape(-1)
        group_weights = np.bincount(
            member_inverse, weights=weights[members], minlength=distinct.shape[0]
        )
        summed = np.zeros((distinct.shape[0], Y.shape[1]))
        np.add.at(summed, member_inverse, Y[members] * weights[members, None])
        points.append(distinct)
        targets.append(summed / group_weights[:, None])
        counts.append(member_counts.astype(np.int64))
        summed_weights.append(group_weights)
        inverse[members] = n_done + member_inverse
        n_done += distinct.shape[0]
    return MergedPoints(
        np.ascontiguousarray(np.concatenate(points)),
        np.concatenate(targets),
        np.concatenate(counts),
        np.concatenate(summed_weights),
        inverse,
    )
