"""A running summary of a cluster, folded from its trace: who is up, role, term, vote, heartbeat.

``TraceDigest`` reads ``trace.raw`` incrementally: ``update`` folds only the events added since
the last call, and so does its election-safety monitor, so a panel that redraws after every
action reads each event a bounded number of times however long the session. Nothing here looks
inside the nodes::

    digest = TraceDigest(cluster.trace)
    for row in digest.update().rows(now=cluster.now):
        print(row)
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Optional

from .formatting import format_ms
from .safety import SafetyMonitor

__all__ = ["NodeStatus", "TraceDigest", "describe_event"]


@dataclass(frozen=True)
class NodeStatus:
    """One node as the trace tells it at time ``now``.

    ``role`` is "follower", "candidate", "leader" or "down"; ``voted_for`` is the node it voted
    for in its current term (itself if it stood as candidate), or None;
    ``since_heartbeat`` is ms since an AppendEntries was last delivered to it (None if never).
    """

    node: int
    role: str
    term: int
    voted_for: Optional[int]
    since_heartbeat: Optional[float]


class TraceDigest:
    """Folds a trace's events into per-node status; call ``update()`` after the trace grows.

    ``recent`` keeps the last ``last`` events, leaving out AppendEntries traffic (heartbeats)
    unless ``heartbeats`` is true, and timer bookkeeping (``timer`` events: set, cancel, fire)
    unless ``timers`` is true; an election timer that fires is still shown, as its ``timeout``
    event. ``violations`` is the election-safety checker's verdict (``SafetyMonitor``)."""

    def __init__(self, trace: Any, last: int = 12, heartbeats: bool = False,
                 timers: bool = False) -> None:
        if isinstance(last, bool) or not isinstance(last, int) or last < 1:
            raise ValueError(f"last must be an int >= 1 (how many recent events to keep), "
                             f"got {last!r}")
        self.trace = trace
        self.n: int = trace.n or 0
        self._pos = 0
        self.role: list[str] = ["follower"] * self.n
        self.term: list[int] = [0] * self.n
        self.alive: list[bool] = [True] * self.n
        self.last_heartbeat: list[Optional[float]] = [None] * self.n
        self._votes: dict[tuple[int, int], int] = {}   # (voter, term) -> candidate
        self.heartbeats = heartbeats
        self.timers = timers
        self.recent: deque[tuple] = deque(maxlen=last)
        self._safety = SafetyMonitor(trace)
        self.violations: list[str] = self._safety.violations

    def update(self) -> "TraceDigest":
        """Fold the events recorded since the last call, and check just those for safety."""
        raw = self.trace.raw
        end = len(raw)
        if end == self._pos:
            return self
        role, term, alive, hb, votes = self.role, self.term, self.alive, self.last_heartbeat, \
            self._votes
        keep = self.recent.append
        timers = self.timers
        for i in range(self._pos, end):
            ev = raw[i]
            kind = ev[1]
            if kind == "deliver" or kind == "send" or kind == "drop":
                if ev[4] == "AppendEntries" and kind == "deliver":
                    hb[ev[3]] = ev[0]
                if self.heartbeats or not ev[4].startswith("AppendEntries"):
                    keep(ev)
                continue
            if kind == "timer":
                if timers:
                    keep(ev)
                continue
            keep(ev)
            if kind == "state":
                node = ev[2]
                term[node] = ev[3]
                role[node] = ev[4]
                alive[node] = True
                if ev[4] == "candidate":
                    votes[(node, ev[3])] = node
            elif kind == "vote":
                if ev[5]:
                    votes.setdefault((ev[2], ev[4]), ev[3])
            elif kind == "crash":
                alive[ev[2]] = False
        self._pos = end
        self.violations = self._safety.update()
        return self

    def voted_for(self, node: int) -> Optional[int]:
        """Whom ``node`` voted for in its current term (from vote and candidate events)."""
        return self._votes.get((node, self.term[node]))

    def rows(self, now: float) -> list[NodeStatus]:
        """The status of every node at time ``now`` (call ``update()`` first)."""
        out = []
        for i in range(self.n):
            hb = self.last_heartbeat[i]
            out.append(NodeStatus(i, self.role[i] if self.alive[i] else "down", self.term[i],
                                  self.voted_for(i), None if hb is None else now - hb))
        return out

    def leaders(self) -> list[int]:
        """Live nodes whose last state event says leader (more than one is possible for a
        moment: an old leader cut off from the cluster has not yet heard of the new term)."""
        return [i for i in range(self.n) if self.alive[i] and self.role[i] == "leader"]


def describe_event(raw: tuple) -> str:
    """One line of text for a raw trace event ``(time, kind, *fields)``."""
    time, kind, *f = raw
    if kind == "state":
        text = f"node {f[0]} is {f[2]} in term {f[1]}"
    elif kind == "timeout":
        text = f"node {f[0]}'s election timer fired (term {f[1]})"
    elif kind == "vote":
        text = (f"node {f[0]} {'granted' if f[3] else 'refused'} its vote to node {f[1]} "
                f"in term {f[2]}")
    elif kind in ("send", "deliver"):
        text = f"{kind} {f[2]} {f[0]}→{f[1]} (term {f[3]})"
    elif kind == "drop":
        text = f"drop {f[2]} {f[0]}→{f[1]} (term {f[3]}, {f[5]})"
    elif kind in ("crash", "restart", "disconnect", "connect"):
        text = f"{kind} node {f[0]}"
    elif kind in ("partition", "heal"):
        text = f"{kind} " + " | ".join(" ".join(map(str, g)) for g in f[0])
    elif kind == "start":
        text = f"node {f[0]} accepted {f[3]!r} at index {f[1]} (term {f[2]})"
    elif kind == "apply":
        text = f"node {f[0]} applied {f[2]!r} at index {f[1]}"
    elif kind == "config":
        text = f"set {f[0]} = {f[1]!r}"
    elif kind == "timer":
        if f[2] == "set":
            text = f"node {f[0]} set its {f[1]} timer (due {format_ms(f[3])} ms)"
        elif f[2] == "fire":
            text = f"node {f[0]}'s {f[1]} timer fired"
        else:
            text = f"node {f[0]} cancelled its {f[1]} timer"
    elif kind == "note":
        text = f"node {f[0]}: {f[1]}"
    else:
        text = f"{kind} {f}"
    return f"{format_ms(time):>10} ms  {text}"
