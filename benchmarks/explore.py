"""How fast exhaustive exploration runs: distinct states per second for 3 nodes, and memory.

    python benchmarks/explore.py [--depth 8] [--repeat 3] [--memory-depth 7]

Explores every ordering of ``RaftNode`` x 3 (messages delivered or lost in any order, any
timer next) up to ``--depth`` steps and prints the distinct states per second (goal: 20,000
on one core; median of ``--repeat`` runs, the fastest too, as the shared machine's speed
varies), the depth reached, how many inputs were actually run by a node (the others were
answered from the memo of node steps), then the memory per stored state, measured with
tracemalloc over a search to ``--memory-depth`` steps (tracemalloc slows the search, so that
run is not timed), and where the time goes (cProfile, top functions).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import statistics
import sys
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raftlab import RaftNode  # noqa: E402
from raftlab.explore import explore  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--memory-depth", type=int, default=7)
    args = ap.parse_args()

    rates, cpu_rates = [], []
    for _ in range(args.repeat):
        gc.collect()
        r = explore(3, RaftNode, max_depth=args.depth, max_states=10_000_000)
        rates.append(r.states_per_second)
        cpu_rates.append(r.states / r.cpu_seconds)
    print(f"RaftNode x 3, drops on, every ordering up to {r.depth} steps "
          f"({'complete' if r.complete else 'cut short'}): {r.states:,} distinct states, "
          f"{r.transitions:,} transitions, {r.inputs_run:,} node inputs run "
          f"({r.inputs_run / r.transitions:.0%}; the rest from the memo), "
          f"{r.elapsed:.1f} s")
    print(f"  distinct states per second: median {statistics.median(rates):,.0f}, "
          f"fastest {max(rates):,.0f} (goal 20,000) over {args.repeat} runs; per CPU second "
          f"(steadier on a shared machine): median {statistics.median(cpu_rates):,.0f}")

    gc.collect()
    tracemalloc.start()
    m = explore(3, RaftNode, max_depth=args.memory_depth, max_states=10_000_000)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"memory: {m.states:,} states to depth {m.depth}: peak {peak / 1e6:.1f} MB, "
          f"{peak / m.states:,.0f} bytes per stored state (the visited set with each state's "
          f"parent, the frontier and the interned node states, messages and memo)")

    profile = cProfile.Profile()
    profile.enable()
    explore(3, RaftNode, max_depth=args.memory_depth, max_states=10_000_000)
    profile.disable()
    print("where the time goes (cProfile, depth %d; the profiler inflates call-heavy parts):"
          % args.memory_depth)
    pstats.Stats(profile, stream=sys.stdout).sort_stats("tottime").print_stats(8)


if __name__ == "__main__":
    main()
