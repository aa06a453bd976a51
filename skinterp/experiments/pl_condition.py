"""The PL condition along gradient descent (Belkin, 2021, Sections 4.1-4.3; Liu, Zhu & Belkin).

For the square loss ``L = (1/2n) ||f - y||^2`` the gradient satisfies
``||grad L||^2 = (1/n^2) r^T K r >= (2/n) lambda_min(K) L`` with ``K`` the tangent kernel and
``r = f - y``. Where ``lambda_min(K) >= mu > 0`` along the path (the PL* condition), gradient
descent with step ``eta`` converges exponentially, ``L_t <= (1 - 2 eta mu / n)^t L_0``. A network
with ``M`` parameters has a tangent kernel ``J J^T`` of rank at most ``M``: when ``M >> n`` its
smallest eigenvalue stays away from zero (and, the network being nearly linear, hardly moves);
when ``M < n`` it is zero, the model cannot interpolate and the loss stalls.

:func:`pl_condition` trains the shared numpy two-layer network
(:mod:`skinterp.experiments._two_layer_network`) by full-batch gradient descent on a synthetic
problem, for widths below and far above ``n / (d + 1)``, and records the loss, ``lambda_min(K)``
and the PL bound ``L_0 prod_s (1 - 2 eta lambda_min(K_s) / n)`` along the path.
``lambda_min`` is floored at ``1e-16 lambda_max`` (rounding) so that it shows on a log axis.

Cost: one step is ``O(n m d + n^3)``; full settings 28 s, quick 3 s (measured on two
cores shared with other jobs).
"""

import time

import numpy as np

from skinterp._progress import progress
from skinterp.experiments._result import ExperimentResult
from skinterp.experiments._two_layer_network import (
    TwoLayerNetwork,
    sphere_data,
    stable_learning_rate,
    train_gradient_descent,
)

#: The issue's statement of the paper's claim (no numbers in the paper: the PL* picture).
REFERENCE = {
    "min lambda_min along path (M >> n)": "> 0",
    "max lambda_min along path (M < n)": "~ 0",
}


def _gradient_descent_path(network, X, y, seed, n_steps):
    """Loss, ``lambda_min(K)`` and the PL bound at every step of gradient descent."""
    theta = network.init(random_state=seed)
    learning_rate = stable_learning_rate(network, theta, X)
    path = {"loss": [], "lambda_min": [], "pl_bound": []}
    contraction = 1.0  # 1 - 2 eta lambda_min / n at the previous step

    def record(step, theta, loss):
        nonlocal contraction
        eigenvalues = np.linalg.eigvalsh(network.tangent_kernel(theta, X))
        lambda_min = max(eigenvalues[0], 1e-16 * eigenvalues[-1])
        path["pl_bound"].append(loss if step == 0 else path["pl_bound"][-1] * contraction)
        contraction = max(1.0 - 2.0 * learning_rate * lambda_min / len(X), 0.0)
        path["loss"].append(loss)
        path["lambda_min"].append(lambda_min)
        return False

    train_gradient_descent(
        network, theta, X, y, learning_rate=learning_rate, n_steps=n_steps, callback=record
    )
    return path


def pl_condition(
    *,
    widths=(2, 4, 100, 2000),
    n_samples=40,
    n_features=8,
    n_steps=2000,
    record_every=20,
    quick=False,
    random_state=0,
    verbose=False,
):
    """Loss and smallest tangent-kernel eigenvalue along gradient descent, several widths.

    Parameters
    ----------
    widths : sequence of int, default=(2, 4, 100, 2000)
        Hidden widths; ``M = width (d + 1)`` parameters, under-parameterised when ``M < n``.
    n_samples : int, default=40
        Training points on the sphere of radius ``sqrt(n_features)``.
    n_features : int, default=8
        Input dimension ``d``.
    n_steps : int, default=2000
        Gradient steps (step ``1 / lambda_max(K_0 / n)``).
    record_every : int, default=20
        Steps between two rows of the table.
    quick : bool, default=False
        Widths (2, 200) and 600 steps: a few seconds.
    random_state : int, default=0
        Seed of the data and initialisation.
    verbose : bool, default=False
        Progress on stderr, one line per width.

    Returns
    -------
    result : ExperimentResult
        One row per width and recorded step: ``loss``, ``lambda_min``, ``pl_bound``.

    Examples
    --------
    >>> result = pl_condition(widths=(2, 200), n_samples=20, n_steps=100)
    >>> result.summary["min lambda_min along path (M >> n)"] > 1e-3
    True
    """
    if quick:
        widths, n_steps = (2, 200), 600
    widths = [int(width) for width in widths] if np.ndim(widths) == 1 else None
    if not widths or min(widths) < 1:
        raise ValueError("widths must be a non-empty sequence of positive integers.")
    for name, value in [
        ("n_samples", n_samples),
        ("n_features", n_features),
        ("n_steps", n_steps),
        ("record_every", record_every),
    ]:
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    start = time.perf_counter()
    X, y = sphere_data(n_samples, n_features, random_state=random_state)
    rows, paths = [], {}
    for width in progress(widths, "pl_condition", verbose=verbose):
        network = TwoLayerNetwork(n_features, width)
        path = _gradient_descent_path(network, X, y, random_state + 1, n_steps)
        paths[width] = path
        regime = "M > n" if network.n_parameters > n_samples else "M <= n"
        for step in range(0, n_steps + 1, record_every):
            rows.append(
                {
                    "width": width,
                    "parameters": network.n_parameters,
                    "regime": regime,
                    "step": step,
                    "loss": path["loss"][step],
                    "lambda_min": path["lambda_min"][step],
                    "pl_bound": path["pl_bound"][step],
                }
            )
    over = [w for w in widths if w * (n_features + 1) >= 10 * n_samples]
    under = [w for w in widths if w * (n_features + 1) < n_samples]
    summary = {}
    if over:
        widest = paths[max(over)]
        summary["min lambda_min along path (M >> n)"] = float(min(widest["lambda_min"]))
        summary["log10 loss decay per 100 steps (M >> n)"] = float(
            100 * np.polyfit(np.arange(n_steps + 1), np.log10(widest["loss"]), 1)[0]
        )
        summary["final loss / initial loss (M >> n)"] = widest["loss"][-1] / widest["loss"][0]
    if under:
        narrowest = paths[min(under)]
        summary["max lambda_min along path (M < n)"] = float(max(narrowest["lambda_min"]))
        summary["final loss / initial loss (M < n)"] = narrowest["loss"][-1] / narrowest["loss"][0]
    summary["loss never above the PL bound"] = float(
        all(
            np.all(np.array(p["loss"]) <= np.array(p["pl_bound"]) * (1 + 1e-9))
            for p in paths.values()
        )
    )
    return ExperimentResult(
        "pl_condition",
        rows=rows,
        summary=summary,
        reference=dict(REFERENCE),
        params={
            "widths": widths,
            "n_samples": n_samples,
            "n_features": n_features,
            "n_steps": n_steps,
            "quick": quick,
            "random_state": random_state,
            "data source": "synthetic: uniform on the sphere, y = 0.8 sin(a . x)",
        },
        elapsed=time.perf_counter() - start,
        plot_spec={
            "x": "step",
            "y": ["loss", "lambda_min"],
            "hue": "parameters",
            "yscale": "log",
            "title": f"gradient descent, n = {n_samples}",
        },
        description="the smallest eigenvalue of the tangent kernel along gradient descent, "
        "over- vs under-parameterised (4.1-4.3)",
    )
