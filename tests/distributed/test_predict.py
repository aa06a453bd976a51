"""Prediction of every public estimator over a dask array equals the local prediction."""

import pickle
import sys

import numpy as np
import pytest

pytest.importorskip(
    "distributed", reason="the optional `skinterp[dask]` extra (dask.distributed) is not installed"
)
pytest.importorskip("dask_ml", reason="the optional `skinterp[dask]` extra (dask-ml) is missing")

import dask.array as da  # noqa: E402
from dask_ml.wrappers import ParallelPostFit  # noqa: E402

import skinterp  # noqa: E402
from skinterp.distributed import configure_workers, model_nbytes, predict, ship_model  # noqa: E402

RNG = np.random.RandomState(0)
X_TRAIN = RNG.uniform(size=(120, 3))
Y_TRAIN = np.sin(4 * X_TRAIN[:, 0]) + X_TRAIN[:, 1] ** 2
LABELS = (X_TRAIN[:, 0] + X_TRAIN[:, 2] > 1).astype(int) + (X_TRAIN[:, 1] > 0.7)
X_QUERY = RNG.uniform(size=(1000, 3))

ESTIMATORS = [
    (skinterp.KernelInterpolator(bandwidth=0.5), "regressor"),
    (
        skinterp.KernelInterpolator(bandwidth=0.5, solver="eigenpro", n_epochs=2, random_state=0),
        "regressor",
    ),
    (skinterp.KernelInterpolationClassifier(bandwidth=0.5), "classifier"),
    (skinterp.SingularKernelNN(n_neighbors=5), "regressor"),
    (skinterp.SingularKernelNNClassifier(n_neighbors=5), "classifier"),
    (skinterp.SimplicialInterpolator(), "regressor"),
    (skinterp.SimplicialClassifier(), "classifier"),
    (skinterp.MinNormRFFRegressor(n_components=300, random_state=0), "regressor"),
    (skinterp.MinNormRFFClassifier(n_components=300, random_state=0), "classifier"),
    (skinterp.RandomFourierFeatures(n_components=50, random_state=0), "transformer"),
    (skinterp.RandomReLUFeatures(n_components=50, random_state=0), "transformer"),
]


def _methods(estimator, role, names=("predict_proba", "decision_function")):
    if role == "transformer":
        return ["transform"]
    return ["predict"] + [name for name in names if hasattr(estimator, name)]


def _fitted(estimator, role):
    y = LABELS if role == "classifier" else (None if role == "transformer" else Y_TRAIN)
    return estimator.fit(X_TRAIN, y)


def test_every_public_estimator_is_covered():
    covered = {type(estimator).__name__ for estimator, _ in ESTIMATORS}
    assert covered == set(skinterp.__all__)


@pytest.mark.parametrize(
    "estimator, role", ESTIMATORS, ids=[type(e).__name__ for e, _ in ESTIMATORS]
)
def test_parallel_post_fit_on_a_shipped_model_equals_local(client, estimator, role):
    fitted = _fitted(estimator, role)
    handle = ship_model(fitted, client)
    wrapped = ParallelPostFit(handle)
    queries = da.from_array(X_QUERY, chunks=(250, 3))
    for method in _methods(fitted, role):
        local = getattr(fitted, method)(X_QUERY)
        if method == "decision_function":  # ParallelPostFit does not wrap it
            remote = predict(handle, queries, method).compute()
        else:
            remote = getattr(wrapped, method)(queries).compute()
        assert remote.shape == local.shape
        if local.dtype.kind in "fc":
            np.testing.assert_allclose(remote, local, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(remote, local)


@pytest.mark.parametrize("estimator, role", ESTIMATORS[::3], ids=lambda e: type(e).__name__)
def test_parallel_post_fit_on_the_plain_estimator_equals_local(client, estimator, role):
    fitted = _fitted(estimator, role)
    method = _methods(fitted, role)[0]
    remote = getattr(ParallelPostFit(fitted), method)(da.from_array(X_QUERY, chunks=500))
    np.testing.assert_allclose(remote.compute(), getattr(fitted, method)(X_QUERY), rtol=1e-12)


def test_predict_helper_equals_local_and_keeps_the_chunks(client):
    fitted = skinterp.SingularKernelNNClassifier(n_neighbors=4).fit(X_TRAIN, LABELS)
    queries = da.from_array(X_QUERY, chunks=(300, 1))  # feature chunks are merged
    proba = predict(fitted, queries, "predict_proba", client=client)
    assert proba.chunks[0] == queries.chunks[0]
    np.testing.assert_allclose(proba.compute(), fitted.predict_proba(X_QUERY), rtol=1e-12)
    with pytest.raises(AttributeError, match="no method 'transform'"):
        predict(fitted, queries, "transform", client=client)


def test_a_shipped_model_pickles_as_its_key_and_each_task_carries_no_model(client):
    fitted = skinterp.KernelInterpolator(bandwidth=0.5).fit(X_TRAIN, Y_TRAIN)
    handle = ship_model(fitted, client)
    assert model_nbytes(fitted) > 120 * 3 * 8  # the centres at least
    assert len(pickle.dumps(handle)) < 200
    queries = da.from_array(X_QUERY, chunks=100)  # 10 chunks

    def task_bytes(result):
        """Bytes of each task as the scheduler sends them to workers: one by one."""
        graph = dict(result.__dask_graph__())
        return [len(pickle.dumps(v)) for k, v in graph.items() if k[0] != queries.name]

    # Each task carries the key, not the model (a few hundred bytes against its thousands).
    assert max(task_bytes(predict(handle, queries))) < model_nbytes(fitted) / 4
    # The plain estimator under ParallelPostFit is embedded in each of the 10 tasks.
    assert sum(task_bytes(ParallelPostFit(fitted).predict(queries))) > 5 * model_nbytes(fitted)
    # Every worker holds the one broadcast copy.
    holders = client.who_has([handle._future])[handle._future.key]
    assert len(holders) == 2


def test_workers_run_one_thread_each_and_load_numba_from_the_cache(client):
    threads = configure_workers(client)
    assert len(threads) == 2
    for report in threads.values():
        assert report["n_jobs_all"] == 1  # joblib's -1, hence our n_jobs=None, is 1 thread
        assert set(report["blas_threads"]) == {1}
        assert report["malloc_tuned"] == sys.platform.startswith("linux")
    # Compile in this process (writes the cache), then check that workers load it.
    fitted = skinterp.KernelInterpolator(bandwidth=0.5, kernel="gaussian").fit(X_TRAIN, Y_TRAIN)
    fitted.predict(X_QUERY[:5])
    predict(fitted, da.from_array(X_QUERY, chunks=500), client=client).compute()

    def cache_use():
        # Predictions of few features use the fused product; wider data the tile + BLAS.
        from skinterp.kernels._functions import direct_kernel_product, direct_kernel_tile

        stats = [f.stats for f in (direct_kernel_product, direct_kernel_tile)]
        hits = sum(sum(s.cache_hits.values()) for s in stats)
        return hits, sum(sum(s.cache_misses.values()) for s in stats)

    for hits, misses in client.run(cache_use).values():
        assert hits >= 1 and misses == 0
