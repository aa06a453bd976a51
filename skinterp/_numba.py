"""Numba conventions shared by every compiled kernel of the package.

* Kernels are module-level functions decorated with ``numba.njit(cache=NUMBA_CACHE, nogil=True)``
  in small topic modules (never jitted inside methods).
* ``NUMBA_CACHE`` is the one caching switch, read from the environment variable
  ``SKINTERP_NUMBA_CACHE`` (default on). Caching removes the first-call compile cost from every
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

NUMBA_CACHE = os.getenv("SKINTERP_NUMBA_CACHE", "true").strip().lower() in {"1", "true", "yes", "on"}

# A set, not a frozenset: numba.njit(fastmath=...) accepts only bool, set or dict.
SAFE_FASTMATH = {"reassoc", "contract", "nsz"}
