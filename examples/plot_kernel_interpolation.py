"""
Kernel interpolation at scale: EigenPro reaches the interpolant in a few epochs
================================================================================

A kernel machine ``f(x) = sum_i a_i k(x_i, x)`` that *interpolates* its training data,
``f(x_i) = y_i``, is the minimum-RKHS-norm solution ``a = K^{-1} y`` (Belkin, "Fit without
fear", Acta Numerica 2021, Sections 3.4-3.9). Despite fitting every training label exactly it
classifies new images well. The direct solve needs the ``n x n`` kernel matrix; EigenPro 2
(Ma and Belkin, 2019) gets there by preconditioned mini-batch SGD in memory ``O(n d)``.

This example fits the 5000-image MNIST sample (when ``$SKINTERP_DATA`` points to the data
folder; scikit-learn's 8x8 digits otherwise) and plots, after every EigenPro epoch, the
training and test error and the RKHS norm of the fitted function, next to the direct solve.
"""

# %%
# Data: the MNIST sample if available, else scikit-learn's digits
# ---------------------------------------------------------------
import matplotlib

matplotlib.use("Agg")  # no display needed; harmless under sphinx-gallery

import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skinterp import KernelInterpolationClassifier
from skinterp.datasets import load_mnist_sample
from skinterp.experiments import show_figures

try:
    X_train, y_train, X_test, y_test = load_mnist_sample()  # pixels / 255
    name, bandwidth = "MNIST sample (5000 train / 5000 test)", 10.0
except FileNotFoundError:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, y_train, X_test, y_test = X[:1000], y[:1000], X[1000:], y[1000:]
    name, bandwidth = "scikit-learn digits (1000 train / 797 test)", 3.0
print(name, X_train.shape)

# %%
# The direct solve: Cholesky of the kernel matrix
# -----------------------------------------------
direct = KernelInterpolationClassifier(bandwidth=bandwidth, solver="direct")
direct.fit(X_train, y_train)
direct_test_error = 100 * (1 - direct.score(X_test, y_test))
print(
    f"direct: training accuracy {direct.score(X_train, y_train):.3f}, "
    f"test error {direct_test_error:.2f}%, RKHS norm {direct.norm_:.1f}"
)

# %%
# EigenPro, recording the errors after every epoch
# ------------------------------------------------
# ``callback`` is called after every EigenPro epoch with a read-only view of the fit:
# ``state.epoch``, ``state.loss``, the coefficients ``state.coef`` (in the order of
# ``state.centers``) and ``state.evaluate(X)``, the current function at new points.
history = {"epoch": [], "train": [], "test": [], "norm": []}


def record(state):
    at_centers = state.evaluate(state.centers)
    history["epoch"].append(state.epoch)
    history["train"].append(100 * np.mean(state.evaluate(X_train).argmax(axis=1) != y_train))
    history["test"].append(100 * np.mean(state.evaluate(X_test).argmax(axis=1) != y_test))
    history["norm"].append(np.sqrt(np.sum(state.coef * at_centers)))
    # Returning True would end the fit here; we run the 10 epochs.


eigenpro = KernelInterpolationClassifier(
    bandwidth=bandwidth, solver="eigenpro", n_epochs=10, n_jobs=-1, random_state=0, callback=record
)
with warnings.catch_warnings():
    # Ten epochs do not reach the interpolation tolerance (1e-6): the warning says so; here
    # the curve, not the last epoch, is the point.
    warnings.simplefilter("ignore", ConvergenceWarning)
    eigenpro.fit(X_train, y_train)
print(
    f"EigenPro: batch size {eigenpro.batch_size_}, critical batch size "
    f"{eigenpro.critical_batch_size_:.0f}, {eigenpro.n_components_} eigen-directions, "
    f"training residual {eigenpro.train_residual_:.2g}"
)
for epoch, train, test in zip(history["epoch"], history["train"], history["test"]):
    print(f"epoch {epoch:2d}: training error {train:.2f}%, test error {test:.2f}%")

# %%
# Plot: the training error reaches zero, the test error that of the direct solve
# ------------------------------------------------------------------------------
fig, (ax_error, ax_norm) = plt.subplots(1, 2, figsize=(10, 4))
ax_error.plot(history["epoch"], history["train"], "o-", label="EigenPro, training")
ax_error.plot(history["epoch"], history["test"], "s-", label="EigenPro, test")
ax_error.axhline(direct_test_error, color="k", linestyle="--", label="direct solve, test")
ax_error.set_xlabel("epoch")
ax_error.set_ylabel("classification error (%)")
ax_error.set_title(name, fontsize=10)
ax_error.legend()
ax_norm.plot(history["epoch"], history["norm"], "o-", label="EigenPro")
ax_norm.axhline(direct.norm_, color="k", linestyle="--", label="direct solve (interpolant)")
ax_norm.set_xlabel("epoch")
ax_norm.set_ylabel("RKHS norm  sqrt(a^T K a)")
ax_norm.legend()
fig.tight_layout()
show_figures("plot_kernel_interpolation")  # plt.show() on a screen; saved as PNG without one
