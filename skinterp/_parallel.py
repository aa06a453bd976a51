"""Threads: the one place that decides how many a call uses and how BLAS runs beside them.

The thread model (the user guide's "Threads and processes" page says it for users):

* **n_jobs** (:func:`n_threads`) counts the threads of skinterp's own parallel sections
  (:func:`run_in_chunks` over ``nogil`` numba kernels and BLAS calls), with joblib's meaning
  of numbers: ``-1`` is every core joblib sees (``LOKY_MAX_CPU_COUNT`` and the process's CPU
  affinity included), ``-2`` all but one, ``k`` is ``k``. ``None``, the default of every
  estimator, is the ``n_jobs`` of an enclosing ``joblib.parallel_config``/``parallel_backend``
  when one sets it, and otherwise as many threads as BLAS would use here: every core by
  default, fewer where the environment limits BLAS (joblib's loky workers inside
  ``GridSearchCV(n_jobs=k)`` get ``cores // k``, skinterp's Dask workers 1, a user's
  ``threadpoolctl.threadpool_limits`` its limit). So the default uses the machine as a BLAS
  call would, and nests without oversubscription where BLAS does. (joblib's own ``None`` is
  one thread; our estimators' work is BLAS-like kernel products, which scikit-learn's
  ``KernelRidge`` or brute-force ``KNeighbors*`` also run on every core by default.)
* **BLAS**, rule 1: inside a parallel section of two or more threads, each thread's BLAS calls
  run with one BLAS thread; the section's ``n_jobs`` threads own the cores. Measured on the
  kernel tiles (n = 20,000, two cores): the section with one BLAS thread each took 0.60 s,
  the same section with OpenBLAS's own threads as well 1.37 s (the threads oversubscribe the
  cores, and OpenBLAS serialises concurrent callers). Rule 2: dense factorisations and
  eigendecompositions of at most :data:`SMALL_DENSE_SIZE` rows (:func:`small_dense_blas`) run
  with one BLAS thread: their many small synchronised steps stall on shared cores (an
  eigendecomposition of 1,500 rows: 1 s on one thread, 6-12 s on two; the Nystrom
  eigensystem of 2,000 rows 3-6x slower on two), and woken OpenBLAS workers keep spinning
  after the call and halve the speed of the next numba section. Everywhere else (large
  products and solves in the calling thread) BLAS keeps the user's setting, which
  ``threadpoolctl.threadpool_limits`` controls.
* **What one thread can see of another.** skinterp keeps no state of its own across calls,
  and no path depends on the calling thread or on ``n_jobs``: the kernel tiles keep one shape
  and one order of summation whatever ``n_jobs`` is, and the rules hold in every thread, so
  ``n_jobs=1``, ``n_jobs=2`` and a fit in a ``GridSearchCV`` thread give the same bits
  (tests/test_threads.py). The one shared thing is BLAS's own thread count, which OpenBLAS
  keeps per process: while any thread is inside a rule 1 or rule 2 block, BLAS calls of every
  thread of the process run with one thread (:func:`one_blas_thread` counts the users and
  restores the setting when the last leaves). That changes the speed of other threads' BLAS
  calls and, for the large products left to BLAS's threads (the random-feature Gram matrix),
  their last bits: OpenBLAS splits some products along the inner dimension (measured: 2e-12
  relative on a MinNormRFFClassifier fitted beside another fit).
* **Ctrl-C**: :func:`run_in_chunks` stops between chunks; :func:`interruptible` keeps the
  caller responsive during one long LAPACK call.
"""

import atexit
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import partial

from joblib import effective_n_jobs
from joblib.parallel import get_active_backend
from threadpoolctl import ThreadpoolController

try:
    from threadpoolctl import OpenBLASController
except ImportError:  # pragma: no cover - older threadpoolctl without controlling threads
    OpenBLASController = None

from ._progress import progress

SMALL_DENSE_SIZE = 4000
"""Rule 2: dense factorisations (Cholesky, eigendecompositions) up to this many rows, and
products with an inner dimension up to this, run with one BLAS thread (at most a few seconds
for a factorisation; see the module docstring for the measurements)."""


def n_threads(n_jobs):
    """The threads a parallel section uses for ``n_jobs`` (at least 1).

    Numbers have joblib's meaning (``-1`` all cores, ``-2`` all but one). ``None`` is the
    ``n_jobs`` of an enclosing ``joblib.parallel_config`` when it sets one, else
    :func:`blas_threads` (see the module docstring).

    Examples
    --------
    >>> import joblib
    >>> from threadpoolctl import threadpool_limits
    >>> from skinterp._parallel import n_threads
    >>> n_threads(1), n_threads(2)
    (1, 2)
    >>> with joblib.parallel_config(n_jobs=2):
    ...     n_threads(None)
    2
    >>> with threadpool_limits(limits=1, user_api="blas"):
    ...     n_threads(None)
    1
    """
    if n_jobs is None:
        configured = get_active_backend()[1]
        if configured is None:
            return blas_threads()
        n_jobs = configured
    return max(1, int(effective_n_jobs(n_jobs)))


def blas_threads():
    """BLAS's thread count in this process, as the user or the environment set it.

    The largest count of the loaded BLAS libraries (threadpoolctl), or joblib's core count
    when none is found; while skinterp itself holds BLAS at one thread (:func:`one_blas_thread`)
    the count from before it did, so that no call sees another's temporary limit.
    """
    with _blas_lock:
        if _blas_users > 0:
            return _blas_threads_outside
        return _current_blas_threads()


def _current_blas_threads():
    """The largest thread count of the loaded BLAS libraries (joblib's core count when none
    is found). Call with ``_blas_lock`` held."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    blas = _controller.select(user_api="blas").lib_controllers
    counts = [lib.num_threads for lib in blas if lib.num_threads]
    return max(counts) if counts else max(1, int(effective_n_jobs(-1)))


def chunk_bounds(n_items, chunk_size):
    """Return ``[(start, stop), ...]`` covering ``range(n_items)`` in chunks of ``chunk_size``."""
    chunk_size = max(int(chunk_size), 1)
    return [(start, min(start + chunk_size, n_items)) for start in range(0, n_items, chunk_size)]


def run_in_chunks(function, n_items, chunk_size, n_jobs=None, *, verbose=0, description=None):
    """Call ``function(start, stop)`` for every chunk of ``range(n_items)``.

    Chunks run on a pool of :func:`n_threads` ``(n_jobs)`` threads (at most one per chunk),
    each calling BLAS with one BLAS thread (rule 1 of the module docstring); with one thread
    they run in the calling thread and BLAS keeps its setting. ``function`` must release the
    GIL for its heavy part (a ``nogil`` numba kernel or a BLAS call) and write its results into
    preallocated outputs; results are returned in order.

    Ctrl-C: ``KeyboardInterrupt`` reaches the calling thread between chunks (or while it waits
    for one); the chunks not yet started are cancelled and the running ones finish, so a call
    stops within about one chunk's time. Callers keep chunks short (well under a second) and
    assign fitted attributes only after this returns, so an interrupted fit leaves the estimator
    as it was.

    With ``verbose``, one line per finished chunk (at most one a second, and the last) goes to
    stderr with the time left (:func:`skinterp._progress.progress`), headed ``description``.
    """
    bounds = chunk_bounds(n_items, chunk_size)
    threads = min(n_threads(n_jobs), len(bounds))
    report = partial(
        progress,
        description=description or "chunks",
        verbose=verbose,
        total=len(bounds),
        min_interval=1.0,
    )
    if threads <= 1:
        try:
            return [function(start, stop) for start, stop in report(bounds)]
        except SystemError as error:
            raise_keyboard_interrupt_inside(error)
            raise
    with one_blas_thread():
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="skinterp")
        try:
            futures = [pool.submit(function, start, stop) for start, stop in bounds]
            return [future.result() for future in report(futures)]
        finally:
            # On an exception (KeyboardInterrupt included) the queued chunks never start.
            pool.shutdown(wait=True, cancel_futures=True)


def raise_keyboard_interrupt_inside(error):
    """Raise ``KeyboardInterrupt`` when ``error`` was caused by one.

    Python runs the SIGINT handler in the main thread between bytecodes, also inside the
    Python callbacks a numba function makes as it returns (boxing a returned array unpickles
    ``numpy.ndarray``); the ``KeyboardInterrupt`` raised there reaches the caller as a
    ``SystemError`` ("returned a result with an exception set"). Called in ``except
    SystemError`` around numba calls of the main thread: Ctrl-C then means
    ``KeyboardInterrupt`` there too.
    """
    seen = set()
    cause = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__


def small_dense_blas(size):
    """Rule 2: one BLAS thread for dense work of ``size`` up to :data:`SMALL_DENSE_SIZE`.

    ``size`` is the number of rows of a matrix being factorised, or the inner dimension of a
    product (the few features of a neighbour search's distance tiles, the batch of an EigenPro
    step). Above it BLAS keeps its own setting.
    """
    return one_blas_thread() if size <= SMALL_DENSE_SIZE else nullcontext()


_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter = None
_blas_threads_outside = None  # BLAS's thread count before the limit
_controller = None  # scanning the loaded libraries costs ~4 ms: do it once per process


@contextmanager
def one_blas_thread():
    """Run the block with one BLAS thread; safe when entered from several threads at once.

    Use :func:`run_in_chunks` or :func:`small_dense_blas` rather than this directly: they are
    the two rules. BLAS's thread count is per process, so ``threadpoolctl``'s limits are
    process-wide: two threads that each save and restore the limits can interleave so that the
    last restore writes back the *limited* value, leaving BLAS single-threaded for the rest of
    the process. Here the first thread in saves the limits and the last thread out restores
    them.
    """
    global _blas_users, _blas_limiter, _controller, _blas_threads_outside
    with _blas_lock:
        if _blas_users == 0:
            _blas_threads_outside = _current_blas_threads()
            with _controlling_openblas():
                _blas_limiter = _controller.limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                with _controlling_openblas():
                    _blas_limiter.restore_original_limits()
                _blas_limiter = None


@contextmanager
def _controlling_openblas():
    """Let the calling thread set OpenBLAS's (process-wide) thread count, then let go.

    threadpoolctl lets only one "controlling" thread change it (the first to try, usually the
    main thread) and silently ignores the others: a limit entered from a GridSearchCV thread
    did nothing (measured: the Nystrom eigenvectors computed there differed from those of the
    main thread, both under the limit), and a restore from a thread other than the one that
    limited was lost (BLAS stayed single-threaded). Under ``_blas_lock`` the counted limit is
    coherent, so the thread that holds the lock takes control for the call and releases it.
    """
    clear = getattr(OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)
    try:
        yield
    finally:
        if clear is not None:
            clear(force=True)


WAIT_SLICE = 0.05
"""Seconds between two checks for Ctrl-C while :func:`interruptible` waits."""


_running_calls = set()  # the done-Events of interruptible calls still running


def wait_for_abandoned_calls(announce=False):
    """Wait until every :func:`interruptible` call abandoned by Ctrl-C has finished.

    Registered at exit (with ``announce``): native code still running in a daemon thread while
    the interpreter and OpenBLAS shut down crashes the process (measured: a segmentation fault
    or a hang in OpenBLAS's exit handler, one run in a few, after an interrupted
    eigendecomposition). A second Ctrl-C then exits at once, without the C exit handlers. The
    test suite calls it after each test, so that an abandoned call's memory and cores do not
    bleed into the next test.
    """
    pending = [done for done in list(_running_calls) if not done.is_set()]
    if not pending:
        return
    if announce:
        print(
            "skinterp: waiting for an interrupted LAPACK/Qhull call to finish before exiting "
            "(it cannot be stopped; Ctrl-C again to exit at once) ...",
            file=sys.stderr,
            flush=True,
        )
    try:
        for done in pending:
            while not done.wait(WAIT_SLICE):
                pass
    except KeyboardInterrupt:
        if not announce:
            raise
        sys.stderr.flush()
        os._exit(130)


atexit.register(wait_for_abandoned_calls, announce=True)


def interruptible(function, *args, **kwargs):
    """``function(*args, **kwargs)`` in a worker thread, the caller waiting in short steps.

    For one long call that releases the GIL (numpy's LAPACK, Qhull, a ``nogil`` numba kernel,
    a LAPACK call through ctypes as in :mod:`skinterp._linalg`): Python
    sees Ctrl-C only after such a call returns when it runs in the main thread. Run in a
    thread, the call leaves the main thread free to raise ``KeyboardInterrupt`` within
    ``WAIT_SLICE`` seconds; the abandoned call runs to its end in the background (LAPACK cannot be
    stopped) and its result is dropped. scipy.linalg's LAPACK wrappers hold the GIL (measured:
    the waiting thread woke 2-9 times in 2-10 s of ``eigh``/``cho_factor``), so for them this
    only moves the wait; numpy.linalg releases it.
    """
    outcome = {}
    done = threading.Event()
    _running_calls.add(done)

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # re-raised in the caller
            outcome["error"] = error
        finally:
            done.set()
            _running_calls.discard(done)

    threading.Thread(target=target, name="skinterp-interruptible", daemon=True).start()
    # An Event, not Thread.join: a KeyboardInterrupt inside join() (Python <= 3.12) marks the
    # still running thread as stopped (bpo-45274's handler releases its state lock).
    while not done.wait(WAIT_SLICE):
        pass
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
