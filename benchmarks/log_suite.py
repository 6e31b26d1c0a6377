"""How fast the 6.5840 log (3B) and persistence (3C) tests run in virtual time, beside the Go
lab's figures.

    python benchmarks/log_suite.py [--seeds 10]

For each test: virtual seconds, wall milliseconds (median and maximum over the seeds), RPCs
(config.go's rpcTotal) and agreements (the highest index committed), as medians, beside the
6.5840 reference solution's published "Passed" line (seconds, RPCs, agreements; Go's wall
time equals its test time, since it sleeps in real time). Each test runs on its own network.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raftlab.agreement_tests import AGREEMENT_TESTS  # noqa: E402
from raftlab.persistence_tests import PERSISTENCE_TESTS  # noqa: E402

# Published "Passed" lines of the 6.5840 reference solution (2023 page, relabelled 3B/3C in
# 2024): seconds, RPCs, agreements. The page lists no line for the two tests added in 2023.
REFERENCE = {
    "TestBasicAgree3B": (0.9, 16, 3),
    "TestRPCBytes3B": (1.7, 48, 11),
    "TestFailAgree3B": (3.6, 78, 7),
    "TestFailNoAgree3B": (3.8, 172, 3),
    "TestConcurrentStarts3B": (1.1, 24, 6),
    "TestRejoin3B": (5.1, 152, 4),
    "TestBackup3B": (17.2, 2080, 102),
    "TestCount3B": (2.2, 60, 12),
    "TestPersist13C": (5.0, 86, 6),
    "TestPersist23C": (17.6, 952, 16),
    "TestPersist33C": (2.0, 34, 4),
    "TestFigure83C": (31.2, 580, 32),
    "TestUnreliableAgree3C": (1.7, 1044, 246),
    "TestFigure8Unreliable3C": (33.6, 10700, 308),
    "TestReliableChurn3C": (16.1, 8864, 1544),
    "TestUnreliableChurn3C": (16.5, 4220, 906),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per test (default 10)")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be >= 1, got {args.seeds}")
    print(f"{'test':24} {'virtual s':>9} {'wall ms':>8} {'max ms':>7} {'RPCs':>6} {'agreed':>6}"
          f" {'ref s':>6} {'ref RPCs':>8} {'ref agreed':>10}   (median over {args.seeds} seeds)")
    per_seed = {part: [0.0] * args.seeds for part in ("3B", "3C")}
    for part, tests in (("3B", AGREEMENT_TESTS), ("3C", PERSISTENCE_TESTS)):
        for name, test in tests.items():
            virt, wall, rpcs, agreed = [], [], [], []
            for seed in range(args.seeds):
                t0 = time.perf_counter()
                run = test(seed)
                dt = time.perf_counter() - t0
                per_seed[part][seed] += dt
                virt.append(run.cluster.now / 1000)
                wall.append(dt * 1000)
                words = run.summary.split()
                rpcs.append(int(words[5]))
                agreed.append(int(words[7]))
            ref = REFERENCE.get(name)
            ref_text = (f"{ref[0]:6.1f} {ref[1]:8d} {ref[2]:10d}" if ref
                        else f"{'-':>6} {'-':>8} {'-':>10}")
            print(f"{name:24} {statistics.median(virt):9.1f} {statistics.median(wall):8.1f} "
                  f"{max(wall):7.0f} {statistics.median(rpcs):6.0f} "
                  f"{statistics.median(agreed):6.0f} {ref_text}")
    for part, walls in per_seed.items():
        print(f"all {part} tests: median {statistics.median(walls) * 1000:.0f} ms wall per seed, "
              f"max {max(walls) * 1000:.0f} ms")
    both = [a + b for a, b in zip(per_seed["3B"], per_seed["3C"])]
    print(f"3B and 3C together: median {statistics.median(both) * 1000:.0f} ms wall per seed "
          f"(the Go lab needs about 160 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
