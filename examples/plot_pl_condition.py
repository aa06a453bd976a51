"""
=======================================
The PL condition along gradient descent
=======================================

Belkin (2021, Sections 4.1-4.3): why gradient descent converges exponentially on
over-parameterised models and stalls on under-parameterised ones.
"""

# %%
# The phenomenon
# --------------
# For the square loss :math:`L(\theta) = \frac{1}{2n} \|f(\theta) - y\|^2` the gradient is
# :math:`\nabla L = \frac{1}{n} J^T (f - y)`, so
#
# .. math::
#
#     \|\nabla L\|^2 = \frac{1}{n^2} (f - y)^T K (f - y)
#     \ge \frac{2 \lambda_{\min}(K)}{n} L,
#
# with :math:`K = J J^T` the tangent kernel. Where :math:`\lambda_{\min}(K) \ge \mu > 0` along
# the path (the PL* condition) gradient descent with step :math:`\eta` converges exponentially,
# :math:`L_t \le (1 - 2 \eta \mu / n)^t L_0`. :math:`K` is :math:`n \times n` of rank at most
# the number of parameters :math:`M`: when :math:`M < n` it is singular, the model cannot
# interpolate and the loss stalls; when :math:`M \gg n` its smallest eigenvalue stays away from
# zero all along the path.

from skinterp.experiments import show_figures
from skinterp.experiments.pl_condition import pl_condition

result = pl_condition(quick=True, random_state=0)
print(result.table())

# %%
# Headline numbers
# ----------------
# The paper states the claim without numbers; the reference column says what to expect.
print(result.summary_table())

# %%
# Loss and :math:`\lambda_{\min}(K)` along the path, one curve per number of parameters
# -------------------------------------------------------------------------------------
result.plot()
show_figures("plot_pl_condition")  # plt.show() on a screen; saved as PNG without one
