"""Numba conventions shared by every compiled kernel of the package.

* Kernels are module-level functions decorated with ``numba.njit(cache=NUMBA_CACHE, nogil=True)``
  in small topic modules (never jitted inside methods).
* ``NUMBA_CACHE`` is the one caching switch, read from the environment variable
  ``SKINTERP_NUMBA_CACHE`` (default on), and turned off, with one ``RuntimeWarning``, when no
  cache location is writable (:func:`cache_is_usable`). Caching removes the first-call compile cost from every
  process after the first one. Numba checks a cached function against its own file only: after
  editing a jitted helper, delete the ``__pycache__/*.nbi`` and ``*.nbc`` files of the modules
  that call it, or they keep running the old helper compiled into them.
* Fused multiply-adds (``fastmath={"contract"}``) are not the default either; the polynomial
  kernels (``kernels/_exp.py``, ``random_features/_cos.py``; 2x measured) and the sparse
  projection (``random_features/_projection.py``) enable them alone.
* No blanket ``fastmath=True``: kernels that divide by a distance or test for inf/NaN would lose
  their guards. Where reassociation helps a reduction, use ``SAFE_FASTMATH``.
* Parallelism comes from ``nogil`` kernels run over chunks of rows by
  :func:`skinterp._parallel.run_in_chunks` (a thread pool), not from ``parallel=True``: numba's
  default ``workqueue`` threading layer aborts when a parallel kernel is entered from several
  threads at once, which is exactly what ``GridSearchCV(n_jobs=2)`` with the threading backend or
  a user's own thread pool does.
"""

import os

import warnings


def _probe():  # a function of this file for numba's cache locators to place
    return None


def cache_is_usable():
    """Whether numba can cache the package's kernels on disk.

    numba takes the first of its cache locators that accepts a function (``NUMBA_CACHE_DIR``,
    the ``__pycache__`` next to the source, the user-wide cache directory, ...) and raises
    "cannot cache function ... no locator available" at decoration, or fails when writing, if
    none is writable: a read-only install without a writable home, or an unwritable
    ``NUMBA_CACHE_DIR``. The same choice is made here on a function of this module, and its
    directory is created and tested for writing.
    """
    try:
        from numba.core.caching import CacheImpl
    except ImportError:  # another numba layout: let numba decide
        return True
    try:
        for locator_class in CacheImpl._locator_classes:
            locator = locator_class.from_function(_probe, os.path.abspath(__file__))
            if locator is not None:
                locator.ensure_cache_path()  # mkdir and a temporary file: raises if unwritable
                return True
    except Exception:
        return False
    return False


NUMBA_CACHE = os.getenv("SKINTERP_NUMBA_CACHE", "true").strip().lower() in {"1", "true", "yes", "on"}
if NUMBA_CACHE and not cache_is_usable():
    # Work without the cache (every process compiles on first use) rather than fail.
    NUMBA_CACHE = False
    warnings.warn(
        "skinterp: numba cannot write a cache for the compiled kernels here (read-only install "
        "and no writable NUMBA_CACHE_DIR or home directory); they are compiled in every "
        "process instead. Set NUMBA_CACHE_DIR to a writable directory to cache them.",
        RuntimeWarning, stacklevel=2,
    )

# A set, not a frozenset: numba.njit(fastmath=...) accepts only bool, set or dict.
SAFE_FASTMATH = {"reassoc", "contract", "nsz"}
