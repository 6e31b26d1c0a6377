"""Some 6.5840 3B/3C tests, ported: they exercise one(), wait(), n_committed() and restarts."""

from __future__ import annotations

import re

import pytest

from raftlab import CheckFailed, Cluster, RaftNode
from raftlab.labtests import RAFT_ELECTION_TIMEOUT as RET

from conftest import SEEDS


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_basic_agree(seed: int) -> None:
    c = Cluster(3, seed=seed)
    for index in range(1, 4):
        nd, _ = c.n_committed(index)
        assert nd == 0, "some have committed before Start()"
        assert c.one(index * 100, 3, retry=False) == index
    assert [[m.command for m in c.applied[i]] for i in range(3)] == [[100, 200, 300]] * 3


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_fail_agree(seed: int) -> None:
    c = Cluster(3, seed=seed)
    c.one(101, 3, retry=False)
    leader = c.check_one_leader()
    c.disconnect((leader + 1) % 3)
    c.one(102, 2, retry=False)
    c.one(103, 2, retry=False)
    c.run_for(RET)
    c.one(104, 2, retry=False)
    c.one(105, 2, retry=False)
    c.connect((leader + 1) % 3)
    c.one(106, 3, retry=True)
    c.run_for(RET)
    c.one(107, 3, retry=True)


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_fail_no_agree(seed: int) -> None:
    c = Cluster(5, seed=seed)
    c.one(10, 5, retry=False)
    leader = c.check_one_leader()
    for k in (1, 2, 3):
        c.disconnect((leader + k) % 5)
    index, _, ok = c.start(leader, 20)
    assert ok and index == 2
    c.run_for(2 * RET)
    assert c.n_committed(index)[0] == 0, "committed but no majority"
    for k in (1, 2, 3):
        c.connect((leader + k) % 5)
    leader2 = c.check_one_leader()
    index2, _, ok2 = c.start(leader2, 30)
    assert ok2 and 2 <= index2 <= 3
    c.one(1000, 5, retry=True)


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_rejoin(seed: int) -> None:
    c = Cluster(3, seed=seed)
    c.one(101, 3, retry=True)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)
    for cmd in (102, 103, 104):
        c.start(leader1, cmd)
    c.one(103, 2, retry=True)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.connect(leader1)
    c.one(104, 2, retry=True)
    c.connect(leader2)
    c.one(105, 3, retry=True)


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_persist1(seed: int) -> None:
    c = Cluster(3, seed=seed)
    c.one(11, 3, retry=True)
    for i in range(3):
        c.restart(i)
    c.one(12, 3, retry=True)
    leader1 = c.check_one_leader()
    c.restart(leader1)
    c.one(13, 3, retry=True)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.one(14, 2, retry=True)
    c.restart(leader2)
    c.wait(4, 3, -1)
    i3 = (c.check_one_leader() + 1) % 3
    c.disconnect(i3)
    c.one(15, 2, retry=True)
    c.restart(i3)
    c.one(16, 3, retry=True)
    assert [m.command for m in c.applied[i3]] == [11, 12, 13, 14, 15, 16]


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_persist3_partitioned_leader_and_one_follower_crash(seed: int) -> None:
    c = Cluster(3, seed=seed)
    c.one(101, 3, retry=True)
    leader = c.check_one_leader()
    c.disconnect((leader + 2) % 3)
    c.one(102, 2, retry=True)
    c.crash(leader % 3)
    c.crash((leader + 1) % 3)
    c.connect((leader + 2) % 3)
    c.restart(leader % 3)
    c.one(103, 2, retry=True)
    c.restart((leader + 1) % 3)
    c.one(104, 3, retry=True)


@pytest.mark.parametrize("seed", SEEDS[:5])
def test_unreliable_agree(seed: int) -> None:
    c = Cluster(5, seed=seed, reliable=False)
    for k in range(1, 15):
        c.one(k, 1, retry=True)
    c.set_reliable(True)
    last = c.one(100, 5, retry=True)
    assert c.n_committed(last) == (5, 100)


def test_one_fails_with_config_go_message_without_a_majority() -> None:
    c = Cluster(3, seed=1)
    leader = c.check_one_leader()
    c.disconnect((leader + 1) % 3)
    c.disconnect((leader + 2) % 3)
    t0 = c.now
    with pytest.raises(CheckFailed) as info:
        c.one(77, 2, retry=False)
    assert str(info.value) == "one(77) failed to reach agreement"
    # without retry, config.go's one gives up after its first 2-second wait (not after 10 s)
    assert 2000 <= c.now - t0 <= 2100


def test_check_failures_carry_config_go_text_and_a_note_with_the_seed() -> None:
    c = Cluster(3, seed=9)
    c.disconnect(0)
    c.disconnect(1)
    c.disconnect(2)
    with pytest.raises(CheckFailed) as info:
        c.check_one_leader()
    assert str(info.value) == "expected one leader, got none"
    assert any("seed=9" in note for note in info.value.__notes__)
    assert 4500 <= c.now <= 5500 and isinstance(info.value, AssertionError)


def test_check_no_leader_and_terms_report_config_go_messages() -> None:
    c = Cluster(3, seed=2)
    leader = c.check_one_leader()
    with pytest.raises(CheckFailed) as info:
        c.check_no_leader()
    assert str(info.value) == (f"expected no leader among connected servers, "
                               f"but {leader} claims to be leader")
    c.disconnect(leader)
    c.run_for(3000)
    c.connect(leader)
    with pytest.raises(CheckFailed) as info:
        c.check_terms()
    assert str(info.value) == "servers disagree on term"


class _ForgingEnv:
    """Passes everything through to the real environment, but applies a command of its own
    at index 1."""

    def __init__(self, env) -> None:
        self.env = env

    def __getattr__(self, name):
        return getattr(self.env, name)

    def apply(self, msg) -> None:
        self.env.apply(msg._replace(command="forged") if msg.command_index == 1 else msg)


class ForgerAtNode1(RaftNode):
    """A planted bug: node 1 hands its service a different command for index 1."""

    def __init__(self, me, n, persister, env, config, rng) -> None:
        super().__init__(me, n, persister, _ForgingEnv(env) if me == 1 else env, config, rng)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_apply_history_checks_catch_conflicting_commits(seed: int) -> None:
    c = Cluster(3, seed=seed, node_class=ForgerAtNode1)
    with pytest.raises(CheckFailed) as info:
        c.one("a", 3)
    found = re.fullmatch(r"apply error: commit index=1 server=(\d) '(\w+)' != server=(\d) '(\w+)'",
                         str(info.value))
    assert found, str(info.value)
    pairs = {found.group(1, 2), found.group(3, 4)}
    assert ("1", "forged") in pairs and pairs - {("1", "forged")} <= {("0", "a"), ("2", "a")}


def test_run_until_event_stops_at_the_first_matching_event() -> None:
    c = Cluster(5, seed=3)
    became = c.run_until_event(lambda e: e.kind == "state" and e.role == "leader", 5000)
    assert became is not None and c.now == became.time
    assert [e.time for e in c.trace.of("state") if e.role == "leader"] == [became.time]
    assert c.leader() == became.node
    c.crash(became.node)
    again = c.run_until_event(lambda e: e.kind == "state" and e.role == "leader", 5000)
    assert again.term > became.term and again.node != became.node


def test_run_until_event_gives_up_after_the_timeout() -> None:
    c = Cluster(3, seed=1)
    start = c.now
    assert c.run_until_event(lambda e: e.kind == "crash", 1500) is None
    assert c.now == start + 1500
    with pytest.raises(ValueError, match="predicate must be a function"):
        c.run_until_event("leader", 100)
    with pytest.raises(ValueError, match="timeout must be a finite number of ms >= 0, got -1"):
        c.run_until_event(lambda e: True, -1)
