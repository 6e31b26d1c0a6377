"""Benchmark: the whole of Figure 16 (11 lines x 1000 trials), serial and on a process pool.

    python benchmarks/figure16.py [--trials 1000] [--workers 2] [--skip-serial]

The 150-300 ms line appears in both graphs and is run once, so a run is 10 distinct sweeps.
Prints wall times, trials per second and the headline numbers beside the paper's; checks that
both runs gave identical downtimes. Target: the parallel run under 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import Executor, Future, ProcessPoolExecutor

from raftlab.experiments import figure16, figure16_table

TARGET_S = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-serial", action="store_true")
    args = parser.parse_args()
    if args.trials < 1 or args.workers < 1:
        parser.error("--trials and --workers must be >= 1")
    total = 10 * args.trials
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Figure 16: 11 lines (10 distinct) x {args.trials} trials = {total} trials; "
          f"{os.cpu_count()} cores, load average {load:.2f}")
    serial = None
    if not args.skip_serial:
        t0 = time.perf_counter()
        serial = figure16(trials=args.trials, seed=args.seed, executor=_Serial(),
                          progress=False)
        dt = time.perf_counter() - t0
        print(f"serial:              {dt:6.2f} s  ({total / dt:7.0f} trials/s)")
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        parallel = figure16(trials=args.trials, seed=args.seed, executor=pool, progress=False)
    dp = time.perf_counter() - t0
    verdict = "OK" if dp < TARGET_S else f"SLOWER than the {TARGET_S:.0f} s target"
    print(f"parallel ({args.workers} workers): {dp:6.2f} s  ({total / dp:7.0f} trials/s)  "
          f"{verdict}")
    if serial is not None:
        same = all(a.times == b.times for key in ("top", "bottom")
                   for a, b in zip(serial[key], parallel[key]))
        print(f"identical downtimes serial vs parallel: {same}")
        if not same:
            return 1
    print()
    print(figure16_table(parallel))
    return 0


class _Serial(Executor):
    """A minimal executor that runs each call at once in this process."""

    _max_workers = 1

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        fut: Future = Future()
        fut.set_result(fn(*args, **kwargs))
        return fut


if __name__ == "__main__":
    sys.exit(main())
