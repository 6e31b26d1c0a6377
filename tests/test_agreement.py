"""config.go's checks on their own: one(), the failure messages and notes, the apply-history
check, and run_until_event. The 6.5840 3B/3C tests themselves are public
(``raftlab.agreement_tests``, ``raftlab.persistence_tests``) and swept in test_log_tests.py."""

from __future__ import annotations

import re

import pytest

from raftlab import CheckFailed, Cluster, RaftNode

from conftest import SEEDS


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
