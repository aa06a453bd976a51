"""
===============================================
Double descent of random Fourier feature models
===============================================

The picture of Belkin (2021, Fig. 7) and Belkin, Hsu, Ma & Mandal (2019, Fig. 2): minimum-norm
least squares on :math:`N` random features, fitted to one-hot labels, for :math:`N` from far
below the number :math:`n` of training points to far above it. With Fourier features
:math:`\\phi_k(x) = \\sqrt{2/N} \\cos(\\langle v_k, x \\rangle + b_k)`,
:math:`v_k \\sim N(0, \\sigma^{-2} I)`, the model is :math:`f(x) = \\langle w, \\phi(x) \\rangle`
with

.. math::

    w = \\arg\\min \\{ \\|w\\| : w \\text{ minimises } \\textstyle\\sum_i \\|f(x_i) - y_i\\|^2 \\}.

* Below :math:`n` (the classical regime) the test loss follows the U-shaped curve of the
  bias-variance trade-off.
* At the interpolation threshold :math:`N = n` the model can fit the training data exactly, but
  only with a huge norm: test loss and norm peak.
* Beyond it (the interpolating regime) every model fits the training data exactly, and the
  minimum-norm one gets *smoother* as :math:`N` grows: test loss and norm fall again, towards
  those of the kernel interpolant :math:`f = K(\\cdot, X) K(X, X)^{-1} y` (dotted lines), the
  limit :math:`N \\to \\infty`: the Gaussian kernel for Fourier features, the arc-cosine kernel
  for random ReLU features :math:`\\max(\\langle v_k, x \\rangle + b_k, 0)`.

For contrast the last panel shows the classical U-curve (Fig. 1) of the same features: ridge
regression at :math:`N = n` over penalties :math:`\\lambda`, plotted against the capacity
:math:`1/\\lambda`.

The quick preset uses 400 MNIST training images (scikit-learn's 8 x 8 digits when the MNIST
sample is not available) and :math:`\\sigma = 5` as in the paper; the paper's numbers are for
:math:`n = 2000` (``python -m skinterp reproduce double_descent``).
"""

# %%
# The sweep: N from n / 20 to 20 n, Fourier and ReLU features
# -----------------------------------------------------------
# The features of the largest model are drawn once; each grid point grows the Gram matrices of
# the previous one by the new blocks of features.

from skinterp.experiments import show_figures
from skinterp.experiments.double_descent import double_descent

result = double_descent(quick=True, random_state=0)
print(result.curve_table("fourier"))
print(result.curve_table("relu"))

# %%
# Our headline numbers beside the paper's
# ---------------------------------------
print(result.summary_table())

# %%
# Fig. 7: zero-one loss, squared loss and norm against N; Fig. 1: ridge against 1 / lambda
# ----------------------------------------------------------------------------------------
result.plot()
show_figures("plot_double_descent")  # plt.show() on a screen; saved as PNG without one
