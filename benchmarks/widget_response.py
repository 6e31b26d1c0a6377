"""How long one action plus the redraw of every view takes in the ClusterLab panel.

    python benchmarks/widget_response.py [--reps 9] [--budget 250]

A 5-node cluster (seed 3) first runs 60 s of virtual time; then each action is clicked ``reps``
times on the panel (the click runs the Cluster call, then the header, node rows, status table,
event list, safety check and the timeline PNG are redrawn, and the log view's PNG if the logs,
roles or terms changed). Prints the median and the worst wall
time per action, and the share of the median spent drawing the timeline. Exits 1 if a median
is over the budget (the issue asks for under 250 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from raftlab import Cluster  # noqa: E402
from raftlab.widgets import ClusterLab  # noqa: E402


def actions(lab: ClusterLab) -> dict[str, Callable[[], None]]:
    """Each entry is one click (or a pair that undoes itself, timed as two clicks)."""
    def toggle(desc_a: str, desc_b: str) -> Callable[[], None]:
        def go() -> None:
            name = desc_a if any(b.description == desc_a for b in lab.buttons()) else desc_b
            lab.button(name).click()
        return go

    def partition() -> None:
        if lab.cluster.groups is None:
            lab.groups.value = "0 1 | 2 3 4"
            lab.button("partition").click()
        else:
            lab.button("heal").click()

    def latency() -> None:
        lab.lat_lo.value, lab.lat_hi.value = (5, 10) if lab.lat_lo.value != 5 else (5, 12)
        lab.button("set latency").click()

    return {
        "+10 ms": lambda: lab.button("+10 ms").click(),
        "+100 ms": lambda: lab.button("+100 ms").click(),
        "crash / restart 0": toggle("crash 0", "restart 0"),
        "disconnect / connect 4": toggle("disconnect 4", "connect 4"),
        "partition / heal": partition,
        "set latency": latency,
        "bad value (lo > hi)": lambda: (setattr(lab.et_lo, "value", 900),
                                        lab.button("set timing").click()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9, help="clicks per action (default 9)")
    parser.add_argument("--budget", type=float, default=250.0,
                        help="largest acceptable median, ms (default 250)")
    args = parser.parse_args(argv)
    if args.reps < 1:
        parser.error(f"--reps must be >= 1, got {args.reps}")

    cluster = Cluster(5, seed=3)
    cluster.run_for(60_000)
    lab = ClusterLab(cluster, display=False)
    draw_times: list[float] = []
    draw = lab.draw_timeline

    def timed_draw() -> None:
        t0 = time.perf_counter()
        draw()
        draw_times.append(time.perf_counter() - t0)

    lab.draw_timeline = timed_draw  # type: ignore[method-assign]
    print(f"ClusterLab on Cluster(5, seed=3) after 60 s of virtual time "
          f"({len(cluster.trace)} events); {args.reps} clicks per action")
    print(f"{'action':24} {'median ms':>9} {'worst ms':>9} {'timeline':>9}")
    worst_median = 0.0
    for name, act in actions(lab).items():
        walls, draws = [], []
        for _ in range(args.reps):
            draw_times.clear()
            t0 = time.perf_counter()
            act()
            walls.append(time.perf_counter() - t0)
            draws.append(sum(draw_times))
        med = statistics.median(walls) * 1000
        worst_median = max(worst_median, med)
        share = statistics.median(draws) * 1000 / med if med else 0.0
        print(f"{name:24} {med:9.1f} {max(walls) * 1000:9.1f} {share:8.0%}")
    print(f"trace at the end: {len(lab.cluster.trace)} events, t = {lab.cluster.now:.0f} ms")
    verdict = "within" if worst_median <= args.budget else "OVER"
    print(f"largest median {worst_median:.1f} ms: {verdict} the {args.budget:g} ms budget")
    return 0 if worst_median <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
