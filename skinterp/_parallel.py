"""Threaded execution of ``nogil`` numba kernels over chunks of rows."""

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial

from joblib import effective_n_jobs
from threadpoolctl import ThreadpoolController

from ._progress import progress


def chunk_bounds(n_items, chunk_size):
    """Return ``[(start, stop), ...]`` covering ``range(n_items)`` in chunks of ``chunk_size``."""
    chunk_size = max(int(chunk_size), 1)
    return [(start, min(start + chunk_size, n_items)) for start in range(0, n_items, chunk_size)]


def run_in_chunks(function, n_items, chunk_size, n_jobs=None, *, verbose=0, description=None):
    """Call ``function(start, stop)`` for every chunk of ``range(n_items)``.

    Chunks run on a pool of ``n_jobs`` threads (joblib's meaning: ``None`` is 1, ``-1`` is all
    cores). ``function`` must release the GIL for its heavy part (a ``nogil`` numba kernel or a
    BLAS call) and write its results into preallocated outputs; results are returned in order.

    Ctrl-C: ``KeyboardInterrupt`` reaches the calling thread between chunks (or while it waits
    for one); the chunks not yet started are cancelled and the running ones finish, so a call
    stops within about one chunk's time. Callers keep chunks short (well under a second) and
    assign fitted attributes only after this returns, so an interrupted fit leaves the estimator
    as it was.

    With ``verbose``, one line per finished chunk (at most one a second, and the last) goes to
    stderr with the time left (:func:`skinterp._progress.progress`), headed ``description``.
    """
    bounds = chunk_bounds(n_items, chunk_size)
    n_threads = min(effective_n_jobs(n_jobs), len(bounds))
    report = partial(progress, description=description or "chunks", verbose=verbose,
                     total=len(bounds), min_interval=1.0)
    if n_threads <= 1:
        return [function(start, stop) for start, stop in report(bounds)]
    pool = ThreadPoolExecutor(max_workers=n_threads)
    try:
        futures = [pool.submit(function, start, stop) for start, stop in bounds]
        return [future.result() for future in report(futures)]
    finally:
        # On an exception (KeyboardInterrupt included) the queued chunks never start.
        pool.shutdown(wait=True, cancel_futures=True)


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter = None
_controller = None  # scanning the loaded libraries costs ~4 ms: do it once per process


@contextmanager
def single_threaded_blas():
    """Run the block with one BLAS thread; safe when entered from several threads at once.

    ``threadpoolctl.threadpool_limits`` is process-wide: two threads that each save and restore
    the limits can interleave so that the last restore writes back the *limited* value, leaving
    BLAS single-threaded for the rest of the process. Here the first thread in saves the limits
    and the last thread out restores them.
    """
    global _blas_users, _blas_limiter, _controller
    with _blas_lock:
        if _blas_users == 0:
            if _controller is None:
                _controller = ThreadpoolController()
            _blas_limiter = _controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None
