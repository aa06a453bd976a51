"""
=====================================================
Raisins in a pudding: interpolated noise, adversaries
=====================================================

Belkin (2021, Section 5.2, Fig. 11): an interpolating classifier fitted to noisy labels is wrong
on small "raisins" around the mislabelled training points. As the sample grows the raisins of a
consistent scheme shrink in total measure, so the classifier is almost always right, but they
also get closer together, so almost every point has a wrongly classified point nearby: an
adversarial example.
"""

# %%
# The raisins
# -----------
# Training points uniform in :math:`[0, 1]^2`, clean label :math:`f^*(x) = 1[x_1 > 1/2]`, each
# label flipped with probability :math:`q = 0.1`. Both classifiers below interpolate: they
# predict the noisy label at every mislabelled point. Red marks where they disagree with
# :math:`f^*`.
import matplotlib.pyplot as plt
import numpy as np

from skinterp import SimplicialClassifier, SingularKernelNNClassifier
from skinterp.experiments import show_figures
from skinterp.experiments.adversarial_raisins import adversarial_raisins

rng = np.random.default_rng(0)
n = 1000
X = rng.uniform(size=(n, 2))
clean = (X[:, 0] > 0.5).astype(int)
flipped = rng.uniform(size=n) < 0.1
y = np.where(flipped, 1 - clean, clean)
side = np.linspace(0, 1, 250)
grid = np.column_stack([g.ravel() for g in np.meshgrid(side, side)])
models = {
    "wiNN (k = 32, alpha = 0.8)": SingularKernelNNClassifier(n_neighbors=32, alpha=0.8),
    "simplicial": SimplicialClassifier(),
}
fig, axes = plt.subplots(1, 3, figsize=(13, 4.4))
for ax, (name, model) in zip(axes[:2], models.items(), strict=True):
    wrong = model.fit(X, y).predict(grid) != (grid[:, 0] > 0.5)
    ax.imshow(
        wrong.reshape(side.size, side.size),
        origin="lower",
        extent=(0, 1, 0, 1),
        cmap="Reds",
        vmin=0,
        vmax=1.5,
    )
    ax.scatter(*X[flipped].T, s=6, color="k", label="mislabelled points")
    ax.axvline(0.5, color="0.5", lw=0.8)
    ax.set_title(f"{name}\nwrong on {wrong.mean():.1%} of the square", fontsize="medium")
axes[0].legend(loc="lower left", fontsize="small")

# %%
# wiNN's raisins are smaller than a pixel of the square: the third panel zooms in on one
# mislabelled point far from the class boundary.
far = np.flatnonzero(flipped & (np.abs(X[:, 0] - 0.5) > 0.2))[0]
half_width = 0.01
zoom = np.linspace(-half_width, half_width, 201)
window = X[far] + np.column_stack([g.ravel() for g in np.meshgrid(zoom, zoom)])
winn = models["wiNN (k = 32, alpha = 0.8)"]
wrong = winn.predict(window) != (window[:, 0] > 0.5)
box = (
    X[far, 0] - half_width,
    X[far, 0] + half_width,
    X[far, 1] - half_width,
    X[far, 1] + half_width,
)
axes[2].imshow(
    wrong.reshape(zoom.size, zoom.size), origin="lower", extent=box, cmap="Reds", vmin=0, vmax=1.5
)
axes[2].scatter(*X[far], s=12, color="k")
axes[2].set_title(
    f"wiNN, zoom x{0.5 / half_width:.0f} on one mislabelled point", fontsize="medium"
)
fig.tight_layout()

# %%
# Measure and distance against n
# ------------------------------
# For wiNN with :math:`k \to \infty` neighbours and a singular weight
# :math:`\|x - x_i\|^{-\alpha}`, :math:`\alpha < d/2`, a mislabelled point wins only on a ball
# whose volume is a vanishing fraction of its cell, so the measure of the disagreement set
# tends to 0 (the estimate is consistent). Simplicial interpolation keeps, in a fixed
# dimension, a fixed share of every simplex with a noisy vertex (the limit drawn dotted; it
# falls with the dimension, see the blessing-of-dimensionality example). For both, the
# mislabelled points are about :math:`(q n)^{-1/d}` apart, so the mean distance from a random
# point to the nearest wrongly classified point falls like :math:`n^{-1/d}`:
#
# .. math:: \mathbb{E}\, \operatorname{dist}(x, \{\hat f \ne f^*\}) \lesssim (q n)^{-1/d}
#           \to 0, \qquad \text{while}\qquad P(\hat f(x) \ne f^*(x)) \to 0 \text{ (wiNN)}.
result = adversarial_raisins(quick=True, random_state=0)
print(result.table())

# %%
# Headline numbers
# ----------------
# Log-log slopes in :math:`n`; the distances' reference is :math:`-1/d = -1/2`.
print(result.summary_table())
result.plot()
show_figures("plot_adversarial_raisins")  # plt.show() on a screen; saved as PNG without one
