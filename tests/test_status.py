"""The panel's running summary of a trace (``TraceDigest``) and its one-line event texts.

No widgets here: the digest is plain Python over a trace."""

from __future__ import annotations

from collections import namedtuple

from raftlab import Cluster, Trace
from raftlab.status import TraceDigest, describe_event
from raftlab.trace import KINDS

from counting import CountingList, CountingTrace


def test_digest_update_is_incremental_and_matches_a_fresh_one():
    c = Cluster(5, seed=7, reliable=False)
    d = TraceDigest(c.trace)
    for step in range(20):
        c.run_for(250)
        if step == 5:
            c.crash(c.leader() or 0)
        d.update()
    fresh = TraceDigest(c.trace).update()
    assert d.rows(c.now) == fresh.rows(c.now)
    assert list(d.recent) == list(fresh.recent)
    assert all(not (e.kind in ("send", "deliver", "drop") and e.msg.startswith("AppendEntries"))
               for e in d.recent)
    assert all(e.kind != "timer" for e in d.recent)


def test_digest_shows_timer_events_only_when_asked():
    c = Cluster(3, seed=1)
    c.run_for(1000)
    quiet = TraceDigest(c.trace, last=50).update()
    chatty = TraceDigest(c.trace, last=50, timers=True).update()
    assert not any(e.kind == "timer" for e in quiet.recent)
    assert any(e.kind == "timer" for e in chatty.recent)


def test_digest_reads_each_event_a_bounded_number_of_times():
    """A panel updates its digest after every action: over a long session the total number of
    events read must grow with the trace, not with (actions x trace length)."""
    # timers shorter than the heartbeat: elections all the time, so votes and role changes
    # (what the safety check reads) arrive between almost every pair of updates
    source = Cluster(5, seed=7, reliable=False, election_timeout=(100, 150))
    source.run_for(20_000)
    events = list(source.trace)
    trace = CountingTrace(5, meta=dict(source.trace.meta))
    d = TraceDigest(trace)
    CountingList.reads = 0
    updates = 0
    for k, ev in enumerate(events):
        trace.append(tuple(ev))
        if k % 10 == 0:  # an action every 10 events: hundreds of updates
            d.update()
            updates += 1
    d.update()
    assert updates > 300 and len(trace) > 3000
    # the digest reads each new event once and its safety monitor once more; a check of the
    # whole trace after each update would read it ~updates / 2 times over
    assert CountingList.reads <= 3 * len(trace), (CountingList.reads, len(trace))
    assert d.violations == [] and d.rows(trace.end_time) == \
        TraceDigest(source.trace).update().rows(trace.end_time)


def test_safety_violation_found_by_a_later_update():
    trace = Trace(3)
    trace.append((0, "state", 0, 1, "leader"))
    d = TraceDigest(trace).update()
    assert d.violations == []
    trace.append((5, "state", 1, 1, "leader"))
    assert d.update().violations == ["t=5 ms: term 1 has two leaders, node 0 and node 1"]
    trace.append((6, "vote", 2, 0, 1, True))
    trace.append((7, "vote", 2, 1, 1, True))
    assert d.update().violations[1:] == [
        "t=7 ms: node 2 voted twice in term 1, for node 0 and for node 1"]


def test_describe_event_reads_every_kind():
    c = Cluster(3, seed=1, reliable=False)
    c.run_for(2000)
    c.partition([0], [1, 2])
    c.heal()
    c.set_latency((1, 2))
    c.crash(0)
    c.restart(0)
    c.cut_link(0, 2, one_way=True)
    c.restore_link(0, 2, one_way=True)
    c.run_for(500)
    c.one("x", 3)
    c.trace.append((c.now, "note", 1, "hello"))
    kinds = set()
    for e in c.trace:
        line = describe_event(e)
        assert line.split()[1] == "ms" and float(line.split()[0]) == e.time
        assert "[" not in line.split("ms", 1)[1] or e.kind in ("start", "apply"), line
        kinds.add(e.kind)
    assert kinds >= {"state", "timeout", "vote", "timer", "send", "deliver", "drop", "crash",
                     "restart", "connect", "partition", "heal", "start", "apply", "config",
                     "note", "cut", "restore"}
    assert describe_event((12.5, "vote", 1, 2, 3, False)) == \
        "      12.5 ms  node 1 refused its vote to node 2 in term 3"
    assert describe_event((10, "timer", 2, "election", "set", 310.25)) == \
        "        10 ms  node 2 set its election timer (due 310.25 ms)"
    assert describe_event((10, "timer", 2, "heartbeat", "fire", 10)) == \
        "        10 ms  node 2's heartbeat timer fired"
    assert describe_event((10, "timer", 2, "heartbeat", "cancel", None)) == \
        "        10 ms  node 2 cancelled its heartbeat timer"
    assert describe_event((3, "note", 0, "snapshot taken")) == \
        "         3 ms  node 0: snapshot taken"
    assert describe_event((5, "cut", 0, 1, False)) == "         5 ms  cut link 0↔1"
    assert describe_event((5, "restore", 3, 1, True)) == "         5 ms  restore link 3→1"


class _LogTrace(list):
    """A stand-in trace with the log events the contract names (``append``, ``truncate``,
    ``commit``), for the digest's fold, whatever the installed trace format records."""

    n = 2

    def of(self, *kinds, start=0):
        return [e for e in self[start:] if e.kind in kinds]

    @property
    def raw(self):  # a Trace's tuples in field order: the named tuples are such tuples
        return self


def _event(time, kind, **fields):
    return namedtuple("E", ["time", "kind", *fields])(time, kind, *fields.values())


def test_digest_reads_log_length_commit_and_applied_from_log_events(monkeypatch):
    import raftlab.status as status
    monkeypatch.setattr(status, "LOG_EVENTS", True)
    monkeypatch.setattr(status, "COMMIT_EVENTS", True)
    trace = _LogTrace([
        _event(0, "state", node=0, term=1, role="leader"),
        _event(1, "start", node=0, index=1, term=1, command="a"),
        _event(1, "append", node=0, index=1, term=1),
        _event(1, "start", node=0, index=2, term=1, command="b"),
        _event(1, "append", node=0, index=2, term=1),
        _event(2, "append", node=1, index=1, term=1),
        _event(2, "append", node=1, index=2, term=1),
        _event(3, "commit", node=0, index=1),
        _event(3, "apply", node=0, index=1, command="a"),
        _event(4, "truncate", node=1, index=2),
        _event(5, "crash", node=0),
        _event(6, "restart", node=0),
    ])
    d = status.TraceDigest(trace)
    rows = d.update().rows(10)
    assert [(r.log_length, r.commit_index, r.applied) for r in rows] == [(2, 0, 0), (1, 0, 0)]
    del trace[-2:]
    rows = status.TraceDigest(trace).update().rows(10)
    assert [(r.log_length, r.commit_index, r.applied) for r in rows] == [(2, 1, 1), (1, 0, 0)]


def test_digest_reads_what_each_node_applied_and_forgets_it_on_restart():
    c = Cluster(3, seed=1)
    leader = c.check_one_leader()
    for command in (1, 2, 3):
        c.start(leader, command)
    c.run_for(300)
    d = TraceDigest(c.trace)
    assert [r.applied for r in d.update().rows(c.now)] == [3, 3, 3]
    other = (leader + 1) % 3
    c.restart(other)
    assert d.update().rows(c.now)[other].applied == 0
    c.run_for(1000)
    assert [r.applied for r in d.update().rows(c.now)] == [len(c.applied[i]) for i in range(3)]
    assert d.rows(c.now)[other].applied == 3
    if "append" not in KINDS:             # this trace format records no logs: not shown
        assert all(r.log_length is None and r.commit_index is None for r in d.rows(c.now))
