"""EigenPro 2: preconditioned mini-batch SGD towards the kernel interpolant, in memory O(n d).

Notation: ``n`` training points, kernel matrix ``K``, coefficients ``a`` (``n x c``), the square
loss ``L(a) = (1/2n) ||K a - Y||^2`` seen in the RKHS, whose Hessian is the covariance operator
with the eigenvalues ``lambda_1 >= lambda_2 >= ...`` of ``K / n``.

Setup (Nystrom): a random subsample ``S`` of size ``s``; the top eigenpairs ``(lambda_i, e_i)``
of ``K_SS / s`` (LAPACK's ``?syevr``, :func:`skinterp._linalg.top_eigenpairs`, unit
eigenvectors ``E``); the preconditioner weights
``D_i = (1 - (lambda_tail / lambda_i)**alpha) / lambda_i`` for ``i <= q`` with
``lambda_tail = lambda_{q+1}`` and the damping ``alpha = 0.95`` of the reference code (it
absorbs the Nystrom error of the small eigenvalues).

Iteration, for a batch ``b`` of ``m`` points and step ``eta``::

    g    = K(X_b, X) a - Y_b
    a_b -= (eta / m) g
    a_S += (eta / m) (1 / s) E D E^T K(X_S, X_b) g

which is SGD with the gradient projected by ``P = I - sum_i (1 - lambda_tail/lambda_i) e_i e_i``
(the Nystrom eigenfunctions). ``P`` lowers the top of the spectrum to about ``lambda_tail``, so
the critical batch size ``m* = beta / lambda_top`` (``beta = max k(x, x)``) grows from a handful
to thousands: batches of ``m <= m*`` points with step ``eta = m / beta`` make as much progress
per epoch as single-point SGD, and large batches are what BLAS runs fast.

Choices made automatically: ``q`` is the smallest number of eigen-directions for which ``m*``
reaches the largest useful batch ``m_max = min(n, s, rows the memory budget allows)``; then
``m = min(m_max, m*)`` and ``eta = m / beta`` (``2 m / (beta + (m - 1) lambda_top)`` when a user
batch exceeds ``m*``, the optimal step beyond the critical batch size).

References: S. Ma and M. Belkin, "Diving into the shallows" (NeurIPS 2017); "Kernel machines
that adapt to GPUs for effective large batch training" (MLSys 2019).
"""

import sys
import time
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from .._base import (
    InterpolationWarning,
    check_memory,
    memory_budget_bytes,
    relative_residual,
    warn_user,
)
from .._linalg import top_eigenpairs
from .._parallel import small_dense_blas
from .._progress import format_duration
from ..kernels import kernel_matrix, kernel_product, squared_norms

EIGENVALUE_DAMPING = 0.95  # alpha of the reference implementation
MAX_EIGENPAIRS = 1000  # eigenpairs computed when q is chosen automatically
MIN_COMPONENTS = 5
# An epoch's training MSE above this multiple of the first epoch's (or of the targets' mean
# square) is divergence: an error naming step_size rather than coefficients of 1e42.
DIVERGENCE_FACTOR = 1e3


def tile_shape(memory_limit, itemsize):
    """Kernel tile ``(rows, cols)`` taking at most 1/8 of the budget (at most 1024 x 4096)."""
    cells = max(memory_budget_bytes(memory_limit) // (8 * itemsize), 64 * 64)
    cols = int(min(4096, max(64, cells // 1024)))
    rows = int(min(1024, max(16, cells // cols)))
    return rows, cols


def default_subsample_size(n_samples):
    """Nystrom subsample size: all points up to 2000, then 2000 (n < 100k) or 4000."""
    return min(n_samples, 2000 if n_samples < 100_000 else 4000)


@dataclass(frozen=True)
class EigenProResult:
    """What :func:`eigenpro_fit` returns: the coefficients ``coef`` of the ``centers`` (the
    training points in the solver's order, ``index`` their rows of ``X``) with their
    ``targets``, the curves and choices of the run, and ``fitted`` (``K a`` at the centres,
    when the final confirming pass computed it, else None)."""

    coef: np.ndarray
    centers: np.ndarray
    targets: np.ndarray
    loss_curve: np.ndarray
    validation_loss_curve: np.ndarray
    n_epochs: int
    batch_size: int
    step_size: float
    critical_batch_size: float
    n_components: int
    subsample_size: int
    n_batches: int
    setup_seconds: float
    converged: bool
    stopped_by_callback: bool
    fitted: object
    index: np.ndarray


class EigenProEpoch:
    """The state of an EigenPro fit after one epoch, as its ``callback`` sees it (read only).

    Attributes
    ----------
    epoch : int
        Epochs done, from 1.
    n_epochs : int
        The maximum number of epochs of the fit.
    centers : ndarray of shape (n_centers, n_features)
        The centres ``x_i`` in the solver's working order (the order of ``coef``), read only.
    coef : ndarray of shape (n_centers, n_outputs)
        The coefficients ``a`` after this epoch, a read-only view (the next epoch changes
        them: copy them to keep them).
    loss : float
        The epoch's mean training MSE, measured on each batch before its update.
    residual_estimate : float
        The largest relative training residual ``|f(x_i) - y_i| / max |y|`` met on the batches
        of the epoch, each measured before its update (what the ``tol`` test looks at).
    validation_loss : float or None
        The validation MSE with ``early_stopping``, else None.
    elapsed : float
        Seconds since the fit started.

    Methods
    -------
    evaluate(X)
        The current function at the rows of ``X``: ``sum_i a_i k(x_i, x)``, of shape
        ``(n_queries, n_outputs)`` (the one-hot scores for a classifier).
    """

    def __init__(self, *, spec, tiles, offset=None, work_centers=None, **fields):
        self.__dict__.update(fields)
        self._spec, self._tiles, self._offset = spec, tiles, offset
        self._work_centers = self.centers if work_centers is None else work_centers

    def evaluate(self, X):
        """``f(X) = K(X, centers) @ coef`` after this epoch, of shape (n_queries, n_outputs)."""
        X = np.ascontiguousarray(X, dtype=self.coef.dtype)
        if X.ndim != 2 or X.shape[1] != self.centers.shape[1]:
            raise ValueError(
                f"X must have shape (n_queries, {self.centers.shape[1]}), got {X.shape}."
            )
        if self._offset is not None:
            X = np.ascontiguousarray(X - self._offset.astype(X.dtype))
        return kernel_product(X, self._work_centers, self.coef, **self._tiles)

    def __repr__(self):
        return (
            f"{type(self).__name__}(epoch={self.epoch}, loss={self.loss:.4g}, "
            f"residual_estimate={self.residual_estimate:.3g})"
        )


def _read_only(array):
    view = array.view()
    view.flags.writeable = False
    return view


def nystrom_preconditioner(
    X_sub, spec, n_components=None, *, memory_limit=None, n_jobs=None, batch_cap=None
):
    """Top eigensystem of ``K_SS / s`` and the EigenPro preconditioner built on it.

    Returns a dict with ``eigenvectors`` (s x q, unit), ``weights`` (``D``, length q),
    ``top_eigenvalue``, ``tail_eigenvalue``, ``preconditioned_top`` (the top eigenvalue after
    preconditioning, ``lambda_1**(1-alpha) * lambda_tail**alpha``), ``beta`` and ``q``.
    """
    s = X_sub.shape[0]
    # K_SS, eigh's copy and its eigenvectors: three s x s float64 matrices at most.
    check_memory(
        3 * s * s * 8,
        memory_limit,
        what=f"The Nystrom eigendecomposition of a {s}-point subsample",
        advice="Lower subsample_size or raise memory_limit.",
    )
    K_sub = kernel_matrix(X_sub, kernel=spec, n_jobs=n_jobs).astype(np.float64, copy=False)
    beta = float(np.max(np.diagonal(K_sub)))
    if n_components is None:
        # Nystrom estimates below the top quarter of the subsample's spectrum are unreliable.
        n_eig = min(MAX_EIGENPAIRS, s // 4 + MIN_COMPONENTS + 1)
    else:
        n_eig = n_components + 1
    n_eig = max(1, min(n_eig, s))
    K_sub /= s
    # The eigensystem is computed in float32: half the time of float64 (0.54 s against 1.13 s
    # at s = 2000 here). Its rounding, ~1e-7 of lambda_1, is far below the Nystrom error of the
    # estimates (~1 / sqrt(s)); the weights D only need a few correct digits.
    K_sub = K_sub.astype(np.float32)
    # One BLAS thread (skinterp._parallel's rule 2): the tridiagonal reduction gains little
    # from threads and measured 3-6x slower with two OpenBLAS threads on shared cores.
    # LAPACK's ?syevr as scipy's eigh(subset_by_index=...) calls it, with the GIL released
    # (skinterp._linalg): Ctrl-C no longer waits for it (1-1.5 s at s = 2000, the default
    # below 100k points, 6-12 s at s = 4000 on two shared cores).
    with small_dense_blas(s):
        values, vectors = top_eigenpairs(K_sub, n_eig)
    del K_sub
    values = values[::-1].astype(np.float64)
    vectors = vectors[:, ::-1].astype(np.float64)
    # Rounding can leave eigenvalues of a numerically singular K_SS at or below 0.
    floor = max(float(values[0]) * np.finfo(np.float32).eps, np.finfo(np.float64).tiny)
    values = np.maximum(values, floor)
    alpha = EIGENVALUE_DAMPING
    if n_components is None:
        # Smallest q whose preconditioned top eigenvalue gives m* >= batch_cap.
        preconditioned = values[0] ** (1 - alpha) * values**alpha  # if values[i] is the tail
        reach = np.nonzero(beta / preconditioned >= batch_cap)[0]
        q = int(reach[0]) if reach.size else n_eig - 1
        q = max(q, min(MIN_COMPONENTS, n_eig - 1))
    else:
        q = min(int(n_components), n_eig - 1)
    # Directions beyond the numerical rank of K_SS (duplicated or identical rows) carry no
    # spectrum: with such a "tail" the weight 1 / lambda_i would remove the top directions
    # entirely and the iteration could never fit them (20 identical rows: a constant far from
    # the targets' mean). Keep q below the numerical rank.
    numerical_rank = int(np.count_nonzero(values > 10 * floor))
    q = max(0, min(q, numerical_rank - 1))
    if numerical_rank < n_eig:
        what = "bandwidth" if spec.is_builtin else "the kernel"
        warn_user(
            f"The kernel matrix of the {s}-point Nystrom subsample is numerically singular "
            f"(rank about {numerical_rank}): the fit cannot interpolate the training targets. "
            "Duplicate or near-duplicate points, or a bandwidth much larger than the distances "
            f"between points, cause this; check {what} (bandwidth={spec.bandwidth!r}) or merge "
            "duplicates.",
            InterpolationWarning,
        )
    tail = values[q] if q < values.shape[0] else values[-1]
    top = values[:q]
    weights = (1.0 - (tail / top) ** alpha) / top
    preconditioned_top = values[0] ** (1 - alpha) * tail**alpha if q > 0 else values[0]
    return dict(
        eigenvectors=np.ascontiguousarray(vectors[:, :q]),
        weights=weights,
        eigenvalues=values[: q + 1].copy(),
        top_eigenvalue=float(values[0]),
        tail_eigenvalue=float(tail),
        preconditioned_top=float(preconditioned_top),
        beta=beta,
        q=q,
    )


@dataclass(frozen=True)
class EigenProSetup:
    """What :func:`eigenpro_setup` chooses: the subsample size and the working order (Nystrom
    subsample first), the largest useful batch, the preconditioner (a dict of
    :func:`nystrom_preconditioner`), the critical batch size, and the batch and step."""

    subsample_size: int
    work_order: np.ndarray
    batch_cap: int
    preconditioner: dict
    critical_batch_size: float
    batch_size: int
    step_size: float
    auto_step_size: bool


def eigenpro_setup(
    n_samples,
    n_features,
    n_outputs,
    dtype,
    spec,
    rng,
    subsample_rows,
    *,
    batch_size=None,
    step_size=None,
    n_components=None,
    subsample_size=None,
    memory_limit=None,
    n_jobs=None,
):
    """The setup of an EigenPro fit: subsample, working order, preconditioner, batch and step.

    The one place of these choices, for the local solver (:func:`eigenpro_fit`) and the
    sharded one (:func:`skinterp.distributed.eigenpro_fit`): the same ``rng`` state gives both
    the same subsample, preconditioner, batch size and step.

    Parameters
    ----------
    n_samples, n_features, n_outputs : int
        The shape of the (training) ``X`` and ``Y``.
    dtype : numpy dtype
        The working dtype (it sizes the batches in the memory budget).
    spec : KernelSpec
        The kernel.
    rng : RandomState
        Draws the Nystrom subsample (``rng.choice``; the caller's stream goes on from there).
    subsample_rows : callable
        ``subsample_rows(index)`` returns the rows ``X[index]`` (an ndarray of ``dtype``):
        a slice of an in-memory ``X``, or the rows gathered from a cluster.
    batch_size, step_size, n_components, subsample_size, memory_limit, n_jobs :
        As :func:`eigenpro_fit` (``None`` chooses automatically, see the module docstring).

    Returns
    -------
    EigenProSetup
        ``subsample_size`` (``s``), ``work_order`` (the rows of ``X`` in the solver's order,
        the subsample first), ``batch_cap`` (the largest useful batch), ``preconditioner``
        (:func:`nystrom_preconditioner`'s dict), ``critical_batch_size``, ``batch_size``
        (``m``), ``step_size`` (``eta``: ``step_size`` or the automatic step) and
        ``auto_step_size`` (the automatic step for ``m``).
    """
    n, d, c = int(n_samples), int(n_features), int(n_outputs)
    dtype = np.dtype(dtype)
    if subsample_size is None:
        # Shrink the default subsample to the budget (three s x s float64 matrices).
        fitting = int(np.sqrt(memory_budget_bytes(memory_limit) / 24))
        s = max(1, min(default_subsample_size(n), fitting))
    else:
        s = min(int(subsample_size), n)
    in_subsample = np.zeros(n, dtype=bool)
    in_subsample[rng.choice(n, size=s, replace=False)] = True
    work_order = np.concatenate([np.flatnonzero(in_subsample), np.flatnonzero(~in_subsample)])
    # A batch holds X_b, Y_b, g, the product output and K(X_b, X_S): d + 3c + s values per row.
    memory_rows = memory_budget_bytes(memory_limit) // ((d + 3 * c + s) * dtype.itemsize)
    batch_cap = int(max(1, min(n, s, memory_rows)))
    pre = nystrom_preconditioner(
        subsample_rows(work_order[:s]),
        spec,
        n_components,
        memory_limit=memory_limit,
        n_jobs=n_jobs,
        batch_cap=batch_cap,
    )
    beta, lambda_top = pre["beta"], pre["preconditioned_top"]
    critical = beta / lambda_top
    if batch_size is None:
        m = int(max(1, min(batch_cap, np.floor(critical))))
    else:
        m = int(min(batch_size, n))
    auto_eta = m / beta if m <= critical else 2.0 * m / (beta + (m - 1) * lambda_top)
    if step_size is None:
        # Linear scaling up to the critical batch size, then the optimal step of Ma, Bassily and
        # Belkin (2018); the damping alpha keeps m* conservative (the reference's choice).
        eta = auto_eta
    else:
        eta = float(step_size)
    return EigenProSetup(
        subsample_size=s,
        work_order=work_order,
        batch_cap=batch_cap,
        preconditioner=pre,
        critical_batch_size=float(critical),
        batch_size=m,
        step_size=eta,
        auto_step_size=auto_eta,
    )


def eigenpro_fit(
    X,
    Y,
    spec,
    *,
    n_epochs=10,
    tol=0.0,
    batch_size=None,
    step_size=None,
    n_components=None,
    subsample_size=None,
    early_stopping=False,
    validation_fraction=0.1,
    n_iter_no_change=3,
    memory_limit=None,
    n_jobs=None,
    random_state=None,
    verbose=0,
    callback=None,
    max_batches=None,
):
    """Fit kernel coefficients with EigenPro 2 (see the module docstring for the maths).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64 or float32, C order
        Training points (the centres).
    Y : ndarray of shape (n_samples, n_outputs), dtype of ``X``
        Targets.
    spec : KernelSpec
        The kernel.
    n_epochs : int
        Maximum number of passes over the data.
    tol : float
        Stop once the relative training residual ``max |f(x_i) - y_i| / max |y_i|`` is at most
        ``tol``. Tested for free on each epoch's batch residuals (measured before each batch's
        update); when that estimate passes, one exact pass over the training points (the cost
        of an epoch's kernel products) confirms it before the fit stops. ``0`` runs all epochs.
    batch_size, step_size, n_components, subsample_size : int, float, int, int or None
        ``None`` chooses them automatically (module docstring).
    early_stopping : bool
        Hold out ``validation_fraction`` of the points (they are then not centres), stop when
        their MSE has not improved for ``n_iter_no_change`` epochs and keep the best epoch.
    memory_limit : float or None
        Budget in MiB for the working memory (the fitted model, ``X`` and the coefficients, is
        not counted).
    n_jobs : int or None
        Threads for the kernel tiles.
    random_state : int, RandomState or None
        Seeds the subsample, the validation split and the batch order.
    verbose : int
        One line per epoch on stderr when > 0, with the time spent and the time left.
    callback : callable or None
        ``callback(state)`` after every epoch with an :class:`EigenProEpoch` (read only); a
        true return value ends the fit after this epoch.
    max_batches : int or None
        Stop after this many batches in all (a fraction of an epoch; for timing large fits).

    Returns
    -------
    EigenProResult
        ``coef`` and ``centers`` (a reordered copy of the training points, the subsample
        first), ``targets`` (in that order), ``loss_curve``, ``validation_loss_curve``,
        ``n_epochs``, ``batch_size``, ``step_size``, ``critical_batch_size``,
        ``n_components``, ``subsample_size``, ``index`` (the row of ``X`` of each centre),
        ``converged`` (the exact residual was confirmed
        at most ``tol``), ``stopped_by_callback``, and ``fitted`` (``K a`` at the centres when
        the confirming pass computed it, else None).
    """
    start_time = time.perf_counter()
    rng = check_random_state(random_state)
    dtype = X.dtype
    X, Y, X_val, Y_val, train_index = _validation_split(
        X, Y, rng, early_stopping, validation_fraction
    )
    n, d = X.shape
    c = Y.shape[1]

    setup = eigenpro_setup(
        n,
        d,
        c,
        dtype,
        spec,
        rng,
        lambda index: X[index],
        batch_size=batch_size,
        step_size=step_size,
        n_components=n_components,
        subsample_size=subsample_size,
        memory_limit=memory_limit,
        n_jobs=n_jobs,
    )
    s, pre, critical = setup.subsample_size, setup.preconditioner, setup.critical_batch_size
    m, eta, auto_eta = setup.batch_size, setup.step_size, setup.auto_step_size
    # The centres in working order, the Nystrom subsample first: K(X_b, X_S) is then the first
    # s columns of every K(X_b, X) and is copied out of its tiles as contiguous slices.
    work_order = setup.work_order
    X, Y = np.ascontiguousarray(X[work_order]), np.ascontiguousarray(Y[work_order])
    setup_seconds = time.perf_counter() - start_time
    if verbose:
        print(
            f"[EigenPro] n={n} s={s} q={pre['q']} beta={pre['beta']:.3g} "
            f"lambda_1={pre['top_eigenvalue']:.3g} lambda_top={pre['preconditioned_top']:.3g} "
            f"m*={critical:.0f} batch={m} step={eta:.3g} setup={setup_seconds:.2f}s",
            file=sys.stderr,
            flush=True,
        )

    rows, cols = tile_shape(memory_limit, dtype.itemsize)
    tiles = dict(kernel=spec, n_jobs=n_jobs, tile_rows=rows, tile_cols=cols)
    iteration = _Iteration(X, Y, pre, s, tiles)
    target_mse = float(np.mean(np.square(Y, dtype=np.float64))) if Y.size else 0.0
    target_scale = max(float(np.max(np.abs(Y))) if Y.size else 0.0, np.finfo(np.float64).tiny)
    coef = np.zeros((n, c), dtype=dtype)
    loss_curve, val_curve = [], []
    best_val, best_coef, since_best = np.inf, None, 0
    epochs_run = 0
    batches_run = 0
    converged = stopped_by_callback = False
    fitted = None
    # After an exact check that failed, the free estimate must fall this much lower first.
    check_factor = 1.0
    epoch_seconds = []
    for epoch in range(n_epochs):
        epoch_start = time.perf_counter()
        loss, largest, batches_run = iteration.epoch(
            coef, rng.permutation(n), m, eta, auto_eta, batches_run, max_batches
        )
        epochs_run = epoch + 1
        loss_curve.append(loss)
        estimate = largest / target_scale
        message = (
            f"[EigenPro] epoch {epochs_run}/{n_epochs}: train mse {loss_curve[-1]:.3g}, "
            f"residual~{estimate:.2g}"
        )
        if step_size is None and len(loss_curve) > 1 and loss_curve[-1] > 2 * loss_curve[-2]:
            # The loss of an interpolation problem falls every epoch at a stable step: a
            # doubling means the Nystrom estimate of the spectrum was too optimistic.
            eta /= 2
            message += f" (diverging: step halved to {eta:.3g})"
        _check_divergence(loss_curve, target_mse, step_size, eta, auto_eta, m, epochs_run)
        stop = False
        fitted = None
        if estimate <= tol * check_factor:
            # The estimate passed: confirm with the exact residual (one pass, as an epoch).
            fitted, exact = iteration.exact_residual(coef)
            message += f", exact residual {exact:.2g}"
            if exact <= tol:
                converged = stop = True
            else:
                check_factor *= 0.5
                fitted = None
        if early_stopping:
            val_curve.append(iteration.validation_mse(coef, X_val, Y_val))
            message += f", val mse {val_curve[-1]:.3g}"
            if val_curve[-1] < best_val:
                best_val, best_coef, since_best = val_curve[-1], coef.copy(), 0
            else:
                since_best += 1
                stop = stop or since_best >= n_iter_no_change
        if callback is not None:
            state = EigenProEpoch(
                epoch=epochs_run,
                n_epochs=n_epochs,
                centers=_read_only(X),
                coef=_read_only(coef),
                loss=loss_curve[-1],
                residual_estimate=estimate,
                validation_loss=val_curve[-1] if early_stopping else None,
                elapsed=time.perf_counter() - start_time,
                spec=spec,
                tiles=tiles,
            )
            if callback(state):
                stopped_by_callback = stop = True
        epoch_seconds.append(time.perf_counter() - epoch_start)
        if verbose:
            _report_epoch(message, epoch_seconds, epochs_run, n_epochs, stop)
        if stop or (max_batches is not None and batches_run >= max_batches):
            break
    _warn_if_no_progress(loss_curve, epochs_run, eta, auto_eta, m)
    if early_stopping and best_coef is not None and best_coef is not coef:
        if not np.array_equal(best_coef, coef):
            coef, fitted = best_coef, None
    return EigenProResult(
        coef=coef,
        centers=X,
        targets=Y,
        loss_curve=np.asarray(loss_curve),
        validation_loss_curve=np.asarray(val_curve),
        n_epochs=epochs_run,
        batch_size=m,
        step_size=float(eta),
        critical_batch_size=float(critical),
        n_components=pre["q"],
        subsample_size=s,
        n_batches=batches_run,
        setup_seconds=setup_seconds,
        converged=converged,
        stopped_by_callback=stopped_by_callback,
        fitted=fitted,
        index=train_index[work_order],
    )


def _validation_split(X, Y, rng, early_stopping, validation_fraction):
    """``(X, Y, X_val, Y_val, train_index)``: the held-out points of early stopping (none
    without it; ``train_index`` maps the training rows to the rows of ``X``)."""
    n_total = X.shape[0]
    if not early_stopping:
        return X, Y, None, None, np.arange(n_total)
    n_val = int(np.ceil(validation_fraction * n_total))
    if n_val < 1 or n_total - n_val < 2:
        raise ValueError(
            f"early_stopping needs at least 1 validation and 2 training points; "
            f"validation_fraction={validation_fraction} with {n_total} samples gives {n_val}."
        )
    order = rng.permutation(n_total)
    val_index, train_index = np.sort(order[:n_val]), np.sort(order[n_val:])
    X_val, Y_val = X[val_index], Y[val_index]
    X, Y = np.ascontiguousarray(X[train_index]), np.ascontiguousarray(Y[train_index])
    return X, Y, X_val, Y_val, train_index


class _Iteration:
    """The arrays one EigenPro fit iterates with: the centres ``X`` (Nystrom subsample
    first), targets ``Y``, the preconditioner's ``E`` and ``E D``, and the kernel tiles."""

    def __init__(self, X, Y, pre, s, tiles):
        self.X, self.Y, self.s, self.q, self.tiles = X, Y, s, pre["q"], tiles
        self.x_sq = squared_norms(X)
        self.E = pre["eigenvectors"].astype(X.dtype)
        self.ED = (pre["eigenvectors"] * pre["weights"]).astype(X.dtype)

    def epoch(self, coef, order, m, eta, auto_eta, batches_run, max_batches):
        """One pass of preconditioned steps over the batches of ``order`` (``coef`` updated in
        place). Returns the epoch's MSE measured on each batch before its update, the largest
        absolute batch residual, and the number of batches run so far."""
        total_sq, total_count, largest = 0.0, 0, 0.0
        for start in range(0, self.X.shape[0], m):
            batch = np.sort(order[start : start + m])
            g = self.step(coef, batch, eta / m, m)
            total_sq += float(np.einsum("ij,ij->", g, g, dtype=np.float64))
            total_count += g.size
            if not np.isfinite(total_sq):
                raise FloatingPointError(
                    f"EigenPro diverged (non-finite loss) with step_size={eta:.3g}, "
                    f"batch_size={m}; set a smaller step_size (the automatic choice for this "
                    f"batch is {auto_eta:.3g}) or batch_size."
                )
            largest = max(largest, float(np.max(np.abs(g))) if g.size else 0.0)
            batches_run += 1
            if max_batches is not None and batches_run >= max_batches:
                break
        return total_sq / total_count, largest, batches_run

    def step(self, coef, batch, scale, m):
        """The preconditioned step on ``batch``: the batch residual ``g = K(X_b, X) a - Y_b``,
        ``a_b -= scale g``, and the correction of the subsample's coefficients. Returns ``g``
        (measured before the update). The same per-sample ``scale = eta / m`` for the last,
        smaller batch: it is stable for any batch of at most ``m`` points."""
        X, s, tiles = self.X, self.s, self.tiles
        X_b = X[batch]
        if self.q > 0:
            # K(X_b, X_S) is copied out of the tiles of K(X_b, X) as they pass: the
            # preconditioner's K(X_S, X_b) g then costs no kernel evaluations.
            g, K_bS = kernel_product(X_b, X, coef, z_sq=self.x_sq, keep_first=s, **tiles)
        else:
            g = kernel_product(X_b, X, coef, z_sq=self.x_sq, **tiles)
        g -= self.Y[batch]
        coef[batch] -= scale * g
        if self.q > 0:
            # One BLAS thread (rule 2): OpenBLAS workers woken by this product would keep
            # spinning and slow the numba threads of the next batch's tiles by up to 2x.
            with small_dense_blas(m):
                h = K_bS.T @ g
                coef[:s] += (scale / s) * (self.ED @ (self.E.T @ h))
        return g

    def exact_residual(self, coef):
        """``(K a, relative residual)`` at the centres: one pass, the cost of an epoch."""
        fitted = kernel_product(self.X, self.X, coef, z_sq=self.x_sq, **self.tiles)
        return fitted, relative_residual(fitted, self.Y)

    def validation_mse(self, coef, X_val, Y_val):
        val_pred = kernel_product(X_val, self.X, coef, z_sq=self.x_sq, **self.tiles)
        return float(np.mean((val_pred - Y_val) ** 2))


def _check_divergence(loss_curve, target_mse, step_size, eta, auto_eta, m, epochs_run):
    """``FloatingPointError`` naming ``step_size`` when the training MSE is not finite or grew
    ``DIVERGENCE_FACTOR`` times above the first epoch's (or the targets' mean square)."""
    if np.isfinite(loss_curve[-1]) and loss_curve[-1] <= DIVERGENCE_FACTOR * max(
        loss_curve[0], target_mse, np.finfo(np.float64).tiny
    ):
        return
    chosen = (
        f"step_size={step_size!r}"
        if step_size is not None
        else f"the automatic step size {eta:.3g}"
    )
    raise FloatingPointError(
        f"EigenPro diverged: the training MSE grew from {loss_curve[0]:.3g} to "
        f"{loss_curve[-1]:.3g} in {epochs_run} epochs with {chosen} (batch_size={m}); "
        f"set a smaller step_size (the automatic choice for this batch is "
        f"{auto_eta:.3g}) or leave it None."
    )


def _report_epoch(message, epoch_seconds, epochs_run, n_epochs, stop):
    """The verbose line of an epoch, with its time and the time left."""
    left = (n_epochs - epochs_run) * float(np.mean(epoch_seconds[-3:]))
    message += f" ({epoch_seconds[-1]:.2f}s"
    if not stop and epochs_run < n_epochs:
        message += f"; at most ~{format_duration(left)} left for n_epochs={n_epochs}"
    print(message + ")", file=sys.stderr, flush=True)


def _warn_if_no_progress(loss_curve, epochs_run, eta, auto_eta, m):
    if epochs_run >= 2 and loss_curve[0] > 0 and loss_curve[-1] >= (1 - 1e-3) * loss_curve[0]:
        warn_user(
            f"EigenPro made no progress: the training MSE stayed at {loss_curve[-1]:.3g} over "
            f"{epochs_run} epochs with step_size={eta:.3g} (the automatic choice for "
            f"batch_size={m} is {auto_eta:.3g}); raise step_size or leave it None.",
            ConvergenceWarning,
        )
