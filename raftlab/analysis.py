"""Tables from a trace: who held which role when, every election, a summary per node.

Everything here is computed from ``cluster.trace`` alone (plain Python records; pandas is
only used by ``to_dataframe`` and only if it is installed). The plots draw these same records,
so a picture and a table never disagree::

    from raftlab.analysis import elections, node_summary, table
    print(table(elections(cluster.trace)))
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields
from typing import Any, Iterable, Optional, Sequence

__all__ = ["Span", "Partition", "Election", "NodeSummary", "OUTCOMES", "as_trace", "check_window",
           "node_count", "role_spans", "disconnect_spans", "partition_spans", "elections",
           "node_summary", "table", "to_dataframe"]

#: Outcomes of one candidacy (see ``Election``).
OUTCOMES = ("won", "lost", "split", "no majority", "crashed", "running")


@dataclass(frozen=True)
class Span:
    """Node ``node`` was in ``role`` ("follower", "candidate", "leader" or "crashed") at
    ``term`` from ``start`` to ``end`` ms."""

    node: int
    start: float
    end: float
    role: str
    term: int


@dataclass(frozen=True)
class Partition:
    """The network was split into ``groups`` from ``start`` to ``end`` ms."""

    start: float
    end: float
    groups: tuple[tuple[int, ...], ...]


@dataclass(frozen=True)
class Election:
    """One candidacy: ``candidate`` asked for votes in ``term`` from ``start`` to ``end`` ms.

    ``granted`` / ``denied`` are the voters that answered yes / no (the candidate's own vote is
    not among them; ``votes`` counts it). ``leader`` is the node that won ``term`` (or None).
    ``outcome``: "won"; "lost" (another node won this term); "split" (a split vote: no leader in
    this term, other candidates competed for it, and a majority of nodes answered this one, so
    the votes were divided); "no majority" (no leader, and no split: too few nodes answered,
    e.g. behind a partition, or they refused);
    "crashed" (the candidate crashed first); "running" (still a candidate when the trace ends).
    """

    term: int
    candidate: int
    start: float
    end: float
    granted: tuple[int, ...]
    denied: tuple[int, ...]
    outcome: str
    leader: Optional[int]

    @property
    def votes(self) -> int:
        """Votes the candidate holds: its own plus every granted one."""
        return 1 + len(self.granted)


@dataclass(frozen=True)
class NodeSummary:
    """What one node did over a trace. Times are ms; role times exclude time spent crashed."""

    node: int
    follower_ms: float
    candidate_ms: float
    leader_ms: float
    crashed_ms: float
    disconnected_ms: float
    timeouts: int
    terms_led: tuple[int, ...]
    votes_granted: int
    votes_denied: int
    crashes: int
    sent: int
    received: int
    last_term: int
    last_role: str


# ------------------------------------------------------------------ input helpers
def as_trace(obj: Any) -> Any:
    """The trace of a ``Cluster``, or ``obj`` itself if it already is a trace."""
    trace = getattr(obj, "trace", obj)
    if not hasattr(trace, "raw"):
        raise ValueError(f"expected a Cluster or a Trace, got {type(obj).__name__}")
    return trace


def check_window(trace: Any, start: Optional[float], end: Optional[float]) -> tuple[float, float]:
    """``(start, end)`` with defaults 0 and the trace's end; a bad window raises ValueError."""
    lo = 0.0 if start is None else start
    hi = trace.end_time if end is None else end
    for name, value in (("start", lo), ("end", hi)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) \
                or value < 0:
            raise ValueError(f"{name} must be a number of ms >= 0, got {value!r}")
    if lo > hi:
        raise ValueError(f"start {lo!r} ms is after end {hi!r} ms; need start <= end")
    return float(lo), float(hi)


def node_count(trace: Any) -> int:
    """``trace.n``, or (for a trace without it) one more than the highest node id seen."""
    if trace.n:
        return trace.n
    top = -1
    for raw in trace.raw:
        kind = raw[1]
        if kind in ("send", "deliver", "drop"):
            top = max(top, raw[2], raw[3])
        elif kind in ("state", "timeout", "vote", "crash", "restart", "disconnect", "connect"):
            top = max(top, raw[2])
    return top + 1


# ------------------------------------------------------------------ spans
def role_spans(trace: Any) -> list[Span]:
    """Each node's roles over time (plus "crashed" spans), in order of start time."""
    trace = as_trace(trace)
    end_time = trace.end_time
    open_: dict[int, list] = {}   # node -> [start, role, term]
    last_term: dict[int, int] = {}
    out: list[Span] = []

    def close(node: int, t: float) -> None:
        cur = open_.pop(node, None)
        if cur is not None and t > cur[0]:
            out.append(Span(node, cur[0], t, cur[1], cur[2]))

    for raw in trace.raw:
        kind = raw[1]
        if kind == "state":
            t, _, node, term, role = raw
            last_term[node] = term
            cur = open_.get(node)
            if cur is not None and cur[1] == role and cur[2] == term:
                continue
            close(node, t)
            open_[node] = [t, role, term]
        elif kind == "crash":
            t, node = raw[0], raw[2]
            close(node, t)
            open_[node] = [t, "crashed", last_term.get(node, 0)]
        elif kind == "restart":
            close(raw[2], raw[0])
    for node in sorted(open_):
        close(node, end_time)
    out.sort(key=lambda s: (s.start, s.node))
    return out


def disconnect_spans(trace: Any) -> list[tuple[int, float, float]]:
    """``(node, start, end)`` for each time a live node was cut off by ``disconnect``."""
    trace = as_trace(trace)
    open_: dict[int, float] = {}
    out = []
    for raw in trace.raw:
        kind = raw[1]
        if kind == "disconnect":
            open_.setdefault(raw[2], raw[0])
        elif kind in ("connect", "crash") and raw[2] in open_:
            start = open_.pop(raw[2])
            if raw[0] > start:
                out.append((raw[2], start, raw[0]))
    for node, start in sorted(open_.items()):
        if trace.end_time > start:
            out.append((node, start, trace.end_time))
    out.sort(key=lambda s: (s[1], s[0]))
    return out


def partition_spans(trace: Any) -> list[Partition]:
    """Each period the network was partitioned, with its groups."""
    trace = as_trace(trace)
    out = []
    current: Optional[tuple[float, tuple]] = None
    for raw in trace.raw:
        kind = raw[1]
        if kind in ("partition", "heal"):
            if current is not None:
                out.append(Partition(current[0], raw[0], current[1]))
                current = None
            if kind == "partition":
                current = (raw[0], tuple(tuple(g) for g in raw[2]))
    if current is not None:
        out.append(Partition(current[0], trace.end_time, current[1]))
    return out


# ------------------------------------------------------------------ elections
def elections(trace: Any) -> list[Election]:
    """Every candidacy in the trace, in order of start time."""
    trace = as_trace(trace)
    n = node_count(trace)
    spans = role_spans(trace)
    by_node: dict[int, list[Span]] = {}
    for s in spans:
        by_node.setdefault(s.node, []).append(s)
    leader_of: dict[int, int] = {}
    candidates_of: dict[int, set[int]] = {}
    for s in spans:
        if s.role == "leader":
            leader_of.setdefault(s.term, s.node)
        elif s.role == "candidate":
            candidates_of.setdefault(s.term, set()).add(s.node)
    votes: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
    for raw in trace.raw:
        if raw[1] == "vote":
            _, _, voter, candidate, term, granted = raw
            yes, no = votes.setdefault((term, candidate), ([], []))
            (yes if granted else no).append(voter)
    # A candidacy that starts and ends at one instant (a one-node cluster) has no span of its
    # own; its zero-length moment still counts as an election.
    instant = [(raw[0], raw[2], raw[3]) for raw in trace.raw
               if raw[1] == "state" and raw[4] == "candidate"]
    out: list[Election] = []
    seen = set()
    for node, lane in by_node.items():
        for k, s in enumerate(lane):
            if s.role != "candidate":
                continue
            seen.add((s.term, node))
            nxt = lane[k + 1] if k + 1 < len(lane) else None
            out.append(_election(s, nxt, votes, leader_of, candidates_of, n))
    for t, node, term in instant:
        if (term, node) not in seen:
            seen.add((term, node))
            s = Span(node, t, t, "candidate", term)
            out.append(_election(s, Span(node, t, t, "leader", term)
                                 if leader_of.get(term) == node else None,
                                 votes, leader_of, candidates_of, n))
    out.sort(key=lambda e: (e.start, e.candidate))
    return out


def _election(s: Span, nxt: Optional[Span], votes: dict, leader_of: dict,
              candidates_of: dict, n: int) -> Election:
    yes, no = votes.get((s.term, s.node), ([], []))
    leader = leader_of.get(s.term)
    if nxt is not None and nxt.role == "leader" and nxt.term == s.term:
        outcome = "won"
    elif leader is not None:
        outcome = "lost"
    elif nxt is not None and nxt.role == "crashed":
        outcome = "crashed"
    elif nxt is None:
        outcome = "running"
    elif len(candidates_of.get(s.term, ())) > 1 and 2 * (1 + len(set(yes)) + len(set(no))) > n:
        outcome = "split"
    else:
        outcome = "no majority"
    return Election(s.term, s.node, s.start, s.end, tuple(sorted(set(yes))),
                    tuple(sorted(set(no))), outcome, leader)


# ------------------------------------------------------------------ per-node summary
def node_summary(trace: Any) -> list[NodeSummary]:
    """One ``NodeSummary`` per node: time in each role, timeouts, votes, crashes, messages."""
    trace = as_trace(trace)
    n = node_count(trace)
    role_ms = [{"follower": 0.0, "candidate": 0.0, "leader": 0.0, "crashed": 0.0}
               for _ in range(n)]
    led: list[list[int]] = [[] for _ in range(n)]
    last = [(0, "follower")] * n
    for s in role_spans(trace):
        role_ms[s.node][s.role] += s.end - s.start
        if s.role == "leader" and s.term not in led[s.node]:
            led[s.node].append(s.term)
        last[s.node] = (s.term, s.role)
    cut = [0.0] * n
    for node, start, end in disconnect_spans(trace):
        cut[node] += end - start
    counts = {k: [0] * n for k in ("timeout", "yes", "no", "crash", "send", "deliver")}
    for raw in trace.raw:
        kind = raw[1]
        if kind == "timeout" or kind == "crash":
            counts[kind][raw[2]] += 1
        elif kind == "vote":
            counts["yes" if raw[5] else "no"][raw[2]] += 1
        elif kind == "send":
            counts["send"][raw[2]] += 1
        elif kind == "deliver":
            counts["deliver"][raw[3]] += 1
    return [NodeSummary(i, round(role_ms[i]["follower"], 3), round(role_ms[i]["candidate"], 3),
                        round(role_ms[i]["leader"], 3), round(role_ms[i]["crashed"], 3),
                        round(cut[i], 3), counts["timeout"][i], tuple(led[i]), counts["yes"][i],
                        counts["no"][i], counts["crash"][i], counts["send"][i],
                        counts["deliver"][i], last[i][0], last[i][1])
            for i in range(n)]


# ------------------------------------------------------------------ display
def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "-"
    if value is None:
        return "-"
    return str(value)


def table(records: Sequence[Any], columns: Optional[Iterable[str]] = None) -> str:
    """A plain-text table of dataclass records (e.g. ``elections(trace)``), for printing."""
    if not records:
        return "(no rows)"
    names = [f.name for f in fields(records[0])]
    if columns is not None:
        columns = list(columns)
        unknown = [c for c in columns if c not in names]
        if unknown:
            raise ValueError(f"unknown column(s) {unknown}; columns are {names}")
        names = columns
    rows = [[_cell(getattr(r, c)) for c in names] for r in records]
    widths = [max(len(c), *(len(row[k]) for row in rows)) for k, c in enumerate(names)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(names, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def to_dataframe(records: Sequence[Any]) -> Any:
    """The records as a pandas DataFrame (needs pandas, an optional extra)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_dataframe needs pandas (pip install pandas); "
                          "table(records) prints the same rows without it") from None
    if not records:
        return pd.DataFrame()
    names = [f.name for f in fields(records[0])]
    return pd.DataFrame([astuple(r) for r in records], columns=names)
