"""
==============================
The critical batch size of SGD
==============================

Belkin (2021, Section 4.4, Fig. 10) after Ma, Bassily & Belkin (2018): for interpolating
least squares, mini-batch SGD gains linearly from the batch size up to a critical size
:math:`m^*` and hardly at all beyond it.
"""

# %%
# The phenomenon
# --------------
# Kernel least squares on :math:`n` points, :math:`f = \sum_i \alpha_i k(x_i, \cdot)`, has the
# Hessian :math:`H = K / n`. SGD on mini-batches :math:`B` of size :math:`m` in function space,
# :math:`\alpha_B \leftarrow \alpha_B - \frac{\eta}{m} (f(x_B) - y_B)`, converges for steps up to
#
# .. math::
#
#     \eta^*(m) = \frac{m}{\beta + (m - 1) \lambda_1},
#     \qquad \beta = \max_i k(x_i, x_i), \quad \lambda_1 = \lambda_{\max}(H),
#
# which grows linearly, :math:`\eta^* \approx m / \beta`, for :math:`m` below the critical batch
# size :math:`m^* = \beta / \lambda_1` and saturates at :math:`1 / \lambda_1` (the
# full-gradient step) above it. For the Laplace and Gauss kernels :math:`k(x, x) = 1`, so
# :math:`\beta = \operatorname{tr} H = 1` and
# :math:`m^* = \operatorname{tr} H / \lambda_{\max}(H)`.
# One step with a batch of :math:`m \le m^*` is worth :math:`m` steps with one sample; beyond
# :math:`m^*` the extra samples are wasted work.
#
# Without MNIST (``$SKINTERP_DATA``) this runs on scikit-learn's digits.

from skinterp.experiments import show_figures
from skinterp.experiments.critical_batch_size import critical_batch_size

result = critical_batch_size(quick=True, random_state=0)
print(result.table())

# %%
# :math:`m^*` beside the paper's values on MNIST
# ----------------------------------------------
print(result.summary_table())

# %%
# Iterations and epochs to the target loss, :math:`m^*` dashed
# ------------------------------------------------------------
result.plot()
show_figures("plot_critical_batch_size")  # plt.show() on a screen; saved as PNG without one
