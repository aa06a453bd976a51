"""The thread model (skinterp._parallel): results never depend on the calling thread or on
``n_jobs``, and every estimator uses exactly the threads ``n_jobs`` asks for."""

from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from threadpoolctl import threadpool_limits

import skinterp._parallel as parallel
from skinterp import (
    KernelInterpolationClassifier,
    KernelInterpolator,
    MinNormRFFClassifier,
    MinNormRFFRegressor,
    RandomFourierFeatures,
    RandomReLUFeatures,
    SimplicialClassifier,
    SimplicialInterpolator,
    SingularKernelNN,
    SingularKernelNNClassifier,
)
from skinterp.kernels import kernel_matrix, kernel_product


def _data(n=600, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, d))
    y = np.sin(4 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.normal(size=n)
    return X, y, rng.uniform(size=(300, d))


# Estimators whose fit or predict runs parallel sections on this data. MinNormRFF at N = n
# (the threshold, where rounding is amplified most) and EigenPro (iterations amplify it too).
ESTIMATORS = {
    "KernelInterpolator-direct": KernelInterpolator(solver="direct"),
    "KernelInterpolator-eigenpro": KernelInterpolator(
        solver="eigenpro", n_epochs=5, random_state=0
    ),
    "KernelInterpolationClassifier": KernelInterpolationClassifier(
        solver="eigenpro", n_epochs=3, random_state=0
    ),
    "MinNormRFFRegressor-threshold": MinNormRFFRegressor(n_components=600, random_state=0),
    "MinNormRFFClassifier": MinNormRFFClassifier(n_components=2000, random_state=0),
    "SingularKernelNN": SingularKernelNN(n_neighbors=8, algorithm="brute"),
    "SingularKernelNNClassifier": SingularKernelNNClassifier(n_neighbors=8),
    "SimplicialInterpolator": SimplicialInterpolator(method="lifted"),
    "SimplicialClassifier": SimplicialClassifier(),
}


# Large products and factorisations left to BLAS's own threads (skinterp._parallel's
# "everywhere else"): the random-feature Gram matrices and the direct solver's Cholesky.
# OpenBLAS splits some of them along their inner dimension, so their last bits depend on its
# (process-wide) thread count, which a concurrent fit holding the one-thread limit changes
# (measured: 2e-12 relative, 4e-16 for the direct solve).
BLAS_THREADED = {
    "KernelInterpolator-direct",
    "MinNormRFFRegressor-threshold",
    "MinNormRFFClassifier",
}


def _fit_predict(estimator, X, y, queries):
    import warnings

    classifier = is_classifier(estimator)
    target = (y > np.median(y)).astype(int) if classifier else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = clone(estimator).fit(X, target)
    if classifier and hasattr(model, "decision_function"):
        return model.decision_function(queries)
    if classifier:
        return model.predict_proba(queries)
    return model.predict(queries)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_concurrent_fits_in_threads_equal_serial_fits(name):
    """Two clones fitted at once in a thread pool (as in a threaded GridSearchCV) give the
    same bits as a fit in the main thread, with one and with two threads of their own (up to
    the last bits of BLAS-threaded products, see ``BLAS_THREADED``)."""
    X, y, queries = _data()
    estimator = ESTIMATORS[name]
    serial = {
        n_jobs: _fit_predict(estimator.set_params(n_jobs=n_jobs), X, y, queries)
        for n_jobs in (1, 2)
    }
    np.testing.assert_array_equal(serial[1], serial[2])
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_fit_predict, clone(estimator).set_params(n_jobs=n_jobs), X, y, queries)
            for n_jobs in (1, 2, 2, 1)
        ]
        concurrent = [future.result() for future in futures]
    for result in concurrent:
        if name in BLAS_THREADED:
            np.testing.assert_allclose(result, serial[1], rtol=1e-8, atol=1e-12)
        else:
            np.testing.assert_array_equal(result, serial[1])


@pytest.mark.parametrize("n_queries", [3, 700])
@pytest.mark.parametrize("n_features", [3, 40])
def test_kernel_tiles_do_not_depend_on_threads(n_queries, n_features):
    # Both forms of the parallel product (threads over rows, and over columns for few rows)
    # add the same tile products in the same order as one thread.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n_queries, n_features))
    Z = rng.normal(size=(9000, n_features))
    A = rng.normal(size=(9000, 2))
    one = kernel_product(X, Z, A, bandwidth=2.0, n_jobs=1)
    with ThreadPoolExecutor(max_workers=2) as pool:
        in_thread = pool.submit(kernel_product, X, Z, A, bandwidth=2.0, n_jobs=2).result()
    np.testing.assert_array_equal(kernel_product(X, Z, A, bandwidth=2.0, n_jobs=2), one)
    np.testing.assert_array_equal(in_thread, one)
    np.testing.assert_array_equal(
        kernel_matrix(X, Z, bandwidth=2.0, n_jobs=2), kernel_matrix(X, Z, bandwidth=2.0, n_jobs=1)
    )


class _CountingPool(ThreadPoolExecutor):
    sizes = []

    def __init__(self, max_workers=None, **kwargs):
        type(self).sizes.append(max_workers)
        super().__init__(max_workers=max_workers, **kwargs)


def _thread_counts(monkeypatch, estimator, X, y, queries, context=None):
    _CountingPool.sizes = []
    monkeypatch.setattr(parallel, "ThreadPoolExecutor", _CountingPool)
    if context is None:
        context = joblib.parallel_config()
    with context:
        if hasattr(estimator, "transform"):
            clone(estimator).fit(X).transform(queries)
        else:
            _fit_predict(estimator, X, y, queries)
    return list(_CountingPool.sizes)


ALL = dict(
    ESTIMATORS,
    RandomFourierFeatures=RandomFourierFeatures(n_components=20000),
    RandomReLUFeatures=RandomReLUFeatures(n_components=20000),
)


@pytest.mark.parametrize("name", list(ALL))
def test_n_jobs_is_honoured(monkeypatch, name):
    """``n_jobs=1`` starts no thread pool, ``n_jobs=2`` pools of at most two threads (and some);
    ``None`` follows an enclosing ``joblib.parallel_config(n_jobs=2)``, else BLAS's thread
    count (one thread under ``threadpool_limits(1)``)."""
    X, y, queries = _data(n=2000)
    queries = np.repeat(queries, 20, axis=0)  # enough rows for several chunks
    estimator = ALL[name]
    assert _thread_counts(monkeypatch, estimator.set_params(n_jobs=1), X, y, queries) == []
    two = _thread_counts(monkeypatch, estimator.set_params(n_jobs=2), X, y, queries)
    assert two and max(two) == 2
    configured = _thread_counts(
        monkeypatch,
        estimator.set_params(n_jobs=None),
        X,
        y,
        queries,
        joblib.parallel_config(n_jobs=2),
    )
    assert configured and max(configured) == 2
    limited = _thread_counts(
        monkeypatch,
        estimator.set_params(n_jobs=None),
        X,
        y,
        queries,
        threadpool_limits(limits=1, user_api="blas"),
    )
    assert limited == []
    default = _thread_counts(monkeypatch, estimator.set_params(n_jobs=None), X, y, queries)
    if parallel.blas_threads() > 1:
        assert default and max(default) == parallel.blas_threads()
    else:
        assert default == []


def test_n_threads_meaning():
    assert parallel.n_threads(1) == 1
    assert parallel.n_threads(3) == 3
    assert parallel.n_threads(-1) == joblib.cpu_count()
    with joblib.parallel_config(n_jobs=3):
        assert parallel.n_threads(None) == 3
        assert parallel.n_threads(1) == 1
    with threadpool_limits(limits=1, user_api="blas"):
        assert parallel.n_threads(None) == 1
    with threadpool_limits(limits=2, user_api="blas"):
        assert parallel.n_threads(None) == 2
        with parallel.one_blas_thread():  # skinterp's own limit is not the user's setting
            assert parallel.n_threads(None) == 2
