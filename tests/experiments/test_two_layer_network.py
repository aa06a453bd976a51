"""The numpy two-layer network: gradients, tangent kernel, Hessian vs finite differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skinterp.experiments._two_layer_network import (
    TwoLayerNetwork,
    hessian_norm,
    sphere_data,
    train_gradient_descent,
)


def _finite_difference(function, theta, step=1e-6):
    columns = []
    for index in range(theta.size):
        offset = np.zeros_like(theta)
        offset[index] = step
        columns.append((function(theta + offset) - function(theta - offset)) / (2 * step))
    return np.stack(columns, axis=-1)


@settings(max_examples=15, deadline=None)
@given(
    width=st.integers(1, 6),
    n_features=st.integers(1, 4),
    output=st.sampled_from(["linear", "tanh"]),
    seed=st.integers(0, 2**16),
)
def test_jacobian_and_loss_gradient_match_finite_differences(width, n_features, output, seed):
    network = TwoLayerNetwork(n_features, width, output)
    theta = network.init(random_state=seed)
    X, y = sphere_data(5, n_features, random_state=seed + 1)
    numeric = _finite_difference(lambda t: network.predict(t, X), theta)
    np.testing.assert_allclose(network.jacobian(theta, X), numeric, atol=1e-6)
    loss, gradient = network.loss_gradient(theta, X, y)
    numeric = _finite_difference(lambda t: network.loss_gradient(t, X, y)[0], theta)
    np.testing.assert_allclose(gradient, numeric, atol=1e-6)
    residual = network.predict(theta, X) - y
    assert loss == pytest.approx(0.5 * np.mean(residual**2))


@pytest.mark.parametrize("output", ["linear", "tanh"])
def test_tangent_kernel_is_the_jacobian_gram_matrix(output):
    network = TwoLayerNetwork(4, 30, output)
    theta = network.init(random_state=3)
    X, _ = sphere_data(7, 4, random_state=4)
    jacobian = network.jacobian(theta, X)
    np.testing.assert_allclose(network.tangent_kernel(theta, X), jacobian @ jacobian.T, rtol=1e-10)


@pytest.mark.parametrize("output", ["linear", "tanh"])
def test_hessian_vector_product_and_norm_match_the_finite_difference_hessian(output):
    network = TwoLayerNetwork(3, 4, output)
    theta = network.init(random_state=5)
    x = sphere_data(1, 3, random_state=6)[0][0]
    hessian = _finite_difference(lambda t: network.jacobian(t, x[None])[0], theta)
    vector = np.random.default_rng(7).standard_normal(network.n_parameters)
    np.testing.assert_allclose(
        network.hessian_vector_product(theta, x, vector), hessian @ vector, atol=1e-6
    )
    exact = np.abs(np.linalg.eigvalsh(0.5 * (hessian + hessian.T))).max()
    assert hessian_norm(network, theta, x) == pytest.approx(exact, rel=1e-5)


def test_gradient_descent_lowers_the_loss_and_stops_when_asked():
    network = TwoLayerNetwork(3, 200)
    X, y = sphere_data(20, 3, random_state=0)
    losses = []
    train_gradient_descent(
        network,
        network.init(0),
        X,
        y,
        learning_rate=1.0,
        n_steps=50,
        callback=lambda step, theta, loss: losses.append(loss) or step == 30,
    )
    assert len(losses) == 31 and losses[-1] < 0.5 * losses[0]


def test_bad_shapes_and_settings_are_rejected():
    with pytest.raises(ValueError, match="width"):
        TwoLayerNetwork(3, 0)
    with pytest.raises(ValueError, match="output_activation"):
        TwoLayerNetwork(3, 2, "relu")
    network = TwoLayerNetwork(3, 2)
    with pytest.raises(ValueError, match="theta"):
        network.predict(np.zeros(3), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="X must"):
        network.predict(network.init(0), np.zeros((1, 4)))
