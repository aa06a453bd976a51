"""
Which estimator when: measured cost per fit and predict
=======================================================

Every estimator of skinterp interpolates its training data; they differ in what they cost and
where they work. This example measures, on one machine, the time of ``fit`` and of ``predict``
of each of them (and of scikit-learn's peers) at a few training sizes ``n``, and ends with a
guide to choosing.
"""

# %%
# What is measured
# ----------------
# A smooth regression target with noise, :math:`y = \sin(\langle w, x\rangle) + \varepsilon`,
# on :math:`d = 8` standard normal features; 500 test queries; ``n`` from 500 to 2000. Each
# estimator is fitted once on a small problem first, so that the numba compilation of its
# kernels (a few seconds, cached on disk after the first process) is not counted. Times are
# wall-clock seconds on whatever machine builds this page (shared machines give noisy numbers;
# predictions are the best of three runs).
# The asymptotic costs are those of the user guide:
#
# ===============================  ================================  ==========================
# estimator                        fit                               predict (per query)
# ===============================  ================================  ==========================
# SingularKernelNN                 KD-tree, :math:`O(n d \log n)`    :math:`O(k \log n)`
# SimplicialInterpolator (d <= 5)  triangulation                     a walk
# SimplicialInterpolator (lifted)  nothing                           an LP, :math:`O(n d)` each
# KernelInterpolator (direct)      :math:`n^2 d + n^3/3`             :math:`O(n d)`
# KernelInterpolator (EigenPro)    :math:`2 n^2 d` per epoch         :math:`O(n d)`
# MinNormRFFRegressor              :math:`n N d + n^2 N`             :math:`O(N d)`
# ===============================  ================================  ==========================

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.kernel_ridge import KernelRidge
from sklearn.neighbors import KNeighborsRegressor

from skinterp import (
    KernelInterpolator,
    MinNormRFFRegressor,
    SimplicialInterpolator,
    SingularKernelNN,
)
from skinterp.experiments import show_figures

n_features, n_queries, sizes = 8, 500, [500, 1000, 2000]
rng = np.random.default_rng(0)
direction = rng.normal(size=n_features) / np.sqrt(n_features)


def make_data(n_samples):
    X = rng.normal(size=(n_samples, n_features))
    return X, np.sin(2 * X @ direction) + 0.1 * rng.normal(size=n_samples)


bandwidth = 2 * np.sqrt(n_features)
estimators = {
    "SingularKernelNN (k=10)": lambda: SingularKernelNN(n_neighbors=10),
    "SimplicialInterpolator (lifted)": lambda: SimplicialInterpolator(method="lifted"),
    "KernelInterpolator (direct)": lambda: KernelInterpolator(
        bandwidth=bandwidth, solver="direct"
    ),
    "KernelInterpolator (EigenPro)": lambda: KernelInterpolator(
        bandwidth=bandwidth, solver="eigenpro", n_epochs=5, random_state=0
    ),
    "MinNormRFFRegressor (N=4n)": lambda n: MinNormRFFRegressor(
        n_components=4 * n, random_state=0
    ),
    "sklearn KernelRidge (Laplacian)": lambda: KernelRidge(
        kernel="laplacian", alpha=1e-3, gamma=1 / bandwidth
    ),
    "sklearn KNeighborsRegressor": lambda: KNeighborsRegressor(n_neighbors=10),
}


def build(make, n_samples):
    return make(n_samples) if make.__code__.co_argcount else make()


X_queries, y_queries = make_data(n_queries)
X_small, y_small = make_data(200)
for make in estimators.values():  # compile (or load) the numba kernels once, untimed
    build(make, 200).fit(X_small, y_small).predict(X_queries[:10])

rows = []
for n_samples in sizes:
    X, y = make_data(n_samples)
    for name, make in estimators.items():
        # The lifted simplicial interpolator answers an LP per query: time fewer queries.
        queries = X_queries[:100] if "lifted" in name else X_queries
        estimator = build(make, n_samples)
        start = time.perf_counter()
        estimator.fit(X, y)
        fit_seconds = time.perf_counter() - start
        predict_seconds = []
        for _ in range(3):  # the best of three: predictions are short and timings noisy
            start = time.perf_counter()
            prediction = estimator.predict(queries)
            predict_seconds.append(time.perf_counter() - start)
        predict_ms = 1000 * min(predict_seconds) / len(queries)
        test_mse = float(np.mean((prediction - y_queries[: len(queries)]) ** 2))
        train_mse = float(np.mean((estimator.predict(X[:200]) - y[:200]) ** 2))
        rows.append((name, n_samples, fit_seconds, predict_ms, train_mse, test_mse))

# %%
# The table
# ---------
# ``train MSE`` on 200 training points is 0 (to rounding) for the interpolating estimators,
# EigenPro after 5 epochs excepted (it approaches interpolation epoch by epoch); the noise
# variance is 0.01.

header = (
    f"{'estimator':<32} {'n':>5} {'fit s':>8} {'predict ms/query':>17} {'train MSE':>10} "
    f"{'test MSE':>9}"
)
print(header)
print("-" * len(header))
for name, n_samples, fit_seconds, predict_ms, train_mse, test_mse in rows:
    print(
        f"{name:<32} {n_samples:5d} {fit_seconds:8.3f} {predict_ms:17.4f} {train_mse:10.2e} "
        f"{test_mse:9.4f}"
    )

# %%
# How the costs grow
# ------------------

fig, axes = plt.subplots(1, 2, figsize=(11, 5), layout="constrained")
for name in estimators:
    own = [row for row in rows if row[0] == name]
    style = "--" if name.startswith("sklearn") else "-"
    axes[0].plot([r[1] for r in own], [r[2] for r in own], style, marker="o", label=name)
    axes[1].plot([r[1] for r in own], [r[3] for r in own], style, marker="o", label=name)
axes[0].set(xscale="log", yscale="log", xlabel="n (training points)", ylabel="fit (s)")
axes[1].set(
    xscale="log", yscale="log", xlabel="n (training points)", ylabel="predict (ms per query)"
)
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4)
axes[0].set_title("fit")
axes[1].set_title("predict")
show_figures("plot_which_estimator")  # plt.show() on a screen; saved as PNG without one

# %%
# Which estimator when
# --------------------
# - **Many points, low intrinsic dimension, or a fit that must be cheap**:
#   :class:`~skinterp.SingularKernelNN` (``alpha="auto"``). Fitting is building an index;
#   prediction is a neighbour search. The interpolating replacement of k-NN.
# - **Best accuracy on real data up to ~10,000 points**: :class:`~skinterp.KernelInterpolator`
#   with the direct solver (memory :math:`8 n^2` bytes); tune only the bandwidth.
# - **More points than fit in memory as an n x n matrix**: the same estimator with
#   ``solver="eigenpro"`` (memory :math:`O(n d)`, a few epochs of :math:`2 n^2 d` flops).
# - **Prediction cost independent of n, or a study of double descent**:
#   :class:`~skinterp.MinNormRFFRegressor`, with ``n_components`` well away from ``n``
#   (the test error peaks at :math:`N = n`).
# - **The effect of dimension on label noise, or exact piecewise-linear interpolation in low
#   dimension**: :class:`~skinterp.SimplicialInterpolator`. In high dimension each query is a
#   linear program (milliseconds): the most expensive predictor here.
#
# The user guide's pages give the maths and pitfalls of each (:ref:`user_guide`).
