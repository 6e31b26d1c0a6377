"""Why did a ported test fail? A diagnosis of a ``CheckFailed`` from the trace alone.

config.go's checks say *what* went wrong ("expected one leader, got none"); the trace says
*why*. ``diagnose(cluster, exc)`` reads the run's trace by field name and returns a
``Diagnosis``: the rule (an id of ``raftlab.rules.RULES``), the node and time it points at,
and one sentence of evidence. For example, for "expected one leader, got none":

* no node ever became a candidate -> ``no-election``;
* candidates, but no RequestVote was sent -> ``no-request-vote``;
* a candidate received granted votes that, with its own, make a majority, yet did not become
  leader of that term -> ``vote-counting``;
* every election timeout had the same length -> ``fixed-timeout``;
* followers timed out while their leader was up and connected -> ``heartbeats``.

And for "servers disagree on term" on the unreliable network: if the leader of the newest term
sent each lagging server messages, some were lost and none has arrived (nor any other message
it had to take a newer term from), the check raced the network -> ``network-race``: a correct
node fails it this way too, and the grader reports it as a warning, not a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

__all__ = ["Diagnosis", "diagnose"]

_AGREEMENT = ("failed to reach agreement", "decided for index", "committed but no majority",
              "committed values do not match", "apply error", "rejected Start()",
              "expected index", "unexpected index", "term changed too often", "missing in",
              "didn't find a value", "not an int", "wrong value", "Start() failed",
              "some have committed before Start()", "got index", "index decreased")
_TRAFFIC = ("too many RPC bytes", "too many RPCs", "too many or few RPCs")


@dataclass(frozen=True)
class Diagnosis:
    """The rule a failed check most likely comes from, the node and time it points at, and
    the evidence found in the trace."""

    rule: str
    node: Optional[int]
    time: Optional[float]
    evidence: str


def diagnose(cluster: Any, exc: BaseException, test_name: str = "") -> Diagnosis:
    """The likely cause of ``exc`` (a ``CheckFailed`` raised on ``cluster``)."""
    message = str(exc)
    trace = cluster.trace
    now = cluster.now
    if message.startswith("expected one leader, got none"):
        return _no_leader(cluster)
    if message.startswith("term ") and "leaders" in message:
        return Diagnosis("election-safety", None, now, message)
    if message.startswith("expected no leader among connected servers"):
        return _unexpected_leader(cluster, message)
    if message.startswith("term is ") and "should be at least 1" in message:
        return Diagnosis("no-election", None, now, "the term is still 0: a candidate must "
                         "increment current_term")
    if message == "servers disagree on term" or message.startswith(
            "expected no leader among connected servers"):
        lost = _followers_lost(cluster)
        if lost is not None:
            return lost
    if message == "servers disagree on term":
        race = _network_race(cluster)
        if race is not None:
            return race
        return Diagnosis("step-down-request", None, now, "connected servers disagree on the "
                         "term after the election settled: followers must adopt the leader's "
                         "term from its AppendEntries")
    if message.startswith("too many heartbeats"):
        return Diagnosis("heartbeat-rate", None, now, message)
    if any(text in message for text in _TRAFFIC):
        return Diagnosis("log-replication", None, now, "too much traffic: send each entry to "
                         "each follower once, and heartbeats only every heartbeat_interval")
    if any(text in message for text in _AGREEMENT):
        restarted = any(True for _ in trace.of("restart"))
        if test_name.endswith("3C") and restarted:
            return Diagnosis("persistence", None, now, "the test crashed and restarted "
                             "servers; commands were lost or disagree after that")
        return Diagnosis("log-replication", None, now, message)
    return Diagnosis("check-failed", None, now, message)


# ------------------------------------------------------------------ no leader
def _granted_and_heard(trace: Any) -> dict[tuple[int, int], set[int]]:
    """(candidate, term) -> voters whose granted vote reached the candidate."""
    granted: dict[tuple[int, int, int], bool] = {}
    for e in trace.of("vote"):
        if e.granted:
            granted[e.node, e.candidate, e.term] = True
    heard: dict[tuple[int, int], set[int]] = {}
    for e in trace.of("deliver"):
        if e.msg == "RequestVoteReply" and (e.src, e.dst, e.term) in granted:
            heard.setdefault((e.dst, e.term), set()).add(e.src)
    return heard


def _no_leader(c: Any) -> Diagnosis:
    trace = c.trace
    n = c.n
    timeouts = list(trace.of("timeout"))
    candidacies = [e for e in trace.of("state") if e.role in ("candidate", "precandidate")]
    if not timeouts and not candidacies:
        return Diagnosis("no-election", None, c.now, f"in {c.now / 1000:g} s no node became a "
                         f"candidate")
    requests = sum(1 for e in trace.of("send") if e.msg in ("RequestVote", "PreVote"))
    if requests == 0:
        first = candidacies[0] if candidacies else timeouts[0]
        return Diagnosis("no-request-vote", first.node, first.time,
                         f"{len(candidacies)} candidacies but not one RequestVote (or PreVote) "
                         f"sent")
    leaders = {(e.node, e.term) for e in trace.of("state") if e.role == "leader"}
    majority = n // 2 + 1
    for (candidate, term), voters in sorted(_granted_and_heard(trace).items(),
                                            key=lambda item: item[0][1]):
        others = voters - {candidate}
        if len(others) + 1 >= majority and (candidate, term) not in leaders:
            return Diagnosis("vote-counting", candidate, None,
                             f"node {candidate} received granted votes from nodes "
                             f"{sorted(others)} in term {term}: with its own that is "
                             f"{len(others) + 1} of {n}, a majority, yet it did not become "
                             f"leader")
    fixed = _fixed_timeouts(trace)
    if fixed is not None:
        return Diagnosis("fixed-timeout", None, None, fixed)
    lost = _followers_lost(c)
    if lost is not None:
        return lost
    return Diagnosis("leader-election", None, c.now, f"{len(candidacies)} candidacies, "
                     f"{requests} RequestVotes, and no candidate gathered a majority")


def _election_timer(trace: Any) -> Optional[str]:
    """The name of the timer whose firing starts elections."""
    fired: dict[int, str] = {}
    for e in trace.of("timer", "timeout"):
        if e.kind == "timer":
            if e.action == "fire":
                fired[e.node] = e.name
        elif e.node in fired:
            return fired[e.node]
    return None


def _fixed_timeouts(trace: Any) -> Optional[str]:
    name = _election_timer(trace)
    if name is None:
        return None
    delays: dict[int, set[int]] = {}
    count = 0
    for e in trace.of("timer"):
        if e.name == name and e.action == "set":
            delays.setdefault(e.node, set()).add(round((e.due - e.time) * 1000))
            count += 1
    lengths = set().union(*delays.values()) if delays else set()
    if count >= 2 * len(delays) and len(lengths) <= len(delays):
        shown = ", ".join(f"{d / 1000:g}" for d in sorted(lengths)[:5])
        return (f"the {name!r} timer was set {count} times with only {len(lengths)} "
                f"length(s): {shown} ms")
    return None


def _followers_lost(c: Any) -> Optional[Diagnosis]:
    """A follower's election timeout while the leader of its term was up and connected and
    had sent it no AppendEntries for a whole minimum election timeout."""
    trace = c.trace
    if any(True for _ in trace.of("partition")):
        return None
    quiet = c.config.election_timeout[0]
    role: dict[int, tuple[int, str]] = {}
    up = [True] * c.n
    last_sent: dict[tuple[int, int], float] = {}
    since: dict[int, float] = {}  # when each leader took office
    for e in trace.of("state", "timeout", "crash", "restart", "disconnect", "connect", "send"):
        kind = e.kind
        if kind == "send":
            if e.msg == "AppendEntries":
                last_sent[e.src, e.dst] = e.time
        elif kind == "state":
            if e.role == "leader" and role.get(e.node) != (e.term, "leader"):
                since[e.node] = e.time
            role[e.node] = (e.term, e.role)
        elif kind in ("crash", "disconnect"):
            up[e.node] = False
        elif kind in ("restart", "connect"):
            up[e.node] = True
        elif up[e.node]:
            for i, (term, r) in role.items():
                if (r == "leader" and term == e.term and up[i] and i != e.node
                        and e.time - since[i] >= quiet
                        and e.time - last_sent.get((i, e.node), -quiet) >= quiet):
                    return Diagnosis("heartbeats", e.node, e.time,
                                     f"node {e.node} timed out in term {e.term} at t={e.time} "
                                     f"ms: node {i}, leader of that term, was up and connected "
                                     f"but had sent it no AppendEntries for {quiet:g} ms")
    return None


def _network_race(c: Any) -> Optional[Diagnosis]:
    """On the unreliable network, connected servers disagree on the term only because the
    leader's term has not reached the laggards: the leader of the newest term sent each of
    them messages, at least one was lost and none has arrived, and no other message that
    would have bound it to a newer term arrived either. Under ``check_quorum`` a RequestVote
    does not bind (§4.2.3: ignored within the minimum election timeout of hearing from a
    leader; the grader's monitors check that it was); a PreVote never does."""
    if c.network_config.reliable:
        return None
    trace = c.trace
    term: dict[int, int] = {}
    since: dict[int, float] = {}
    leader_of: dict[int, int] = {}
    up = [True] * c.n
    for e in trace.of("state", "crash", "restart", "disconnect", "connect"):
        if e.kind == "state":
            if term.get(e.node) != e.term:
                since[e.node] = e.time
            term[e.node] = e.term
            if e.role == "leader":
                leader_of[e.term] = e.node
        else:
            up[e.node] = e.kind in ("restart", "connect")
    live = [i for i in range(c.n) if up[i] and i in term]
    if not live:
        return None
    top = max(term[i] for i in live)
    leader = leader_of.get(top)
    laggards = [i for i in live if term[i] < top]
    if not laggards or leader not in live or term[leader] != top:
        return None
    unbinding = {"PreVote", "PreVoteReply"}
    if c.config.check_quorum:
        unbinding.add("RequestVote")
    sent = {i: 0 for i in laggards}  # messages of the leader's term from the leader
    lost = {i: 0 for i in laggards}
    for e in trace.of("send", "deliver", "drop"):
        i = e.dst
        if i not in sent or e.time < since[i] or e.term <= term[i] or e.msg in unbinding:
            continue
        if e.kind == "deliver":
            return None  # a message it had to take the newer term from did arrive
        if e.src == leader and e.term == top:
            if e.kind == "send":
                sent[i] += 1
            elif e.reason == "lost":
                lost[i] += 1
    if not all(lost.values()):
        return None
    first = laggards[0]
    return Diagnosis("network-race", first, c.now,
                     f"node {first} is at term {term[first]} while node {leader} leads term "
                     f"{top}: of the {sent[first]} message(s) node {leader} sent it in that "
                     f"term, {lost[first]} were lost on the unreliable network and the rest "
                     f"are still in flight; the check ran before the newer term could reach it")


def _unexpected_leader(c: Any, message: str) -> Diagnosis:
    words = message.split()
    claimant = int(words[words.index("claims") - 1]) if "claims" in words else None
    last_leader = None
    for e in c.trace.of("state"):
        if e.node == claimant and e.role == "leader":
            last_leader = e
    if claimant is None or last_leader is None:
        return Diagnosis("election-safety", claimant, c.now, message)
    voters = _granted_and_heard(c.trace).get((claimant, last_leader.term), set())
    votes = len(voters - {claimant}) + 1
    if votes < c.n // 2 + 1:
        return Diagnosis("election-safety", claimant, last_leader.time,
                         f"node {claimant} became leader of term {last_leader.term} at "
                         f"t={last_leader.time} ms with {votes} of {c.n} votes")
    return Diagnosis("step-down-reply", claimant, last_leader.time,
                     f"node {claimant} has been leader of term {last_leader.term} since "
                     f"t={last_leader.time} ms and never stepped down, though other servers "
                     f"moved to higher terms")
