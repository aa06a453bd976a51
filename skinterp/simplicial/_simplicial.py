"""SimplicialInterpolator and SimplicialClassifier: Delaunay interpolation in any dimension."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._base import (
    InterpolatingRegressorMixin,
    InterpolationWarning,
    SquareLossClassifierMixin,
    output_dtype,
    report_interpolation,
    rows_per_chunk,
    validate_features,
)
from . import _core

_FITTED_ARRAYS = {
    "points": "points_",
    "targets": "targets_",
    "offset": "affine_offset_",
    "basis": "affine_basis_",
    "subspace": "affine_subspace_",
    "simplices": "simplices_",
    "neighbors": "neighbors_",
    "transform": "transform_",
    "hull_vertices": "hull_vertices_",
    "heights": "tie_heights_",
}


class _SimplicialBase(BaseEstimator):
    """Shared fit/locate of the simplicial regressor and classifier (the maths is in _core)."""

    _parameter_constraints: dict = {
        "method": [StrOptions({"auto", "triangulation", "lifted"})],
        "outside": [StrOptions({"project", "nearest", "nan", "raise"})],
        "n_jobs": [None, Integral],
        "memory_limit": [None, Interval(Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
    }

    def __init__(self, *, method="auto", outside="project", n_jobs=None, memory_limit=None,
                 verbose=0):
        self.method = method
        self.outside = outside
        self.n_jobs = n_jobs
        self.memory_limit = memory_limit
        self.verbose = verbose

    def _fit_targets(self, X, Y):
        # Every fitted attribute is set after the model is complete: an interrupted fit
        # (Ctrl-C) leaves the arrays of the previous fit, if any.
        model = _core.fit_simplicial(X, Y, self.method, self.memory_limit, self.verbose)
        if model["n_near_duplicates"]:
            warnings.warn(
                f"{model['n_near_duplicates']} training points lie within "
                f"{_core.NEAR_DUPLICATE_RTOL:g} times the data's radius of another point "
                "(near-duplicates) and were merged into it, their targets averaged: predict(X) "
                "returns the averaged target there (relative training residual "
                f"{model['train_residual']:.3g}, in train_residual_).",
                InterpolationWarning,
                stacklevel=4,
            )
        report_interpolation(self, model["train_residual"], np.float64)
        self.n_near_duplicates_ = model["n_near_duplicates"]
        self.method_ = model["method"]
        self.affine_dim_ = model["rank"]
        self.n_unique_ = model["points"].shape[0]
        self.affine_scale_ = model["scale"]
        self.affine_extent_ = model["extent"]
        self.data_radius_ = model["radius"]
        for key, name in _FITTED_ARRAYS.items():
            setattr(self, name, model[key])
        return self

    def _model(self):
        model = {key: getattr(self, name) for key, name in _FITTED_ARRAYS.items()}
        model.update(
            method=self.method_, rank=self.affine_dim_, n_features=self.n_features_in_,
            scale=self.affine_scale_, radius=self.data_radius_, extent=self.affine_extent_,
        )
        return model

    def _values_and_outside(self, X):
        """Interpolated targets and the outside mask, over chunks of rows within the budget."""
        r = self.affine_dim_
        n_outputs = self.targets_.shape[1]
        # work arrays per query: vertices, weights, the projection's corral, coordinates, output
        bytes_per_row = 8 * (4 * (r + 2) + 2 * self.n_features_in_ + n_outputs + 4)
        chunk = rows_per_chunk(bytes_per_row, self.memory_limit, min_rows=4096)
        values = np.empty((X.shape[0], n_outputs))
        outside = np.empty(X.shape[0], dtype=bool)
        model = self._model()
        for start in range(0, X.shape[0], chunk):
            rows = slice(start, min(start + chunk, X.shape[0]))
            vertices, weights, outside[rows] = _core.locate(
                model, X[rows], self.outside, self.n_jobs, verbose=self.verbose
            )
            values[rows] = _core.interpolate(vertices, weights, self.targets_)
        if self.outside == "raise" and outside.any():
            raise ValueError(
                f"{int(outside.sum())} of {outside.shape[0]} queries are outside the convex hull "
                f"of the training points (the first is row {int(np.flatnonzero(outside)[0])}); "
                "use outside='project', 'nearest' or 'nan' to predict there."
            )
        if self.outside == "nan":
            values[outside] = np.nan
        return values, outside

    def _predict_targets(self, X):
        return self._values_and_outside(X)[0]

    def is_outside(self, X):
        """Which queries lie outside the convex hull of the training points.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        outside : ndarray of bool, shape (n_queries,)
            True where the query is outside the hull (its distance to the hull exceeds ``1e-9``
            times the radius of the training data) or, for data in a lower-dimensional affine
            subspace, off that subspace.
        """
        check_is_fitted(self)
        X = validate_features(self, X, reset=False)
        model = self._model()
        bytes_per_row = 8 * (4 * (self.affine_dim_ + 2) + 2 * self.n_features_in_ + 4)
        chunk = rows_per_chunk(bytes_per_row, self.memory_limit, min_rows=4096)
        outside = np.empty(X.shape[0], dtype=bool)
        for start in range(0, X.shape[0], chunk):
            rows = slice(start, min(start + chunk, X.shape[0]))
            outside[rows] = _core.locate(model, X[rows], "nan", self.n_jobs, need_weights=False,
                                         verbose=self.verbose)[2]
        return outside

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


_NOTES = r"""
    The interpolant is the function that is linear on each simplex of the Delaunay triangulation
    of the training points and equals :math:`y_i` at :math:`x_i` (Belkin, 2021, Section 3.5.2;
    Belkin, Hsu and Mitra, 2018). At a query :math:`q` in the simplex with vertices
    :math:`x_{i_0}, \dots, x_{i_d}`, the prediction is :math:`\sum_k \lambda_k y_{i_k}` with
    :math:`\lambda` the barycentric coordinates of :math:`q`. Its excess risk on label-noisy
    classification falls with the dimension, so it is meant to work in high dimension.

    Two ways to find the simplex (``method``):

    * ``"triangulation"`` (low dimension): Qhull's Delaunay triangulation is built once at fit
      and kept as arrays; queries are sorted along a Morton curve and located by a numba
      visibility walk from the previous answer (brute force for the rare walk that fails).
      Inside the hull the output equals :class:`scipy.interpolate.LinearNDInterpolator` on
      well-scaled data (up to rounding; and up to the choice among co-spherical triangulations).
      The triangulation has about 2, 6.5, 27, 135 simplices per point in dimension 2, 3, 4, 5.
    * ``"lifted"`` (any dimension, no triangulation): the Delaunay simplex containing
      :math:`q` and its barycentric weights solve the linear program

      .. math:: \min_\lambda \sum_i \lambda_i \|x_i - q\|^2 \quad \text{s.t.}\quad
                \sum_i \lambda_i x_i = q,\ \sum_i \lambda_i = 1,\ \lambda \ge 0,

      the lifting map onto the paraboloid. A revised simplex method solves it on the nearest
      points and certifies the answer against all training points (no lifted point below the
      lifted facet: an empty circumsphere), adding violators until certified, so the answer is
      exact. It starts from the simplex of Wolfe's projection (below), which contains the
      query; a pivot prices about :math:`4(d+1)` nearby candidates in :math:`O(d^2)`, a
      certificate is one :math:`O(n d)` pass. About 2-3 ms per query at ``n = 2000``,
      ``d = 50`` (``benchmarks/bench_simplicial.py``).
    * ``"auto"``: ``"triangulation"`` up to dimension 5 when the predicted triangulation
      fits in ``memory_limit`` (and, in dimension 4 and 5, has at most a million and 300,000
      simplices: about 36,000 and 2,200 points), else ``"lifted"``. The choice is
      in ``method_``.

    Outside the convex hull (in dimension 20 and more, almost every test point), ``outside``
    decides: ``"project"`` interpolates at the Euclidean projection of the query onto the hull
    (Wolfe's minimum-norm-point algorithm, an exact active-set method, as DelaunaySparse does),
    ``"nearest"`` returns the target of the nearest training point. :meth:`is_outside` reports
    which queries are outside.

    Degenerate data: exact duplicate inputs are merged and their targets averaged (so the
    interpolant passes through the mean target). Data in a lower-dimensional affine subspace,
    including fewer than ``d + 1`` points, are interpolated in the coordinates of their affine
    hull (``affine_dim_``); one distinct point gives a constant, a line gives piecewise-linear
    interpolation along it. Co-spherical points (several Delaunay triangulations) resolve
    deterministically: the distinct points are sorted first, then the triangulation is Qhull's
    and the lifted program's pivoting rules are deterministic, so the answer depends only on
    the set of training points and the query, not on the order of the training rows.

    Floating point: the interpolant is invariant under translation and scaling of the inputs, and
    so is its computation here: every method works in coordinates centred on the bounding box of
    the training points and divided by a power of two (``affine_offset_``, ``affine_extent_``),
    so that data at an offset of ``1e8`` or a scale from ``1e-310`` (subnormal) to ``1e300``
    give the same predictions as the same data near the unit cube, to about ``1e-9`` relative
    to the targets' range (tested with hypothesis: translations up to ``1e8``, scales ``2**k``,
    ``|k| <= 500``). scipy's :class:`~scipy.interpolate.LinearNDInterpolator` works in the raw
    coordinates and loses the geometry at such offsets and scales.

    The first call compiles numba kernels (a few seconds, cached on disk afterwards).
"""

_REFERENCES = """
    .. [1] M. Belkin, "Fit without fear: remarkable mathematical phenomena of deep learning
       through the prism of interpolation", Acta Numerica 30 (2021), Section 3.5.2.
    .. [2] M. Belkin, D. Hsu and P. Mitra, "Overfitting or perfect fitting? Risk bounds for
       classification and regression rules that interpolate", NeurIPS 2018.
    .. [3] T. Chang, L. Watson, T. Lux et al., "Algorithm 1012: DELAUNAYSPARSE", ACM TOMS 46
       (2020).
    .. [4] P. Wolfe, "Finding the nearest point in a polytope", Math. Programming 11 (1976).
"""


class SimplicialInterpolator(InterpolatingRegressorMixin, _SimplicialBase):
    __doc__ = (
        r"""Simplicial (Delaunay) interpolation: piecewise-linear on the Delaunay triangulation.

    Parameters
    ----------
    method : {"auto", "triangulation", "lifted"}, default="auto"
        How the Delaunay simplex of a query is found: a full triangulation built at fit (low
        dimension), or one linear program per query (any dimension). See Notes.
    outside : {"project", "nearest", "nan", "raise"}, default="project"
        Prediction for queries outside the convex hull of the training points: interpolate at
        their Euclidean projection onto the hull, return the nearest training target, return
        NaN, or raise a ``ValueError``.
    n_jobs : int, default=None
        Threads for prediction (joblib's meaning: ``None`` is 1, ``-1`` all cores).
    memory_limit : float, default=None
        Memory budget in MiB. The triangulation's arrays: ``method="auto"`` builds a
        triangulation only within it, ``method="triangulation"`` raises ``MemoryError`` before
        calling Qhull when the predicted size exceeds it. Prediction works through chunks of
        queries whose work arrays fit in it. ``None`` takes scikit-learn's ``working_memory``
        (1024 MiB by default).

    Attributes
    ----------
    method_ : str
        The method used: ``"triangulation"``, ``"lifted"``, ``"interval"`` (the data lie on a
        line) or ``"point"`` (a single distinct input).
    affine_dim_ : int
        Dimension ``r`` of the affine hull of the training inputs.
    n_unique_ : int
        Number ``m`` of distinct training inputs (duplicates merged).
    points_ : ndarray of shape (m, r)
        Distinct training inputs in the coordinates of their affine hull.
    targets_ : ndarray of shape (m, n_outputs)
        Their targets (the mean over duplicates).
    affine_offset_ : ndarray of shape (n_features,)
        Origin of the affine coordinates.
    affine_basis_ : ndarray of shape (r, n_features)
        ``points_ = ((X - affine_offset_) / affine_extent_) @ affine_basis_.T``.
    affine_extent_ : float
        Power of two that scales the centred inputs into ``[-1, 1]`` (see Notes).
    affine_subspace_ : ndarray of shape (r, n_features)
        Orthonormal basis of the affine hull's direction.
    affine_scale_ : float
        Scale of the affine coordinates.
    data_radius_ : float
        Largest distance of a training input to the centre of their bounding box.
    simplices_ : ndarray of shape (n_simplices, r + 1)
        Delaunay simplices (``"triangulation"`` only; else empty).
    neighbors_ : ndarray of shape (n_simplices, r + 1)
        Neighbour opposite each vertex, ``-1`` on the hull.
    transform_ : ndarray of shape (n_simplices, r + 1, r)
        Barycentric transforms, as in :attr:`scipy.spatial.Delaunay.transform`.
    hull_vertices_ : ndarray of shape (n_hull,)
        Indices of ``points_`` on the boundary of the convex hull (all points unless
        ``"triangulation"`` or ``"interval"``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SimplicialClassifier : The classifier twin (interpolates one-hot labels).
    scipy.interpolate.LinearNDInterpolator : The same interpolant in low dimension, NaN outside.

    Notes
    -----"""
        + _NOTES
        + """
    References
    ----------"""
        + _REFERENCES
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skinterp import SimplicialInterpolator
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.5]])
    >>> y = np.array([0.0, 1.0, 2.0, 4.0])
    >>> model = SimplicialInterpolator().fit(X, y)
    >>> model.method_
    'triangulation'
    >>> model.predict(X).round(12).tolist()  # training targets, to rounding (~1e-16)
    [0.0, 1.0, 2.0, 4.0]
    >>> model.predict([[0.25, 0.25], [3.0, -1.0]]).round(6).tolist()
    [0.75, 1.0]
    >>> model.is_outside([[0.25, 0.25], [3.0, -1.0]]).tolist()
    [False, True]
    """
    )

    def predict(self, X, return_outside=False):
        """Interpolate at ``X``.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.
        return_outside : bool, default=False
            Also return which queries are outside the convex hull.

        Returns
        -------
        y_pred : ndarray of shape (n_queries,) or (n_queries, n_outputs)
            Interpolated values.
        outside : ndarray of bool, shape (n_queries,)
            Only when ``return_outside``: True for queries outside the hull.
        """
        check_is_fitted(self)
        X = validate_features(self, X, reset=False)
        values, outside = self._values_and_outside(X)
        values = self._as_fitted_shape(values).astype(output_dtype(X), copy=False)
        return (values, outside) if return_outside else values


class SimplicialClassifier(SquareLossClassifierMixin, _SimplicialBase):
    __doc__ = (
        r"""Simplicial (Delaunay) interpolation classifier: interpolated one-hot labels, argmax.

    The one-hot encoding of the labels is interpolated on the Delaunay triangulation (see
    :class:`SimplicialInterpolator`) and the class of largest interpolated score is predicted.
    For two classes this is the sign of the interpolated :math:`\pm 1` label, the paper's rule.
    The interpolated scores are convex combinations of one-hot vectors, hence probabilities.

    Parameters
    ----------
    method : {"auto", "triangulation", "lifted"}, default="auto"
        How the Delaunay simplex of a query is found. See :class:`SimplicialInterpolator`.
    outside : {"project", "nearest", "raise"}, default="project"
        Prediction for queries outside the convex hull: at their projection onto the hull, the
        nearest training label, or a ``ValueError``.
    n_jobs : int, default=None
        Threads for prediction.
    memory_limit : float, default=None
        Memory budget in MiB of the triangulation's arrays (see
        :class:`SimplicialInterpolator`).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    method_ : str
        The method used (see :class:`SimplicialInterpolator`).
    affine_dim_ : int
        Dimension ``r`` of the affine hull of the training inputs.
    n_unique_ : int
        Number ``m`` of distinct training inputs; duplicates get the mean one-hot vector.
    points_ : ndarray of shape (m, r)
        Distinct training inputs in affine coordinates.
    targets_ : ndarray of shape (m, n_classes)
        Their (averaged) one-hot labels.
    affine_offset_ : ndarray of shape (n_features,)
        Origin of the affine coordinates.
    affine_basis_ : ndarray of shape (r, n_features)
        Basis of the affine coordinates.
    affine_extent_ : float
        Power of two that scales the centred inputs into ``[-1, 1]``.
    affine_subspace_ : ndarray of shape (r, n_features)
        Orthonormal basis of the affine hull's direction.
    affine_scale_ : float
        Scale of the affine coordinates.
    data_radius_ : float
        Largest distance of a training input to the centre of their bounding box.
    simplices_ : ndarray of shape (n_simplices, r + 1)
        Delaunay simplices (``"triangulation"`` only).
    neighbors_ : ndarray of shape (n_simplices, r + 1)
        Neighbour opposite each vertex.
    transform_ : ndarray of shape (n_simplices, r + 1, r)
        Barycentric transforms.
    hull_vertices_ : ndarray of shape (n_hull,)
        Indices of ``points_`` on the hull boundary.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    SimplicialInterpolator : The regressor whose core this classifier shares.

    Notes
    -----"""
        + _NOTES
        + """
    References
    ----------"""
        + _REFERENCES
        + """
    Examples
    --------
    >>> import numpy as np
    >>> from skinterp import SimplicialClassifier
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> clf = SimplicialClassifier().fit(X, ["a", "b", "b"])
    >>> clf.predict([[0.1, 0.1], [0.5, 0.3]]).tolist()
    ['a', 'b']
    >>> clf.predict_proba([[0.1, 0.1]]).round(2).tolist()
    [[0.8, 0.2]]
    """
    )

    _parameter_constraints: dict = {
        **_SimplicialBase._parameter_constraints,
        "outside": [StrOptions({"project", "nearest", "raise"})],
    }

    def predict_proba(self, X):
        """Interpolated one-hot scores (convex weights of the simplex' labels).

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        proba : ndarray of shape (n_queries, n_classes)
            Non-negative scores summing to one, in the order of ``classes_`` (float32 for
            float32 ``X``).
        """
        return self._normalised_class_scores(X).astype(output_dtype(X), copy=False)
