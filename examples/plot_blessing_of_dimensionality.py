"""
=============================================================
Blessing of dimensionality: simplicial interpolation of noise
=============================================================

Belkin (2021, Section 3.5.2) and Belkin, Hsu & Mitra (2018): a classifier that interpolates
noisy labels can still be nearly optimal, and simplicial interpolation gets *better* with the
dimension, while 1-NN, which also interpolates, does not.
"""

# %%
# Why the dimension helps
# -----------------------
# Training labels of a clean classifier :math:`f^*(x) = 1[x_1 > 1/2]` on :math:`[0, 1]^d` are
# flipped with probability :math:`q`. Inside a class, 1-NN predicts the label of the nearest
# training point, wrong with probability :math:`q`: its excess risk is :math:`q` in every
# dimension. The simplicial interpolant averages the :math:`d + 1` labels of the Delaunay
# simplex with the barycentric weights :math:`\lambda`; it is wrong only where the wrong
# vertices' weights sum above :math:`1/2`. For a uniform point of the simplex
# (:math:`\lambda \sim \mathrm{Dirichlet}(1, \dots, 1)`) and :math:`k` wrong vertices that has
# probability :math:`P(\mathrm{Beta}(k, d + 1 - k) > 1/2)`, so for large :math:`n`
#
# .. math:: \mathcal{E}_d = \sum_{k=1}^{d+1} \binom{d+1}{k} q^k (1-q)^{d+1-k}\,
#           P\bigl(\mathrm{Beta}(k, d+1-k) > 1/2\bigr),
#
# which falls with :math:`d` (the paper quotes about :math:`1/\sqrt{d}`).
#
# At a fixed :math:`n`, more and more test points fall outside the convex hull of the training
# points as :math:`d` grows, and the simplices near the class boundary get larger; we therefore
# report the excess risk over all test points and over the *interior* ones (inside the hull, at
# least 0.15 from the boundary), where the argument above applies.

from skinterp.experiments import show_figures
from skinterp.experiments.blessing_of_dimensionality import blessing_of_dimensionality

result = blessing_of_dimensionality(quick=True, random_state=0)
print(result.table())

# %%
# Headline numbers
# ----------------
# Log-log slopes of the interior excess risk in :math:`d`, against the paper's :math:`-1/2`
# for simplicial interpolation and :math:`0` (the noise level) for 1-NN.
print(result.summary_table())
result.plot()
show_figures("plot_blessing_of_dimensionality")  # plt.show() on a screen; saved as PNG without one
