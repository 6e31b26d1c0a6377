"""The 6.5840 log (3B) and persistence (3C) tests, ported in ``raftlab.agreement_tests`` and
``raftlab.persistence_tests``: the reference node passes every one on a sweep of seeds, a node
with a planted bug fails the right one with config.go's message, and the goroutine helpers
behave like the blocking checks they stand in for."""

from __future__ import annotations

import re

import pytest

from raftlab import CheckFailed, Cluster, RaftNode
from raftlab.agreement_tests import (AGREEMENT_TESTS, basic_agree, concurrent_starts, count,
                                     randstring, rpc_bytes)
from raftlab.labtests import LabTest
from raftlab.persistence_tests import (PERSISTENCE_TESTS, Goroutine, figure8, one_steps,
                                       persist1, unreliable_agree, wait_all)

from conftest import SEEDS
from planted import Forgetful

#: every test, with the network Go runs it on
UNRELIABLE = {"TestUnreliableAgree3C", "TestFigure8Unreliable3C", "TestUnreliableChurn3C"}
#: tests that take more than a few seconds over the sweep (still run by default)
SLOW = {"TestFigure8Unreliable3C", "TestReliableChurn3C"}


def _params() -> list:
    tests = {**AGREEMENT_TESTS, **PERSISTENCE_TESTS}
    return [pytest.param(test, id=name, marks=[pytest.mark.slow] if name in SLOW else [])
            for name, test in tests.items()]


def _passed_line(summary: str) -> tuple[float, int, int, int, int]:
    words = summary.split()
    assert words[:3] == ["...", "Passed", "--"], summary
    return float(words[3]), int(words[4]), int(words[5]), int(words[6]), int(words[7])


@pytest.mark.parametrize("seed", SEEDS[:10])
@pytest.mark.parametrize("test", _params())
def test_reference_node_passes(test: LabTest, seed: int) -> None:
    run = test(seed)
    c = run.cluster
    assert c.network_config.reliable is True or test.name in UNRELIABLE
    assert (c.trace.meta["reliable"] is False) == (test.name in UNRELIABLE)
    seconds, peers, rpcs, _, agreements = _passed_line(run.summary)
    assert peers == test.n and rpcs <= c.rpc_total()
    assert agreements == c.max_index >= 1
    assert run.header == f"{test.header} ..."


def test_the_suites_are_6_5840_2024s_in_file_order() -> None:
    assert list(AGREEMENT_TESTS) == [
        "TestBasicAgree3B", "TestRPCBytes3B", "TestFollowerFailure3B", "TestLeaderFailure3B",
        "TestFailAgree3B", "TestFailNoAgree3B", "TestConcurrentStarts3B", "TestRejoin3B",
        "TestBackup3B", "TestCount3B"]
    assert list(PERSISTENCE_TESTS) == [
        "TestPersist13C", "TestPersist23C", "TestPersist33C", "TestFigure83C",
        "TestUnreliableAgree3C", "TestFigure8Unreliable3C", "TestReliableChurn3C",
        "TestUnreliableChurn3C"]
    sizes = {name: test.n for name, test in {**AGREEMENT_TESTS, **PERSISTENCE_TESTS}.items()}
    assert {name for name, n in sizes.items() if n == 5} == {
        "TestFailNoAgree3B", "TestBackup3B", "TestPersist23C", "TestFigure83C",
        "TestUnreliableAgree3C", "TestFigure8Unreliable3C", "TestReliableChurn3C",
        "TestUnreliableChurn3C"}
    assert all(n in (3, 5) for n in sizes.values())
    assert {name for name, test in PERSISTENCE_TESTS.items() if not test.reliable} == UNRELIABLE
    assert all(test.reliable for test in AGREEMENT_TESTS.values())
    assert basic_agree.header == "Test (3B): basic agreement"
    assert PERSISTENCE_TESTS["TestPersist33C"].header == (
        "Test (3C): partitioned leader and one follower crash, leader restarts")


def test_basic_agreement_applies_100_200_300_everywhere() -> None:
    c = basic_agree(3).cluster
    assert [[m.command for m in c.applied[i]] for i in range(3)] == [[100, 200, 300]] * 3


def test_a_restarted_server_reapplies_its_whole_log_in_persist1() -> None:
    c = persist1(4).cluster
    # every instance that was started last applies 11..16 from index 1 on
    assert any([m.command for m in c.applied[i]] == [11, 12, 13, 14, 15, 16] for i in range(3))
    assert c.n_committed(6) == (3, 16)


def test_a_test_runs_on_the_cluster_its_factory_builds() -> None:
    class Graded(Cluster):
        pass

    run = unreliable_agree.run_with(Graded, 1)
    assert type(run.cluster) is Graded and run.cluster.trace.meta["reliable"] is False


def test_the_network_can_still_be_chosen() -> None:
    run = basic_agree(2, reliable=False)
    assert run.cluster.trace.meta["reliable"] is False
    assert unreliable_agree.reliable is False


def test_a_run_is_a_function_of_the_seed() -> None:
    a = unreliable_agree(5).cluster.trace.to_json()
    assert a == unreliable_agree(5).cluster.trace.to_json()
    assert a != unreliable_agree(6).cluster.trace.to_json()


def test_concurrent_starts_share_one_instant() -> None:
    c = concurrent_starts(1).cluster
    starts = [e for e in c.trace.of("start") if e.command in range(100, 105)]
    assert len({e.time for e in starts}) == 1 and len(starts) == 5


def test_randstring_is_config_go_s_alphabet_and_length() -> None:
    c = Cluster(1, seed=0)
    s = randstring(c, 5000)
    assert len(s) == 5000 and set(s) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert s != randstring(c, 5000)


# ---------------------------------------------------------------------- planted bugs
class NeverAppends(RaftNode):
    """A planted bug: the AppendEntries handler acknowledges entries but never stores them."""

    def _handle_append_entries(self, msg):
        return super()._handle_append_entries(
            type(msg)(msg.term, msg.leader, msg.prev_log_index, msg.prev_log_term, (),
                      msg.leader_commit))


def test_a_node_that_never_appends_fails_basic_agreement() -> None:
    with pytest.raises(CheckFailed) as info:
        basic_agree(0, node_class=NeverAppends)
    assert str(info.value) == "one(100) failed to reach agreement"
    assert any("raftlab.agreement_tests.basic_agree(0, reliable=True, "
               "node_class=NeverAppends)" in note for note in info.value.__notes__)
    # one(..., retry=False) gives up after its first 2-second wait
    c = info.value.cluster
    assert c.n_committed(1) == (1, 100)   # only the leader applied it


@pytest.mark.unsafe
def test_a_node_that_never_persists_fails_basic_persistence() -> None:
    with pytest.raises(CheckFailed) as info:
        persist1(0, node_class=Forgetful)
    # after the restart of every server, index 1 is decided again, differently
    assert str(info.value).startswith("apply error: commit index=1 server="), str(info.value)
    assert "12 != server=" in str(info.value) and str(info.value).endswith(" 11")


class NoFigure8Rule(RaftNode):
    """A planted bug: the leader commits any entry a majority holds, even of an older term."""

    def _advance_commit(self):
        for index in range(self.last_log_index, self.commit_index, -1):
            if 1 + sum(1 for m in self.match_index.values() if m >= index) > self.n // 2:
                self.commit_index = index
                self._apply_committed()
                break


def test_a_node_without_the_figure_8_rule_fails_figure_8() -> None:
    messages = []
    for seed in range(10):   # it is caught on about a third of the seeds
        try:
            figure8(seed, node_class=NoFigure8Rule)
        except CheckFailed as exc:
            messages.append(str(exc))
    assert messages and all(re.fullmatch(r"apply error: commit index=\d+ server=\d \d+ != "
                                         r"server=\d \d+", m) for m in messages), messages


class ResendsTheWholeLog(RaftNode):
    """A planted inefficiency: every AppendEntries carries the leader's whole log."""

    def _send_append_entries(self, peer):
        self.next_index[peer] = 1
        super()._send_append_entries(peer)


def test_resending_the_log_fails_the_rpc_byte_count() -> None:
    with pytest.raises(CheckFailed) as info:
        rpc_bytes(0, node_class=ResendsTheWholeLog)
    assert re.fullmatch(r"too many RPC bytes; got \d+, expected 150000", str(info.value))


def test_heartbeats_every_20_ms_fail_the_rpc_count() -> None:
    with pytest.raises(CheckFailed) as info:
        count(0, heartbeat_interval=20)
    assert re.fullmatch(r"too many RPCs \(\d+\) for 1 second of idleness", str(info.value))


# ---------------------------------------------------------------------- goroutines
@pytest.mark.parametrize("seed", SEEDS[:5])
def test_one_in_a_goroutine_is_one(seed: int) -> None:
    blocking = Cluster(5, seed=seed, reliable=False)
    background = Cluster(5, seed=seed, reliable=False)
    for c in (blocking, background):
        c.check_one_leader()
    index = blocking.one("x", 4)
    routine = Goroutine(background, one_steps(background, "x", 4))
    wait_all(background, [routine])
    assert routine.done and routine.result == index
    assert background.now == blocking.now
    assert background.trace.to_json() == blocking.trace.to_json()


def test_a_goroutine_failure_stops_the_test_when_it_happens() -> None:
    c = Cluster(3, seed=1)
    c.check_one_leader()
    for i in range(3):
        c.disconnect(i)
    t0 = c.now
    routine = Goroutine(c, one_steps(c, 5, 3))
    with pytest.raises(CheckFailed) as info:
        c.run_for(60_000)
    assert str(info.value) == "one(5) failed to reach agreement"
    assert routine.done and routine.error is info.value and 10_000 <= c.now - t0 <= 10_100
    wait_all(c, [routine])   # a failed routine is done: nothing left to wait for


def test_wait_all_stops_when_the_last_goroutine_returns() -> None:
    c = Cluster(1, seed=0)

    def sleeper(*naps):
        for ms in naps:
            yield ms
        return sum(naps)

    routines = [Goroutine(c, sleeper(30, 20)), Goroutine(c, sleeper(70)), Goroutine(c, sleeper())]
    assert routines[2].done and routines[2].result == 0
    wait_all(c, routines)
    assert c.now == 70 and [r.result for r in routines] == [50, 70, 0]
