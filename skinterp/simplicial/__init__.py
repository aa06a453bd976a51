"""Simplicial (Delaunay) interpolation in any dimension (Belkin, 2021, Section 3.5.2).

* :class:`SimplicialInterpolator`: multi-output regressor, linear on each Delaunay simplex.
* :class:`SimplicialClassifier`: its classifier twin (interpolated one-hot labels, argmax).

Private modules: ``_triangulation`` (Qhull for low dimension), ``_walk`` (numba walks and
barycentric coordinates), ``_lifted`` (the Delaunay simplex of one query by the lifted linear
program, no triangulation), ``_hull`` (Euclidean projection onto the convex hull), ``_core`` (the
functional core) and ``_simplicial`` (the estimators).
"""

from ._simplicial import SimplicialClassifier, SimplicialInterpolator

__all__ = ["SimplicialInterpolator", "SimplicialClassifier"]
