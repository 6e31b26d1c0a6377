"""The harness: a cluster of Raft nodes on the simulated network (the seed's config.go).

``Cluster`` mirrors 6.5840's ``config.go`` in virtual time: crash/restart (crash1/start1),
connect/disconnect, partitions, the network switches, the Raft interface of every node, and
config.go's checks (``raftlab.checks``). It runs any class that obeys ``raftlab.NodeProtocol``
and touches a node only through that protocol; what the nodes do is recorded by their
environments (``raftlab.environment``) into ``cluster.trace``.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from .checks import ConfigChecks
from .config import (NetworkConfig, RaftConfig, constructor_args, constructor_call,
                     settings_meta)
from .environment import NodeEnv
from .errors import NodeDown, add_note
from .network import Network
from .node import ApplyMsg, RaftNode
from .persister import Persister
from .protocol import check_node_class, check_node_instance
from .sim import FloodError, Simulator
from .trace import Trace
from .validation import check_bool, check_duration, check_int, check_seed

__all__ = ["Cluster", "NodeHandle", "UnknownNode", "MAX_NODES", "MAX_RUN"]

MAX_NODES = 100
MAX_RUN = 86_400_000  # one virtual day: the longest single run_for / run_until step, in ms


class NodeHandle:
    """``cluster.nodes[i]``: the 6.5840 Raft object interface of node ``i``'s current instance."""

    __slots__ = ("_cluster", "id")

    def __init__(self, cluster: "Cluster", node_id: int) -> None:
        self._cluster = cluster
        self.id = node_id

    def get_state(self) -> tuple[int, bool]:
        """``(term, is_leader)``; raises ``NodeDown`` if the node is crashed."""
        return self._cluster.get_state(self.id)

    def start(self, command: Any) -> tuple[int, int, bool]:
        """Propose a command: ``(index, term, is_leader)``; raises ``NodeDown`` if crashed."""
        return self._cluster.start(self.id, command)

    @property
    def alive(self) -> bool:
        return self._cluster.is_alive(self.id)

    @property
    def raft(self) -> Any:
        """The running node instance (for inspection; prefer the trace)."""
        return self._cluster._node(self.id)

    def __repr__(self) -> str:
        return f"<node {self.id} of {self._cluster!r}>"


class UnknownNode(ValueError, IndexError):
    """A node id outside ``0..n-1`` (a ``ValueError``, and an ``IndexError`` for sequences)."""


def check_node_id(i: Any, n: int) -> int:
    """``i`` if it names one of ``n`` nodes, else ``UnknownNode`` naming the valid range."""
    if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
        raise UnknownNode(f"unknown node id {i!r}: node ids are 0..{n - 1}")
    return i


class NodeList(tuple):
    """``cluster.nodes``: one ``NodeHandle`` per node id; an unknown id names the valid range."""

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return tuple.__getitem__(self, i)
        return tuple.__getitem__(self, check_node_id(i, len(self)))


class Cluster(ConfigChecks):
    """``n`` Raft nodes, all connected, on a simulated network; deterministic for a ``seed``.

    Every keyword but ``node_class`` is a setting of ``RaftConfig`` (``election_timeout``,
    ``heartbeat_interval``, the variants ``pre_vote`` and ``check_quorum``) or ``NetworkConfig`` (``reliable``, ``latency``, ``long_delays``,
    ``long_reordering``, ``persist_delay``); their defaults and meanings are stated there.
    ``node_class`` is any class obeying ``raftlab.NodeProtocol`` (a student's Raft, or one
    with a planted bug); it is checked here, and a missing method or attribute is a
    ``TypeError`` naming it.
    """

    #: The environment class each node instance gets; the grader's subclass of ``NodeEnv``
    #: adds rule monitors.
    env_class: type[NodeEnv] = NodeEnv

    def __init__(self, n: int, seed: int = 0, *,
                 election_timeout: tuple[float, float] = RaftConfig.election_timeout,
                 heartbeat_interval: float = RaftConfig.heartbeat_interval,
                 pre_vote: bool = RaftConfig.pre_vote,
                 check_quorum: bool = RaftConfig.check_quorum,
                 reliable: bool = NetworkConfig.reliable,
                 latency: tuple[float, float] = NetworkConfig.latency,
                 long_delays: bool = NetworkConfig.long_delays,
                 long_reordering: bool = NetworkConfig.long_reordering,
                 persist_delay: tuple[float, float] = NetworkConfig.persist_delay,
                 node_class: Callable[..., Any] = RaftNode) -> None:
        check_int("n", n, 1, MAX_NODES)
        self.n = n
        self.seed = check_seed(seed)
        check_node_class(node_class)
        self.node_class = node_class
        #: The nodes' settings (timing; later the protocol variants). Change with set_timing.
        self.config = RaftConfig(election_timeout, heartbeat_interval, pre_vote, check_quorum)
        network_config = NetworkConfig(reliable, latency, long_delays, long_reordering,
                                       persist_delay)
        self.sim = Simulator(seed)
        self.trace = Trace(n, meta={"seed": seed, **settings_meta(self.config, network_config)})
        self.network = Network(self.sim, self.trace, n, network_config,
                               self._network_chooser())
        self._harness_rng = self.sim.rng("harness")
        self.saved = [Persister() for _ in range(n)]
        self.applied: list[list[ApplyMsg]] = [[] for _ in range(n)]
        self.logs: list[dict[int, Any]] = [{} for _ in range(n)]
        self.apply_errors: list[Optional[str]] = [None] * n
        self.max_index = 0
        self._envs: list[Optional[NodeEnv]] = [None] * n
        self.nodes = NodeList(NodeHandle(self, i) for i in range(n))
        self._begin: Optional[tuple[str, float, int, int, int]] = None
        for i in range(n):
            self._start1(i)
        self.network.connect_all()

    # ----------------------------------------------------------------- basics
    @property
    def now(self) -> float:
        """Current virtual time in ms."""
        return self.sim.now

    @property
    def network_config(self) -> NetworkConfig:
        """The network's current settings (change them with the ``set_*`` methods)."""
        return self.network.config

    @property
    def connected(self) -> list[bool]:
        """config.go's ``connected`` flags (a crashed node is not connected)."""
        return list(self.network.connected)

    @property
    def groups(self) -> Optional[tuple[tuple[int, ...], ...]]:
        """The current partition's groups, or None if the network is not partitioned."""
        return self.network.groups

    @property
    def cut_links(self) -> tuple[tuple[int, int], ...]:
        """The links cut by ``cut_link`` now, one ``(a, b)`` per direction, sorted: ``(a, b)``
        means what ``a`` sends to ``b`` is lost. A cut both ways shows as ``(a, b)`` and
        ``(b, a)``."""
        return self.network.cut_links

    def is_alive(self, i: int) -> bool:
        """Node ``i`` has a running instance (it is not crashed)."""
        return self._envs[self._id(i)] is not None

    def is_up(self, i: int) -> bool:
        """Alive and connected: the servers config.go's checks look at."""
        return self._envs[self._id(i)] is not None and self.network.connected[i]

    def _id(self, i: Any) -> int:
        if type(i) is int and 0 <= i < self.n:  # the checks call this for every node, often
            return i
        return check_node_id(i, self.n)

    def _release(self) -> None:
        """Free the trace and the pending events now, for harness code that ran this cluster
        only for a result (a grader's run, an experiment's trial) and is done with it. A
        cluster is a web of references (the network, the nodes and their environments point
        at each other), so without this the whole run, its thousands of trace events
        included, waits for the garbage collector, and thousands of dead runs make each of
        its full collections slow; only the few objects of the web are left to it. The
        cluster must not be used afterwards."""
        self.trace.raw.clear()
        self.sim._heap.clear()

    def _node(self, i: int) -> Any:
        env = self._envs[self._id(i)]
        if env is None:
            raise NodeDown(f"node {i} is down (crashed); restart({i}) brings it back")
        return env.node

    def rebuild_call(self) -> str:
        """The constructor call that builds this cluster afresh, with every non-default
        argument: ``"Cluster(3, seed=26, reliable=False)"``."""
        return constructor_call(self.n, self.seed, self.constructor_args())[1]

    def constructor_args(self) -> dict[str, Any]:
        """The keyword arguments (beyond ``n`` and ``seed``) that built this cluster, where
        they differ from the defaults."""
        return constructor_args(self.trace.meta, self.node_class, RaftNode)

    # ----------------------------------------------------------------- time
    def run_for(self, ms: float) -> None:
        """Advance virtual time by ``ms`` milliseconds."""
        check_duration(ms, "run_for time")
        if ms > MAX_RUN:
            raise ValueError(f"run_for time must be at most {MAX_RUN} ms (one virtual day) per "
                             f"call, got {ms!r}")
        self._run_until(self.sim.now + ms)

    def run_until(self, t: float) -> None:
        """Advance virtual time to ``t`` ms (not before now)."""
        check_duration(t, "run_until time")
        if t < self.sim.now:
            raise ValueError(f"run_until time {t!r} ms is in the past (now is {self.sim.now} ms)")
        self.run_for(t - self.sim.now)

    def run_until_event(self, predicate: Callable[[Any], bool],
                        timeout: float) -> Optional[Any]:
        """Run until a new trace event satisfies ``predicate`` (it receives events, as
        ``trace[i]`` gives them) or ``timeout`` ms pass. Returns that event, with the clock at
        its time (events due at the same instant have run too), or ``None`` at the timeout::

            c.run_until_event(lambda e: e.kind == "state" and e.role == "leader", 5000)
        """
        if not callable(predicate):
            raise ValueError(f"predicate must be a function of one event, got {predicate!r}")
        check_duration(timeout, "run_until_event timeout")
        if timeout > MAX_RUN:
            raise ValueError(f"run_until_event timeout must be at most {MAX_RUN} ms, "
                             f"got {timeout!r}")
        end = self.now + timeout
        seen = len(self.trace)
        while True:
            due = self.sim.peek()
            if due > end:
                self._run_until(end)
                return self._first_match(predicate, seen)
            self._run_until(due)
            found = self._first_match(predicate, seen)
            if found is not None:
                return found
            seen = len(self.trace)

    def _first_match(self, predicate: Callable[[Any], bool], start: int) -> Optional[Any]:
        for event in self.trace[start:]:
            if predicate(event):
                return event
        return None

    def _network_chooser(self) -> Optional[Any]:
        """What makes the network's random choices: None, for the seeded ``network`` stream
        (``raftlab.explore``'s replay returns a scripted chooser instead)."""
        return None

    def _run_until(self, end: float) -> None:
        try:
            self.sim.run_until(end)
        except FloodError as exc:
            add_note(exc, self._flood_culprit())
            raise
        self.trace.meta["end"] = end
        for err in self.apply_errors:
            if err:
                raise self.fail(f"apply error: {err}")

    def _flood_culprit(self) -> str:
        """Which nodes wrote the last events, and what those were (to explain a flood)."""
        tail = self.trace[-1000:]
        per_node: dict[Any, dict[str, int]] = {}
        for event in tail:
            who = getattr(event, "node", getattr(event, "src", None))
            what = event.kind + (f" {event.name!r} {event.action}" if event.kind == "timer" else "")
            kinds = per_node.setdefault(who, {})
            kinds[what] = kinds.get(what, 0) + 1
        parts = []
        for who, kinds in sorted(per_node.items(), key=lambda item: -sum(item[1].values()))[:3]:
            what, k = max(kinds.items(), key=lambda item: item[1])
            parts.append(f"node {who}: {sum(kinds.values())} ({k} of them {what})")
        return (f"raftlab: of the last {len(tail)} trace events, " + "; ".join(parts)
                + f". At t={self.now} ms of {self.rebuild_call()}")

    # ----------------------------------------------------------------- failures
    def _start1(self, i: int) -> None:
        """config.go's start1 without the connect: a new instance on a copy of the saved state."""
        self.saved[i] = persister = self.saved[i].copy()
        env = self.env_class(i, self.sim, self.trace, self.network, persister, self._on_apply)
        name = self.node_class.__qualname__
        try:
            node = self.node_class(i, self.n, persister, env, self.config,
                                   self.sim.rng(f"node{i}"))
        except TypeError as exc:
            raise TypeError(f"{name}(me={i}, n={self.n}, persister, env, config, rng) "
                            f"failed: {exc}") from exc
        check_node_instance(node)
        env.node = node
        self._envs[i] = env
        self.network.servers[i] = env
        self.network.delivered[i] = 0
        self.applied[i] = []
        env.boot()

    def _crash1(self, i: int) -> None:
        self.network.set_connected(i, False)
        env = self._envs[i]
        assert env is not None, f"node {i} is not running"
        env.stop()
        env.node.kill()
        self._envs[i] = None
        self.network.servers[i] = None
        self.saved[i] = self.saved[i].copy()  # the dead instance keeps only an orphaned persister

    def crash(self, i: int) -> None:
        """Stop node ``i``; its persisted state survives; it is cut off until ``restart``."""
        self._id(i)
        if self._envs[i] is None:
            raise ValueError(f"node {i} is already crashed; restart({i}) brings it back")
        self.trace.append((self.now, "crash", i))
        self._crash1(i)

    def restart(self, i: int) -> None:
        """A new instance of node ``i`` from its persisted state, then connected.
        On a live node: crash, then restart (config.go's start1)."""
        self._id(i)
        if self._envs[i] is not None:
            self.crash(i)
        self.trace.append((self.now, "restart", i))
        self._start1(i)
        self.connect(i)

    def disconnect(self, i: int) -> None:
        """Cut all of node ``i``'s links (no effect on a crashed node)."""
        self._id(i)
        if self._envs[i] is None or not self.network.connected[i]:
            return
        self.network.set_connected(i, False)
        self.trace.append((self.now, "disconnect", i))

    def connect(self, i: int) -> None:
        """Restore node ``i``'s links to connected peers (within its partition group).
        No effect on a crashed node: ``restart`` connects it."""
        self._id(i)
        if self._envs[i] is None or self.network.connected[i]:
            return
        self.network.set_connected(i, True)
        self.trace.append((self.now, "connect", i))

    def partition(self, *groups: Iterable[int]) -> None:
        """Split the network: only nodes in the same group can talk; a node in no group is
        isolated. Replaces any earlier partition; ``heal()`` ends it."""
        if not groups:
            raise ValueError("partition() needs at least one group of node ids, e.g. "
                             "partition([0, 1], [2, 3, 4])")
        seen: dict[int, int] = {}
        clean = []
        for k, group in enumerate(groups):
            try:
                members = list(group)
            except TypeError:
                raise ValueError(f"partition group {group!r} is not a list of node ids") from None
            if not members:
                raise ValueError(f"partition group {k} is empty; every group needs a node")
            for node in members:
                self._id(node)
                if node in seen:
                    where = ("twice in group" if seen[node] == k
                             else f"in groups {seen[node]} and")
                    raise ValueError(f"node {node} is {where} {k}; a node belongs to one group")
                seen[node] = k
            clean.append(tuple(members))
        self.network.set_partition(clean)
        self.trace.append((self.now, "partition", tuple(clean)))

    def heal(self) -> None:
        """End the partition and reconnect every live node."""
        groups = self.network.groups or ()
        self.network.set_partition(None)
        self.trace.append((self.now, "heal", groups))
        for i in range(self.n):
            self.connect(i)

    def _link_args(self, call: str, a: Any, b: Any, one_way: Any) -> list[tuple[int, int]]:
        """The directed links a ``cut_link`` / ``restore_link`` call names, its arguments
        checked."""
        self._id(a)
        self._id(b)
        check_bool("one_way", one_way)
        if a == b:
            raise ValueError(f"{call}({a!r}, {b!r}): a link joins two different nodes; "
                             f"a and b must differ (node ids are 0..{self.n - 1})")
        return [(a, b)] if one_way else [(a, b), (b, a)]

    def cut_link(self, a: int, b: int, one_way: bool = False) -> None:
        """Cut the link between ``a`` and ``b``: nothing travels between them, requests and
        replies alike; ``one_way=True``: only what ``a`` sends to ``b`` is lost (``b``'s calls
        reach ``a``, but ``a``'s replies to them do not come back). Other links are unchanged.
        A cut composes with disconnect and partitions: it stays cut through ``connect``,
        ``heal``, crashes and restarts, until ``restore_link``. Recorded as a ``cut`` event
        (nothing is recorded if the link was already cut that way)."""
        links = self._link_args("cut_link", a, b, one_way)
        changed = [self.network.set_link(x, y, True) for x, y in links]
        if any(changed):
            self.trace.append((self.now, "cut", a, b, one_way))

    def restore_link(self, a: int, b: int, one_way: bool = False) -> None:
        """Lift a ``cut_link`` between ``a`` and ``b`` (``one_way=True``: only ``a -> b``).
        The link is up again if both ends are connected and in the same partition group:
        restoring does not reconnect a disconnected node nor cross a partition. Recorded as a
        ``restore`` event (nothing is recorded if the link was not cut that way)."""
        links = self._link_args("restore_link", a, b, one_way)
        changed = [self.network.set_link(x, y, False) for x, y in links]
        if any(changed):
            self.trace.append((self.now, "restore", a, b, one_way))

    # ----------------------------------------------------------------- settings
    def _set_network(self, setting: str, value: Any) -> None:
        """Change one ``NetworkConfig`` setting (checked as the constructor checks it)."""
        current = self.network.config
        changed = NetworkConfig(**{**vars(current), setting: value})
        setattr(current, setting, getattr(changed, setting))
        self.trace.append((self.now, "config", setting, getattr(changed, setting)))

    def set_reliable(self, flag: bool) -> None:
        """False: 10% of requests and 10% of replies lost, 0-26 ms extra delay."""
        self._set_network("reliable", check_bool("reliable", flag))

    def set_long_reordering(self, flag: bool) -> None:
        """True: 2/3 of replies are delayed 200-2199 ms."""
        self._set_network("long_reordering", check_bool("long_reordering", flag))

    def set_long_delays(self, flag: bool) -> None:
        """True (default): a call to a cut or dead peer fails after 0-6999 ms (else 0-99 ms)."""
        self._set_network("long_delays", check_bool("long_delays", flag))

    def set_latency(self, latency: tuple[float, float]) -> None:
        """One-way delay range of delivered messages, ms (applies to messages sent later)."""
        self._set_network("latency", latency)

    def set_timing(self, election_timeout: Optional[tuple[float, float]] = None,
                   heartbeat_interval: Optional[float] = None) -> None:
        """Change the timing of every node; it applies to timers set from now on."""
        new = RaftConfig(self.config.election_timeout if election_timeout is None
                         else election_timeout,
                         self.config.heartbeat_interval if heartbeat_interval is None
                         else heartbeat_interval)
        if election_timeout is not None:
            self.config.election_timeout = new.election_timeout
            self.trace.append((self.now, "config", "election_timeout", new.election_timeout))
        if heartbeat_interval is not None:
            self.config.heartbeat_interval = new.heartbeat_interval
            self.trace.append((self.now, "config", "heartbeat_interval", new.heartbeat_interval))

    def _set_variant(self, setting: str, flag: bool) -> None:
        value = check_bool(setting, flag)
        if getattr(self.config, setting) != value:
            setattr(self.config, setting, value)
            self.trace.append((self.now, "config", setting, value))

    def set_pre_vote(self, flag: bool) -> None:
        """Turn PreVote (dissertation §9.6) on or off for every node, from now on."""
        self._set_variant("pre_vote", flag)

    def set_check_quorum(self, flag: bool) -> None:
        """Turn CheckQuorum (dissertation §6.2, §4.2.3) on or off for every node, from now on."""
        self._set_variant("check_quorum", flag)

    # ----------------------------------------------------------------- the Raft interface
    def get_state(self, i: int) -> tuple[int, bool]:
        """Node ``i``'s ``(term, is_leader)``; ``NodeDown`` if crashed."""
        return self._node(i).get_state()

    def start(self, i: int, command: Any) -> tuple[int, int, bool]:
        """``rf.Start(command)`` on node ``i``: ``(index, term, is_leader)``, at once."""
        node = self._node(i)
        index, term, ok = node.start(command)
        if ok:
            self.trace.append((self.now, "start", i, index, term, command))
        env = self._envs[i]
        if env is not None:  # start() may not crash a node, but a student's could raise
            env.observe()
            env.observe_log()
        return index, term, ok

    def _on_apply(self, i: int, msg: ApplyMsg) -> None:
        self.applied[i].append(msg)
        self.trace.append((self.now, "apply", i, msg.command_index, msg.command))
        if not msg.command_valid:
            return
        index, command = msg.command_index, msg.command
        for j, log in enumerate(self.logs):
            if index in log and log[index] != command:
                self.apply_errors[i] = (f"commit index={index} server={i} {command!r} != "
                                        f"server={j} {log[index]!r}")
        prev_ok = index == 1 or (index - 1) in self.logs[i]
        self.logs[i][index] = command
        self.max_index = max(self.max_index, index)
        if index > 1 and not prev_ok and not self.apply_errors[i]:
            self.apply_errors[i] = f"server {i} apply out of order {index}"

    def rpc_total(self) -> int:
        """Calls made, including those lost or sent to unreachable peers."""
        return self.network.total_calls

    def rpc_count(self, i: int) -> int:
        """Calls delivered to node ``i``'s current (or last) instance."""
        return self.network.delivered[self._id(i)]

    def bytes_total(self) -> int:
        """Encoded bytes of every request sent and every reply delivered."""
        return self.network.total_bytes

    def leader(self) -> Optional[int]:
        """The connected node that is leader in the highest term right now, or None."""
        best: Optional[tuple[int, int]] = None
        for i in range(self.n):
            if self.is_up(i):
                term, is_leader = self.get_state(i)
                if is_leader and (best is None or term > best[0]):
                    best = (term, i)
        return None if best is None else best[1]

    def __repr__(self) -> str:
        return f"{self.rebuild_call()} at t={self.now} ms"

