"""Link faults: cut_link / restore_link, one way or both, and how they compose with
disconnect, connect, partitions, heal, crashes and restarts."""

from __future__ import annotations

import pytest

from raftlab import Cluster, RequestVote, Trace
from raftlab.cluster import UnknownNode
from raftlab.validation import BadArgumentType

from test_network import make_net


def reach(c: Cluster) -> set[tuple[int, int]]:
    """Every directed link that is up now."""
    return {(a, b) for a in range(c.n) for b in range(c.n) if a != b and c.network.link_up(a, b)}


def everything_but(c: Cluster, *down: tuple[int, int]) -> set[tuple[int, int]]:
    return {(a, b) for a in range(c.n) for b in range(c.n) if a != b} - set(down)


# ------------------------------------------------------------------ messages on a cut link
def test_a_two_way_cut_drops_exactly_the_messages_between_the_two_nodes() -> None:
    c = Cluster(3, seed=4)
    c.check_one_leader()
    cut_at, first = c.now, len(c.trace)
    c.cut_link(0, 1)
    c.run_for(3000)
    sends = {e.id: e for e in c.trace[first:] if e.kind == "send"}
    fate = {e.id: e for e in c.trace[first:] if e.kind in ("deliver", "drop")}
    on_link = [m for m in sends if {sends[m].src, sends[m].dst} == {0, 1}]
    assert {sends[m].src for m in on_link} == {0, 1}, "traffic both ways was tried"
    for m in on_link:
        assert fate[m].kind == "drop" and fate[m].reason == "link cut", fate[m]
    others = [m for m in sends if m not in on_link and m in fate]
    assert others and all(fate[m].kind == "deliver" for m in others)
    # anything in flight on the link when it was cut is lost on arrival, with the same reason
    assert all(e.reason == "link cut" for e in c.trace[first:] if e.kind == "drop")
    assert c.trace.of("cut") == [c.trace[first]] and c.trace[first].time == cut_at


def test_a_one_way_cut_loses_only_what_travels_that_way() -> None:
    sim, trace, net, nodes = make_net(n=3, seed=1, latency=(10, 10))
    assert net.set_link(0, 1, True)
    net.call(0, 1, RequestVote(1, 0, 0, 0))      # a -> b: the request is lost
    net.call(1, 0, RequestVote(2, 1, 0, 0))      # b -> a: delivered, but a's reply is lost
    net.call(0, 2, RequestVote(3, 0, 0, 0))      # another link: untouched
    sim.run_for(10_000)
    assert nodes[1].handled == 0 and nodes[0].handled == 1 and nodes[2].handled == 1
    assert [term for _, term in nodes[0].failures] == [1]
    assert [term for _, term in nodes[1].failures] == [2] and nodes[1].replies == []
    assert [term for _, term in nodes[0].replies] == [3]
    assert [(e.src, e.dst, e.msg, e.reason) for e in trace.of("drop")] == [
        (0, 1, "RequestVote", "link cut"), (0, 1, "RequestVoteReply", "link cut")]


@pytest.mark.parametrize("cut, answered", [((0, 1), True), ((1, 0), False)])
def test_a_reply_is_checked_against_the_direction_it_travels(cut, answered) -> None:
    """0 calls 1; the request is handled at t=10 and the reply (1 -> 0) is due at t=20. A cut
    0 -> 1 made meanwhile does not touch the reply; a cut 1 -> 0 loses it."""
    sim, trace, net, nodes = make_net(n=2, seed=1, latency=(10, 10))
    net.call(0, 1, RequestVote(1, 0, 0, 0))
    sim.run_for(15)
    assert nodes[1].handled == 1
    net.set_link(*cut, True)
    sim.run_for(100)
    assert (nodes[0].replies != []) == answered
    assert (nodes[0].failures != []) != answered
    if not answered:
        drop = trace.of("drop")[-1]
        assert (drop.src, drop.dst, drop.msg, drop.reason) == (1, 0, "RequestVoteReply",
                                                                "link cut")


def test_a_request_in_flight_when_its_link_is_cut_is_lost_on_arrival() -> None:
    sim, trace, net, nodes = make_net(n=2, seed=1, latency=(10, 10))
    net.call(0, 1, RequestVote(1, 0, 0, 0))
    sim.run_for(5)
    net.set_link(0, 1, True)
    sim.run_for(100)
    assert nodes[1].handled == 0 and len(nodes[0].failures) == 1
    drop = trace.of("drop")[-1]
    assert (drop.time, drop.msg, drop.reason) == (10, "RequestVote", "link cut")


def test_a_one_way_cut_from_the_leader_makes_its_follower_time_out() -> None:
    c = Cluster(3, seed=2)
    leader = c.check_one_leader()
    follower = (leader + 1) % 3
    c.cut_link(leader, follower, one_way=True)
    t = c.now
    c.run_until_event(lambda e: e.kind == "timeout" and e.node == follower, 2000)
    assert [e for e in c.trace.of("timeout") if e.time > t and e.node == follower]
    c.run_for(50)
    # its vote requests still reach the old leader: only leader -> follower is cut
    assert [e for e in c.trace.of("deliver") if e.time > t and e.src == follower
            and e.dst == leader and e.msg == "RequestVote"]


# ------------------------------------------------------------------ composition
def test_a_cut_link_stays_cut_through_heal_connect_crash_and_restart() -> None:
    c = Cluster(3, seed=1)
    c.cut_link(0, 1)
    assert reach(c) == everything_but(c, (0, 1), (1, 0))
    c.partition([0, 1], [2])
    assert reach(c) == set()
    c.heal()
    assert reach(c) == everything_but(c, (0, 1), (1, 0))
    c.disconnect(0)
    c.connect(0)
    assert reach(c) == everything_but(c, (0, 1), (1, 0))
    c.crash(1)
    c.restart(1)
    assert reach(c) == everything_but(c, (0, 1), (1, 0))
    assert c.cut_links == ((0, 1), (1, 0))
    c.restore_link(1, 0)
    assert reach(c) == everything_but(c) and c.cut_links == ()


def test_restoring_a_link_does_not_reconnect_a_node_nor_cross_a_partition() -> None:
    c = Cluster(3, seed=1)
    c.disconnect(0)
    c.cut_link(0, 1)
    c.restore_link(0, 1)
    assert not c.connected[0]
    assert reach(c) == {(1, 2), (2, 1)}
    c.connect(0)
    assert reach(c) == everything_but(c)
    c.partition([0], [1, 2])
    c.cut_link(0, 1, one_way=True)
    c.restore_link(0, 1, one_way=True)
    assert reach(c) == {(1, 2), (2, 1)}
    c.heal()
    assert reach(c) == everything_but(c)


def test_one_way_cuts_add_up_and_come_off_one_direction_at_a_time() -> None:
    c = Cluster(3, seed=1)
    c.cut_link(2, 0, one_way=True)
    assert c.cut_links == ((2, 0),) and reach(c) == everything_but(c, (2, 0))
    c.cut_link(0, 2, one_way=True)
    assert c.cut_links == ((0, 2), (2, 0))
    c.restore_link(2, 0, one_way=True)
    assert c.cut_links == ((0, 2),) and reach(c) == everything_but(c, (0, 2))
    c.cut_link(0, 2)                 # adds 2 -> 0 again
    c.restore_link(2, 0)             # both ways, whichever order the ids are given in
    assert c.cut_links == ()


def test_only_calls_that_change_a_link_are_recorded() -> None:
    c = Cluster(3, seed=1)
    c.cut_link(0, 1, one_way=True)
    c.cut_link(0, 1, one_way=True)   # already cut that way
    c.cut_link(0, 1)                 # adds 1 -> 0
    c.cut_link(1, 0)                 # nothing new
    c.restore_link(2, 1)             # never cut
    c.restore_link(1, 0, one_way=True)
    c.restore_link(1, 0, one_way=True)
    c.restore_link(0, 1)
    c.restore_link(0, 1)
    assert [(e.kind, e.a, e.b, e.one_way) for e in c.trace.of("cut", "restore")] == [
        ("cut", 0, 1, True), ("cut", 0, 1, False), ("restore", 1, 0, True),
        ("restore", 0, 1, False)]


# ------------------------------------------------------------------ bad input and the trace
@pytest.mark.parametrize("args, error, words", [
    ((1, 1), ValueError, ["cut_link(1, 1)", "two different nodes", "0..2"]),
    ((0, 3), UnknownNode, ["3", "0..2"]),
    ((-1, 0), UnknownNode, ["-1", "0..2"]),
    ((0, True), UnknownNode, ["True", "0..2"]),
    (("0", 1), UnknownNode, ["'0'", "0..2"]),
    ((0, 1, 1), BadArgumentType, ["one_way", "True or False", "1"]),
    ((0, 1, "yes"), BadArgumentType, ["one_way", "'yes'"]),
])
def test_bad_links_are_rejected_and_change_nothing(args, error, words) -> None:
    c = Cluster(3, seed=1)
    for method in (c.cut_link, c.restore_link):
        before = len(c.trace)
        with pytest.raises(error) as info:
            method(*args)
        text = str(info.value).replace("cut_link", method.__name__) \
            if method is c.restore_link else str(info.value)
        for w in words:
            assert w.replace("cut_link", method.__name__) in text
        assert len(c.trace) == before and c.cut_links == ()
    with pytest.raises(TypeError):
        c.cut_link(0, 1, one_way=None)


def test_link_events_round_trip_through_json_and_bad_ones_are_refused() -> None:
    c = Cluster(3, seed=5)
    c.cut_link(0, 2, one_way=True)
    c.run_for(500)
    c.restore_link(0, 2, one_way=True)
    text = c.trace.to_json()
    back = Trace.from_json(text)
    assert back.to_json() == text
    assert [tuple(e) for e in back.of("cut", "restore")] == [
        (0, "cut", 0, 2, True), (500, "restore", 0, 2, True)]
    for bad, says in (('[0,"cut",0,5,true]', "b 5 is not a node id"),
                      ('[0,"cut",0,1,1]', "'one_way' must be true or false")):
        doc = '{"format":"raftlab-trace","version":1,"n":3,"meta":{},"events":[' + bad + "]}"
        with pytest.raises(ValueError, match=says):
            Trace.from_json(doc)


def test_same_calls_same_trace() -> None:
    def run() -> str:
        c = Cluster(5, seed=9, reliable=False)
        c.run_for(700)
        c.cut_link(0, 1)
        c.cut_link(3, 4, one_way=True)
        c.run_for(1500)
        c.restore_link(0, 1)
        c.run_for(800)
        return c.trace.to_json()
    assert run() == run()
