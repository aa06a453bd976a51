"""Threaded execution of ``nogil`` numba kernels over chunks of rows."""

from concurrent.futures import ThreadPoolExecutor

from joblib import effective_n_jobs


def chunk_bounds(n_items, chunk_size):
    """Return ``[(start, stop), ...]`` covering ``range(n_items)`` in chunks of ``chunk_size``."""
    chunk_size = max(int(chunk_size), 1)
    return [(start, min(start + chunk_size, n_items)) for start in range(0, n_items, chunk_size)]


def run_in_chunks(function, n_items, chunk_size, n_jobs=None):
    """Call ``function(start, stop)`` for every chunk of ``range(n_items)``.

    Chunks run on a pool of ``n_jobs`` threads (joblib's meaning: ``None`` is 1, ``-1`` is all
    cores). ``function`` must release the GIL for its heavy part (a ``nogil`` numba kernel or a
    BLAS call) and write its results into preallocated outputs; results are returned in order.
    """
    bounds = chunk_bounds(n_items, chunk_size)
    n_threads = min(effective_n_jobs(n_jobs), len(bounds))
    if n_threads <= 1:
        return [function(start, stop) for start, stop in bounds]
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        return list(pool.map(lambda bound: function(*bound), bounds))
