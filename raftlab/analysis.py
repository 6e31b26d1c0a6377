"""Tables from a trace: who held which role when, every election, a summary per node.

Everything here is computed from ``cluster.trace`` alone (plain Python records; pandas is
only used by ``to_dataframe`` and only if it is installed). The plots draw these same records,
so a picture and a table never disagree::

    from raftlab.analysis import elections, node_summary, table
    print(table(elections(cluster.trace)))
"""

from __future__ import annotations

import bisect
import math
import weakref
from collections import Counter
from dataclasses import astuple, dataclass, fields
from operator import attrgetter
from typing import Any, Iterable, NamedTuple, Optional, Sequence

from .formatting import cell_text, text_table
from .validation import check_number

__all__ = ["Span", "Partition", "Election", "PreVoteRound", "NodeSummary", "VoteAnswer",
           "OUTCOMES", "PRE_VOTE_OUTCOMES", "as_trace", "check_window", "index_window",
           "node_count", "role_spans", "disconnect_spans", "partition_spans", "LinkCut",
           "link_cut_spans", "message_fates", "vote_answers", "pre_vote_answers", "elections",
           "pre_vote_rounds", "node_summary", "table", "to_dataframe", "LogView", "log_views",
           "agreement", "next_indices", "match_indices", "MatchIndexFold"]

#: Outcomes of one candidacy (see ``Election``).
OUTCOMES = ("won", "lost", "split", "no majority", "crashed", "running", "two leaders")
#: Outcomes of one pre-vote round (see ``PreVoteRound``).
PRE_VOTE_OUTCOMES = ("promoted", "no majority", "stepped down", "crashed", "running")


@dataclass(frozen=True)
class Span:
    """Node ``node`` was in ``role`` ("follower", "precandidate", "candidate", "leader" or
    "crashed") at ``term`` from ``start`` to ``end`` ms."""

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
class LinkCut:
    """What travelled ``a -> b`` was lost to ``cut_link`` from ``start`` to ``end`` ms, and so
    was what travelled ``b -> a`` unless ``one_way`` (a cut both ways has ``a < b``)."""

    a: int
    b: int
    start: float
    end: float
    one_way: bool


@dataclass(frozen=True)
class Election:
    """One candidacy: ``candidate`` asked for votes in ``term`` from ``start`` to ``end`` ms.

    ``granted`` / ``denied`` are the voters whose yes / no reached the candidate while it was
    still in ``term`` (a RequestVoteReply delivered to it as a candidate, or as the leader it
    became, before it moved to a later term or crashed); the candidate's own vote is not among
    them, ``votes`` counts it. ``not_counted`` are voters that said yes but whose yes never
    reached the candidate in that term: the reply was dropped, was still in flight at the end
    of the trace, or arrived after the candidate had moved on (e.g. timed out into the next
    term), so it could not count it. ``leader`` is the first node that became leader in
    ``term`` (or None).
    ``outcome``: "won"; "lost" (another node won this term); "split" (a split vote: no leader in
    this term, other candidates competed for it, and a majority of nodes answered this one, so
    the votes were divided); "no majority" (no leader, and no split: too few answers arrived,
    e.g. behind a partition or on a lossy network, or the voters refused);
    "crashed" (the candidate crashed first); "running" (still a candidate when the trace ends);
    "two leaders" (this candidate became leader of a term that another node also led: an
    election-safety violation, shown on every winner of that term).
    """

    term: int
    candidate: int
    start: float
    end: float
    granted: tuple[int, ...]
    not_counted: tuple[int, ...]
    denied: tuple[int, ...]
    outcome: str
    leader: Optional[int]

    @property
    def votes(self) -> int:
        """Votes the candidate holds: its own plus every granted one that reached it."""
        return 1 + len(self.granted)


@dataclass(frozen=True)
class PreVoteRound:
    """One pre-vote round (the ``pre_vote`` variant): ``candidate``, a precandidate at term
    ``term - 1``, asked for pre-votes for ``term`` from ``start`` to ``end`` ms.

    A round is no election: it does not raise a term, so ``elections`` lists only the
    candidacies that rounds led to. A round starts when an election timeout makes the node a
    precandidate, or makes a precandidate ask again; ``granted`` / ``denied`` are the voters
    whose PreVoteReply reached it during the round (its own pre-vote not among them).
    ``outcome``: "promoted" (a majority granted: it became a candidate of ``term``); "no
    majority" (its timer started another round or an election first); "stepped down" (it
    became a follower: it heard from a leader, or of a higher term); "crashed"; "running".
    """

    term: int
    candidate: int
    start: float
    end: float
    granted: tuple[int, ...]
    denied: tuple[int, ...]
    outcome: str


@dataclass(frozen=True)
class NodeSummary:
    """What one node did over a trace. Times are ms; role times exclude time spent crashed.
    ``timeouts`` counts every election the node's timer started, pre-vote rounds included;
    ``pre_vote_rounds`` those that were pre-vote rounds (``PreVoteRound``)."""

    node: int
    follower_ms: float
    precandidate_ms: float
    candidate_ms: float
    leader_ms: float
    crashed_ms: float
    disconnected_ms: float
    timeouts: int
    pre_vote_rounds: int
    terms_led: tuple[int, ...]
    votes_granted: int
    votes_denied: int
    crashes: int
    sent: int
    received: int
    last_term: int
    last_role: str


class VoteAnswer(NamedTuple):
    """A ``vote`` (or ``prevote``) event and what became of the RequestVoteReply (or
    PreVoteReply) that carried it back."""

    vote: Any                     #: the ``vote`` event: ``.node`` answered ``.candidate``
    reply: Optional[int]          #: message id of the reply (None: no reply was sent)
    fate: Optional[str]           #: "deliver" or "drop"; None if still in flight at the end
    fate_time: Optional[float]    #: when the reply was delivered or dropped

    @property
    def received(self) -> bool:
        """Whether the answer reached the candidate."""
        return self.fate == "deliver"


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
        check_number(name, value, 0, unit="ms", finite=False)
    if lo > hi:
        raise ValueError(f"start {lo!r} ms is after end {hi!r} ms; need start <= end")
    return float(lo), float(hi)


def _time(event: Any) -> float:
    return event.time


def index_window(trace: Any, start: float, end: float) -> tuple[int, int]:
    """Indices ``[lo, hi)`` of the events with ``start <= time <= end`` (a binary search: the
    events are in time order), so that a loop over a window need not visit the whole trace."""
    trace = as_trace(trace)
    return (bisect.bisect_left(trace, start, key=_time),
            bisect.bisect_right(trace, end, key=_time))


_NODE_FIELDS = ("node", "src", "dst", "candidate", "a", "b")


def node_count(trace: Any) -> int:
    """``trace.n``, or (for a trace without it) one more than the highest node id seen."""
    if trace.n:
        return trace.n
    top = -1
    for event in trace:
        for name in _NODE_FIELDS:
            value = getattr(event, name, None)
            if isinstance(value, int) and not isinstance(value, bool) and value > top:
                top = value
    return top + 1


# ------------------------------------------------------------------ spans
class _SpanFold:
    """Role, disconnection, partition and link-cut spans folded from one trace's events. Traces only
    grow, so a fold is kept per trace and extended with just the events added since its last
    use: a panel that redraws the timeline after every action reads each event once."""

    KINDS = ("state", "crash", "restart", "disconnect", "connect", "partition", "heal", "cut",
             "restore")

    def __init__(self) -> None:
        self.seen = 0
        self.roles: list[Span] = []
        self.open_roles: dict[int, tuple[float, str, int]] = {}  # node -> (start, role, term)
        self.last_term: dict[int, int] = {}
        self.cuts: list[tuple[int, float, float]] = []
        self.open_cuts: dict[int, float] = {}
        self.partitions: list[Partition] = []
        self.open_partition: Optional[tuple[float, tuple]] = None
        self.links: list[tuple[int, int, float, float]] = []   # (a, b, start, end): a -> b cut
        self.open_links: dict[tuple[int, int], float] = {}

    def update(self, trace: Any) -> "_SpanFold":
        end = len(trace)
        if end > self.seen:
            for e in trace.of(*self.KINDS, start=self.seen):
                getattr(self, "_" + e.kind)(e)
            self.seen = end
        return self

    def _close_role(self, node: int, t: float) -> None:
        cur = self.open_roles.pop(node, None)
        if cur is not None and t > cur[0]:
            self.roles.append(Span(node, cur[0], t, cur[1], cur[2]))

    def _state(self, e: Any) -> None:
        self.last_term[e.node] = e.term
        cur = self.open_roles.get(e.node)
        if cur is not None and cur[1] == e.role and cur[2] == e.term:
            return
        self._close_role(e.node, e.time)
        self.open_roles[e.node] = (e.time, e.role, e.term)

    def _crash(self, e: Any) -> None:
        self._close_role(e.node, e.time)
        self.open_roles[e.node] = (e.time, "crashed", self.last_term.get(e.node, 0))
        self._connect(e)  # a crash ends a disconnection (a restarted node is connected again)

    def _restart(self, e: Any) -> None:
        self._close_role(e.node, e.time)

    def _disconnect(self, e: Any) -> None:
        self.open_cuts.setdefault(e.node, e.time)

    def _connect(self, e: Any) -> None:
        start = self.open_cuts.pop(e.node, None)
        if start is not None and e.time > start:
            self.cuts.append((e.node, start, e.time))

    def _partition(self, e: Any) -> None:
        self._heal(e)
        self.open_partition = (e.time, tuple(tuple(g) for g in e.groups))

    def _heal(self, e: Any) -> None:
        if self.open_partition is not None:
            self.partitions.append(Partition(self.open_partition[0], e.time,
                                             self.open_partition[1]))
            self.open_partition = None


    def _cut(self, e: Any) -> None:
        for link in ((e.a, e.b),) if e.one_way else ((e.a, e.b), (e.b, e.a)):
            self.open_links.setdefault(link, e.time)

    def _restore(self, e: Any) -> None:
        for link in ((e.a, e.b),) if e.one_way else ((e.a, e.b), (e.b, e.a)):
            start = self.open_links.pop(link, None)
            if start is not None and e.time > start:
                self.links.append((*link, start, e.time))


_FOLDS: "weakref.WeakKeyDictionary[Any, _SpanFold]" = weakref.WeakKeyDictionary()


def _spans(trace: Any) -> _SpanFold:
    fold = _FOLDS.get(trace)
    if fold is None:
        fold = _FOLDS[trace] = _SpanFold()
    return fold.update(trace)


def role_spans(trace: Any) -> list[Span]:
    """Each node's roles over time (plus "crashed" spans), in order of start time."""
    trace = as_trace(trace)
    fold, end_time = _spans(trace), trace.end_time
    out = list(fold.roles)
    out += [Span(node, start, end_time, role, term)
            for node, (start, role, term) in sorted(fold.open_roles.items()) if end_time > start]
    out.sort(key=lambda s: (s.start, s.node))
    return out


def disconnect_spans(trace: Any) -> list[tuple[int, float, float]]:
    """``(node, start, end)`` for each time a live node was cut off by ``disconnect``."""
    trace = as_trace(trace)
    fold, end_time = _spans(trace), trace.end_time
    out = list(fold.cuts)
    out += [(node, start, end_time) for node, start in sorted(fold.open_cuts.items())
            if end_time > start]
    out.sort(key=lambda s: (s[1], s[0]))
    return out


def partition_spans(trace: Any) -> list[Partition]:
    """Each period the network was partitioned, with its groups."""
    trace = as_trace(trace)
    fold = _spans(trace)
    out = list(fold.partitions)
    if fold.open_partition is not None:
        out.append(Partition(fold.open_partition[0], trace.end_time, fold.open_partition[1]))
    return out


def link_cut_spans(trace: Any) -> list[LinkCut]:
    """Each period a link was cut by ``cut_link``, in order of start time. The two directions
    of a link are folded together: a period with both cut is one ``LinkCut`` with
    ``one_way=False``; a period with one direction cut is a ``LinkCut`` from the sending node
    ``a`` with ``one_way=True`` (so a two-way cut restored one way at a time reads as a two-way
    span followed by a one-way one)."""
    trace = as_trace(trace)
    fold, end_time = _spans(trace), trace.end_time
    directed: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for a, b, start, end in fold.links:
        directed.setdefault((a, b), []).append((start, end))
    for (a, b), start in fold.open_links.items():
        if end_time > start:
            directed.setdefault((a, b), []).append((start, end_time))
    out: list[LinkCut] = []
    for x, y in sorted({(min(a, b), max(a, b)) for a, b in directed}):
        fwd, bwd = directed.get((x, y), []), directed.get((y, x), [])
        times = sorted({t for s in fwd + bwd for t in s})
        current: Optional[list] = None   # [a, b, start, end, one_way] being extended
        for t0, t1 in zip(times, times[1:]):
            f = any(s <= t0 and t1 <= e for s, e in fwd)
            r = any(s <= t0 and t1 <= e for s, e in bwd)
            state = ((x, y, False) if f and r else (x, y, True) if f else (y, x, True) if r
                     else None)
            if current is not None and state == (current[0], current[1], current[4]) \
                    and current[3] == t0:
                current[3] = t1
                continue
            if current is not None:
                out.append(LinkCut(current[0], current[1], current[2], current[3], current[4]))
            current = None if state is None else [state[0], state[1], t0, t1, state[2]]
        if current is not None:
            out.append(LinkCut(current[0], current[1], current[2], current[3], current[4]))
    out.sort(key=lambda s: (s.start, s.a, s.b))
    return out


# ------------------------------------------------------------------ votes
def vote_answers(trace: Any, start: float = 0.0, end: float = math.inf) -> list[VoteAnswer]:
    """Each ``vote`` event with ``start <= time <= end``, linked to the RequestVoteReply that
    the voter sent back at the same instant and to that reply's fate (delivered to the
    candidate, dropped, or still in flight when the trace ends)."""
    return _answers(trace, start, end, "vote", "RequestVoteReply")


def pre_vote_answers(trace: Any, start: float = 0.0,
                     end: float = math.inf) -> list[VoteAnswer]:
    """``vote_answers`` for pre-votes: each ``prevote`` event, linked to its PreVoteReply."""
    return _answers(trace, start, end, "prevote", "PreVoteReply")


def _answers(trace: Any, start: float, end: float, kind: str, reply: str) -> list[VoteAnswer]:
    trace = as_trace(trace)
    lo, hi = index_window(trace, start, end)   # only the window's events are read
    votes = [e for e in trace[lo:hi] if e.kind == kind]
    replies: list[Optional[int]] = [None] * len(votes)
    at: dict[float, list[int]] = {}            # instant -> positions of its votes in ``votes``
    for k, v in enumerate(votes):
        at.setdefault(v.time, []).append(k)
    first = None
    for t, positions in at.items():            # only the events of each vote's instant are read
        lo, hi = index_window(trace, t, t)
        first = lo if first is None else first
        mine = iter(positions)
        waiting: list[int] = []                # votes seen at this instant, reply not yet sent
        for e in trace[lo:hi]:
            if e.kind == kind:
                waiting.append(next(mine))
            elif e.kind == "send" and e.msg == reply:
                for k in waiting:
                    if (votes[k].node, votes[k].candidate) == (e.src, e.dst):
                        replies[k] = e.id
                        waiting.remove(k)
                        break
    fate = message_fates(trace, {rid for rid in replies if rid is not None}, first or 0)
    out = []
    for v, rid in zip(votes, replies):
        kind, when = fate.get(rid, (None, None)) if rid is not None else (None, None)
        out.append(VoteAnswer(v, rid, kind, when))
    return out


_CHUNK = 512   # events turned into named tuples at a time while looking ahead


def message_fates(trace: Any, ids: Iterable[int], lo: int = 0) -> dict[int, tuple[str, float]]:
    """Message id -> ``("deliver" | "drop", time)`` for the messages in ``ids``, looking at the
    events from index ``lo`` on (e.g. the first send) and stopping once every one is found; a
    message still in flight when the trace ends is left out."""
    trace = as_trace(trace)
    ids = set(ids)
    fate: dict[int, tuple[str, float]] = {}
    if not ids:
        return fate
    for a in range(lo, len(trace), _CHUNK):
        for e in trace[a:a + _CHUNK]:
            if (e.kind == "deliver" or e.kind == "drop") and e.id in ids and e.id not in fate:
                fate[e.id] = (e.kind, e.time)
                if len(fate) == len(ids):
                    return fate
    return fate


# ------------------------------------------------------------------ elections
def elections(trace: Any) -> list[Election]:
    """Every candidacy in the trace, in order of start time."""
    trace = as_trace(trace)
    n = node_count(trace)
    spans = role_spans(trace)
    by_node: dict[int, list[Span]] = {}
    for s in spans:
        by_node.setdefault(s.node, []).append(s)
    leaders_of: dict[int, list[int]] = {}   # term -> the nodes that led it, first one first
    candidates_of: dict[int, set[int]] = {}
    for s in spans:
        if s.role == "leader":
            led = leaders_of.setdefault(s.term, [])
            if s.node not in led:
                led.append(s.node)
        elif s.role == "candidate":
            candidates_of.setdefault(s.term, set()).add(s.node)
    answers: dict[tuple[int, int], list[tuple[int, bool, Optional[float]]]] = {}
    for a in vote_answers(trace):
        v = a.vote
        answers.setdefault((v.term, v.candidate), []).append(
            (v.node, v.granted, a.fate_time if a.received else None))
    # A candidacy that starts and ends at one instant (a one-node cluster) has no span of its
    # own; its zero-length moment still counts as an election.
    instant = [e for e in trace.of("state") if e.role == "candidate"]
    out: list[Election] = []
    seen = set()
    for node, lane in by_node.items():
        for k, s in enumerate(lane):
            if s.role != "candidate":
                continue
            seen.add((s.term, node))
            nxt = lane[k + 1] if k + 1 < len(lane) else None
            until = s.end   # the end of the node's time in this term (as candidate or leader)
            for later in lane[k + 1:]:
                if later.term != s.term or later.role == "crashed":
                    break
                until = later.end
            out.append(_election(s, nxt, until, answers, leaders_of, candidates_of, n))
    for e in instant:
        if (e.term, e.node) not in seen:
            seen.add((e.term, e.node))
            s = Span(e.node, e.time, e.time, "candidate", e.term)
            won = e.node in leaders_of.get(e.term, ())
            out.append(_election(s, Span(e.node, e.time, e.time, "leader", e.term) if won
                                 else None, e.time, answers, leaders_of, candidates_of, n))
    out.sort(key=lambda e: (e.start, e.candidate))
    return out


def _election(s: Span, nxt: Optional[Span], until: float, answers: dict, leaders_of: dict,
              candidates_of: dict, n: int) -> Election:
    heard = answers.get((s.term, s.node), [])
    # an answer counts if it reached the candidate before it left the term (or crashed)
    yes = {voter for voter, granted, t in heard if granted and t is not None and t <= until}
    no = {voter for voter, granted, t in heard if not granted and t is not None and t <= until}
    lost = {voter for voter, granted, _ in heard if granted} - yes
    leaders = leaders_of.get(s.term, [])
    leader = leaders[0] if leaders else None
    if nxt is not None and nxt.role == "leader" and nxt.term == s.term:
        outcome = "two leaders" if len(leaders) > 1 else "won"
    elif leader is not None:
        outcome = "lost"
    elif nxt is not None and nxt.role == "crashed":
        outcome = "crashed"
    elif nxt is None:
        outcome = "running"
    elif len(candidates_of.get(s.term, ())) > 1 and 2 * (1 + len(yes) + len(no)) > n:
        outcome = "split"
    else:
        outcome = "no majority"
    return Election(s.term, s.node, s.start, s.end, tuple(sorted(yes)), tuple(sorted(lost)),
                    tuple(sorted(no)), outcome, leader)


# ------------------------------------------------------------------ pre-vote rounds
def pre_vote_rounds(trace: Any) -> list[PreVoteRound]:
    """Every pre-vote round in the trace (none unless ``pre_vote`` was on), by start time."""
    trace = as_trace(trace)
    heard: dict[tuple[int, int], list[tuple[int, bool, float]]] = {}
    for a in pre_vote_answers(trace):
        if a.received:
            v = a.vote
            heard.setdefault((v.term, v.candidate), []).append((v.node, v.granted, a.fate_time))
    out: list[PreVoteRound] = []
    role: dict[int, str] = {}
    open_: dict[int, tuple[int, float]] = {}   # node -> (term asked about, start)

    def close(node: int, end: float, outcome: str) -> None:
        term, start = open_.pop(node)
        answers = [(voter, granted) for voter, granted, t in heard.get((term, node), ())
                   if start <= t <= end]
        out.append(PreVoteRound(term, node, start, end,
                                tuple(sorted({v for v, g in answers if g})),
                                tuple(sorted({v for v, g in answers if not g})), outcome))

    for e in trace.of("state", "timeout", "crash"):
        node = e.node
        if e.kind == "timeout":
            if node in open_ and role.get(node) == "precandidate":  # a new round
                term = open_[node][0]
                close(node, e.time, "no majority")
                open_[node] = (term, e.time)
        elif e.kind == "crash":
            role[node] = "crashed"
            if node in open_:
                close(node, e.time, "crashed")
        else:
            role[node] = e.role
            if node in open_:
                if e.role == "precandidate" and e.term + 1 == open_[node][0]:
                    continue
                close(node, e.time, "promoted" if e.role in ("candidate", "leader")
                      and e.term == open_[node][0] else "stepped down")
            if e.role == "precandidate":
                open_[node] = (e.term + 1, e.time)
    end = trace.end_time
    for node in sorted(open_):
        close(node, end, "running")
    out.sort(key=lambda r: (r.start, r.candidate))
    return out


# ------------------------------------------------------------------ per-node summary
def node_summary(trace: Any) -> list[NodeSummary]:
    """One ``NodeSummary`` per node: time in each role, timeouts, votes, crashes, messages."""
    trace = as_trace(trace)
    n = node_count(trace)
    role_ms = [{"follower": 0.0, "precandidate": 0.0, "candidate": 0.0, "leader": 0.0,
                "crashed": 0.0} for _ in range(n)]
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
    # messages are most of a trace: count them with map() over named events
    sent = Counter(map(attrgetter("src"), trace.of("send")))
    received = Counter(map(attrgetter("dst"), trace.of("deliver")))
    timeouts = Counter(e.node for e in trace.of("timeout"))
    crashes = Counter(e.node for e in trace.of("crash"))
    votes = trace.of("vote")   # what each node answered (``Election`` has what arrived)
    yes = Counter(e.node for e in votes if e.granted)
    no = Counter(e.node for e in votes if not e.granted)
    rounds = Counter(r.candidate for r in pre_vote_rounds(trace)) if any(
        s.role == "precandidate" for s in role_spans(trace)) else Counter()
    return [NodeSummary(i, round(role_ms[i]["follower"], 3),
                        round(role_ms[i]["precandidate"], 3), round(role_ms[i]["candidate"], 3),
                        round(role_ms[i]["leader"], 3), round(role_ms[i]["crashed"], 3),
                        round(cut[i], 3), timeouts[i], rounds[i], tuple(led[i]), yes[i], no[i],
                        crashes[i], sent[i], received[i], last[i][0], last[i][1])
            for i in range(n)]


# ------------------------------------------------------------------ display
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
    return text_table(names, [[cell_text(getattr(r, c)) for c in names] for r in records])


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


# ------------------------------------------------------------------ logs
_LOG_KINDS = ("append", "truncate", "commit")


class LogView(NamedTuple):
    """Node ``node``'s log as the trace tells it at one moment: ``terms[i]`` is the term of
    entry ``i + 1`` (the sentinel at index 0 is left out), ``commit`` its commit index,
    ``alive`` whether it was running, ``role`` and ``term`` its last recorded state."""

    node: int
    terms: tuple[int, ...]
    commit: int
    alive: bool
    role: str
    term: int


def log_views(trace: Any, at: Optional[float] = None) -> list[LogView]:
    """Every node's log at virtual time ``at`` (default: the end of the trace), rebuilt by
    folding the ``append``, ``truncate`` and ``commit`` events up to and including ``at``. A
    restart begins an empty log and a commit index of 0 (the new instance's persisted entries
    are ``append`` events at its boot); a crashed node keeps the log it had.

    ``ValueError`` if ``at`` is outside ``0 .. trace.end_time``, or if the trace holds commands
    (``start`` / ``apply`` events) but no log events: a file written before raftlab recorded
    them."""
    trace = as_trace(trace)
    end = trace.end_time
    if at is None:
        at = end
    check_number("at", at, 0, end, unit="ms")
    raw = trace.raw
    n = node_count(trace)
    has_log = has_commands = False
    for ev in raw:
        kind = ev[1]
        if kind in _LOG_KINDS:
            has_log = True
            break
        if kind == "start" or kind == "apply":
            has_commands = True
    if has_commands and not has_log:
        raise ValueError("this trace has commands (start/apply events) but no append, truncate "
                         "or commit events: it was recorded before raftlab traced logs; run "
                         "the scenario again to see its logs")
    terms: list[list[int]] = [[] for _ in range(n)]
    commit = [0] * n
    alive = [True] * n
    role = ["follower"] * n
    term = [0] * n
    hi = bisect.bisect_right(raw, at, key=_raw_time)
    for i in range(hi):
        ev = raw[i]
        kind = ev[1]
        if kind == "append":
            log, index = terms[ev[2]], ev[3]
            if index > len(log) + 1:
                raise ValueError(f"trace event {i}: node {ev[2]} appends at index {index}, but "
                                 f"its log holds {len(log)} entries (next index {len(log) + 1})")
            del log[index - 1:]
            log.append(ev[4])
        elif kind == "truncate":
            del terms[ev[2]][ev[3] - 1:]
        elif kind == "commit":
            commit[ev[2]] = ev[3]
        elif kind == "state":
            term[ev[2]], role[ev[2]] = ev[3], ev[4]
        elif kind == "crash":
            alive[ev[2]] = False
        elif kind == "restart":
            alive[ev[2]] = True
            terms[ev[2]] = []
            commit[ev[2]] = 0
    return [LogView(i, tuple(terms[i]), commit[i], alive[i], role[i], term[i])
            for i in range(n)]


def _raw_time(raw: tuple) -> float:
    return raw[0]


def _leader_term_at(trace: Any, leader: int, term: int, at: Optional[float]) -> int:
    """Check ``leader``, ``term`` and ``at`` for ``next_indices`` / ``match_indices``; the
    number of events up to and including ``at`` (all of them if ``at`` is None)."""
    n = node_count(trace)
    if isinstance(leader, bool) or not isinstance(leader, int) or not 0 <= leader < n:
        raise ValueError(f"unknown node id leader={leader!r}: node ids are 0..{n - 1}")
    if isinstance(term, bool) or not isinstance(term, int) or term < 0:
        raise ValueError(f"term must be an int >= 0, got {term!r}")
    raw = trace.raw
    if at is None:
        return len(raw)
    check_number("at", at, 0, trace.end_time, unit="ms")
    return bisect.bisect_right(raw, at, key=_raw_time)


def next_indices(trace: Any, leader: int, term: int,
                 at: Optional[float] = None) -> dict[int, int]:
    """The nextIndex that ``leader``, leading ``term``, last used for each peer up to virtual
    time ``at`` (default: the end of the trace): peer -> index.

    A leader's nextIndex is its private state, which the trace does not hold; but the harness
    sees every AppendEntries it sends, and a request's ``prev_log_index + 1`` is the nextIndex
    the leader used for that peer. The network records it as a ``next_index`` event (node,
    peer, term, index) whenever it differs from the last one that node sent that peer in that
    term, so the last such event of ``term`` is the value. A peer the leader has sent nothing
    in ``term`` (by ``at``) is left out. What the leader does with a reply (nextIndex lowered
    after a refusal, raised after a success) shows in its next AppendEntries to that peer."""
    trace = as_trace(trace)
    hi = _leader_term_at(trace, leader, term, at)
    raw = trace.raw
    out: dict[int, int] = {}
    for i in range(hi):
        ev = raw[i]
        if ev[1] == "next_index" and ev[2] == leader and ev[4] == term:
            out[ev[3]] = ev[5]
    return out


class MatchIndexFold:
    """Each leader's matchIndex per peer, folded from trace events one at a time (``feed``);
    ``match_indices`` explains the derivation. ``values[(leader, term)]`` is peer -> index.

    ``only=(leader, term)`` keeps to that leader's term (faster); a fold of every event may
    be fed as the trace grows (the lab panel's ``TraceDigest`` does), keeping only what is in
    flight: AppendEntries and replies not yet delivered or dropped."""

    __slots__ = ("only", "values", "_leading", "_next", "_sent", "_answering", "_replies")

    def __init__(self, only: Optional[tuple[int, int]] = None) -> None:
        self.only = only
        self.values: dict[tuple[int, int], dict[int, int]] = {}
        self._leading: dict[int, int] = {}    # node -> the term it leads now
        self._next: dict[tuple[int, int], tuple[int, int]] = {}  # (leader, peer) -> (term, next)
        self._sent: dict[int, tuple[int, int, int]] = {}   # AE id -> (leader, term, match)
        self._answering: dict[int, tuple[int, int, int]] = {}  # peer -> the AE it handles now
        self._replies: dict[int, tuple[int, int, int, int]] = {}  # reply id -> (leader, peer,
        #                                                           term, match)

    def feed(self, ev: tuple) -> bool:
        """Fold one event (a raw tuple or a named event); True if a matchIndex rose."""
        kind = ev[1]
        if kind == "send":
            msg = ev[4]
            if msg == "AppendEntries":
                key = self._next.get((ev[2], ev[3]))
                detail = ev[7]
                if key is not None and key[0] == ev[5] and type(detail) is int and (
                        self.only is None or self.only == (ev[2], ev[5])):
                    self._sent[ev[6]] = (ev[2], ev[5], key[1] - 1 + detail)
            elif msg == "AppendEntriesReply":
                # a node sends an AppendEntriesReply only as handle_request's answer, at once
                # (env.call takes requests only): it answers the last AppendEntries delivered
                asked = self._answering.pop(ev[2], None)
                if asked is not None and ev[7] is True and asked[0] == ev[3]:
                    self._replies[ev[6]] = (asked[0], ev[2], asked[1], asked[2])
        elif kind == "deliver":
            msg = ev[4]
            if msg == "AppendEntries":
                asked = self._sent.pop(ev[6], None)
                if asked is None:
                    self._answering.pop(ev[3], None)
                else:
                    self._answering[ev[3]] = asked
            elif msg == "AppendEntriesReply":
                got = self._replies.pop(ev[6], None)
                if got is not None:
                    leader, peer, term, match = got
                    if self._leading.get(leader) == term:
                        known = self.values.setdefault((leader, term), {})
                        if match > known.get(peer, -1):
                            known[peer] = match
                            return True
        elif kind == "next_index":
            self._next[(ev[2], ev[3])] = (ev[4], ev[5])
        elif kind == "drop":
            self._sent.pop(ev[6], None)
            self._replies.pop(ev[6], None)
        elif kind == "state":
            if ev[4] == "leader":
                self._leading[ev[2]] = ev[3]
            else:
                self._leading.pop(ev[2], None)
        elif kind == "crash" or kind == "restart":
            self._leading.pop(ev[2], None)
        return False


def match_indices(trace: Any, leader: int, term: int,
                  at: Optional[float] = None) -> dict[int, int]:
    """The matchIndex ``leader``, leading ``term``, holds for each peer at virtual time ``at``
    (default: the end of the trace), as the trace shows it: peer -> index, by peer.

    Figure 2's matchIndex is the highest index the leader knows a follower stores. The leader
    learns it from a successful AppendEntriesReply: the follower then holds the request's
    entries, so its log agrees with the leader's up to ``prev_log_index`` + their number. The
    trace has all of it, paired by message id and order alone, for any node class: the
    AppendEntries' ``send`` event (its ``detail``: the number of entries), whose
    ``prev_log_index + 1`` is the last ``next_index`` event of that leader, peer and term at or
    before it; its ``deliver`` to the peer; the peer's reply, which the network sends the
    moment the handler returns, so it is the next ``send`` of an AppendEntriesReply by that
    peer (``detail``: success); and that reply's ``deliver`` to the leader while it still leads
    ``term``. The value is the highest such index (it never decreases within a term, as in
    Figure 2, even if replies arrive out of order). A peer with no successful reply delivered
    by ``at`` is left out (the leader's matchIndex for it is still its initial 0); so is
    everything in a trace written before ``send`` events carried ``detail``."""
    trace = as_trace(trace)
    hi = _leader_term_at(trace, leader, term, at)
    fold = MatchIndexFold(only=(leader, term))
    feed = fold.feed
    raw = trace.raw
    for i in range(hi):
        feed(raw[i])
    known = fold.values.get((leader, term), {})
    return {peer: known[peer] for peer in sorted(known)}


def agreement(leader: Sequence[int], other: Sequence[int]) -> int:
    """The highest index up to which ``other`` holds the leader's entries (equal terms at an
    index mean equal prefixes, by the Log Matching property): 0 if none."""
    k = min(len(leader), len(other))
    while k > 0 and leader[k - 1] != other[k - 1]:
        k -= 1
    return k
