"""A running summary of a cluster, folded from its trace: who is up, role, term, vote, heartbeat.

``TraceDigest`` reads the trace incrementally: ``update`` folds only the events added since
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

from .analysis import MatchIndexFold
from .formatting import format_ms
from .safety import SafetyMonitor
from .trace import KINDS, as_event
from .validation import check_int

__all__ = ["NodeStatus", "TraceDigest", "describe_event"]

#: Kinds besides ``next_index`` that change what ``log_grid`` draws (``log_changes``).
_LOG_VIEW_KINDS = frozenset({"append", "truncate", "commit", "state", "crash", "restart"})
#: Whether traces record every node's log (``append``, ``truncate``) and commit index
#: (``commit``); when they do not, the status shows only what nodes applied.
LOG_EVENTS = "append" in KINDS
COMMIT_EVENTS = "commit" in KINDS


@dataclass(frozen=True)
class NodeStatus:
    """One node as the trace tells it at time ``now``.

    ``role`` is "follower", "candidate", "leader" or "down"; ``voted_for`` is the node it voted
    for in its current term (itself if it stood as candidate), or None;
    ``since_heartbeat`` is ms since an AppendEntries was last delivered to it (None if never);
    ``applied`` is the last index its current instance applied (``apply`` events; 0 after a
    restart, whose instance applies again from the start). ``log_length`` and ``commit_index``
    come from ``append`` / ``truncate`` / ``commit`` events (an entry added at an index makes
    the log that long; a truncation from an index leaves it one shorter; the commit index is
    volatile, 0 after a restart); both are None when the trace's format has no such events.
    """

    node: int
    role: str
    term: int
    voted_for: Optional[int]
    since_heartbeat: Optional[float]
    applied: int = 0
    log_length: Optional[int] = None
    commit_index: Optional[int] = None


class TraceDigest:
    """Folds a trace's events into per-node status; call ``update()`` after the trace grows.

    ``recent`` keeps the last ``last`` events, leaving out AppendEntries traffic (heartbeats,
    and the ``next_index`` events that go with them) unless ``heartbeats`` is true, and timer
    bookkeeping (``timer`` events: set, cancel, fire) unless ``timers`` is true; an election
    timer that fires is still shown, as its ``timeout`` event. ``violations`` is the election-safety checker's verdict (``SafetyMonitor``)."""

    def __init__(self, trace: Any, last: int = 12, heartbeats: bool = False,
                 timers: bool = False) -> None:
        check_int("last (how many recent events to keep)", last, 1)
        self.trace = trace
        self.n: int = trace.n or 0
        self._pos = 0
        self.role: list[str] = ["follower"] * self.n
        self.term: list[int] = [0] * self.n
        self.alive: list[bool] = [True] * self.n
        self.last_heartbeat: list[Optional[float]] = [None] * self.n
        self._votes: dict[tuple[int, int], int] = {}   # (voter, term) -> candidate
        self.applied: list[int] = [0] * self.n
        self.log_length: list[int] = [0] * self.n
        self.commit_index: list[int] = [0] * self.n
        self.heartbeats = heartbeats
        self.timers = timers
        self.recent: deque[Any] = deque(maxlen=last)  # named events
        #: How many events so far change what ``raftlab.plots.log_grid`` draws (log events,
        #: roles and terms, crashes and restarts, ``next_index``, a reply that raises a
        #: leader's matchIndex): a view redraws the logs only when it grew.
        self.log_changes = 0
        self._matches = MatchIndexFold()
        self._safety = SafetyMonitor(trace)
        self.violations: list[str] = self._safety.violations

    def update(self) -> "TraceDigest":
        """Fold the events recorded since the last call, and check just those for safety."""
        end = len(self.trace)
        if end == self._pos:
            return self
        role, term, alive, hb, votes = self.role, self.term, self.alive, self.last_heartbeat, \
            self._votes
        keep = self.recent.append
        match = self._matches.feed
        for e in self.trace[self._pos:end]:
            kind = e.kind
            if kind == "deliver" or kind == "send" or kind == "drop":
                if e.msg.startswith("AppendEntries") and match(e):
                    self.log_changes += 1
                if kind == "deliver" and e.msg == "AppendEntries":
                    hb[e.dst] = e.time
                if self.heartbeats or not e.msg.startswith("AppendEntries"):
                    keep(e)
                continue
            if kind == "timer":
                if self.timers:
                    keep(e)
                continue
            if kind == "next_index":   # replication bookkeeping, shown with the heartbeats
                match(e)
                self.log_changes += 1
                if self.heartbeats:
                    keep(e)
                continue
            keep(e)
            if kind in _LOG_VIEW_KINDS:
                self.log_changes += 1
                match(e)
            if kind == "state":
                term[e.node] = e.term
                role[e.node] = e.role
                alive[e.node] = True
                if e.role == "candidate":
                    votes[(e.node, e.term)] = e.node
            elif kind == "vote":
                if e.granted:
                    votes.setdefault((e.node, e.term), e.candidate)
            elif kind == "apply":
                self.applied[e.node] = e.index
            elif kind == "start" or kind == "append":
                self.log_length[e.node] = e.index
            elif kind == "truncate":
                self.log_length[e.node] = e.index - 1
            elif kind == "commit":
                self.commit_index[e.node] = e.index
            elif kind == "crash":
                alive[e.node] = False
            elif kind == "restart":
                self.applied[e.node] = self.commit_index[e.node] = 0
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
                                  self.voted_for(i), None if hb is None else now - hb,
                                  self.applied[i],
                                  self.log_length[i] if LOG_EVENTS else None,
                                  self.commit_index[i] if COMMIT_EVENTS else None))
        return out

    def leaders(self) -> list[int]:
        """Live nodes whose last state event says leader (more than one is possible for a
        moment: an old leader cut off from the cluster has not yet heard of the new term)."""
        return [i for i in range(self.n) if self.alive[i] and self.role[i] == "leader"]


def describe_event(e: Any) -> str:
    """One line of text for a trace event (named, as ``trace[i]`` gives it, or a plain
    ``(time, kind, *fields)`` tuple)."""
    e = as_event(e)
    kind = e.kind
    if kind == "state":
        text = f"node {e.node} is {e.role} in term {e.term}"
    elif kind == "timeout":
        text = f"node {e.node}'s election timer fired (term {e.term})"
    elif kind == "vote":
        text = (f"node {e.node} {'granted' if e.granted else 'refused'} its vote to node "
                f"{e.candidate} in term {e.term}")
    elif kind in ("send", "deliver"):
        text = f"{kind} {e.msg} {e.src}→{e.dst} (term {e.term})"
    elif kind == "drop":
        text = f"drop {e.msg} {e.src}→{e.dst} (term {e.term}, {e.reason})"
    elif kind in ("crash", "restart", "disconnect", "connect"):
        text = f"{kind} node {e.node}"
    elif kind in ("partition", "heal"):
        text = f"{kind} " + " | ".join(" ".join(map(str, g)) for g in e.groups)
    elif kind in ("cut", "restore"):
        text = f"{kind} link {e.a}{'→' if e.one_way else '↔'}{e.b}"
    elif kind == "start":
        text = f"node {e.node} accepted {e.command!r} at index {e.index} (term {e.term})"
    elif kind == "apply":
        text = f"node {e.node} applied {e.command!r} at index {e.index}"
    elif kind == "append":
        text = f"node {e.node} appended an entry of term {e.term} at index {e.index}"
    elif kind == "truncate":
        text = f"node {e.node} removed its log entries from index {e.index} on"
    elif kind == "commit":
        text = f"node {e.node}'s commit index is now {e.index}"
    elif kind == "next_index":
        text = (f"leader {e.node} sends node {e.peer} entries from index {e.index} "
                f"(nextIndex, term {e.term})")
    elif kind == "config":
        text = f"set {e.setting} = {e.value!r}"
    elif kind == "timer":
        if e.action == "set":
            text = f"node {e.node} set its {e.name} timer (due {format_ms(e.due)} ms)"
        elif e.action == "fire":
            text = f"node {e.node}'s {e.name} timer fired"
        else:
            text = f"node {e.node} cancelled its {e.name} timer"
    elif kind == "note":
        text = f"node {e.node}: {e.text}"
    else:
        text = f"{kind} {tuple(e[2:])}"
    return f"{format_ms(e.time):>10} ms  {text}"
