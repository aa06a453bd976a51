"""RandomFourierFeatures, RandomReLUFeatures and the weights behind them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.kernel_approximation import RBFSampler

from skinterp import RandomFourierFeatures, RandomReLUFeatures
from skinterp.random_features import draw_weights, limit_kernel


@settings(max_examples=15, deadline=None)
@given(
    kind=st.sampled_from(["fourier", "relu"]),
    n_features=st.integers(1, 6),
    small=st.integers(1, 300),
    extra=st.integers(0, 5000),
    seed=st.integers(0, 2**31 - 2),
)
def test_feature_sets_of_one_seed_are_nested(kind, n_features, small, extra, seed):
    weights, offsets = draw_weights(kind, n_features, small + extra, 1.5, seed)
    prefix_weights, prefix_offsets = draw_weights(kind, n_features, small, 1.5, seed)
    np.testing.assert_array_equal(weights[:, :small], prefix_weights)
    np.testing.assert_array_equal(offsets[:small], prefix_offsets)


def test_weights_have_the_stated_distributions():
    weights, offsets = draw_weights("fourier", 3, 200_000, 2.0, 0)
    assert weights.shape == (3, 200_000) and offsets.shape == (200_000,)
    np.testing.assert_allclose(weights.std(axis=1), 0.5, rtol=0.01)  # N(0, I / sigma^2)
    assert 0 <= offsets.min() and offsets.max() < 2 * np.pi
    np.testing.assert_allclose(offsets.mean(), np.pi, rtol=0.01)
    _, relu_offsets = draw_weights("relu", 3, 200_000, 2.0, 0)
    np.testing.assert_allclose(relu_offsets.std(), 1.0, rtol=0.01)


@pytest.mark.parametrize(
    "cls, kind", [(RandomFourierFeatures, "fourier"), (RandomReLUFeatures, "relu")]
)
def test_transform_is_the_documented_formula(cls, kind):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    transformer = cls(n_components=50, bandwidth=0.7, random_state=3).fit(X)
    pre_activation = X @ transformer.random_weights_ + transformer.random_offset_
    activation = np.cos(pre_activation) if kind == "fourier" else np.maximum(pre_activation, 0)
    np.testing.assert_allclose(
        transformer.transform(X), np.sqrt(2 / 50) * activation, rtol=1e-12, atol=1e-14
    )


def test_fourier_features_are_rbfsampler_features_with_gamma_one_over_two_sigma_squared():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))
    sigma = 1.3
    ours = RandomFourierFeatures(n_components=40, bandwidth=sigma, random_state=0).fit(X)
    peer = RBFSampler(gamma=1 / (2 * sigma**2), n_components=40, random_state=0).fit(X)
    peer.random_weights_ = ours.random_weights_  # inject the same weights
    peer.random_offset_ = ours.random_offset_
    np.testing.assert_allclose(ours.transform(X), peer.transform(X), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "cls, kind", [(RandomFourierFeatures, "fourier"), (RandomReLUFeatures, "relu")]
)
def test_inner_products_approach_the_limit_kernel(cls, kind):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(8, 3))
    Phi = cls(n_components=200_000, bandwidth=2.0, random_state=0).fit_transform(X)
    kernel = limit_kernel(X, X, kind, 2.0)
    # Monte Carlo error ~ k / sqrt(N / 2): 0.003 relative to the diagonal here.
    scale = np.sqrt(np.outer(np.diag(kernel), np.diag(kernel)))
    np.testing.assert_allclose(Phi @ Phi.T / scale, kernel / scale, atol=0.015)


def test_limit_kernels_match_closed_forms():
    x, z = np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])
    np.testing.assert_allclose(limit_kernel(x, z, "fourier", 2.0), np.exp(-1 / 8))
    # (x / sigma, 1) = (0, 1, 1) and (1, 1, 1): cos(theta) = 2 / sqrt(6)
    theta = np.arccos(2 / np.sqrt(6))
    expected = np.sqrt(2) * np.sqrt(3) / np.pi * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    np.testing.assert_allclose(limit_kernel(x, z, "relu", 1.0), expected)


@pytest.mark.parametrize("cls", [RandomFourierFeatures, RandomReLUFeatures])
def test_float32_is_preserved_and_agrees_with_float64(cls):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(25, 5))
    transformer = cls(n_components=64, bandwidth=1.0, random_state=0).fit(X)
    single = transformer.transform(X.astype(np.float32))
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, transformer.transform(X), atol=1e-5)


@pytest.mark.parametrize("cls", [RandomFourierFeatures, RandomReLUFeatures])
def test_feature_names_out(cls):
    X = np.zeros((3, 2))
    names = cls(n_components=4, bandwidth=1.0).fit(X).get_feature_names_out()
    prefix = cls.__name__.lower()
    assert list(names) == [f"{prefix}{i}" for i in range(4)]


def test_bandwidth_scale_is_svc_gamma_scale():
    rng = np.random.default_rng(4)
    X = 3 * rng.normal(size=(100, 7))
    transformer = RandomFourierFeatures(bandwidth="scale", random_state=0).fit(X)
    # gamma = 1 / (n_features * X.var()) and gamma = 1 / (2 sigma^2)
    np.testing.assert_allclose(1 / (2 * transformer.bandwidth_**2), 1 / (7 * X.var()))
    constant = np.ones((4, 2))
    assert RandomFourierFeatures(bandwidth="scale").fit(constant).bandwidth_ == 1.0
    assert RandomFourierFeatures().fit(constant).bandwidth_ == 1.0  # "auto" too


def test_same_seed_same_features_and_other_seed_other_features():
    X = np.random.default_rng(5).normal(size=(10, 3))
    first = RandomReLUFeatures(n_components=20, random_state=7).fit_transform(X)
    again = RandomReLUFeatures(n_components=20, random_state=7).fit_transform(X)
    other = RandomReLUFeatures(n_components=20, random_state=8).fit_transform(X)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


@pytest.mark.parametrize(
    "params", [{"n_components": 0}, {"bandwidth": -1.0}, {"bandwidth": "median"}]
)
def test_invalid_parameters_raise_value_error(params):
    with pytest.raises(ValueError):
        RandomFourierFeatures(**params).fit(np.zeros((3, 2)))


def test_non_finite_input_and_wrong_width_raise_value_error():
    X = np.zeros((3, 2))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RandomFourierFeatures().fit(X)
    fitted = RandomFourierFeatures(n_components=5).fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="features"):
        fitted.transform(np.zeros((3, 4)))
