"""
========================================
Transition to linearity of wide networks
========================================

Belkin (2021, Section 3.10) after Liu, Zhu & Belkin (2020): a wide network is almost a linear
model in its parameters, so its tangent kernel hardly changes during training, unless the output
layer is non-linear.
"""

# %%
# The phenomenon
# --------------
# A two-layer network of width :math:`m` in the neural-tangent parameterisation,
#
# .. math::
#
#     f(\theta; x) = \phi\Big(\frac{1}{\sqrt{m}} \sum_{j=1}^m v_j
#     \tanh\big(w_j \cdot x / \sqrt{d}\big)\Big),
#
# has a gradient :math:`\nabla_\theta f` of order one but a Hessian of spectral norm
# :math:`\|H\| = O(1/\sqrt{m})` when :math:`\phi` is the identity. Gradient descent moves the
# parameters by :math:`O(1)`, so the tangent kernel
# :math:`K(x, x') = \langle \nabla f(x), \nabla f(x') \rangle` changes by
# :math:`O(\|H\|) = O(1/\sqrt{m})` at most: the wide network trains like a kernel machine.
# With a non-linear output :math:`\phi = \tanh` the Hessian gains
# :math:`\phi''(g)\, \nabla g \nabla g^T`, of order one at every width, and the transition
# to linearity does not happen.
#
# We train networks of widths 10 to 3000 to a 1000-fold lower training loss and measure
# :math:`\|K_T - K_0\|_F / \|K_0\|_F` and :math:`\|H\|` at the initialisation.

from skinterp.experiments import show_figures
from skinterp.experiments.transition_to_linearity import transition_to_linearity

result = transition_to_linearity(quick=True, random_state=0)
print(result.table())

# %%
# Our numbers beside the paper's
# ------------------------------
# With the linear output the kernel change falls faster than the :math:`1/\sqrt{m}` bound
# (the first-order changes of the :math:`m` neurons have random signs and average out); the
# Hessian norm falls close to :math:`1/\sqrt{m}`. With the ``tanh`` output the change stays
# of order one.
print(result.summary_table())

# %%
# The figure
# ----------
result.plot()
show_figures("plot_transition_to_linearity")  # plt.show() on a screen; saved as PNG without one
