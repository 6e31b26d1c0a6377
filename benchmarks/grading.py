"""How fast the grader grades: the reference node on part 3A, both networks, many seeds.

    python benchmarks/grading.py [--seeds 1000] [--workers 2]

Prints the wall time of ``grade(RaftNode, part="3A", seeds=N)`` on one worker and on
``--workers`` workers (targets for 1000 seeds: under 15 s and under 9 s), and the cost of the
grader's extra checks (rule monitors on every input, election safety over each trace, the two
stricter tests, the reproducibility rerun) as a ratio to running the three bare ported tests
on the same seeds and networks (goal: at most 3x).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raftlab import RaftNode  # noqa: E402
from raftlab.grading import grade  # noqa: E402
from raftlab.labtests import ELECTION_TESTS  # noqa: E402


def bare(seeds: int) -> float:
    """Seconds to run the three ported 3A tests on plain clusters, both networks."""
    t0 = time.perf_counter()
    for test in ELECTION_TESTS.values():
        for reliable in (True, False):
            for seed in range(seeds):
                test(seed, reliable)
    return time.perf_counter() - t0


def graded(seeds: int, workers: int) -> float:
    t0 = time.perf_counter()
    report = grade(RaftNode, part="3A", seeds=seeds, workers=workers, progress=False)
    elapsed = time.perf_counter() - t0
    if not report.passed:
        print(report)
        raise SystemExit("the reference node failed its grading")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.workers < 1:
        parser.error("--seeds and --workers must be >= 1")
    base = bare(args.seeds)
    one = graded(args.seeds, 1)
    many = graded(args.seeds, args.workers)
    runs = args.seeds * 6
    print(f"grading RaftNode, part 3A, {args.seeds} seeds x 2 networks "
          f"({runs} ported runs + {args.seeds * 2} stricter runs + reruns):")
    print(f"  1 worker:  {one:6.2f} s   (target < 15 s for 1000 seeds)")
    print(f"  {args.workers} workers: {many:6.2f} s   (target < 9 s for 1000 seeds with 2)")
    print(f"  bare ported tests, same seeds and networks: {base:6.2f} s "
          f"({base / runs * 1000:.2f} ms per run)")
    print(f"  cost of the extra checks: {one / base:.2f}x the bare tests (goal <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
