"""How fast the grader grades: the reference node on part 3A, both networks, many seeds.

    python benchmarks/grading.py [--seeds 1000] [--workers 2] [--repeat 3]

Prints the wall time of ``grade(RaftNode, part="3A", seeds=N)`` on one worker and on
``--workers`` workers (targets for 1000 seeds: under 15 s and under 9 s), and the cost of the
grader's extra checks (rule monitors on every input, election safety over each trace, the two
stricter tests, the reproducibility rerun) as a ratio to running the three bare ported tests
on the same seeds and networks (goal: at most 3x). Each figure is the median of ``--repeat``
runs, taken in turns; the shared development machine's speed varies by a quarter from minute
to minute, so the fastest run is shown too, and the CPU time of the one-worker runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raftlab import RaftNode  # noqa: E402
from raftlab.grading import grade  # noqa: E402
from raftlab.labtests import ELECTION_TESTS  # noqa: E402


def bare(seeds: int) -> tuple[float, float]:
    """Wall and CPU seconds to run the three ported 3A tests on plain clusters, both
    networks."""
    t0, c0 = time.perf_counter(), time.process_time()
    for test in ELECTION_TESTS.values():
        for reliable in (True, False):
            for seed in range(seeds):
                test(seed, reliable)
    return time.perf_counter() - t0, time.process_time() - c0


def graded(seeds: int, workers: int) -> tuple[float, float]:
    """Wall and CPU seconds (this process only) to grade the reference node."""
    t0, c0 = time.perf_counter(), time.process_time()
    report = grade(RaftNode, part="3A", seeds=seeds, workers=workers, progress=False)
    elapsed = time.perf_counter() - t0, time.process_time() - c0
    if not report.passed:
        print(report)
        raise SystemExit("the reference node failed its grading")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.workers < 1:
        parser.error("--seeds and --workers must be >= 1")
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    runs_of: dict[str, list[tuple[float, float]]] = {"bare": [], "one": [], "many": []}
    for _ in range(args.repeat):
        runs_of["bare"].append(bare(args.seeds))
        runs_of["one"].append(graded(args.seeds, 1))
        runs_of["many"].append(graded(args.seeds, args.workers))

    def wall(key: str) -> float:
        return statistics.median(w for w, _ in runs_of[key])

    def cpu(key: str) -> float:
        return statistics.median(c for _, c in runs_of[key])

    def fastest(key: str) -> float:
        return min(w for w, _ in runs_of[key])

    runs = args.seeds * 6
    print(f"grading RaftNode, part 3A, {args.seeds} seeds x 2 networks "
          f"({runs} ported runs + {args.seeds * 2} stricter runs + reruns), "
          f"medians of {args.repeat} runs:")
    print(f"  1 worker:  {wall('one'):6.2f} s wall (fastest {fastest('one'):.2f} s), "
          f"{cpu('one'):.2f} s CPU   (target < 15 s for 1000 seeds)")
    print(f"  {args.workers} workers: {wall('many'):6.2f} s wall (fastest "
          f"{fastest('many'):.2f} s)   (target < 9 s for 1000 seeds with 2)")
    print(f"  bare ported tests, same seeds and networks: {wall('bare'):6.2f} s wall, "
          f"{cpu('bare'):.2f} s CPU ({cpu('bare') / runs * 1000:.2f} ms per run)")
    print(f"  cost of the extra checks: {cpu('one') / cpu('bare'):.2f}x the bare tests in CPU "
          f"time (goal <= 3x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
