"""Steps 7-9 (3B): log replication, commit and apply, votes only for an up-to-date log."""

from __future__ import annotations

from ..errors import CheckFailed
from ..messages import AppendEntries, AppendEntriesReply, LogEntry, RequestVote, RequestVoteReply
from ..node import ApplyMsg
from ..persister import encode_state
from ..rules import rule
from .harness import _Lab, _logs, _wait_leader
from .results import _fail


# ============================================================================ step 7 (3B)
def _check_replicate(lab: _Lab) -> str:
    c = lab.cluster(3, 1)
    event = _wait_leader(lab, c, step="steps 1-6")
    leader, term = event.node, event.term
    follower = (leader + 1) % 3
    index, t, ok = lab.start(c, follower, "not-me")
    if ok:
        raise _fail(f"start('not-me') on node {follower}, a follower, returned ({index}, {t}, "
                    f"{ok}); only the leader accepts commands ({c.rebuild_call()})",
                    "start: return (-1, current_term, False) unless this server is the leader.",
                    c)
    got = lab.start(c, leader, 101)
    if got != (1, term, True):
        raise _fail(f"start(101) on node {leader}, leader of term {term} with an empty log, "
                    f"returned {got}; it must append the command at index 1 and return "
                    f"(1, {term}, True) ({c.rebuild_call()})",
                    "start: append LogEntry(current_term, command) to the log and return its "
                    "index, len(self.log) - 1 (log[0] is the sentinel).", c)
    c.run_for(1000)
    for i, log in enumerate(_logs(c)):
        if log[:1] != [(term, 101)]:
            raise _fail(f"1 s after start(101) on the leader, node {i}'s log is {log} (as "
                        f"(term, command) pairs); every server should hold ({term}, 101) at "
                        f"index 1 ({c.rebuild_call()})", rule("log-replication").hint, c)
    # a follower that missed entries catches up
    c.disconnect(follower)
    for command in (102, 103):
        lab.start(c, leader, command)
    c.run_for(1000)
    c.connect(follower)
    c.run_for(2000)
    logs = _logs(c)
    if logs[follower] != logs[leader]:
        raise _fail(f"node {follower} was cut off while the leader appended 102 and 103, and "
                    f"2 s after it came back its log is {logs[follower]}, the leader's "
                    f"{logs[leader]} ({c.rebuild_call()})", rule("log-replication").hint, c)
    # an old leader's uncommitted entries are replaced by the new leader's
    c = lab.cluster(3, 2)
    old = _wait_leader(lab, c, step="steps 1-6").node
    c.disconnect(old)
    for command in (201, 202):
        lab.start(c, old, command)
    c.run_for(100)
    new = _wait_leader(lab, c, step="step 6").node
    if new == old:
        raise _fail(f"node {old} was cut off, but no other server became leader "
                    f"({c.rebuild_call()})", rule("leader-election").hint, c)
    lab.start(c, new, 301)
    c.run_for(1000)
    c.connect(old)
    c.run_for(2000)
    logs = _logs(c)
    if logs[old] != logs[new]:
        raise _fail(f"node {old} appended 201 and 202 as a leader cut off from the others; "
                    f"node {new} then led and appended 301. 2 s after node {old} came back, "
                    f"its log is {logs[old]}, the new leader's {logs[new]} "
                    f"({c.rebuild_call()})", rule("log-matching").hint, c)
    return ("start() appended at the right index and the leader brought every log up to date: "
            "a follower that missed entries caught up, and an old leader's conflicting entries "
            "were replaced.")


# ============================================================================ step 8 (3B)
def _probe_commit_rule(lab: _Lab) -> None:
    """Figure 8: a new leader does not commit an older term's entry by counting replicas; the
    entry commits with the first entry of its own term."""
    old_log = [LogEntry(1, "a"), LogEntry(2, "b")]
    p = lab.probe(n=3, me=0, state=encode_state(3, None, old_log))
    rv = p.candidate()
    p.reply(1, rv, RequestVoteReply(rv.term, True))
    if p.role != "leader":
        raise _fail(f"node 0 (log [(1, 'a'), (2, 'b')]) won the votes of node 1 and itself in "
                    f"term {rv.term} but is a {p.state} (step 4)", rule("vote-counting").hint)
    term = rv.term

    def to_peer() -> list[AppendEntries]:
        return [r for dst, r in p.env.calls
                if dst == 1 and isinstance(r, AppendEntries) and r.term == term]

    if not to_peer():
        raise _fail(f"node 0 became leader of term {term} but sent node 1 no AppendEntries "
                    f"(step 5)", rule("heartbeats").hint)
    for ae in to_peer():  # node 1 now holds everything the leader sent it
        p.reply(1, ae, AppendEntriesReply(term, True))
    commit = getattr(p.node, "commit_index", None)
    if commit:
        raise _fail(f"node 0, new leader of term {term} with log [(1, 'a'), (2, 'b')], "
                    f"learned that node 1 stores both entries and set commit_index = {commit}: "
                    f"an entry of an older term is never committed by counting its replicas "
                    f"(Figure 8 of the paper)", rule("commit-current-term").hint)
    sent = len(p.env.calls)
    got = p._do("start('c') on node 0", lambda: p.node.start("c"))
    if tuple(got) != (3, term, True):
        raise _fail(f"start('c') on node 0, leader of term {term} with 2 entries, returned "
                    f"{got}; expected (3, {term}, True)", rule("log-replication").hint)
    carrying = [r for r in to_peer()[len(to_peer()) - (len(p.env.calls) - sent):]
                if r.prev_log_index + len(r.entries) >= 3]
    if not carrying:
        timers = [name for name, _ in p.env.timers if name != p.env.timers[0][0]]
        if timers:  # the leader replicates on its heartbeat timer: let it fire
            name = timers[-1]
            p._do(f"on_timer({name!r}) on node 0", lambda: p.node.on_timer(name))
        carrying = [r for r in to_peer() if r.prev_log_index + len(r.entries) >= 3]
    if not carrying:
        raise _fail(f"node 0, leader of term {term}, accepted 'c' at index 3 but sent node 1 "
                    f"no AppendEntries carrying it, even after its heartbeat timer fired",
                    rule("log-replication").hint)
    for ae in carrying:
        p.reply(1, ae, AppendEntriesReply(term, True))
    commit = getattr(p.node, "commit_index", None)
    applied = [tuple(m) for m in p.env.applied]
    want = [(True, "a", 1), (True, "b", 2), (True, "c", 3)]
    if commit != 3 or applied != want:
        raise _fail(f"node 0, leader of term {term}, learned that node 1 stores index 3 "
                    f"('c', term {term}) and everything before it: a majority with itself. Its "
                    f"commit_index is {commit!r} and it applied {applied}; it should commit "
                    f"index 3, the older entries with it, and apply {want}",
                    "commit_index = N for the highest N of the current term stored on a "
                    "majority (match_index[peer] >= N, and your own log); then apply_committed() "
                    "hands every entry up to N to env.apply, in order.")


def _check_commit(lab: _Lab) -> str:
    _probe_commit_rule(lab)
    c = lab.cluster(3, 1)
    _wait_leader(lab, c, step="steps 1-6")
    for command, servers, cut in ((101, 3, None), (102, 3, None), (103, 2, "cut"),
                                  (104, 3, "heal")):
        leader = c.leader()
        if cut == "cut" and leader is not None:
            c.disconnect((leader + 1) % 3)
        if cut == "heal":
            for i in range(3):
                c.connect(i)
        try:
            c.one(command, servers, retry=True)
        except CheckFailed as exc:
            logs = _logs(c)
            commits = [getattr(c.nodes[i].raft, "commit_index", None) for i in range(3)]
            applied = [len(c.applied[i]) for i in range(3)]
            if all(any(cmd == command for _, cmd in log) for log in logs) and max(commits) == 0:
                hint = ("every log holds the command but no commit_index moved: the leader "
                        "sets commit_index = N once a majority has match_index >= N and "
                        "log[N].term == current_term.")
            elif max(commits) > max(applied):
                hint = ("commit_index advanced but nothing was applied: apply_committed() must "
                        "call env.apply(ApplyMsg(True, command, index)) for each newly committed "
                        "entry, on followers too (after leader_commit raises their "
                        "commit_index).")
            else:
                hint = rule("log-replication").hint
            raise _fail(f"{exc} (logs {logs}, commit_index {commits}, applied {applied})\n"
                        + "\n".join(getattr(exc, "__notes__", [])), hint, c) from None
    c.run_for(1000)
    want = [ApplyMsg(True, cmd, k) for k, cmd in enumerate((101, 102, 103, 104), 1)]
    for i in range(3):
        got = [tuple(m) for m in c.applied[i]]
        if got != [tuple(m) for m in want]:
            raise _fail(f"node {i} applied {got}; every server applies "
                        f"{[tuple(m) for m in want]}, in order ({c.rebuild_call()})",
                        rule("log-replication").hint, c)
    return ("a new leader did not commit an older term's entry by counting, then committed it "
            "with its own term's first entry; in a cluster, commands 101-104 were committed and "
            "applied in order on every server, one of them while a follower was cut off.")


# ============================================================================ step 9 (3B)
def _check_up_to_date(lab: _Lab) -> str:
    state = encode_state(2, None, [LogEntry(1, "a"), LogEntry(2, "b")])
    cases = [
        (RequestVote(3, 1, 5, 1), False, "a longer log whose last entry has an older term"),
        (RequestVote(4, 2, 1, 2), False, "a shorter log whose last entry has the same term"),
        (RequestVote(5, 1, 2, 2), True, "a log with the same last entry"),
        (RequestVote(6, 2, 1, 3), True, "a shorter log whose last entry has a newer term"),
    ]
    for request, grant, what in cases:
        p = lab.probe(n=3, me=0, state=state)
        log = getattr(p.node, "log", [])
        if len(log) != 3:
            raise _fail("a server restarted from saved state term 2, log [(1, 'a'), (2, 'b')] "
                        f"has a log of {len(log)} entries (with the sentinel); read_persist() "
                        "must restore it", rule("persistence").hint)
        reply = p.request(request.candidate, request)
        if bool(reply.granted) != grant or getattr(p.node, "current_term", None) != request.term:
            verdict = "grant" if grant else "refuse"
            raise _fail(f"a server in term 2 whose log ends with term 2 at index 2 answered "
                        f"{request!r} ({what}) with {reply!r} and is now a {p.state}; it must "
                        f"adopt term {request.term} and {verdict} the vote",
                        rule("up-to-date").hint)
    return ("votes went only to candidates whose log is at least as up-to-date: the last "
            "entries' terms decide, then the lengths.")
