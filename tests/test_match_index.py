"""matchIndex from the trace: ``raftlab.analysis.match_indices`` pairs each AppendEntries (its
``send``, whose ``next_index`` gives prev_log_index + 1 and whose ``detail`` the number of
entries) with the follower's reply (the next AppendEntriesReply it sends) and that reply's
delivery to the leader; ``log_grid`` draws the result. Checked against ``RaftNode``'s private
``match_index`` at many moments, and against the logs of a student-style node."""

from __future__ import annotations

import json

import pytest

from student_nodes import StudentLogRaft, StudentRaft

from raftlab import Cluster, RaftNode, Trace
from raftlab.analysis import MatchIndexFold, agreement, log_views, match_indices, next_indices
from raftlab.status import TraceDigest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from raftlab.plots import MATCH_COLOR, log_grid  # noqa: E402


def live_leaders(c: Cluster) -> list[tuple[int, object]]:
    return [(i, h.raft) for i, h in enumerate(c.nodes) if h.alive and h.raft.role == "leader"]


def compare_with_internal(c: Cluster, seen: list) -> None:
    """For every live leader, the trace's matchIndex equals its own ``match_index`` (a peer
    left out by the trace has its initial 0)."""
    for i, node in live_leaders(c):
        derived = match_indices(c.trace, i, node.current_term)
        assert set(derived) <= set(node.match_index), (c.now, derived)
        got = {p: derived.get(p, 0) for p in node.match_index}
        assert got == node.match_index, (c.now, i, got, node.match_index)
        seen.append(tuple(sorted(got.items())))


def churn(seed: int, seen: list) -> None:
    """Five nodes on labrpc's unreliable network with long reordering (replies overtake each
    other), a command per step and a node crashed and restarted in turn."""
    c = Cluster(5, seed=seed, reliable=False)
    c.set_long_reordering(True)
    for step in range(110):
        if step % 50 == 15:
            c.crash(step % 5)
        elif step % 50 == 40:
            c.restart((step - 25) % 5)
        for i, _ in live_leaders(c)[:1]:
            c.start(i, step)
        c.run_for(31)
        compare_with_internal(c, seen)


def quorum_partitions(seed: int, seen: list) -> None:
    """check_quorum on: a leader cut into a minority steps down in its own term; the majority
    elects another; commands on both sides; then the partition heals."""
    c = Cluster(5, seed=seed, check_quorum=True)
    c.one("a", 5)
    for round_ in range(3):
        leader = c.check_one_leader()
        minority = [leader, (leader + 1) % 5]
        c.partition(minority, [i for i in range(5) if i not in minority])
        c.start(leader, f"lost{round_}")
        for step in range(25):
            for i, _ in live_leaders(c):
                c.start(i, (round_, step))
            c.run_for(37)
            compare_with_internal(c, seen)
        c.heal()
        for _ in range(15):
            c.run_for(29)
            compare_with_internal(c, seen)


@pytest.mark.parametrize("scenario", [churn, quorum_partitions])
@pytest.mark.parametrize("seed", [1, 2])
def test_match_indices_are_the_raft_nodes_own_match_index_at_every_moment(scenario, seed):
    seen: list = []
    scenario(seed, seen)
    assert len(seen) > 40
    values = {v for row in seen for _, v in row}
    assert len(values) > 5 and max(values) > 5       # many different, growing values


class Remembering(RaftNode):
    """RaftNode that notes its ``match_index`` after every input while it leads: ``last[(me,
    term)]`` is what it held when its leadership of ``term`` ended (or now)."""

    last: dict = {}

    def _note(self):
        if self.role == "leader":
            Remembering.last[(self.me, self.current_term)] = dict(self.match_index)

    def handle_reply(self, src, request, reply):
        super().handle_reply(src, request, reply)
        self._note()

    def handle_request(self, src, msg):
        self._note()    # the input may make it step down: what it held before counts
        return super().handle_request(src, msg)

    def on_timer(self, name):
        self._note()
        super().on_timer(name)


def test_a_past_term_s_match_indices_are_what_its_leader_held_when_it_ended():
    """A leader cut into a minority with one follower keeps leading; long reordering holds
    that follower's successes back, so many arrive after the partition heals and the leader
    has stepped down: they no longer count (its matchIndex is gone)."""
    Remembering.last = {}
    c = Cluster(5, seed=3, node_class=Remembering)
    c.set_long_reordering(True)
    for round_ in range(3):
        leader = c.check_one_leader()
        c.partition([leader, (leader + 1) % 5], [(leader + k) % 5 for k in (2, 3, 4)])
        for step in range(10):
            c.start(leader, (round_, step))
            c.run_for(100)
        c.heal()
        c.run_for(2500)
    late = 0
    for (leader, term), held in Remembering.last.items():
        derived = match_indices(c.trace, leader, term)
        assert {p: derived.get(p, 0) for p in held} == held, (leader, term)
    for e in c.trace.of("deliver"):   # successes delivered to a node no longer leading
        if e.msg == "AppendEntriesReply" and (e.dst, e.term) in Remembering.last:
            lead = [s for s in c.trace.of("state") if s.node == e.dst and s.time <= e.time]
            late += lead[-1].role != "leader"
    assert len(Remembering.last) >= 4 and late > 0


def figure7(node_class: type = RaftNode, seed: int = 1):
    """The scene of notebook 10's Figure 7 section: when a new leader comes to power, one
    follower misses entries and another holds extra entries of an older term. Returns the
    cluster, the follower behind, the one with extra entries and the new leader's election
    event."""
    c = Cluster(5, seed=seed, node_class=node_class)
    c.one("a", 5)
    old = c.check_one_leader()
    behind = (old + 1) % 5
    c.crash(behind)
    c.one("b", 4)
    c.disconnect(old)
    for command in "xyz":
        c.start(old, command)
    c.crash(old)
    mid = c.check_one_leader()
    c.one("c", 3)
    c.one("d", 3)
    c.restart(behind)
    c.restart(old)
    c.crash(mid)
    elected = c.run_until_event(lambda e: e.kind == "state" and e.role == "leader", 5000)
    return c, behind, old, elected


def test_the_new_leader_learns_each_followers_match_as_its_logs_are_repaired():
    c, behind, extra, elected = figure7()
    leader, term = elected.node, elected.term
    seen: list = []
    for _ in range(40):
        c.run_for(7)
        compare_with_internal(c, seen)
    start = log_views(c.trace, elected.time)
    assert len(start[behind].terms) < len(start[leader].terms) < len(start[extra].terms)
    assert match_indices(c.trace, leader, term, elected.time) == {}
    final = log_views(c.trace)
    assert match_indices(c.trace, leader, term) == {
        v.node: len(final[leader].terms) for v in final if v.alive and v.node != leader}
    c.start(leader, "e")
    for _ in range(20):
        c.run_for(7)
        compare_with_internal(c, seen)
    # the leader's knowledge never runs ahead of the logs; it lags them until a success
    # arrives: unknown before the first one, one reply's flight behind after a new entry
    unknown = lagged = 0
    for e in c.trace.of("deliver"):
        if e.time < elected.time:
            continue
        views = log_views(c.trace, e.time)
        known = match_indices(c.trace, leader, term, e.time)
        for peer in range(5):
            truth = agreement(views[leader].terms, views[peer].terms)
            if peer == leader or not views[peer].alive:
                assert peer not in known or peer != leader
            elif peer not in known:
                unknown += truth > 0
            else:
                assert known[peer] <= truth
                lagged += known[peer] < truth
    assert unknown > 0 and lagged > 0
    assert match_indices(c.trace, leader, term) == {p: 5 for p in range(5)
                                                     if p != leader and c.nodes[p].alive}


def test_a_student_node_s_match_index_agrees_with_its_logs_and_its_own():
    c = Cluster(3, seed=2, node_class=StudentLogRaft)
    leader = c.check_one_leader()
    c.one("a", 3)
    follower = (leader + 1) % 3
    c.disconnect(follower)
    for command in "bcd":
        c.one(command, 2)
    c.connect(follower)
    samples = 0
    for _ in range(80):     # its return forces an election (its term rose while it was away)
        c.run_for(20)
        views = log_views(c.trace)
        for i, node in live_leaders(c):
            derived = match_indices(c.trace, i, node.current_term)
            for peer, k in derived.items():
                assert k <= agreement(views[i].terms, views[peer].terms)
                assert k == node.match_index[peer]
                samples += 1
    i, node = live_leaders(c)[0]
    term = node.current_term
    assert match_indices(c.trace, i, term) == {p: 4 for p in range(3) if p != i}
    # its nextIndex backs up one index per refusal, as plain Figure 2 says
    backing = [e.index for e in c.trace.of("next_index") if e.node == i and e.term == term
               and e.peer == follower]
    assert backing[-4:] == [4, 3, 2, 5] and samples > 50


def test_an_election_only_node_s_heartbeats_confirm_index_0():
    c = Cluster(3, seed=2, node_class=StudentRaft)
    leader = c.check_one_leader()
    c.run_for(500)
    term = c.get_state(leader)[0]
    assert match_indices(c, leader, term) == {p: 0 for p in range(3) if p != leader}


def test_log_grid_draws_the_match_bar_where_the_trace_puts_it():
    c, behind, extra, elected = figure7()
    leader, term = elected.node, elected.term
    c.run_for(400)
    moments = sorted({e.time for e in c.trace.of("deliver") if e.msg == "AppendEntriesReply"
                      and e.dst == leader and e.time >= elected.time})
    assert len(moments) > 6
    for at in [elected.time] + moments[:6]:
        fig = log_grid(c.trace, at=at)
        info = fig.raftlab
        assert info["leader"] == leader
        assert info["match"] == match_indices(c.trace, leader, term, at)
        assert info["next"] == next_indices(c.trace, leader, term, at)
        bars = {a.get_gid(): a for a in fig.axes[0].lines if str(a.get_gid()).startswith("m")}
        assert set(bars) == {f"match:{p}:{k}" for p, k in info["match"].items()}
        rows = len(log_views(c.trace, at))
        for p, k in info["match"].items():
            line = bars[f"match:{p}:{k}"]
            xs, ys = line.get_data()
            assert list(xs) == [k - 0.4, k + 0.4] and ys[0] < rows - 1 - p - 0.38  # under it
            assert matplotlib.colors.to_hex(line.get_color()) == MATCH_COLOR.lower()
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert any("matchIndex" in t for t in labels) == any(info["match"].values())
    assert log_grid(c.trace, at=elected.time).raftlab["match"] == {}
    last = log_grid(c).raftlab
    assert last["match"] == last["agree"] == {p: 4 for p in range(5)
                                              if p != leader and c.nodes[p].alive}


def test_the_panel_redraws_the_logs_when_a_reply_raises_a_match_index():
    c, behind, extra, elected = figure7()
    c.run_for(300)
    growing = Trace(c.trace.n, c.trace.meta)
    digest = TraceDigest(growing)
    fold = MatchIndexFold()
    rises = 0
    for raw in c.trace.raw:
        before = digest.update().log_changes
        growing.append(raw)
        after = digest.update().log_changes
        rose = fold.feed(raw)
        rises += rose
        if raw[1] == "deliver" and raw[4] == "AppendEntriesReply":
            assert after - before == rose
    assert rises >= 3


def test_match_indices_survive_json_and_need_the_send_details():
    c, _, _, elected = figure7()
    c.run_for(300)
    leader, term = elected.node, elected.term
    expected = match_indices(c.trace, leader, term)
    assert expected and match_indices(Trace.from_json(c.trace.to_json()), leader, term) == \
        expected
    doc = json.loads(c.trace.to_json())
    doc["events"] = [e[:-1] if e[1] == "send" else e for e in doc["events"]]  # no detail
    assert match_indices(Trace.from_json(json.dumps(doc)), leader, term) == {}


def test_match_indices_bad_input():
    c, _, _, elected = figure7()
    with pytest.raises(ValueError, match="unknown node id leader=5: node ids are 0..4"):
        match_indices(c.trace, 5, 1)
    with pytest.raises(ValueError, match="term must be an int >= 0, got -1"):
        match_indices(c.trace, elected.node, -1)
    with pytest.raises(ValueError, match="at"):
        match_indices(c.trace, elected.node, 1, at=c.now + 1)
    with pytest.raises(ValueError, match="expected a Cluster or a Trace"):
        match_indices("trace", 0, 1)
