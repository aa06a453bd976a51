"""The bad-input matrix of issue 10: every estimator x every input class, each in a subprocess.

Each case runs ``python -c`` in its own process with a timeout, so that crashes (a signal, an
abort) and hangs are caught, and is classified as

* ``right``   the fit/predict returned, and the answer passes the case's check (or a warning
              that names the problem was raised where the case expects one);
* ``clear``   an exception of an expected type whose message names the problem or parameter;
* ``unclear`` any other exception (an error a user cannot act on);
* ``silent``  it returned, but the answer fails the check and nothing warned (silent wrong);
* ``crash``   the process died; ``hang``: the timeout expired.

Usage: ``python benchmarks/robustness_matrix.py [--timeout 60] [--only NAME]``; prints one line
per case and the summary table (estimator x outcome).
"""

import argparse
import collections
import json
import subprocess
import sys

ESTIMATORS = {
    "SingularKernelNN": "SingularKernelNN(n_neighbors=3)",
    "SimplicialInterpolator": "SimplicialInterpolator()",
    "KernelInterpolator": "KernelInterpolator(bandwidth=1.0)",
    "KernelInterpolator-eigenpro": "KernelInterpolator(solver='eigenpro', random_state=0)",
    "MinNormRFFRegressor": "MinNormRFFRegressor(n_components=400, random_state=0)",
    "SingularKernelNNClassifier": "SingularKernelNNClassifier(n_neighbors=3)",
    "SimplicialClassifier": "SimplicialClassifier()",
    "KernelInterpolationClassifier": "KernelInterpolationClassifier(bandwidth=1.0)",
    "MinNormRFFClassifier": "MinNormRFFClassifier(n_components=400, random_state=0)",
}

# Each input class: code defining X, y, Q and ``check(model, pred)`` (True when right), the
# exception types that count as clear and words one of which a clear message must contain.
PRELUDE = """
import warnings, numpy as np
from skinterp import *
rng = np.random.RandomState(0)
classifier = 'Classifier' in NAME
iterative = 'eigenpro' in NAME
# EigenPro's stated tolerance after its default 10 epochs (an iterative solver).
ATOL = 5e-2 if iterative else 1e-6
def targets(X):
    # labels and values depend on the geometry only
    X = X / ((np.abs(X).max() if X.size else 1.0) or 1.0)
    if classifier:
        return np.array(['a', 'b'])[(np.sin(7 * X).sum(1) > 0).astype(int)]
    return np.sin(3 * X).sum(1)
"""

CASES = {
    "clean": (
        "X = rng.rand(60, 2); y = targets(X); Q = X",
        "check = lambda m, p: np.all(p == y) if classifier else np.allclose(p, y, atol=ATOL)",
    ),
    "nan_in_X": (
        "X = rng.rand(30, 2); X[3, 0] = np.nan; y = targets(X); Q = X[:5]",
        "check = lambda m, p: False",
    ),
    "inf_in_X": (
        "X = rng.rand(30, 2); X[3, 0] = np.inf; y = targets(X); Q = X[:5]",
        "check = lambda m, p: False",
    ),
    "none_in_y": (
        "X = rng.rand(30, 2); y = targets(X).astype(object); y[2] = None; Q = X",
        "check = lambda m, p: False",
    ),
    "empty_X": ("X = np.zeros((0, 2)); y = targets(X); Q = X", "check = lambda m, p: False"),
    "one_feature_string": (
        "X = np.array([['a'], ['b'], ['c']] * 5); y = targets(np.zeros((15, 1))); Q = X",
        "check = lambda m, p: False",
    ),
    "offset_1e6_d20": (
        "X = rng.rand(80, 20) + 1e6; y = targets(X - 1e6); Q = X",
        "check = lambda m, p: np.all(p == y) if classifier "
        "else np.allclose(p, y, atol=max(ATOL, 1e-5))",
    ),
    "scale_1e-300": (
        "X = rng.rand(60, 2) * 1e-300; y = targets(X * 1e300); Q = X",
        "check = lambda m, p: np.all(p == y) if classifier else np.allclose(p, y, atol=ATOL)",
    ),
    "scale_1e300": (
        "X = rng.rand(60, 2) * 1e300; y = targets(X * 1e-300); Q = X",
        "check = lambda m, p: np.all(p == y) if classifier else np.allclose(p, y, atol=ATOL)",
    ),
    "exact_duplicates": (
        "X = np.repeat(rng.rand(20, 2), 2, axis=0); y = targets(X); Q = X",
        "check = lambda m, p: np.all(p == y) if classifier else np.allclose(p, y, atol=ATOL)",
    ),
    "identical_rows": (
        "X = np.ones((20, 3)); y = targets(rng.rand(20, 3)); Q = X[:1]",
        "check = lambda m, p: True if classifier else abs(p[0] - y.mean()) < 1e-3",
    ),
    "float32": (
        "X = rng.rand(60, 2).astype(np.float32); y = targets(X); Q = X",
        "check = lambda m, p: np.all(p == y) if classifier "
        "else np.allclose(p, y, atol=max(ATOL, 1e-3))",
    ),
    "readonly_X": (
        "X = rng.rand(60, 2); X.setflags(write=False); y = targets(X); Q = X",
        "check = lambda m, p: np.all(p == y) if classifier else np.allclose(p, y, atol=ATOL)",
    ),
}

CLEAR_WORDS = (
    "NaN",
    "infinity",
    "missing",
    "bandwidth",
    "n_components",
    "step_size",
    "0 sample",
    "minimum of",
    "could not convert",
    "numeric",
    "n_neighbors",
    "finite",
    "Unknown label",
)

SCRIPT = """
NAME = {name!r}
{prelude}
{data}
{check}
caught = []
with warnings.catch_warnings(record=True) as record:
    warnings.simplefilter('always')
    try:
        model = {estimator}.fit(X, y)
        pred = model.predict(Q)
        ok = bool(check(model, pred))
        outcome = 'right' if ok else 'silent'
        message = ''
    except Exception as error:
        message = type(error).__name__ + ': ' + str(error)
        outcome = 'error'
warned = [str(w.message)[:160] for w in record
          if issubclass(w.category, (UserWarning, RuntimeWarning))
          and 'skinterp' in (w.filename + str(w.category))]
if outcome == 'silent' and warned:
    outcome = 'right'  # wrong answer, but said so (a warning naming the cause)
import json
print('RESULT ' + json.dumps(dict(outcome=outcome, message=message[:300], warned=warned)))
"""


def run_case(name, estimator, case, timeout):
    data, check = CASES[case]
    code = SCRIPT.format(name=name, prelude=PRELUDE, data=data, check=check, estimator=estimator)
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "hang", f"no answer in {timeout} s"
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        return "crash", (done.stderr.strip().splitlines() or ["(no output)"])[-1][:200]
    result = json.loads(lines[-1][7:])
    if result["outcome"] == "error":
        clear = any(word.lower() in result["message"].lower() for word in CLEAR_WORDS)
        return ("clear" if clear else "unclear"), result["message"]
    return result["outcome"], "; ".join(result["warned"])[:200]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--only", default=None, help="run only estimators containing this")
    args = parser.parse_args()
    table = collections.defaultdict(collections.Counter)
    for name, estimator in ESTIMATORS.items():
        if args.only and args.only not in name:
            continue
        for case in CASES:
            outcome, detail = run_case(name, estimator, case, args.timeout)
            table[name][outcome] += 1
            print(f"{name:32s} {case:20s} {outcome:8s} {detail[:110]}", flush=True)
    outcomes = ["right", "clear", "unclear", "silent", "crash", "hang"]
    print()
    print(f"{'estimator':32s}" + "".join(f"{o:>9s}" for o in outcomes))
    for name, counts in table.items():
        print(f"{name:32s}" + "".join(f"{counts[o]:9d}" for o in outcomes))
    total = collections.Counter()
    for counts in table.values():
        total.update(counts)
    print(f"{'total':32s}" + "".join(f"{total[o]:9d}" for o in outcomes))


if __name__ == "__main__":
    main()
