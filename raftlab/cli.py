"""The ``raftlab`` command (also ``python -m raftlab``).

``raftlab grade raft.py[:Raft] --part 3A --seeds 100`` grades a Raft node class (exit status 0
when every test passed, 1 when some failed, 2 on a usage error); ``--explore`` also searches
every ordering of a small cluster's messages and timers (``raftlab.explore``).

``raftlab figure16 --trials 1000 --out fig16.png --csv fig16.csv`` reproduces both graphs of
the Raft paper's Figure 16 and prints its headline numbers beside the paper's.
``raftlab lab init DIR [--part 3A|all] [--force]`` writes the lab's skeleton ``raft.py`` and
its notebook ``lab.ipynb`` into ``DIR``.
``raftlab notebooks DIR [--force]`` writes the course notebooks, outputs cleared, into ``DIR``.
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

    grd = sub.add_parser("grade", help="grade a Raft node class: every test of a lab part "
                         "over many seeds, with a diagnosis of each failure",
                         description="Run every test of the part on SEEDS seeds (never "
                         "stopping at the first failure) and print a go-test-like report. "
                         "Exit status: 0 all passed, 1 some failed, 2 usage error.")
    grd.add_argument("target", metavar="FILE.py[:CLASS]",
                     help="the Python file with your node class, and the class (default Raft)")
    grd.add_argument("--part", default="3A", choices=("3A", "3B", "3C", "all"),
                     help="the lab part: 3A election (default), 3B log, 3C persistence, all")
    grd.add_argument("--seeds", type=_arg(int, lambda v: check_int("seeds", v, 1, 1_000_000)),
                     default=100, help="seeds per test and network (default 100)")
    grd.add_argument("--network", default="both", choices=("both", "reliable", "unreliable"),
                     help="network(s) for the 3A tests (default both)")
    grd.add_argument("--workers", type=_arg(int, lambda v: check_int("workers", v, 1, 256)),
                     default=1, help="worker processes (default 1)")
    grd.add_argument("--no-progress", action="store_true", help="no progress bar")
    grd.add_argument("--explore", action="store_true",
                     help="also search every ordering of a 3-node cluster's messages and "
                     "timers, and report a violation with its shortest schedule")
    grd.set_defaults(run=_grade)

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

    nbs = sub.add_parser("notebooks", help="write the course notebooks, outputs cleared, into "
                         "DIR (a student's copy)",
                         description="Write copies of the course notebooks into DIR with every "
                         "output and execution count cleared, so that each prediction the "
                         "notebooks ask for is made before the answer is seen, and their "
                         "README.md beside them.")
    nbs.add_argument("dir", metavar="DIR", help="the folder to write into (made if missing)")
    nbs.add_argument("--force", action="store_true",
                     help="overwrite notebooks that already exist in DIR")
    nbs.set_defaults(run=_notebooks)
    return parser


def _load_class(parser: argparse.ArgumentParser, target: str) -> Any:
    """The class named by ``FILE.py[:CLASS]``; a usage error (exit 2) naming what is wrong."""
    import importlib.util

    path, _, name = target.partition(":") if not os.path.exists(target) else (target, "", "")
    name = name or "Raft"
    if not path.endswith(".py"):
        parser.error(f"{target!r}: give a Python file, e.g. raft.py or raft.py:Raft")
    if not os.path.isfile(path):
        parser.error(f"{path!r}: no such file")
    folder = os.path.dirname(os.path.abspath(path))
    module_name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        parser.error(f"{path!r} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        import traceback
        where = traceback.extract_tb(exc.__traceback__)[-1]
        parser.error(f"importing {path} failed: {type(exc).__name__}: {exc} "
                     f"({os.path.basename(where.filename)}, line {where.lineno})")
    cls = getattr(module, name, None)
    if not isinstance(cls, type):
        found = sorted(k for k, v in vars(module).items()
                       if isinstance(v, type) and v.__module__ == module_name)
        parser.error(f"{path} has no class {name!r}"
                     + (f"; it defines {', '.join(found)} (name one with {path}:CLASS)"
                        if found else ""))
    from .protocol import check_node_class
    try:
        check_node_class(cls)
    except TypeError as exc:
        parser.error(f"{path}:{name} is not a Raft node: {exc}")
    return cls


def _grade(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    node_class = _load_class(parser, args.target)
    from .grading import grade
    report = grade(node_class, part=args.part, seeds=args.seeds, network=args.network,
                   workers=args.workers, progress=False if args.no_progress else None,
                   explore=args.explore)
    print(report)
    return 0 if report.passed else 1


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


def _notebooks(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .student_notebooks import NoNotebooks, NotebooksExist, write_student_notebooks

    try:
        paths = write_student_notebooks(args.dir, force=args.force)
    except (NotebooksExist, NoNotebooks, ValueError) as exc:
        print(f"raftlab notebooks: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"raftlab notebooks: cannot write into {args.dir!r}: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path}")
    print(f"next: jupyter lab {paths[0].parent} (run each cell after making its prediction)")
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
