"""The simulated network: 6.5840's labrpc in virtual time.

Every call is an RPC from one node to another. A request that arrives runs the handler at
once; its reply travels back. What can go wrong is labrpc's model, with its constants, switched
by the cluster's ``NetworkConfig``:

* unreliable: each call gets 0-26 ms of extra delay, 10% of requests and 10% of replies are lost;
* a call to a cut-off or dead peer fails after 0-6999 ms (long delays, the default) or 0-99 ms;
* long reordering: 2/3 of replies are held back 200-2199 ms;
* optionally (``persist_delay``), a reply whose handler wrote hard state (a vote, a new term,
  log entries) leaves only after a simulated disk write of that many ms;
* a message is delivered only if, when it arrives, its link is still up and the server that
  handled the request is still the same instance -- so a reply from a peer that was cut,
  crashed or replaced while the call ran never reaches the caller;
* single links can be cut (``cut_link``), in one direction or both: a link ``a -> b`` carries
  what ``a`` sends to ``b``, requests and replies alike. A message is checked against the
  direction it travels (a request ``src -> dst``, its reply ``dst -> src``), so with only
  ``a -> b`` cut, ``a``'s calls to ``b`` fail unanswered, ``b``'s calls reach ``a`` but ``a``'s
  replies are lost, and a reply ``b -> a`` to a request that got through before the cut still
  arrives. A message lost to a cut link is dropped with the reason ``"link cut"``.

A link is up (``link_up``) when both ends are connected, they are in the same partition group
(if the network is partitioned) and it is not cut: the three compose, so a cut link stays cut
through ``heal`` and ``connect``, and restoring a link does not connect a disconnected node.

A lost call is reported to the caller (``handle_failure``), as labrpc's ``Call`` returns false.
Every send, delivery and loss is recorded in the trace, and so is the nextIndex a leader uses
for each peer (``next_index``: an AppendEntries' prev_log_index + 1, when it changes). The
network talks to endpoints (the harness's ``NodeEnv`` of each running instance), never to a
node directly.
"""

from __future__ import annotations

from heapq import heappush
from typing import Any, Optional, Sequence

from .config import NetworkConfig
from .messages import AppendEntries, Message
from .sim import Simulator
from .trace import Trace

__all__ = ["Network", "SHORT_DELAY", "LONG_DELAY", "UNREACHABLE_DELAY", "DROP_RATE",
           "REORDER_PROBABILITY"]

SHORT_DELAY = 27          # unreliable: extra delay 0..26 ms
LONG_DELAY = 7000         # long delays: a call to an unreachable peer fails after 0..6999 ms
UNREACHABLE_DELAY = 100   # without long delays: 0..99 ms
DROP_RATE = 0.1           # unreliable: request and reply loss probability each
REORDER_PROBABILITY = 600 / 900
REORDER_BASE, REORDER_SPAN = 200, 2000
_HEARTBEAT_SIZE = AppendEntries(0, 0, 0, 0, (), 0).size()  # every AppendEntries without entries


class Network:
    """labrpc's ``Network``: links, loss, delay, counters; see the module docstring.

    ``config`` is read at every call, so a change (through the cluster's ``set_*`` methods)
    applies to messages sent afterwards. ``chooser`` makes the network's random choices (see
    ``__init__``): the seeded ``network`` stream unless given."""

    def __init__(self, sim: Simulator, trace: Trace, n: int, config: NetworkConfig,
                 chooser: Optional[Any] = None) -> None:
        self.sim = sim
        self.n = n
        self.config = config
        self._append = trace.append
        self.connected = [False] * n   # read it freely; change it with set_connected
        self.groups: Optional[tuple[tuple[int, ...], ...]] = None
        self._group_of: Optional[list[Optional[int]]] = None
        self._cut: set[tuple[int, int]] = set()   # directed links cut by set_link
        self._reach = [[False] * n for _ in range(n)]  # _reach[a][b]: see link_up
        self.servers: list[Optional[Any]] = [None] * n   # the endpoint of each running node
        self.total_calls = 0
        self.total_bytes = 0
        self.delivered = [0] * n       # requests delivered to the current instance of each node
        self._next_id = 0
        # the nextIndex (prev_log_index + 1) and term of the last AppendEntries each node sent
        # each peer, for the ``next_index`` events: [src][dst]
        self._sent_next = [[0] * n for _ in range(n)]
        self._sent_term = [[-1] * n for _ in range(n)]
        # the chooser makes every random choice of the network, through two methods of
        # ``random.Random``: ``random()`` (delays, losses, reordering) and ``randrange()``
        # (a reordered reply's extra delay). By default the simulator's ``network`` stream;
        # exploration replays a schedule with a scripted one (``raftlab.explore``)
        self._rng = chooser if chooser is not None else sim.rng("network")
        self._random = self._rng.random
        # config.latency as floats (lo, hi - lo), for the delay of every message: float
        # arithmetic is cheaper than mixed int and float, and gives the same sums
        self._latency: Optional[tuple[float, float]] = None
        self._lo = self._span = 0.0
        # bound once, not once per message (each message posts one of these)
        self._on_request, self._on_reply = self._arrive_request, self._arrive_reply
        self._on_fail, self._on_lose = self._fail, self._lose  # (a failed call, a lost message)
        # each message's arrival is pushed on the simulator's heap directly: ``sim.post``
        # inlined, since it runs for every message
        self._heap, self._seq = sim.queue()

    # ----------------------------------------------------------------- topology
    def link_up(self, a: int, b: int) -> bool:
        """Can a message from ``a`` reach ``b`` now (ignoring loss)? Both ends must be
        connected, the link ``a -> b`` not cut and, while the network is partitioned, both
        ends in the same group."""
        return self._reach[a][b]

    def _rule(self, a: int, b: int) -> bool:
        if not (self.connected[a] and self.connected[b]) or (a, b) in self._cut:
            return False
        g = self._group_of
        return g is None or a == b or (g[a] is not None and g[a] == g[b])

    def set_connected(self, node: int, flag: bool) -> None:
        """Connect or cut all of ``node``'s links (config.go's ``connect``/``disconnect``)."""
        self.connected[node] = flag
        reach = self._reach
        for other in range(self.n):
            reach[node][other] = self._rule(node, other)
            reach[other][node] = self._rule(other, node)

    def connect_all(self) -> None:
        """Connect every node (a new cluster's start): ``set_connected(i, True)`` for each."""
        n = self.n
        self.connected[:] = [True] * n
        if not self._cut and self._group_of is None:  # every link up
            self._reach = [[True] * n for _ in range(n)]
        else:
            self._reach = [[self._rule(a, b) for b in range(n)] for a in range(n)]

    def set_partition(self, groups: Optional[Sequence[Sequence[int]]]) -> None:
        """Only nodes in the same group can talk (None: no partition)."""
        if groups is None:
            self.groups = self._group_of = None
        else:
            self.groups = tuple(tuple(g) for g in groups)
            group_of: list[Optional[int]] = [None] * self.n
            for k, group in enumerate(self.groups):
                for node in group:
                    group_of[node] = k
            self._group_of = group_of
        self._reach = [[self._rule(a, b) for b in range(self.n)] for a in range(self.n)]

    @property
    def cut_links(self) -> tuple[tuple[int, int], ...]:
        """The directed links cut now, sorted: ``(a, b)`` loses what ``a`` sends to ``b``."""
        return tuple(sorted(self._cut))

    def set_link(self, a: int, b: int, cut: bool) -> bool:
        """Cut (``cut=True``) or restore the one-way link ``a -> b``; True if that changed it.
        Restoring only lifts the cut: the link is up again if its ends are connected and in
        the same partition group."""
        if ((a, b) in self._cut) == cut:
            return False
        if cut:
            self._cut.add((a, b))
        else:
            self._cut.discard((a, b))
        self._reach[a][b] = self._rule(a, b)
        return True

    def _why(self, a: int, b: int, reason: str) -> str:
        """Why a message ``a -> b`` is lost on a link that is down: ``"link cut"`` if that
        link is cut, else ``reason`` (asked only for lost messages, never on delivery)."""
        return "link cut" if (a, b) in self._cut else reason

    # ----------------------------------------------------------------- calls
    def _set_latency(self, latency: tuple[float, float]) -> None:
        lo, hi = latency
        self._latency, self._lo, self._span = latency, float(lo), float(hi - lo)

    def call(self, src: int, dst: int, request: Message) -> None:
        """Node ``src`` calls ``dst``; the outcome reaches ``src``'s current endpoint later."""
        sim = self.sim
        now = sim.now
        self.total_calls += 1
        size = request.SIZE
        record = self._append  # a local: ``self._append(...)`` would look the method up slowly
        detail: Any = None  # the send event's detail: an AppendEntries' number of entries
        if size is None:  # an AppendEntries: a heartbeat's size is fixed, entries are measured
            entries = request.entries
            if entries:
                size, detail = request.size(), len(entries)
            else:
                size, detail = _HEARTBEAT_SIZE, 0
            nxt = request.prev_log_index + 1
            if nxt != self._sent_next[src][dst] or request.term != self._sent_term[src][dst]:
                self._sent_next[src][dst] = nxt
                self._sent_term[src][dst] = request.term
                record((now, "next_index", src, dst, request.term, nxt))
        self.total_bytes += size
        self._next_id = mid = self._next_id + 1
        name = request.NAME  # looked up once: it travels with the message to its arrival
        record((now, "send", src, dst, name, request.term, mid, detail))
        servers = self.servers
        caller = servers[src]
        server = servers[dst]
        if server is None or not self._reach[src][dst]:
            record((now, "drop", src, dst, name, request.term, mid, "dead" if server is None
                    else "link cut" if self._cut and (src, dst) in self._cut  # as in _why
                    else "unreachable"))
            span = LONG_DELAY if self.config.long_delays else UNREACHABLE_DELAY
            # a whole number of ms: ``sim.post`` inlined, since leaders call cut-off peers often
            heappush(self._heap, [sim.now_us + int(self._random() * span) * 1000,
                                  next(self._seq), self._on_fail, (caller, dst, request)])
            return
        # the one-way delay: latency, plus 0-26 ms when unreliable
        config = self.config
        random = self._random
        if config.latency is not self._latency:
            self._set_latency(config.latency)
        delay = self._lo + self._span * random()
        if not config.reliable:
            delay += int(random() * SHORT_DELAY)
            if random() < DROP_RATE:
                sim.post(delay, self._on_lose, src, dst, request, mid, caller)
                return
        # ``x.__round__()`` is ``round(x)`` without the builtin's lookup of the special
        # method: the same value, at about half the cost
        heappush(self._heap, [sim.now_us + (delay * 1000.0).__round__(), next(self._seq),
                              self._on_request, (src, dst, request, name, mid, caller, server)])

    def _fail(self, caller: Optional[Any], dst: int, request: Message) -> None:
        if caller is not None and caller.alive:
            caller.handle_failure(dst, request)

    def _lose(self, src: int, dst: int, msg: Message, mid: int, caller: Optional[Any],
              reason: str = "lost", request: Optional[Message] = None) -> None:
        self._append((self.sim.now, "drop", src, dst, msg.NAME, msg.term, mid, reason))
        if request is None:  # a lost request: the caller (src) learns the call failed
            self._fail(caller, dst, msg)
        else:                # a lost reply: the caller is dst
            self._fail(caller, src, request)

    def _arrive_request(self, src: int, dst: int, request: Message, name: str, mid: int,
                        caller: Optional[Any], server: Any) -> None:
        if self.servers[dst] is not server or not self._reach[src][dst]:
            self._lose(src, dst, request, mid, caller, "dead" if self.servers[dst] is not server
                       else self._why(src, dst, "cut"))
            return
        sim = self.sim
        now = sim.now  # the handler runs at this instant: the reply leaves at it too
        record = self._append
        record((now, "deliver", src, dst, name, request.term, mid))
        self.delivered[dst] += 1
        config = self.config
        if config.persist_delay[1] > 0:
            saves = server.persister.saves
            reply = server.handle_request(src, request)
            wrote = server.persister.saves != saves
        else:
            reply = server.handle_request(src, request)
            wrote = False
        # the reply travels back as a message of its own
        self._next_id = rid = self._next_id + 1
        name = reply.NAME
        # the send event's detail: granted (a vote or pre-vote) or success (AppendEntries)
        record((now, "send", dst, src, name, reply.term, rid,
                True if (reply.success if name == "AppendEntriesReply" else reply.granted)
                else False))
        random = self._random
        if config.latency is not self._latency:  # the one-way delay, as in ``call``
            self._set_latency(config.latency)
        delay = self._lo + self._span * random()
        reliable = config.reliable
        if not reliable:
            delay += int(random() * SHORT_DELAY)
        if wrote:  # the reply waits for the state it depends on to reach stable storage
            lo, hi = config.persist_delay
            delay += lo + (hi - lo) * random()
        if not reliable and random() < DROP_RATE:
            sim.post(delay, self._on_lose, dst, src, reply, rid, caller, "lost", request)
            return
        if config.long_reordering and random() < REORDER_PROBABILITY:
            rng = self._rng
            delay += REORDER_BASE + rng.randrange(1 + rng.randrange(REORDER_SPAN))
        heappush(self._heap, [sim.now_us + (delay * 1000.0).__round__(), next(self._seq),
                              self._on_reply, (src, dst, request, reply, name, rid, caller,
                                               server)])

    def _arrive_reply(self, src: int, dst: int, request: Message, reply: Message, name: str,
                      rid: int, caller: Optional[Any], server: Any) -> None:
        servers = self.servers
        if caller is None or not caller.alive or servers[src] is not caller:
            self._lose(dst, src, reply, rid, None, "dead", request)
            return
        if servers[dst] is not server or not self._reach[dst][src]:  # the reply's direction
            self._lose(dst, src, reply, rid, caller,
                       "dead" if servers[dst] is not server else self._why(dst, src, "cut"),
                       request)
            return
        self.total_bytes += reply.SIZE or reply.size()
        record = self._append
        record((self.sim.now, "deliver", dst, src, name, reply.term, rid))
        caller.handle_reply(dst, request, reply)
