"""
===============================================
Double descent of random Fourier feature models
===============================================

The picture of Belkin (2021, Fig. 7) and Belkin, Hsu, Ma & Mandal (2019, Fig. 2): minimum-norm
least squares on ``N`` random Fourier features, fitted to one-hot labels, for ``N`` from far
below the number ``n`` of training points to far above it.

* Below ``n`` (the classical regime) the test loss follows the U-shaped curve of the
  bias-variance trade-off.
* At the interpolation threshold ``N = n`` the model can fit the training data exactly, but only
  with a huge norm: test loss and norm peak.
* Beyond it (the interpolating regime) every model fits the training data exactly, and the
  minimum-norm one gets *smoother* as ``N`` grows: test loss and norm fall again, towards those
  of the Gaussian kernel interpolant (the dotted line, the limit ``N -> inf``).

With the MNIST sample (``$SKINTERP_DATA``) this uses 1000 training images, pixels in [0, 1] and
``sigma = 5`` as in the paper; without it, scikit-learn's digits.
"""

# %%
# Data: MNIST when available, else scikit-learn's digits
# ------------------------------------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skinterp.experiments.double_descent import double_descent

rng = np.random.default_rng(0)
try:
    from skinterp.datasets import load_mnist_sample

    X_train, y_train, X_test, y_test = load_mnist_sample(os.environ.get("SKINTERP_DATA"))
    train, test = rng.permutation(len(X_train))[:1000], rng.permutation(len(X_test))[:1000]
    X_train, y_train, X_test, y_test = X_train[train], y_train[train], X_test[test], y_test[test]
    bandwidth, name = 5.0, "MNIST"
except FileNotFoundError:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    order = rng.permutation(len(X))
    X_train, y_train, X_test, y_test = X[order[:500]], y[order[:500]], X[order[500:]], y[order[500:]]
    bandwidth, name = 3.0, "digits"

# %%
# The sweep: 30 values of N from n / 20 to 20 n
# ---------------------------------------------
# The features of the largest model are drawn once; each grid point grows the Gram matrices of
# the previous one by the new blocks of features.
result = double_descent(X_train, y_train, X_test, y_test, bandwidth=bandwidth, random_state=0)
print(result.table())
print(f"{result.elapsed:.1f} s")

# %%
# Fig. 7: zero-one loss, squared loss and norm against N
# ------------------------------------------------------
axes = result.plot()
axes[0].set_title(f"random Fourier features on {name}, n = {result.n_train}, sigma = {bandwidth:g}")
plt.tight_layout()
plt.show()
