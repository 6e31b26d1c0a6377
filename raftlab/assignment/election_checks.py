"""Steps 1-2 (3A): randomized election timeouts; a server starts an election."""

from __future__ import annotations

from typing import Any

from ..formatting import format_ms
from ..rules import rule
from .harness import _Lab, _who
from .results import _fail


# ============================================================================ step 1
def _check_timeouts(lab: _Lab) -> str:
    seen = []
    for seed, timeout in ((1, (300, 600)), (2, (200, 260))):
        c = lab.cluster(5, seed, election_timeout=timeout)
        first: dict[int, Any] = {}
        for e in c.trace.of("timer"):
            if e.action == "set" and e.node not in first:
                first[e.node] = e
        missing = [i for i in range(c.n) if i not in first]
        if missing:
            raise _fail(f"{_who(missing)} set no timer in boot() ({c.rebuild_call()}): a server "
                        f"starts with an election timer", rule("no-election").hint, c)
        lo, hi = timeout
        dues = [first[i].due - first[i].time for i in range(c.n)]
        for i, due in enumerate(dues):
            if not lo <= due <= hi:
                raise _fail(f"with election_timeout={timeout}, node {i}'s first timer "
                            f"({first[i].name!r}) is due after {format_ms(due)} ms, outside "
                            f"{lo}-{hi} ms ({c.rebuild_call()})",
                            "read the range from self.config.election_timeout each time you "
                            "draw a timeout (it can change at run time); do not write numbers "
                            "of your own.", c)
        if len(set(dues)) == 1:
            raise _fail(f"all {c.n} servers' first election timers are due after the same "
                        f"{format_ms(dues[0])} ms ({c.rebuild_call()}): the timeouts are not "
                        f"random, so every election would be a split vote",
                        rule("fixed-timeout").hint, c)
        seen.append(f"{timeout[0]}-{timeout[1]} ms: "
                    + ", ".join(format_ms(round(d, 1)) for d in dues))
    a = lab.cluster(3, 7)
    a.run_for(3000)
    b = lab.cluster(3, 7)
    b.run_for(3000)
    if a.trace.raw != b.trace.raw:
        k = next((k for k, (x, y) in enumerate(zip(a.trace.raw, b.trace.raw)) if x != y),
                 min(len(a.trace), len(b.trace)))
        first_a = a.trace[k] if k < len(a.trace) else "(the end)"
        first_b = b.trace[k] if k < len(b.trace) else "(the end)"
        raise _fail(f"two runs of {a.rebuild_call()} differ from event {k} on: {first_a} in "
                    f"one, {first_b} in the other", rule("reproducible").hint, b)
    return ("the first election timeouts of five servers, in ms: " + "; ".join(seen)
            + ". Two runs of seed 7 gave identical traces.")


# ============================================================================ step 2
def _check_election(lab: _Lab) -> str:
    seen = []
    for seed in (1, 2, 3):
        c = lab.cluster(3, seed)
        event = c.run_until_event(lambda e: e.kind == "state" and e.role == "candidate", 1000)
        if event is None:
            fired = [e for e in c.trace.of("timer") if e.action == "fire"]
            if not fired:
                raise _fail(f"no timer fired within 1000 ms of {c.rebuild_call()}: boot() must "
                            f"set an election timer (step 1)", rule("no-election").hint, c)
            f = fired[0]
            raise _fail(f"node {f.node}'s timer {f.name!r} fired at {format_ms(f.time)} ms, but "
                        f"no server became a candidate within 1000 ms of {c.rebuild_call()}",
                        rule("no-election").hint, c)
        node, term, t0 = event.node, event.term, event.time
        if term != 1:
            raise _fail(f"node {node} became a candidate of term {term} at {format_ms(t0)} ms; "
                        f"the first election of a fresh cluster is term 1: a candidate "
                        f"increments current_term once ({c.rebuild_call()})",
                        "on_election_timeout: current_term += 1, then ask for votes in that "
                        "term.", c)
        sends = [e for e in c.trace.window(t0, t0)
                 if e.kind == "send" and e.src == node and e.msg == "RequestVote"]
        peers = set(range(c.n)) - {node}
        asked = {e.dst for e in sends}
        if not peers <= asked:
            raise _fail(f"node {node} became a candidate of term 1 at {format_ms(t0)} ms but "
                        f"asked only {_who(asked)} for a vote, not {_who(peers - asked)} "
                        f"({c.rebuild_call()})", rule("no-request-vote").hint, c)
        stale = [e for e in sends if e.term != term]
        if stale:
            raise _fail(f"node {node}, candidate of term {term}, sent a RequestVote of term "
                        f"{stale[0].term} ({c.rebuild_call()}): a RequestVote carries the "
                        f"candidate's current term", rule("no-request-vote").hint, c)
        if not any(e.kind == "timer" and e.node == node and e.action == "set"
                   for e in c.trace.window(t0, t0)):
            raise _fail(f"node {node} became a candidate at {format_ms(t0)} ms without setting "
                        f"its election timer again ({c.rebuild_call()}): if this election "
                        f"fails, nothing would ever start the next one",
                        "Candidates, on conversion: reset the election timer "
                        "(self.reset_election_timer()).", c)
        raft = c.nodes[node].raft
        if hasattr(raft, "voted_for") and raft.voted_for != node:
            raise _fail(f"node {node} became a candidate of term 1 with voted_for = "
                        f"{raft.voted_for!r} ({c.rebuild_call()}): a candidate votes for itself",
                        "on_election_timeout: self.voted_for = self.me (and count that vote).",
                        c)
        c.run_for(100)
        for vote in c.trace.of("vote"):
            if vote.term == term and vote.candidate != node and vote.node != node:
                sender = [e for e in c.trace.of("deliver")
                          if e.dst == vote.node and e.time == vote.time and e.src == node]
                if sender:
                    raise _fail(f"node {node}'s RequestVote names candidate {vote.candidate}; "
                                f"it must name the candidate itself ({c.rebuild_call()})",
                                "RequestVote(term, candidate=self.me, last_log_index, "
                                "last_log_term).", c)
        seen.append(f"node {node} at {format_ms(t0)} ms (seed {seed})")
    return ("a server became a candidate of term 1, voted for itself, reset its election timer "
            "and asked every other server for its vote: " + "; ".join(seen) + ".")
