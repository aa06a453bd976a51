"""
===================================================
SGD converges exponentially when models interpolate
===================================================

Belkin (2021, Section 4.4), after Ma, Bassily & Belkin (2018): fixed-step stochastic gradient
descent converges exponentially on an interpolating model and stalls on one that cannot fit.
"""

# %%
# The phenomenon
# --------------
# Least squares on :math:`N` random Fourier features :math:`\phi(x)`,
# :math:`L(w) = \frac{1}{n} \sum_i (w \cdot \phi(x_i) - y_i)^2`, minimised by SGD on
# mini-batches :math:`B` of size :math:`m` with a fixed step :math:`\eta`,
#
# .. math::
#
#     w \leftarrow w - \frac{\eta}{m} \sum_{i \in B} (w \cdot \phi(x_i) - y_i)\, \phi(x_i).
#
# When :math:`N > n` the model interpolates: at the minimum every term of the sum is zero, the
# gradient noise vanishes and SGD converges exponentially, as gradient descent does. When
# :math:`N < n` the per-sample gradients at the minimum do not vanish and a fixed step keeps
# SGD at a noise floor above the least-squares minimum. The step is the critical one of Ma et
# al., :math:`\eta^*(m) = m / (\beta + (m - 1) \lambda_1)` with :math:`\beta = \max_i
# \|\phi(x_i)\|^2` and :math:`\lambda_1` the top eigenvalue of the feature covariance.

from skinterp.experiments import show_figures
from skinterp.experiments.sgd_interpolation import sgd_interpolation

result = sgd_interpolation(quick=True, random_state=0)
print(result.table())

# %%
# Slope of :math:`\log_{10}` loss per epoch in both regimes
# ---------------------------------------------------------
print(result.summary_table())

# %%
# Training loss per epoch
# -----------------------
result.plot()
show_figures("plot_sgd_interpolation")  # plt.show() on a screen; saved as PNG without one
