"""KernelInterpolator against scipy's RBFInterpolator and scikit-learn's KernelRidge (#13).

Peers run in the same process, one after the other; every row prints ours / peer ratios, the
largest difference of the predictions and the peak memory of each (tracemalloc and sampled
RSS). The float64 GEMM rate is measured at the start of the run (the machine is shared: read
ratios, not absolute times).

Sections (pick any; default ``tps neighbors ridge cg``):

* ``tps``: thin-plate spline, degree 1, 2-D and 3-D, n in ``--sizes`` (1000 5000 20000): fit +
  predict of ``--queries`` (100,000) points, ours (direct, the default solver) against
  ``RBFInterpolator``.
* ``big``: ours alone, the thin-plate spline (degree 1, 2-D) at n = ``--big`` (200,000) by cg
  to a relative residual of 1e-8 within ``memory_limit=4096``, time-boxed to
  ``--big-iterations`` iterations: setup and per-iteration seconds and peak memory, each beside
  the cost model's estimate.
* ``neighbors``: ``neighbors=50`` at n = 100,000 in 2-D, ``--queries`` queries.

In ``tps`` and ``neighbors`` each side runs once untimed (peak memory; our numba cache) and then
``--repeats`` (3) times: ``ratio`` is the best wall-clock time of scipy over ours, each with its
default threads (scipy's LU on BLAS's threads and its evaluation on one; ours on all cores: the
comparison a user sees), ``cpu_ratio`` the same with the process's CPU seconds (all threads).
* ``ridge``: ``ridge=1e-3`` against ``KernelRidge(kernel="precomputed", alpha=1e-3)`` (kernel
  matrix included in its time) on the 15k California sample, standardised, Laplacian,
  bandwidth 2; 12,000 train / 3,000 test (``--ridge-rows 15000``: all 15,000 rows fitted,
  predictions at the last 3,000); ours (``random_state=0``) by ``--ridge-solvers`` (direct,
  cg and auto), cg to ``--ridge-cg-tol`` (1e-7: the predictions then equal KernelRidge's to
  1-4e-7). Each side as in ``tps`` (peak memory from an untimed run, then the best
  wall-clock and CPU seconds of ``--repeats`` runs), with the GEMM rate (BLAS threads)
  measured before and after the section.
* ``cg``: ``solver="cg"`` to ``cg_tol=1e-10`` against the direct solve on MNIST 5k (Laplacian,
  bandwidth 10) and California 12k (as above): iterations, time, agreement, each time beside
  the cost model's estimate; then the thin-plate spline (2-D, degree 1) by cg to 1e-8 at n in
  ``--tps-cg-sizes`` (2,000 10,000 50,000), two-level preconditioner, and Nystrom alone up to
  ``--tps-nystrom-max``: iterations, setup and per-iteration seconds.

Real data come from ``$SKINTERP_DATA`` (see ``skinterp.datasets``).

Run: ``SKINTERP_DATA=/path/to/data python benchmarks/bench_rbf.py tps --sizes 1000 5000``
"""

import argparse
import os
import sys
import time
from functools import partial

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _harness import machine_summary, measure_peak_memory, print_table  # noqa: E402
from scipy.interpolate import RBFInterpolator  # noqa: E402
from sklearn.kernel_ridge import KernelRidge  # noqa: E402
from sklearn.metrics.pairwise import euclidean_distances  # noqa: E402

from skinterp import KernelInterpolator  # noqa: E402
from skinterp._parallel import blas_threads  # noqa: E402
from skinterp.datasets import load_california_sample, load_mnist_sample  # noqa: E402
from skinterp.kernel_machine._cg import cg_fit, default_landmarks  # noqa: E402
from skinterp.kernel_machine._cost import (  # noqa: E402
    cg_cost,
    direct_cost,
    gemm_rate,
    kernel_rate,
)
from skinterp.kernel_machine._polynomial_tail import PolynomialBasis  # noqa: E402
from skinterp.kernels import KernelSpec  # noqa: E402


def timed(function):
    """(result, seconds, peak MiB) of one call."""
    start = time.perf_counter()
    result, peak = measure_peak_memory(function)
    return result, time.perf_counter() - start, peak


def best_of(function, repeats):
    """``(result, wall seconds, CPU seconds, peak MiB)``: a first, untimed call measures peak
    memory (tracemalloc slows Python-heavy code, so it is never timed; for our side it also
    compiles or loads the numba cache), then the best wall-clock time (``time.perf_counter``)
    and, separately, the best CPU time of the process (``time.process_time``: all its threads,
    BLAS's included) over ``repeats`` calls in this process."""
    result, peak = measure_peak_memory(function)
    walls, cpus = [], []
    for _ in range(max(int(repeats), 1)):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return result, min(walls), min(cpus), peak


def compare(row, ours, peer):
    """Add the peer's columns and the ratios (peer / ours) of wall-clock and CPU seconds to
    ``row``, from two :func:`best_of` results."""
    a, wall, cpu, peak = ours
    b, peer_wall, peer_cpu, peer_peak = peer
    row.update(
        peer_s=peer_wall,
        peer_cpu_s=peer_cpu,
        peer_MiB=peer_peak,
        ratio=peer_wall / wall,
        cpu_ratio=peer_cpu / cpu,
        max_diff=float(np.abs(a - b).max() / np.abs(b).max()),
    )
    return row


def gemm_rate_now():
    """Float64 GEMM flops per second now, on BLAS's own threads: the best of three 1024 x
    1024 products (the cost model's cached rate is one thread's, measured once)."""
    a = np.random.RandomState(0).normal(size=(1024, 1024))
    a @ a
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - start)
    return 2 * 1024**3 / best


def field(n, d, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n, d))
    y = np.sin(6 * X[:, 0]) * np.cos(4 * X[:, 1]) + X[:, -1] ** 2
    return X, y


def bench_tps(args, rows):
    """Fit + predict, ours (default threads) and scipy's (its LU on BLAS's threads, its
    evaluation single-threaded), each the best of ``--repeats`` runs: wall-clock and CPU
    ratios."""
    for d in args.dims:
        for n in args.sizes:
            X, y = field(n, d)
            Q = np.random.RandomState(1).uniform(size=(args.queries, d))

            def ours(X=X, y=y, Q=Q):
                model = KernelInterpolator(
                    kernel="thin_plate_spline", n_jobs=-1, memory_limit=8192
                )
                return model.fit(X, y).predict(Q)

            mine = best_of(ours, args.repeats)
            row = dict(
                case=f"tps deg 1, {d}-D, n={n:,}",
                ours_s=mine[1],
                ours_cpu_s=mine[2],
                ours_MiB=mine[3],
            )
            if n <= args.scipy_max:
                peer = best_of(lambda X=X, y=y, Q=Q: RBFInterpolator(X, y)(Q), args.repeats)
                compare(row, mine, peer)
            rows.append(row)
            print_table(rows[-1:], list(rows[-1]))


def tps_system(n, seed=0):
    """The 2-D thin-plate spline system of degree 1 on ``field(n, 2)``: X, y, spec, P."""
    X, y = field(n, 2, seed)
    return X, y, KernelSpec("thin_plate_spline", 1.0), PolynomialBasis(X, 1).matrix(X)


def bench_big(args, rows):
    """The n = --big thin-plate spline fit by cg to 1e-8 within 4 GB, time-boxed to
    --big-iterations iterations; the cost model's estimate beside the measured times."""
    n = args.big
    X, y, spec, P = tps_system(n)
    cost = cg_cost(n, 2, 1, 3, 500, args.big_iterations, spec, np.float64)
    print(f"cost model: {cost}")
    result, seconds, peak = timed(
        lambda: cg_fit(
            X,
            y[:, None],
            spec,
            P=P,
            tol=1e-8,
            max_iter=args.big_iterations,
            memory_limit=4096,
            n_jobs=-1,
            verbose=1,
        )
    )
    per_iteration = cg_cost(n, 2, 1, 3, 500, 1, spec, np.float64)
    pass_threads = max(1, blas_threads())  # the cost model's kernel passes use BLAS's count
    setup_estimate = (
        per_iteration.seconds - n * n / 2 / kernel_rate(spec, 2, np.float64) / pass_threads
    )
    rows.append(
        dict(
            case=f"tps deg 1, 2-D, n={n:,}, cg ({result.preconditioner})",
            iterations=result.n_iter,
            residual=result.residual,
            total_s=seconds,
            setup_s=result.setup_seconds,
            setup_model_s=setup_estimate,
            s_per_iteration=result.iteration_seconds,
            model_s_per_iteration=per_iteration.seconds - setup_estimate,
            MiB=peak,
            model_MiB=cost.bytes / 2**20,
        )
    )
    print_table(rows[-1:], list(rows[-1]))


def bench_neighbors(args, rows):
    """``neighbors=50`` at n = 100,000 in 2-D, ours with ``n_jobs=1`` and ``-1`` against
    scipy's, each the best of ``--repeats`` runs: wall-clock and CPU ratios."""
    n, d, k = 100_000, 2, 50
    X, y = field(n, d)
    Q = np.random.RandomState(1).uniform(size=(args.queries, d))
    peer = best_of(lambda: RBFInterpolator(X, y, neighbors=k)(Q), args.repeats)
    for n_jobs in (1, -1):
        mine = best_of(
            lambda n_jobs=n_jobs: (
                KernelInterpolator(kernel="thin_plate_spline", neighbors=k, n_jobs=n_jobs)
                .fit(X, y)
                .predict(Q)
            ),
            args.repeats,
        )
        row = dict(
            case=f"neighbors={k}, n={n:,}, n_jobs={n_jobs}",
            ours_s=mine[1],
            ours_cpu_s=mine[2],
            ours_MiB=mine[3],
        )
        rows.append(compare(row, mine, peer))
        print_table(rows[-1:], list(rows[-1]))


def california(train=12_000):
    """The standardised 15k sample: the first ``train`` rows and the last 3,000 (held out
    when ``train`` is 12,000; part of the training rows when it is 15,000)."""
    X, y = load_california_sample()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X[:train], y[:train], X[12_000:], y[12_000:]


def model_seconds(solver, X, n_outputs, iterations=0):
    """The cost model's estimate of a fit (the estimator's own numbers, from rates measured
    in this process)."""
    spec = KernelSpec("laplacian", 1.0)
    n, d = X.shape
    if solver == "direct":
        return direct_cost(n, d, n_outputs, 0, 8, spec, np.float64).seconds
    landmarks = min(n, default_landmarks(d))
    return cg_cost(n, d, n_outputs, 0, landmarks, iterations, spec, np.float64).seconds


def bench_ridge(args, rows):
    X, y, X_test, _ = california(args.ridge_rows)

    def peer():
        K = np.exp(-euclidean_distances(X) / 2.0)
        model = KernelRidge(kernel="precomputed", alpha=1e-3).fit(K, y)
        del K
        return model.predict(np.exp(-euclidean_distances(X_test, X) / 2.0))

    print(f"float64 GEMM rate before the ridge section: {gemm_rate_now() / 1e9:.1f} Gflop/s")
    b, t_peer, cpu_peer, m_peer = best_of(peer, args.repeats)
    for solver in args.ridge_solvers:
        # Compile / load the numba cache outside the timing (the peer has none).
        KernelInterpolator(bandwidth=2.0, ridge=1e-3, solver=solver).fit(X[:300], y[:300])
        fitted = {}

        def ours(solver=solver, fitted=fitted):
            model = KernelInterpolator(
                bandwidth=2.0,
                ridge=1e-3,
                memory_limit=4096,
                solver=solver,
                cg_tol=args.ridge_cg_tol,
                random_state=0,
                n_jobs=-1,
            )
            fitted["model"] = model.fit(X, y)
            return model.predict(X_test)

        a, t_ours, cpu_ours, m_ours = best_of(ours, args.repeats)
        model = fitted["model"]
        rows.append(
            dict(
                case=f"ridge=1e-3, California {len(X) // 1000}k, laplacian, {model.solver_}"
                + (f" to {args.ridge_cg_tol:g}" if model.solver_ == "cg" else ""),
                iterations=model.n_iter_,
                ours_s=t_ours,
                model_s=model_seconds(model.solver_, X, 1, model.n_iter_),
                ours_MiB=m_ours,
                peer_s=t_peer,
                peer_MiB=m_peer,
                ratio=t_peer / t_ours,
                ours_cpu_s=cpu_ours,
                peer_cpu_s=cpu_peer,
                cpu_ratio=cpu_peer / cpu_ours,
                memory_ratio=m_peer / m_ours,
                max_diff=float(np.abs(a - b).max() / np.abs(b).max()),
            )
        )
        print_table(rows[-1:], list(rows[-1]))
    print(f"float64 GEMM rate after the ridge section: {gemm_rate_now() / 1e9:.1f} Gflop/s")


def bench_cg(args, rows):
    cases = []
    if "mnist" in args.cg_data:
        X, y, _, _ = load_mnist_sample()
        cases.append(("MNIST 5k, laplacian h=10", X, np.eye(10)[y], 10.0))
    if "california" in args.cg_data:
        X, y, _, _ = california()
        cases.append(("California 12k, laplacian h=2", X, y, 2.0))
    for name, X, Y, h in cases:
        params = dict(bandwidth=h, n_jobs=-1, memory_limit=4096)
        KernelInterpolator(solver="cg", **params).fit(X[:300], Y[:300])  # compile / load
        cg = KernelInterpolator(
            solver="cg", cg_max_iter=args.cg_iterations, random_state=0, **params
        )
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, t_cg, m_cg = timed(partial(cg.fit, X, Y))
        direct = KernelInterpolator(solver="direct", **params)
        _, t_direct, m_direct = timed(partial(direct.fit, X, Y))
        probe = X[::7][:500]
        diff = np.abs(cg.predict(probe) - direct.predict(probe)).max() / np.abs(Y).max()
        rows.append(
            dict(
                case=f"cg vs direct, {name}",
                iterations=cg.n_iter_,
                cg_residual=cg.cg_residual_,
                cg_s=t_cg,
                cg_model_s=model_seconds("cg", X, Y.reshape(len(Y), -1).shape[1], cg.n_iter_),
                cg_MiB=m_cg,
                direct_s=t_direct,
                direct_model_s=model_seconds("direct", X, Y.reshape(len(Y), -1).shape[1]),
                direct_MiB=m_direct,
                max_diff=float(diff),
            )
        )
        print_table(rows[-1:], list(rows[-1]))
    # The thin-plate spline (2-D, degree 1) to 1e-8: iterations by n, by preconditioner.
    for n in args.tps_cg_sizes:
        X, y, spec, P = tps_system(n)
        for preconditioner in ("schwarz", "nystrom"):
            if preconditioner == "nystrom" and n > args.tps_nystrom_max:
                continue
            solve = partial(
                cg_fit,
                X,
                y[:, None],
                spec,
                P=P,
                tol=1e-8,
                max_iter=args.cg_iterations,
                n_jobs=-1,
                preconditioner=preconditioner,
            )
            result, seconds, peak = timed(solve)
            model = cg_cost(n, 2, 1, 3, 500, result.n_iter, spec, np.float64, two_level=None)
            rows.append(
                dict(
                    case=f"tps deg 1, 2-D, n={n:,}, cg to 1e-8, {preconditioner}",
                    iterations=result.n_iter,
                    cg_residual=result.residual,
                    cg_s=seconds,
                    cg_model_s=model.seconds,
                    setup_s=result.setup_seconds,
                    s_per_iteration=result.iteration_seconds,
                    cg_MiB=peak,
                )
            )
            print_table(rows[-1:], list(rows[-1]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "sections",
        nargs="*",
        default=["tps", "neighbors", "ridge", "cg"],
        choices=["tps", "neighbors", "ridge", "cg", "big"],
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 20000])
    parser.add_argument("--queries", type=int, default=100_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 3])
    parser.add_argument(
        "--scipy-max",
        type=int,
        default=20_000,
        help="largest n given to RBFInterpolator (dense LU of n x n)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="tps, neighbors and ridge: timed runs of each side (best of), after a run for memory",
    )
    parser.add_argument("--big", type=int, default=200_000, help="n of the big section")
    parser.add_argument("--big-iterations", type=int, default=5)
    parser.add_argument("--cg-data", nargs="+", default=["mnist", "california"])
    parser.add_argument("--ridge-solvers", nargs="+", default=["direct", "cg", "auto"])
    parser.add_argument("--cg-iterations", type=int, default=1000)
    parser.add_argument(
        "--ridge-rows",
        type=int,
        default=12_000,
        choices=[12_000, 15_000],
        help="ridge: fit on 12,000 rows and predict the 3,000 held out, or fit on all 15,000 "
        "(predictions at the last 3,000, in the training set)",
    )
    parser.add_argument(
        "--ridge-cg-tol",
        type=float,
        default=1e-7,
        help="cg_tol of the ridge section (1e-7: predictions equal to a few 1e-7)",
    )
    parser.add_argument("--tps-cg-sizes", type=int, nargs="*", default=[2000, 10000, 50000])
    parser.add_argument(
        "--tps-nystrom-max", type=int, default=2000, help="largest n for Nystrom alone"
    )
    args = parser.parse_args()
    print(machine_summary())
    print(f"float64 GEMM rate measured in this run: {gemm_rate() / 1e9:.1f} Gflop/s")
    rows = []
    for section in args.sections:
        sections = {
            "tps": bench_tps,
            "neighbors": bench_neighbors,
            "ridge": bench_ridge,
            "cg": bench_cg,
            "big": bench_big,
        }
        sections[section](args, rows)
    print(
        "\nAll rows (ratio = peer seconds / ours, wall clock; cpu_ratio = peer CPU seconds / "
        "ours; memory_ratio = peer MiB / ours):"
    )
    columns = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    print_table(rows, columns)


if __name__ == "__main__":
    main()
