"""How fast the three 6.5840 election tests run in virtual time, beside the Go lab's figures.

    python benchmarks/election_suite.py [--seeds 20]

For each test: virtual seconds, wall seconds, virtual/wall ratio and RPC count (config.go's
rpcTotal), as the median over the seeds, beside the 6.5840 reference solution's published run
(whose wall time equals its test time: Go sleeps in real time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raftlab.labtests import ELECTION_TESTS  # noqa: E402

# Published "Passed" lines of the 6.5840 reference solution: seconds, RPCs.
REFERENCE = {
    "TestInitialElection3A": (3.5, 58),
    "TestReElection3A": (5.4, 118),
    "TestManyElections3A": (7.3, 624),
}
REFERENCE_WALL = 16.2  # s, the whole "go test -run 3A" package run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeds per test (default 20)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    print(f"{'test':24} {'virtual s':>9} {'wall ms':>8} {'speed-up':>9} {'RPCs':>6} "
          f"{'ref s':>6} {'ref RPCs':>8}   (median over {args.seeds} seeds, reliable)")
    total_wall = []
    for reliable in (True, False):
        walls_per_seed = [0.0] * args.seeds
        for name, test in ELECTION_TESTS.items():
            virt, wall, rpcs = [], [], []
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                run = test(seed, reliable)
                dt = time.perf_counter() - t0
                walls_per_seed[seed] += dt
                virt.append(run.cluster.now / 1000)
                wall.append(dt)
                rpcs.append(run.cluster.rpc_total())
            if reliable:
                ref_s, ref_rpcs = REFERENCE[name]
                v, w = statistics.median(virt), statistics.median(wall)
                print(f"{name:24} {v:9.2f} {w * 1000:8.2f} {v / w:8.0f}x {statistics.median(rpcs):6.0f} "
                      f"{ref_s:6.1f} {ref_rpcs:8d}   RPCs mean {statistics.mean(rpcs):.0f}, "
                      f"max {max(rpcs)}")
        if reliable:
            total_wall = walls_per_seed
        else:
            print(f"unreliable network: all three tests, median wall "
                  f"{statistics.median(walls_per_seed) * 1000:.2f} ms per seed")
    med = statistics.median(total_wall)
    print(f"all three tests (reliable): median {med * 1000:.2f} ms wall per seed, "
          f"{REFERENCE_WALL / med:.0f}x faster than the reference's {REFERENCE_WALL} s "
          f"(target >= 1000x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
