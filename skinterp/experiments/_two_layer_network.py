"""A numpy two-layer network with analytic gradients, tangent kernel and Hessian-vector products.

The network of Liu, Zhu & Belkin (2020) used in Sections 3.10 and 4 of Belkin (2021), in the
neural-tangent parameterisation, with a scalar output:

.. math::

    g(\\theta; x) = \\frac{1}{\\sqrt{m}} \\sum_{j=1}^m v_j \\tanh(u_j),
    \\qquad u_j = \\frac{w_j \\cdot x}{\\sqrt{d}},
    \\qquad f(\\theta; x) = \\phi(g(\\theta; x)),

with ``theta = (W, v)``, all entries drawn from ``N(0, 1)``, width ``m`` and an output
activation ``phi`` that is the identity (a linear output layer) or ``tanh`` (a non-linear one).
Everything is computed from the ``n x m`` matrix of pre-activations, without forming the
``n x m(d + 1)`` Jacobian:

* the tangent kernel ``K(x, x') = <grad f(x), grad f(x')>`` is
  ``phi'(g) phi'(g') (1/m) sum_j [tanh(u_j) tanh(u'_j) + v_j^2 tanh'(u_j) tanh'(u'_j) x.x'/d]``;
* the Hessian of ``g`` in ``theta`` is block diagonal over the neurons, so a Hessian-vector
  product costs one pass; the Hessian of ``f`` adds the rank-one term
  ``phi''(g) grad g grad g^T``. :func:`hessian_norm` runs Lanczos on these products.

The parameters are one flat vector (``W`` row by row, then ``v``), so that gradient descent,
finite differences and ``scipy.sparse.linalg`` see a plain array.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

OUTPUT_ACTIVATIONS = ("linear", "tanh")


@dataclass(frozen=True)
class TwoLayerNetwork:
    """The shape of a two-layer network: ``n_features`` inputs, ``width`` hidden tanh units.

    Parameters
    ----------
    n_features : int
        Input dimension ``d``.
    width : int
        Number of hidden units ``m``.
    output_activation : {"linear", "tanh"}
        ``phi`` of the output: the identity or ``tanh``.

    Examples
    --------
    >>> import numpy as np
    >>> network = TwoLayerNetwork(n_features=3, width=50)
    >>> theta = network.init(random_state=0)
    >>> theta.shape == (network.n_parameters,)
    True
    >>> X = np.random.default_rng(0).normal(size=(4, 3))
    >>> network.predict(theta, X).shape, network.tangent_kernel(theta, X).shape
    ((4,), (4, 4))
    """

    n_features: int
    width: int
    output_activation: str = "linear"

    def __post_init__(self):
        for name in ("n_features", "width"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise ValueError(
                f"output_activation must be one of {OUTPUT_ACTIVATIONS}, "
                f"got {self.output_activation!r}."
            )

    @property
    def n_parameters(self):
        """``M = m (d + 1)``, the number of trainable parameters."""
        return self.width * (self.n_features + 1)

    def init(self, random_state=None):
        """Parameters drawn from ``N(0, 1)`` (the NTK initialisation), as one flat vector."""
        return np.random.default_rng(random_state).standard_normal(self.n_parameters)

    def _split(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.n_parameters,):
            raise ValueError(f"theta must have shape ({self.n_parameters},), got {theta.shape}.")
        weights = theta[: self.width * self.n_features].reshape(self.width, self.n_features)
        return weights, theta[self.width * self.n_features :]

    def _hidden(self, theta, X):
        weights, output_weights = self._split(theta)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must have shape (n, {self.n_features}), got {X.shape}.")
        activations = np.tanh(X @ weights.T / np.sqrt(self.n_features))
        inner = activations @ output_weights / np.sqrt(self.width)
        return X, output_weights, activations, inner

    def _phi(self, inner):
        """``phi(g)``, ``phi'(g)`` and ``phi''(g)``."""
        if self.output_activation == "linear":
            return inner, np.ones_like(inner), np.zeros_like(inner)
        value = np.tanh(inner)
        slope = 1.0 - value**2
        return value, slope, -2.0 * value * slope

    def predict(self, theta, X):
        """``f(theta; x)`` for every row of ``X``, shape ``(n,)``."""
        return self._phi(self._hidden(theta, X)[3])[0]

    def jacobian(self, theta, X):
        """The ``(n, M)`` Jacobian ``d f(x_i) / d theta`` (for small problems and tests)."""
        X, output_weights, activations, inner = self._hidden(theta, X)
        slope = self._phi(inner)[1]
        scale = np.sqrt(self.width)
        # d g / d w_j = v_j tanh'(u_j) x / sqrt(m d); d g / d v_j = tanh(u_j) / sqrt(m).
        hidden_slope = (1.0 - activations**2) * output_weights / (scale * np.sqrt(self.n_features))
        d_weights = hidden_slope[:, :, None] * X[:, None, :]
        d_output = activations / scale
        jac = np.concatenate([d_weights.reshape(len(X), -1), d_output], axis=1)
        return slope[:, None] * jac

    def tangent_kernel(self, theta, X):
        """The ``(n, n)`` tangent kernel ``J J^T``, computed without the Jacobian."""
        X, output_weights, activations, inner = self._hidden(theta, X)
        slope = self._phi(inner)[1]
        hidden_slope = (1.0 - activations**2) * output_weights
        kernel = activations @ activations.T
        kernel += (hidden_slope @ hidden_slope.T) * (X @ X.T) / self.n_features
        kernel /= self.width
        return slope[:, None] * kernel * slope[None, :]

    def loss_gradient(self, theta, X, y):
        """The square loss ``(1/2n) sum_i (f(x_i) - y_i)^2`` and its gradient in ``theta``."""
        X, output_weights, activations, inner = self._hidden(theta, X)
        value, slope, _ = self._phi(inner)
        residual = value - np.asarray(y, dtype=np.float64)
        n_samples = len(X)
        loss = 0.5 * float(residual @ residual) / n_samples
        weighted = residual * slope / n_samples  # dL/dg_i
        scale = np.sqrt(self.width)
        d_output = activations.T @ weighted / scale
        hidden_slope = (1.0 - activations**2) * output_weights / (scale * np.sqrt(self.n_features))
        d_weights = (hidden_slope * weighted[:, None]).T @ X
        return loss, np.concatenate([d_weights.ravel(), d_output])

    def hessian_vector_product(self, theta, x, vector):
        """``H(x) vector``, the Hessian of the scalar ``f(theta; x)`` in ``theta`` times a vector.

        The Hessian of ``g`` is block diagonal over the neurons ``j``: with
        ``c = 1 / sqrt(m)``, ``s = 1 / sqrt(d)``, its block is
        ``c [[v_j tanh''(u_j) s^2 x x^T, tanh'(u_j) s x], [tanh'(u_j) s x^T, 0]]``.
        """
        weights, output_weights = self._split(theta)
        x = np.asarray(x, dtype=np.float64).reshape(-1)
        d_w, d_v = self._split(vector)
        s = 1.0 / np.sqrt(self.n_features)
        c = 1.0 / np.sqrt(self.width)
        hidden = np.tanh(weights @ x * s)
        first = 1.0 - hidden**2
        second = -2.0 * hidden * first
        projected = d_w @ x * s  # x . d_w_j / sqrt(d), one per neuron
        out_w = c * (output_weights * second * projected + first * d_v)[:, None] * (s * x)[None]
        out_v = c * first * projected
        product = np.concatenate([out_w.ravel(), out_v])
        if self.output_activation == "linear":
            return product
        inner = float(hidden @ output_weights) * c
        _, slope, curvature = self._phi(np.array([inner]))
        grad_weights = (c * output_weights * first)[:, None] * (s * x)[None]
        grad_inner = np.concatenate([grad_weights.ravel(), c * hidden])
        return slope[0] * product + curvature[0] * grad_inner * float(grad_inner @ vector)


def hessian_norm(network, theta, x, *, tol=1e-6):
    """The spectral norm ``||H(x)||`` of the Hessian of ``f(theta; x)``, by Lanczos (``eigsh``).

    Parameters
    ----------
    network : TwoLayerNetwork
    theta : ndarray of shape (M,)
    x : ndarray of shape (d,)
        One input.
    tol : float
        Relative accuracy of the eigenvalue.

    Returns
    -------
    norm : float
    """
    operator = LinearOperator(
        (network.n_parameters, network.n_parameters),
        matvec=lambda vector: network.hessian_vector_product(theta, x, vector.ravel()),
        dtype=np.float64,
    )
    start = np.random.default_rng(0).standard_normal(network.n_parameters)
    values = eigsh(operator, k=1, which="LM", tol=tol, v0=start, return_eigenvectors=False)
    return float(np.abs(values).max())


def train_gradient_descent(network, theta, X, y, *, learning_rate, n_steps, callback=None):
    """Full-batch gradient descent on the square loss; returns the final parameters.

    ``callback(step, theta, loss)`` is called before every step and after the last one
    (``step = 0 .. n_steps``) and may return True to stop early.
    """
    theta = np.array(theta, dtype=np.float64)
    for step in range(n_steps + 1):
        loss, gradient = network.loss_gradient(theta, X, y)
        if callback is not None and callback(step, theta, loss):
            break
        if step < n_steps:
            theta -= learning_rate * gradient
    return theta


def sphere_data(n_samples, n_features, *, random_state=None):
    """Points uniform on the unit sphere scaled by ``sqrt(d)`` and a smooth target in [-1, 1].

    ``|x|^2 = d`` keeps the pre-activations ``w . x / sqrt(d)`` of order one. The target is
    ``0.8 sin(x . a)`` for a random unit direction ``a``, so that ``tanh`` outputs can fit it.
    """
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_features))
    X *= np.sqrt(n_features) / np.linalg.norm(X, axis=1, keepdims=True)
    direction = rng.standard_normal(n_features)
    direction /= np.linalg.norm(direction)
    return X, 0.8 * np.sin(X @ direction)


def stable_learning_rate(network, theta, X, *, fraction=1.0):
    """``fraction / lambda_max(K / n)`` for the tangent kernel ``K`` at ``theta``.

    Gradient descent on ``(1/2n) ||f - y||^2`` of the linearised model is stable for steps below
    ``2 / lambda_max(K / n)``; one over it is the usual safe choice.
    """
    kernel = network.tangent_kernel(theta, X)
    return fraction / float(np.linalg.eigvalsh(kernel / len(kernel))[-1])
