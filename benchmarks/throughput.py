"""Delivered messages per wall-clock second: 5 nodes heartbeating for 600 virtual seconds.

    python benchmarks/throughput.py [--repeat 5] [--virtual-s 600]

Tracing is on (it always is: every message, timer and state change is an event). A
"message" is a request or a reply; it counts once it is delivered (``deliver`` events).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raftlab import Cluster  # noqa: E402


def one_run(seconds: float, seed: int) -> tuple[float, int, int]:
    c = Cluster(5, seed=seed)
    t0 = time.perf_counter()
    c.run_for(seconds * 1000)
    wall = time.perf_counter() - t0
    messages = len(c.trace.of("deliver"))
    return wall, messages, len(c.trace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--virtual-s", type=float, default=600.0)
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.virtual_s <= 0:
        parser.error("--repeat must be >= 1 and --virtual-s > 0")
    rates, walls = [], []
    for k in range(args.repeat):
        wall, messages, events = one_run(args.virtual_s, seed=k)
        rates.append(messages / wall)
        walls.append(wall)
    print(f"5 nodes, {args.virtual_s:.0f} virtual s, tracing on: {messages} messages "
          f"delivered, {events} trace events per run")
    print(f"delivered messages per wall second: median {statistics.median(rates):,.0f} "
          f"(min {min(rates):,.0f}, max {max(rates):,.0f}) over {args.repeat} runs "
          f"(target >= 300,000)")
    print(f"virtual time / wall time: {args.virtual_s / statistics.median(walls):,.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
