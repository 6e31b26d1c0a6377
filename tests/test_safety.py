"""The election-safety checker catches planted bugs, and passes correct runs."""

from __future__ import annotations

import pytest

from raftlab import (Cluster, Persister, RaftNode, RequestVote, SafetyViolation, Trace,
                     check_election_safety)
from raftlab.persister import decode_state, encode_state
from raftlab.safety import SafetyMonitor, election_safety_violations


class DoubleVoter(RaftNode):
    """A planted bug: grants a vote to any up-to-date candidate, even after voting in the term."""

    def handle_request(self, src, msg):
        if isinstance(msg, RequestVote) and self.role != "candidate":
            self.voted_for = None
        return super().handle_request(src, msg)


class _VoteDroppingPersister:
    """Saves the node's hard state without its vote."""

    def __init__(self, persister: Persister) -> None:
        self.persister = persister

    def save(self, state: bytes) -> None:
        term, _, log = decode_state(state)
        self.persister.save(encode_state(term, None, log))

    def read(self) -> bytes:
        return self.persister.read()


class Amnesiac(RaftNode):
    """A planted bug: never persists its vote, so a restart forgets it."""

    def __init__(self, me, n, persister, env, config, rng) -> None:
        super().__init__(me, n, _VoteDroppingPersister(persister), env, config, rng)


def _split_vote_cluster(seed: int, node_class) -> Cluster:
    # Tight timeouts with latency comparable to their spread make rival candidates common.
    return Cluster(5, seed=seed, election_timeout=(150, 160), latency=(5, 15),
                   node_class=node_class)


@pytest.mark.unsafe
def test_checker_catches_a_node_that_votes_twice_in_a_term() -> None:
    caught = []
    for seed in range(40):
        c = _split_vote_cluster(seed, DoubleVoter)
        try:
            c.run_for(3000)
        except RuntimeError as exc:  # the node itself may notice a second leader and stop
            assert "two leaders in term" in str(exc)
        problems = election_safety_violations(c.trace)
        if any("voted twice" in p for p in problems):
            caught.append(seed)
            with pytest.raises(SafetyViolation, match=r"node \d voted twice in term \d+"):
                check_election_safety(c.trace)
    assert caught, "the planted double-vote bug was never caught"


def test_the_same_scenarios_are_safe_with_the_correct_node() -> None:
    for seed in range(40):
        c = _split_vote_cluster(seed, RaftNode)
        c.run_for(3000)
        assert election_safety_violations(c.trace) == [], f"seed {seed}"


def _restart_everyone_after_a_first_candidacy(seed: int, node_class) -> Cluster:
    """Node 2 runs its first candidacy with node 1's vote, then every node restarts: a node
    that forgot its vote may then grant it again in the same term."""
    c = Cluster(3, seed=seed, node_class=node_class, election_timeout=(150, 300))
    c.crash(0)
    c.crash(1)
    c.restart(1)
    c.run_for(405)
    for voter in range(3):
        if c.is_alive(voter):
            c.restart(voter)   # a vote that was not persisted is lost here
    c.restart(0)
    c.run_for(2000)
    return c


@pytest.mark.unsafe
def test_checker_catches_a_vote_forgotten_across_a_restart() -> None:
    caught = sum(
        any("voted twice" in p for p in
            election_safety_violations(_restart_everyone_after_a_first_candidacy(seed, Amnesiac).trace))
        for seed in range(30))
    assert caught > 0, "the planted lost-vote bug was never caught"
    for seed in range(30):
        c = _restart_everyone_after_a_first_candidacy(seed, RaftNode)
        assert election_safety_violations(c.trace) == [], f"seed {seed}"


def _trace(*events, n=3) -> Trace:
    t = Trace(n)
    for e in events:
        t.append(tuple(e))
    return t


@pytest.mark.parametrize("events, problem", [
    ([(1, "state", 0, 2, "leader"), (2, "state", 1, 2, "leader")],
     "term 2 has two leaders, node 0 and node 1"),
    ([(1, "state", 0, 3, "follower"), (2, "restart", 0), (2, "state", 0, 1, "follower")],
     "node 0's term went down from 3 to 1"),
    ([(1, "vote", 2, 0, 4, True), (2, "vote", 2, 1, 4, True)],
     "node 2 voted twice in term 4, for node 0 and for node 1"),
])
def test_checker_reports_each_kind_of_violation(events, problem) -> None:
    trace = _trace(*events)
    assert election_safety_violations(trace) == [f"t={trace[-1].time} ms: {problem}"]


@pytest.mark.parametrize("events", [
    [(1, "state", 0, 2, "leader"), (2, "state", 0, 3, "follower"), (3, "state", 1, 3, "leader")],
    [(1, "vote", 2, 0, 4, True), (2, "vote", 2, 0, 4, True), (3, "vote", 2, 1, 4, False)],
    [(1, "vote", 2, 0, 4, True), (2, "vote", 2, 1, 5, True)],
])
def test_checker_accepts_safe_histories(events) -> None:
    assert election_safety_violations(_trace(*events)) == []


def test_monitor_checks_new_events_against_everything_seen_before() -> None:
    trace = _trace((1, "vote", 2, 0, 4, True), (1, "state", 0, 4, "leader"))
    monitor = SafetyMonitor(trace)
    assert monitor.update() == []
    trace.append((2, "vote", 2, 1, 4, True))          # the second vote comes after an update
    trace.append((3, "state", 1, 4, "leader"))
    expected = ["t=2 ms: node 2 voted twice in term 4, for node 0 and for node 1",
                "t=3 ms: term 4 has two leaders, node 0 and node 1"]
    assert monitor.update() == expected
    assert monitor.update() == expected, "each event is checked once, each problem told once"
    assert election_safety_violations(trace) == expected
