"""Minimum-norm random features above the threshold, the Gram matrix summed over workers.

The dual system ``(C C^T) a = Y`` of :func:`skinterp.random_features._min_norm.fit_min_norm`
(``C`` the ``n x N`` unscaled features, ``N >= n``) is a sum over the columns of ``C``:
``C C^T = sum_k c_k c_k^T``. The columns are split into one contiguous range per worker; each
worker draws the same weights from the seed (:func:`draw_weights`; the ``n x N`` matrix is
never shipped, only ``X`` and the seed), generates its range's feature blocks
(:func:`unscaled_features`) and returns its partial ``C C^T`` (and ``C_test C^T`` for test
points). The partial sums are added on the workers, pairwise; the client solves with the package's
min-norm solve (:func:`min_norm_solve`, the same cut-off) and sends ``a`` back; each worker
returns its rows of ``coef = C^T a`` (regenerating its blocks: ``n N d`` flops, ``d / n`` of
the Gram's).

Per fit, the network carries ``X`` to every worker, one ``n x n`` float64 partial Gram per
worker (plus ``n_test x n``), ``a`` to every worker and ``N x n_outputs`` coefficients back.
"""

import copy
import sys
import threading
from collections import OrderedDict
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from skinterp._base import (
    as_2d_targets,
    check_class_labels,
    check_finite_targets,
    check_memory,
    relative_residual,
    restored_on_error,
    validate_features,
)
from skinterp.random_features._features import (
    FEATURE_KINDS,
    FLOPS_PER_CALL,
    draw_weights,
    feature_scale,
    nonzero_inputs,
    resolve_bandwidth,
    unscaled_features,
)
from skinterp.random_features._min_norm import (
    DEFAULT_CUTOFF,
    MinNormSolution,
    column_block_size,
    min_norm_solve,
    rff_model,
)

from ._client import (
    DEFAULT_TIMEOUT,
    active_client,
    configure_workers,
    ctrl_c_remembered,
    result_of,
)

_weights_cache = OrderedDict()  # on a worker: token of the draw -> (weights, offsets)
_weights_lock = threading.Lock()


def _worker_weights(kind, n_features, n_components, bandwidth, random_state, token):
    """The weights of the fit, drawn once per worker process from the seed."""
    with _weights_lock:
        if token in _weights_cache:
            return _weights_cache[token]
        drawn = draw_weights(
            kind, n_features, n_components, bandwidth, copy.deepcopy(random_state)
        )
        _weights_cache[token] = drawn
        while len(_weights_cache) > 2:
            _weights_cache.popitem(last=False)
        return drawn


def _column_pieces(n_components, n_pieces):
    """``n_pieces`` contiguous column ranges ``(start, stop)`` covering ``range(N)``."""
    edges = np.linspace(0, n_components, n_pieces + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _partial_gram(X, X_test, draw, start, stop, block, out=None):
    """``sum C_k C_k^T`` (and ``C_test,k C_k^T``) over the feature blocks ``start:stop``,
    added to ``out`` when given."""
    weights, offsets = _worker_weights(*draw)
    kind = draw[0]
    train, train_inputs = nonzero_inputs(X)
    if out is None:
        gram = np.zeros((X.shape[0], X.shape[0]))
        cross = None if X_test is None else np.zeros((X_test.shape[0], X.shape[0]))
    else:
        gram, cross = out
    for first in range(start, stop, block):
        last = min(first + block, stop)
        features = unscaled_features(
            train, weights, offsets, kind, first, last, inputs=train_inputs, n_jobs=1
        )
        gram += features @ features.T
        if X_test is not None:
            test_features = unscaled_features(
                X_test, weights, offsets, kind, first, last, n_jobs=1
            )
            cross += test_features @ features.T
    return gram, cross


def _accumulated_gram(previous, X, X_test, draw, start, stop, block):
    """``previous`` (a pair from the same chain, or None) plus the sums over ``start:stop``.

    ``previous`` is added to in place: in a chain it is the input of this task only (a task
    runs once; if its worker dies, the chain is recomputed from its start), and copying an
    ``n x n`` matrix per task would cost a fifth of the task's time at ``n = 5000``.
    """
    if previous is None:
        return _partial_gram(X, X_test, draw, start, stop, block)
    gram, cross = previous
    _partial_gram(X, X_test, draw, start, stop, block, out=(gram, cross))
    return gram, cross


TASK_FLOPS = 4 * FLOPS_PER_CALL
"""Multiply-adds per Gram or projection task (about 1-2 s on one core)."""


def task_columns(multiply_adds_per_column):
    """Feature columns per task: about :data:`TASK_FLOPS` multiply-adds (1-2 s).

    A Gram task costs ``n (n + n_test) + (n + n_test) d`` per column, a projection task
    ``n (d + c)``. A cancelled fit (Ctrl-C) leaves at most one such task running on each
    worker (a task that has started cannot be stopped): short tasks keep the cluster free for
    the next call.
    """
    return int(max(1, TASK_FLOPS // max(multiply_adds_per_column, 1)))


def _add(left, right):
    gram = left[0] + right[0]
    cross = None if left[1] is None else left[1] + right[1]
    return gram, cross


def _projection(X, dual, draw, start, stop, block):
    """Rows ``start:stop`` of ``C^T a``."""
    weights, offsets = _worker_weights(*draw)
    train, inputs = nonzero_inputs(X)
    out = np.empty((stop - start, dual.shape[1]))
    for first in range(start, stop, block):
        last = min(first + block, stop)
        features = unscaled_features(
            train, weights, offsets, draw[0], first, last, inputs=inputs, n_jobs=1
        )
        np.matmul(features.T, dual, out=out[first - start : last - start])
    return out


def _token(draw):
    """A key for the weights of ``draw``: everything they depend on, the seed's state too."""
    from dask.base import tokenize

    kind, n_features, n_components, bandwidth, state = draw
    seed = state.get_state() if hasattr(state, "get_state") else state
    return tokenize(kind, n_features, n_components, bandwidth, seed)


def _summed_gram(client, workers, X_future, X_test_future, draw, pieces, block, columns):
    """The future of ``(C C^T, C_test C^T)`` over the column ``pieces``, summed on the workers.

    Each piece (one per worker) is a chain of short tasks of ``columns`` feature columns, each
    adding its columns to the previous task's sums on the same worker (no transfer, one pair
    of matrices alive per chain); then pairwise sums, so that the client receives a single
    pair of matrices. Short tasks: a cancelled call leaves at most one running per worker.
    """
    partials = []
    for i, (start, stop) in enumerate(pieces):
        chain = None
        for first in range(start, stop, columns):
            chain = client.submit(
                _accumulated_gram,
                chain,
                X_future,
                X_test_future,
                draw,
                first,
                min(first + columns, stop),
                block,
                workers=[workers[i % len(workers)]],
                allow_other_workers=True,
                pure=False,
            )
        partials.append(chain)
    while len(partials) > 1:
        pairs = [
            client.submit(_add, a, b, pure=False) for a, b in zip(partials[0::2], partials[1::2])
        ]
        partials = pairs + ([partials[-1]] if len(partials) % 2 else [])
    return partials[0]


def fit_min_norm(
    X,
    Y,
    kind,
    n_components,
    bandwidth,
    random_state,
    *,
    cutoff=DEFAULT_CUTOFF,
    X_test=None,
    memory_limit=None,
    client=None,
    timeout=DEFAULT_TIMEOUT,
    verbose=0,
):
    """Minimum-norm interpolation on ``N >= n`` random features, the Gram summed by workers.

    The distributed twin of the dual solver of
    :func:`skinterp.random_features._min_norm.fit_min_norm`: same weights (drawn from
    ``random_state`` on every worker), same solve, the float64 Gram matrix (the local solver may
    take its float32 Gram with iterative refinement: both reach a relative residual ~1e-12).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Training inputs (sent to every worker).
    Y : ndarray of shape (n, n_outputs)
        Targets.
    kind : {"fourier", "relu"}
        The features.
    n_components : int
        ``N``, at least ``n``.
    bandwidth : float
        The resolved bandwidth.
    random_state : int or RandomState
        The seed, in the state :func:`draw_weights` receives it (a copy is sent).
    cutoff : float
        Relative cut-off on the singular values.
    X_test : ndarray of shape (n_test, d) or None
        Also return ``C_test C^T a``, the predictions at ``X_test``.
    memory_limit : float or None
        Budget in MiB of each worker's feature blocks and of the client's solve.
    client : distributed.Client or None
        The client (``None``: the active one).
    timeout : float
        Seconds to wait for the workers' Gram matrices.
    verbose : int
        Print the stages when > 0.

    Returns
    -------
    solution : MinNormSolution
        As the local solver's (``solver="dual"``): ``residual`` is the max-norm relative
        training residual, ``n_cut`` the singular directions the cut-off dropped.
    test_predictions : ndarray of shape (n_test, n_outputs) or None

    Examples
    --------
    >>> from skinterp.distributed import fit_min_norm
    >>> solution, _ = fit_min_norm(X, Y, "fourier", 20000, 1.0, 0)  # doctest: +SKIP
    """
    if kind not in FEATURE_KINDS:
        raise ValueError(f"features must be one of {FEATURE_KINDS}, got {kind!r}.")
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    n_samples = X.shape[0]
    if n_components < n_samples:
        raise ValueError(
            f"The distributed solver sums the dual Gram matrix: it needs n_components >= "
            f"n_samples, got {n_components} < {n_samples}. Fit below the threshold locally."
        )
    check_memory(
        3 * 8 * n_samples**2,
        memory_limit,
        what="The n_samples x n_samples Gram matrix of the dual solver (and its eigenvectors)",
        advice="Fit on fewer samples or raise memory_limit.",
    )
    client = active_client(client)
    configure_workers(client)
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise ValueError("The dask cluster has no workers.")
    n_test = 0 if X_test is None else X_test.shape[0]
    block = column_block_size(n_samples + n_test, memory_limit)
    state = (
        copy.deepcopy(random_state)
        if not isinstance(random_state, (int, np.integer))
        else int(random_state)
    )
    draw = (kind, X.shape[1], int(n_components), float(bandwidth), state)
    draw = draw + (_token(draw),)
    # A Ctrl-C lost in a __del__ or gc callback still stops the waits (_client).
    with ctrl_c_remembered():
        submitted = []  # every future of the fit: cancelled on Ctrl-C or an error
        try:
            X_future = client.scatter(X, broadcast=True, hash=False)
            submitted.append(X_future)
            X_test_future = None
            if X_test is not None:
                X_test_future = client.scatter(
                    np.ascontiguousarray(X_test, dtype=np.float64), broadcast=True, hash=False
                )
                submitted.append(X_test_future)
            pieces = _column_pieces(int(n_components), len(workers))
            columns = task_columns(
                n_samples * (n_samples + n_test) + (n_samples + n_test) * X.shape[1]
            )
            summed = _summed_gram(
                client, workers, X_future, X_test_future, draw, pieces, block, columns
            )
            submitted.append(summed)
            if verbose:
                print(
                    f"[distributed RFF] n={n_samples} N={n_components} on {len(workers)} workers: "
                    f"{len(pieces)} Gram pieces",
                    file=sys.stderr,
                    flush=True,
                )
            gram, cross = result_of(summed, timeout=timeout, what="the distributed RFF Gram")
            dual, rank = min_norm_solve(gram, Y, cutoff)
            # The local dual solver's measures: the max-norm relative residual of C C^T a, and the
            # singular directions the cut-off dropped.
            residual = relative_residual(gram @ dual, Y)
            del gram
            dual_future = client.scatter(dual, broadcast=True, hash=False)
            submitted.append(dual_future)
            step = task_columns(n_samples * (X.shape[1] + Y.shape[1]))
            projections = [
                client.submit(
                    _projection,
                    X_future,
                    dual_future,
                    draw,
                    first,
                    min(first + step, stop),
                    block,
                    workers=[workers[i % len(workers)]],
                    allow_other_workers=True,
                    pure=False,
                )
                for i, (start, stop) in enumerate(pieces)
                for first in range(start, stop, step)
            ]
            submitted.extend(projections)
            coef = np.concatenate(result_of(projections, timeout=timeout, what="C^T a"))
        except BaseException:
            client.cancel(submitted, force=True)
            raise
    coef /= feature_scale(n_components)
    test_predictions = None if cross is None else cross @ dual
    solution = MinNormSolution(
        coef=coef,
        solver="dual",
        rank=rank,
        train_residual=residual,
        n_directions_cut=max(min(n_samples, int(n_components)) - rank, 0),
    )
    return solution, test_predictions


def fit_min_norm_rff(estimator, X, y, client=None, *, timeout=DEFAULT_TIMEOUT):
    """Fit a :class:`~skinterp.MinNormRFFRegressor` or ``Classifier`` with the Gram on workers.

    Validates and encodes as the estimator's ``fit`` does, draws the same weights, solves with
    :func:`fit_min_norm` (the dual solver) and sets the fitted attributes with the estimator's
    own code: ``rank_``, ``n_directions_cut_``, ``train_residual_`` (max-norm relative, as
    locally) and ``interpolates_`` equal the local fit's, and fit warns near the threshold
    (``InterpolationThresholdWarning``) as locally; the result predicts as a local fit (to
    rounding). Needs ``n_components >= n_samples`` (``solver="primal"`` is refused);
    ``sample_weight`` is not supported. Ctrl-C or an error cancels the fit's tasks and leaves
    the estimator as it was.

    Parameters
    ----------
    estimator : MinNormRFFRegressor or MinNormRFFClassifier
        Unfitted (its parameters are used); fitted in place.
    X : array-like or dask array of shape (n_samples, n_features)
    y : array-like or dask array of shape (n_samples,) or (n_samples, n_outputs)
    client : distributed.Client or None
    timeout : float
        Seconds to wait for each distributed stage.

    Returns
    -------
    estimator
        The fitted estimator.

    Examples
    --------
    >>> from skinterp import MinNormRFFRegressor
    >>> from skinterp.distributed import fit_min_norm_rff
    >>> model = fit_min_norm_rff(MinNormRFFRegressor(n_components=10**5), X, y)  # doctest: +SKIP
    """
    from sklearn.base import is_classifier

    X = np.asarray(X.compute() if hasattr(X, "compute") else X)
    y = np.asarray(y.compute() if hasattr(y, "compute") else y)
    estimator._validate_params()
    if estimator.solver == "primal":
        raise ValueError(
            "The distributed fit is the dual solver (the n x n Gram matrix summed by the "
            "workers); solver='primal' fits locally."
        )
    classifier = is_classifier(estimator)
    # Ctrl-C or an error: the estimator as it was.
    with ctrl_c_remembered(), restored_on_error(estimator):
        if classifier:
            from sklearn.utils.multiclass import check_classification_targets

            X, y = validate_features(estimator, X, y, reset=True)
            check_class_labels(y)
            check_classification_targets(y)
            classes, encoded = np.unique(y, return_inverse=True)
            Y = np.zeros((X.shape[0], classes.shape[0]))
            Y[np.arange(X.shape[0]), encoded] = 1.0
        else:
            X, y = validate_features(
                estimator, X, y, reset=True, multi_output=True, y_numeric=True
            )
            Y, single_output = as_2d_targets(check_finite_targets(y))
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        n_samples = X.shape[0]
        if estimator.n_components < n_samples:
            raise ValueError(
                f"The distributed solver sums the dual Gram matrix: it needs n_components >= "
                f"n_samples, got {estimator.n_components} < {n_samples}. Fit below the "
                "threshold locally."
            )
        # The estimator's own draw (skinterp.random_features._min_norm, _fit_targets): the
        # workers draw the same weights from a copy of the seed taken before it.
        bandwidth = resolve_bandwidth(estimator.bandwidth, X)
        rng = check_random_state(estimator.random_state)
        seed = (
            int(estimator.random_state)
            if isinstance(estimator.random_state, Integral)
            else copy.deepcopy(rng)
        )
        random_weights, random_offset = draw_weights(
            estimator.features, X.shape[1], estimator.n_components, bandwidth, rng
        )
        solution, _ = fit_min_norm(
            X,
            Y,
            estimator.features,
            estimator.n_components,
            bandwidth,
            seed,
            cutoff=estimator.cutoff,
            memory_limit=estimator.memory_limit,
            client=client,
            timeout=timeout,
            verbose=estimator.verbose,
        )
        # The local fit's attributes, set by the estimator's own code.
        estimator._set_model(
            rff_model(bandwidth, random_weights, random_offset, solution, n_samples)
        )
        estimator._drop_partial_state()
        # The warnings of the local fit: _warn_if_not_interpolating where the estimator has it
        # (main since d114b9b: the threshold warning, and an InterpolationWarning when the
        # cut-off keeps a fit above it from interpolating), else _warn_near_threshold.
        warn = getattr(estimator, "_warn_if_not_interpolating", None)
        (warn or estimator._warn_near_threshold)(n_samples)
        if classifier:
            estimator.classes_ = classes
        else:
            estimator._single_output = single_output
    return estimator


def gram_sweep(
    X,
    X_test,
    kind,
    grid,
    bandwidth,
    random_state,
    *,
    memory_limit=None,
    client=None,
    timeout=DEFAULT_TIMEOUT,
):
    """The dual Gram matrices at every feature count of a sweep, summed by the workers.

    Yields ``(N, gram, cross)`` for each ``N`` of ``grid`` in increasing order, with ``gram =
    C_N C_N^T`` (``n x n``) and ``cross = C_test,N C_N^T`` over the first ``N`` unscaled
    features: what the double-descent sweep above the threshold solves at each grid point
    (:func:`skinterp.experiments.double_descent.double_descent` accumulates the same matrices
    block by block). The features of the largest ``N`` are drawn once per worker from the seed
    and are nested, so each grid interval ``[N_prev, N)`` is one more set of pieces (one per
    worker) whose partial sums are added to the previous matrices; the next interval is
    computed while the client solves the current one.

    Parameters
    ----------
    X, X_test : ndarray of shape (n, d) and (n_test, d)
    kind : {"fourier", "relu"}
    grid : sequence of int
        Feature counts (sorted and made unique here).
    bandwidth : float
        The resolved bandwidth.
    random_state : int or RandomState
        The seed, as :func:`draw_weights` receives it.
    memory_limit, client, timeout :
        As :func:`fit_min_norm`.

    Yields
    ------
    N : int
    gram : ndarray of shape (n, n)
    cross : ndarray of shape (n_test, n)

    Examples
    --------
    >>> from skinterp.distributed import gram_sweep
    >>> sweep = gram_sweep(X, X_test, "fourier", [500, 1000], 1.0, 0)  # doctest: +SKIP
    >>> for N, gram, cross in sweep:  # doctest: +SKIP
    ...     pass
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    X_test = np.ascontiguousarray(X_test, dtype=np.float64)
    grid = np.unique(np.asarray(grid, dtype=int))
    if grid.size == 0 or grid[0] < 1:
        raise ValueError("grid must hold positive feature counts.")
    client = active_client(client)
    configure_workers(client)
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise ValueError("The dask cluster has no workers.")
    block = column_block_size(X.shape[0] + X_test.shape[0], memory_limit)
    state = (
        int(random_state)
        if isinstance(random_state, (int, np.integer))
        else copy.deepcopy(random_state)
    )
    draw = (kind, X.shape[1], int(grid[-1]), float(bandwidth), state)
    draw = draw + (_token(draw),)
    X_future = client.scatter(X, broadcast=True, hash=False)
    X_test_future = client.scatter(X_test, broadcast=True, hash=False)

    rows = X.shape[0] + X_test.shape[0]
    columns = task_columns(X.shape[0] * rows + rows * X.shape[1])

    def interval(start, stop):
        pieces = [(start + a, start + b) for a, b in _column_pieces(stop - start, len(workers))]
        return _summed_gram(client, workers, X_future, X_test_future, draw, pieces, block, columns)

    bounds = list(zip(np.concatenate([[0], grid[:-1]]), grid))
    gram = np.zeros((X.shape[0], X.shape[0]))
    cross = np.zeros((X_test.shape[0], X.shape[0]))
    ahead = interval(*bounds[0])
    for k, (_, stop) in enumerate(bounds):
        current = ahead
        ahead = interval(*bounds[k + 1]) if k + 1 < len(bounds) else None
        part_gram, part_cross = result_of(
            current, timeout=timeout, what=f"the Gram matrices up to N={stop}"
        )
        del current
        gram += part_gram
        cross += part_cross
        yield int(stop), gram.copy(), cross.copy()
