"""labrpc's semantics, measured over many calls on the simulated network."""

from __future__ import annotations

import math

import pytest

from raftlab import Cluster, RequestVote, RequestVoteReply
from raftlab import NetworkConfig, Persister
from raftlab.network import Network
from raftlab.sim import Simulator
from raftlab.trace import Trace


class Echo:
    """An endpoint that grants every RequestVote and remembers what came back to it."""

    def __init__(self) -> None:
        self.alive = True
        self.persister = Persister()
        self.replies: list[tuple[float, int]] = []
        self.failures: list[tuple[float, int]] = []
        self.handled = 0
        self.sim: Simulator | None = None

    def handle_request(self, src, msg):
        self.handled += 1
        return RequestVoteReply(msg.term, True)

    def handle_reply(self, src, request, reply):
        self.replies.append((self.sim.now, request.term))

    def handle_failure(self, dst, request):
        self.failures.append((self.sim.now, request.term))


def make_net(n: int = 2, seed: int = 0, latency=(5, 10)):
    sim = Simulator(seed)
    trace = Trace(n)
    net = Network(sim, trace, n, NetworkConfig(latency=latency))
    nodes = []
    for i in range(n):
        node = Echo()
        node.sim = sim
        net.servers[i] = node
        net.set_connected(i, True)
        nodes.append(node)
    return sim, trace, net, nodes


def send_many(sim, net, count: int, gap: float = 1.0, src: int = 0, dst: int = 1) -> None:
    for k in range(count):
        net.call(src, dst, RequestVote(k, src, 0, 0))
        sim.run_for(gap)
    sim.run_for(10_000)


def within(p_hat: float, p: float, trials: int, sigmas: float = 4.5) -> bool:
    return abs(p_hat - p) <= sigmas * math.sqrt(p * (1 - p) / trials)


def test_reliable_network_delivers_every_call_within_latency() -> None:
    sim, trace, net, nodes = make_net(latency=(5, 10))
    send_many(sim, net, 2000)
    assert len(nodes[0].replies) == 2000 and not nodes[0].failures
    sends = {e.id: e.time for e in trace.of("send")}
    for e in trace.of("deliver"):
        assert 5 <= e.time - sends[e.id] <= 10
    assert net.total_calls == 2000 and net.delivered[1] == 2000


def test_unreliable_success_rate_is_about_81_percent() -> None:
    sim, trace, net, nodes = make_net(seed=7)
    net.config.reliable = False
    count = 20_000
    send_many(sim, net, count)
    ok, failed = len(nodes[0].replies), len(nodes[0].failures)
    assert ok + failed == count, "every call returns, one way or the other"
    assert within(ok / count, 0.81, count), ok / count
    assert within(nodes[1].handled / count, 0.90, count), "10% of requests are lost"
    lost_replies = sum(1 for e in trace.of("drop") if e.msg == "RequestVoteReply")
    assert within(lost_replies / nodes[1].handled, 0.10, nodes[1].handled)


def test_unreliable_delays_add_0_to_26_ms() -> None:
    sim, trace, net, nodes = make_net(seed=3, latency=(5, 5))
    net.config.reliable = False
    send_many(sim, net, 5000)
    sends = {e.id: e.time for e in trace.of("send")}
    extra = [e.time - sends[e.id] - 5 for e in trace.of("deliver")]
    assert min(extra) >= 0 and max(extra) <= 26
    assert {round(x) for x in extra} == set(range(27)), "all 27 whole-ms delays occur"


def test_long_reordering_delays_two_thirds_of_replies_200_to_2199_ms() -> None:
    sim, trace, net, nodes = make_net(seed=5, latency=(1, 1))
    net.config.long_reordering = True
    count = 6000
    send_many(sim, net, count)
    sends = {e.id: e.time for e in trace.of("send")}
    reply_delays = [e.time - sends[e.id] for e in trace.of("deliver")
                    if e.msg == "RequestVoteReply"]
    assert len(reply_delays) == count
    late = [d - 1 for d in reply_delays if d > 1]
    assert within(len(late) / count, 2 / 3, count)
    assert min(late) >= 200 and max(late) <= 2199
    # skewed low: 200 + Intn(1 + Intn(2000)) has mean about 700
    assert 600 <= sum(late) / len(late) <= 800
    assert [d for d in reply_delays if d <= 1] and all(d == 1 for d in reply_delays if d <= 1)


@pytest.mark.parametrize("long_delays, bound", [(True, 7000), (False, 100)])
def test_calls_to_a_cut_peer_fail_after_a_delay(long_delays: bool, bound: int) -> None:
    sim, trace, net, nodes = make_net(seed=2)
    net.config.long_delays = long_delays
    net.set_connected(1, False)
    starts = []
    for k in range(3000):
        starts.append(sim.now)
        net.call(0, 1, RequestVote(k, 0, 0, 0))
        sim.run_for(1)
    sim.run_for(bound + 10)
    assert not nodes[0].replies and nodes[1].handled == 0
    waits = [t - starts[term] for t, term in nodes[0].failures]
    assert len(waits) == 3000
    assert min(waits) >= 0 and max(waits) < bound and max(waits) > 0.9 * bound
    assert all(e.reason == "unreachable" for e in trace.of("drop"))
    assert net.total_calls == 3000 and net.delivered[1] == 0


def test_reply_of_a_peer_cut_while_the_call_ran_is_never_delivered() -> None:
    sim, trace, net, nodes = make_net(seed=1, latency=(10, 10))
    net.call(0, 1, RequestVote(1, 0, 0, 0))
    sim.run_for(15)                       # the request was handled at t=10; reply due at 20
    assert nodes[1].handled == 1
    net.set_connected(1, False)
    sim.run_for(100)
    assert nodes[0].replies == [] and len(nodes[0].failures) == 1
    drop = trace.of("drop")[-1]
    assert (drop.msg, drop.reason, drop.src, drop.dst) == ("RequestVoteReply", "cut", 1, 0)


def test_reply_of_a_peer_crashed_or_replaced_while_the_call_ran_is_never_delivered() -> None:
    for replace in (False, True):
        sim, trace, net, nodes = make_net(seed=1, latency=(10, 10))
        net.call(0, 1, RequestVote(1, 0, 0, 0))
        sim.run_for(15)
        net.servers[1] = Echo() if replace else None
        sim.run_for(100)
        assert nodes[0].replies == [] and len(nodes[0].failures) == 1
        assert trace.of("drop")[-1].reason == "dead"


def test_partition_blocks_across_groups_only() -> None:
    sim, trace, net, nodes = make_net(n=4, seed=1)
    net.set_partition([[0, 1], [2]])     # node 3 is in no group: isolated
    assert net.link_up(0, 1) and not net.link_up(0, 2) and not net.link_up(1, 3)
    assert not net.link_up(3, 2) and net.link_up(3, 3)
    net.set_partition(None)
    assert net.link_up(0, 2) and net.link_up(1, 3)


def test_cluster_counts_calls_deliveries_and_bytes() -> None:
    c = Cluster(3, seed=11)
    c.check_one_leader()
    sends = [e for e in c.trace.of("send") if e.msg in ("RequestVote", "AppendEntries")]
    assert c.rpc_total() == len(sends)
    for i in range(3):
        assert c.rpc_count(i) == sum(1 for e in c.trace.of("deliver") if e.dst == i
                                     and e.msg in ("RequestVote", "AppendEntries"))
    before = c.bytes_total()
    index = c.one("x" * 5000, 3, retry=False)
    assert index == 1
    # each follower received the 5000-byte command once, plus small fixed-size messages
    assert 2 * 5000 < c.bytes_total() - before < 2 * 5000 + 2000


def test_crash_drops_replies_to_the_dead_caller() -> None:
    for seed in range(3):
        c = Cluster(3, seed=seed)
        leader = c.check_one_leader()
        # stop as a follower handles the leader's AppendEntries: its reply is then on the way
        c.run_until_event(lambda e: e.kind == "deliver" and e.src == leader
                          and e.msg == "AppendEntries", 1000)
        c.crash(leader)
        crash_at = len(c.trace)
        c.run_for(300)
        ended = {e.id for e in c.trace[:crash_at] if e.kind in ("deliver", "drop")}
        in_flight = {e.id for e in c.trace[:crash_at]
                     if e.kind == "send" and e.dst == leader and e.id not in ended}
        assert in_flight, f"seed {seed}: no reply was on its way to the leader when it crashed"
        after = c.trace[crash_at:]
        assert not [e for e in after if e.kind == "deliver" and e.dst == leader]
        assert {e.id: e.reason for e in after if e.kind == "drop" and e.id in in_flight} == \
            dict.fromkeys(in_flight, "dead")
