"""Bad arguments raise ValueError naming the bad value and what is allowed; nothing hangs."""

from __future__ import annotations

import math

import pytest

from raftlab import Cluster, NodeDown


def fresh() -> Cluster:
    return Cluster(3, seed=1)


CASES = [
    ("n < 1", lambda: Cluster(0), r"n must be an int in 1\.\.100, got 0"),
    ("n not an int", lambda: Cluster(2.5), r"n must be an int in 1\.\.100, got 2\.5"),
    ("n too big", lambda: Cluster(101), r"n must be an int in 1\.\.100, got 101"),
    ("seed not an int", lambda: Cluster(3, seed="x"), r"seed must be an int, got 'x'"),
    ("timeouts lo > hi", lambda: Cluster(3, election_timeout=(300, 150)),
     r"election_timeout must have lo <= hi, got \(300, 150\)"),
    ("timeout lo zero", lambda: Cluster(3, election_timeout=(0, 10)),
     r"election_timeout lower bound must be > 0 ms"),
    ("timeout not a pair", lambda: Cluster(3, election_timeout=150),
     r"election_timeout must be a \(lo, hi\) pair of milliseconds, got 150"),
    ("negative latency", lambda: Cluster(3, latency=(-1, 5)),
     r"latency lower bound must be >= 0 ms, got \(-1, 5\)"),
    ("NaN latency", lambda: Cluster(3, latency=(1, math.nan)), r"latency must hold finite numbers"),
    ("heartbeat 0", lambda: Cluster(3, heartbeat_interval=0), r"heartbeat_interval must be .*> 0, got 0"),
    ("unknown node id", lambda: fresh().crash(3), r"unknown node id 3: node ids are 0\.\.2"),
    ("negative node id", lambda: fresh().disconnect(-1), r"unknown node id -1"),
    ("bool node id", lambda: fresh().get_state(True), r"unknown node id True"),
    ("unknown node handle", lambda: fresh().nodes[3], r"unknown node id 3: node ids are 0\.\.2"),
    ("negative node handle", lambda: fresh().nodes[-1], r"unknown node id -1"),
    ("negative time", lambda: fresh().run_for(-5), r"run_for time must be a finite number of ms >= 0, got -5"),
    ("NaN time", lambda: fresh().run_for(math.nan), r"got nan"),
    ("infinite time", lambda: fresh().run_for(math.inf), r"got inf"),
    ("too long a run", lambda: fresh().run_for(10**12), r"at most 86400000 ms"),
    ("run_until the past", lambda: _after(fresh(), lambda c: c.run_until(10)), r"in the past"),
    ("node in two groups", lambda: fresh().partition([0, 1], [1, 2]),
     r"node 1 is in groups 0 and 1; a node belongs to one group"),
    ("node twice in a group", lambda: fresh().partition([0, 0]), r"node 0 is twice in group 0"),
    ("empty group", lambda: fresh().partition([0, 1, 2], []), r"partition group 1 is empty"),
    ("no groups", lambda: fresh().partition(), r"needs at least one group"),
    ("unknown node in a group", lambda: fresh().partition([0, 5]), r"unknown node id 5"),
    ("crash twice", lambda: _after(fresh(), lambda c: (c.crash(1), c.crash(1))),
     r"node 1 is already crashed"),
    ("expected servers out of range", lambda: fresh().one(1, 4), r"expected_servers must be an int in 1\.\.3, got 4"),
    ("wait for index 0", lambda: fresh().wait(0, 1, -1), r"index must be an int >= 1, got 0"),
    ("set_timing lo > hi", lambda: fresh().set_timing(election_timeout=(9, 1)), r"lo <= hi"),
]


def _after(c: Cluster, action):
    c.run_for(100)
    action(c)


@pytest.mark.parametrize("name, call, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_value_error(name, call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_a_crashed_node_raises_node_down_naming_it() -> None:
    c = fresh()
    c.crash(2)
    for call in (lambda: c.get_state(2), lambda: c.start(2, "x"),
                 lambda: c.nodes[2].get_state(), lambda: c.nodes[2].start("x")):
        with pytest.raises(NodeDown, match=r"node 2 is down \(crashed\); restart\(2\)"):
            call()
    assert issubclass(NodeDown, ValueError)


def test_failed_setting_changes_nothing() -> None:
    c = fresh()
    before = (c.config.election_timeout, c.config.heartbeat_interval, len(c.trace))
    with pytest.raises(ValueError):
        c.set_timing(election_timeout=(200, 100), heartbeat_interval=20)
    with pytest.raises(ValueError):
        c.partition([0, 1], [1])
    assert (c.config.election_timeout, c.config.heartbeat_interval, len(c.trace)) == before
    assert c.groups is None


def test_connect_and_disconnect_on_a_crashed_node_have_no_effect_and_restart_connects() -> None:
    c = fresh()
    c.crash(0)
    crashed_at = len(c.trace)
    c.connect(0)
    assert c.connected[0] is False
    c.disconnect(0)
    assert c.connected[0] is False
    assert c.trace.of("connect", "disconnect", start=crashed_at) == []
    c.restart(0)
    assert c.connected[0] is True and c.is_alive(0)
