"""The ``raftlab`` command (also ``python -m raftlab``).

``raftlab figure16 --trials 1000 --out fig16.png --csv fig16.csv`` reproduces both graphs of
the Raft paper's Figure 16 and prints its headline numbers beside the paper's.
``raftlab lab init DIR [--part 3A|all] [--force]`` writes the lab's skeleton ``raft.py`` and
its notebook ``lab.ipynb`` into ``DIR``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from typing import Any, Callable, Optional, Sequence

from .cluster import MAX_RUN
from .validation import check_int, check_number, check_seed

__all__ = ["main"]


def _arg(parse: Callable[[str], Any], check: Callable[[Any], Any]) -> Callable[[str], Any]:
    """An argparse ``type``: ``parse`` the text, then ``check`` it with raftlab's argument
    checks (text that does not parse is checked as typed, so the message names it)."""
    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            value = text
        try:
            return check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return convert


_trials = _arg(int, lambda v: check_int("trials", v, 1))
_workers = _arg(int, lambda v: check_int("workers", v, 1))
_seed = _arg(int, check_seed)
_cap = _arg(float, lambda v: check_number("cap", v, 0, MAX_RUN, open_lo=True, unit="ms"))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="raftlab", description="raftlab experiments.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    fig = sub.add_parser("figure16", help="reproduce the Raft paper's Figure 16 (leader "
                         "election downtime CDFs)",
                         description="Crash the leader of a five-server cluster TRIALS times "
                         "per election timeout range and plot the time without a leader.")
    fig.add_argument("--trials", type=_trials, default=1000,
                     help="trials per timeout range (default 1000)")
    fig.add_argument("--seed", type=_seed, default=0, help="master seed (default 0)")
    fig.add_argument("--workers", type=_workers, default=None,
                     help="worker processes (default: all cores; 1 runs in this process)")
    fig.add_argument("--cap", type=_cap, default=10_000,
                     help="give up on a trial after this many ms without leader (default 10000)")
    fig.add_argument("--out", metavar="PNG", help="write both graphs to this PNG file")
    fig.add_argument("--csv", metavar="CSV", help="write every trial's downtime to this CSV file")
    fig.add_argument("--no-progress", action="store_true", help="no progress bar")
    fig.set_defaults(run=_figure16)

    from .assignment import PARTS

    lab = sub.add_parser("lab", help="the student's side of the Raft lab",
                         description="Set up the Raft lab: a skeleton to fill in and a notebook "
                         "that checks it step by step.")
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION")
    init = lab_sub.add_parser("init", help="write raft.py (the skeleton) and lab.ipynb into DIR",
                              description="Write DIR/raft.py, a skeleton class Raft with the "
                              "plumbing done and a 'Your code here' where the assignment asks "
                              "for work, and DIR/lab.ipynb, the assignment in steps.")
    init.add_argument("dir", metavar="DIR", help="the folder to write into (made if missing)")
    init.add_argument("--part", choices=PARTS, default="3A",
                      help="3A: leader election (default); all: 3A-3C (election, log, "
                      "persistence)")
    init.add_argument("--force", action="store_true",
                      help="overwrite raft.py and lab.ipynb if they exist")
    init.set_defaults(run=_lab_init)
    lab.set_defaults(run=lambda args, parser: _lab_usage(lab))
    return parser


def _lab_usage(lab: argparse.ArgumentParser) -> int:
    lab.print_help(sys.stderr)
    return 2


def _lab_init(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .lab_init import LabExists, init_lab

    try:
        paths = init_lab(args.dir, part=args.part, force=args.force)
    except LabExists as exc:
        print(f"raftlab lab init: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"raftlab lab init: cannot write into {args.dir!r}: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    print(f"next: open {paths[1]} in JupyterLab (jupyter lab {paths[1]}), fill in "
          f"{paths[0].name} step by step, and grade it with `raftlab grade {paths[0]}`")
    return 0


def _writable(parser: argparse.ArgumentParser, path: Optional[str], what: str) -> None:
    if path is None:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        parser.error(f"{what} {path!r} is a directory; give a file name")
    if not os.path.isdir(folder):
        parser.error(f"{what} {path!r}: folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        parser.error(f"{what} {path!r} is not writable")


def _figure16(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    _writable(parser, args.out, "--out")
    _writable(parser, args.csv, "--csv")
    if args.out is not None and not args.out.lower().endswith(".png"):
        parser.error(f"--out {args.out!r}: figures are written as PNG; use a .png name")
    if args.out is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--out needs matplotlib: install raftlab[plots]")
    from concurrent.futures import ProcessPoolExecutor

    from .experiments import figure16, figure16_table

    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    executor = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        graphs = figure16(trials=args.trials, seed=args.seed, cap=args.cap, executor=executor,
                          progress=not args.no_progress)
    finally:
        if executor is not None:
            executor.shutdown()
    print(figure16_table(graphs))
    if args.csv:
        seen = set()
        with open(args.csv, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=["label", "trial", "downtime_ms", "censored"])
            writer.writeheader()
            for result in graphs["top"] + graphs["bottom"]:
                if result.label not in seen:
                    seen.add(result.label)
                    writer.writerows(result.rows())
        print(f"wrote {args.csv}")
    if args.out:
        from .experiment_plots import figure16_figure
        figure16_figure(graphs).savefig(args.out)
        print(f"wrote {args.out}")
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``raftlab`` / ``python -m raftlab``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return args.run(args, parser)
