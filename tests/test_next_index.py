"""nextIndex from the trace: the harness records the ``prev_log_index + 1`` of the
AppendEntries a leader sends each peer (``next_index`` events, when it changes), which
``raftlab.analysis.next_indices`` reads back and ``log_grid`` draws, for any node class."""

from __future__ import annotations

import json

import pytest

from student_nodes import StudentRaft

from raftlab import Cluster, RaftNode, Trace
from raftlab.analysis import log_views, next_indices
from raftlab.messages import AppendEntries
from raftlab.status import TraceDigest, describe_event

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from raftlab.plots import log_grid  # noqa: E402


class _Spy:
    """An environment that notes every AppendEntries its node sends, then sends it."""

    def __init__(self, env, me, sent):
        self._env, self._me, self._sent = env, me, sent

    def call(self, dst, request):
        if isinstance(request, AppendEntries):
            self._sent.append((self._me, dst, request.term, request.prev_log_index + 1))
        self._env.call(dst, request)

    def __getattr__(self, name):
        return getattr(self._env, name)


def spying(base: type) -> tuple[type, list]:
    """A subclass of ``base`` whose instances report every AppendEntries they send."""
    sent: list[tuple[int, int, int, int]] = []

    class Spied(base):  # type: ignore[misc, valid-type]
        def __init__(self, me, n, persister, env, config, rng):
            super().__init__(me, n, persister, _Spy(env, me, sent), config, rng)

    return Spied, sent


def changes(sent: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The sends whose (term, nextIndex) differs from the sender's last one to that peer."""
    last: dict[tuple[int, int], tuple[int, int]] = {}
    out = []
    for src, dst, term, nxt in sent:
        if last.get((src, dst)) != (term, nxt):
            last[(src, dst)] = (term, nxt)
            out.append((src, dst, term, nxt))
    return out


def lagging_follower(node_class: type = RaftNode) -> tuple[Cluster, int, int, float]:
    """A follower misses three entries, then comes back: the leader's AppendEntries to it
    start past its log, are refused, and back up. Returns the cluster, the leader, the
    follower and when it came back."""
    c = Cluster(3, seed=1, node_class=node_class)
    leader = c.check_one_leader()
    c.one("a", 3)
    follower = (leader + 1) % 3
    c.disconnect(follower)
    for command in "bcd":
        c.one(command, 2)
    back = c.now
    c.connect(follower)
    c.run_for(2000)
    return c, leader, follower, back


@pytest.mark.parametrize("base", [RaftNode, StudentRaft])
def test_next_index_events_are_the_prev_log_index_of_each_appendentries_that_changes(base):
    cls, sent = spying(base)
    if base is RaftNode:
        c = lagging_follower(cls)[0]
    else:                       # an election-only node: prev_log_index 0, nextIndex 1
        c = Cluster(3, seed=2, node_class=cls)
        c.run_for(2000)
        c.crash(c.check_one_leader())
        c.run_for(2000)
    events = [(e.node, e.peer, e.term, e.index) for e in c.trace.of("next_index")]
    assert events == changes(sent)
    assert len({term for _, _, term, _ in events}) >= 2
    assert len(sent) > 3 * len(events)   # heartbeats that change nothing record nothing


def test_next_indices_follows_the_leader_backing_up_and_catching_up():
    c, _, follower, back = lagging_follower()
    leader = c.check_one_leader()           # the follower's return forced a new election
    term = c.get_state(leader)[0]
    assert len(log_views(c.trace, back)[follower].terms) == 1
    mine = [e for e in c.trace.of("next_index") if e.node == leader and e.term == term]
    to_follower = [e.index for e in mine if e.peer == follower]
    # a new leader starts at its last index + 1 (5); the follower holds one entry, so the
    # refusal backs nextIndex up to 2; once the entries are in, it is 5 again
    assert to_follower == [5, 2, 5]
    appended = [e.time for e in c.trace.of("append") if e.node == follower and e.time > back]
    backed_up, caught_up = [e.time for e in mine if e.peer == follower][1:]
    assert appended and backed_up < min(appended) and max(appended) < caught_up
    for at, expected in ((backed_up, 2), (caught_up - 0.001, 2), (caught_up, 5)):
        assert next_indices(c.trace, leader, term, at)[follower] == expected
        fig = log_grid(c.trace, at=at)
        assert fig.raftlab["leader"] == leader
        assert fig.raftlab["next"] == next_indices(c.trace, leader, term, at)
        assert fig.raftlab["next"][follower] == expected
    assert next_indices(c.trace, leader, term, mine[0].time - 0.001) == {}
    assert next_indices(c.trace, leader, term) == {p: 5 for p in range(3) if p != leader}


def test_log_grid_marks_next_index_only_with_a_leader_that_sent_something():
    c = Cluster(3, seed=1)
    c.run_for(50)                          # nobody leads yet
    assert log_grid(c).raftlab["next"] == {}
    leader = c.check_one_leader()
    fig = log_grid(c)
    assert fig.raftlab["next"] == {p: 1 for p in range(3) if p != leader}
    gids = {a.get_gid() for a in fig.axes[0].collections}
    assert {f"next:{p}:1" for p in range(3) if p != leader} <= gids


def test_next_index_events_survive_json_and_are_checked_when_read():
    c, *_ = lagging_follower()
    back = Trace.from_json(c.trace.to_json())
    assert back.of("next_index") == c.trace.of("next_index") != []
    doc = json.loads(c.trace.to_json())
    doc["events"] = [[0, "next_index", 0, 7, 1, 1]]
    with pytest.raises(ValueError, match="peer 7 is not a node id"):
        Trace.from_json(json.dumps(doc))


def test_the_panel_event_list_keeps_next_index_with_the_heartbeats():
    c, leader, follower, _ = lagging_follower()
    quiet, busy = TraceDigest(c.trace, last=10_000).update(), \
        TraceDigest(c.trace, last=10_000, heartbeats=True).update()
    assert not any(e.kind == "next_index" for e in quiet.recent)
    assert sum(e.kind == "next_index" for e in busy.recent) == len(c.trace.of("next_index"))
    e = c.trace.of("next_index")[-1]
    assert describe_event(e).endswith(f"leader {e.node} sends node {e.peer} entries from "
                                      f"index {e.index} (nextIndex, term {e.term})")


def test_next_indices_bad_input():
    c, leader, _, _ = lagging_follower()
    with pytest.raises(ValueError, match="unknown node id leader=3: node ids are 0..2"):
        next_indices(c.trace, 3, 1)
    with pytest.raises(ValueError, match="term must be an int >= 0, got -1"):
        next_indices(c.trace, leader, -1)
    with pytest.raises(ValueError, match="at"):
        next_indices(c.trace, leader, 1, at=c.now + 1)
