"""
=================================================
Benign overfitting of the minimum-norm linear fit
=================================================

Belkin (2021, Section 3.8): in linear regression the interpolant of noisy labels can be nearly
optimal, but only when the covariance spectrum is "benign".

A Gaussian teacher draws :math:`x \\sim N(0, \\Sigma)` in :math:`d` dimensions and labels
:math:`y = \\langle x, \\beta^* \\rangle + \\varepsilon` with noise of variance
:math:`\\sigma^2`. From :math:`n` samples we fit the minimum-norm least-squares solution

.. math::

    \\hat\\beta = X^+ y = X^\\top (X X^\\top)^{-1} y \\qquad (d \\ge n),

which interpolates the noisy labels once :math:`d \\ge n`, and ridge regression with the best
penalty for contrast. The excess test risk is
:math:`(\\hat\\beta - \\beta^*)^\\top \\Sigma (\\hat\\beta - \\beta^*)` (exact, no test sample).

* **Isotropic** :math:`\\Sigma = I`: with :math:`\\gamma = d / n`, Hastie, Montanari, Rosset
  and Tibshirani (2019) give the excess risk :math:`\\sigma^2 \\gamma / (1 - \\gamma)` below the
  threshold and :math:`\\|\\beta^*\\|^2 (1 - 1/\\gamma) + \\sigma^2 / (\\gamma - 1)` above: it
  blows up at :math:`d = n` and, beyond it, never comes near the optimum.
* **Spiked**: a few eigenvalues 1 carry the signal and the :math:`d - k` others share a fixed
  total variance. Bartlett, Long, Lugosi and Tsigler (2020) show the variance of the
  interpolant is of order :math:`\\sigma^2 (k / n + n / R_k)`, with the effective rank
  :math:`R_k = (\\sum_{i > k} \\lambda_i)^2 / \\sum_{i > k} \\lambda_i^2 = d - k` here: far
  above the threshold the interpolant's risk is close to that of the best ridge.
"""

# %%
# Sweep d / n for both spectra
# ----------------------------

from skinterp.experiments import show_figures
from skinterp.experiments.min_norm_linear import min_norm_linear

result = min_norm_linear(quick=True, random_state=0)
print(result.table(["d", "d/n", "method", "spiked excess risk", "isotropic excess risk"]))

# %%
# Our headline numbers beside the references
# ------------------------------------------
# The spiked interpolant's risk far above the threshold against Bartlett et al.'s variance
# scale, the isotropic one against Hastie et al.'s formula.
print(result.summary_table())

# %%
# Excess risk against d / n
# -------------------------
# Left: the spiked (benign) spectrum, where the interpolant comes back to the best ridge.
# Right: the isotropic spectrum, where it follows the theory curve.
axes = result.plot()
for axis in axes:
    axis.axvline(1.0, color="gray", lw=0.8)
show_figures("plot_min_norm_linear")  # plt.show() on a screen; saved as PNG without one
