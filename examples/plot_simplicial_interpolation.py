"""
===========================================================
Simplicial interpolation and the blessing of dimensionality
===========================================================

Simplicial interpolation (Belkin, 2021, Section 3.5.2; Belkin, Hsu & Mitra, 2018) is linear on
every simplex of the Delaunay triangulation of the training points and passes through every
training label. In two dimensions it is the familiar piecewise-linear surface. Its surprise is in
high dimension: on label-noisy classification data the interpolating classifier gets *closer* to
the Bayes classifier as the dimension grows, because the interpolated label at a point mixes the
labels of ``d + 1`` vertices, and a corrupted vertex wins only near itself (on the standard
simplex, on a set of volume ``2^-d``). 1-nearest neighbour, which also interpolates, copies each
corrupted label onto its whole Voronoi cell in every dimension.

In dimension 6 and more no full triangulation is built: ``SimplicialInterpolator`` finds the
Delaunay simplex of each query by a linear program on the lifted points (``method_ ==
"lifted"``), and queries outside the convex hull -- almost all of them in high dimension -- are
interpolated at their projection onto the hull.
"""

# %%
# The interpolant in two dimensions
# ---------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.neighbors import KNeighborsClassifier

from skinterp import SimplicialClassifier, SimplicialInterpolator
from skinterp.experiments import show_figures

rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(40, 2))
y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1])

model = SimplicialInterpolator(outside="project").fit(X, y)
assert np.allclose(model.predict(X), y)  # interpolation: it passes through every label
print("method:", model.method_, "| simplices:", model.simplices_.shape[0])

grid = np.linspace(-1.3, 1.3, 300)
G = np.array(np.meshgrid(grid, grid)).reshape(2, -1).T
values, outside = model.predict(G, return_outside=True)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
for ax, title, shown in [
    (axes[0], "Simplicial interpolant (NaN outside the hull)", np.where(outside, np.nan, values)),
    (axes[1], "outside='project': the value at the projection", values),
]:
    image = ax.imshow(
        shown.reshape(300, 300), origin="lower", extent=(-1.3, 1.3, -1.3, 1.3), cmap="viridis"
    )
    ax.triplot(model.points_[:, 0], model.points_[:, 1], model.simplices_, color="white", lw=0.6)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="viridis", edgecolor="k", s=30)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.8)
fig.tight_layout()
plt.show()

# %%
# Blessing of dimensionality on label-noisy data
# ----------------------------------------------
# Inputs uniform in the cube ``[0, 1]^d``; the clean label is 1 everywhere and each training
# label is flipped with probability ``p = 0.2``, so the Bayes classifier predicts 1 and has risk
# ``p``. A classifier that predicts 0 on a fraction ``e`` of the test points has excess risk
# ``e (1 - 2p)`` over the Bayes risk. The training set size is fixed (``n = 1000``) while the
# dimension grows.
noise = 0.2
n_train, n_test, seeds = 1000, 400, 3
dimensions = [1, 2, 3, 4, 6, 8, 12, 16]
excess = {"simplicial interpolation": [], "1-nearest neighbour": []}
for d in dimensions:
    risks = {name: [] for name in excess}
    for seed in range(seeds):
        rng = np.random.default_rng(1000 * d + seed)
        X = rng.uniform(size=(n_train, d))
        labels = (rng.uniform(size=n_train) >= noise).astype(int)  # 1, flipped to 0 w.p. p
        T = rng.uniform(size=(n_test, d))
        simplicial = SimplicialClassifier().fit(X, labels)
        nearest = KNeighborsClassifier(n_neighbors=1).fit(X, labels)
        risks["simplicial interpolation"].append(np.mean(simplicial.predict(T) != 1))
        risks["1-nearest neighbour"].append(np.mean(nearest.predict(T) != 1))
    for name in excess:
        excess[name].append((1 - 2 * noise) * np.mean(risks[name]))
    ours, theirs = excess["simplicial interpolation"][-1], excess["1-nearest neighbour"][-1]
    print(f"d={d:2d} ({simplicial.method_}): excess risk simplicial {ours:.3f}, 1-NN {theirs:.3f}")

fig, ax = plt.subplots(figsize=(6, 4))
for name, marker in zip(excess, "os"):
    ax.plot(dimensions, excess[name], marker=marker, label=name)
ax.set_xscale("log", base=2)
ax.set_xticks(dimensions, [str(d) for d in dimensions])
ax.set_xlabel("dimension d")
ax.set_ylabel("excess classification risk")
ax.set_ylim(bottom=0)
ax.set_title(f"Label noise p = {noise}, n = {n_train}: interpolation gets better with d")
ax.legend()
fig.tight_layout()
show_figures("plot_simplicial_interpolation")  # plt.show() on a screen; saved as PNG without one
