"""The 6.5840 election tests, on every seed of a sweep, reliable and unreliable.

``RAFTLAB_SEEDS=1000 make test`` runs 1000 seeds of each."""

from __future__ import annotations

import pytest

from raftlab import Cluster
from raftlab.labtests import (RAFT_ELECTION_TIMEOUT, initial_election, many_elections,
                              re_election)

from conftest import SEEDS


@pytest.mark.parametrize("reliable", [True, False], ids=["reliable", "unreliable"])
@pytest.mark.parametrize("seed", SEEDS)
def test_initial_election(seed: int, reliable: bool) -> None:
    run = initial_election(seed, reliable)
    c = run.cluster
    assert c.check_terms() >= 1
    if reliable:  # nothing failed, so nobody had reason to start a second election
        assert run.warnings == [], f"seed {seed}: {run.warnings}"
        assert len({e.term for e in c.trace.of("state") if e.role == "leader"}) == 1


def _passed_line(run) -> tuple[float, int, int, int, int]:
    """config.go's "Passed" line, parsed: seconds, peers, RPCs, bytes, agreements."""
    words = run.summary.split()
    assert words[:3] == ["...", "Passed", "--"], run.summary
    return float(words[3]), int(words[4]), int(words[5]), int(words[6]), int(words[7])


def _requests_sent(c: Cluster) -> int:
    return sum(1 for e in c.trace.of("send") if e.msg in ("RequestVote", "AppendEntries"))


@pytest.mark.parametrize("reliable", [True, False], ids=["reliable", "unreliable"])
@pytest.mark.parametrize("seed", SEEDS)
def test_re_election(seed: int, reliable: bool) -> None:
    run = re_election(seed, reliable)
    c = run.cluster
    # leader 1, a new one after it was cut off, and another once a quorum is back
    leader_terms = {e.term for e in c.trace.of("state") if e.role == "leader"}
    assert len(leader_terms) >= 3, leader_terms
    seconds, peers, rpcs, _, agreements = _passed_line(run)
    assert (seconds, peers, rpcs, agreements) == (round(c.now / 1000, 1), 3, c.rpc_total(), 0)
    assert rpcs == _requests_sent(c)


@pytest.mark.parametrize("reliable", [True, False], ids=["reliable", "unreliable"])
@pytest.mark.parametrize("seed", SEEDS)
def test_many_elections(seed: int, reliable: bool) -> None:
    run = many_elections(seed, reliable)
    c = run.cluster
    assert c.check_terms() == max(e.term for e in c.trace.of("state"))
    assert c.get_state(c.leader())[0] == c.check_terms()
    _, peers, rpcs, _, _ = _passed_line(run)
    assert (peers, rpcs) == (7, _requests_sent(c))


def _leader_states(c: Cluster, after: float) -> list:
    return [e for e in c.trace.of("state") if e.role == "leader" and e.time > after]


@pytest.mark.parametrize("n", [3, 5, 7])
@pytest.mark.parametrize("seed", SEEDS[:10])
def test_new_leader_within_5s_of_leader_failure(seed: int, n: int) -> None:
    c = Cluster(n, seed=seed)
    old = c.check_one_leader()
    old_term, _ = c.get_state(old)
    cut_at = c.now
    c.crash(old)
    new = c.check_one_leader()
    assert new != old
    first = _leader_states(c, cut_at)[0]
    assert first.term > old_term
    assert first.time - cut_at <= 5 * RAFT_ELECTION_TIMEOUT, f"seed {seed}"


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_minority_cannot_elect_and_old_leader_steps_down(seed: int) -> None:
    c = Cluster(5, seed=seed)
    old = c.check_one_leader()
    minority = [old, (old + 1) % 5]
    majority = [i for i in range(5) if i not in minority]
    c.partition(minority, majority)
    cut_at = c.now
    c.run_for(5_000)
    in_minority = {e.term for e in _leader_states(c, cut_at) if e.node in minority}
    assert not in_minority, f"seed {seed}: a minority node became leader in terms {in_minority}"
    new_leaders = [e for e in _leader_states(c, cut_at) if e.node in majority]
    assert new_leaders and new_leaders[0].time - cut_at <= 5_000
    assert c.get_state(old)[1], "the cut-off leader does not know yet, so it still thinks it leads"
    heal_at = c.now
    c.heal()
    c.run_for(1_000)
    assert not c.get_state(old)[1]
    stepped = [e for e in c.trace.of("state") if e.node == old and e.time >= heal_at]
    assert stepped and stepped[0].role == "follower"
    assert c.check_one_leader() in majority


@pytest.mark.parametrize("seed", SEEDS[:5])
def test_no_leader_without_majority(seed: int) -> None:
    c = Cluster(3, seed=seed)
    leader = c.check_one_leader()
    c.disconnect(leader)
    c.disconnect((leader + 1) % 3)
    c.run_for(2 * RAFT_ELECTION_TIMEOUT)
    c.check_no_leader()
    lone = (leader + 2) % 3
    terms = [e.term for e in c.trace.of("state") if e.node == lone]
    assert terms[-1] > terms[0], "the lone node keeps trying: its term climbs"


def test_heartbeats_at_most_ten_per_second_per_follower() -> None:
    c = Cluster(3, seed=4)
    leader = c.check_one_leader()
    start = c.now
    c.run_for(10_000)
    for peer in range(3):
        if peer == leader:
            continue
        beats = [e for e in c.trace.of("send") if e.src == leader and e.dst == peer
                 and e.msg == "AppendEntries" and e.time > start]
        assert len(beats) <= 10 * 10 + 1, len(beats)  # the lab's cap, 10 per second
        # and the leader does heartbeat at its configured period, no slower
        period = c.config.heartbeat_interval
        assert abs(len(beats) - 10_000 / period) <= 1, (len(beats), period)
        gaps = {round(b.time - a.time, 6) for a, b in zip(beats, beats[1:])}
        assert gaps == {period}, gaps
