"""Command line of skinterp.

``python -m skinterp demo``                 interpolating learners vs baselines on noisy digits
``python -m skinterp list``                 the paper's experiments, one line each
``python -m skinterp reproduce NAME|all``   run experiments, print their tables and headline
                                            numbers beside the paper's, write NAME.json/.png
``python -m skinterp warmup``               compile every numba kernel once (into the cache)
``python -m skinterp data FOLDER``          download the real data once, write the sample files
"""

import argparse
import inspect
import sys
import time
from pathlib import Path


def _demo(args):
    from skinterp.experiments.demo import run_demo

    noise_levels = [0.1] if args.quick else args.noise
    print(
        "Interpolating learners on scikit-learn's digits (899 train / 898 test), "
        "with a fraction of training labels corrupted.\n"
        "train err = 0 means the method fits the noisy labels exactly.\n",
        flush=True,
    )
    result = run_demo(noise_levels, random_state=args.seed)
    print(result.table())
    return 0


def _list(args):
    from skinterp.experiments import EXPERIMENTS

    width = max(map(len, EXPERIMENTS))
    for name, description in EXPERIMENTS.items():
        print(f"{name:<{width}}  {description}")
    print("\nRun one with: python -m skinterp reproduce NAME [--quick] [--out DIR]")
    return 0


def _save_figure(result, path):
    """Write ``result.plot()`` to ``path``; False (and why, on stderr) without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(
            f"matplotlib is not installed: no {path.name} (pip install skinterp[plot])",
            file=sys.stderr,
        )
        return False
    axes = result.plot()
    figure = axes[0].figure if isinstance(axes, (list, tuple)) else axes.figure
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def _reproduce(args):
    from skinterp.experiments import EXPERIMENTS, get_experiment

    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    if args.name != "all" and args.name not in EXPERIMENTS:
        print(
            f"unknown experiment {args.name!r}; `python -m skinterp list` names them",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for name in names:
        function = get_experiment(name)
        options = {"quick": args.quick, "random_state": args.seed, "verbose": True}
        if "data_home" in inspect.signature(function).parameters:
            options["data_home"] = args.data
        print(
            f"== {name} ({'quick' if args.quick else 'full'} settings) ==",
            file=sys.stderr,
            flush=True,
        )
        result = function(**options)
        print(result.report(), flush=True)
        result.to_json(out / f"{name}.json")
        written = [f"{name}.json"]
        if _save_figure(result, out / f"{name}.png"):
            written.append(f"{name}.png")
        print(f"wrote {', '.join(str(out / item) for item in written)}\n", flush=True)
    if len(names) > 1:
        print(f"{len(names)} experiments in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


def _warmup(args):
    from skinterp._numba import NUMBA_CACHE
    from skinterp._warmup import warmup

    result = warmup(verbose=True)
    print(result.table())
    where = "cached on disk" if NUMBA_CACHE else "NOT cached (SKINTERP_NUMBA_CACHE is off)"
    print(f"\n{result.summary['total seconds']:.1f} s in all; the kernels are {where}.")
    return 0


def _data(args):
    from skinterp.datasets import DATA_ENV_VAR, write_sample_files

    print(
        "downloading MNIST (about 15 MB) and California housing through scikit-learn ...",
        flush=True,
    )
    for path in write_sample_files(args.folder):
        print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    print(f"\nUse them with: export {DATA_ENV_VAR}={Path(args.folder).resolve()}")
    return 0


def main(argv=None):
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    import skinterp

    parser = argparse.ArgumentParser(
        prog="python -m skinterp",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"skinterp {skinterp.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="interpolating learners vs baselines on noisy digits")
    demo.add_argument(
        "--noise", type=float, nargs="+", default=[0.0, 0.1, 0.2], help="label noise levels"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--quick", action="store_true", help="one noise level (10%%), for CI")
    demo.set_defaults(run=_demo)
    listing = commands.add_parser("list", help="the paper's experiments, one line each")
    listing.set_defaults(run=_list)
    reproduce = commands.add_parser("reproduce", help="run an experiment of the paper (or all)")
    reproduce.add_argument("name", help="an experiment named by `list`, or `all`")
    reproduce.add_argument("--quick", action="store_true", help="small settings (< 60 s each)")
    reproduce.add_argument("--out", default=".", help="folder for NAME.json and NAME.png")
    reproduce.add_argument(
        "--data", default=None, help="folder of the sample data files (default: $SKINTERP_DATA)"
    )
    reproduce.add_argument("--seed", type=int, default=0, help="random seed")
    reproduce.set_defaults(run=_reproduce)
    warm = commands.add_parser("warmup", help="compile every numba kernel once (into the cache)")
    warm.set_defaults(run=_warmup)
    data = commands.add_parser(
        "data", help="download the real data once and write the sample files (MNIST, California)"
    )
    data.add_argument("folder", help="where to write them; then set SKINTERP_DATA to it")
    data.set_defaults(run=_data)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
