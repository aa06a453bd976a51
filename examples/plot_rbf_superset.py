"""
One estimator for RBF interpolation and kernel ridge regression
===============================================================

:class:`skinterp.KernelInterpolator` computes what :class:`scipy.interpolate.RBFInterpolator`
computes (scipy's kernels, a polynomial tail, local ``neighbors=k`` interpolation) and what
:class:`sklearn.kernel_ridge.KernelRidge` computes (``ridge > 0``), with the same answers, and
solves the system directly or by conjugate gradient in memory ``O(n d)``.

This example interpolates a noisy 2-D field with the thin-plate spline and its linear tail,
checks the answer against scipy, then compares on the same estimator: exact interpolation,
kernel ridge regression (``ridge``), the conjugate gradient solver and local interpolation
from the 30 nearest points.
"""

# %%
# A field measured at scattered points, with noise
# ------------------------------------------------
import matplotlib

matplotlib.use("Agg")  # no display needed; harmless under sphinx-gallery

import matplotlib.pyplot as plt
import numpy as np
from scipy.interpolate import RBFInterpolator

from skinterp import KernelInterpolator
from skinterp.experiments import show_figures

rng = np.random.RandomState(0)


def field(X):
    return np.sin(5 * X[:, 0]) * np.cos(3 * X[:, 1]) + X[:, 0]


X = rng.uniform(size=(800, 2))
y = field(X) + 0.1 * rng.normal(size=800)
grid = np.stack(np.meshgrid(np.linspace(0, 1, 120), np.linspace(0, 1, 120)), -1).reshape(-1, 2)

# %%
# The thin-plate spline, as scipy computes it
# -------------------------------------------
# ``degree=None`` takes the kernel's minimum tail (degree 1 for the thin-plate spline), and
# the thin-plate spline with that tail does not depend on the bandwidth.
exact = KernelInterpolator(kernel="thin_plate_spline").fit(X, y)
reference = RBFInterpolator(X, y)(grid)
print(
    f"largest difference from RBFInterpolator: {np.abs(exact.predict(grid) - reference).max():.1e}"
)
print(f"degree {exact.degree_}, training residual {exact.train_residual_:.1e}")

# %%
# Interpolation, regression, iteration and locality on one estimator
# ------------------------------------------------------------------
models = {
    "interpolation (direct)": exact,
    "ridge=1e-2 (kernel ridge regression)": KernelInterpolator(
        kernel="thin_plate_spline", ridge=1e-2
    ).fit(X, y),
    "interpolation (cg)": KernelInterpolator(kernel="thin_plate_spline", solver="cg").fit(X, y),
    "neighbors=30 (local)": KernelInterpolator(kernel="thin_plate_spline", neighbors=30).fit(X, y),
}
truth = field(grid)
fig, axes = plt.subplots(
    1, len(models) + 1, figsize=(4 * (len(models) + 1), 4), constrained_layout=True
)
axes[0].imshow(truth.reshape(120, 120), origin="lower", extent=(0, 1, 0, 1), cmap="viridis")
axes[0].scatter(X[:, 0], X[:, 1], s=2, c="k")
axes[0].set_title("the field and the 800 points")
for ax, (name, model) in zip(axes[1:], models.items()):
    prediction = model.predict(grid)
    error = np.sqrt(np.mean((prediction - truth) ** 2))
    ax.imshow(
        prediction.reshape(120, 120),
        origin="lower",
        extent=(0, 1, 0, 1),
        cmap="viridis",
        vmin=truth.min(),
        vmax=truth.max(),
    )
    ax.set_title(
        f"{name}\nRMS error {error:.3f}, train residual {model.train_residual_:.0e}", fontsize=9
    )
    print(f"{name:40s} solver_={model.solver_:7s} RMS error to the field {error:.4f}")
for ax in axes:
    ax.set_xticks([])
    ax.set_yticks([])

# %%
# The ridge trades the exact fit of the noisy values for a smaller error to the field; the
# conjugate gradient solver reaches the direct solve's interpolant (``cg_tol=1e-10``), and
# local interpolation approximates it from 30 points per query.
show_figures("plot_rbf_superset")
