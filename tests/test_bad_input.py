"""Bad arguments raise ValueError naming the bad value and what is allowed; nothing hangs."""

from __future__ import annotations

import math

import pytest

from raftlab import Cluster, NodeDown
from raftlab.validation import (BadArgumentType, check_bool, check_duration, check_int,
                                check_number, check_range, check_seed)


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


# ------------------------------------------------------------------ the shared checks
CHECKS = [
    # (call, exception, message): the message names the argument, the value and what is allowed
    (lambda: check_seed(1.0), BadArgumentType, r"^seed must be an int, got 1\.0$"),
    (lambda: check_seed(True), BadArgumentType, r"^seed must be an int, got True$"),
    (lambda: check_int("n", "3", 1, 9), BadArgumentType, r"^n must be an int in 1\.\.9, got '3'$"),
    (lambda: check_int("n", 10, 1, 9), ValueError, r"^n must be an int in 1\.\.9, got 10$"),
    (lambda: check_int("trials", 0, 1), ValueError, r"^trials must be an int >= 1, got 0$"),
    (lambda: check_number("cap", 0, 0, 100, open_lo=True, unit="ms"), ValueError,
     r"^cap must be a finite number of ms > 0 and <= 100, got 0$"),
    (lambda: check_number("q", 101, 0, 100), ValueError,
     r"^q must be a finite number >= 0 and <= 100, got 101$"),
    (lambda: check_number("q", 1, 0, 1, open_hi=True), ValueError, r"< 1, got 1$"),
    (lambda: check_number("q", math.nan, 0, 100), ValueError, r"got nan$"),
    (lambda: check_number("x", math.inf), ValueError, r"^x must be a finite number, got inf$"),
    (lambda: check_number("end", math.nan, 0, finite=False), ValueError,
     r"^end must be a number >= 0, got nan$"),
    (lambda: check_number("x", None), BadArgumentType, r"^x must be a finite number, got None$"),
    (lambda: check_number("x", False, 0), BadArgumentType, r"got False$"),
    (lambda: check_range("t", (0, 5), 0, open_minimum=True), ValueError,
     r"^t lower bound must be > 0 ms, got \(0, 5\)$"),
    (lambda: check_range("t", (5, 5), distinct=True), ValueError,
     r"^t must have lo < hi \(a range to draw from\), got \(5, 5\)$"),
    (lambda: check_range("t", (1, "2")), BadArgumentType, r"^t must hold finite numbers of ms"),
    (lambda: check_range("t", (1, math.inf)), ValueError, r"^t must hold finite numbers of ms"),
    (lambda: check_range("t", None), BadArgumentType, r"^t must be a \(lo, hi\) pair"),
    (lambda: check_duration(-1, "wait"), ValueError,
     r"^wait must be a finite number of ms >= 0, got -1$"),
    (lambda: check_duration("5", "wait"), BadArgumentType, r"^wait must be a finite number"),
    (lambda: check_bool("flag", "no"), BadArgumentType, r"^flag must be True or False, got 'no'$"),
    (lambda: check_bool("flag", 1), BadArgumentType, r"got 1$"),
]


@pytest.mark.parametrize("call, exception, message", CHECKS)
def test_each_shared_check_names_the_argument_value_and_allowed_range(call, exception,
                                                                       message) -> None:
    with pytest.raises(exception, match=message) as info:
        call()
    assert isinstance(info.value, ValueError)  # every bad argument is a ValueError


def test_good_values_pass_the_shared_checks_unchanged() -> None:
    assert check_seed(-3) == -3 and check_int("n", 9, 1, 9) == 9
    assert check_number("x", 3) == 3.0 and isinstance(check_number("x", 3), float)
    assert check_number("end", math.inf, 0, finite=False) == math.inf
    assert check_range("t", (0, 0)) == (0, 0) and check_range("t", [1.5, 2]) == (1.5, 2)
    assert check_duration(0) == 0.0 and check_bool("flag", False) is False


def test_a_wrong_type_is_a_value_error_and_a_type_error() -> None:
    assert issubclass(BadArgumentType, ValueError) and issubclass(BadArgumentType, TypeError)
    with pytest.raises(ValueError, match="run_for time must be a finite number of ms"):
        fresh().run_for("5")
