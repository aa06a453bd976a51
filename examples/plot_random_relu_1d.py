"""
======================================================
Random ReLU features: 3, 30 and 3000 parameters in 1-D
======================================================

The picture of Belkin (2021, Fig. 6) and Belkin, Hsu, Ma & Mandal (2019): the same 12 noisy
points fitted by a one-hidden-layer network of random ReLU units whose first layer is fixed at
random and whose output layer is the minimum-norm least-squares solution,

.. math::

    f(x) = \\sum_{k=1}^{N} w_k \\max(v_k x + b_k, 0), \\qquad
    w = \\arg\\min \\{ \\|w\\| : w \\text{ minimises } \\textstyle\\sum_i (f(x_i) - y_i)^2 \\}.

* With 3 parameters the model is too small: least squares underfits.
* With 30 parameters, above the interpolation threshold, the model fits every point, but only
  with large coefficients: the interpolant swings between the points.
* With 3000 parameters the minimum-norm interpolant still fits every point, now with a smaller
  norm :math:`\\|w\\|`, and it is smoother between them: more parameters, *less* overfitting.

Every curve is piecewise linear with kinks at :math:`-b_k / v_k`. In one dimension a ReLU model
can interpolate only once a kink falls between every two neighbouring points, so the threshold
lies somewhat above :math:`N = n` and depends on the draw of the units; the last panel shows
the norm against :math:`N` with the first interpolating :math:`N` of this draw.
"""

# %%
# Fit the same random ReLU family with 3, 30 and 3000 features, and sweep N
# -------------------------------------------------------------------------
# One ``random_state`` gives nested features: the 30 units are the first 30 of the 3000.

from skinterp.experiments import show_figures
from skinterp.experiments.random_relu_1d import random_relu_1d

result = random_relu_1d(quick=True, random_state=0)
print(result.table())

# %%
# The norms of the three fits
# ---------------------------
# The paper shows the shapes, not numbers: the reference column says what each panel shows.
print(result.summary_table())

# %%
# Fig. 6, and the norm of the coefficients against N
# --------------------------------------------------
result.plot()
show_figures("plot_random_relu_1d")  # plt.show() on a screen; saved as PNG without one
