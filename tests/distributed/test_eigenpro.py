"""Distributed EigenPro: same random_state, same batches, the same fit as the local solver."""

import time

import numpy as np
import pytest

pytest.importorskip(
    "distributed", reason="the optional `skinterp[dask]` extra (dask.distributed) is not installed"
)

import dask.array as da  # noqa: E402

from skinterp import KernelInterpolationClassifier, KernelInterpolator  # noqa: E402
from skinterp.distributed import eigenpro_fit, fit_kernel_interpolator  # noqa: E402
from skinterp.kernel_machine._eigenpro import eigenpro_fit as local_eigenpro_fit  # noqa: E402
from skinterp.kernels import KernelSpec  # noqa: E402

RNG = np.random.RandomState(11)
X = RNG.uniform(size=(700, 5))
Y = np.stack([np.sin(5 * X[:, 0]) + X[:, 1], X[:, 2] * X[:, 3]], axis=1)
X_TEST = RNG.uniform(size=(50, 5))
PARAMS = dict(n_epochs=3, subsample_size=200, random_state=5)


@pytest.mark.parametrize("kernel", ["laplacian", "gaussian"])
def test_sharded_fit_equals_the_local_fit_batch_for_batch(client, kernel):
    spec = KernelSpec(kernel, 0.6)
    local = local_eigenpro_fit(X, Y, spec, n_jobs=1, **PARAMS)
    start = time.perf_counter()
    remote = eigenpro_fit(
        da.from_array(X, chunks=(100, 5)),
        da.from_array(Y, chunks=100),
        spec,
        client=client,
        **PARAMS,
    )
    wall = time.perf_counter() - start
    assert len(remote.shards) == 2
    assert (remote.batch_size, remote.n_components, remote.n_batches) == (
        local.batch_size,
        local.n_components,
        local.n_batches,
    )
    assert remote.step_size == local.step_size
    np.testing.assert_allclose(remote.loss_curve, local.loss_curve, rtol=1e-9)
    centers, coef = remote.gather()
    np.testing.assert_array_equal(centers, local.centers)
    np.testing.assert_allclose(coef, local.coef, rtol=1e-9, atol=1e-12)
    # Prediction on the shards.
    from skinterp.kernels import kernel_product

    expected = kernel_product(X_TEST, local.centers, local.coef, kernel=spec)
    np.testing.assert_allclose(remote.predict(X_TEST), expected, rtol=1e-9, atol=1e-12)
    assert remote.bytes_per_epoch > 0 and remote.seconds_per_batch > 0
    busy = remote.shard_busy_seconds()
    assert len(busy) == 2 and all(0 < b < wall for b in busy)  # the shards' own timers


def test_each_shard_holds_its_part_not_all_of_x(client):
    remote = eigenpro_fit(
        X,
        Y[:, 0],
        KernelSpec("laplacian", 0.6),
        client=client,
        n_epochs=1,
        subsample_size=100,
        random_state=0,
    )
    sizes = [hi - lo for lo, hi in remote.bounds]
    assert sizes == [350, 350]
    for nbytes in remote.shard_nbytes():
        assert nbytes < 0.7 * X.nbytes + 4 * 700 * 8


def test_fit_kernel_interpolator_predicts_as_the_local_estimator(client):
    params = dict(
        bandwidth=0.6, solver="eigenpro", n_epochs=2, subsample_size=150, random_state=2, n_jobs=1
    )
    local = KernelInterpolator(**params).fit(X, Y[:, 0])
    remote = fit_kernel_interpolator(
        KernelInterpolator(**params),
        da.from_array(X, chunks=200),
        da.from_array(Y[:, 0], chunks=200),
        client,
    )
    np.testing.assert_allclose(
        remote.predict(X_TEST), local.predict(X_TEST), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_allclose(remote.loss_curve_, local.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(remote.norm_, local.norm_, rtol=1e-9)
    # The same model fields, the tail's (none) described the same way.
    for name in ("polynomial_powers_", "polynomial_shift_", "polynomial_scale_"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name))
    assert remote.polynomial_coef_.shape == local.polynomial_coef_.shape
    if hasattr(local, "train_residual_"):
        np.testing.assert_allclose(remote.train_residual_, local.train_residual_, rtol=1e-6)
    with pytest.raises(ValueError, match="early_stopping"):
        fit_kernel_interpolator(KernelInterpolator(early_stopping=True), X, Y[:, 0], client)


def test_fit_kernel_interpolation_classifier_equals_local(client):
    labels = np.where(X[:, 0] + X[:, 1] > 1, "yes", "no")
    params = dict(
        bandwidth=0.6, solver="eigenpro", n_epochs=2, subsample_size=150, random_state=4, n_jobs=1
    )
    local = KernelInterpolationClassifier(**params).fit(X, labels)
    remote = fit_kernel_interpolator(
        KernelInterpolationClassifier(**params),
        da.from_array(X, chunks=300),
        da.from_array(labels, 300),
        client,
    )
    np.testing.assert_array_equal(remote.classes_, local.classes_)
    np.testing.assert_allclose(
        remote.decision_function(X_TEST), local.decision_function(X_TEST), rtol=1e-9, atol=1e-12
    )
    np.testing.assert_array_equal(remote.predict(X_TEST), local.predict(X_TEST))


def test_the_estimators_fit_dispatches_dask_arrays_to_the_sharded_fit(client):
    params = dict(
        bandwidth=0.6, solver="eigenpro", n_epochs=2, subsample_size=150, random_state=2, n_jobs=1
    )
    local = KernelInterpolator(**params).fit(X, Y[:, 0])
    remote = KernelInterpolator(**params).fit(
        da.from_array(X, chunks=200), da.from_array(Y[:, 0], chunks=200)
    )
    np.testing.assert_allclose(
        remote.predict(X_TEST), local.predict(X_TEST), rtol=1e-9, atol=1e-12
    )
    labels = np.where(X[:, 0] > 0.5, 1, 0)
    local = KernelInterpolationClassifier(**params).fit(X, labels)
    remote = KernelInterpolationClassifier(**params).fit(
        da.from_array(X, chunks=200), da.from_array(labels, chunks=200)
    )
    np.testing.assert_array_equal(remote.predict(X_TEST), local.predict(X_TEST))


# --- The interpolation contract (#14): tol is the relative training residual, as locally.

SMALL = np.random.RandomState(0).uniform(size=(300, 3))
SMALL_Y = np.cos(4 * SMALL[:, 0]) + SMALL[:, 1] * SMALL[:, 2]
# The default KernelInterpolator reaches tol=1e-6 in 40 EigenPro epochs on these.
WIDE = np.random.RandomState(1).uniform(size=(300, 8))
WIDE_Y = np.cos(4 * WIDE[:, 0]) + WIDE[:, 1] * WIDE[:, 2]


def test_same_stopping_epoch_and_model_as_the_local_solver_at_a_tolerance(client):
    spec = KernelSpec("laplacian", 0.2)
    params = dict(n_epochs=60, tol=1e-3, subsample_size=120, random_state=3)
    local = local_eigenpro_fit(SMALL, SMALL_Y[:, None], spec, n_jobs=1, **params)
    remote = eigenpro_fit(SMALL, SMALL_Y, spec, client=client, **params)
    assert local.converged and remote.converged
    assert 1 < local.n_epochs < params["n_epochs"]  # stopped by tol, not by n_epochs
    assert remote.n_epochs == local.n_epochs and remote.n_batches == local.n_batches
    centers, coef = remote.gather()
    np.testing.assert_array_equal(centers, local.centers)
    np.testing.assert_allclose(coef, local.coef, rtol=1e-8, atol=1e-10)
    # The confirming pass's K a at the centres, as the local solver returns it.
    np.testing.assert_allclose(remote.fitted, local.fitted, rtol=1e-8, atol=1e-10)
    remote.release()
    assert remote.shards == []


def test_a_mse_sized_tol_is_not_read_as_an_mse(client):
    # Read as an MSE, tol=1e-2 would stop at the first epoch whose MSE is below it; read as
    # the relative max residual (the local solver's meaning) the fit runs on.
    spec = KernelSpec("laplacian", 0.5)
    params = dict(n_epochs=60, tol=1e-2, subsample_size=120, random_state=3)
    local = local_eigenpro_fit(SMALL, SMALL_Y[:, None], spec, n_jobs=1, **params)
    remote = eigenpro_fit(SMALL, SMALL_Y, spec, client=client, **params)
    first_small_mse = int(np.argmax(remote.loss_curve < 1e-2)) + 1
    assert remote.loss_curve[first_small_mse - 1] < 1e-2
    assert first_small_mse < remote.n_epochs == local.n_epochs < 60
    assert remote.converged and local.converged


def test_the_direct_call_with_the_default_estimator_interpolates_as_the_local_fit(client):
    # KernelInterpolator() as it comes: bandwidth="auto", tol=1e-6, n_epochs=100.
    local = KernelInterpolator(solver="eigenpro", random_state=0).fit(WIDE, WIDE_Y)
    remote = fit_kernel_interpolator(
        KernelInterpolator(random_state=0), da.from_array(WIDE, chunks=100), WIDE_Y, client
    )
    assert remote.bandwidth_ == local.bandwidth_
    assert local.interpolates_ and remote.interpolates_
    assert remote.train_residual_ <= 1e-6
    assert remote.n_epochs_ == local.n_epochs_ < 100
    np.testing.assert_allclose(remote.train_residual_, local.train_residual_, rtol=1e-3)
    np.testing.assert_array_equal(remote.centers_, local.centers_)
    np.testing.assert_allclose(remote.dual_coef_, local.dual_coef_, rtol=1e-7, atol=1e-9)
    assert (remote.solver_, remote.n_duplicates_) == ("eigenpro", 0)
    np.testing.assert_allclose(remote.predict(WIDE), WIDE_Y, atol=1e-5)


def test_the_direct_call_warns_and_reports_when_n_epochs_end_above_tol(client):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    params = dict(solver="eigenpro", n_epochs=2, subsample_size=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = KernelInterpolator(**params).fit(SMALL, SMALL_Y)
    estimator = KernelInterpolator(**params)
    with pytest.warns(ConvergenceWarning, match="n_epochs=2"):
        fit_kernel_interpolator(estimator, SMALL, SMALL_Y, client)
    assert not estimator.interpolates_ and not local.interpolates_
    np.testing.assert_allclose(estimator.train_residual_, local.train_residual_, rtol=1e-6)
    assert estimator.n_epochs_ == 2


def test_far_off_inputs_are_centred_as_locally(client):
    far = SMALL + 1e4  # distances from raw coordinates would lose digits: the fit centres
    params = dict(bandwidth=0.5, solver="eigenpro", n_epochs=3, subsample_size=100, random_state=0)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        local = KernelInterpolator(**params).fit(far, SMALL_Y)
        remote = fit_kernel_interpolator(KernelInterpolator(**params), far, SMALL_Y, client)
    np.testing.assert_allclose(remote.input_offset_, local.input_offset_)
    np.testing.assert_array_equal(remote.centers_, local.centers_)
    np.testing.assert_allclose(remote.dual_coef_, local.dual_coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(remote.train_residual_, local.train_residual_, rtol=1e-6)
    np.testing.assert_allclose(remote.predict(far[:20]), local.predict(far[:20]), rtol=1e-8)


def test_callback_is_refused_with_a_clear_error(client):
    with pytest.raises(ValueError, match="callback"):
        fit_kernel_interpolator(KernelInterpolator(callback=print), SMALL, SMALL_Y, client)
