"""
==========================================================
Weighted interpolating nearest neighbours in one dimension
==========================================================

The picture of Belkin (2021, Fig. 4) and Belkin, Hsu & Mitra (2018): noisy samples of the line
``y = x``. A singular-kernel weighted nearest-neighbour estimate passes through *every* noisy
point, yet away from the data points it stays close to the line: the spikes that fit the noise
are narrow when ``alpha`` is below half the dimension (here ``alpha < 1/2``, the range of the
theory; ``alpha="auto"`` estimates the dimension and takes half of it). Plain 1-NN also
interpolates, but it copies the noise onto whole intervals.
"""

# %%
# Noisy linear data
# -----------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.neighbors import KNeighborsRegressor

from skinterp import SingularKernelNN

rng = np.random.default_rng(0)
X = np.sort(rng.uniform(0, 1, size=60))[:, None]
y = X[:, 0] + 0.15 * rng.standard_normal(60)
grid = np.linspace(0, 1, 4000)[:, None]

# %%
# Fit: the interpolant passes through every point
# -----------------------------------------------
models = {
    "wiNN, k=10, alpha=0.4": SingularKernelNN(n_neighbors=10, alpha=0.4),
    "wiNN, k=10, alpha=auto": SingularKernelNN(n_neighbors=10),
    "1-NN": KNeighborsRegressor(n_neighbors=1),
}
fig, axes = plt.subplots(1, 3, figsize=(13, 4), sharey=True)
for ax, (name, model) in zip(axes, models.items()):
    model.fit(X, y)
    assert np.allclose(model.predict(X), y)  # interpolation: zero training error
    curve = model.predict(grid)
    error = np.mean((curve - grid[:, 0]) ** 2)
    ax.plot(grid[:, 0], grid[:, 0], color="0.6", lw=1, label="truth y = x")
    ax.plot(grid[:, 0], curve, color="C0", lw=1, label=name)
    ax.scatter(X[:, 0], y, color="C3", s=12, zorder=3, label="noisy data")
    ax.set_title(f"{name}\nmean squared distance to y = x: {error:.4f}")
    ax.set_xlabel("x")
axes[0].set_ylabel("y")
axes[0].legend(loc="upper left")
fig.tight_layout()

# %%
# The spikes are narrow: most of the interval is close to the line
# ----------------------------------------------------------------
# The fraction of the interval where the interpolant is further than 0.1 from the truth.
for name, model in models.items():
    far = np.mean(np.abs(model.predict(grid) - grid[:, 0]) > 0.1)
    print(f"{name:>22}: {far:.0%} of [0, 1] further than 0.1 from y = x")

plt.show()

