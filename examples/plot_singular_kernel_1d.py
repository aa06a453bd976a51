"""
==========================================================
Weighted interpolating nearest neighbours in one dimension
==========================================================

The picture of Belkin (2021, Section 3.5.3, Fig. 4) and Belkin, Hsu & Mitra (2018): noisy
samples of the line :math:`y = x`. A singular-kernel weighted nearest-neighbour estimate passes
through *every* noisy point, yet away from the data points it stays close to the line. Plain
1-NN also interpolates, but it copies the noise onto whole intervals.
"""

# %%
# The estimator
# -------------
# Given the :math:`k` nearest training points :math:`x_{(1)}, \dots, x_{(k)}` of :math:`x`, the
# weighted interpolating nearest-neighbour estimate (wiNN) is
#
# .. math:: \hat f(x) = \frac{\sum_{i=1}^k \|x - x_{(i)}\|^{-\alpha}\, y_{(i)}}
#                            {\sum_{i=1}^k \|x - x_{(i)}\|^{-\alpha}}.
#
# The weight is infinite at a training point, so :math:`\hat f(x_i) = y_i`: the estimate
# interpolates. Near :math:`x_i` the weight of :math:`x_i` dominates only on a small
# neighbourhood, whose size shrinks as :math:`\alpha` decreases; for :math:`\alpha < d/2`
# (here :math:`d = 1`) the spikes are narrow enough for the estimate to be consistent as
# :math:`k \to \infty`. ``alpha="auto"`` estimates the intrinsic dimension of the data and
# takes half of it.
#
# 1-NN gives :math:`\hat f(x) = y_{(1)} = x_{(1)} + \varepsilon_{(1)}`, so it is within a
# tolerance :math:`t` of the line only where the copied noise is small: on a fraction of about
# :math:`P(|\varepsilon| < t) = 2\Phi(t / \sigma) - 1` of the interval (:math:`\approx 0.50`
# for :math:`t = 0.1`, :math:`\sigma = 0.15`).

from skinterp.experiments import show_figures
from skinterp.experiments.singular_kernel_1d import singular_kernel_1d

result = singular_kernel_1d(quick=True, random_state=0)
print(result.table())

# %%
# How much of [0, 1] stays near the line
# --------------------------------------
# Every method interpolates (``max_train_residual`` is 0), yet wiNN stays within 0.1 of
# :math:`y = x` on most of the interval, and 1-NN on about half of it.
print(result.summary_table())

# %%
# The curves of the first data set
# --------------------------------
result.plot()
show_figures("plot_singular_kernel_1d")  # plt.show() on a screen; saved as PNG without one
