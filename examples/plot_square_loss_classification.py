"""
=====================================================
Square loss vs cross-entropy for the same classifiers
=====================================================

Belkin (2021, Section 5.1) argues that the square loss on one-hot targets, the loss that
interpolating methods minimise, classifies as well as the cross-entropy (Hui and Belkin, 2021).
We train the *same* models both ways on MNIST: with outputs :math:`f(x) \\in \\mathbb{R}^k` and
one-hot :math:`y_i`,

.. math::

    L_\\text{square} = \\frac{1}{n} \\sum_i \\|f(x_i) - y_i\\|^2, \\qquad
    L_\\text{CE} = -\\frac{1}{n} \\sum_i \\log \\operatorname{softmax}(f(x_i))_{y_i},

and predict :math:`\\arg\\max_c f_c(x)` in both cases.

* **Random Fourier features** :math:`f(x) = W^\\top \\phi(x)` with fixed random features: the
  square loss is minimised in closed form (least squares below :math:`N = n`, the minimum-norm
  interpolant above), the cross-entropy by multinomial logistic regression on the same features.
* **A Gaussian kernel machine** :math:`f = K(\\cdot, X) \\alpha`: the exact square-loss
  interpolant :math:`\\alpha = K^{-1} Y`, and, with the same optimiser for both losses,
  :math:`T` steps of gradient descent in the RKHS,
  :math:`\\alpha \\leftarrow \\alpha - \\frac{\\eta}{n} \\nabla_f L`.

Without the MNIST sample (``$SKINTERP_DATA``) this falls back to scikit-learn's digits.
"""

# %%
# Train each model with both losses
# ---------------------------------

from skinterp.experiments import show_figures
from skinterp.experiments.square_loss_classification import square_loss_classification

result = square_loss_classification(quick=True, random_state=0)
print(result.table())

# %%
# Test errors, and the paper's claim beside them
# ----------------------------------------------
# A negative difference means that the square loss classified better.
print(result.summary_table())

# %%
# Test and training 0-1 errors of each model
# ------------------------------------------
axes = result.plot()
for axis in axes:
    axis.tick_params(axis="x", labelrotation=20, labelsize="small")
show_figures("plot_square_loss_classification")  # plt.show() on a screen; saved as PNG without one
