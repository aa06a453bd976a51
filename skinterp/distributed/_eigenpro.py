"""EigenPro 2 with the centres and their coefficients sharded over the workers.

The iteration of :func:`skinterp.kernel_machine._eigenpro.eigenpro_fit` (see its module for the
maths), with the ``n`` centres in the solver's working order (the Nystrom subsample first) cut
into one contiguous shard per worker. Shard ``w`` is a dask actor holding ``X_w``, ``Y_w``, the
coefficients ``a_w`` and ``||x||^2``; shard 0 holds the subsample ``S`` (its first ``s`` rows)
and the preconditioner ``E``, ``E D``. For a batch ``b`` (the same batches as the local solver:
the same random stream) one round trip:

1. the client sends ``X_b`` (``m x d``) to every shard, with the previous batch's gradient;
2. each shard first applies the previous update to its rows (``a_b -= eta/m g``; shard 0 also
   ``a_S += eta/(m s) E D E^T K(X_S, X_b) g`` from the ``K(X_b, X_S)`` it kept), then returns
   ``K(X_b, X_w) a_w - Y_w[b]`` (``m x c``) computed by the package's tiles
   (:func:`kernel_product`);
3. the client sums the partial products into ``g``.

The rows of the next batch are requested from their shards while the current batch computes.
Per batch the network carries ``X_b`` to ``W`` workers, ``g`` to them and ``W`` partials back:
``m (d W + 2 c W) + m d`` values; per epoch ``n / m`` times that, about ``n d (W + 1)`` values,
independent of ``m``. The Nystrom preconditioner is computed once on the client from the gathered
subsample; the setup (subsample, preconditioner, batch size and step) is the local solver's own
:func:`~skinterp.kernel_machine._eigenpro.eigenpro_setup`.
"""

import sys
import time

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from skinterp._base import relative_residual, warn_user
from skinterp.kernel_machine._core import (
    CENTRING_RATIO,
    TOL_FLOOR,
    KernelMachineModel,
    eigenpro_convergence_message,
    eigenpro_report,
    kernel_spec,
    resolve_bandwidth,
)
from skinterp.kernel_machine._eigenpro import (
    _check_divergence,
    _report_epoch,
    _warn_if_no_progress,
    eigenpro_setup,
    tile_shape,
)
from skinterp.kernel_machine._polynomial_tail import PolynomialBasis
from skinterp.kernels import kernel_product, squared_norms

from ._client import (
    DEFAULT_TIMEOUT,
    WorkerLostError,
    active_client,
    computed,
    configure_workers,
    ctrl_c_remembered,
    result_of,
    sliced_wait,
)


class Shard:
    """A worker's block of centres (a dask actor): kernel products and coefficient updates."""

    def __init__(self, X, Y, spec, tiles, keep_first=0, E=None, ED=None):
        self.X = np.ascontiguousarray(X)
        self.Y = np.ascontiguousarray(Y, dtype=self.X.dtype)
        self.coef = np.zeros(self.Y.shape, dtype=self.X.dtype)
        self.x_sq = squared_norms(self.X)
        self.spec, self.tiles = spec, tiles
        self.keep_first = keep_first
        self.E, self.ED = E, ED
        self.kept = None
        self.busy_seconds = 0.0

    def nbytes(self):
        """Bytes held: centres, targets, coefficients, norms and the kept kernel block."""
        kept = 0 if self.kept is None else self.kept.nbytes
        return self.X.nbytes + self.Y.nbytes + self.coef.nbytes + self.x_sq.nbytes + kept

    def rows(self, local):
        return self.X[local]

    def apply(self, update):
        """The previous batch's step on this shard's coefficients (``None``: nothing)."""
        if update is None:
            return
        local, g_rows, g, scale = update
        self.coef[local] -= scale * g_rows
        if self.keep_first and g is not None:
            h = self.kept.T @ g
            self.coef[: self.keep_first] += (scale / self.keep_first) * (self.ED @ (self.E.T @ h))
        self.kept = None

    def product(self, update, X_b, positions, local, keep=True):
        """Apply ``update``, then return ``K(X_b, X_w) a_w`` minus ``Y_w`` at its batch rows.

        ``keep=False`` (the exact residual pass) keeps no ``K(X_b, X_S)`` block: no update
        follows it.
        """
        start = time.perf_counter()
        self.apply(update)
        if self.keep_first and keep:
            out, self.kept = kernel_product(
                X_b, self.X, self.coef, z_sq=self.x_sq, keep_first=self.keep_first, **self.tiles
            )
        else:
            out = kernel_product(X_b, self.X, self.coef, z_sq=self.x_sq, **self.tiles)
        out[positions] -= self.Y[local]
        self.busy_seconds += time.perf_counter() - start
        return out

    def busy(self):
        """Seconds spent in :meth:`product` (kernel work and updates), since the start."""
        return self.busy_seconds

    def predict(self, X):
        return kernel_product(
            np.ascontiguousarray(X, dtype=self.X.dtype),
            self.X,
            self.coef,
            z_sq=self.x_sq,
            **self.tiles,
        )

    def state(self):
        return self.X, self.coef

    def targets(self):
        return self.Y

    def target_stats(self):
        """``(max |y|, sum y^2, number of values)`` of this shard's targets."""
        if self.Y.size == 0:
            return 0.0, 0.0, 0
        square = float(np.einsum("ij,ij->", self.Y, self.Y, dtype=np.float64))
        return float(np.max(np.abs(self.Y))), square, int(self.Y.size)


def _result(future, timeout, what):
    """An actor call's result, waited for in slices (a recorded Ctrl-C stops the wait)."""
    try:
        return sliced_wait(lambda seconds: future.result(timeout=seconds), timeout)
    except TimeoutError as error:
        raise TimeoutError(f"{what} did not answer within {timeout:.0f} s.") from error
    except (OSError, RuntimeError, ValueError) as error:
        raise WorkerLostError(
            f"A worker holding a shard was lost during {what}: its centres and coefficients "
            f"are gone, so the fit cannot continue. Refit on the remaining workers. "
            f"Cause: {type(error).__name__}: {error}"
        ) from error


class ShardedKernelModel:
    """A kernel model whose centres and coefficients live on the workers.

    ``predict(X)`` sums the shards' ``K(X, X_w) a_w``; ``gather()`` returns ``(centres,
    coef)`` in the solver's order (what ``KernelInterpolator`` stores). Fit attributes as
    :class:`~skinterp.kernel_machine._eigenpro.EigenProResult`: ``loss_curve``, ``n_epochs``,
    ``batch_size``, ``step_size``, ``critical_batch_size``, ``n_components``,
    ``subsample_size``, ``n_batches``, ``bytes_per_epoch``, ``seconds_per_batch``.
    """

    def __init__(self, shards, bounds, timeout, **fields):
        self.shards, self.bounds, self.timeout = shards, bounds, timeout
        self.__dict__.update(fields)

    def predict(self, X, chunk_rows=4096):
        """``f(X)`` for a numpy array of queries, as ``(n_queries, n_outputs)``."""
        X = np.asarray(X)
        out = []
        for start in range(0, X.shape[0], chunk_rows):
            block = X[start : start + chunk_rows]
            calls = [shard.predict(block) for shard in self.shards]
            out.append(sum(_result(c, self.timeout, "prediction") for c in calls))
        return np.concatenate(out) if out else np.empty((0, 0))

    def gather(self):
        states = [_result(shard.state(), self.timeout, "gather") for shard in self.shards]
        return np.concatenate([s[0] for s in states]), np.concatenate([s[1] for s in states])

    def gather_targets(self):
        """The targets in the order of :meth:`gather`'s centres."""
        return np.concatenate(
            [_result(shard.targets(), self.timeout, "gather") for shard in self.shards]
        )

    def shard_busy_seconds(self):
        """Seconds each shard spent computing (the rest of the fit's time is waiting)."""
        return [_result(shard.busy(), self.timeout, "busy") for shard in self.shards]

    def shard_nbytes(self):
        return [_result(shard.nbytes(), self.timeout, "nbytes") for shard in self.shards]

    def release(self):
        """Free the shards on the workers now (the model cannot predict afterwards)."""
        futures = getattr(self, "futures", None) or []
        if futures:
            futures[0].client.cancel(futures, force=True)
        self.shards, self.futures = [], []


def _shard_bounds(n, n_shards, first_at_least):
    """Contiguous ``[lo, hi)`` of ``n`` positions, balanced, the first holding ``>= s``."""
    edges = np.linspace(0, n, n_shards + 1).round().astype(int)
    if edges[1] < first_at_least:
        rest = np.linspace(first_at_least, n, n_shards).round().astype(int)
        edges = np.concatenate([[0], rest])
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def eigenpro_fit(
    X,
    Y,
    spec,
    *,
    n_epochs=10,
    tol=0.0,
    batch_size=None,
    step_size=None,
    n_components=None,
    subsample_size=None,
    memory_limit=None,
    random_state=None,
    verbose=0,
    max_batches=None,
    client=None,
    timeout=DEFAULT_TIMEOUT,
):
    """EigenPro 2 on a dask cluster; the same batches and fit as the local solver to rounding.

    Parameters
    ----------
    X : dask.array.Array or ndarray of shape (n_samples, n_features)
        Training points (float64 or float32); only the subsample and the batches pass through
        the client.
    Y : dask.array.Array or ndarray of shape (n_samples, n_outputs)
        Targets.
    spec : KernelSpec
        The kernel.
    n_epochs, tol, batch_size, step_size, n_components, subsample_size, memory_limit, \
random_state, verbose, max_batches :
        As :func:`skinterp.kernel_machine._eigenpro.eigenpro_fit`, with the same meaning:
        ``tol`` is the relative training residual ``max |f(x_i) - y_i| / max |y_i|``, tested
        on each epoch's batch residuals and confirmed by one exact pass over the training
        points (the network traffic of an epoch) before the fit stops; ``0`` runs all epochs.
        ``memory_limit`` is also each worker's tile budget. ``early_stopping`` and
        ``callback`` are not supported.
    client : distributed.Client or None
        The client (``None``: the active one); one shard per worker.
    timeout : float
        Seconds any one batch may take before the fit is abandoned.

    Returns
    -------
    ShardedKernelModel
        With ``converged`` (the exact residual was confirmed at most ``tol``) and ``fitted``
        (``K a`` at the centres, in :meth:`~ShardedKernelModel.gather`'s order, when the
        confirming pass computed it, else None), as the local result.

    Notes
    -----
    Ctrl-C (``KeyboardInterrupt``) or any error during the fit cancels its tasks and
    releases the shards on the workers; the cluster stays usable.

    Examples
    --------
    >>> import dask.array as da
    >>> from skinterp.kernels import KernelSpec
    >>> from skinterp.distributed import eigenpro_fit
    >>> X = da.random.random((10**5, 100), chunks=(10**4, 100))  # doctest: +SKIP
    >>> model = eigenpro_fit(X, y, KernelSpec("laplacian", 10.0), n_epochs=2)  # doctest: +SKIP
    >>> model.predict(X_test)  # doctest: +SKIP
    """
    with ctrl_c_remembered():
        return _eigenpro_fit(
            X,
            Y,
            spec,
            n_epochs=n_epochs,
            tol=tol,
            batch_size=batch_size,
            step_size=step_size,
            n_components=n_components,
            subsample_size=subsample_size,
            memory_limit=memory_limit,
            random_state=random_state,
            verbose=verbose,
            max_batches=max_batches,
            client=client,
            timeout=timeout,
        )


def _eigenpro_fit(
    X,
    Y,
    spec,
    *,
    n_epochs,
    tol,
    batch_size,
    step_size,
    n_components,
    subsample_size,
    memory_limit,
    random_state,
    verbose,
    max_batches,
    client,
    timeout,
):
    import dask.array as da

    start_time = time.perf_counter()
    client = active_client(client)
    configure_workers(client)
    workers = sorted(client.scheduler_info()["workers"])
    if not workers:
        raise ValueError("The dask cluster has no workers.")
    X = da.asarray(X)
    Y = da.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    if X.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"X must be 2-D with as many rows as Y; got {X.shape} and {Y.shape}.")
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    dtype = X.dtype
    if Y.dtype != dtype:
        Y = Y.astype(dtype)
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    n, d = X.shape
    c = Y.shape[1]
    rng = check_random_state(random_state)
    # The local solver's setup and random stream, in its order (without early stopping); the
    # subsample is gathered to the client for the Nystrom eigensystem.
    setup = eigenpro_setup(
        n,
        d,
        c,
        dtype,
        spec,
        rng,
        lambda index: np.ascontiguousarray(
            computed(X[index], client, timeout=timeout, what="the Nystrom subsample"), dtype=dtype
        ),
        batch_size=batch_size,
        step_size=step_size,
        n_components=n_components,
        subsample_size=subsample_size,
        memory_limit=memory_limit,
        n_jobs=1,
    )
    s, pre, work_order = setup.subsample_size, setup.preconditioner, setup.work_order
    m, eta, auto_eta = setup.batch_size, setup.step_size, setup.auto_step_size
    critical = setup.critical_batch_size

    bounds = _shard_bounds(n, len(workers), s)
    rows, cols = tile_shape(memory_limit, dtype.itemsize)
    tiles = dict(kernel=spec, n_jobs=1, tile_rows=rows, tile_cols=cols)
    E = pre["eigenvectors"].astype(dtype)
    ED = (pre["eigenvectors"] * pre["weights"]).astype(dtype)
    submitted = []  # every future of the fit: cancelled on Ctrl-C or error
    try:
        shard_futures = _start_shards(
            client,
            workers,
            X,
            Y,
            spec,
            tiles,
            work_order,
            bounds,
            s,
            pre,
            E,
            ED,
            submitted,
        )
        shards = result_of(shard_futures, timeout=timeout, what="the shards' setup")
        # What the tolerance and the divergence test compare with, from the shards' targets
        # (a second pass over a dask Y would recompute its graph).
        stats = [_result(shard.target_stats(), timeout, "the targets") for shard in shards]
        target_scale = max(max(st[0] for st in stats), np.finfo(np.float64).tiny)
        target_mse = sum(st[1] for st in stats) / max(sum(st[2] for st in stats), 1)
        setup_seconds = time.perf_counter() - start_time
        if verbose:
            print(
                f"[EigenPro/dask] n={n} s={s} q={pre['q']} beta={pre['beta']:.3g} "
                f"lambda_1={pre['top_eigenvalue']:.3g} "
                f"lambda_top={pre['preconditioned_top']:.3g} "
                f"m*={critical:.0f} batch={m} step={eta:.3g} "
                f"shards={[hi - lo for lo, hi in bounds]} setup={setup_seconds:.2f}s",
                file=sys.stderr,
                flush=True,
            )
        model = _iterate(
            shards,
            bounds,
            rng,
            n,
            d,
            c,
            dtype,
            m,
            eta,
            auto_eta,
            step_size,
            pre,
            tol,
            n_epochs,
            max_batches,
            target_scale,
            target_mse,
            timeout,
            verbose,
        )
    except BaseException:
        # Ctrl-C, a lost worker, divergence: cancel what was submitted (the data, the shard
        # actors, which also frees the workers' memory) so the cluster stays usable.
        client.cancel(submitted, force=True)
        raise
    return ShardedKernelModel(
        shards,
        bounds,
        timeout,
        n_epochs=model["epochs_run"],
        validation_loss_curve=np.empty(0),  # early stopping is not supported here
        batch_size=m,
        step_size=float(model["eta"]),
        critical_batch_size=float(critical),
        n_components=pre["q"],
        subsample_size=s,
        setup_seconds=setup_seconds,
        work_order=work_order,
        futures=shard_futures,
        **{k: v for k, v in model.items() if k not in ("epochs_run", "eta")},
    )


def _start_shards(
    client, workers, X, Y, spec, tiles, work_order, bounds, s, pre, E, ED, submitted
):
    """The futures of one :class:`Shard` actor per worker holding its rows of the working
    order (each also appended to ``submitted``)."""
    data = []
    for w, (lo, hi) in enumerate(bounds):
        # Each shard's rows are gathered by dask onto its own worker (sorted reads, then the
        # shard's working order).
        index = work_order[lo:hi]
        order = np.argsort(index, kind="stable")
        inverse = np.empty_like(order)
        inverse[order] = np.arange(order.size)
        x_w = X[index[order]][inverse]
        y_w = Y[index[order]][inverse]
        pair = client.compute([x_w, y_w], workers=[workers[w]])
        submitted.extend(pair)
        data.append(pair)
    shard_futures = []
    for w, (x_future, y_future) in enumerate(data):
        keep = s if (w == 0 and pre["q"] > 0) else 0
        future = client.submit(
            Shard,
            x_future,
            y_future,
            spec,
            tiles,
            keep,
            E if keep else None,
            ED if keep else None,
            workers=[workers[w]],
            actor=True,
            pure=False,
        )
        submitted.append(future)
        shard_futures.append(future)
    return shard_futures


def _iterate(
    shards,
    bounds,
    rng,
    n,
    d,
    c,
    dtype,
    m,
    eta,
    auto_eta,
    step_size,
    pre,
    tol,
    n_epochs,
    max_batches,
    target_scale,
    target_mse,
    timeout,
    verbose,
):
    """The epochs of the local solver (same batches, same tests), on the shards."""
    edges = np.array([lo for lo, _ in bounds] + [n])
    keeps = [w == 0 and pre["q"] > 0 for w in range(len(shards))]
    start_time = time.perf_counter()

    def route(batch):
        """Per shard: (batch rows it owns, their local indices)."""
        owner = np.searchsorted(edges, batch, side="right") - 1
        return [
            (np.flatnonzero(owner == w), batch[owner == w] - bounds[w][0])
            for w in range(len(shards))
        ]

    def request_rows(batch):
        routes = route(batch)
        return routes, [shards[w].rows(local) for w, (_, local) in enumerate(routes)]

    def assemble(routes, calls, size):
        X_b = np.empty((size, d), dtype=dtype)
        for (positions, _), call in zip(routes, calls):
            X_b[positions] = _result(call, timeout, "a batch's rows")
        return X_b

    def summed(calls, what):
        g = None
        for call in calls:
            part = _result(call, timeout, what)
            g = part if g is None else g + part
        return g

    def exact_pass(update):
        """``K a`` at every centre (working order), after the pending ``update``."""
        chunks = [np.arange(lo, min(lo + m, n)) for lo in range(0, n, m)]
        fitted = np.empty((n, c), dtype=dtype)
        nowhere = np.empty(0, dtype=np.intp)
        pending = request_rows(chunks[0])
        for k, chunk in enumerate(chunks):
            routes, calls = pending
            X_b = assemble(routes, calls, chunk.size)
            products = [
                shards[w].product(update[w], X_b, nowhere, nowhere, False)
                for w in range(len(shards))
            ]
            update = [None] * len(shards)
            if k + 1 < len(chunks):
                pending = request_rows(chunks[k + 1])
            fitted[chunk] = summed(products, "the exact residual pass")
        return fitted

    targets = []  # the targets in working order, fetched at the first exact pass

    loss_curve = []
    batches_run, epochs_run = 0, 0
    update = [None] * len(shards)
    bytes_per_epoch, batch_seconds, epoch_seconds = 0, [], []
    converged = False
    fitted = None
    # After an exact check that failed, the free estimate must fall this much lower first.
    check_factor = 1.0
    item = dtype.itemsize
    for epoch in range(n_epochs):
        epoch_start = time.perf_counter()
        order = rng.permutation(n)
        batches = [np.sort(order[start : start + m]) for start in range(0, n, m)]
        if max_batches is not None:
            batches = batches[: max(0, max_batches - batches_run)]
        total_sq, total_count, sent, largest = 0.0, 0, 0, 0.0
        pending = request_rows(batches[0]) if batches else None
        for k, batch in enumerate(batches):
            batch_start = time.perf_counter()
            routes, calls = pending
            X_b = assemble(routes, calls, batch.size)
            products = [
                shards[w].product(update[w], X_b, positions, local)
                for w, (positions, local) in enumerate(routes)
            ]
            if k + 1 < len(batches):
                pending = request_rows(batches[k + 1])
            g = summed(products, f"batch {batches_run + 1}")
            total_sq += float(np.einsum("ij,ij->", g, g, dtype=np.float64))
            total_count += g.size
            if not np.isfinite(total_sq):
                raise FloatingPointError(
                    f"EigenPro diverged (non-finite loss) with step_size={eta:.3g}, "
                    f"batch_size={m}; set a smaller step_size (the automatic choice for this "
                    f"batch is {auto_eta:.3g}) or batch_size."
                )
            largest = max(largest, float(np.max(np.abs(g))) if g.size else 0.0)
            scale = eta / m
            update = [
                (local, g[positions], g if keep else None, scale)
                for (positions, local), keep in zip(routes, keeps)
            ]
            sent += batch.size * d * item * (len(shards) + 1)  # rows in, X_b out
            sent += 2 * batch.size * c * item * len(shards)  # partials in, g out
            batches_run += 1
            batch_seconds.append(time.perf_counter() - batch_start)
        epochs_run = epoch + 1
        bytes_per_epoch = sent
        loss_curve.append(total_sq / max(total_count, 1))
        estimate = largest / target_scale
        message = (
            f"[EigenPro/dask] epoch {epochs_run}/{n_epochs}: train mse {loss_curve[-1]:.3g}, "
            f"residual~{estimate:.2g}"
        )
        if step_size is None and len(loss_curve) > 1 and loss_curve[-1] > 2 * loss_curve[-2]:
            eta /= 2
            message += f" (diverging: step halved to {eta:.3g})"
        _check_divergence(loss_curve, target_mse, step_size, eta, auto_eta, m, epochs_run)
        stop = False
        fitted = None
        if estimate <= tol * check_factor:
            # The estimate passed: confirm with the exact residual (one pass, as an epoch).
            fitted = exact_pass(update)
            update = [None] * len(shards)
            if not targets:
                targets.append(
                    np.concatenate([_result(s.targets(), timeout, "gather") for s in shards])
                )
            exact = relative_residual(fitted, targets[0])
            message += f", exact residual {exact:.2g}"
            if exact <= tol:
                converged = stop = True
            else:
                check_factor *= 0.5
                fitted = None
        epoch_seconds.append(time.perf_counter() - epoch_start)
        if verbose:
            _report_epoch(message, epoch_seconds, epochs_run, n_epochs, stop)
        if stop or (max_batches is not None and batches_run >= max_batches):
            break
    finals = [shard.apply(u) for shard, u in zip(shards, update)]
    for call in finals:
        _result(call, timeout, "the last update")
    _warn_if_no_progress(loss_curve, epochs_run, eta, auto_eta, m)
    return dict(
        epochs_run=epochs_run,
        eta=eta,
        loss_curve=np.asarray(loss_curve),
        n_batches=batches_run,
        bytes_per_epoch=bytes_per_epoch,
        seconds_per_batch=float(np.median(batch_seconds)) if batch_seconds else float("nan"),
        converged=converged,
        fitted=fitted,
        iteration_seconds=time.perf_counter() - start_time,
    )


def _dask_centring_offset(X, compute):
    """:func:`skinterp.kernel_machine._core.centring_offset` of a dask array (two
    passes over ``X`` on the cluster, each ``compute(collection, what)``)."""
    mean = np.asarray(compute(X.mean(axis=0, dtype=np.float64), "the mean of X"))
    centred = X.astype(np.float64) - mean
    spread = float(compute((centred**2).sum(axis=1).mean(), "the spread of X"))
    if float(mean @ mean) > CENTRING_RATIO * spread:
        return mean
    return None


def fit_kernel_interpolator(estimator, X, y, client=None, *, timeout=DEFAULT_TIMEOUT):
    """Fit a ``KernelInterpolator`` or its classifier by EigenPro on the cluster; gather it.

    The estimator's own EigenPro fit (``solver="eigenpro"`` whatever its ``solver``) with the
    centres sharded over the workers: the same ``bandwidth="auto"`` rule (on the same fixed
    subsample of rows), the same centring of far-off inputs, the same tolerance (``tol``, the
    relative training residual, at least 1e-2 in float32), epochs, batches and random stream,
    hence the same stopping epoch and the same model as a local fit with the same
    ``random_state``, to rounding. It sets the fitted attributes a local fit sets
    (``bandwidth_``, ``train_residual_``, ``interpolates_``, ``n_epochs_``, ...), and warns
    (``ConvergenceWarning``) as the local fit does when ``n_epochs`` end above ``tol``. Class
    labels are one-hot encoded as the classifier's ``fit`` does. Exact duplicate rows are not
    merged (``n_duplicates_`` is 0): deduplicate a large dask array first, or the Nystrom
    setup warns about a singular kernel matrix.

    Ctrl-C or an error leaves the estimator as it was (unfitted, or its previous fit) and
    cancels the fit's tasks. Keep the :class:`ShardedKernelModel` of :func:`eigenpro_fit` to
    leave the model on the workers.

    Parameters
    ----------
    estimator : KernelInterpolator or KernelInterpolationClassifier
        Its parameters are used (``early_stopping`` and ``callback`` are not supported);
        fitted in place.
    X : dask.array.Array or array-like of shape (n_samples, n_features)
    y : dask.array.Array or array-like of shape (n_samples,) or (n_samples, n_outputs)
    client : distributed.Client or None
    timeout : float
        Seconds any one batch may take before the fit is abandoned.

    Returns
    -------
    estimator
        The fitted estimator.

    Examples
    --------
    >>> from skinterp import KernelInterpolator
    >>> from skinterp.distributed import fit_kernel_interpolator
    >>> estimator = KernelInterpolator(solver="eigenpro")
    >>> model = fit_kernel_interpolator(estimator, X, y)  # doctest: +SKIP
    """
    with ctrl_c_remembered():
        return _fit_kernel_interpolator(estimator, X, y, client, timeout)


def _fit_kernel_interpolator(estimator, X, y, client, timeout):
    import dask.array as da
    from sklearn.base import is_classifier

    from skinterp.kernels._bandwidth import auto_bandwidth_rows

    estimator._validate_params()
    if getattr(estimator, "early_stopping", False):
        raise ValueError("early_stopping is not supported by the distributed EigenPro fit.")
    if getattr(estimator, "callback", None) is not None:
        raise ValueError(
            "callback is not supported by the distributed EigenPro fit (the coefficients "
            "stay on the workers between epochs)."
        )
    client = active_client(client)

    def compute(collection, what):
        return computed(collection, client, timeout=timeout, what=what)

    X = da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}.")
    if estimator.dtype is not None:
        X = X.astype(estimator.dtype)
    elif X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    dtype = np.dtype(X.dtype)
    y = da.asarray(y)
    classes = None
    if is_classifier(estimator):
        # One-hot targets of the sorted labels, as SquareLossClassifierMixin.fit encodes them.
        classes = np.unique(np.asarray(compute(y, "the class labels")))
        y = (y[:, None] == classes[None, :]).astype(dtype)
    single = y.ndim == 1

    # The bandwidth and the kernel, as the local fit resolves them.
    sample = None
    if isinstance(estimator.bandwidth, str) and not callable(estimator.kernel):
        # "auto" reads the rule's fixed subsample of rows only.
        rows = auto_bandwidth_rows(X.shape[0])
        sample = np.asarray(compute(X[rows], "the bandwidth's rows"), dtype=dtype)
    bandwidth = resolve_bandwidth(estimator.kernel, estimator.bandwidth, sample)
    spec = kernel_spec(estimator.kernel, bandwidth, estimator.nu)
    offset = _dask_centring_offset(X, compute) if spec.is_builtin else None
    X_work = X if offset is None else X - offset.astype(dtype)
    tol = max(float(estimator.tol), TOL_FLOOR[dtype])
    model = eigenpro_fit(
        X_work,
        y,
        spec,
        n_epochs=estimator.n_epochs,
        tol=tol,
        batch_size=estimator.batch_size,
        step_size=estimator.step_size,
        n_components=estimator.n_components,
        subsample_size=estimator.subsample_size,
        memory_limit=estimator.memory_limit,
        random_state=estimator.random_state,
        verbose=estimator.verbose,
        client=client,
        timeout=timeout,
    )
    try:
        work_centers, coef = model.gather()
        targets = model.gather_targets()
        fitted = model.fitted
        if fitted is None:
            # The contract, measured: K a at the centres (one more pass on the shards).
            fitted = model.predict(work_centers)
    finally:
        model.release()
    residual = relative_residual(fitted, targets)
    norm = float(np.sqrt(max(np.einsum("ij,ij->", coef, fitted, dtype=np.float64), 0.0)))
    centers = work_centers if offset is None else (work_centers + offset).astype(dtype)
    no_tail = PolynomialBasis(centers, -1)

    fitted_model = KernelMachineModel(
        kernel=spec,
        bandwidth=bandwidth,
        solver="eigenpro",
        degree=-1,
        centers=centers,
        work_centers=work_centers,
        input_offset=offset,
        dual_coef=coef,
        polynomial_coef=np.zeros((0, coef.shape[1])),
        # No tail, described as the local fit describes it (the inputs' bounding box).
        polynomial_powers=no_tail.powers,
        polynomial_shift=no_tail.shift,
        polynomial_scale=no_tail.scale,
        local_interpolant=None,
        n_samples_fit=int(centers.shape[0]),
        n_points_fit=int(centers.shape[0]),
        n_duplicates=0,
        norm=norm,
        train_residual=residual,
        **eigenpro_report(model),
    )

    # The fit is complete: assign (nothing above touched the estimator).
    if classes is not None:
        estimator.classes_ = classes
    estimator.n_features_in_ = int(centers.shape[1])
    estimator._single_output = single  # read by the regressor's _set_model
    estimator._set_model(fitted_model)
    if not model.converged and residual > tol:
        warn_user(
            eigenpro_convergence_message(
                residual, tol, centers.shape[0], dtype, estimator.n_epochs, estimator.memory_limit
            ),
            ConvergenceWarning,
        )
    return estimator
