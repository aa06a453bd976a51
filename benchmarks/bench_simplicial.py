"""Benchmark of SimplicialInterpolator against its peers.

Three tables:

1. ``lowd``: ``method="triangulation"`` against :class:`scipy.interpolate.LinearNDInterpolator`
   at d = 2..5, n = 20,000 uniform points, 200,000 uniform queries (outside="nan", as scipy). Fit
   time (both build Qhull's triangulation; ours with one BLAS thread), query time of the fitted
   interpolators (best of repeats, after a warm-up that also lets scipy compute its barycentric
   transforms), their ratio, and the largest difference of the outputs.
2. ``highd``: ``method="lifted"`` at n = 2000 Gaussian points, d = 10, 20, 50, per query, against
   :func:`scipy.optimize.linprog` (HiGHS) on the full lifted program at the same point; queries
   inside the hull (random convex combinations of d + 1 training points) and outside (fresh
   Gaussian points: ours projects onto the hull first, linprog is given our projection). Also
   checks that both find the same simplex (same interpolated value).
3. ``mnist``: the same on the MNIST sample (``$SKINTERP_DATA``), PCA to 20 and 50 dimensions,
   n = 2000 training images, 100 test images, plus the test accuracy of SimplicialClassifier.

4. ``compile``: the first-use cost of each code path without the numba cache
   (``SKINTERP_NUMBA_CACHE=0``), each in a fresh process: fit, then predict at the training
   points, at points inside the hull and outside it, in 2-D and 6-D, float64 and float32 (what a
   user's first session does). Wall and CPU seconds (CPU time is steadier on a shared machine)
   and the kernels whose compilation cost most (inclusive of the helpers they compiled).

Usage: ``python benchmarks/bench_simplicial.py [lowd|highd|mnist|compile ...] [--quick]``.
"""

import sys
import time
from functools import partial

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _harness import machine_summary, print_table, time_call  # noqa: E402

from skinterp.simplicial import (  # noqa: E402
    SimplicialClassifier,
    SimplicialInterpolator,
    _core,
)
from skinterp.simplicial._lifted import delaunay_lp_reference  # noqa: E402


def bench_low_dimension(quick=False):
    from scipy.interpolate import LinearNDInterpolator
    from threadpoolctl import threadpool_limits

    n, n_queries = (4000, 40_000) if quick else (20_000, 200_000)
    rows = []
    for d in (2, 3, 4, 5):
        rng = np.random.default_rng(d)
        X = rng.random((n, d))
        y = np.sin(3 * X).sum(axis=1)
        Q = rng.random((n_queries, d))
        start = time.perf_counter()
        ours = SimplicialInterpolator(method="triangulation", outside="nan").fit(X, y)
        fit_ours = time.perf_counter() - start
        start = time.perf_counter()
        with threadpool_limits(limits=1):  # spare scipy the gh-23854 trap too: a fair fit time
            peer = LinearNDInterpolator(X, y)
            peer(Q[:10])  # computes its transforms
        fit_peer = time.perf_counter() - start
        t_ours = time_call("ours", partial(ours.predict, Q), repeat=2)
        ours.set_params(n_jobs=2)  # n_jobs only affects predict
        t_ours2 = time_call("ours2", partial(ours.predict, Q), repeat=2, memory=False)
        t_peer = time_call("peer", partial(peer, Q), repeat=2)
        a, b = t_ours.result, t_peer.result
        same_nan = bool(np.array_equal(np.isnan(a), np.isnan(b)))
        diff = float(np.nanmax(np.abs(a - b)))
        rows.append(
            dict(
                d=d,
                n=n,
                queries=n_queries,
                simplices=ours.simplices_.shape[0],
                fit_ours_s=fit_ours,
                fit_scipy_s=fit_peer,
                query_ours_s=t_ours.best,
                query_ours_2thr_s=t_ours2.best,
                query_scipy_s=t_peer.best,
                speedup=t_peer.best / t_ours.best,
                speedup_2thr=t_peer.best / t_ours2.best,
                first_call_s=t_ours.first_call,
                peak_mib=t_ours.peak_mib,
                max_abs_diff=diff,
                same_nan=same_nan,
            )
        )
        print_table(rows[-1:], list(rows[-1]))
    print("\nLow dimension: triangulation walk vs LinearNDInterpolator (query time, same run)")
    print_table(rows, list(rows[0]))


def _inside_queries(X, n_queries, rng):
    d = X.shape[1]
    idx = np.array([rng.choice(X.shape[0], d + 1, replace=False) for _ in range(n_queries)])
    w = rng.dirichlet(np.ones(d + 1), size=n_queries)
    return np.einsum("ik,ikj->ij", w, X[idx])


def _lifted_rows(label, X, y, queries, n_reference):
    """Per-query time of lifted mode vs linprog on the full program at the same points."""
    rows = []
    model = SimplicialInterpolator(method="lifted", outside="project").fit(X, y)
    model.predict(queries[0][1][:2])  # compile / load the cache
    for kind, Q in queries:
        timing = time_call(kind, partial(model.predict, Q, return_outside=True), repeat=2)
        values, outside = timing.result
        # The point where the program is solved: q inside, its projection outside.
        vertices, weights, _ = _core.locate(model._model(), Q, "project")
        fitted = model._model()
        Z, _ = _core.reduce_queries(fitted, Q)
        P = fitted.points
        at = np.einsum("ik,ikj->ij", weights, P[np.maximum(vertices, 0)])
        at[~outside] = Z[~outside]
        start = time.perf_counter()
        diffs, same = [], 0
        for i in range(min(n_reference, Q.shape[0])):
            keep, lam = delaunay_lp_reference(P, at[i])
            ref_value = lam @ model.targets_[keep, 0]
            diffs.append(abs(ref_value - values[i]))
            # same vertices carrying weight > 1e-9 (HiGHS' feasibility tolerance is 1e-7)
            ours_set = set(vertices[i][(vertices[i] >= 0) & (weights[i] > 1e-9)].tolist())
            same += ours_set == set(keep[lam > 1e-9].tolist())
        t_ref = (time.perf_counter() - start) / min(n_reference, Q.shape[0])
        per_query = timing.best / Q.shape[0]
        rows.append(
            dict(
                data=label,
                n=X.shape[0],
                d=X.shape[1],
                queries=kind,
                n_q=Q.shape[0],
                outside_frac=float(outside.mean()),
                ours_ms=1e3 * per_query,
                linprog_ms=1e3 * t_ref,
                speedup=t_ref / per_query,
                same_simplex=f"{same}/{min(n_reference, Q.shape[0])}",
                max_abs_diff=float(np.max(diffs)),
                peak_mib=timing.peak_mib,
            )
        )
        print_table(rows[-1:], list(rows[-1]))
    return rows


def bench_high_dimension(quick=False):
    n = 2000
    n_q = 20 if quick else 100
    rows = []
    for d in (10, 20, 50):
        rng = np.random.default_rng(100 + d)
        X = rng.standard_normal((n, d))
        y = rng.standard_normal(n)
        queries = [
            ("inside", _inside_queries(X, n_q, rng)),
            ("outside", rng.standard_normal((n_q, d))),
        ]
        rows += _lifted_rows("gaussian", X, y, queries, n_reference=20 if quick else 50)
    print("\nHigh dimension: lifted LP per query vs linprog (HiGHS) on the full program")
    print_table(rows, list(rows[0]))


def bench_mnist(quick=False):
    from sklearn.decomposition import PCA
    from sklearn.neighbors import KNeighborsClassifier

    from skinterp.datasets import load_mnist_sample

    try:
        X_train, y_train, X_test, y_test = load_mnist_sample()
    except FileNotFoundError as error:
        print(f"MNIST skipped: {error}")
        return
    n_train, n_test = 2000, (50 if quick else 200)
    # The sample files are ordered by class: draw random subsets.
    rng = np.random.default_rng(0)
    train = rng.choice(X_train.shape[0], n_train, replace=False)
    test = rng.choice(X_test.shape[0], n_test, replace=False)
    X_train, y_train = X_train[train], y_train[train]
    X_test, y_test = X_test[test], y_test[test]
    rows, acc_rows = [], []
    for d in (20, 50):
        pca = PCA(n_components=d, random_state=0).fit(X_train)
        Xtr, Xte = pca.transform(X_train), pca.transform(X_test)
        ytr = y_train.astype(np.float64)
        rng = np.random.default_rng(d)
        queries = [("inside", _inside_queries(Xtr, min(n_test, 50), rng)), ("test", Xte)]
        rows += _lifted_rows(f"mnist-pca{d}", Xtr, ytr, queries, n_reference=20 if quick else 50)
        for outside in ("project", "nearest"):
            clf = SimplicialClassifier(method="lifted", outside=outside)
            start = time.perf_counter()
            clf.fit(Xtr, y_train)
            accuracy = float(np.mean(clf.predict(Xte) == y_test))
            acc_rows.append(
                dict(
                    data=f"mnist-pca{d}",
                    model=f"simplicial outside={outside}",
                    n_train=n_train,
                    n_test=n_test,
                    accuracy=accuracy,
                    seconds=time.perf_counter() - start,
                )
            )
        one_nn = KNeighborsClassifier(n_neighbors=1).fit(Xtr, y_train)
        acc_rows.append(
            dict(
                data=f"mnist-pca{d}",
                model="1-NN",
                n_train=n_train,
                n_test=n_test,
                accuracy=float(np.mean(one_nn.predict(Xte) == y_test)),
                seconds=float("nan"),
            )
        )
    print("\nMNIST sample, PCA to 20 and 50 dimensions: lifted LP vs linprog")
    print_table(rows, list(rows[0]))
    print("\nTest accuracy (all test images are outside the hull of the training images)")
    print_table(acc_rows, list(acc_rows[0]))


_FIRST_USE = r"""
import collections, json, sys, time
import numpy as np
from numba.core import event

inclusive = collections.defaultdict(float)
starts = []


class _Timer(event.Listener):
    def on_start(self, ev):
        starts.append(time.process_time())

    def on_end(self, ev):
        function = ev.data["dispatcher"].py_func
        name = function.__module__.rsplit(".", 1)[-1] + "." + function.__name__
        inclusive[name] += time.process_time() - starts.pop()


event.register("numba:compile", _Timer())
from skinterp import SimplicialClassifier, SimplicialInterpolator

path = sys.argv[1]
rng = np.random.default_rng(0)
wall, cpu = time.perf_counter(), time.process_time()
for dtype in (np.float64, np.float32):
    for d in (2, 6):
        X = rng.uniform(size=(60, d)).astype(dtype)
        weights = rng.dirichlet(np.ones(d + 1), size=20)
        inside = np.einsum("ik,ikj->ij", weights, X[rng.choice(60, (20, d + 1))])
        Q = np.vstack([X, inside, 1.5 * X[:20] - 0.25]).astype(dtype)
        if path == "classifier (auto)":
            model = SimplicialClassifier().fit(X, (X[:, 0] > 0.5).astype(int))
        else:
            model = SimplicialInterpolator(method=path).fit(X, np.sin(4 * X[:, 0]) + X[:, -1])
        model.predict(Q)
top = sorted(inclusive.items(), key=lambda item: -item[1])[:3]
print(json.dumps(dict(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu, top=top)))
"""


def bench_compile(quick=False):
    import json
    import os
    import subprocess

    env = dict(os.environ, SKINTERP_NUMBA_CACHE="0")
    env["PYTHONPATH"] = os.pathsep.join(
        [__file__.rsplit("/", 2)[0]] + [p for p in [env.get("PYTHONPATH")] if p]
    )
    rows = []
    for path in ("triangulation", "lifted", "classifier (auto)"):
        out = subprocess.run(
            [sys.executable, "-c", _FIRST_USE, path],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(
            dict(
                path=path,
                wall_s=result["wall"],
                cpu_s=result["cpu"],
                costliest=", ".join(f"{name} {seconds:.1f}" for name, seconds in result["top"]),
            )
        )
        print_table(rows[-1:], list(rows[-1]))
    print("\nFirst use without the numba cache (fresh process per path)")
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv
    print(machine_summary())
    sections = args or ["lowd", "highd", "mnist"]
    if "lowd" in sections:
        bench_low_dimension(quick)
    if "highd" in sections:
        bench_high_dimension(quick)
    if "mnist" in sections:
        bench_mnist(quick)
    if "compile" in sections:
        bench_compile(quick)
