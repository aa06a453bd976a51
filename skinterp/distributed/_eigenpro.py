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
subsample (:func:`nystrom_preconditioner`).
"""

import time

import numpy as np
from distributed import wait
from sklearn.utils import check_random_state

from skinterp._base import memory_budget_bytes
from skinterp.kernel_machine._eigenpro import (
    default_subsample_size,
    nystrom_preconditioner,
    tile_shape,
)
from skinterp.kernels import KernelSpec, kernel_product, squared_norms

from ._client import DEFAULT_TIMEOUT, WorkerLostError, active_client, configure_workers


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

    def product(self, update, X_b, positions, local):
        """Apply ``update``, then return ``K(X_b, X_w) a_w`` minus ``Y_w`` at its batch rows."""
        start = time.perf_counter()
        self.apply(update)
        if self.keep_first:
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


def _result(future, timeout, what):
    try:
        return future.result(timeout=timeout)
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
        As :func:`skinterp.kernel_machine._eigenpro.eigenpro_fit` (``memory_limit`` is also
        each worker's tile budget). ``early_stopping`` is not supported.
    client : distributed.Client or None
        The client (``None``: the active one); one shard per worker.
    timeout : float
        Seconds any one batch may take before the fit is abandoned.

    Returns
    -------
    ShardedKernelModel

    Examples
    --------
    >>> import dask.array as da
    >>> from skinterp.kernels import KernelSpec
    >>> from skinterp.distributed import eigenpro_fit
    >>> X = da.random.random((10**5, 100), chunks=(10**4, 100))  # doctest: +SKIP
    >>> model = eigenpro_fit(X, y, KernelSpec("laplacian", 10.0), n_epochs=2)  # doctest: +SKIP
    >>> model.predict(X_test)  # doctest: +SKIP
    """
    import dask.array as da

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
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    n, d = X.shape
    c = Y.shape[1]
    rng = check_random_state(random_state)
    # The local solver's choices and random stream, in its order (without early stopping).
    if subsample_size is None:
        fitting = int(np.sqrt(memory_budget_bytes(memory_limit) / 24))
        s = max(1, min(default_subsample_size(n), fitting))
    else:
        s = min(int(subsample_size), n)
    in_subsample = np.zeros(n, dtype=bool)
    in_subsample[rng.choice(n, size=s, replace=False)] = True
    work_order = np.concatenate([np.flatnonzero(in_subsample), np.flatnonzero(~in_subsample)])
    memory_rows = memory_budget_bytes(memory_limit) // ((d + 3 * c + s) * dtype.itemsize)
    batch_cap = int(max(1, min(n, s, memory_rows)))
    start_time = time.perf_counter()
    X_sub = np.ascontiguousarray(X[work_order[:s]].compute(), dtype=dtype)
    pre = nystrom_preconditioner(
        X_sub, spec, n_components, memory_limit=memory_limit, n_jobs=1, batch_cap=batch_cap
    )
    beta, lambda_top = pre["beta"], pre["preconditioned_top"]
    critical = beta / lambda_top
    m = (
        int(max(1, min(batch_cap, np.floor(critical))))
        if batch_size is None
        else int(min(batch_size, n))
    )
    if step_size is None:
        eta = m / beta if m <= critical else 2.0 * m / (beta + (m - 1) * lambda_top)
    else:
        eta = float(step_size)

    bounds = _shard_bounds(n, len(workers), s)
    rows, cols = tile_shape(memory_limit, dtype.itemsize)
    tiles = dict(kernel=spec, n_jobs=1, tile_rows=rows, tile_cols=cols)
    E = pre["eigenvectors"].astype(dtype)
    ED = (pre["eigenvectors"] * pre["weights"]).astype(dtype)
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
        data.append(client.compute([x_w, y_w], workers=[workers[w]]))
    shards = []
    for w, ((x_future, y_future), _) in enumerate(zip(data, bounds)):
        keep = s if (w == 0 and pre["q"] > 0) else 0
        shards.append(
            client.submit(
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
        )
    wait(shards, timeout=timeout)
    shards = [future.result(timeout=timeout) for future in shards]
    del data
    if verbose:
        print(
            f"[EigenPro/dask] n={n} s={s} q={pre['q']} m*={critical:.0f} batch={m} "
            f"step={eta:.3g} shards={[hi - lo for lo, hi in bounds]} "
            f"setup={time.perf_counter() - start_time:.2f}s",
            flush=True,
        )
    setup_seconds = time.perf_counter() - start_time
    edges = np.array([lo for lo, _ in bounds] + [n])

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

    loss_curve = []
    batches_run, epochs_run = 0, 0
    update = [None] * len(shards)
    bytes_per_epoch, batch_seconds = 0, []
    try:
        for epoch in range(n_epochs):
            epoch_start = time.perf_counter()
            order = rng.permutation(n)
            batches = [np.sort(order[start : start + m]) for start in range(0, n, m)]
            if max_batches is not None:
                batches = batches[: max(0, max_batches - batches_run)]
            total_sq, total_count, sent = 0.0, 0, 0
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
                g = None
                for call in products:
                    part = _result(call, timeout, f"batch {batches_run + 1}")
                    g = part if g is None else g + part
                total_sq += float(np.einsum("ij,ij->", g, g, dtype=np.float64))
                total_count += g.size
                if not np.isfinite(total_sq):
                    raise FloatingPointError(
                        "EigenPro diverged (non-finite loss); set a smaller step_size or "
                        "batch_size."
                    )
                scale = eta / m
                update = [
                    (local, g[positions], g if shards_keep else None, scale)
                    for (positions, local), shards_keep in zip(
                        routes, [w == 0 and pre["q"] > 0 for w in range(len(shards))]
                    )
                ]
                item = dtype.itemsize
                sent += batch.size * d * item * (len(shards) + 1)  # rows in, X_b out
                sent += 2 * batch.size * c * item * len(shards)  # partials in, g out
                batches_run += 1
                batch_seconds.append(time.perf_counter() - batch_start)
            epochs_run = epoch + 1
            bytes_per_epoch = sent
            loss_curve.append(total_sq / max(total_count, 1))
            message = f"[EigenPro/dask] epoch {epochs_run}: train mse~{loss_curve[-1]:.3g}"
            if step_size is None and len(loss_curve) > 1 and loss_curve[-1] > 2 * loss_curve[-2]:
                eta /= 2
                message += f" (diverging: step halved to {eta:.3g})"
            if verbose:
                print(f"{message} ({time.perf_counter() - epoch_start:.2f}s)", flush=True)
            if loss_curve[-1] <= tol or (max_batches is not None and batches_run >= max_batches):
                break
        finals = [shard.apply(u) for shard, u in zip(shards, update)]
        for call in finals:
            _result(call, timeout, "the last update")
    except KeyboardInterrupt:
        # Actor calls in flight finish on their own; the shards are released with the model.
        raise
    return ShardedKernelModel(
        shards,
        bounds,
        timeout,
        loss_curve=np.asarray(loss_curve),
        n_epochs=epochs_run,
        batch_size=m,
        step_size=float(eta),
        critical_batch_size=float(critical),
        n_components=pre["q"],
        subsample_size=s,
        n_batches=batches_run,
        setup_seconds=setup_seconds,
        bytes_per_epoch=bytes_per_epoch,
        seconds_per_batch=float(np.median(batch_seconds)) if batch_seconds else float("nan"),
        work_order=work_order,
    )


def fit_kernel_interpolator(estimator, X, y, client=None, *, timeout=DEFAULT_TIMEOUT):
    """Fit a ``KernelInterpolator`` or its classifier by EigenPro on the cluster; gather it.

    Runs :func:`eigenpro_fit` with the estimator's parameters and sets its fitted attributes
    from the gathered centres and coefficients (so that it predicts locally, or on the cluster
    through :func:`skinterp.distributed.predict`). Class labels are one-hot encoded as the
    classifier's ``fit`` does. Keep the
    :class:`ShardedKernelModel` of :func:`eigenpro_fit` to leave the model on the workers.

    Examples
    --------
    >>> from skinterp import KernelInterpolator
    >>> from skinterp.distributed import fit_kernel_interpolator
    >>> estimator = KernelInterpolator(solver="eigenpro")
    >>> model = fit_kernel_interpolator(estimator, X, y)  # doctest: +SKIP
    """
    import dask.array as da
    from sklearn.base import is_classifier

    if getattr(estimator, "early_stopping", False):
        raise ValueError("early_stopping is not supported by the distributed EigenPro fit.")
    estimator._validate_params()
    spec = KernelSpec(estimator.kernel, estimator.bandwidth, float(estimator.nu))
    X = da.asarray(X)
    if estimator.dtype is not None:
        X = X.astype(estimator.dtype)
    elif X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    y = da.asarray(y)
    if is_classifier(estimator):
        # One-hot targets of the sorted labels, as SquareLossClassifierMixin.fit encodes them.
        estimator.classes_ = np.unique(y.compute())
        y = (y[:, None] == estimator.classes_[None, :]).astype(X.dtype)
    single = y.ndim == 1
    model = eigenpro_fit(
        X,
        y,
        spec,
        n_epochs=estimator.n_epochs,
        tol=estimator.tol,
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
    centers, coef = model.gather()
    estimator.n_features_in_ = centers.shape[1]
    estimator.solver_ = "eigenpro"
    estimator.used_pseudo_inverse_ = False
    estimator.centers_ = centers
    estimator._dual_coef_2d = coef
    estimator._single_output = single
    estimator.dual_coef_ = coef[:, 0] if single and not is_classifier(estimator) else coef
    estimator.loss_curve_ = model.loss_curve
    estimator.validation_loss_curve_ = np.empty(0)
    estimator.n_epochs_ = model.n_epochs
    estimator.batch_size_ = model.batch_size
    estimator.step_size_ = model.step_size
    estimator.critical_batch_size_ = model.critical_batch_size
    estimator.n_components_ = model.n_components
    fitted = model.predict(centers)
    targets = model.gather_targets()
    # The estimator's residual measure (max error relative to the largest target).
    scale = max(float(np.max(np.abs(targets))) if targets.size else 0.0, np.finfo(np.float64).tiny)
    estimator.train_residual_ = (
        float(np.max(np.abs(fitted - targets))) / scale if targets.size else 0.0
    )
    estimator.norm_ = float(
        np.sqrt(max(np.einsum("ij,ij->", coef, fitted, dtype=np.float64), 0.0))
    )
    return estimator
