"""The client side shared by the distributed paths: the client, worker threads, shipped models.

* :func:`configure_workers` registers a worker plugin that keeps each worker process at its own
  thread count: joblib's ``n_jobs=-1`` then means the worker's threads, not the machine's
  cores, and BLAS runs one thread per task (dask's nanny already sets
  ``OPENBLAS_NUM_THREADS=1`` and friends before a worker starts), so that the estimators'
  ``n_jobs=None``, which follows BLAS's thread count (:mod:`skinterp._parallel`), is one.
* :func:`ship_model` sends a fitted estimator to every worker once and returns a
  :class:`ShippedModel`, a handle that pickles as the key of that copy: a task graph of a
  million chunks carries a few bytes per chunk, not the model.
* :func:`predict` maps a shipped model's method over the chunks of a ``dask.array``.
* :func:`result_of` waits for futures with a timeout, cancels them on Ctrl-C or timeout, and
  turns a lost worker into a clear error.
* :func:`ctrl_c_remembered` makes a Ctrl-C stop a distributed call even when its
  ``KeyboardInterrupt`` is lost (see below); every wait of the distributed paths goes through
  :func:`sliced_wait`, which notices it.

**A Ctrl-C that Python loses.** Python runs a signal's handler in the main thread at the next
check between bytecodes, and that may be inside a ``__del__`` method or a garbage-collector
callback, where an exception is printed as "Exception ignored in ..." and dropped. A client
process runs both in its main thread: distributed's ``Future.__del__``, and with a
``LocalCluster`` the scheduler's ``GCDiagnosis`` callback, called at every collection
(measured: 1 SIGINT in 200 lost in an allocating loop with such a callback installed). A
distributed fit whose ``KeyboardInterrupt`` was dropped went on to its last epoch.
:func:`ctrl_c_remembered` installs, for the duration of a fit, a SIGINT handler that also
records the signal, and the fit's waits raise ``KeyboardInterrupt`` for a recorded one within
``WAIT_SLICE`` seconds.
"""

import ctypes
import math
import os
import pickle
import signal
import sys
import threading
import time
import warnings
from collections import OrderedDict
from contextlib import contextmanager

import dask.array as da
import numpy as np
from distributed import Future, WorkerPlugin, get_client, get_worker, wait
from distributed.client import FutureCancelledError

PLUGIN_NAME = "skinterp-thread-limits"
DEFAULT_TIMEOUT = 600.0
"""Seconds a distributed call waits for one round of tasks before it gives up and cancels."""


class WorkerLostError(RuntimeError):
    """A worker holding part of a distributed fit died or became unreachable."""


def active_client(client=None):
    """``client``, or the active :class:`distributed.Client`; a clear error when there is none."""
    if client is not None:
        return client
    try:
        return get_client()
    except ValueError as error:
        raise ValueError(
            "No dask.distributed client is active: create one (`distributed.Client(...)`, "
            "a LocalCluster or a scheduler address) or pass client=."
        ) from error


# --------------------------------------------------------------------------------------------
# Ctrl-C
# --------------------------------------------------------------------------------------------

WAIT_SLICE = 0.25
"""Seconds between two checks for a recorded Ctrl-C while a distributed call waits."""

_ctrl_c = {"depth": 0, "seen": False}  # main thread only: nesting of ctrl_c_remembered, signal


def _recording_sigint_handler(signum, frame):
    """Python's default SIGINT handler (raise ``KeyboardInterrupt``), which also records the
    signal while a :func:`ctrl_c_remembered` block runs."""
    if _ctrl_c["depth"]:
        _ctrl_c["seen"] = True
    raise KeyboardInterrupt


@contextmanager
def ctrl_c_remembered():
    """Within the block, a Ctrl-C is recorded as well as raised, so that
    :func:`raise_if_interrupted` (called by every :func:`sliced_wait`) raises it again if its
    ``KeyboardInterrupt`` was dropped in a ``__del__`` or a gc callback.

    Only in the main thread and over Python's default handler (a program's own SIGINT handler
    is left alone); re-entrant. Leaving the outermost block restores the default handler.
    """
    installable = (signal.default_int_handler, _recording_sigint_handler)
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) not in installable
    ):
        yield
        return
    if _ctrl_c["depth"] == 0:
        _ctrl_c["seen"] = False
        # A SIGINT between here and the restore below runs one of the two handlers: both raise.
        signal.signal(signal.SIGINT, _recording_sigint_handler)
    _ctrl_c["depth"] += 1
    try:
        yield
    finally:
        _ctrl_c["depth"] -= 1
        if _ctrl_c["depth"] == 0:
            _ctrl_c["seen"] = False
            signal.signal(signal.SIGINT, signal.default_int_handler)


def raise_if_interrupted():
    """``KeyboardInterrupt`` when a Ctrl-C was recorded in this :func:`ctrl_c_remembered`
    block (the first ``KeyboardInterrupt`` lost, or caught and not re-raised)."""
    if _ctrl_c["seen"] and threading.current_thread() is threading.main_thread():
        _ctrl_c["seen"] = False
        raise KeyboardInterrupt


def sliced_wait(wait_for, timeout):
    """``wait_for(seconds)`` (which raises ``TimeoutError`` when ``seconds`` pass) called in
    slices of ``WAIT_SLICE`` seconds until it returns or ``timeout`` (``None``: no limit)
    passes; a recorded Ctrl-C is raised before each slice.

    The main thread also wakes at each slice, so a SIGINT that the kernel handed to another
    thread (the main thread is not woken then) is handled within a slice, not at the end of
    the wait.
    """
    deadline = math.inf if timeout is None else time.monotonic() + float(timeout)
    while True:
        raise_if_interrupted()
        remaining = deadline - time.monotonic()
        try:
            return wait_for(max(min(WAIT_SLICE, remaining), 0.0))
        except TimeoutError:
            if remaining <= WAIT_SLICE:
                raise


def _all_done(futures):
    r"""A ``threading.Event`` set once every future of ``futures`` has left the pending state.

    Waiting on it in slices raises no exception per slice: ``distributed.wait(futures,
    timeout=slice)`` would, and each of its ``TimeoutError``\ s is caught in a reference
    cycle (distributed's ``sync``) that keeps the futures, hence their tasks on the cluster,
    alive until Python's next full collection.
    """
    event = threading.Event()
    left = [len(futures)]
    lock = threading.Lock()

    def one_done(_future):
        with lock:
            left[0] -= 1
            if left[0] <= 0:
                event.set()

    for future in futures:
        future.add_done_callback(one_done)
    return event


def _wait_event(event, seconds):
    if not event.wait(seconds):
        raise TimeoutError


def result_of(futures, *, timeout=DEFAULT_TIMEOUT, what="the distributed step"):
    """Gather ``futures`` (a list, or one future); cancel them on timeout or Ctrl-C.

    A worker that dies while holding state of the fit surfaces as :class:`WorkerLostError`
    naming ``what``, never as a hang: every wait has a timeout. The wait goes in slices
    (:func:`sliced_wait`), so a Ctrl-C recorded by :func:`ctrl_c_remembered` stops it.
    """
    single = isinstance(futures, Future)
    items = [futures] if single else list(futures)
    client = items[0].client if items else None
    try:
        if items:
            start = time.monotonic()
            done = _all_done(items)
            sliced_wait(lambda seconds: _wait_event(done, seconds), timeout)
            # Now returns at once (a future lost with its worker since: when recomputed),
            # and raises as before for cancelled futures.
            left = None if timeout is None else max(timeout - (time.monotonic() - start), 1.0)
            wait(items, timeout=left)
        results = client.gather(items) if items else []
    except KeyboardInterrupt:
        if items:
            client.cancel(items)
        raise
    except TimeoutError as error:
        client.cancel(items)
        raise TimeoutError(
            f"{what} did not finish within {timeout:.0f} s (timeout=); its tasks were cancelled."
        ) from error
    except (FutureCancelledError, OSError) as error:
        client.cancel(items)
        raise WorkerLostError(
            f"A worker was lost during {what}: its shard of the data is gone, so the fit cannot "
            f"continue. Refit (the data's dask graph is recomputed on the remaining workers). "
            f"Cause: {type(error).__name__}: {error}"
        ) from error
    except Exception as error:
        if type(error).__name__ == "KilledWorker":
            client.cancel(items)
            raise WorkerLostError(
                f"A worker died during {what} (dask gave up retrying the task: {error}). Refit."
            ) from error
        raise
    return results[0] if single else results


def computed(collection, client, *, timeout=DEFAULT_TIMEOUT, what="a dask computation"):
    """``collection.compute()`` on ``client``, waited for by :func:`result_of` (a timeout,
    cancelled on Ctrl-C, a recorded Ctrl-C noticed)."""
    return result_of(client.compute(collection), timeout=timeout, what=what)


class ThreadLimits(WorkerPlugin):
    """Worker plugin: joblib's ``-1`` is the worker's thread count; BLAS gets one thread;
    freed tiles are reused (:func:`tune_malloc`).

    ``LOKY_MAX_CPU_COUNT`` is what joblib's ``cpu_count`` (hence ``effective_n_jobs(-1)``)
    reads; our tiles and feature blocks size their thread pools with it.
    """

    name = PLUGIN_NAME

    def setup(self, worker):
        # joblib already runs n_jobs=-1 as one thread in a daemonic worker, but warns on every
        # call of our kernels; the thread count is the point here, so the warning is dropped.
        warnings.filterwarnings("ignore", message="Inside a Dask worker with daemon=True")
        warnings.filterwarnings("ignore", message="Loky-backed parallel loops cannot")
        os.environ["LOKY_MAX_CPU_COUNT"] = str(max(1, int(worker.state.nthreads)))
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(limits=1, user_api="blas")
        tune_malloc()


_malloc_tuned = False

# glibc's mallopt parameters.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def tune_malloc():
    """Let this process reuse freed kernel tiles instead of mapping fresh pages for each.

    dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (to hand memory back to
    the OS), which also freezes glibc's mmap threshold at 128 KiB: every tile and score block
    is then a fresh ``mmap`` whose pages fault in zeroed. That made the neighbour search 3x
    slower in a worker than in a plain process here (3.0 s against 1.1 s). Blocks up to 32 MiB
    come from the heap again, and up to 64 MiB of free heap is kept. Linux/glibc only.
    """
    global _malloc_tuned
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        done = libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20) == 1
        done = libc.mallopt(_M_TRIM_THRESHOLD, 64 * 2**20) == 1 and done
    except (OSError, AttributeError):
        return False
    _malloc_tuned = done
    return done


def worker_threads():
    """What a worker process uses: joblib's ``n_jobs=-1``, BLAS and numba threads, malloc."""
    import numba
    from joblib import effective_n_jobs
    from threadpoolctl import threadpool_info

    blas = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return dict(
        n_jobs_all=effective_n_jobs(-1),
        blas_threads=blas,
        numba_threads=numba.get_num_threads(),
        malloc_tuned=_malloc_tuned,
    )


def configure_workers(client=None):
    """Register :class:`ThreadLimits` on every worker (now and later ones) and report threads.

    Returns ``{worker address: worker_threads()}``.

    Examples
    --------
    >>> from distributed import Client
    >>> from skinterp.distributed import configure_workers
    >>> client = Client(n_workers=2, threads_per_worker=1)  # doctest: +SKIP
    >>> configure_workers(client)  # doctest: +SKIP
    {'tcp://127.0.0.1:...': {'n_jobs_all': 1, 'blas_threads': [1], 'numba_threads': ...}, ...}
    """
    client = active_client(client)
    client.register_plugin(ThreadLimits(), name=PLUGIN_NAME)
    return client.run(worker_threads)


# --------------------------------------------------------------------------------------------
# Shipped models
# --------------------------------------------------------------------------------------------

_worker_models = OrderedDict()  # key -> estimator, in a worker process (a few recent models)
_worker_models_lock = threading.Lock()
_MAX_CACHED_MODELS = 8
MODEL_FETCH_TIMEOUT = 120  # seconds a worker waits for a copy of a shipped model


def _model_on_worker(key):
    """The estimator stored under ``key``, from this worker's memory (or fetched once)."""
    with _worker_models_lock:
        if key in _worker_models:
            _worker_models.move_to_end(key)
            return _worker_models[key]
    try:
        worker = get_worker()
    except ValueError:
        worker = None
    if worker is not None and key in worker.data:
        model = worker.data[key]
    else:
        # A worker that joined after the broadcast (or a process outside the cluster with a
        # client): fetch the copy once. Scattered data cannot be recomputed: if the worker that
        # held it was lost (e.g. removed while a long numba compilation starved its event
        # loop), the fetch would wait forever, so it is bounded.
        try:
            model = Future(key, client=get_client()).result(timeout=MODEL_FETCH_TIMEOUT)
        except TimeoutError as error:
            raise RuntimeError(
                f"The shipped model {key!r} is no longer on the cluster (a worker holding it "
                f"was lost?); no copy arrived within {MODEL_FETCH_TIMEOUT} s. Ship the model "
                "again with ship_model, after `python -m skinterp warmup` on the workers' "
                "machines so that no worker has to compile kernels during a task."
            ) from error
    with _worker_models_lock:
        _worker_models[key] = model
        while len(_worker_models) > _MAX_CACHED_MODELS:
            _worker_models.popitem(last=False)
    return model


def _unpickle_shipped(key):
    handle = ShippedModel.__new__(ShippedModel)
    handle._key, handle._future, handle._local = key, None, None
    return handle


class ShippedModel:
    """A fitted estimator held by every worker; pickles as its key (a few dozen bytes).

    Its public methods are the estimator's: on the client they run the client's copy, in a
    task on a worker the worker's copy (sent once by :func:`ship_model`). Use it wherever a
    task graph would otherwise embed the model once per chunk, e.g.
    ``dask_ml.wrappers.ParallelPostFit(ShippedModel)``.
    """

    def __init__(self, estimator, future):
        self._local, self._future, self._key = estimator, future, future.key

    @property
    def estimator(self):
        """The estimator (the local copy on the client, the worker's copy in a task)."""
        return self._local if self._local is not None else _model_on_worker(self._key)

    def __reduce__(self):
        return _unpickle_shipped, (self._key,)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.estimator, name)

    def __repr__(self):
        return f"ShippedModel({self.estimator!r})"


def model_nbytes(estimator):
    """Bytes of the pickled estimator: what :func:`ship_model` sends to each worker once."""
    return len(pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL))


def ship_model(estimator, client=None):
    """Send a fitted estimator to every worker once; return its :class:`ShippedModel`.

    Parameters
    ----------
    estimator : fitted estimator
        Any picklable fitted estimator (all of skinterp's are).
    client : distributed.Client or None
        The client (``None``: the active one).

    Returns
    -------
    ShippedModel
        The handle; keep it alive while tasks use it (it holds the cluster's copy).

    Examples
    --------
    >>> from dask_ml.wrappers import ParallelPostFit
    >>> from skinterp.distributed import ship_model
    >>> model = ParallelPostFit(ship_model(fitted_estimator))  # doctest: +SKIP
    >>> model.predict(X_dask).compute()  # doctest: +SKIP
    """
    if isinstance(estimator, ShippedModel):
        return estimator
    client = active_client(client)
    configure_workers(client)
    future = client.scatter(estimator, broadcast=True, hash=False)
    # Also store the copy in every current worker's model cache directly (client.run returns
    # once each worker has it): a task then never depends on finding the scattered copy in
    # worker.data, which was seen missing on a fresh cluster, leaving tasks waiting for it.
    client.run(_store_model, future.key, estimator)
    return ShippedModel(estimator, future)


def _store_model(key, estimator):
    with _worker_models_lock:
        _worker_models[key] = estimator
        while len(_worker_models) > _MAX_CACHED_MODELS:
            _worker_models.popitem(last=False)


def _apply(block, model, method):
    return np.asarray(getattr(model.estimator, method)(block))


def predict(estimator, X, method="predict", client=None):
    """``estimator.<method>`` over the chunks of a dask array, the model sent once per worker.

    Parameters
    ----------
    estimator : fitted estimator or ShippedModel
        The model (shipped first when it is not a handle already).
    X : dask.array.Array of shape (n_queries, n_features)
        Queries, chunked by rows (feature chunks are merged).
    method : {"predict", "predict_proba", "transform", "decision_function"}
        The method to map.
    client : distributed.Client or None
        The client (``None``: the active one).

    Returns
    -------
    dask.array.Array
        The lazy result, chunked as ``X``'s rows; ``.compute()`` runs it.

    Examples
    --------
    >>> import dask.array as da
    >>> from skinterp.distributed import predict
    >>> queries = da.random.random((10**6, 10), chunks=10**5)
    >>> y = predict(fitted_estimator, queries)  # doctest: +SKIP
    >>> y.compute()  # doctest: +SKIP
    """
    model = ship_model(estimator, client)
    if not hasattr(model.estimator, method):
        raise AttributeError(f"{type(model.estimator).__name__} has no method {method!r}.")
    X = da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_queries, n_features), got shape {X.shape}.")
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    probe = _apply(np.zeros((1, X.shape[1]), dtype=X.dtype), model, method)
    if probe.ndim == 1:
        return X.map_blocks(
            _apply,
            model,
            method,
            drop_axis=1,
            dtype=probe.dtype,
            meta=np.empty((0,), dtype=probe.dtype),
        )
    return X.map_blocks(
        _apply,
        model,
        method,
        chunks=(X.chunks[0], (probe.shape[1],)),
        dtype=probe.dtype,
        meta=np.empty((0, 0), dtype=probe.dtype),
    )
