"""Steps 5-6 (3A): heartbeats keep the leader in place; new leaders after failures."""

from __future__ import annotations

from typing import Any

from ..cluster import Cluster
from ..errors import CheckFailed
from ..formatting import format_ms
from ..labtests import many_elections, re_election
from ..messages import AppendEntries
from ..rules import rule
from ..safety import election_safety_violations
from .harness import _Lab, _wait_leader
from .node_errors import _with_notes
from .results import _fail


# ============================================================================ step 5
def _check_heartbeats(lab: _Lab) -> str:
    p = lab.probe(n=3, me=0)
    ae = AppendEntries(2, 1, 0, 0, (), 0)
    reply = p.request(1, ae)
    if reply.term != 2 or getattr(p.node, "current_term", None) != 2 \
            or getattr(p.node, "role", None) != "follower":
        raise _fail(f"a fresh server answered the heartbeat {ae!r} with {reply!r} and is now a "
                    f"{p.state}; it must adopt the leader's term 2, stay a follower and reply "
                    f"term 2", rule("step-down-request").hint)
    if not p.reset:
        raise _fail(f"the server accepted the heartbeat {ae!r} of its leader without resetting "
                    f"its election timer", rule("heartbeats").hint)
    stale = AppendEntries(1, 2, 0, 0, (), 0)
    reply = p.request(2, stale)
    if reply.success or reply.term != 2:
        raise _fail(f"a server of term 2 answered {stale!r} (an old leader) with {reply!r}; it "
                    f"must refuse it and reply its own term so the old leader steps down",
                    "append_entries: reply AppendEntriesReply(current_term, False) if "
                    "args.term < current_term.")
    lines = []
    for seed in (1, 2, 3):
        c = lab.cluster(3, seed)
        event = _wait_leader(lab, c, step="step 4")
        leader, term, t0 = event.node, event.term, event.time
        interval = c.config.heartbeat_interval
        c.run_for(3000)
        t1 = t0 + 3000
        late = [e for e in c.trace.of("timeout") if t0 + 50 < e.time <= t1]
        changed = [e for e in c.trace.of("state") if e.node == leader and t0 < e.time <= t1]
        if late or changed:
            what = (f"node {late[0].node}'s election timer fired at {format_ms(late[0].time)} ms"
                    if late else f"it became a {changed[0].role} of term {changed[0].term} at "
                                 f"{format_ms(changed[0].time)} ms")
            raise _fail(f"node {leader} became leader of term {term} at {format_ms(t0)} ms and "
                        f"nothing failed, yet {what} ({c.rebuild_call()})",
                        rule("heartbeats").hint, c)
        lo = c.config.election_timeout[0]
        for peer in range(c.n):
            if peer == leader:
                continue
            sent = [e.time for e in c.trace.of("send") if e.src == leader and e.dst == peer
                    and e.msg == "AppendEntries" and t0 <= e.time <= t1]
            if not sent:
                raise _fail(f"node {leader}, leader of term {term} from {format_ms(t0)} ms, sent "
                            f"no AppendEntries to node {peer} in 3 s ({c.rebuild_call()})",
                            rule("heartbeats").hint, c)
            if sent[0] - t0 > interval:
                raise _fail(f"node {leader} won term {term} at {format_ms(t0)} ms but sent its "
                            f"first AppendEntries to node {peer} only at "
                            f"{format_ms(sent[0])} ms ({c.rebuild_call()})",
                            "Leaders, upon election: send the first heartbeats at once (and "
                            "set the HEARTBEAT timer for the next ones).", c)
            gaps = [b - a for a, b in zip(sent, sent[1:])] + [t1 - sent[-1]]
            if max(gaps) >= lo:
                raise _fail(f"node {leader}, leader of term {term}, left node {peer} without an "
                            f"AppendEntries for {format_ms(round(max(gaps), 3))} ms, as long as "
                            f"the shortest election timeout ({format_ms(lo)} ms) "
                            f"({c.rebuild_call()})", rule("heartbeats").hint, c)
            if len(sent) > 3000 / 100 + 1:
                raise _fail(f"node {leader}, leader of term {term}, sent {len(sent)} "
                            f"AppendEntries to node {peer} in 3 s; the tester allows at most "
                            f"ten heartbeats per second ({c.rebuild_call()})",
                            rule("heartbeat-rate").hint, c)
            lines.append(len(sent))
        bad = election_safety_violations(c.trace)
        if bad:
            raise _fail(f"{bad[0]} ({c.rebuild_call()})", rule("election-safety").hint, c)
    counts = f"{min(lines)}" if min(lines) == max(lines) else f"{min(lines)}-{max(lines)}"
    return (f"the leaders kept their term for 3 s with no election timeout anywhere, sending "
            f"{counts} AppendEntries per follower in those 3 s (at most 31 "
            f"allowed); a heartbeat was accepted and reset the timer, a stale one refused.")


# ============================================================================ step 6
def _check_failures(lab: _Lab) -> str:
    def make(n: int, seed: int = 0, reliable: bool = True, **kwargs: Any) -> Cluster:
        kwargs.pop("node_class", None)  # given below only so the rerun note names it
        return lab.cluster(n, seed, reliable=reliable, **kwargs)

    runs = [(re_election, 1, True), (re_election, 2, True), (re_election, 3, False),
            (many_elections, 1, True)]
    for test, seed, reliable in runs:
        try:
            test.run_with(make, seed, reliable, node_class=lab.node_class)
        except CheckFailed as exc:
            text = str(exc)
            if "got none" in text:
                hint = ("a majority was connected but no leader emerged: "
                        + rule("leader-election").hint)
            elif "claims to be leader" in text:
                hint = ("a server without a majority still believes it leads: a candidate "
                        "needs n // 2 + 1 votes, and a leader that loses its majority keeps "
                        "its role only until it hears of a higher term; here the lone server "
                        "must never have won an election alone.")
            elif "leaders" in text:
                hint = rule("step-down-reply").hint
            else:
                hint = rule("check-failed").hint
            where = "reliable" if reliable else "unreliable"
            raise _fail(f"{test.name}, seed {seed}, {where} network: {_with_notes(exc)}", hint,
                        exc.cluster) from None
        bad = election_safety_violations(lab.last.trace) if lab.last is not None else []
        if bad:
            where = "reliable" if reliable else "unreliable"
            raise _fail(f"{test.name}, seed {seed}, {where} network, passed config.go's checks "
                        f"but broke election safety: {bad[0]} ({lab.last.rebuild_call()})",
                        rule("election-safety").hint,
                        lab.last)
    return ("TestReElection3A (seeds 1 and 2, reliable; seed 3, unreliable) and "
            "TestManyElections3A (seed 1) passed: new leaders after failures, none without a "
            "majority.")
