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

import inspect
from typing import Any

from .cluster import Cluster
from .status import format_ms

__all__ = ["Recorder", "constructor_args", "constructor_call", "is_fresh"]

#: Cluster's own keyword defaults, read from its signature so they cannot drift apart.
_DEFAULTS = {name: p.default for name, p in inspect.signature(Cluster).parameters.items()
             if p.default is not inspect.Parameter.empty}


def plain_number(x: Any) -> Any:
    """``300.0`` -> ``300`` so the script reads like a person wrote it (same value)."""
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _pair(v: Any) -> tuple:
    return tuple(plain_number(x) for x in v)


def constructor_args(cluster: Cluster) -> dict[str, Any]:
    """The keyword arguments (besides ``n`` and ``seed``) that built ``cluster``, read from
    ``trace.meta`` and ``cluster.node_class``; only those that differ from the defaults."""
    meta = cluster.trace.meta
    given = {"reliable": bool(meta["reliable"]),
             "election_timeout": _pair(meta["election_timeout"]),
             "heartbeat_interval": plain_number(meta["heartbeat_interval"]),
             "latency": _pair(meta["latency"]),
             "persist_delay": _pair(meta["persist_delay"]),
             "long_delays": bool(meta["long_delays"]),
             "node_class": cluster.node_class}
    return {k: v for k, v in given.items() if v != _DEFAULTS[k]}


def constructor_call(cluster: Cluster, seed: int | None = None) -> tuple[str, str]:
    """``(imports, "Cluster(5, seed=3, ...)")`` that builds a cluster like ``cluster``."""
    kwargs = constructor_args(cluster)
    args = [repr(cluster.n), f"seed={cluster.seed if seed is None else seed!r}"]
    imports = "from raftlab import Cluster"
    for name, value in kwargs.items():
        if name == "node_class":
            imports += f"\nfrom {value.__module__} import {value.__qualname__}"
            value = value.__qualname__
            args.append(f"{name}={value}")
        else:
            args.append(f"{name}={value!r}")
    return imports, f"Cluster({', '.join(args)})"


def is_fresh(cluster: Cluster) -> bool:
    """True if nothing has happened to ``cluster`` yet (time 0, only the boot events)."""
    raw = cluster.trace.raw
    return cluster.now == 0 and all(ev[0] == 0 and ev[1] == "state" for ev in raw)


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
