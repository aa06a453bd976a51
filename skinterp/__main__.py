"""Command line: ``python -m skinterp demo`` and the paper's experiments."""

import argparse
import sys


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


def main(argv=None):
    """Parse ``argv`` and run the chosen command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m skinterp", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="interpolating learners vs baselines on noisy digits")
    demo.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.1, 0.2], help="label noise levels")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--quick", action="store_true", help="one noise level (10%%), for CI")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
