"""KernelInterpolator and KernelInterpolationClassifier: the minimum-norm kernel interpolant.

The estimators validate their inputs and parameters; ``fit`` and ``predict`` live in
:mod:`._core` (:func:`._core.fit_kernel_machine` returns a frozen
:class:`._core.KernelMachineModel`, whose fields become the attributes of the same names, and
:func:`._core.predict_kernel_machine` evaluates it).
"""

import sys
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

from .._base import (
    InterpolatingRegressorMixin,
    SquareLossClassifierMixin,
    fitted_model,
    report_interpolation,
    set_fitted,
)
from ..kernels import KERNEL_NAMES
from ._core import (
    KernelMachineModel,
    fit_kernel_machine,
    kernel_spec,
    predict_kernel_machine,
    squeeze_single_output,
)


def _is_dask_array(X):
    """Whether ``X`` is a dask collection, without importing dask when it is not loaded."""
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(X)


_SHARED_PARAMETERS_DOC = """
    kernel : str or callable, default="laplacian"
        The kernel; built-ins are radial in the Euclidean distance ``r = ||x - z|| / h``:
        ``"laplacian"`` ``exp(-r)``, ``"gaussian"`` ``exp(-r**2 / 2)``, ``"cauchy"`` (alias
        ``"inverse_quadratic"``) ``1 / (1 + r**2)``, ``"matern"`` of smoothness ``nu``,
        ``"inverse_multiquadric"`` ``1 / sqrt(1 + r**2)``, and scipy's conditionally positive
        definite ``"linear"`` ``-r``, ``"thin_plate_spline"`` ``r**2 log r``, ``"cubic"``
        ``r**3``, ``"quintic"`` ``-r**5`` and ``"multiquadric"`` ``-sqrt(1 + r**2)``, which
        need a polynomial tail (``degree``). A callable ``kernel(X, Z)`` returning the
        ``(len(X), len(Z))`` block is the slow path (``bandwidth`` is then not used).
    bandwidth : float or "auto", default="auto"
        The bandwidth ``h``. ``"auto"`` computes it from the training inputs with
        :func:`skinterp.kernels._bandwidth.auto_bandwidth` (the median distance between
        training points, from a fixed subsample of 1000 rows; see the user guide for the
        measured comparison with grid-searched bandwidths); the value used is ``bandwidth_``.
    nu : {0.5, 1.5, 2.5}, default=1.5
        Smoothness of the ``"matern"`` kernel (ignored by the others).
    degree : int, default=None
        Degree of the polynomial tail ``sum_j b_j p_j(x)`` (side conditions ``P^T a = 0``):
        ``None`` is the kernel's minimum (0 for ``"linear"`` and ``"multiquadric"``, 1 for
        ``"thin_plate_spline"`` and ``"cubic"``, 2 for ``"quintic"``, -1 for the positive
        definite kernels), ``-1`` no tail. Below the minimum it warns, as scipy does.
    ridge : float or array-like of shape (n_samples,), default=0.0
        Added to the diagonal of ``K`` (scipy's ``smoothing``, KernelRidge's ``alpha``): 0
        interpolates, > 0 is kernel ridge regression (duplicates are then kept).
    neighbors : int, default=None
        When set, each query is interpolated from its ``neighbors`` nearest training points
        (scipy's ``RBFInterpolator(neighbors=k)``), the local systems solved at prediction in
        numba batches; ``solver`` is then not used and ``solver_`` is ``"local"``.
    solver : {"auto", "direct", "cg", "eigenpro"}, default="auto"
        ``"direct"``: Cholesky of the ``n x n`` kernel matrix (exact interpolation; memory
        ``n**2`` values, time ``n**3 / 3``). ``"eigenpro"``: EigenPro 2 iteration (memory
        ``O(n d)``, time ``2 n**2 d`` per epoch) run until the training residual is at most
        ``tol`` or ``n_epochs`` epochs have run. ``"auto"`` takes ``"direct"`` whenever the
        ``n x n`` matrix fits in ``memory_limit`` (with the default 1024 MiB budget: up to
        11,585 distinct points in float64, 16,384 in float32), else ``"eigenpro"``: both
        deliver the interpolant to the same tolerance, or a ``ConvergenceWarning`` says that
        EigenPro did not. ``"cg"``: projected conjugate gradient on the kernel tiles
        (memory ``O(n (d + subsample_size))``, half a kernel matrix of values per
        iteration) to the relative residual ``cg_tol``, preconditioned by Nystrom on
        ``subsample_size`` landmarks, plus overlapping local solves on kd-tree
        neighbourhoods in 1-3 dimensions; any kernel, tail or ridge (for float64 data and
        a positive definite kernel without tail its kernel passes run in float32, with
        float64 passes for the exact residual: see the user guide). Beyond the direct
        solver's memory, ``"auto"`` takes ``"cg"`` for a tail, a ridge, a conditionally
        positive definite kernel or ``tol < 1e-7``, EigenPro otherwise (EigenPro refuses a
        tail, a ridge and those kernels). Within it, with a ridge > 0 on every sample (a
        bounded condition number), ``"auto"`` takes ``"cg"`` when the cost model expects it
        to be faster than the direct solve (at 12 iterations per decade of ``cg_tol``).
    n_epochs : int, default=100
        Maximum number of EigenPro epochs. A fit that ends above ``tol`` warns
        (``ConvergenceWarning``) unless ``early_stopping`` or ``callback`` ended it.
    cg_tol : float, default=1e-10
        The conjugate gradient's target relative residual ``max_j ||Pi (y - (K + ridge)
        a)_j|| / ||y_j||`` (at least 1e-5 in float32).
    cg_max_iter : int, default=1000
        Maximum conjugate gradient iterations; a fit that ends above ``cg_tol`` warns
        (``ConvergenceWarning``).
    tol : float, default=1e-6
        EigenPro's target relative training residual ``max |f(x_i) - y_i| / max |y_i|``: it
        stops at the first epoch that reaches it (the contract of ``interpolates_`` is 1e-6 in
        float64). In float32 it is at least 1e-2, the float32 interpolation tolerance. The
        direct solver ignores it.
    batch_size : int, default=None
        EigenPro batch size; ``None`` takes the critical batch size capped by the subsample
        size and the memory budget.
    step_size : float, default=None
        EigenPro step size ``eta``; ``None`` takes ``batch_size / beta`` (the optimal step for a
        batch below the critical size).
    n_components : int, default=None
        Eigen-directions ``q`` of the preconditioner; ``None`` chooses the smallest ``q`` whose
        critical batch size reaches the largest useful batch.
    subsample_size : int, default=None
        Nystrom subsample size ``s``; ``None`` is ``min(n, 2000)`` (``4000`` from 100k points)
        for EigenPro, ``min(n, 500)`` landmarks (fewer if ``memory_limit`` asks) for CG.
    early_stopping : bool, default=False
        EigenPro holds out ``validation_fraction`` of the training points (they are then not
        centres) and stops when their MSE has not improved for ``n_iter_no_change`` epochs,
        keeping the best epoch: a regularised fit, which does not interpolate.
    validation_fraction : float, default=0.1
        Held-out fraction for ``early_stopping``.
    n_iter_no_change : int, default=3
        Patience of ``early_stopping``, in epochs.
    dtype : {"float64", "float32"}, default=None
        Working precision; ``None`` keeps the dtype of ``X`` (float64 unless ``X`` is float32).
        float32 halves memory and evaluates kernel tiles about twice as fast (kernel values
        within ~1e-7).
    memory_limit : float, default=None
        Working-memory budget in MiB (``None``: scikit-learn's ``working_memory``). The direct
        solver refuses, before allocating, an ``n x n`` matrix above it; ``solver="auto"``
        then takes EigenPro.
    n_jobs : int or None, default=None
        Threads of the estimator's parallel sections (the kernel tiles; each thread calls BLAS with
        one thread), numbers as in joblib (``-1``: every core). ``None``: the ``n_jobs`` of an
        enclosing ``joblib.parallel_config``, else as many threads as BLAS uses here (every core
        unless limited, e.g. inside a ``GridSearchCV`` worker process); see the user guide's thread
        model. Results do not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seeds EigenPro's subsample, batches and validation split: equal seeds, equal fits.
    verbose : int, default=0
        When > 0, progress on stderr: the direct solver's steps (kernel matrix, Cholesky,
        residual) with their times, EigenPro's setup and one line per epoch with the time
        left, and the kernel products of long predictions.
    callback : callable, default=None
        ``callback(state)`` after every EigenPro epoch (not called by the direct solver), with
        a read-only :class:`~skinterp.kernel_machine.EigenProEpoch`: ``state.epoch``,
        ``state.loss`` (the epoch's training MSE), ``state.residual_estimate``,
        ``state.validation_loss``, ``state.elapsed``, ``state.centers`` and ``state.coef``
        (read-only views, in the solver's order) and ``state.evaluate(X)``, the current
        function at new points. A true return value ends the fit cleanly after this epoch
        (the estimator is then fitted with the current coefficients, without a
        ``ConvergenceWarning``; ``interpolates_`` says whether they interpolate)."""

_SHARED_ATTRIBUTES_DOC = """
    n_features_in_ : int
        Number of features seen during fit.
    bandwidth_ : float or None
        The bandwidth used (``bandwidth``, or its ``"auto"`` value); None for a callable
        kernel.
    centers_ : ndarray of shape (n_centers, n_features)
        The centres ``x_i``: the distinct training points (less the validation points of
        ``early_stopping``), in the order of ``dual_coef_``. Exact duplicate rows are merged
        into one centre; EigenPro reorders the centres, its Nystrom subsample first.
    dual_coef_ : ndarray of shape (n_centers,) or (n_centers, n_outputs), or None
        The coefficients ``a`` of ``f(x) = sum_i a_i k(x_i, x) + sum_j b_j p_j(x)`` (None with
        ``neighbors``).
    degree_ : int
        The degree of the polynomial tail (-1: none).
    polynomial_coef_ : ndarray of shape (n_monomials,) or (n_monomials, n_outputs), or None
        The tail's coefficients ``b`` on the monomials ``prod_k ((x_k - shift_k) / scale_k) **
        p_jk`` of degree at most ``degree_`` (1-D for the regressor's 1-D targets; None with
        ``neighbors``).
    polynomial_powers_ : ndarray of shape (n_monomials, n_features)
        The exponents ``p_jk`` of the tail's monomials (no rows without a tail).
    polynomial_shift_ : ndarray of shape (n_features,)
        The centre of the training points' bounding box (in the coordinates of
        ``work_centers_``), subtracted before the monomials are evaluated.
    polynomial_scale_ : ndarray of shape (n_features,)
        The half-widths of that box (1 where a coordinate has no spread), dividing after the
        shift.
    kernel_ : :class:`~skinterp.kernels.KernelSpec`
        The kernel ``predict`` evaluates: ``kernel`` with the bandwidth ``bandwidth_`` (and
        ``nu``), e.g. ``KernelSpec('laplacian', bandwidth=0.29)``.
    input_offset_ : ndarray of shape (n_features,) or None
        The mean of the training points, subtracted from every input before the kernel sees it
        when the data sit far from the origin (distances would otherwise lose digits to
        cancellation); None when the inputs are used as given.
    work_centers_ : ndarray of shape (n_centers, n_features)
        The centres as the kernel sees them: ``centers_ - input_offset_`` (the same array as
        ``centers_`` when ``input_offset_`` is None).
    local_interpolant_ : object or None
        With ``neighbors``: the training points, targets and kd-tree from which
        ``predict`` solves each query's local system; None otherwise.
    solver_ : str
        The solver used: ``"direct"``, ``"cg"``, ``"eigenpro"`` or ``"local"``
        (``neighbors``).
    n_iter_ : int
        Conjugate gradient iterations (0 for the other solvers).
    cg_residual_ : float
        The conjugate gradient's final relative residual, measured by an exact pass (NaN for
        the other solvers).
    train_residual_ : float
        The relative training residual ``max_i |f(x_i) - y_i| / max_i |y_i|`` over the
        training rows (the centres' rows with ``early_stopping``), measured after the fit.
    interpolates_ : bool
        Whether ``train_residual_`` is within the interpolation tolerance of the working
        dtype (1e-6 in float64, 1e-2 in float32).
    n_samples_fit_ : int
        Number of training rows (of positive sample weight), duplicates included.
    n_points_fit_ : int
        Number of points the solver fitted: the distinct training points (exact duplicates
        merged), or every row with ``ridge > 0`` (which keeps duplicates); EigenPro's
        ``early_stopping`` then holds out some of them (``centers_`` has the rest).
    n_duplicates_ : int
        Training rows that were exact duplicates of another row and were merged into it
        (``n_samples_fit_ - n_points_fit_``).
    loss_curve_ : ndarray of shape (n_epochs,) or (n_iterations,)
        Mean training MSE of each EigenPro epoch (measured on each batch before its update,
        ``n_epochs_`` values); for ``"cg"`` the (recursive) relative residual of each
        iteration (``n_iter_`` values); empty for the direct solver.
    validation_loss_curve_ : ndarray of shape (n_epochs_,) or (0,)
        Validation MSE per epoch with ``early_stopping``.
    n_epochs_ : int
        EigenPro epochs run (0 for the direct solver).
    batch_size_ : int
        EigenPro batch size (``n_centers`` for the direct solver).
    step_size_ : float
        EigenPro step size (NaN for the direct solver).
    critical_batch_size_ : float
        ``beta / lambda_top`` after preconditioning (NaN for the direct solver).
    n_components_ : int
        Eigen-directions of the preconditioner: EigenPro's, or the Nystrom landmarks of
        ``"cg"`` (0 for the direct solver).
    norm_ : float
        RKHS norm of the fitted function, ``sqrt(trace(a^T K a))``.
    used_pseudo_inverse_ : bool
        Whether the direct solver fell back to the pseudo-inverse (numerically singular ``K``)."""

_SHARED_NOTES_DOC = """
    **The solvers and "auto".** ``"auto"`` is a rule on memory only, so that the same
    hyper-parameters give the same kind of solution at any ``n``: the direct solver whenever
    the ``n x n`` kernel matrix fits in ``memory_limit``, else EigenPro run until its relative
    training residual is at most ``tol`` (1e-6 by default, the interpolation contract) or
    ``n_epochs`` epochs. Every fit measures ``train_residual_`` and sets ``interpolates_``;
    EigenPro ending above ``tol`` warns with a ``ConvergenceWarning`` naming ``n_epochs``,
    ``tol`` and ``memory_limit`` (to use the direct solver). Costs: the direct solve takes
    ``n**2 d`` for the matrix and ``n**3 / 3`` flops for the Cholesky factor (about 30 s at
    n = 10,000 on two cores); an EigenPro epoch ``2 n**2 d`` flops (about 1 s at n = 15,000,
    d = 8), and the tolerance is confirmed by one more such pass. Rough kernels (the Laplacian)
    converge in tens to hundreds of epochs to 1e-6; smooth kernels (Gaussian) with small
    eigenvalues may not reach it in any practical number of epochs: then raise
    ``memory_limit`` for the direct solver, or accept a larger ``tol``.

    **Duplicates.** Exact duplicate rows are merged (``n_duplicates_``) before either solver,
    their targets averaged: the fit interpolates the averaged targets, and when duplicates
    have different targets ``train_residual_`` reports the difference and an
    ``InterpolationWarning`` says so. Near-duplicates are not merged: they make ``K``
    numerically singular, which the direct solver reports (warning naming ``bandwidth``).

    **Interrupts.** Ctrl-C raises ``KeyboardInterrupt`` within about a second during kernel
    tiles, the blocked Cholesky and EigenPro's epochs (measured: 0.3-0.7 s into the epochs of
    a 100k x 50 fit); an interrupted fit leaves the estimator as it was (unfitted, or its
    previous fit). One exception: EigenPro's setup eigendecomposes the ``s x s`` Nystrom
    matrix in a single LAPACK call that holds the GIL, which Ctrl-C waits for (about 1 s at
    the default ``s = 2000``, 5-12 s at ``s = 4000``, the default from 100k points, on two
    shared cores); a smaller ``subsample_size`` shortens it.

    **dtype.** Computation is in the working dtype (``dtype`` or that of ``X``); ``predict``
    and ``decision_function`` return float32 for float32 queries, float64 otherwise."""


class _KernelMachine(BaseEstimator):
    """What the regressor and the classifier share: parameters, the fit core and prediction."""

    _drop_zero_rows = False  # _fit_targets removes them with their per-sample ridge

    _parameter_constraints: dict = {
        "kernel": [StrOptions(set(KERNEL_NAMES)), callable],
        "bandwidth": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "nu": [Interval(Real, 0, None, closed="neither")],
        "degree": [Interval(Integral, -1, None, closed="left"), None],
        "ridge": [Interval(Real, 0, None, closed="left"), "array-like"],
        "neighbors": [Interval(Integral, 1, None, closed="left"), None],
        "solver": [StrOptions({"auto", "direct", "eigenpro", "cg"})],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "cg_tol": [Interval(Real, 0, None, closed="left")],
        "cg_max_iter": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "step_size": [Interval(Real, 0, None, closed="neither"), None],
        "n_components": [Interval(Integral, 0, None, closed="left"), None],
        "subsample_size": [Interval(Integral, 1, None, closed="left"), None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float64", "float32"}), None],
        "memory_limit": [Interval(Real, 0, None, closed="neither"), None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callback": [callable, None],
    }

    def __init__(
        self,
        kernel="laplacian",
        bandwidth="auto",
        *,
        nu=1.5,
        degree=None,
        ridge=0.0,
        neighbors=None,
        solver="auto",
        n_epochs=100,
        tol=1e-6,
        cg_tol=1e-10,
        cg_max_iter=1000,
        batch_size=None,
        step_size=None,
        n_components=None,
        subsample_size=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=3,
        dtype=None,
        memory_limit=None,
        n_jobs=None,
        random_state=None,
        verbose=0,
        callback=None,
    ):
        self.kernel = kernel
        self.bandwidth = bandwidth
        self.nu = nu
        self.degree = degree
        self.ridge = ridge
        self.neighbors = neighbors
        self.solver = solver
        self.n_epochs = n_epochs
        self.tol = tol
        self.cg_tol = cg_tol
        self.cg_max_iter = cg_max_iter
        self.batch_size = batch_size
        self.step_size = step_size
        self.n_components = n_components
        self.subsample_size = subsample_size
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype
        self.memory_limit = memory_limit
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback

    def __sklearn_is_fitted__(self):
        # Fitted means the model's attributes exist: validation sets n_features_in_ before a
        # fit that Ctrl-C may interrupt.
        return hasattr(self, "work_centers_")

    def _fit_or_route(self, fit, X, y, sample_weight):
        """A dask ``X`` goes to the sharded EigenPro fit (the optional skinterp[dask] extra);
        anything else to the mixin's ``fit``."""
        if _is_dask_array(X):
            if sample_weight is not None:
                raise ValueError(
                    "sample_weight is not supported with a dask X (the sharded "
                    "EigenPro fit); compute X or leave sample_weight out."
                )
            return self._fit_dask(X, y)
        return fit(X, y, sample_weight)

    def _fit_targets(self, X, Y, sample_weight=None):
        # The maths is in ._core; the model's fields become the attributes only now, so an
        # interrupted fit leaves the estimator as it was.
        self._set_model(fit_kernel_machine(X, Y, sample_weight, **self.get_params()))

    def _set_model(self, model):
        """Copy ``model``'s fields to the attributes (also called by the sharded fit)."""
        set_fitted(self, model)
        report_interpolation(self, model.train_residual, model.centers.dtype)

    def _model(self):
        return fitted_model(self, KernelMachineModel)

    def _predict_targets(self, X):
        return predict_kernel_machine(
            self._model(),
            X,
            memory_limit=self.memory_limit,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )

    def _fit_dask(self, X, y):
        """The sharded EigenPro fit (the optional skinterp[dask] extra) of a dask ``X``."""
        from skinterp.distributed import fit_kernel_interpolator

        spec = None if callable(self.kernel) else kernel_spec(self.kernel, 1.0, self.nu)
        degree = self.degree if self.degree is not None else (spec.min_degree if spec else -1)
        if (
            degree >= 0
            or np.any(np.asarray(self.ridge) > 0)
            or self.neighbors is not None
            or self.solver in ("direct", "cg")
            or (spec is not None and not spec.is_positive_definite)
        ):
            raise ValueError(
                "A dask X is fitted by the sharded EigenPro solver only: a positive definite "
                "kernel without polynomial tail (degree=-1 or None), ridge=0, neighbors=None "
                "and solver 'auto' or 'eigenpro'. Compute X (numpy) for the other settings."
            )
        # The sharded fit resolves the bandwidth, centres the inputs, sets every fitted
        # attribute (at the end) and warns as the local fit does.
        fit_kernel_interpolator(self, X, y)
        return self


class KernelInterpolator(InterpolatingRegressorMixin, _KernelMachine):
    __doc__ = f"""Kernel machine that interpolates: the minimum-RKHS-norm interpolant.

    ``f(x) = sum_i a_i k(x_i, x)`` with ``K a = y`` (``K_ij = k(x_i, x_j)``), solved directly
    for small ``n`` or by EigenPro 2 iteration in memory ``O(n d)`` for large ``n``.

    Parameters
    ----------{_SHARED_PARAMETERS_DOC}

    Attributes
    ----------{_SHARED_ATTRIBUTES_DOC}

    See Also
    --------
    KernelInterpolationClassifier : The classifier twin (one-hot targets, square loss).
    scipy.interpolate.RBFInterpolator : The same interpolant with a dense LU of the
        ``(n + Q) x (n + Q)`` system (``epsilon = 1 / bandwidth``).
    sklearn.kernel_ridge.KernelRidge : Ridge-regularised kernel regression (two dense
        ``n x n`` float64 matrices).

    Notes
    -----
    For distinct points and a strictly positive definite kernel (all built-ins) ``K`` is
    invertible and ``a = K^{{-1}} y`` is the interpolant of minimum RKHS norm (Belkin 2021,
    Sections 3.4, 3.6, 3.9), the ``alpha -> 0`` limit of kernel ridge regression. The direct
    solver factors ``K`` by Cholesky; when ``K`` is numerically singular (near-duplicate
    points, a very large bandwidth) it falls back to the minimum-norm least-squares solution
    and warns. EigenPro 2 (Ma and Belkin 2019) runs mini-batch SGD on the square loss with the
    top Nystrom eigen-directions of ``K`` damped, so that batches of thousands of points take
    steps ``eta = m / beta``; run to convergence it reaches the same interpolant (see
    :mod:`skinterp.kernel_machine._eigenpro`). The first call also compiles (or loads from
    cache) the numba kernels.

    **Tails, ridge, cg, neighbors** (the superset of scipy's ``RBFInterpolator`` and
    scikit-learn's ``KernelRidge``; user guide, :ref:`rbf_superset`). With a tail or a ridge the
    system is ``(K + ridge) a + P b = y``, ``P^T a = 0``: the direct solver uses the null-space
    method (``Pi (K + ridge) Pi + c Q1 Q1^T`` through the same blocked Cholesky, then two
    steps of iterative refinement), ``"cg"`` projected conjugate gradient with a Nystrom
    preconditioner, built on Wendland's positive definite companion kernel when there is a
    tail. Our ``degree=None`` gives the positive definite kernels no tail where scipy gives a
    constant one, and our ``"gaussian"`` is ``exp(-r**2 / 2)`` (scipy's ``epsilon`` is then
    ``1 / (sqrt(2) h)``; ``1 / h`` for every other kernel). Before allocating, each solver
    prints (``verbose``) its estimated flops, bytes and seconds, and a direct solve over
    ``memory_limit`` is refused with that estimate.
{_SHARED_NOTES_DOC}

    References
    ----------
    .. [1] M. Belkin, "Fit without fear: remarkable mathematical phenomena of deep learning
       through the prism of interpolation", Acta Numerica 30 (2021).
    .. [2] S. Ma and M. Belkin, "Kernel machines that adapt to GPUs for effective large batch
       training", MLSys (2019).

    Examples
    --------
    >>> import numpy as np
    >>> from skinterp import KernelInterpolator
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(size=(50, 2))
    >>> y = np.sin(6 * X[:, 0]) + X[:, 1]
    >>> model = KernelInterpolator().fit(X, y)
    >>> model.solver_, round(model.bandwidth_, 2), model.interpolates_
    ('direct', 0.29, True)
    >>> bool(np.allclose(model.predict(X), y, atol=1e-8))
    True

    A per-epoch hook: record EigenPro's training loss and stop once it is small.

    >>> losses = []
    >>> def record(state):
    ...     losses.append(state.loss)
    ...     return state.loss < 1e-4
    >>> model = KernelInterpolator(solver="eigenpro", callback=record, random_state=0)
    >>> model = model.fit(X, y)
    >>> model.n_epochs_ == len(losses) and losses[-1] < 1e-4
    True

    scipy's thin-plate spline with its linear tail, by the direct solve and by conjugate
    gradient, and kernel ridge regression on the same estimator:

    >>> from scipy.interpolate import RBFInterpolator
    >>> X_new = rng.uniform(size=(5, 2))
    >>> reference = RBFInterpolator(X, y)(X_new)
    >>> tps = KernelInterpolator(kernel="thin_plate_spline").fit(X, y)
    >>> tps.degree_, tps.polynomial_coef_.shape
    (1, (3,))
    >>> bool(np.allclose(tps.predict(X_new), reference, atol=1e-10))
    True
    >>> cg = KernelInterpolator(kernel="thin_plate_spline", solver="cg").fit(X, y)
    >>> bool(np.allclose(cg.predict(X_new), reference, atol=1e-8)), cg.cg_residual_ < 1e-10
    (True, True)
    >>> ridge = KernelInterpolator(ridge=1e-2).fit(X, y)
    >>> ridge.interpolates_
    False
    """

    def fit(self, X, y, sample_weight=None):
        """Fit the interpolant (or, with ``ridge > 0``, the kernel ridge regression).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (a ``dask.array`` runs the sharded EigenPro fit).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights ``w_i``. With ``ridge > 0`` the fit minimises
            ``sum_i w_i ||f(x_i) - y_i||^2 + ridge ||f||^2`` (``KernelRidge``'s weighted
            problem: the per-sample ridge ``ridge_i / w_i``); at ``ridge=0`` the interpolant
            of distinct points does not depend on them, and exact duplicates interpolate the
            weighted mean of their targets. Rows of weight 0 are left out.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit_or_route(super().fit, X, y, sample_weight)

    def _set_model(self, model):
        # 1-D targets: 1-D dual_coef_ and polynomial_coef_, as KernelRidge's dual_coef_.
        super()._set_model(squeeze_single_output(model) if self._single_output else model)


class KernelInterpolationClassifier(SquareLossClassifierMixin, _KernelMachine):
    __doc__ = f"""Kernel interpolation classifier: the kernel interpolant of one-hot labels.

    Fits :class:`KernelInterpolator`'s interpolant to one-hot targets (square loss) and
    predicts the class of largest output.

    Parameters
    ----------{_SHARED_PARAMETERS_DOC}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.{_SHARED_ATTRIBUTES_DOC}

    See Also
    --------
    KernelInterpolator : The regressor, with the maths.

    Notes
    -----
    The square loss on one-hot labels is what Belkin (2021, Section 3.1) uses throughout:
    interpolating classifiers fitted this way reach the test accuracy of tuned ones. On the
    5000-image MNIST sample (pixels / 255, laplacian kernel, bandwidth 10) EigenPro reaches
    100% training accuracy in two epochs and the direct solve's 93.8% test accuracy.
    ``interpolates_`` refers to the one-hot scores (residual at most 1e-6 of 1), a stricter
    test than a training accuracy of 100%.
{_SHARED_NOTES_DOC}

    References
    ----------
    .. [1] M. Belkin, "Fit without fear", Acta Numerica 30 (2021).
    .. [2] S. Ma and M. Belkin, "Kernel machines that adapt to GPUs for effective large batch
       training", MLSys (2019).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skinterp import KernelInterpolationClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> model = KernelInterpolationClassifier().fit(X[:1000], y[:1000])
    >>> float(model.score(X[:1000], y[:1000])), model.interpolates_
    (1.0, True)
    >>> bool(model.score(X[1000:], y[1000:]) > 0.9)
    True
    """

    def fit(self, X, y, sample_weight=None):
        """Fit the interpolating classifier (one-hot targets, square loss).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (a ``dask.array`` runs the sharded EigenPro fit).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, as in :meth:`KernelInterpolator.fit` (they matter with
            ``ridge > 0`` and for exact duplicates). Rows of weight 0 are left out.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        return self._fit_or_route(super().fit, X, y, sample_weight)

    def decision_function(self, X):
        """The interpolated one-hot scores.

        Parameters
        ----------
        X : array-like of shape (n_queries, n_features)
            Query inputs.

        Returns
        -------
        scores : ndarray of shape (n_queries, n_classes)
            Interpolated one-hot scores (``(n_queries,)``, the second class's score minus the
            first's, for two classes, as scikit-learn expects).
        """
        return self._decision_scores(X)
