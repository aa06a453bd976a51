"""Common helpers of the benchmarks: timing with warm-up, peak memory, and a ratio table.

Every benchmark times our code and its peer *in the same run* (this machine is noisy) and prints
``ours / peer`` ratios. Numba compile time is reported separately: the first call of our code
(compile + run, or cache load + run) is timed on its own, then the steady state is the best of
``repeat`` later calls.
"""

import gc
import os
import sys
import threading
import time
import tracemalloc
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Timing:
    name: str
    first_call: float  # seconds, includes numba compilation or cache loading
    best: float  # seconds, steady state
    peak_mib: float  # peak memory allocated during one steady-state call, MiB
    result: object = field(default=None, repr=False)


def _rss_sampler(stop, samples):
    import psutil  # optional; only used when installed

    process = psutil.Process()
    while not stop.is_set():
        samples.append(process.memory_info().rss)
        time.sleep(0.005)


def measure_peak_memory(function):
    """Peak memory (MiB) allocated above the starting point during ``function()``.

    numpy allocations are traced with ``tracemalloc`` (numpy reports its buffers to it); when
    ``psutil`` is installed the resident set size is also sampled, which sees BLAS and numba
    workspace, and the larger of the two is returned.
    """
    gc.collect()
    samples = []
    stop = threading.Event()
    sampler = None
    try:
        import psutil  # noqa: F401

        base_rss = psutil.Process().memory_info().rss
        sampler = threading.Thread(target=_rss_sampler, args=(stop, samples), daemon=True)
        sampler.start()
    except ImportError:
        base_rss = None
    tracemalloc.start()
    try:
        result = function()
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        stop.set()
        if sampler is not None:
            sampler.join()
    peak = traced_peak
    if base_rss is not None and samples:
        peak = max(peak, max(samples) - base_rss)
    return result, peak / 2**20


def time_call(name, function, *, repeat=3, memory=True, trace_last_call=False):
    """Time ``function()``: the first call, the best of ``repeat`` more, and peak memory.

    Peak memory is read in one more, untimed call (tracing slows Python-heavy code, up to 10x for
    small calls). With ``trace_last_call=True`` it is read during the last timed call instead,
    which saves a call on long benchmarks whose Python overhead is negligible.
    """
    start = time.perf_counter()
    result = function()
    first = time.perf_counter() - start
    best = np.inf
    peak = float("nan")
    n_timed = max(repeat, 1)
    for i in range(n_timed):
        start = time.perf_counter()
        if memory and trace_last_call and i == n_timed - 1:
            result, peak = measure_peak_memory(function)
        else:
            result = function()
        best = min(best, time.perf_counter() - start)
    if memory and not trace_last_call:
        result, peak = measure_peak_memory(function)
    return Timing(name, first, best, peak, result)


def print_table(rows, columns, *, file=sys.stdout):
    """Print ``rows`` (a list of dicts) as an aligned text table with the given ``columns``."""
    cells = [[_format(row.get(col, "")) for col in columns] for row in rows]
    widths = [max(len(col), *(len(c[i]) for c in cells)) for i, col in enumerate(columns)]
    print("  ".join(col.rjust(w) for col, w in zip(columns, widths)), file=file)
    print("  ".join("-" * w for w in widths), file=file)
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)), file=file)
    file.flush()


def _format(value):
    if isinstance(value, float):
        if value != value:
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value)


def machine_summary():
    """One line on the machine: cores, numpy's BLAS and threads."""
    try:
        from threadpoolctl import threadpool_info

        blas = [f"{p['internal_api']}:{p['num_threads']}" for p in threadpool_info()]
    except ImportError:  # pragma: no cover
        blas = []
    return f"cores={os.cpu_count()} numpy={np.__version__} pools={','.join(blas)}"
