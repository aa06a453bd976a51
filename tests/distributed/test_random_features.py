"""The distributed min-norm random-feature fit equals the local dual solve."""

import warnings

import numpy as np
import pytest

pytest.importorskip(
    "distributed", reason="the optional `skinterp[dask]` extra (dask.distributed) is not installed"
)

import dask.array as da  # noqa: E402

from skinterp import MinNormRFFClassifier, MinNormRFFRegressor  # noqa: E402
from skinterp.distributed import fit_min_norm, fit_min_norm_rff, gram_sweep  # noqa: E402
from skinterp.random_features._features import draw_weights, unscaled_features  # noqa: E402

RNG = np.random.RandomState(3)
X = RNG.uniform(-1, 1, size=(150, 4))
Y = np.sin(3 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * RNG.normal(size=150)
X_TEST = RNG.uniform(-1, 1, size=(60, 4))


@pytest.mark.parametrize("features, n_components", [("fourier", 1500), ("relu", 450)])
def test_distributed_regressor_equals_local_above_the_threshold(client, features, n_components):
    params = dict(
        n_components=n_components, bandwidth=0.7, features=features, random_state=4, cutoff=1e-7
    )  # the exact pseudo-inverse: the interpolant (default 1e-3)
    local = MinNormRFFRegressor(**params).fit(X, Y)
    remote = fit_min_norm_rff(
        MinNormRFFRegressor(**params),
        da.from_array(X, chunks=50),
        da.from_array(Y, chunks=50),
        client,
    )
    np.testing.assert_array_equal(remote.random_weights_, local.random_weights_)
    assert remote.solver_ == "dual" and remote.interpolates_ == local.interpolates_
    assert remote.rank_ == local.rank_
    scale = np.abs(local.predict(X_TEST)).max()
    np.testing.assert_allclose(remote.predict(X_TEST), local.predict(X_TEST), atol=1e-7 * scale)
    np.testing.assert_allclose(remote.predict(X), Y, atol=1e-6)
    np.testing.assert_allclose(remote.coef_norm_, local.coef_norm_, rtol=1e-6)


def test_distributed_classifier_equals_local_and_a_random_state_instance_too(client):
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3)
    local = MinNormRFFClassifier(n_components=600, random_state=np.random.RandomState(7))
    local.fit(X, labels)
    remote = fit_min_norm_rff(
        MinNormRFFClassifier(n_components=600, random_state=np.random.RandomState(7)),
        X,
        labels,
        client,
    )
    np.testing.assert_array_equal(remote.classes_, local.classes_)
    np.testing.assert_array_equal(remote.random_weights_, local.random_weights_)
    np.testing.assert_allclose(remote.coef_, local.coef_, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(remote.predict(X_TEST), local.predict(X_TEST))
    np.testing.assert_array_equal(remote.predict(X), labels)


def test_test_predictions_are_c_test_c_transpose_a(client):
    weights, offsets = draw_weights("fourier", 4, 1000, 0.7, 5)
    solution, test_pred = fit_min_norm(
        X, Y[:, None], "fourier", 1000, 0.7, 5, X_test=X_TEST, client=client
    )
    local = MinNormRFFRegressor(n_components=1000, bandwidth=0.7, random_state=5).fit(X, Y)
    np.testing.assert_allclose(test_pred[:, 0], local.predict(X_TEST), atol=1e-7)
    np.testing.assert_allclose(solution.coef, local.coef_, rtol=1e-5, atol=1e-8)


def test_below_the_threshold_is_refused_with_advice(client):
    with pytest.raises(ValueError, match="n_components >= n_samples"):
        fit_min_norm(X, Y[:, None], "fourier", 100, 0.7, 0, client=client)


@pytest.mark.parametrize("features", ["fourier", "relu"])
def test_gram_sweep_equals_the_gram_matrices_of_the_leading_features(client, features):
    grid = [700, 150, 400, 401]  # unsorted on purpose; intervals of 1 and of many columns
    weights, offsets = draw_weights(features, 4, 700, 0.7, 9)
    C = unscaled_features(X, weights, offsets, features)
    C_test = unscaled_features(X_TEST, weights, offsets, features)
    seen = []
    for N, gram, cross in gram_sweep(X, X_TEST, features, grid, 0.7, 9, client=client):
        seen.append(N)
        np.testing.assert_allclose(gram, C[:, :N] @ C[:, :N].T, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(cross, C_test[:, :N] @ C[:, :N].T, rtol=1e-12, atol=1e-9)
    assert seen == [150, 400, 401, 700]


def test_the_estimator_sums_its_gram_on_the_cluster_under_the_dask_backend(client, monkeypatch):
    import joblib

    import skinterp.distributed as distributed_module

    calls = []
    original = distributed_module.fit_min_norm

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(distributed_module, "fit_min_norm", counting)
    local = MinNormRFFRegressor(n_components=900, random_state=5).fit(X, Y)
    assert calls == []
    with joblib.parallel_config(backend="dask"):
        remote = MinNormRFFRegressor(n_components=900, random_state=5).fit(X, Y)
    assert calls == [1]
    for name in ("n_directions_cut_", "rank_", "interpolates_", "solver_"):
        assert getattr(remote, name) == getattr(local, name), name
    np.testing.assert_allclose(
        remote.train_residual_, local.train_residual_, rtol=1e-5, atol=1e-12
    )
    np.testing.assert_allclose(
        remote.predict(X_TEST), local.predict(X_TEST), rtol=1e-8, atol=1e-10
    )


@pytest.mark.parametrize(
    "params",
    [
        dict(n_components=1500, bandwidth=0.7, cutoff=1e-7),  # interpolates
        dict(n_components=300, bandwidth=1.5),  # near the threshold: the cut-off drops some
        dict(n_components=3000, bandwidth=3.0),  # smooth features: cut even far above it
    ],
)
def test_the_reported_attributes_equal_the_local_fit(client, params):
    params = dict(params, random_state=2)
    with warnings.catch_warnings(record=True) as local_warnings:
        warnings.simplefilter("always")
        local = MinNormRFFRegressor(**params).fit(X, Y)
    with warnings.catch_warnings(record=True) as remote_warnings:
        warnings.simplefilter("always")
        remote = fit_min_norm_rff(MinNormRFFRegressor(**params), X, Y, client)
    assert (remote.n_directions_cut_, remote.rank_, remote.interpolates_) == (
        local.n_directions_cut_,
        local.rank_,
        local.interpolates_,
    )
    assert remote.solver_ == local.solver_ == "dual"
    assert remote.n_samples_fit_ == local.n_samples_fit_ == X.shape[0]
    if local.interpolates_:
        assert remote.train_residual_ <= 1e-6 and local.train_residual_ <= 1e-6
    else:
        assert local.n_directions_cut_ > 0
        np.testing.assert_allclose(remote.train_residual_, local.train_residual_, rtol=1e-6)
        # max-norm relative, as skinterp._base.relative_residual measures it
        fitted = local.predict(X)
        assert local.train_residual_ == pytest.approx(
            np.abs(fitted - Y).max() / np.abs(Y).max(), rel=1e-6
        )
    # The same warnings (the threshold warning near N = n, naming the directions cut).
    assert [str(w.message) for w in remote_warnings] == [str(w.message) for w in local_warnings]


def test_the_classifier_reports_as_the_local_fit(client):
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.3)
    params = dict(n_components=2000, bandwidth=2.0, random_state=0)
    local = MinNormRFFClassifier(**params).fit(X, labels)
    remote = fit_min_norm_rff(MinNormRFFClassifier(**params), X, labels, client)
    assert (remote.n_directions_cut_, remote.rank_, remote.interpolates_) == (
        local.n_directions_cut_,
        local.rank_,
        local.interpolates_,
    )
    np.testing.assert_allclose(remote.train_residual_, local.train_residual_, rtol=1e-5, atol=1e-9)


def test_primal_and_below_the_threshold_are_refused_and_leave_the_estimator_unfitted(client):
    estimator = MinNormRFFRegressor(n_components=100, random_state=0)
    with pytest.raises(ValueError, match="n_components >= n_samples"):
        fit_min_norm_rff(estimator, X, Y, client)
    assert not hasattr(estimator, "n_features_in_") and not hasattr(estimator, "bandwidth_")
    with pytest.raises(ValueError, match="primal"):
        fit_min_norm_rff(MinNormRFFRegressor(n_components=1000, solver="primal"), X, Y, client)
