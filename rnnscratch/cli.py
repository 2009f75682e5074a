"""The command line: ``rnnscratch COMMAND [options]`` (also ``python -m rnnscratch``).

Nothing in the library imports this module.
"""
from __future__ import annotations

import argparse
import sys
import time


def _cmd_gradcheck(args) -> int:
    from . import selfcheck
    from .gradcheck import DEFAULT_TOLERANCE
    start = time.perf_counter()
    reports = selfcheck.run_all(seed=args.seed, T=args.steps, B=args.batch, I=args.input_size, H=args.hidden)
    print(f"Gradient check, float64 central differences (T={args.steps}, B={args.batch}, "
          f"I={args.input_size}, H={args.hidden}, seed={args.seed}, tolerance {DEFAULT_TOLERANCE:.0e})\n")
    print(selfcheck.format_table(reports))
    failed = [name for name, r in reports.items() if not r.passed()]
    print(f"\n{len(reports) - len(failed)}/{len(reports)} passed in {time.perf_counter() - start:.1f} s")
    if args.verbose or failed:
        for name in failed if not args.verbose else reports:
            print(f"\n{name}\n{reports[name]}")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rnnscratch",
        description="Recurrent networks from scratch in NumPy/CuPy: train, check and benchmark them.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    g = sub.add_parser("gradcheck", help="prove every backward pass against finite differences",
                       description="Gradient-check RNN (tanh/relu), LSTM, GRU (with and without variable "
                                   "lengths), linear, embedding, dropout and both losses in float64, and "
                                   "print one row per function. Exit status 1 if any check fails.")
    g.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    g.add_argument("--steps", type=int, default=6, help="sequence length T (default 6)")
    g.add_argument("--batch", type=int, default=3, help="batch size B (default 3)")
    g.add_argument("--input-size", type=int, default=4, help="input features I (default 4)")
    g.add_argument("--hidden", type=int, default=5, help="hidden size H (default 5)")
    g.add_argument("-v", "--verbose", action="store_true", help="print every array's error, not only failures")
    g.set_defaults(func=_cmd_gradcheck)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("steps", "batch", "input_size", "hidden"):
        if getattr(args, name, 1) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
