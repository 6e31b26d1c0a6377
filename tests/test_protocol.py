"""Any class obeying NodeProtocol runs in the harness, and the harness records what it sees.

A student's node (tests/student_nodes.py) never calls ``env.record``: its trace, timeline,
election table and safety check must still be complete. The class is checked when the cluster
is built, and mistakes at the interface are errors that name the mistake."""

from __future__ import annotations

from collections import Counter

import pytest

from raftlab import (AppendEntries, AppendEntriesReply, CheckFailed, Cluster, NodeProtocol,
                     RequestVote, RequestVoteReply, SafetyViolation, check_election_safety)
from raftlab.analysis import elections
from raftlab.labtests import run_election_tests

from conftest import SEEDS
from student_nodes import ForgetsToReturnAReply, StudentRaft, VotesTwice


@pytest.mark.parametrize("reliable", [True, False], ids=["reliable", "unreliable"])
@pytest.mark.parametrize("seed", SEEDS[:5])
def test_a_students_node_passes_the_election_tests(seed: int, reliable: bool) -> None:
    runs = run_election_tests(seed, reliable, node_class=StudentRaft)
    assert [r.name for r in runs] == ["TestInitialElection3A", "TestReElection3A",
                                      "TestManyElections3A"]
    for run in runs:
        check_election_safety(run.cluster.trace)


def test_a_node_that_records_nothing_still_yields_a_complete_trace() -> None:
    c = Cluster(5, seed=3, node_class=StudentRaft)
    leader = c.check_one_leader()
    c.crash(leader)
    c.check_one_leader()
    kinds = Counter(e.kind for e in c.trace)
    for kind in ("state", "timeout", "vote", "timer", "send", "deliver", "crash"):
        assert kinds[kind] > 0, f"no {kind} events"
    roles = {e.role for e in c.trace.of("state")}
    assert roles == {"follower", "candidate", "leader"}
    # every election timeout is followed by the candidacy it caused, at the same instant
    for t in c.trace.of("timeout"):
        after = [e for e in c.trace.of("state") if e.node == t.node and e.time == t.time]
        assert after and after[0].role == "candidate" and after[0].term == t.term + 1
    # one vote event per RequestVote the node answered
    answered = sum(1 for e in c.trace.of("deliver") if e.msg == "RequestVote")
    assert kinds["vote"] == answered
    won = [e for e in elections(c) if e.outcome == "won"]
    assert len(won) == 2 and won[0].candidate == leader


def test_the_timeline_of_a_students_cluster_shows_roles_votes_and_timeouts() -> None:
    pytest.importorskip("matplotlib")
    from raftlab.plots import timeline
    c = Cluster(3, seed=2, node_class=StudentRaft)
    c.run_for(2000)
    info = timeline(c).raftlab
    assert {b[1] for b in info["bands"]} >= {"follower", "candidate", "leader"}
    assert info["vote_arrows"] and info["timeouts"]


def test_no_event_is_recorded_twice_for_the_reference_node() -> None:
    c = Cluster(5, seed=4)
    c.check_one_leader()
    c.disconnect(c.leader())
    c.run_for(3000)
    last: dict[int, tuple] = {}
    for e in c.trace.of("state"):
        assert last.get(e.node) != (e.role, e.term), f"state recorded twice: {e}"
        last[e.node] = (e.role, e.term)
    answered = sum(1 for e in c.trace.of("deliver") if e.msg == "RequestVote")
    assert len(c.trace.of("vote")) == answered
    fired = [e for e in c.trace.of("timer") if e.action == "fire" and e.name == "election"]
    timeouts = c.trace.of("timeout")
    # a leader's election timer is cancelled, so every firing starts an election
    assert [(e.node, e.time) for e in fired] == [(e.node, e.time) for e in timeouts]


def test_timer_events_record_every_set_cancel_and_fire_with_its_due_time() -> None:
    c = Cluster(3, seed=1)
    c.run_for(3000)
    pending: dict[tuple[int, str], float] = {}
    for e in c.trace.of("timer", "crash"):
        if e.kind == "crash":
            pending = {k: v for k, v in pending.items() if k[0] != e.node}
        elif e.action == "set":
            assert e.due >= e.time
            pending[(e.node, e.name)] = e.due
        elif e.action == "cancel":
            assert pending.pop((e.node, e.name)) >= e.time
        else:
            assert pending.pop((e.node, e.name)) == e.time, f"{e} fired off its due time"
    leader = c.leader()
    beats = [e for e in c.trace.of("timer") if e.node == leader and e.name == "heartbeat"
             and e.action == "fire"]
    assert len(beats) >= 20


def test_a_candidacy_inside_one_input_is_still_seen() -> None:
    c = Cluster(1, seed=0)
    c.run_for(1000)
    states = [(e.role, e.term) for e in c.trace.of("state")]
    assert states[:3] == [("follower", 0), ("candidate", 1), ("leader", 1)]
    assert [e.outcome for e in elections(c)] == ["won"]


def test_reference_and_student_nodes_satisfy_the_runtime_protocol_check() -> None:
    c = Cluster(3, seed=0, node_class=StudentRaft)
    assert isinstance(c.nodes[0].raft, NodeProtocol)
    assert isinstance(Cluster(3).nodes[1].raft, NodeProtocol)


# ------------------------------------------------------------------ checking the class
class NoFailureHandler:
    def __init__(self, me, n, persister, env, config, rng):
        self.role, self.current_term, self.log, self.commit_index = "follower", 0, [None], 0

    def boot(self): pass
    def kill(self): pass
    def get_state(self): return 0, False
    def start(self, command): return -1, 0, False
    def handle_request(self, src, msg): pass
    def handle_reply(self, src, request, reply): pass
    def on_timer(self, name): pass


class NoTerm(StudentRaft):
    def __init__(self, *args):
        super().__init__(*args)
        del self.current_term


class ThreeArguments(StudentRaft):
    def __init__(self, me, n, persister):  # noqa: D107 - the wrong constructor on purpose
        pass


class OddRole(StudentRaft):
    def boot(self):
        self.role = "Follower"
        super().boot()


@pytest.mark.parametrize("node_class, message", [
    (NoFailureHandler, "NoFailureHandler does not implement NodeProtocol: missing method "
                       "handle_failure"),
    (NoTerm, "NoTerm instance has no attribute current_term"),
    (ThreeArguments, r"must be constructed as ThreeArguments\(me, n, persister, env, config, "
                     r"rng\)"),
    ("RaftNode", "node_class must be a class"),
])
def test_a_class_that_breaks_the_protocol_is_a_type_error_naming_what_is_wrong(
        node_class, message) -> None:
    with pytest.raises(TypeError, match=message):
        Cluster(3, node_class=node_class)


def test_a_role_outside_the_protocol_is_named() -> None:
    with pytest.raises(ValueError, match="node 0's role is 'Follower'; NodeProtocol roles are "
                                         "follower, precandidate, candidate, leader"):
        Cluster(3, node_class=OddRole)


def test_a_handler_that_returns_no_reply_is_named() -> None:
    c = Cluster(3, seed=1, node_class=ForgetsToReturnAReply)
    with pytest.raises(TypeError, match=r"handle_request\(\d, RequestVote\(.*\)\) returned None; "
                                        r"it must return a RequestVoteReply"):
        c.run_for(2000)


def test_bad_requests_to_the_environment_are_named() -> None:
    c = Cluster(3, seed=1)
    env = c._envs[0]
    with pytest.raises(TypeError, match="a request must be a RequestVote, an AppendEntries or a PreVote"):
        env.call(1, {"term": 1})
    with pytest.raises(ValueError, match=r"set_timer\('election', -5\): the delay must be a "
                                         r"finite number of ms >= 0"):
        env.set_timer("election", -5)
    with pytest.raises(ValueError, match="unknown kind; a node may record note"):
        env.record("gossip", 1)
    with pytest.raises(ValueError, match="unknown kind"):
        env.record("crash")  # a harness event: a node cannot fake one
    with pytest.raises(ValueError, match=r"env.record\('note', ...\) takes 1 value"):
        env.record("note")


def test_env_record_adds_notes_and_never_duplicates_what_the_harness_sees() -> None:
    c = Cluster(3, seed=1)
    env = c._envs[2]
    before = len(c.trace)
    env.record("state", 9, "leader")      # the harness records states itself
    env.record("note", "hello from node 2")
    added = c.trace[before:]
    assert [(e.kind, e.node, e.text) for e in added] == [("note", 2, "hello from node 2")]


# ------------------------------------------------------------------ failures name the run
@pytest.mark.unsafe
def test_a_safety_bug_in_a_students_node_is_caught_from_the_trace() -> None:
    caught = 0
    for seed in range(20):
        c = Cluster(5, seed=seed, election_timeout=(150, 160), latency=(5, 15),
                    node_class=VotesTwice)
        c.run_for(3000)
        try:
            check_election_safety(c.trace)
        except SafetyViolation as exc:
            caught += "voted twice" in str(exc)
    assert caught


def test_check_failed_carries_the_cluster_and_says_how_to_rebuild_the_run() -> None:
    c = Cluster(3, seed=26, reliable=False, election_timeout=(300, 500))
    for i in range(3):
        c.disconnect(i)
    with pytest.raises(CheckFailed) as info:
        c.check_one_leader()
    exc = info.value
    assert str(exc) == "expected one leader, got none"     # config.go's text, exactly
    assert exc.cluster is c
    note = "\n".join(exc.__notes__)
    assert "Cluster(3, seed=26, election_timeout=(300, 500), reliable=False)" in note
    assert f"t={c.now} ms" in note


class NeverCampaigns(StudentRaft):
    def on_timer(self, name):
        pass


def test_a_failed_lab_test_says_how_to_rerun_it_alone() -> None:
    from raftlab.labtests import initial_election
    with pytest.raises(CheckFailed) as info:
        initial_election(3, reliable=False, node_class=NeverCampaigns)
    assert str(info.value) == "expected one leader, got none"
    notes = "\n".join(info.value.__notes__)
    assert ("rerun this test alone with raftlab.labtests.initial_election(3, reliable=False, "
            "node_class=NeverCampaigns)") in notes
    assert "Cluster(3, seed=3, reliable=False, node_class=NeverCampaigns)" in notes


def test_the_rebuild_call_names_a_students_class_and_rebuilds_the_same_trace() -> None:
    c = Cluster(3, seed=5, latency=(2, 4), long_reordering=True, node_class=StudentRaft)
    c.run_for(1500)
    assert c.rebuild_call() == ("Cluster(3, seed=5, latency=(2, 4), long_reordering=True, "
                                "node_class=StudentRaft)")
    again = eval(c.rebuild_call(), {"Cluster": Cluster, "StudentRaft": StudentRaft})
    again.run_for(1500)
    assert again.trace.to_json() == c.trace.to_json()


def test_messages_are_values() -> None:
    a, b = RequestVote(3, 1, 0, 0), RequestVote(3, 1, 0, 0)
    assert a == b and hash(a) == hash(b) and a is not b
    assert AppendEntries(1, 0, 0, 0, (), 0) != AppendEntries(1, 0, 0, 0, (), 1)
    with pytest.raises(AttributeError):
        a.term = 4  # type: ignore[misc]
    assert RequestVoteReply(1, True) != AppendEntriesReply(1, True)
    assert {a: "kept"}[b] == "kept"
