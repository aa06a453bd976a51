"""Full Delaunay triangulation (Qhull through :class:`scipy.spatial.Delaunay`) for low dimension.

The triangulation is built once at fit and kept as plain arrays (``simplices``, ``neighbors``,
``transform`` and the hull vertices), so that a fitted estimator pickles without scipy objects.
Qhull is called with one BLAS thread: its first call with two OpenBLAS threads can be orders of
magnitude slower (scipy issue gh-23854).
"""

import numpy as np
from skinterp._parallel import single_threaded_blas

# Average number of Delaunay simplices per point for uniform random points (measured with Qhull,
# n = 2000); it grows about five-fold per dimension. Used to predict the size of a triangulation.
SIMPLICES_PER_POINT = {1: 1.0, 2: 2.0, 3: 6.5, 4: 27.5, 5: 135.0, 6: 750.0, 7: 4500.0}


def predicted_n_simplices(n_points, dim):
    """Predicted number of simplices of the Delaunay triangulation of ``n_points`` in ``dim``."""
    per_point = SIMPLICES_PER_POINT.get(dim, 4500.0 * 6.0 ** (dim - 7))
    return per_point * n_points


def predicted_bytes(n_points, dim):
    """Predicted memory of the fitted arrays (simplices, neighbours, transform) in bytes."""
    per_simplex = 2 * 4 * (dim + 1) + 8 * (dim + 1) * dim
    return predicted_n_simplices(n_points, dim) * per_simplex


class TriangulationError(ValueError):
    """Qhull could not triangulate the points (degenerate to working precision)."""


def delaunay_arrays(points):
    """Delaunay triangulation of ``points`` ``(n, r)``, ``r >= 2``, as plain arrays.

    Returns ``simplices`` (int32), ``neighbors`` (int32), ``transform`` (float64) and
    ``hull_vertices`` (int64, the points on the boundary of the convex hull). Raises
    :class:`TriangulationError` (a ``ValueError``) when Qhull fails.
    """
    from scipy.spatial import Delaunay, QhullError

    with single_threaded_blas():
        try:
            tri = Delaunay(points)
        except QhullError as error:
            raise TriangulationError(str(error).splitlines()[0]) from error
        transform = np.ascontiguousarray(tri.transform, dtype=np.float64)
    simplices = np.ascontiguousarray(tri.simplices, dtype=np.int32)
    neighbors = np.ascontiguousarray(tri.neighbors, dtype=np.int32)
    hull_vertices = np.unique(tri.convex_hull).astype(np.int64)
    if simplices.shape[0] == 0:
        raise TriangulationError("Qhull returned no simplex.")
    return simplices, neighbors, transform, hull_vertices
