"""The discrete-event core: ordering, cancellation, bounded runs, seeded streams."""

from __future__ import annotations

import math

import pytest

from raftlab.sim import Simulator, derive_seed


def test_events_run_in_time_order_and_ties_in_scheduling_order() -> None:
    sim = Simulator()
    seen = []
    for name, t in [("c", 5), ("a", 1), ("b", 5), ("d", 5), ("e", 2.5)]:
        sim.call_at(t, seen.append, name)
    sim.run_until(10)
    assert seen == ["a", "e", "c", "b", "d"]
    assert sim.now == 10


def test_run_until_stops_at_the_end_time_inclusive() -> None:
    sim = Simulator()
    seen = []
    sim.call_at(3, seen.append, 3)
    sim.call_at(3.001, seen.append, 3.001)
    sim.run_until(3)
    assert seen == [3] and sim.now == 3
    sim.run_for(1)
    assert seen == [3, 3.001] and sim.now == 4


def test_callbacks_may_schedule_more_events_even_at_the_same_instant() -> None:
    sim = Simulator()
    seen = []

    def ping(k):
        seen.append((sim.now, k))
        if k < 3:
            sim.call_later(0, ping, k + 1)

    sim.call_at(1, ping, 0)
    sim.run_for(2)
    assert seen == [(1, 0), (1, 1), (1, 2), (1, 3)]


def test_cancelled_timers_never_fire() -> None:
    sim = Simulator()
    seen = []
    t1 = sim.call_later(5, seen.append, "x")
    sim.call_later(6, seen.append, "y")
    assert t1.active and t1.time == 5
    t1.cancel()
    t1.cancel()
    assert not t1.active
    sim.run_for(10)
    assert seen == ["y"]


def test_times_are_kept_to_the_microsecond_and_read_cleanly() -> None:
    sim = Simulator()
    for _ in range(10):
        sim.run_for(0.1)
    assert sim.now == 1.0 and sim.now_us == 1000
    sim.call_later(0.0004, lambda: None)          # rounds to 0 µs
    assert sim.peek() == 1.0


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, "5", None, True])
def test_running_by_a_bad_duration_is_refused(bad) -> None:
    sim = Simulator()
    with pytest.raises((ValueError, TypeError), match="run|milliseconds|ms"):
        sim.run_for(bad)


def test_running_or_scheduling_into_the_past_is_refused() -> None:
    sim = Simulator()
    sim.run_for(10)
    with pytest.raises(ValueError, match="before now"):
        sim.run_until(5)
    with pytest.raises(ValueError, match="before now"):
        sim.call_at(9, print)
    with pytest.raises(ValueError, match="delay"):
        sim.call_later(-1, print)


def test_named_streams_are_independent_and_reproducible() -> None:
    a, b = Simulator(7), Simulator(7)
    xs = [a.rng("net").random() for _ in range(5)]
    b.rng("node0").random()  # using another stream first does not perturb "net"
    assert [b.rng("net").random() for _ in range(5)] == xs
    assert [Simulator(8).rng("net").random() for _ in range(5)] != xs
    assert a.rng("net") is a.rng("net")
    assert derive_seed(7, "net") != derive_seed(7, "node0")
    assert derive_seed(7, "net") == derive_seed(7, "net")


def test_seed_must_be_an_int() -> None:
    with pytest.raises(ValueError, match="seed must be an int, got '1'"):
        Simulator("1")
