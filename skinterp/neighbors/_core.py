"""The core of SingularKernelNN(+Classifier): ``fit`` returns a frozen model, ``predict`` reads it.

:func:`fit_singular_kernel_nn` centres and scales the inputs by a power of two (exact), merges
duplicates (keeping their multiplicities or summed sample weights as masses), chooses ``alpha``
and builds the search index; :func:`predict_singular_kernel_nn` finds the neighbours of each
query and takes the singular-kernel weighted average (:mod:`._weights`). The estimators
(:mod:`._singular_kernel_nn`) validate, call these and copy the model's fields to attributes
of the same names.
"""

from dataclasses import dataclass

import numpy as np

from skinterp._base import relative_residual, rows_per_chunk
from skinterp._duplicates import merge_duplicate_points
from skinterp._parallel import n_threads, run_in_chunks
from skinterp._progress import progress
from skinterp.neighbors._intrinsic_dimension import intrinsic_dimension_of_normalised
from skinterp.neighbors._normalise import normalisation, normalise
from skinterp.neighbors._search import (
    KD_TREE_QUERY_BLOCK,
    QUERY_BLOCK,
    build_index,
    choose_algorithm,
    kneighbors,
    query_rows_for_work,
)
from skinterp.neighbors._weights import LOG, POWER, mass_weighted_average

# Queries farther than this from the training data, in units of its extent, would overflow the
# squared distances (about 2**1023): refused with a clear error rather than answered with NaN.
MAX_QUERY_EXTENT = 2.0**500


def auto_alpha(dimension):
    """The default exponent for an intrinsic dimension estimate: ``dimension / 2``.

    Theory (Belkin, Rakhlin & Tsybakov, 2019) asks for ``alpha < d / 2`` with the variance growing
    as ``d / (d - 2 alpha)``, where ``d`` is the intrinsic dimension of the data. The ambient
    dimension would be far too large on image data (alpha = 392 on MNIST turns the estimator into
    1-NN). See the class Notes for the measurements behind the rule.
    """
    return dimension / 2.0


@dataclass(frozen=True)
class SingularKernelNNModel:
    """What :func:`fit_singular_kernel_nn` returns; the estimators copy every field to the
    attribute of the same name with a trailing underscore (documented there)."""

    points: np.ndarray
    masses: np.ndarray
    targets: np.ndarray
    centre: np.ndarray
    exponent: int
    index: object
    algorithm: str
    alpha: float
    weight: str
    n_neighbors: int
    all_points: bool
    intrinsic_dimension: object
    n_samples_fit: int
    n_points_fit: int
    train_residual: float


def check_n_neighbors(n_neighbors, weight, total_mass, n_rows, n_distinct):
    """``n_neighbors`` against the training rows: ``k`` rows (``k + 1`` for the log weight)."""
    if n_neighbors is None:
        if weight == "log":
            raise ValueError(
                "n_neighbors=None (all points) needs weight='power': the log weight is "
                "scaled by the distance to the (n_neighbors + 1)-th neighbour."
            )
        return
    k = n_neighbors
    too_many = k >= total_mass if weight == "log" else k > total_mass
    if too_many:
        relation = "<" if weight == "log" else "<="
        weighted = n_rows != total_mass
        total = f"the total sample weight {total_mass:g}" if weighted else f"{n_rows}"
        raise ValueError(
            f"Expected n_neighbors {relation} n_samples_fit, but n_neighbors = {k}, "
            f"n_samples_fit = {total} ({n_distinct} distinct points); duplicate rows and "
            "sample weights count as the rows they stand for."
            + (
                " Scale the sample weights up (e.g. to a mean of 1) or lower n_neighbors."
                if weighted
                else ""
            )
        )


def fit_singular_kernel_nn(
    X,
    Y,
    sample_weight=None,
    *,
    n_neighbors=10,
    alpha="auto",
    weight="power",
    algorithm="auto",
    check_count=True,
    n_jobs=None,
    verbose=0,
    name="SingularKernelNN",
):
    """Fit the singular-kernel average of ``Y`` (``n x outputs``) at ``X``; returns a
    :class:`SingularKernelNNModel`. ``check_count=False`` skips the check of ``n_neighbors``
    against the rows (one class: every query gets it). Parameters as the estimators'."""
    steps = progress(
        ["merge duplicates", "intrinsic dimension", "search index"], f"{name}.fit", verbose=verbose
    )
    next(steps)
    # Centred and scaled first, into float64 (where the exactness lives): the merge's canonical
    # order, which breaks distance ties, then depends on the normalised points only, so
    # ties too are broken the same way after a translation or scaling of the data.
    centre, exponent = normalisation(X)
    merged = merge_duplicate_points(normalise(X, centre, exponent), Y, sample_weight)
    points = merged.points
    masses = merged.weights  # multiplicities, or the summed sample weights
    total_mass = float(masses.sum())
    if check_count or (n_neighbors is None and weight == "log"):
        check_n_neighbors(n_neighbors, weight, total_mass, X.shape[0], masses.shape[0])
    # At a training row the prediction is its point's (weighted) mean target: only merged
    # duplicates with different targets leave a residual.
    residual = relative_residual(merged.targets[merged.inverse], Y)
    next(steps, None)
    if alpha == "auto":
        dimension = intrinsic_dimension_of_normalised(points, n_jobs=n_jobs)
        alpha = auto_alpha(dimension)
    else:
        dimension, alpha = None, float(alpha)
    next(steps, None)
    all_points = n_neighbors is None
    # The Hilbert-kernel case (all points) needs every distance: brute force.
    algorithm = choose_algorithm("brute" if all_points else algorithm, points.shape[1])
    index = build_index(points, algorithm)
    next(steps, None)
    return SingularKernelNNModel(
        points=points,
        masses=masses,
        targets=merged.targets,
        centre=centre,
        exponent=exponent,
        index=index,
        algorithm=algorithm,
        alpha=alpha,
        weight=weight,
        n_neighbors=int(X.shape[0]) if all_points else int(n_neighbors),
        all_points=all_points,
        intrinsic_dimension=dimension,
        n_samples_fit=int(X.shape[0]),
        n_points_fit=int(points.shape[0]),
        train_residual=residual,
    )


def normalised_queries(model, X):
    """``X`` centred and scaled as the training points; ``ValueError`` for rows so far away that
    their squared distances would overflow."""
    queries = normalise(X, model.centre, model.exponent)
    too_far = ~(np.abs(queries) <= MAX_QUERY_EXTENT).all(axis=1)
    if too_far.any():
        raise ValueError(
            f"{int(too_far.sum())} query rows (the first is row {int(np.argmax(too_far))}) "
            "lie more than 2**500 times the extent of the training data away from it: "
            "their squared distances overflow float64, so their neighbours are undefined."
        )
    return queries


def query_rows_per_chunk(model, n_jobs):
    """Rows of queries per step of predict: within ``working_memory`` and ~0.1 s of work."""
    n_points, n_features = model.points.shape
    n_outputs = model.targets.shape[1]
    if model.all_points:
        bytes_per_row = n_points * 24 + n_outputs * 16
        work_rows = query_rows_for_work(n_points, n_features)
    else:
        bytes_per_row = (model.n_neighbors + 1) * 64 + n_outputs * 16
        if model.algorithm == "kd_tree":
            work_rows = KD_TREE_QUERY_BLOCK
        else:
            # A full block of queries per thread of the search (its blocks are short when
            # threaded; a serial search stops between point tiles).
            work_rows = QUERY_BLOCK * n_threads(n_jobs)
    return rows_per_chunk(bytes_per_row, None, max_rows=work_rows)


def average(model, queries, out, *, n_jobs=None, search=None):
    """The prediction at normalised ``queries`` (:func:`normalised_queries`) into ``out``.

    ``search(queries, n)`` returns the sorted distances and indices (into ``model.points``) of
    the ``n`` nearest points of each query: the model's index by default; the sharded search
    of :mod:`skinterp.distributed` can stand in for it.
    """
    points, masses, targets = model.points, model.masses, model.targets
    weight_kind = LOG if model.weight == "log" else POWER
    n_points = points.shape[0]
    if model.all_points:
        n_search = n_points
    else:
        # Points of mass >= 1 cover k rows with k of them (k + 1: the log weight's scale);
        # rows that need more (fractional sample weights) are searched again below.
        n_search = min(model.n_neighbors + (weight_kind == LOG), n_points)
    rows = np.arange(queries.shape[0])
    while rows.size:
        if search is None:
            distances, indices = kneighbors(
                points,
                queries[rows],
                n_search,
                index=model.index,
                n_jobs=n_jobs,
                sort=not model.all_points,
            )
        else:
            distances, indices = search(queries[rows], n_search)
        found = np.empty((rows.size, targets.shape[1]), dtype=np.float64)
        complete = np.empty(rows.size, dtype=np.bool_)
        mass_weighted_average(
            distances,
            indices,
            masses,
            targets,
            float(model.n_neighbors),
            model.alpha,
            weight_kind,
            model.all_points,
            found,
            complete,
        )
        out[rows[complete]] = found[complete]
        rows = rows[~complete]
        n_search = min(2 * n_search, n_points)


def predict_singular_kernel_nn(
    model, X, *, n_jobs=None, verbose=0, search=None, chunk_rows=None, name="SingularKernelNN"
):
    """float64 predictions (or class scores), ``(n_queries, outputs)``, of the validated ``X``,
    by chunks of ``chunk_rows`` queries (None: :func:`query_rows_per_chunk`)."""
    out = np.empty((X.shape[0], model.targets.shape[1]), dtype=np.float64)

    def predict_chunk(start, stop):
        queries = normalised_queries(model, X[start:stop])
        average(model, queries, out[start:stop], n_jobs=n_jobs, search=search)

    # Serial steps (the search inside each uses the n_jobs threads): Ctrl-C and progress
    # lines between them.
    run_in_chunks(
        predict_chunk,
        X.shape[0],
        chunk_rows or query_rows_per_chunk(model, n_jobs),
        1,
        verbose=verbose,
        description=f"{name}.predict",
    )
    return out
