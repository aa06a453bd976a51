"""The double-descent sweep with its Gram matrices summed on the cluster equals the local one."""

import numpy as np
import pytest

pytest.importorskip(
    "distributed", reason="the optional `skinterp[dask]` extra (dask.distributed) is not installed"
)

from sklearn.datasets import load_digits  # noqa: E402

import skinterp.distributed as distributed_module  # noqa: E402
from skinterp.experiments import double_descent as module  # noqa: E402

GRID = [20, 100, 150, 180, 200, 230, 1200]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:200], y[:200], X[1000:1300], y[1000:1300]


def _sweep(data, **kwargs):
    X, y, X_test, y_test = data
    return module.double_descent(
        X,
        y,
        X_test,
        y_test,
        n_components=GRID,
        bandwidth=3.0,
        ridge_penalties=[1e-6, 1e-3, 1e-1],
        **kwargs,
    )


def _assert_same_rows(remote, local):
    assert len(remote.rows) == len(local.rows)
    for r, loc in zip(remote.rows, local.rows):
        assert (r["features"], r["method"], r["N"], r["rank"]) == (
            loc["features"],
            loc["method"],
            loc["N"],
            loc["rank"],
        )
        # At N = n the solve is ill conditioned and amplifies the rounding of a different
        # summation order (as in tests/experiments/test_double_descent.py).
        rtol = 1e-3 if r["N"] == 200 else 1e-7
        for key in ("train_loss", "test_loss", "norm"):
            np.testing.assert_allclose(r[key], loc[key], rtol=rtol, atol=1e-12, err_msg=key)
        for key in ("train_error", "test_error"):
            if r["N"] != 200:
                assert r[key] == loc[key], key


def test_the_sweep_sums_its_gram_matrices_on_the_active_client(client, digits, monkeypatch):
    assert module._dask_client() is client  # the fixture's client is the default one
    calls = []
    original = distributed_module.gram_sweep

    def counting(*args, **kwargs):
        calls.append(kwargs["client"])
        return original(*args, **kwargs)

    monkeypatch.setattr(distributed_module, "gram_sweep", counting)
    remote = _sweep(digits, features=("fourier", "relu"))
    assert calls == [client, client]  # one distributed sweep per feature kind
    assert remote.params["Gram matrices"] == "dask cluster"
    with monkeypatch.context() as patch:
        patch.setattr(module, "_dask_client", lambda: None)
        local = _sweep(digits, features=("fourier", "relu"))
    assert local.params["Gram matrices"] == "local"
    _assert_same_rows(remote, local)
    assert any(row["method"] == module.RIDGE for row in remote.rows)


def test_a_random_state_instance_gives_the_local_features_too(client, digits, monkeypatch):
    remote = _sweep(
        digits, features="fourier", random_state=np.random.RandomState(4), kernel_limit=False
    )
    with monkeypatch.context() as patch:
        patch.setattr(module, "_dask_client", lambda: None)
        local = _sweep(
            digits, features="fourier", random_state=np.random.RandomState(4), kernel_limit=False
        )
    _assert_same_rows(remote, local)


def test_the_joblib_dask_backend_selects_its_client(client):
    import joblib

    with joblib.parallel_config(backend="dask"):
        assert module._dask_client() is client
