"""Fit and predict on a Dask cluster (the optional ``skinterp[dask]`` extra).

Nothing here is imported by :mod:`skinterp` itself: ``import skinterp`` never imports dask.
Every function takes an optional ``client`` (a :class:`distributed.Client`); ``None`` uses the
active one (:func:`distributed.get_client`). Dask schedules and moves the data; the maths is the
package's own (kernel tiles, the Nystrom preconditioner, the feature blocks, the min-norm solve,
the neighbour search), called on the workers.

* :func:`ship_model`: a fitted estimator sent to every worker once, usable under
  :class:`dask_ml.wrappers.ParallelPostFit`; :func:`predict` maps it over a dask array.
* :func:`fit_min_norm` / :func:`fit_min_norm_rff`: the random-feature Gram matrices summed
  from feature blocks that each worker generates from the seed; :func:`gram_sweep` the same
  at every feature count of a double-descent sweep.
* :func:`eigenpro_fit` / :func:`fit_kernel_interpolator`: EigenPro with the centres and their
  coefficients sharded over the workers.
* :class:`ShardedNeighbors`: the exact k nearest neighbours of a sharded training set, merged
  on the client, and the singular-kernel prediction on them.
"""

try:
    import dask.array  # noqa: F401
    import distributed  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "skinterp.distributed needs dask.array and dask.distributed: install the optional "
        "extra with `pip install skinterp[dask]` (dask[array,distributed] and dask-ml)."
    ) from error

from ._client import (
    ShippedModel,
    WorkerLostError,
    configure_workers,
    model_nbytes,
    predict,
    ship_model,
)
from ._eigenpro import ShardedKernelModel, eigenpro_fit, fit_kernel_interpolator
from ._neighbors import ShardedNeighbors, merge_neighbors
from ._random_features import fit_min_norm, fit_min_norm_rff, gram_sweep

__all__ = [
    "ShardedKernelModel",
    "ShardedNeighbors",
    "ShippedModel",
    "WorkerLostError",
    "configure_workers",
    "eigenpro_fit",
    "fit_kernel_interpolator",
    "fit_min_norm",
    "fit_min_norm_rff",
    "gram_sweep",
    "merge_neighbors",
    "model_nbytes",
    "predict",
    "ship_model",
]
