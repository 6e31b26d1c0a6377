"""Record a session of Cluster calls and write it back as a Python script that replays it.

Each entry is ``(virtual time, call text)``, the call written exactly as a user would type it
(``c.crash(2)``, ``c.partition([0, 1], [2, 3, 4])``). Consecutive ``c.run_for`` steps are merged
(virtual time is exact integer microseconds, so splitting a run changes nothing). Running the
script on a fresh interpreter rebuilds the same cluster and the same trace::

    rec = Recorder(cluster)
    rec.call("crash", 2)
    print(rec.script())
"""

from __future__ import annotations

from typing import Any

from . import config
from .cluster import Cluster
from .formatting import format_ms, plain_number

__all__ = ["Recorder", "constructor_call", "is_fresh"]

def constructor_call(cluster: Cluster, seed: int | None = None) -> tuple[str, str]:
    """``(imports, "Cluster(5, seed=3, ...)")`` that builds a cluster like ``cluster``."""
    return config.constructor_call(cluster.n, cluster.seed if seed is None else seed,
                                   cluster.constructor_args())


def is_fresh(cluster: Cluster) -> bool:
    """True if nothing has happened to ``cluster`` yet (time 0, only the boot events: each
    node's first state and election timer)."""
    return cluster.now == 0 and all(e.time == 0 and e.kind in ("state", "timer")
                                    for e in cluster.trace)


class Recorder:
    """The calls made on one cluster, with the virtual time of each."""

    def __init__(self, cluster: Cluster, var: str = "c") -> None:
        if not var.isidentifier():
            raise ValueError(f"var must be a Python identifier, got {var!r}")
        self.var = var
        self.imports, self.constructor = constructor_call(cluster)
        self.fresh = is_fresh(cluster)
        self.start_time = cluster.now
        self.entries: list[tuple[float, str]] = []

    def call(self, time: float, method: str, *args: Any, **kwargs: Any) -> str:
        """Record ``c.method(*args, **kwargs)`` made at virtual ``time``; returns its text."""
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        text = f"{self.var}.{method}({', '.join(parts)})"
        self.entries.append((time, text))
        return text

    def script(self) -> str:
        """Python code that replays the session on a fresh cluster (same trace)."""
        lines = [self.imports, "", f"{self.var} = {self.constructor}"]
        if not self.fresh:
            lines.insert(0, f"# NOTE: the cluster had already been used before recording began "
                            f"(t={format_ms(self.start_time)} ms); those calls are not in this script, "
                            f"so its trace will differ.")
        pending = 0
        prefix = f"{self.var}.run_for("
        for time, text in self.entries:
            step = _step(text[len(prefix):-1]) if text.startswith(prefix) else None
            if isinstance(step, int):
                pending += step  # whole ms: exact, so merged steps run the same
                continue
            if pending:
                lines.append(f"{prefix}{plain_number(pending)!r})")
                pending = 0
            lines.append(f"{text}  # t={format_ms(time)} ms")
        if pending:
            lines.append(f"{prefix}{plain_number(pending)!r})")
        return "\n".join(lines) + "\n"


def _step(arg: str) -> int | float:
    value = float(arg)
    return int(value) if value.is_integer() and abs(value) < 2**53 else value
