"""Numba conventions shared by every compiled kernel of the package.

* Kernels are module-level functions decorated with ``numba.njit(cache=NUMBA_CACHE, nogil=True)``
  in small topic modules (never jitted inside methods).
* ``NUMBA_CACHE`` is the one caching switch, read from the environment variable
  ``SKINTERP_NUMBA_CACHE`` (default on), and turned off, with one ``RuntimeWarning``, when no
  cache location is writable (:func:`cache_is_usable`). Caching removes the first-call compile
  cost from every process after the first one.
* **No stale cache.** Numba checks a cached function against its own file only, so a kernel
  that inlines a helper of another module would keep running the old helper after an edit of
  that module. The package's cached kernels are stamped instead with a hash of every source
  file of the package (:data:`SOURCE_STAMP`, :func:`install_source_stamp`): any edit anywhere
  in skinterp, or another installed version, recompiles them all once.
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

import hashlib
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


PACKAGE_DIRECTORY = os.path.dirname(os.path.abspath(__file__))


def source_stamp(directory=PACKAGE_DIRECTORY):
    """A hash of the contents of every ``.py`` file under ``directory`` (about 2 ms)."""
    digest = hashlib.sha256()
    for root, directories, files in os.walk(directory):
        directories.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                digest.update(os.path.relpath(path, directory).encode())
                with open(path, "rb") as source:
                    digest.update(source.read())
    return digest.hexdigest()


SOURCE_STAMP = source_stamp()


def install_source_stamp():
    """Make numba stamp the cache of every jitted function of this package with
    :data:`SOURCE_STAMP` instead of its own file's modification time and size.

    For each of numba's file-backed cache locators a subclass that accepts only this package's
    files is put in front of it; functions of other packages are cached as before. Returns
    whether it could (numba's internal layout differs in other versions: then numba's own
    stamps apply and the module docstring's caveat stands).
    """
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover
        return False
    locators = caching.CacheImpl._locator_classes
    if any(getattr(locator, "_skinterp", False) for locator in locators):
        return True
    stamped = []
    for name in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator"):
        base = getattr(caching, name, None)
        if base is None or base not in locators:
            continue

        def from_function(cls, py_func, py_file, _base=base):
            if not os.path.abspath(py_file).startswith(PACKAGE_DIRECTORY + os.sep):
                return None
            return super(cls, cls).from_function.__func__(cls, py_func, py_file)

        locator = type(
            f"SkinterpSourceStamped{name}",
            (base,),
            {
                "_skinterp": True,
                "get_source_stamp": lambda self: SOURCE_STAMP,
                "from_function": classmethod(from_function),
            },
        )
        stamped.append((locators.index(base), locator))
    for offset, (index, locator) in enumerate(stamped):
        locators.insert(index + offset, locator)
    return bool(stamped)


install_source_stamp()

NUMBA_CACHE = os.getenv("SKINTERP_NUMBA_CACHE", "true").strip().lower() in {
    "1",
    "true",
    "yes",
    "on",
}
if NUMBA_CACHE and not cache_is_usable():
    # Work without the cache (every process compiles on first use) rather than fail.
    NUMBA_CACHE = False
    warnings.warn(
        "skinterp: numba cannot write a cache for the compiled kernels here (read-only install "
        "and no writable NUMBA_CACHE_DIR or home directory); they are compiled in every "
        "process instead. Set NUMBA_CACHE_DIR to a writable directory to cache them.",
        RuntimeWarning,
        stacklevel=2,
    )

# A set, not a frozenset: numba.njit(fastmath=...) accepts only bool, set or dict.
SAFE_FASTMATH = {"reassoc", "contract", "nsz"}
