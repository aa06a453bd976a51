"""
======================================================
Random ReLU features: 3, 30 and 3000 parameters in 1-D
======================================================

The picture of Belkin (2021, Fig. 6) and Belkin, Hsu, Ma & Mandal (2019): the same 15 noisy
points fitted by a one-hidden-layer network of random ReLU units ``max(v_k x + b_k, 0)`` whose
first layer is fixed at random and whose output layer is fitted by minimum-norm least squares.

* With 3 parameters the model is too small: least squares underfits.
* With 30 parameters, just above the interpolation threshold, the model can fit every point, but
  only with large coefficients: the interpolant swings between the points.
* With 3000 parameters the minimum-norm interpolant still fits every point, now with small
  coefficients, and it is smooth between them: more parameters, *less* overfitting in between.

Every curve is piecewise linear, with kinks at ``-b_k / v_k``. In one dimension a ReLU model
can interpolate only once a kink falls between every two neighbouring points, so its threshold
lies somewhat above ``N = n`` and depends on the draw of the units: with ``random_state=7`` the
first 30 units of the draw just do (most draws of 30 units do not).
"""

# %%
# The data: 15 noisy samples of a smooth function
# -----------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from skinterp import MinNormRFFRegressor

rng = np.random.default_rng(1)
n_samples = 15
X = (np.linspace(-1, 1, n_samples) + rng.uniform(-0.04, 0.04, n_samples))[:, None]
y = np.sin(3 * X[:, 0]) + 0.1 * rng.standard_normal(n_samples)
grid = np.linspace(-1.1, 1.1, 2000)[:, None]

# %%
# Fit the same random ReLU family with 3, 30 and 3000 features
# ------------------------------------------------------------
# One ``random_state`` gives nested features: the 30 units are the first 30 of the 3000.
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for ax, n_components in zip(axes, [3, 30, 3000]):
    model = MinNormRFFRegressor(
        n_components=n_components, features="relu", bandwidth=0.7, random_state=7
    ).fit(X, y)
    curve = model.predict(grid)
    ax.plot(grid[:, 0], np.sin(3 * grid[:, 0]), color="gray", lw=1, ls="--", label="sin(3x)")
    ax.plot(grid[:, 0], curve, color="C0", label="fit")
    ax.plot(X[:, 0], y, "o", color="C3", ms=4, label="data")
    status = "interpolates" if model.interpolates_ else "least squares"
    ax.set_title(f"{n_components} parameters: {status}\n||w|| = {model.coef_norm_:.3g}")
    ax.set_ylim(-3, 3)
    ax.set_xlabel("x")
axes[0].legend(loc="upper left")
fig.tight_layout()

# %%
# The norm of the coefficients peaks at the interpolation threshold
# -----------------------------------------------------------------
sizes = np.unique(np.geomspace(2, 3000, 40).astype(int))
norms = [
    MinNormRFFRegressor(n_components=int(N), features="relu", bandwidth=0.7, random_state=7)
    .fit(X, y)
    .coef_norm_
    for N in sizes
]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.loglog(sizes, norms, "o-", ms=3)
ax.axvline(n_samples, color="gray", lw=0.8, label="N = n")
ax.set_xlabel("number of random ReLU features N")
ax.set_ylabel("||w||")
ax.legend()
fig.tight_layout()
plt.show()
