"""The kernel machines' core: ``fit`` returns a frozen model, ``predict`` reads it.

:func:`fit_kernel_machine` resolves the kernel (bandwidth, tail degree, ridge), merges exact
duplicates, centres far-off inputs, chooses the solver (:func:`resolve_solver`) and runs it: the
direct solve (:mod:`._direct`), conjugate gradient (:mod:`._cg`) or EigenPro 2
(:mod:`._eigenpro`); with ``neighbors`` it keeps the local interpolant (:mod:`._local`), whose
solves happen at prediction. It measures the training residual, warns about what the fit could
not do, and returns a :class:`KernelMachineModel`; :func:`predict_kernel_machine` evaluates one.
The estimators (:mod:`._estimators`) validate, call these and copy the model's fields to the
attributes of the same names; the sharded EigenPro fit (:mod:`skinterp.distributed._eigenpro`)
builds the same model.
"""

import sys
from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._base import (
    RESIDUAL_RTOL,
    InterpolationWarning,
    memory_budget_bytes,
    output_dtype,
    relative_residual,
    warn_user,
)
from .._duplicates import merge_duplicate_points
from ..kernels import KernelSpec, kernel_product
from ..kernels._bandwidth import auto_bandwidth
from ._cg import cg_fit, default_landmarks
from ._cost import (
    cg_cost,
    check_cost,
    direct_cost,
    eigenpro_cost,
    local_cost,
    ridge_prefers_cg,
)
from ._direct import saddle_point_fit
from ._eigenpro import EigenProEpoch, eigenpro_fit, tile_shape
from ._local import LocalInterpolant
from ._polynomial_tail import PolynomialBasis, check_tail_size, evaluate_monomials

# The inputs are centred (for the radial built-in kernels) when the squared norm of their mean
# exceeds this many times their mean squared distance to it: ||x||^2 - 2 x.z + ||z||^2 then
# loses more than about 7 digits of ||x - z||^2 to cancellation.
CENTRING_RATIO = 100.0
# The smallest EigenPro tolerance per working dtype: float32 kernel sums cannot resolve a
# relative residual below the float32 interpolation tolerance of skinterp._base.
TOL_FLOOR = {np.dtype(np.float64): 0.0, np.dtype(np.float32): RESIDUAL_RTOL[np.dtype(np.float32)]}
# The smallest CG tolerance per working dtype: float32 kernel tiles bound the residual's digits.
CG_TOL_FLOOR = {np.dtype(np.float64): 0.0, np.dtype(np.float32): 1e-5}
# solver="auto" takes EigenPro beyond the direct solver's memory only for tolerances it
# reaches in a practical number of epochs; a tighter tol asks for CG.
EIGENPRO_MIN_TOL = 1e-7
# neighbors=k measures its training residual on at most this many rows (a fixed subsample),
# fewer for large k (local_residual_rows).
LOCAL_RESIDUAL_ROWS = 1000


def local_residual_rows(k):
    """Rows on which ``neighbors=k`` measures its training residual: ``LOCAL_RESIDUAL_ROWS`` up
    to k = 50, then fewer as each local solve's ``k**3`` grows (at least 100), so that the
    check stays a fraction of a second (it took 12 s at k = 600 with 1000 rows)."""
    return int(max(100, min(LOCAL_RESIDUAL_ROWS, LOCAL_RESIDUAL_ROWS * (50 / k) ** 3)))


def _empty_curve():
    return np.empty(0)


@dataclass(frozen=True)
class KernelMachineModel:
    """A fitted kernel machine; the estimators copy every field to the attribute of the same
    name with a trailing underscore (documented there).

    One model for every solver: the fields of the solvers that did not run keep their
    defaults below (0, NaN, empty curves), so that fits by different solvers have the same
    attributes and compare side by side (e.g. in a ``GridSearchCV`` over ``solver``).
    ``dual_coef`` and ``polynomial_coef`` are 2-D here; the regressor shows them 1-D for 1-D
    targets (:func:`squeeze_single_output`), and :func:`predict_kernel_machine` takes either.
    """

    kernel: KernelSpec
    bandwidth: object  # float, or None for a callable kernel
    solver: str
    degree: int
    centers: np.ndarray
    work_centers: np.ndarray
    input_offset: object  # ndarray of shape (n_features,) or None
    dual_coef: object  # ndarray, or None with neighbors
    polynomial_coef: object  # ndarray, or None with neighbors
    polynomial_powers: np.ndarray
    polynomial_shift: np.ndarray
    polynomial_scale: np.ndarray
    local_interpolant: object  # LocalInterpolant with neighbors, else None
    n_samples_fit: int
    n_points_fit: int
    n_duplicates: int
    norm: float
    train_residual: float
    batch_size: int
    used_pseudo_inverse: bool = False
    n_iter: int = 0
    cg_residual: float = float("nan")
    loss_curve: np.ndarray = field(default_factory=_empty_curve)
    validation_loss_curve: np.ndarray = field(default_factory=_empty_curve)
    n_epochs: int = 0
    step_size: float = float("nan")
    critical_batch_size: float = float("nan")
    n_components: int = 0


def squeeze_single_output(model):
    """``model`` with ``dual_coef`` and ``polynomial_coef`` of one output as 1-D arrays (the
    regressor's attributes for 1-D targets, as scikit-learn's ``KernelRidge.dual_coef_``)."""
    if model.dual_coef is None:
        return model
    return replace(
        model, dual_coef=model.dual_coef[:, 0], polynomial_coef=model.polynomial_coef[:, 0]
    )


# --------------------------------------------------------------------------------------------
# Resolving the parameters
# --------------------------------------------------------------------------------------------
def centring_offset(X):
    """The mean of ``X`` when distances computed from raw coordinates would lose precision
    to its offset (see ``CENTRING_RATIO``), else ``None``."""
    mean = X.mean(axis=0, dtype=np.float64)
    spread = float(np.mean(np.einsum("ij,ij->i", X - mean, X - mean, dtype=np.float64)))
    if float(mean @ mean) > CENTRING_RATIO * spread:
        return mean
    return None


def direct_solver_fits(n_samples, itemsize, memory_limit=None):
    """The rule of ``solver="auto"``: whether the ``n x n`` kernel matrix fits the budget."""
    return n_samples * n_samples * itemsize <= memory_budget_bytes(memory_limit)


def resolve_bandwidth(kernel, bandwidth, X):
    """The bandwidth used: ``None`` for a callable kernel, the ``"auto"`` rule's value on ``X``,
    or ``bandwidth``."""
    if callable(kernel):
        return None
    if isinstance(bandwidth, str):  # "auto"
        return float(auto_bandwidth(X))
    return float(bandwidth)


def kernel_spec(kernel, bandwidth, nu):
    """The :class:`~skinterp.kernels.KernelSpec` of the parameters (``bandwidth`` resolved)."""
    return KernelSpec(kernel, 1.0 if bandwidth is None else bandwidth, float(nu))


def resolve_degree(degree, spec, kernel_name):
    """The tail's degree: ``degree``, or the kernel's minimum (scipy's rule); a warning
    below the minimum, as scipy's."""
    minimum = spec.min_degree
    if degree is None:
        return minimum
    degree = int(degree)
    if -1 < degree < minimum:
        warn_user(
            f"degree={degree} is below the minimum degree {minimum} of the "
            f"{kernel_name!r} kernel (other than -1): the interpolation system may be "
            "singular or indefinite, and a ridge may act unexpectedly.",
            UserWarning,
        )
    return degree


def resolve_ridge(ridge, n_samples):
    """``ridge`` as a float64 array of ``n_samples`` finite non-negative values."""
    ridge = np.asarray(ridge, dtype=np.float64)
    if ridge.ndim == 0:
        ridge = np.full(n_samples, float(ridge))
    elif ridge.shape != (n_samples,):
        raise ValueError(
            f"ridge must be a non-negative number or an array of shape (n_samples,) = "
            f"({n_samples},); got shape {ridge.shape}."
        )
    if not np.all(np.isfinite(ridge)) or np.any(ridge < 0):
        raise ValueError("ridge must be finite and non-negative.")
    return ridge


def resolve_solver(
    solver,
    n_samples,
    itemsize,
    *,
    plain=True,
    ridge_system=None,
    memory_limit=None,
    tol=1e-6,
    cg_tol=1e-10,
    subsample_size=None,
):
    """The solver ``"auto"`` means; ``plain`` is False when the system has a tail, a ridge or
    a kernel that is not positive definite (which EigenPro does not solve). ``ridge_system``:
    ``(n_features, n_outputs, n_monomials, spec, dtype)`` when every sample has a ridge > 0
    (a bounded condition number): ``"auto"`` then takes cg over the direct solve when the cost
    model expects it to be faster (:func:`._cost.ridge_prefers_cg`)."""
    if solver == "eigenpro" and not plain:
        raise ValueError(
            "solver='eigenpro' solves K a = y for a positive definite kernel only; this "
            "fit has a polynomial tail (degree >= 0), a ridge > 0 or a conditionally "
            "positive definite kernel: use solver='direct' or 'auto'."
        )
    if solver != "auto":
        return solver
    if direct_solver_fits(n_samples, itemsize, memory_limit):
        if ridge_system is not None and ridge_system[3].is_builtin:
            d, n_outputs, n_monomials, spec, dtype = ridge_system
            landmarks = min(n_samples, subsample_size or default_landmarks(d))
            faster, _, _ = ridge_prefers_cg(
                n_samples, d, n_outputs, n_monomials, landmarks, cg_tol, spec, dtype
            )
            if faster:
                return "cg"
        return "direct"
    return "eigenpro" if plain and tol >= EIGENPRO_MIN_TOL else "cg"


def report_cost(solver, shape, n_outputs, n_monomials, spec, dtype, *, params):
    """The solver's estimated flops, bytes and seconds: printed with ``verbose``, and a
    request over ``memory_limit`` refused before anything large is allocated (the
    estimate is in the message)."""
    verbose, memory_limit = params["verbose"], params["memory_limit"]
    if not spec.is_builtin and not verbose:
        return  # a callable's rate is not worth measuring for a refusal on bytes alone
    n, d = shape
    if solver == "direct":
        cost = direct_cost(n, d, n_outputs, n_monomials, dtype.itemsize, spec, dtype)
        check_cost(
            cost,
            memory_limit,
            advice="Use solver='cg' (any kernel, tail or "
            "ridge) or solver='eigenpro' (positive definite kernels without tail "
            "or ridge), both in memory O(n_samples * n_features), or raise "
            "memory_limit (MiB; default: sklearn's working_memory).",
        )
    elif solver == "cg":
        landmarks = min(n, params["subsample_size"] or default_landmarks(d))
        cost = cg_cost(n, d, n_outputs, n_monomials, landmarks, params["cg_max_iter"], spec, dtype)
    else:
        cost = eigenpro_cost(
            n, d, n_outputs, params["n_epochs"], min(n, 4000), spec, dtype, memory_limit
        )
    if verbose:
        print(f"[KernelInterpolator] cost estimate, {cost}", file=sys.stderr, flush=True)


def tiles(memory_limit, itemsize):
    """The kernel tile shape for the budget, as keyword arguments of the tile functions."""
    rows, cols = tile_shape(memory_limit, itemsize)
    return dict(tile_rows=rows, tile_cols=cols)


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------
def eigenpro_convergence_message(residual, tol, n_points, dtype, n_epochs, memory_limit):
    """The ``ConvergenceWarning`` of an EigenPro fit that ended above ``tol``."""
    need = n_points * n_points * np.dtype(dtype).itemsize / 2**20
    return (
        f"EigenPro stopped after n_epochs={n_epochs} epochs with a relative training "
        f"residual of {residual:.3g}, above tol={tol:g}: the fit does not interpolate its "
        "training targets (interpolates_ is False). Raise n_epochs to continue, raise tol "
        "to accept this residual, or use solver='direct' (its "
        f"{n_points} x {n_points} kernel matrix needs {need:,.0f} MiB: raise memory_limit, "
        f"now {memory_budget_bytes(memory_limit) / 2**20:,.0f} MiB, for "
        "solver='auto' to take it)."
    )


def _singular_message(spec, residual, used_pseudo_inverse):
    what = f"bandwidth={spec.bandwidth:g}" if spec.is_builtin else "the kernel callable"
    return (
        f"The kernel matrix of the training points is numerically singular with {what}: "
        f"the fit does not interpolate its training targets (relative residual "
        f"{residual:.2g}"
        + (", pseudo-inverse used" if used_pseudo_inverse else "")
        + "). Near-duplicate points, or a bandwidth much larger than the distances between "
        "points (every kernel value near 1), cause this; choose a bandwidth of the order "
        "of those distances (or rescale X) and merge near-duplicates."
    )


# --------------------------------------------------------------------------------------------
# The solvers, each returning the same _Solve record
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Solve:
    """One solver's answer in the working coordinates, before the residual is measured."""

    coef: np.ndarray
    tail_coef: np.ndarray
    fitted: object  # K a + P b at work_centers, when the solver computed it, else None
    work_centers: np.ndarray  # the centres in the solver's order
    targets: np.ndarray  # their targets
    index: object  # rows of the fit's points that are centres (EigenPro), or None
    tol: float  # the tolerance the solver was asked for
    converged: bool
    stopped: bool  # ended by early stopping or the callback (no ConvergenceWarning)
    report: dict  # the model's solver fields


def _solve_direct(system, P, params):
    X_work, Y_fit, spec = system.X_work, system.Y_fit, system.spec
    solution = saddle_point_fit(
        X_work,
        Y_fit,
        spec,
        ridge=system.ridge,
        P=P,
        positive_definite=system.degree >= spec.min_degree,
        memory_limit=params["memory_limit"],
        n_jobs=params["n_jobs"],
        verbose=params["verbose"],
    )
    return _Solve(
        coef=solution.coef,
        tail_coef=solution.tail_coef,
        fitted=solution.fitted,
        work_centers=X_work,
        targets=Y_fit,
        index=None,
        tol=RESIDUAL_RTOL[X_work.dtype],
        converged=True,
        stopped=True,
        report=dict(
            batch_size=X_work.shape[0], used_pseudo_inverse=bool(solution.used_pseudo_inverse)
        ),
    )


def _solve_cg(system, P, params):
    X_work, Y_fit = system.X_work, system.Y_fit
    tol = max(float(params["cg_tol"]), CG_TOL_FLOOR[X_work.dtype])
    result = cg_fit(
        X_work,
        Y_fit,
        system.spec,
        ridge=system.ridge,
        P=P,
        tol=tol,
        max_iter=params["cg_max_iter"],
        n_landmarks=params["subsample_size"],
        memory_limit=params["memory_limit"],
        n_jobs=params["n_jobs"],
        random_state=params["random_state"],
        verbose=params["verbose"],
    )
    return _Solve(
        coef=result.coef,
        tail_coef=result.tail_coef,
        fitted=result.fitted,
        work_centers=X_work,
        targets=Y_fit,
        index=None,
        tol=tol,
        converged=result.converged,
        stopped=False,
        report=dict(
            batch_size=X_work.shape[0],
            loss_curve=result.residual_curve,
            n_components=result.n_landmarks,
            n_iter=result.n_iter,
            cg_residual=result.residual,
        ),
    )


def _solve_eigenpro(system, params):
    X_work, Y_fit = system.X_work, system.Y_fit
    tol = max(float(params["tol"]), TOL_FLOOR[X_work.dtype])
    callback = None
    if params["callback"] is not None:
        callback = _epoch_callback(params["callback"], system.offset)
    result = eigenpro_fit(
        X_work,
        Y_fit,
        system.spec,
        n_epochs=params["n_epochs"],
        tol=tol,
        batch_size=params["batch_size"],
        step_size=params["step_size"],
        n_components=params["n_components"],
        subsample_size=params["subsample_size"],
        early_stopping=params["early_stopping"],
        validation_fraction=params["validation_fraction"],
        n_iter_no_change=params["n_iter_no_change"],
        memory_limit=params["memory_limit"],
        n_jobs=params["n_jobs"],
        random_state=params["random_state"],
        verbose=params["verbose"],
        callback=callback,
    )
    return _Solve(
        coef=result.coef,
        tail_coef=np.zeros((system.basis.size, Y_fit.shape[1])),
        fitted=result.fitted,
        work_centers=result.centers,
        targets=result.targets,
        index=result.index,
        tol=tol,
        converged=result.converged,
        stopped=result.stopped_by_callback or params["early_stopping"],
        report=eigenpro_report(result),
    )


def eigenpro_report(result):
    """The model's solver fields of an EigenPro result (local or sharded)."""
    return dict(
        loss_curve=result.loss_curve,
        validation_loss_curve=result.validation_loss_curve,
        n_epochs=result.n_epochs,
        batch_size=result.batch_size,
        step_size=result.step_size,
        critical_batch_size=result.critical_batch_size,
        n_components=result.n_components,
    )


def _epoch_callback(user_callback, offset):
    """The user's ``callback`` fed the state in the user's coordinates."""
    raw_centers = {}

    def call(state):
        if offset is not None:
            if "value" not in raw_centers:
                centers = (state.centers + offset).astype(state.centers.dtype)
                centers.flags.writeable = False
                raw_centers["value"] = centers
            fields = {k: v for k, v in vars(state).items() if not k.startswith("_")}
            fields["centers"] = raw_centers["value"]
            state = EigenProEpoch(
                spec=state._spec,
                tiles=state._tiles,
                offset=offset,
                work_centers=state._work_centers,
                **fields,
            )
        return bool(user_callback(state))

    return call


# --------------------------------------------------------------------------------------------
# fit and predict
# --------------------------------------------------------------------------------------------
def fit_kernel_machine(X, Y, sample_weight=None, **params):
    """Fit the kernel machine to 2-D targets ``Y``; returns a :class:`KernelMachineModel`.

    ``params``: every parameter of the estimators (their ``get_params()``; defaults and meaning
    are documented there, and only there). ``sample_weight``: validated, non-negative, rows of
    weight 0 included (removed here together with their per-sample ``ridge``). Nothing outside
    the returned model is touched, so an interrupted fit (Ctrl-C) leaves the estimator as it
    was. Its ``train_residual`` is the relative residual over the training rows (duplicates
    against their own targets).
    """
    system = training_system(
        X,
        Y,
        sample_weight,
        params["kernel"],
        params["bandwidth"],
        params["nu"],
        params["degree"],
        params["ridge"],
        params["dtype"],
    )
    if params["neighbors"] is not None:
        return _fit_local(system, params["neighbors"], params["n_jobs"])
    P = system.basis.matrix(system.X_work) if system.basis.size else None
    solver = resolve_solver(
        params["solver"],
        system.X_work.shape[0],
        system.X_work.dtype.itemsize,
        plain=P is None and not system.regularised and system.spec.is_positive_definite,
        ridge_system=_ridge_system(system),
        memory_limit=params["memory_limit"],
        tol=params["tol"],
        cg_tol=params["cg_tol"],
        subsample_size=params["subsample_size"],
    )
    report_cost(
        solver,
        system.X_work.shape,
        system.Y.shape[1],
        system.basis.size,
        system.spec,
        system.X_work.dtype,
        params=params,
    )
    if solver == "direct":
        solve = _solve_direct(system, P, params)
    elif solver == "cg":
        solve = _solve_cg(system, P, params)
    else:
        solve = _solve_eigenpro(system, params)
    return _global_model(system, solver, solve, params)


@dataclass(frozen=True)
class TrainingSystem:
    """The system a solver sees, and what the model needs to map it back to the user's rows.

    ``X, Y``: the training rows of positive weight; ``X_fit, Y_fit``: the distinct points and
    their (weighted) mean targets when exact duplicates were merged (else ``X, Y``);
    ``X_work``: ``X_fit`` less ``offset`` (the centring of far-off inputs, or ``None``);
    ``ridge``: the per-point ridge (``ridge_i / w_i`` with weights); ``merged``: the merger's
    record (its ``inverse`` maps rows to points).
    """

    X: np.ndarray
    Y: np.ndarray
    X_fit: np.ndarray
    Y_fit: np.ndarray
    X_work: np.ndarray
    offset: object
    spec: KernelSpec
    bandwidth: object
    degree: int
    basis: PolynomialBasis
    ridge: np.ndarray
    regularised: bool
    merged: object
    n_duplicates: int

    def model_fields(self):
        """The model's fields that every solver shares."""
        return dict(
            kernel=self.spec,
            bandwidth=self.bandwidth,
            degree=int(self.degree),
            input_offset=self.offset,
            polynomial_powers=self.basis.powers,
            polynomial_shift=self.basis.shift,
            polynomial_scale=self.basis.scale,
            n_samples_fit=int(self.X.shape[0]),
            n_points_fit=int(self.X_fit.shape[0]),
            n_duplicates=int(self.n_duplicates),
        )


def training_system(X, Y, sample_weight, kernel, bandwidth, nu, degree, ridge, dtype):
    """The :class:`TrainingSystem` of the validated rows: the working dtype, rows of weight 0
    removed with their ridge, the kernel and tail resolved, exact duplicates merged (when
    there is no ridge), far-off inputs centred."""
    if dtype is not None:
        X = np.ascontiguousarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=X.dtype)
    ridge = resolve_ridge(ridge, X.shape[0])
    weights = sample_weight
    if weights is not None:
        positive = weights > 0
        X, Y = np.ascontiguousarray(X[positive]), np.ascontiguousarray(Y[positive])
        # Weighted kernel ridge regression: (K + diag(ridge_i / w_i)) a = y.
        weights = weights[positive]
        ridge = ridge[positive] / weights
    dtype = X.dtype
    bandwidth = resolve_bandwidth(kernel, bandwidth, X)
    spec = kernel_spec(kernel, bandwidth, nu)
    degree = resolve_degree(degree, spec, kernel)
    regularised = bool(np.any(ridge > 0))

    # Exact duplicates: one centre each, targets averaged (K would be singular). With a
    # ridge the system is regular and every row is kept (kernel ridge regression's answer).
    merged = merge_duplicate_points(X, Y, sample_weight=weights)
    n_duplicates = 0 if regularised else X.shape[0] - merged.points.shape[0]
    if n_duplicates:
        X_fit = merged.points
        Y_fit = np.ascontiguousarray(merged.targets, dtype=dtype)
        ridge = np.zeros(X_fit.shape[0])
    else:
        X_fit, Y_fit = X, Y
    check_tail_size(X_fit.shape[0], X_fit.shape[1], degree)
    offset = centring_offset(X_fit) if spec.is_builtin else None
    X_work = X_fit
    if offset is not None:
        # Radial kernels are translation invariant: work on centred inputs (see Notes).
        X_work = np.ascontiguousarray(X_fit - offset.astype(dtype), dtype=dtype)
    return TrainingSystem(
        X=X,
        Y=Y,
        X_fit=X_fit,
        Y_fit=Y_fit,
        X_work=X_work,
        offset=offset,
        spec=spec,
        bandwidth=bandwidth,
        degree=degree,
        basis=PolynomialBasis(X_work, degree),
        ridge=ridge,
        regularised=regularised,
        merged=merged,
        n_duplicates=n_duplicates,
    )


def _ridge_system(system):
    """``resolve_solver``'s ``ridge_system`` when every point has a ridge > 0, else None."""
    if system.ridge.size and float(np.min(system.ridge)) > 0:
        X_work = system.X_work
        return (X_work.shape[1], system.Y.shape[1], system.basis.size, system.spec, X_work.dtype)
    return None


def _global_model(system, solver, solve, params):
    """The model of a direct, cg or EigenPro solve: the training residual measured (one kernel
    pass unless the solver computed ``K a``), the norm, the centres in the user's
    coordinates; then the warnings of a fit that is not what was asked."""
    verbose, dtype = params["verbose"], system.X_work.dtype
    fitted = solve.fitted
    if fitted is None:
        # The contract, measured: K a at the centres (one kernel pass; EigenPro's
        # confirming pass already computed it when it stopped at tol).
        if verbose:
            print("[KernelInterpolator] training residual ...", file=sys.stderr, flush=True)
        fitted = kernel_product(
            solve.work_centers,
            solve.work_centers,
            solve.coef,
            kernel=system.spec,
            n_jobs=params["n_jobs"],
            verbose=verbose,
            **tiles(params["memory_limit"], dtype.itemsize),
        )
    fit_residual = relative_residual(fitted, solve.targets)
    residual = _residual_at_rows(fitted, solve.index, system)
    norm = float(np.sqrt(max(np.einsum("ij,ij->", solve.coef, fitted, dtype=np.float64), 0.0)))
    centers = solve.work_centers
    if system.offset is not None:
        centers = (solve.work_centers + system.offset).astype(dtype)
    if verbose:
        print(
            f"[KernelInterpolator] {solver}: relative training residual {residual:.3g}",
            file=sys.stderr,
            flush=True,
        )
    model = KernelMachineModel(
        solver=solver,
        centers=centers,
        work_centers=solve.work_centers,
        dual_coef=solve.coef,
        polynomial_coef=solve.tail_coef,
        local_interpolant=None,
        norm=norm,
        train_residual=residual,
        **system.model_fields(),
        **solve.report,
    )
    _warn_about_fit(model, solve, system, fit_residual, params)
    return model


def _residual_at_rows(fitted, index, system):
    """The relative residual over the training rows: duplicates against their own targets,
    rows that are not centres (EigenPro's validation points) left out."""
    at_rows = fitted
    if index is not None:
        at_rows = np.full((system.X_fit.shape[0], fitted.shape[1]), np.nan)
        at_rows[index] = fitted
    if system.n_duplicates:
        at_rows = at_rows[system.merged.inverse]
    rows = ~np.isnan(at_rows[:, 0]) if at_rows.shape[0] else np.zeros(0, dtype=bool)
    return relative_residual(at_rows[rows], system.Y[rows])


def _warn_about_fit(model, solve, system, fit_residual, params):
    """The warnings of a fit that is not what was asked: a singular direct system, EigenPro
    or cg ending above their tolerance, duplicates with different targets."""
    solver, tol, spec, X_fit = model.solver, solve.tol, system.spec, system.X_fit
    dtype = X_fit.dtype
    if system.regularised:
        pass  # kernel ridge regression: not interpolating is the request
    elif solver == "direct" and (fit_residual > RESIDUAL_RTOL[dtype] or model.used_pseudo_inverse):
        warn_user(
            _singular_message(spec, fit_residual, model.used_pseudo_inverse),
            InterpolationWarning,
        )
    elif solver == "eigenpro" and not solve.converged and not solve.stopped and fit_residual > tol:
        warn_user(
            eigenpro_convergence_message(
                fit_residual,
                tol,
                X_fit.shape[0],
                dtype,
                params["n_epochs"],
                params["memory_limit"],
            ),
            ConvergenceWarning,
        )
    if solver == "cg" and not solve.converged:
        warn_user(
            f"Conjugate gradient stopped after cg_max_iter={params['cg_max_iter']} iterations "
            f"with a relative residual of {model.cg_residual:.3g}, above "
            f"cg_tol={tol:g}. "
            "Raise cg_max_iter, raise subsample_size (more Nystrom landmarks: a better "
            "preconditioner), accept a larger cg_tol, or use solver='direct'.",
            ConvergenceWarning,
        )
    n_duplicates, residual = model.n_duplicates, model.train_residual
    interpolates = residual <= RESIDUAL_RTOL[dtype]
    if n_duplicates and not interpolates and fit_residual <= max(tol, RESIDUAL_RTOL[dtype]):
        warn_user(
            f"{n_duplicates} training rows are exact duplicates of other rows with "
            f"different targets; they were merged into {X_fit.shape[0]} distinct points "
            "whose targets are averaged, so the fit cannot interpolate every row "
            f"(train_residual_ = {residual:.3g}). Deduplicate X (or average the targets "
            "yourself) to silence this.",
            InterpolationWarning,
        )


def _fit_local(system, neighbors, n_jobs):
    """``neighbors=k``: store the training set and its KD-tree; the local solves happen
    at prediction (scipy's semantics). The training residual is measured on a fixed
    subsample of :func:`local_residual_rows` rows, so that fit stays cheap."""
    spec, basis, X_work, offset = system.spec, system.basis, system.X_work, system.offset
    if not spec.is_builtin:
        raise ValueError("neighbors=k needs a built-in kernel, not a callable.")
    dtype = X_work.dtype
    k = min(int(neighbors), X_work.shape[0])
    check_tail_size(k, X_work.shape[1], basis.degree)
    local = LocalInterpolant(
        X_work, system.Y_fit, spec.code, spec.bandwidth, system.ridge, basis.powers, k
    )
    rows = np.arange(system.X.shape[0])
    n_rows = local_residual_rows(k)
    if rows.size > n_rows:
        rows = np.sort(np.random.RandomState(0).choice(rows, n_rows, replace=False))
    X_rows = system.X[rows].astype(np.float64)
    if offset is not None:
        X_rows = X_rows - offset
    fitted = local.predict(X_rows, n_jobs=n_jobs)
    residual = relative_residual(fitted, system.Y[rows])
    centers = X_work if offset is None else (X_work + offset).astype(dtype)
    model = KernelMachineModel(
        solver="local",
        centers=centers,
        work_centers=X_work,
        dual_coef=None,
        polynomial_coef=None,
        local_interpolant=local,
        norm=float("nan"),
        train_residual=residual,
        batch_size=k,
        **system.model_fields(),
    )
    if not system.regularised and residual > RESIDUAL_RTOL[dtype] and not system.n_duplicates:
        warn_user(
            f"The local interpolants (neighbors={k}) do not interpolate their training "
            f"points (relative residual {residual:.3g}): their systems are numerically "
            "singular; choose a bandwidth of the order of the distances between points.",
            InterpolationWarning,
        )
    return model


def predict_kernel_machine(model, X, *, memory_limit=None, n_jobs=None, verbose=0):
    """The model's values at the validated queries ``X``: ``(n_queries, n_outputs)`` in the
    output dtype of ``X`` (float32 for float32 queries, float64 otherwise)."""
    out_dtype = output_dtype(X)
    X = np.ascontiguousarray(X, dtype=model.centers.dtype)
    offset = model.input_offset
    if model.local_interpolant is not None:
        local = model.local_interpolant
        X_local = np.asarray(X, dtype=np.float64)
        if offset is not None:
            X_local = X_local - offset
        if verbose:
            cost = local_cost(
                X_local.shape[0],
                X_local.shape[1],
                local.Y.shape[1],
                local.k,
                local.powers.shape[0],
                model.kernel,
                np.float64,
            )
            print(f"[KernelInterpolator] cost estimate, {cost}", file=sys.stderr, flush=True)
        scores = local.predict(X_local, n_jobs=n_jobs, verbose=verbose)
        return scores.astype(out_dtype, copy=False)
    if offset is not None:
        X = np.ascontiguousarray(X - offset.astype(X.dtype), dtype=X.dtype)
    coef = model.dual_coef.reshape(model.dual_coef.shape[0], -1)
    scores = kernel_product(
        X,
        model.work_centers,
        coef,
        kernel=model.kernel,
        n_jobs=n_jobs,
        verbose=verbose,
        **tiles(memory_limit, model.centers.dtype.itemsize),
    )
    if model.polynomial_powers.shape[0]:
        tail_coef = model.polynomial_coef.reshape(model.polynomial_powers.shape[0], -1)
        monomials = evaluate_monomials(
            X, model.polynomial_powers, model.polynomial_shift, model.polynomial_scale
        )
        scores = scores + monomials @ tail_coef
    return scores.astype(out_dtype, copy=False)
