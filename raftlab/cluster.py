"""The harness: a cluster of Raft nodes on the simulated network, with config.go's checks.

``Cluster`` mirrors 6.5840's ``config.go`` in virtual time: crash/restart (crash1/start1),
connect/disconnect, partitions, the unreliable and long-reordering network switches, and the
checks ``check_one_leader``, ``check_terms``, ``check_no_leader``, ``n_committed``, ``one`` and
``wait``, with config.go's failure messages. Each check runs virtual time exactly where the Go
helper sleeps, so a Go test ports line for line.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from .errors import CheckFailed, NodeDown
from .messages import Message
from .network import Endpoint, Network
from .node import ApplyMsg, RaftConfig, RaftNode
from .persister import Persister
from .sim import Simulator
from .trace import Trace
from .validation import check_duration, check_int, check_range

__all__ = ["Cluster", "NodeHandle", "MAX_NODES", "MAX_RUN"]

MAX_NODES = 100
MAX_RUN = 86_400_000  # one virtual day: the longest single run_for / run_until step, in ms


class _NodeEnv(Endpoint):
    """The environment of one node instance: its network endpoint, timers and recorder."""

    __slots__ = ("cluster", "id", "_timers", "_due")

    def __init__(self, cluster: "Cluster", node_id: int) -> None:
        super().__init__(None)
        self.cluster = cluster
        self.id = node_id
        self._timers: dict[str, list] = {}  # raw heap entry of each pending timer
        self._due: dict[str, int] = {}  # due time of each timer, in µs

    def call(self, dst: int, request: Message) -> None:
        self.cluster.network.call(self.id, dst, request)

    def set_timer(self, name: str, delay: float) -> None:
        sim = self.cluster.sim
        due = sim.now_us + round(delay * 1000)
        self._due[name] = due
        entry = self._timers.get(name)
        if entry is not None and entry[2] is not None:
            if entry[0] <= due:
                return  # the pending entry fires first and re-arms itself for ``due``
            entry[2] = None
        self._timers[name] = sim.push_us(due, self._fire, name)

    def cancel_timer(self, name: str) -> None:
        self._due.pop(name, None)
        entry = self._timers.pop(name, None)
        if entry is not None:
            entry[2] = None

    def _fire(self, name: str) -> None:
        if not self.alive:
            return
        due = self._due.get(name)
        if due is None:
            return
        sim = self.cluster.sim
        if due > sim.now_us:
            self._timers[name] = sim.push_us(due, self._fire, name)
            return
        del self._due[name]
        del self._timers[name]
        self.node.on_timer(name)

    def stop(self) -> None:
        self.alive = False
        for entry in self._timers.values():
            entry[2] = None
        self._timers.clear()
        self._due.clear()

    def apply(self, msg: ApplyMsg) -> None:
        self.cluster._on_apply(self.id, msg)

    def record(self, kind: str, *values: Any) -> None:
        self.cluster.trace._events.append((self.cluster.sim.now, kind, self.id) + values)


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
    def raft(self) -> RaftNode:
        """The running ``RaftNode`` instance (for inspection; prefer the trace)."""
        return self._cluster._raft(self.id)

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


class Cluster:
    """``n`` Raft nodes, all connected, on a simulated network; deterministic for a ``seed``.

    Timing arguments are virtual milliseconds: ``election_timeout=(lo, hi)`` is drawn anew
    at every reset; ``heartbeat_interval`` is the leader's idle AppendEntries period (both
    default to ``RaftConfig``'s);
    ``latency=(lo, hi)`` is the one-way delay of a delivered message; ``persist_delay=(lo, hi)``
    is the time a reply waits for its handler's write to stable storage (0 by default).
    ``node_class`` lets a test run a modified node (e.g. one with a planted bug).
    """

    def __init__(self, n: int, seed: int = 0, *, reliable: bool = True,
                 election_timeout: tuple[float, float] = RaftConfig.election_timeout,
                 heartbeat_interval: float = RaftConfig.heartbeat_interval,
                 latency: tuple[float, float] = (5, 10),
                 long_delays: bool = True,
                 persist_delay: tuple[float, float] = (0, 0),
                 node_class: Callable[..., RaftNode] = RaftNode) -> None:
        check_int("n", n, 1, MAX_NODES)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an int, got {seed!r}")
        self.n = n
        self.seed = seed
        self.config = RaftConfig(election_timeout, heartbeat_interval)
        latency = check_range("latency", latency)
        persist_delay = check_range("persist_delay", persist_delay)
        self.sim = Simulator(seed)
        self.trace = Trace(n, meta={"seed": seed,
                                    "election_timeout": list(self.config.election_timeout),
                                    "heartbeat_interval": self.config.heartbeat_interval,
                                    "latency": list(latency), "reliable": bool(reliable),
                                    "persist_delay": list(persist_delay),
                                    "long_delays": bool(long_delays)})
        self.network = Network(self.sim, self.trace, n, latency, persist_delay)
        self.network.long_delays = bool(long_delays)
        self.network.reliable = bool(reliable)
        self.node_class = node_class
        self._harness_rng = self.sim.rng("harness")
        self.saved = [Persister() for _ in range(n)]
        self.applied: list[list[ApplyMsg]] = [[] for _ in range(n)]
        self.logs: list[dict[int, Any]] = [{} for _ in range(n)]
        self.apply_errors: list[Optional[str]] = [None] * n
        self.max_index = 0
        self._envs: list[Optional[_NodeEnv]] = [None] * n
        self.nodes = NodeList(NodeHandle(self, i) for i in range(n))
        self._begin: Optional[tuple[str, float, int, int, int]] = None
        for i in range(n):
            self._start1(i)
        for i in range(n):
            self.network.connected[i] = True

    # ----------------------------------------------------------------- basics
    @property
    def now(self) -> float:
        """Current virtual time in ms."""
        return self.sim.now

    @property
    def connected(self) -> list[bool]:
        """config.go's ``connected`` flags (a crashed node is not connected)."""
        return list(self.network.connected)

    def is_alive(self, i: int) -> bool:
        return self._envs[self._id(i)] is not None

    def _id(self, i: Any) -> int:
        return check_node_id(i, self.n)

    def _raft(self, i: int) -> RaftNode:
        env = self._envs[self._id(i)]
        if env is None:
            raise NodeDown(f"node {i} is down (crashed); restart({i}) brings it back")
        return env.node

    def _up(self, i: int) -> bool:
        """Alive and connected: the servers config.go's checks look at."""
        return self._envs[i] is not None and self.network.connected[i]

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
        trace = self.trace
        for i in range(start, len(trace)):
            event = trace[i]
            if predicate(event):
                return event
        return None

    def _run_until(self, end: float) -> None:
        self.sim.run_until(end)
        self.trace.meta["end"] = end
        for err in self.apply_errors:
            if err:
                raise CheckFailed(f"apply error: {err}")

    # ----------------------------------------------------------------- failures
    def _start1(self, i: int) -> None:
        """config.go's start1 without the connect: a new instance on a copy of the saved state."""
        self.saved[i] = self.saved[i].copy()
        env = _NodeEnv(self, i)
        env.node = self.node_class(i, self.n, self.saved[i], env, self.config,
                                    self.sim.rng(f"node{i}"))
        self._envs[i] = env
        self.network.servers[i] = env
        self.network.delivered[i] = 0
        self.applied[i] = []
        env.node.boot()

    def _crash1(self, i: int) -> None:
        self.network.connected[i] = False
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
        self.trace.record(self.now, "crash", i)
        self._crash1(i)

    def restart(self, i: int) -> None:
        """A new instance of node ``i`` from its persisted state, then connected.
        On a live node: crash, then restart (config.go's start1)."""
        self._id(i)
        if self._envs[i] is not None:
            self.crash(i)
        self.trace.record(self.now, "restart", i)
        self._start1(i)
        self.connect(i)

    def disconnect(self, i: int) -> None:
        """Cut all of node ``i``'s links (no effect on a crashed node)."""
        self._id(i)
        if self._envs[i] is None or not self.network.connected[i]:
            return
        self.network.connected[i] = False
        self.trace.record(self.now, "disconnect", i)

    def connect(self, i: int) -> None:
        """Restore node ``i``'s links to connected peers (within its partition group).
        No effect on a crashed node: ``restart`` connects it."""
        self._id(i)
        if self._envs[i] is None or self.network.connected[i]:
            return
        self.network.connected[i] = True
        self.trace.record(self.now, "connect", i)

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
        self.trace.record(self.now, "partition", tuple(clean))

    def heal(self) -> None:
        """End the partition and reconnect every live node."""
        groups = self.network.groups or ()
        self.network.set_partition(None)
        self.trace.record(self.now, "heal", groups)
        for i in range(self.n):
            self.connect(i)

    def _set(self, setting: str, value: Any) -> None:
        self.trace.record(self.now, "config", setting, value)

    def set_reliable(self, flag: bool) -> None:
        """False: 10% of requests and 10% of replies lost, 0-26 ms extra delay."""
        self.network.reliable = bool(flag)
        self._set("reliable", bool(flag))

    def set_long_reordering(self, flag: bool) -> None:
        """True: 2/3 of replies are delayed 200-2199 ms."""
        self.network.long_reordering = bool(flag)
        self._set("long_reordering", bool(flag))

    def set_long_delays(self, flag: bool) -> None:
        """True (default): a call to a cut or dead peer fails after 0-6999 ms (else 0-99 ms)."""
        self.network.long_delays = bool(flag)
        self._set("long_delays", bool(flag))

    def set_latency(self, latency: tuple[float, float]) -> None:
        """One-way delay range of delivered messages, ms (applies to messages sent later)."""
        self.network.latency = check_range("latency", latency)
        self._set("latency", self.network.latency)

    def set_timing(self, election_timeout: Optional[tuple[float, float]] = None,
                   heartbeat_interval: Optional[float] = None) -> None:
        """Change the timing of every node; it applies to timers set from now on."""
        new = RaftConfig(self.config.election_timeout if election_timeout is None
                         else election_timeout,
                         self.config.heartbeat_interval if heartbeat_interval is None
                         else heartbeat_interval)
        if election_timeout is not None:
            self.config.election_timeout = new.election_timeout
            self._set("election_timeout", new.election_timeout)
        if heartbeat_interval is not None:
            self.config.heartbeat_interval = new.heartbeat_interval
            self._set("heartbeat_interval", new.heartbeat_interval)

    # ----------------------------------------------------------------- the Raft interface
    def get_state(self, i: int) -> tuple[int, bool]:
        """Node ``i``'s ``(term, is_leader)``; ``NodeDown`` if crashed."""
        return self._raft(i).get_state()

    def start(self, i: int, command: Any) -> tuple[int, int, bool]:
        """``rf.Start(command)`` on node ``i``: ``(index, term, is_leader)``, at once."""
        index, term, ok = self._raft(i).start(command)
        if ok:
            self.trace.record(self.now, "start", i, index, term, command)
        return index, term, ok

    def _on_apply(self, i: int, msg: ApplyMsg) -> None:
        self.applied[i].append(msg)
        self.trace.record(self.now, "apply", i, msg.command_index, msg.command)
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

    # ----------------------------------------------------------------- checks
    def _fail(self, message: str) -> CheckFailed:
        exc = CheckFailed(message)
        exc.add_note(f"raftlab: Cluster({self.n}, seed={self.seed}) at t={self.now} ms")
        return exc

    def check_one_leader(self) -> int:
        """The leader of the highest term among connected nodes, trying 10 times 450-549 ms
        apart; ``CheckFailed`` if a term has two leaders or no leader ever appears."""
        for _ in range(10):
            self.run_for(450 + self._harness_rng.randrange(100))
            leaders: dict[int, list[int]] = {}
            for i in range(self.n):
                if self._up(i):
                    term, is_leader = self.get_state(i)
                    if is_leader:
                        leaders.setdefault(term, []).append(i)
            for term, ids in leaders.items():
                if len(ids) > 1:
                    raise self._fail(f"term {term} has {len(ids)} (>1) leaders")
            if leaders:
                return leaders[max(leaders)][0]
        raise self._fail("expected one leader, got none")

    def check_terms(self) -> int:
        """The term every connected node agrees on (-1 if none is connected)."""
        term = -1
        for i in range(self.n):
            if self._up(i):
                xterm, _ = self.get_state(i)
                if term == -1:
                    term = xterm
                elif term != xterm:
                    raise self._fail("servers disagree on term")
        return term

    def check_no_leader(self) -> None:
        """No connected node believes it is leader."""
        for i in range(self.n):
            if self._up(i) and self.get_state(i)[1]:
                raise self._fail(f"expected no leader among connected servers, "
                                 f"but {i} claims to be leader")

    def n_committed(self, index: int) -> tuple[int, Any]:
        """How many nodes have applied ``index`` (restarts included), and the command."""
        check_int("index", index, 0)
        count, cmd = 0, None
        for i in range(self.n):
            error = self.apply_errors[i]
            if error:
                raise self._fail(error)
            if index in self.logs[i]:
                cmd1 = self.logs[i][index]
                if count > 0 and cmd != cmd1:
                    raise self._fail(f"committed values do not match: index {index}, "
                                     f"{cmd!r}, {cmd1!r}")
                count += 1
                cmd = cmd1
        return count, cmd

    def wait(self, index: int, n: int, start_term: int) -> Any:
        """Wait (up to ~30 s) for ``n`` nodes to commit ``index``; -1 if the term moved on."""
        check_int("index", index, 1)
        check_int("n", n, 1, self.n)
        to = 10
        for _ in range(30):
            nd, _ = self.n_committed(index)
            if nd >= n:
                break
            self.run_for(to)
            if to < 1000:
                to *= 2
            if start_term > -1:
                for env in self._envs:
                    if env is not None and env.node.current_term > start_term:
                        return -1
        nd, cmd = self.n_committed(index)
        if nd < n:
            raise self._fail(f"only {nd} decided for index {index}; wanted {n}")
        return cmd

    def one(self, command: Any, expected_servers: int, retry: bool = True) -> int:
        """Submit ``command`` to the leader and wait until ``expected_servers`` commit it;
        returns its index. Retries for up to 10 s (virtual) like config.go's ``one``."""
        check_int("expected_servers", expected_servers, 1, self.n)
        t0 = self.now
        starts = 0
        while self.now - t0 < 10_000:
            index = -1
            for _ in range(self.n):
                starts = (starts + 1) % self.n
                if self._up(starts):
                    index1, _, ok = self.start(starts, command)
                    if ok:
                        index = index1
                        break
            if index != -1:
                t1 = self.now
                while self.now - t1 < 2_000:
                    nd, cmd1 = self.n_committed(index)
                    if nd > 0 and nd >= expected_servers and cmd1 == command:
                        return index
                    self.run_for(20)
                if not retry:
                    raise self._fail(f"one({command!r}) failed to reach agreement")
            else:
                self.run_for(50)
        raise self._fail(f"one({command!r}) failed to reach agreement")

    def rpc_total(self) -> int:
        """Calls made, including those lost or sent to unreachable peers."""
        return self.network.total_calls

    def rpc_count(self, i: int) -> int:
        """Calls delivered to node ``i``'s current (or last) instance."""
        return self.network.delivered[self._id(i)]

    def bytes_total(self) -> int:
        """Encoded bytes of every request sent and every reply delivered."""
        return self.network.total_bytes

    # ----------------------------------------------------------------- config.go's begin/end
    def begin(self, description: str) -> str:
        """Open a test window (config.go's ``begin``); returns the ``"... "`` header line."""
        self._begin = (description, self.now, self.rpc_total(), self.bytes_total(),
                       self.max_index)
        return f"{description} ..."

    def end(self) -> str:
        """The ``  ... Passed --`` line: virtual seconds, peers, RPCs, bytes, agreements."""
        if self._begin is None:
            raise ValueError("end() without begin()")
        _, t0, rpcs0, bytes0, max0 = self._begin
        return (f"  ... Passed --  {(self.now - t0) / 1000:4.1f}  {self.n} "
                f"{self.rpc_total() - rpcs0:4d} {self.bytes_total() - bytes0:7d} "
                f"{self.max_index - max0:4d}")

    def leader(self) -> Optional[int]:
        """The connected node that is leader in the highest term right now, or None."""
        best: Optional[tuple[int, int]] = None
        for i in range(self.n):
            if self._up(i):
                term, is_leader = self.get_state(i)
                if is_leader and (best is None or term > best[0]):
                    best = (term, i)
        return None if best is None else best[1]

    def __repr__(self) -> str:
        return f"Cluster({self.n}, seed={self.seed}) at t={self.now} ms"
