"""Mini-batch SGD on a least-squares problem given by its Gram matrix (kernel form).

Minimising ``(1/n) ||f - y||^2`` over ``f = K alpha`` (a kernel machine, or a linear model on
features ``Phi`` with ``K = Phi Phi^T`` and weights ``Phi^T alpha``) by SGD on mini-batches ``B``
of size ``m`` updates ``alpha_B -= (eta / m) (f_B - y_B)``: the function-space SGD of Ma, Bassily
& Belkin (2018). The residual ``f - y`` is kept up to date at ``O(n m)`` per step (``K`` is
symmetric, so its rows ``K[B]`` are the columns needed) and recomputed exactly once per epoch.
"""

import numpy as np

from skinterp._parallel import small_dense_blas


def critical_step_size(batch_size, beta, lambda_max):
    """``eta*(m) = m / (beta + (m - 1) lambda_max)`` (Ma, Bassily & Belkin, 2018, Theorem 4).

    ``m / beta`` (linear scaling) for ``m`` well below ``m* = beta / lambda_max``, saturating at
    ``1 / lambda_max`` (the full-gradient step) above it. ``beta = max_i K_ii`` and
    ``lambda_max`` is the largest eigenvalue of ``K / n``.
    """
    return batch_size / (beta + (batch_size - 1) * lambda_max)


def minibatch_sgd(
    gram, targets, *, batch_size, step_size, n_epochs, target_loss=None, random_state=None
):
    """Run SGD from ``alpha = 0``; return the loss after every epoch and the steps to a target.

    Parameters
    ----------
    gram : ndarray of shape (n, n)
        The symmetric Gram matrix ``K``.
    targets : ndarray of shape (n,) or (n, k)
    batch_size, step_size : int, float
        ``m`` and ``eta``.
    n_epochs : int
        Passes over the data (batches drawn without replacement within a pass).
    target_loss : float or None
        Stop at the first step whose loss ``(1/n) ||f - y||^2`` is below it.
    random_state : int or None

    Returns
    -------
    epoch_losses : ndarray
        The loss at the start and after every completed epoch.
    steps_to_target : int or None
        Steps taken when the loss first fell below ``target_loss`` (None if it did not).
    """
    gram = np.asarray(gram, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    targets = targets.reshape(len(targets), -1)
    n_samples = len(gram)
    if gram.shape != (n_samples, n_samples) or len(targets) != n_samples:
        raise ValueError(f"gram must be (n, n) and targets (n, ...), got {gram.shape}.")
    if not 1 <= batch_size <= n_samples:
        raise ValueError(f"batch_size must be in [1, {n_samples}], got {batch_size!r}.")
    rng = np.random.default_rng(random_state)
    alpha = np.zeros_like(targets)
    residual = -targets.copy()
    epoch_losses = [float(np.sum(residual**2)) / n_samples]
    # The per-step products are tiny ((m x n)^T (m x k)): BLAS threads only contend for them.
    with small_dense_blas(batch_size):
        return _run(
            gram,
            targets,
            alpha,
            residual,
            epoch_losses,
            batch_size,
            step_size,
            n_epochs,
            target_loss,
            rng,
        )


def _run(
    gram, targets, alpha, residual, epoch_losses, batch_size, step_size, n_epochs, target_loss, rng
):
    n_samples = len(gram)
    steps = 0
    for _ in range(n_epochs):
        order = rng.permutation(n_samples)
        for begin in range(0, n_samples - batch_size + 1, batch_size):
            batch = order[begin : begin + batch_size]
            change = (-step_size / batch_size) * residual[batch]
            alpha[batch] += change
            residual += gram[batch].T @ change
            steps += 1
            if target_loss is not None:
                squared = float(np.einsum("ij,ij->", residual, residual))
                if squared / n_samples <= target_loss:
                    return np.array(epoch_losses + [squared / n_samples]), steps
        residual = gram @ alpha - targets  # exact once per epoch: no drift of the recursion
        epoch_losses.append(float(np.sum(residual**2)) / n_samples)
    return np.array(epoch_losses), None
