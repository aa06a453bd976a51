"""Transition to linearity of wide networks (Belkin, 2021, Section 3.10; Liu, Zhu & Belkin, 2020).

A two-layer network ``f(theta; x) = (1/sqrt(m)) v . tanh(W x / sqrt(d))`` of width ``m`` has a
Hessian (in the parameters) of spectral norm ``O(1/sqrt(m))`` while its gradient stays of order
one. Gradient descent moves the parameters by ``O(1)`` in norm, so over training the model is
almost its linearisation at the initialisation and its tangent kernel
``K(x, x') = <grad f(x), grad f(x')>`` hardly changes: a wide network trains like a kernel
machine. The transition is a property of the *linear* output layer: with a non-linear output
``tanh(g)`` the Hessian gains the term ``phi''(g) grad g grad g^T``, of order one at every width,
and the tangent kernel changes by ``O(1)`` however wide the network.

:func:`transition_to_linearity` trains the network (the shared numpy network of
:mod:`skinterp.experiments._two_layer_network`, analytic gradients) by full-batch gradient
descent on a synthetic regression problem on the sphere, until the training loss has fallen by a
factor ``loss_reduction``, for every width of a grid and both output layers. It reports the
relative change of the tangent kernel on the training points, ``||K_T - K_0||_F / ||K_0||_F``,
and the Hessian norm at the initialisation (Lanczos on analytic Hessian-vector products), both
averaged over ``n_seeds`` initialisations, and their log-log slopes against the width.

Cost: one gradient step is ``O(n m d)``; the widest network (``m = 10^4``) dominates. Measured
on two cores shared with other jobs: full settings 1.5 min, the quick preset 4 to 25 s.
"""

import time

import numpy as np

from skinterp._progress import progress
from skinterp.experiments._common import log_log_slope
from skinterp.experiments._result import ExperimentResult
from skinterp.experiments._two_layer_network import (
    TwoLayerNetwork,
    hessian_norm,
    sphere_data,
    stable_learning_rate,
    train_gradient_descent,
)

#: Liu, Zhu & Belkin (2020), as quoted in the issue: tangent-kernel change against width.
REFERENCE = {
    "kernel change, smallest width (linear output)": 0.66,
    "kernel change, largest width (linear output)": 0.0019,
    "slope of kernel change vs width (linear output)": -0.5,
    "slope of Hessian norm vs width (linear output)": -0.5,
    "mean kernel change over widths (tanh output)": 0.94,
}


def _check_positive_int(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")


def _train_once(network, X, y, seed, loss_reduction, max_steps):
    theta = network.init(random_state=seed)
    kernel_start = network.tangent_kernel(theta, X)
    learning_rate = stable_learning_rate(network, theta, X)
    losses = []

    def stop(step, theta, loss):
        losses.append(loss)
        return loss <= losses[0] / loss_reduction

    theta_end = train_gradient_descent(
        network, theta, X, y, learning_rate=learning_rate, n_steps=max_steps, callback=stop
    )
    kernel_end = network.tangent_kernel(theta_end, X)
    return {
        "kernel_change": np.linalg.norm(kernel_end - kernel_start) / np.linalg.norm(kernel_start),
        "hessian_norm": hessian_norm(network, theta, X[0]),
        "parameter_change": np.linalg.norm(theta_end - theta),
        "steps": len(losses) - 1,
        "loss_ratio": losses[-1] / losses[0],
    }


def transition_to_linearity(
    *,
    widths=(10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000),
    n_samples=40,
    n_features=8,
    n_seeds=3,
    loss_reduction=1000.0,
    max_steps=5000,
    quick=False,
    random_state=0,
    verbose=False,
):
    """Tangent-kernel change and Hessian norm of trained two-layer networks against the width.

    Parameters
    ----------
    widths : sequence of int, default=(10, 20, 50, ..., 10000)
        Hidden widths ``m`` (at least two).
    n_samples : int, default=40
        Training points, uniform on the sphere of radius ``sqrt(n_features)``.
    n_features : int, default=8
        Input dimension ``d``.
    n_seeds : int, default=3
        Initialisations per width; the table holds their means.
    loss_reduction : float, default=1000
        Train until the training loss is ``loss_reduction`` times smaller than at the start.
    max_steps : int, default=5000
        Cap on the gradient steps (the ``steps`` column says whether it was reached).
    quick : bool, default=False
        Widths 10 to 3000 (6 of them) and 2 seeds: 4 to 25 s.
    random_state : int, default=0
        Seed of the data and of the initialisations.
    verbose : bool, default=False
        Progress on stderr, one line per width and output layer.

    Returns
    -------
    result : ExperimentResult
        One row per output layer and width: ``kernel_change``, ``hessian_norm``,
        ``parameter_change``, ``steps``, ``loss_ratio`` (means over the seeds).

    Examples
    --------
    >>> result = transition_to_linearity(widths=(10, 1000), n_seeds=1, n_samples=10)
    >>> rows = {(r["output layer"], r["width"]): r["kernel_change"] for r in result.rows}
    >>> bool(rows["linear", 1000] < rows["linear", 10])
    True
    """
    if quick:
        widths, n_seeds = (10, 30, 100, 300, 1000, 3000), 2
    widths = [int(width) for width in widths] if np.ndim(widths) == 1 else None
    if widths is None or len(widths) < 2 or min(widths) < 1:
        raise ValueError("widths must be a sequence of at least two positive integers.")
    for name, value in [
        ("n_samples", n_samples),
        ("n_features", n_features),
        ("n_seeds", n_seeds),
        ("max_steps", max_steps),
    ]:
        _check_positive_int(name, value)
    if not loss_reduction > 1:
        raise ValueError(f"loss_reduction must be > 1, got {loss_reduction!r}.")
    start = time.perf_counter()
    X, y = sphere_data(n_samples, n_features, random_state=random_state)
    seeds = np.random.SeedSequence(random_state).generate_state(n_seeds)
    grid = [(output, width) for output in ("linear", "tanh") for width in widths]
    rows = []
    for output, width in progress(grid, "transition_to_linearity", verbose=verbose):
        network = TwoLayerNetwork(n_features, width, output)
        runs = [_train_once(network, X, y, int(seed), loss_reduction, max_steps) for seed in seeds]
        row = {"output layer": output, "width": width, "parameters": network.n_parameters}
        row.update({key: float(np.mean([run[key] for run in runs])) for key in runs[0]})
        rows.append(row)

    def column(output, key):
        return [row[key] for row in rows if row["output layer"] == output]

    summary = {
        "kernel change, smallest width (linear output)": column("linear", "kernel_change")[0],
        "kernel change, largest width (linear output)": column("linear", "kernel_change")[-1],
        "slope of kernel change vs width (linear output)": log_log_slope(
            widths, column("linear", "kernel_change")
        ),
        "slope of Hessian norm vs width (linear output)": log_log_slope(
            widths, column("linear", "hessian_norm")
        ),
        "mean kernel change over widths (tanh output)": float(
            np.mean(column("tanh", "kernel_change"))
        ),
        "slope of kernel change vs width (tanh output)": log_log_slope(
            widths, column("tanh", "kernel_change")
        ),
    }
    return ExperimentResult(
        "transition_to_linearity",
        rows=rows,
        summary=summary,
        reference=dict(REFERENCE),
        params={
            "widths": widths,
            "n_samples": n_samples,
            "n_features": n_features,
            "n_seeds": n_seeds,
            "loss_reduction": loss_reduction,
            "max_steps": max_steps,
            "quick": quick,
            "random_state": random_state,
            "data source": "synthetic: uniform on the sphere, y = 0.8 sin(a . x)",
        },
        elapsed=time.perf_counter() - start,
        plot_spec={
            "x": "width",
            "y": ["kernel_change", "hessian_norm"],
            "hue": "output layer",
            "xscale": "log",
            "yscale": "log",
            "title": "relative change of the tangent kernel over training",
        },
        description="the tangent kernel of a wide two-layer network stays constant; a "
        "non-linear output layer breaks it (3.10)",
    )
