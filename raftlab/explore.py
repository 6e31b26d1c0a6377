"""Exhaustive exploration: every ordering of a small cluster's messages and timers, breadth
first, with the shortest counterexample replayable in a normal ``Cluster``.

``explore(n=3, node_class=RaftNode, max_depth=16)`` runs any ``NodeProtocol`` class. A *state*
is every node's attributes (its ``__dict__``), its pending timers, the messages in flight, what
the rule monitors remember (the highest term of each node, its votes, the leader of each
term) and the entries seen committed. A *step* is one input to one node, or one fault:

* ``deliver``: a message in flight arrives (a request runs the handler, whose reply is then in
  flight; a reply runs ``handle_reply``), in any order: every pending message may be next;
* ``drop`` (only with ``drops=True``): a request or reply is lost, and its caller learns that
  the call failed (``handle_failure``), as labrpc reports a lost message;
* ``fail``: a call to a crashed node, or whose server crashed, fails (``handle_failure``);
* ``timer``: any pending timer of any live node fires next;
* ``start``: a leader is given the next client command (``1``, ``2``, ...; at most
  ``commands``);
* ``crash`` / ``restart`` (at most ``crashes`` crashes): a node stops and loses everything but
  its persister; later a new instance boots from the persisted state, as ``Cluster.crash``
  and ``Cluster.restart`` do.

Time is abstracted away: safety must hold whatever the timing, so any pending timer may fire
next whatever its length, and the values a node draws from its ``rng`` (timeout lengths) are
not explored -- the node gets an ``rng`` whose every draw is the midpoint (``random()`` is
0.5). A node whose behaviour depends on its draws other than through timer lengths is
explored with that one draw. What is *not* explored: a message delivered twice (labrpc never
duplicates), network partitions and cut links (a lost message is the same to a node; a
partition is a pattern of losses, explored with ``drops=True``), the protocol variants
(``pre_vote``, ``check_quorum``: their rules depend on elapsed time), and anything past
``max_depth`` steps or ``max_states`` states. A request sent by an instance that crashed stays
in flight and may arrive once that node is back (then its reply is lost), as in the simulator.

Checked in every state reached (the first violation ends the search): the grader's Figure 2
rule monitors (``raftlab.monitors``) on every input, except ``early-election``, which is about
elapsed time; Election Safety (one leader per term, across the whole history); Log Matching
between every two live nodes (an entry of the same index and term, the same prefix); Leader
Completeness (a leader of a term above the one in which an entry was seen committed holds it)
and State Machine Safety (one command per committed index; each node applies in order).

States are deduplicated by a canonical form: the nodes' attributes with lists, sets and dicts
turned into tuples and frozensets (immutable values such as messages and log entries as they
are), pending timers by name, messages in flight as a sorted multiset of (kind, from, to,
request, reply) without ids or times. Breadth-first search finds a shortest schedule to the
first violation; the search is a pure function of its arguments, so equal calls give equal
results. ``r.replay()`` runs that schedule in a ``Cluster`` (one virtual ms per step), whose
trace feeds the plots, the tables, the safety checker and ``ClusterLab`` unchanged.
"""

from __future__ import annotations

import functools
import math
import pickle
import random
import time
from dataclasses import dataclass, field
from types import MethodType
from typing import Any, Iterator, NamedTuple, Optional

from .cluster import Cluster
from .config import RaftConfig
from .environment import NodeEnv
from .errors import CheckFailed
from .messages import MESSAGE_TYPES, LogEntry
from .monitors import MonitoredCluster, MonitoredEnv, NodeError, RuleMonitor, RuleViolation
from .node import RaftNode
from .persister import Persister
from .protocol import check_node_class, check_node_instance
from .rules import RULES
from .sim import Simulator
from .validation import check_bool, check_int

__all__ = ["explore", "explore_part", "explore_bugs", "ExploreResult", "Step", "Violation",
           "MAX_EXPLORE_NODES", "PART_SETTINGS", "CHECKED_RULES", "STEP_MS"]

#: The largest cluster ``explore`` accepts (the number of orderings grows very fast with n).
MAX_EXPLORE_NODES = 7
#: Virtual ms between two steps of a replayed schedule.
STEP_MS = 1
_NEVER_MS = 60_000            # a replayed message or timer whose step never comes: after the end
_LATENCY_SPAN = float(1 << 16)  # the replay network's latency range, a power of two (exact)

# kinds of messages in flight (the first field of an item: also their order in a state)
_REQ, _REP, _FAIL, _ORPHAN = 0, 1, 2, 3
# kinds of steps (internal choices)
_DELIVER, _DROP, _TIMER, _START, _CRASH, _RESTART = range(6)
# kinds of input to one node (memoized)
_REQUEST, _REPLY, _FAILED, _FIRE, _GIVE = range(5)


# ----------------------------------------------------------------- public results
class Step(NamedTuple):
    """One step of a schedule: ``action`` ("deliver", "drop", "fail", "timer", "start",
    "crash", "restart"), the ``node`` that acts (the receiver of a message, the caller of a
    lost or failed call, the owner of a timer), the ``peer`` at the other end of a message,
    the ``message`` delivered or lost (a command for "start"), the ``request`` a reply or a
    failure answers, and a timer's ``name``."""

    action: str
    node: int
    peer: Optional[int] = None
    message: Any = None
    request: Any = None
    name: Optional[str] = None

    def __str__(self) -> str:
        a, i, p, m = self.action, self.node, self.peer, self.message
        if a == "deliver":
            return f"node {i} receives {m} from node {p}"
        if a == "drop":
            return f"{m} is lost; node {i} learns that its call to node {p} failed"
        if a == "fail":
            return f"node {i}'s call to node {p} fails ({self.request})"
        if a == "timer":
            return f"node {i}'s timer {self.name!r} fires"
        if a == "start":
            return f"node {i} (leader) is given command {m!r}"
        return f"node {i} {'crashes' if a == 'crash' else 'restarts'}"


@dataclass(frozen=True)
class Violation:
    """What the search found broken: ``rule`` (an id of ``raftlab.rules.RULES``), the
    ``message`` that says how, and the ``node`` whose step broke it."""

    rule: str
    message: str
    node: Optional[int] = None

    @property
    def title(self) -> str:
        return RULES[self.rule].title if self.rule in RULES else self.rule

    def __str__(self) -> str:
        return self.message


@dataclass
class ExploreResult:
    """What ``explore`` found (see the module docstring)."""

    n: int
    node_class: Any
    states: int                    #: distinct states visited, the initial one included
    transitions: int               #: steps taken from visited states (duplicates included)
    depth: int                     #: the deepest level of the search reached
    complete: bool                 #: every schedule up to ``depth`` steps was explored (not
                                   #: cut short by ``max_states``)
    elapsed: float                 #: wall seconds (not part of the result's meaning)
    violation: Optional[Violation]
    counterexample: list[Step]     #: a shortest schedule to the violation ([] if none)
    settings: dict = field(default_factory=dict)
    #: inputs actually handed to a node; the rest of ``transitions`` were answered from the
    #: memo (the same node state, input and monitors' memory seen before)
    inputs_run: int = 0
    cpu_seconds: float = 0.0       #: CPU seconds of the search (steadier than wall time)
    _script: Any = field(default=None, repr=False)

    @property
    def states_per_second(self) -> float:
        return self.states / self.elapsed if self.elapsed > 0 else math.inf

    def replay(self, monitors: bool = False) -> Cluster:
        """A ``Cluster`` of ``node_class`` that ran the counterexample (one step per virtual
        ms: timers and message delays are scripted, every other part is the normal harness),
        stopped just after its last step: its trace shows the violation. With ``monitors``,
        the grader's rule monitors watch the replay (``early-election`` aside) and raise the
        violation as ``RuleViolation`` at the step that breaks it (``exc.cluster`` is the
        cluster); the explorer's own checks (Log Matching, Leader Completeness, State Machine
        Safety) are read from the trace instead. Without a violation, ``ValueError``."""
        if self.violation is None:
            raise ValueError("nothing to replay: the search found no violation "
                             f"({self.states:,} states explored)")
        return _replay(self, check_bool("monitors", monitors))

    @property
    def code(self) -> str:
        """One line of Python that runs this search again and replays its counterexample."""
        name = getattr(self.node_class, "__qualname__", "Raft")
        args = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"raftlab.explore.explore(n={self.n}, node_class={name}, {args}).replay()"

    def report(self) -> str:
        """The result as the grader prints it: a go-test-like line, then the violation, the
        rule, the counterexample step by step and how to replay it."""
        label = (f"Exploration ({self.n} nodes, {self.reach}, {self.states:,} states) "
                 f"[stricter than the Go lab]")
        if self.violation is None:
            return f"--- PASS: {label}"
        v = self.violation
        lines = [f"--- FAIL: {label}", f"        {v}"]
        if v.rule in RULES:
            lines += [f"        rule: {RULES[v.rule].figure2}",
                      f"        hint: {RULES[v.rule].hint}"]
        lines.append(f"        shortest schedule ({len(self.counterexample)} steps):")
        lines += [f"          {k:2}. {step}" for k, step in enumerate(self.counterexample, 1)]
        lines.append(f"        replay: {self.code}")
        return "\n".join(lines)

    @property
    def reach(self) -> str:
        """How far the search went, in words."""
        if self.violation is not None:
            return f"every ordering up to {self.depth - 1} steps, then a violation"
        if self.complete:
            return f"every ordering up to {self.depth} steps"
        return (f"every ordering up to {self.depth - 1} steps and some of {self.depth} "
                f"(max_states reached)")

    def __str__(self) -> str:
        head = (f"explored {self.states:,} states of {self.n} {self.node_class.__qualname__} "
                f"node(s): {self.reach}")
        if self.violation is None:
            return head + ": no violation"
        lines = [head, f"violation [{self.violation.rule}]: {self.violation}",
                 f"shortest counterexample ({len(self.counterexample)} steps):"]
        lines += [f"  {k:2}. {step}" for k, step in enumerate(self.counterexample, 1)]
        return "\n".join(lines)


class _Broken(Exception):
    """A violation found by the explorer's own checks (not the rule monitors)."""

    def __init__(self, rule: str, message: str, node: Optional[int]) -> None:
        super().__init__(message)
        self.rule, self.node = rule, node


# ----------------------------------------------------------------- canonical node states
class _FixedRandom(random.Random):
    """A node's rng during exploration: every draw is the middle value (no state at all)."""

    def random(self) -> float:
        return 0.5

    def getrandbits(self, k: int) -> int:
        return 0

    def seed(self, *args: Any, **kwargs: Any) -> None:
        pass


_LIST, _SET, _DICT, _TUPLE, _REF, _METHOD, _REFMETHOD, _OBJ, _PICKLED = (
    object() for _ in range(9))
# containers of immutable values only (the common case), copied back with one builtin call
_FLIST, _FSET, _FDICT = object(), object(), object()
_FLAT = {_FLIST: list, _FSET: set, _FDICT: dict}
#: Values kept as they are in a frozen node: immutable, hashable, compared by value.
_ATOMS = frozenset({int, str, float, bool, type(None), bytes, frozenset, LogEntry,
                    *MESSAGE_TYPES})


class _Codec:
    """Turns a node's ``__dict__`` into a hashable value (``freeze``) and back (``thaw``):
    lists, sets, dicts and tuples of them become tagged tuples; immutable values stay as they
    are; the environment, persister, config and rng become references to this slot's."""

    def __init__(self, node: Any, refs: tuple) -> None:
        self.node = node
        self.refs = refs
        self.ref_tags = {id(ref): (_REF, k) for k, ref in enumerate(refs)}

    def freeze(self, v: Any) -> Any:
        t = type(v)
        if t in _ATOMS:
            return v
        atoms = _ATOMS
        if t is list:
            if atoms.issuperset(map(type, v)):
                return (_FLIST, tuple(v))
            return (_LIST, tuple(map(self.freeze, v)))
        if t is dict:
            if atoms.issuperset(map(type, v)) and atoms.issuperset(map(type, v.values())):
                return (_FDICT, tuple(v.items()))
            f = self.freeze
            return (_DICT, tuple((f(k), f(x)) for k, x in v.items()))
        if t is set:
            if atoms.issuperset(map(type, v)):
                return (_FSET, frozenset(v))
            return (_SET, frozenset(map(self.freeze, v)))
        if t is tuple:
            if atoms.issuperset(map(type, v)):
                return v  # a tuple of immutable values is one (its first item is no tag)
            return (_TUPLE, tuple(map(self.freeze, v)))
        if t is MethodType:
            owner = v.__self__
            if owner is self.node:
                return (_METHOD, v.__func__)
            for k, ref in enumerate(self.refs):
                if owner is ref:
                    return (_REFMETHOD, k, v.__func__)
        for k, ref in enumerate(self.refs):
            if v is ref:
                return (_REF, k)
        if hasattr(v, "__dict__") and not isinstance(v, type) and not callable(v):
            return (_OBJ, t, self.freeze(vars(v)))
        try:
            return (_PICKLED, pickle.dumps(v, pickle.HIGHEST_PROTOCOL))
        except Exception as exc:
            raise TypeError(f"explore cannot copy a node attribute holding {v!r} "
                            f"({type(v).__name__}): {exc}") from None

    def thaw(self, v: Any) -> Any:
        if type(v) is not tuple or not v:
            return v
        tag = v[0]
        flat = _FLAT.get(tag) if type(tag) is object else None
        if flat is not None:
            return flat(v[1])
        if tag is _LIST:
            return list(map(self.thaw, v[1]))
        if tag is _DICT:
            t = self.thaw
            return {t(k): t(x) for k, x in v[1]}
        if tag is _SET:
            return set(map(self.thaw, v[1]))
        if tag is _TUPLE:
            return tuple(map(self.thaw, v[1]))
        if tag is _METHOD:
            return MethodType(v[1], self.node)
        if tag is _REF:
            return self.refs[v[1]]
        if tag is _REFMETHOD:
            return MethodType(v[2], self.refs[v[1]])
        if tag is _OBJ:
            obj = object.__new__(v[1])
            obj.__dict__.update(self.thaw(v[2]))
            return obj
        if tag is _PICKLED:
            return pickle.loads(v[1])
        return v

    def snapshot(self) -> tuple:
        """The node's attributes as (names, frozen values)."""
        d = self.node.__dict__
        atoms = _ATOMS
        f = self.freeze
        ref = self.ref_tags.get
        return (tuple(d), tuple([x if type(x) in atoms else (ref(id(x)) or f(x))
                                 for x in d.values()]))

    def restore(self, plan: tuple) -> None:
        """Set the node's attributes from ``plan(frozen)``."""
        template, rebuild = plan
        d = template.copy()
        for name, make, value in rebuild:
            d[name] = make(value) if make is not None else self.thaw(value)
        self.node.__dict__ = d


def _plan(frozen: tuple) -> tuple:
    """How to rebuild a node's attributes from their frozen form quickly: a dict of the
    immutable ones to copy, and for the others (name, builtin or None for ``thaw``, value)."""
    template: dict = {}
    rebuild = []
    for name, v in zip(*frozen):
        if type(v) is tuple and v and type(v[0]) is object:
            flat = _FLAT.get(v[0])
            rebuild.append((name, flat, v[1]) if flat is not None else (name, None, v))
        else:
            template[name] = v
    return template, tuple(rebuild)


# ----------------------------------------------------------------- the explorer's harness
_DUE = [0, None]  # every pending timer is due "now" (NodeEnv._fire reads [0], then deletes it)
_INF = math.inf


class _ExploreEnv(MonitoredEnv):
    """A node's environment during exploration: the monitors' checks on every input, no
    clock (timers are remembered by name), calls handed to the explorer."""

    __slots__ = ("applied",)
    timed = False

    def set_timer(self, name: str, delay: float) -> None:
        if not 0 <= delay < _INF:
            raise ValueError(f"node {self.id}: set_timer({name!r}, {delay!r}): the delay must "
                             f"be a finite number of ms >= 0")
        if type(name) is not str:
            raise TypeError(f"node {self.id}: a timer name must be a str, got {name!r}")
        node = self.node
        if node.role is not self._role or node.current_term != self._term:
            self._observe_call()
        self._timers[name] = _DUE
        self._network.timer_set(self.id, name)

    def cancel_timer(self, name: str) -> None:
        self._observe_call()
        if self._timers.pop(name, None) is not None:
            self._network.timer_gone(self.id, name)


class _Frame:
    """What ``RuleMonitor`` reads of its cluster: the config, and a clock that stays at 0."""

    def __init__(self, config: RaftConfig) -> None:
        self.config = config
        self.now = 0.0


class _SlotInfo(NamedTuple):
    """A node slot's stored state (``slot``) and what the global checks read of it."""

    slot: tuple
    alive: bool
    role: Optional[str]
    term: int
    terms: tuple
    entries: tuple
    commit: int


class _World:
    """The nodes, their environments and the step function over canonical states."""

    def __init__(self, n: int, node_class: Any, drops: bool, crashes: int,
                 commands: int) -> None:
        self.n, self.node_class = n, node_class
        self.drops, self.crashes, self.commands = drops, crashes, commands
        self.config = RaftConfig()
        self.monitor = RuleMonitor(_Frame(self.config))  # type: ignore[arg-type]
        self.sim = Simulator(0)
        self.sink: list = []             # the trace events the environments write: not kept
        self.rng = _FixedRandom(0)
        self.persisters = [Persister() for _ in range(n)]
        self.envs = [_ExploreEnv(i, self.sim, self.sink, self, self.persisters[i],
                                 self._on_apply, monitor=self.monitor) for i in range(n)]
        self.nodes: list[Any] = [None] * n
        self.codecs: list[Optional[_Codec]] = [None] * n
        self.msgs: list[Any] = []        # interned messages: id -> message
        self.msg_ids: dict[Any, int] = {}
        self.frozen: list[tuple] = []    # interned frozen node attributes
        self.frozen_ids: dict[tuple, int] = {}
        self.plans: dict[int, tuple] = {}  # frozen id -> how to restore it (see _plan)
        self.infos: list[_SlotInfo] = []  # interned slots
        self.slot_ids: dict[tuple, int] = {}
        self.blobs: dict[bytes, int] = {b"": 0}   # interned persisted states
        self.blob_list: list[bytes] = [b""]
        self.mon_dicts: list[tuple] = []  # interned monitor memories, as dicts
        self.mon_ids: dict[tuple, int] = {}
        # (node, slot, monitors, input, crashes left?) -> what _run_input returned
        self.memo: dict[tuple, Any] = {}
        self.hists: list[tuple] = []
        self.hist_ids: dict[tuple, int] = {}
        self.outbox: list = []           # calls made during a step: (src, dst, request, booting)
        self.applied: list = []          # applies made during a step: (node, msg)
        self.booting = False
        self.tracker: Optional[_Tracker] = None

    # -- what the environments call
    def call(self, src: int, dst: int, request: Any) -> None:
        self.outbox.append((src, dst, request, self.booting))

    def timer_set(self, node: int, name: str) -> None:
        if self.tracker is not None:
            self.tracker.timer_set(node, name)

    def timer_gone(self, node: int, name: str) -> None:
        if self.tracker is not None:
            self.tracker.timer_gone(node, name)

    def _on_apply(self, i: int, msg: Any) -> None:
        self.applied.append((i, msg))

    # -- interning
    def msg_id(self, msg: Any) -> int:
        k = self.msg_ids.get(msg)
        if k is None:
            k = self.msg_ids[msg] = len(self.msgs)
            self.msgs.append(msg)
        return k

    def _intern(self, table: dict, values: list, key: Any) -> int:
        k = table.get(key)
        if k is None:
            k = table[key] = len(values)
            values.append(key)
        return k

    # -- nodes in and out of canonical form
    def _new_instance(self, i: int) -> None:
        env = self.envs[i]
        name = self.node_class.__qualname__
        try:
            node = self.node_class(i, self.n, self.persisters[i], env, self.config, self.rng)
        except TypeError as exc:
            raise TypeError(f"{name}(me={i}, n={self.n}, persister, env, config, rng) "
                            f"failed: {exc}") from exc
        check_node_instance(node)
        if not hasattr(node, "__dict__"):
            raise TypeError(f"explore copies a node's attributes through its __dict__; "
                            f"{name} has none (it uses __slots__)")
        env.node = node
        self.nodes[i] = node
        self.codecs[i] = _Codec(node, (env, self.persisters[i], self.config, self.rng))

    def _slot(self, i: int, alive: bool, persisted: int, keep_persisted: bool) -> int:
        """Intern node ``i``'s slot as it is now; return its id."""
        env = self.envs[i]
        if alive:
            node = env.node
            fid = self._intern(self.frozen_ids, self.frozen, self.codecs[i].snapshot())
            if keep_persisted:
                data = self.persisters[i].read()
                persisted = self.blobs.get(data)
                if persisted is None:
                    persisted = self.blobs[data] = len(self.blob_list)
                    self.blob_list.append(data)
            else:
                persisted = -1
            slot = (True, fid, tuple(sorted(env._timers)), env.life, env.last_commit,
                    env.led_term, env.applied, persisted)
        else:
            slot = (False, -1, (), env.life, 0, -1, 0, persisted)
        k = self.slot_ids.get(slot)
        if k is None:
            k = self.slot_ids[slot] = len(self.infos)
            if alive:
                log = node.log
                info = _SlotInfo(slot, True, node.role, node.current_term,
                                 tuple(env._terms),
                                 tuple([(e.term, e.command) for e in log]), node.commit_index)
            else:
                info = _SlotInfo(slot, False, None, -1, (), (), 0)
            self.infos.append(info)
        return k

    def _load(self, i: int, slot_id: int) -> None:
        """Make node ``i``'s objects hold the slot ``slot_id`` (a live one)."""
        info = self.infos[slot_id]
        _, fid, timers, life, last_commit, led_term, applied, persisted = info.slot
        plan = self.plans.get(fid)
        if plan is None:
            plan = self.plans[fid] = _plan(self.frozen[fid])
        self.codecs[i].restore(plan)
        env = self.envs[i]
        node = env.node
        env.alive = True
        env._role, env._term, env._firing = info.role, info.term, None
        log = node.log
        env._log_last, env._log_len = log[-1], len(log)
        env._terms = list(info.terms)
        env._commit = info.commit
        env._timers = dict.fromkeys(timers, _DUE)
        env.life, env.last_commit, env.led_term, env.applied = life, last_commit, led_term, applied
        if persisted >= 0:
            self.persisters[i]._state = self.blob_list[persisted]

    def _mon(self, before: int = -1) -> int:
        """The id of what the monitors remember now (``before``'s if unchanged)."""
        m = self.monitor
        if before >= 0:
            max_term, votes, leader_of = self.mon_dicts[before]
            if m.max_term == max_term and m.votes == votes and m.leader_of == leader_of:
                return before
        key = (tuple(sorted(m.max_term.items())), tuple(sorted(m.votes.items())),
               tuple(sorted(m.leader_of.items())))
        k = self.mon_ids.get(key)
        if k is None:
            k = self.mon_ids[key] = len(self.mon_dicts)
            self.mon_dicts.append((dict(key[0]), dict(key[1]), dict(key[2])))
        return k

    def _set_mon(self, mon_id: int) -> None:
        max_term, votes, leader_of = self.mon_dicts[mon_id]
        m = self.monitor
        m.max_term, m.votes, m.leader_of = dict(max_term), dict(votes), dict(leader_of)

    # -- the initial state
    def initial(self) -> tuple:
        n = self.n
        keep = self.crashes > 0
        slots = []
        m = self.monitor
        m.max_term, m.votes, m.leader_of, m.lives = {}, {}, {}, {}
        self.outbox.clear()  # what a step cut short by a violation left behind
        self.applied.clear()
        self.sink.clear()
        self.booting = True
        try:
            for i in range(n):
                self.persisters[i]._state = b""
                self._fresh_env(self.envs[i], 1)
                self._new_instance(i)
                self.envs[i].boot()
        finally:
            self.booting = False
        pending: list = []
        self._post(pending, self._take_calls(), None)
        for i in range(n):
            if self.applied:
                self._check_applied(i)
            slots.append(self._slot(i, True, -1, keep))
        for i in range(n):
            self._check_logs(i, slots, {})
        hist: dict = {}
        for i in range(n):
            self._check_commits(i, slots, hist, tuple(self.applied))
        self.applied.clear()
        return (*slots, tuple(sorted(pending)), self._mon(),
                self._intern(self.hist_ids, self.hists, tuple(sorted(hist.items()))),
                self.crashes, 1)

    # -- the steps possible in a state, in a fixed order
    def choices(self, state: tuple) -> Iterator[tuple]:
        n = self.n
        infos = self.infos
        slots = [infos[s] for s in state[:n]]
        pending = state[n]
        last = None
        for item in pending:
            if item == last:
                continue  # the same message twice: one choice
            last = item
            code = item[0]
            if code == _ORPHAN:
                if slots[item[1]].alive:
                    yield (_DELIVER, item)
                continue
            yield (_DELIVER, item)
            if self.drops and code != _FAIL:
                yield (_DROP, item)
        for i, info in enumerate(slots):
            if info.alive:
                for name in info.slot[2]:
                    yield (_TIMER, i, name)
        if state[n + 4] <= self.commands:
            for i, info in enumerate(slots):
                if info.alive and info.role == "leader":
                    yield (_START, i)
        if state[n + 3] > 0:
            for i, info in enumerate(slots):
                if info.alive:
                    yield (_CRASH, i)
        for i, info in enumerate(slots):
            if not info.alive:
                yield (_RESTART, i)

    # -- one step
    def step(self, state: tuple, choice: tuple) -> tuple:
        """The state after ``choice``; ``_Broken``, ``RuleViolation`` or ``NodeError`` if a
        rule broke on the way."""
        n = self.n
        kind = choice[0]
        slots = list(state[:n])
        pending = list(state[n])
        mon_id, hist_id, crashes_left, next_cmd = state[n + 1:]
        tracker = self.tracker
        code = -1
        if kind == _DELIVER or kind == _DROP:
            item = choice[1]
            pending.remove(item)
            if tracker is not None:
                tracker.consume(item, "lost" if kind == _DROP else "arrive")
            code, a, b, mid, rid = item
            if kind == _DROP:  # a lost request (a -> b) or reply (a -> b): the caller learns
                i, inp = (a, (_FAILED, b, mid)) if code == _REQ else (b, (_FAILED, a, mid))
                code = -1  # no reply to send
            elif code == _REQ or code == _ORPHAN:
                i, inp = b, (_REQUEST, a, mid)
            elif code == _REP:
                i, inp = b, (_REPLY, a, mid, rid)
            else:  # _FAIL: the call a -> b failed, b is the caller
                i, inp = b, (_FAILED, a, mid)
        elif kind == _TIMER:
            i, inp = choice[1], (_FIRE, choice[2])
        elif kind == _START:
            i, inp = choice[1], (_GIVE, next_cmd)
            next_cmd += 1
        elif kind == _CRASH:
            return self._crash(choice[1], slots, pending, mon_id, hist_id, crashes_left,
                               next_cmd)
        else:
            return self._restart(choice[1], slots, pending, mon_id, hist_id, crashes_left,
                                 next_cmd)
        keep = crashes_left > 0
        if tracker is None:
            key = (i, slots[i], mon_id, inp, keep)
            out = self.memo.get(key)
            if out is None:
                out = self.memo[key] = self._run_input(i, slots[i], mon_id, inp, keep)
        else:
            out = self._run_input(i, slots[i], mon_id, inp, keep)
        if type(out) is not tuple:
            raise out
        slots[i], calls, reply_id, applied, mon_id = out
        if calls:
            self._post(pending, calls, slots)
        if code == _REQ or code == _ORPHAN:
            rep = (_REP, b, a, mid, reply_id)
            if code == _REQ:
                pending.append(rep)
                if tracker is not None:
                    tracker.born(rep, False)
            elif tracker is not None:  # the caller is gone: its reply will be lost
                tracker.born(rep, False)
                tracker.consume(rep, "never")
        return self._finish(slots, pending, mon_id, hist_id, crashes_left, next_cmd, i,
                            applied)

    def _run_input(self, i: int, slot_id: int, mon_id: int, inp: tuple, keep: bool) -> Any:
        """Node ``i`` in slot ``slot_id`` (the monitors remembering ``mon_id``) handles
        ``inp``: (new slot, calls made, reply id, applies, monitors' id), or the exception
        that broke a rule. A pure function of its arguments: the search memoizes it."""
        self._set_mon(mon_id)
        self._load(i, slot_id)
        env = self.envs[i]
        msgs = self.msgs
        reply_id = -1
        try:
            tag = inp[0]
            if tag == _REQUEST:
                reply_id = self.msg_id(env.handle_request(inp[1], msgs[inp[2]]))
            elif tag == _REPLY:
                env.handle_reply(inp[1], msgs[inp[2]], msgs[inp[3]])
            elif tag == _FAILED:
                env.handle_failure(inp[1], msgs[inp[2]])
            elif tag == _FIRE:
                if self.tracker is not None:
                    self.tracker.timer_fired(i, inp[1])
                env._fire(inp[1])
            else:  # _GIVE: a client command, as MonitoredCluster.start gives it
                node = env.node
                term0 = node.current_term
                env._guard(f"handling start({inp[1]!r})", node.start, inp[1])
                env.observe()
                env.observe_log()
                env._after_input(term0)
            self.sink.clear()
            if self.applied:
                self._check_applied(i)
            calls = self._take_calls()
            applied = tuple(self.applied)
            self.applied.clear()
            return (self._slot(i, True, -1, keep), calls, reply_id, applied,
                    self._mon(mon_id))
        except (CheckFailed, NodeError, _Broken) as exc:
            self.outbox.clear()
            self.applied.clear()
            self.sink.clear()
            exc.__traceback__ = None
            return exc

    def _crash(self, i: int, slots: list, pending: list, mon_id: int, hist_id: int,
               crashes_left: int, next_cmd: int) -> tuple:
        self._load(i, slots[i])
        env = self.envs[i]
        env.alive = False  # NodeEnv.stop, without a simulator's timers to cancel
        env._timers = {}
        if self.tracker is not None:
            self.tracker.crashed(i)
        try:
            env.node.kill()
        except Exception as exc:
            raise NodeError(i, "handling kill()", 0.0, exc) from exc
        persisted = self.infos[slots[i]].slot[7]  # kept: crashes were left
        slots[i] = self._slot(i, False, persisted, True)
        pending = self._crash_pending(i, pending)
        return self._finish(slots, pending, mon_id, hist_id, crashes_left - 1, next_cmd, None,
                            ())

    def _restart(self, i: int, slots: list, pending: list, mon_id: int, hist_id: int,
                 crashes_left: int, next_cmd: int) -> tuple:
        env = self.envs[i]
        old = self.infos[slots[i]].slot
        self._set_mon(mon_id)
        self.persisters[i]._state = self.blob_list[old[7]]
        self._fresh_env(env, old[3] + 1)
        self._new_instance(i)
        self.booting = True
        try:
            env.boot()
        finally:
            self.booting = False
        self.sink.clear()
        if self.applied:
            self._check_applied(i)
        self._post(pending, self._take_calls(), None)
        applied = tuple(self.applied)
        self.applied.clear()
        slots[i] = self._slot(i, True, -1, crashes_left > 0)
        return self._finish(slots, pending, self._mon(mon_id), hist_id, crashes_left,
                            next_cmd, i, applied)

    def _fresh_env(self, env: _ExploreEnv, life: int) -> None:
        env.alive = True
        env._timers = {}
        env._role = env._term = env._firing = env._log_last = None
        env._log_len, env._terms, env._commit = 1, [0], 0
        env.life, env.last_commit, env.led_term, env.applied = life, 0, -1, 0
        env.last_reset, env.last_leader = 0.0, -math.inf
        self.monitor.lives[env.id] = life

    def _take_calls(self) -> tuple:
        """The calls made during this input, in order: ``(src, dst, message id, booting)``."""
        outbox = self.outbox
        if not outbox:
            return ()
        calls = []
        for src, dst, request, booting in outbox:
            if not (isinstance(dst, int) and not isinstance(dst, bool) and 0 <= dst < self.n):
                outbox.clear()
                raise NodeError(src, f"calling env.call({dst!r}, ...)", 0.0,
                                ValueError(f"unknown node id {dst!r}: node ids are "
                                           f"0..{self.n - 1}"))
            calls.append((src, dst, self.msg_id(request), booting))
        outbox.clear()
        return tuple(calls)

    def _post(self, pending: list, calls: tuple, slots: Optional[list]) -> None:
        """Put ``calls`` in flight, in the order they were made: a call to a node that is
        down (or made while booting, not yet connected) fails."""
        tracker = self.tracker
        infos = self.infos
        for src, dst, mid, booting in calls:
            dead = booting or not infos[slots[dst]].alive  # type: ignore[index]
            item = (_FAIL, dst, src, mid, -1) if dead else (_REQ, src, dst, mid, -1)
            pending.append(item)
            if tracker is not None:
                tracker.born(item, dead)

    def _crash_pending(self, i: int, pending: list) -> list:
        """What becomes of the messages in flight when node ``i`` crashes (as in the
        simulator): its calls' requests arrive only once it is back (their replies are lost),
        replies to it are lost, calls to it and replies from it fail."""
        tracker = self.tracker
        out = []
        for item in pending:
            code, a, b, mid, rid = item
            new: Any = item
            if code == _REQ:
                if a == i and b == i:
                    new = None
                elif a == i:
                    new = (_ORPHAN, a, b, mid, -1)
                elif b == i:
                    new = (_FAIL, b, a, mid, -1)
            elif code == _ORPHAN:
                if b == i:
                    new = None
            elif code == _REP:
                if b == i:
                    new = None
                elif a == i:
                    new = (_FAIL, a, b, mid, -1)
            elif b == i:  # _FAIL to the crashed caller
                new = None
            if new is not item and tracker is not None:
                tracker.convert(item, new)
            if new is not None:
                out.append(new)
        return out

    def _finish(self, slots: list, pending: list, mon_id: int, hist_id: int,
                crashes_left: int, next_cmd: int, i: Optional[int], applied: tuple) -> tuple:
        """The new state, once the global checks pass for what node ``i`` did."""
        if i is not None:
            info = self.infos[slots[i]]
            if info.commit or applied or info.role == "leader" or len(info.entries) > 1:
                hist = dict(self.hists[hist_id])
                self._check_logs(i, slots, hist)
                if self._check_commits(i, slots, hist, applied):
                    self._check_leaders(slots, hist)
                    hist_id = self._intern(self.hist_ids, self.hists,
                                           tuple(sorted(hist.items())))
        pending.sort()
        return (*slots, tuple(pending), mon_id, hist_id, crashes_left, next_cmd)

    # -- the global checks
    def _check_logs(self, i: int, slots: list, hist: dict) -> None:
        """Log Matching between node ``i`` and every other live node; Leader Completeness if
        node ``i`` leads."""
        infos = self.infos
        me = infos[slots[i]]
        mine = me.entries
        for j, s in enumerate(slots):
            other = infos[s]
            if j == i or not other.alive:
                continue
            theirs = other.entries
            k = min(len(mine), len(theirs)) - 1
            while k > 0 and mine[k][0] != theirs[k][0]:
                k -= 1
            if k > 0 and mine[:k + 1] != theirs[:k + 1]:
                first = next(x for x in range(k + 1) if mine[x] != theirs[x])
                raise _Broken("log-matching", f"nodes {i} and {j} both hold an entry of term "
                              f"{mine[k][0]} at index {k}, but their logs differ at index "
                              f"{first}: {_entry(mine[first])} and {_entry(theirs[first])} "
                              f"(Log Matching)", i)
        if me.role == "leader":
            self._check_leader(i, me, hist)

    def _check_leader(self, i: int, me: _SlotInfo, hist: dict) -> None:
        for index, (term, command, seen) in hist.items():
            if seen < me.term and (index >= len(me.entries)
                                   or me.entries[index] != (term, command)):
                have = _entry(me.entries[index]) if index < len(me.entries) else "nothing"
                raise _Broken("leader-completeness", f"node {i} is leader of term {me.term} "
                              f"but holds {have} at index {index}, where "
                              f"{_entry((term, command))} was committed by term {seen} "
                              f"(Leader Completeness)", i)

    def _check_leaders(self, slots: list, hist: dict) -> None:
        for j, s in enumerate(slots):
            info = self.infos[s]
            if info.alive and info.role == "leader":
                self._check_leader(j, info, hist)

    def _check_commits(self, i: int, slots: list, hist: dict, applied: tuple) -> bool:
        """Record the entries node ``i`` now counts as committed; State Machine Safety for
        them and for what it applied. True if the record grew."""
        info = self.infos[slots[i]]
        grew = False
        entries = info.entries
        for index in range(1, min(info.commit, len(entries) - 1) + 1):
            entry = entries[index]
            known = hist.get(index)
            if known is None:
                hist[index] = (entry[0], entry[1], info.term)
                grew = True
            elif (known[0], known[1]) != entry:
                raise _Broken("state-machine-safety", f"node {i} counts {_entry(entry)} at "
                              f"index {index} as committed, but {_entry(known[:2])} was "
                              f"committed there (State Machine Safety)", i)
        for j, msg in applied:
            if j != i or not getattr(msg, "command_valid", True):
                continue
            known = hist.get(msg.command_index)
            if known is not None and known[1] != msg.command:
                raise _Broken("state-machine-safety", f"node {i} applied {msg.command!r} at "
                              f"index {msg.command_index}, where {_entry(known[:2])} was "
                              f"committed (State Machine Safety)", i)
        return grew

    def _check_applied(self, i: int) -> None:
        """Node ``i`` applies its commands one by one, in index order (config.go's check)."""
        env = self.envs[i]
        for j, msg in self.applied:
            if j != i or not getattr(msg, "command_valid", True):
                continue
            index = msg.command_index
            if index != env.applied + 1:
                raise _Broken("state-machine-safety", f"node {i} applied index {index} after "
                              f"index {env.applied} (apply out of order)", i)
            env.applied = index


def _entry(e: tuple) -> str:
    return f"(term {e[0]}, command {e[1]!r})"


# ----------------------------------------------------------------- fates, for the replay
class _Tracker:
    """Follows one schedule through the world and notes when each message and timer setting
    of it meets its fate (the step at which it arrives, is lost, or never), in the order the
    simulator would create them: what the replay's scripted chooser needs."""

    def __init__(self) -> None:
        self.step = 0
        self.messages: list[list] = []   # per message, in send order: [born, fate, lost, dead]
        self.flight: dict[tuple, list[int]] = {}  # item -> its message numbers, oldest first
        self.timers: list[list] = []     # per set_timer call: [set step, fire step or None]
        self.armed: dict[tuple, int] = {}  # (node, name) -> its last setting's number

    def born(self, item: tuple, dead: bool) -> None:
        self.flight.setdefault(item, []).append(len(self.messages))
        self.messages.append([self.step, None, False, dead])

    def consume(self, item: tuple, how: str) -> None:
        k = self.flight[item].pop(0)
        if how != "never":
            self.messages[k][1] = self.step
            self.messages[k][2] = how == "lost"

    def convert(self, item: tuple, new: Optional[tuple]) -> None:
        k = self.flight[item].pop(0)
        if new is not None:
            self.flight.setdefault(new, []).append(k)

    def timer_set(self, node: int, name: str) -> None:
        self.armed[(node, name)] = len(self.timers)
        self.timers.append([self.step, None])

    def timer_gone(self, node: int, name: str) -> None:
        self.armed.pop((node, name), None)

    def timer_fired(self, node: int, name: str) -> None:
        k = self.armed.pop((node, name))
        self.timers[k][1] = self.step

    def crashed(self, node: int) -> None:
        for key in [key for key in self.armed if key[0] == node]:
            del self.armed[key]


class _ScriptedChooser:
    """The replay network's chooser: the draws of ``Network`` (``random()``) that make each
    message, in send order, arrive or be lost at its step. Written for the draws of an
    unreliable network with long delays and no reordering: per request or reply the delay
    (latency ``(0, 2**16)`` ms), the extra 0-26 ms (0 here) and the loss draw (lost below
    0.1); per call to a crashed node one draw for when it fails (0-6999 ms)."""

    def __init__(self, messages: list[list]) -> None:
        draws: list[float] = []
        for born, fate, lost, dead in messages:
            wait = _NEVER_MS if fate is None else (fate - born) * STEP_MS
            if dead:
                wait = min(wait, 6999)
                draws.append((wait + 0.5) / 7000)
            else:
                draws += [wait / _LATENCY_SPAN, 0.0, 0.0 if lost else 0.5]
        self._draws = iter(draws)

    def random(self) -> float:
        # past the schedule (the messages sent by its last step): arrive long after its end
        return next(self._draws, 0.9)

    def randrange(self, *args: Any) -> int:  # only long reordering draws it; off in a replay
        raise RuntimeError("a replayed schedule has no long reordering")


class _ScriptedEnv(NodeEnv):
    """A ``NodeEnv`` whose timers fire at the steps of a schedule, whatever length the node
    asks for."""

    __slots__ = ()
    script: Any = None  # set on the subclass made for each replay

    def set_timer(self, name: str, delay: float) -> None:
        fire = self.script.next_timer()
        now = self._sim.now
        NodeEnv.set_timer(self, name, _NEVER_MS if fire is None else fire * STEP_MS - now)


class _TimerScript:
    def __init__(self, timers: list[list]) -> None:
        self._fires = iter([fire for _, fire in timers])

    def next_timer(self) -> Optional[int]:
        return next(self._fires, None)  # past the schedule: never


class _MonitoredScriptedEnv(MonitoredEnv):
    """``_ScriptedEnv`` with the grader's rule monitors (no timing rule: time is scripted)."""

    __slots__ = ()
    timed = False
    script: Any = None
    set_timer = _ScriptedEnv.set_timer


class _ReplayCluster(Cluster):
    """A ``Cluster`` whose network delays and node timers follow a scripted schedule."""

    chooser: Any = None
    code = ""

    def _network_chooser(self) -> Any:
        return self.chooser

    def rebuild_call(self) -> str:
        """How to build this cluster again: the search, then its replay."""
        return self.code


class _MonitoredReplayCluster(MonitoredCluster):
    """``_ReplayCluster`` with the grader's rule monitors."""

    chooser: Any = None
    replay_env: Any = None
    code = ""
    rebuild_call = _ReplayCluster.rebuild_call

    def __init__(self, n: int, seed: int = 0, **kwargs: Any) -> None:
        self.monitor = RuleMonitor(self)
        self.env_class = functools.partial(self.replay_env,  # type: ignore[assignment]
                                           monitor=self.monitor)
        Cluster.__init__(self, n, seed, **kwargs)

    def _network_chooser(self) -> Any:
        return self.chooser


def _replay(result: ExploreResult, monitors: bool) -> Cluster:
    messages, timers, expected = result._script
    script = {"__slots__": (), "script": _TimerScript(timers)}
    chooser = _ScriptedChooser(messages)
    if monitors:
        env = type("ReplayEnv", (_MonitoredScriptedEnv,), script)
        cls: Any = type("ReplayCluster", (_MonitoredReplayCluster,),
                        {"replay_env": env, "chooser": chooser, "code": result.code})
    else:
        env = type("ReplayEnv", (_ScriptedEnv,), script)
        cls = type("ReplayCluster", (_ReplayCluster,), {"env_class": env, "chooser": chooser,
                                                         "code": result.code})
    c = cls(result.n, seed=0, node_class=result.node_class, reliable=False,
            latency=(0, _LATENCY_SPAN), long_delays=True)
    for k, step in enumerate(result.counterexample, 1):
        c.run_until(k * STEP_MS)  # a message or timer of the schedule is due at this instant,
        if step.action == "crash":  # or nothing is and the harness acts
            c.crash(step.node)
        elif step.action == "restart":
            c.restart(step.node)
        elif step.action == "start":
            c.start(step.node, step.message)
        if k <= len(expected):
            seen = tuple(None if env is None else (env._role, env._term) for env in c._envs)
            if seen != expected[k - 1]:
                raise RuntimeError(
                    f"the replay diverged from the explored schedule after step {k} ({step}): "
                    f"nodes' (role, term) {seen}, explored {expected[k - 1]}. Does the node "
                    f"use its rng for more than the length of its timers?")
    c.run_until(len(result.counterexample) * STEP_MS + STEP_MS / 2)
    return c


# ----------------------------------------------------------------- the search
def _public(world: _World, choice: tuple) -> Step:
    kind = choice[0]
    msgs = world.msgs
    if kind == _DELIVER or kind == _DROP:
        code, a, b, mid, rid = choice[1]
        if code == _FAIL:
            return Step("fail", b, a, None, msgs[mid])
        if kind == _DROP:
            if code == _REQ:
                return Step("drop", a, b, msgs[mid], msgs[mid])
            return Step("drop", b, a, msgs[rid], msgs[mid])
        if code == _REP:
            return Step("deliver", b, a, msgs[rid], msgs[mid])
        return Step("deliver", b, a, msgs[mid])
    if kind == _TIMER:
        return Step("timer", choice[1], name=choice[2])
    if kind == _START:
        return Step("start", choice[1])  # the command is filled in by _path
    return Step("crash" if kind == _CRASH else "restart", choice[1])


def _progress(enabled: bool, total: int) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional (raftlab[progress])
        return None
    return tqdm(total=total, desc="exploring", unit="state", leave=False)


def explore(n: int = 3, node_class: Any = RaftNode, max_depth: int = 16,
            max_states: int = 200_000, crashes: int = 0, drops: bool = True,
            progress: bool = False, *, commands: int = 0) -> ExploreResult:
    """Breadth-first search over every ordering of the steps of ``n`` nodes of ``node_class``
    (see the module docstring): schedules of up to ``max_depth`` steps, until ``max_states``
    distinct states are stored (0: the initial state only), with up to ``crashes`` crashes,
    lost messages if ``drops``, and up to ``commands`` client commands given to leaders.
    Stops at the first violation, with a shortest schedule to it. ``progress``: a tqdm bar.
    """
    check_int("n", n, 1, MAX_EXPLORE_NODES)
    check_node_class(node_class)
    check_int("max_depth", max_depth, 1)
    check_int("max_states", max_states, 0)
    check_int("crashes", crashes, 0)
    check_int("commands", commands, 0)
    check_bool("drops", drops)
    check_bool("progress", progress)
    settings = dict(max_depth=max_depth, max_states=max_states, crashes=crashes, drops=drops,
                    commands=commands)
    started, cpu_started = time.perf_counter(), time.process_time()
    world = _World(n, node_class, drops, crashes, commands)
    bar = _progress(progress, max_states)

    def result(states: int, transitions: int, depth: int, complete: bool,
               violation: Optional[Violation], path: list) -> ExploreResult:
        if bar is not None:
            bar.close()
        r = ExploreResult(n, node_class, states, transitions, depth, complete,
                          time.perf_counter() - started, violation, [], settings,
                          len(world.memo), time.process_time() - cpu_started)
        if violation is not None:
            r.counterexample, r._script = _follow(world, path)
        return r

    try:
        init = world.initial()
    except (CheckFailed, NodeError, _Broken) as exc:
        return result(1, 0, 0, False, _violation(exc), [])
    parent: dict[tuple, Any] = {init: None}
    frontier = [init]
    transitions = depth = 0
    full = max_states <= 1
    step = world.step
    choices = world.choices
    while frontier and depth < max_depth and not full:
        depth += 1
        level: list[tuple] = []
        for state in frontier:
            for choice in choices(state):
                transitions += 1
                try:
                    new = step(state, choice)
                except (CheckFailed, NodeError, _Broken) as exc:
                    path = _path(parent, state) + [choice]
                    return result(len(parent), transitions, depth, False, _violation(exc),
                                  path)
                link = (state, choice)
                if parent.setdefault(new, link) is not link:
                    continue  # seen before (one hash of the state, not two)
                level.append(new)
                if len(parent) >= max_states:
                    full = True
                    break
            if full:
                break
            if bar is not None and len(parent) - bar.n >= 1000:
                bar.update(len(parent) - bar.n)
        frontier = level
    return result(len(parent), transitions, depth, not full, None, [])


def _path(parent: dict, state: tuple) -> list:
    choices = []
    while parent[state] is not None:
        state, choice = parent[state]
        choices.append(choice)
    return choices[::-1]


def _violation(exc: BaseException) -> Violation:
    if isinstance(exc, RuleViolation):
        return Violation(exc.rule, str(exc), exc.node)
    if isinstance(exc, NodeError):
        return Violation("node-error", str(exc), exc.node)
    if isinstance(exc, _Broken):
        return Violation(exc.rule, str(exc), exc.node)
    return Violation("check-failed", str(exc))


def _follow(world: _World, path: list) -> tuple[list[Step], tuple]:
    """Run ``path`` again from the initial state, with a tracker: the public steps, and the
    fates of every message and timer (the replay's script)."""
    n = world.n
    tracker = world.tracker = _Tracker()
    steps: list[Step] = []
    expected: list[tuple] = []  # after each step, every node's (role, term), None if down
    state = world.initial()
    for k, choice in enumerate(path, 1):
        tracker.step = k
        public = _public(world, choice)
        if public.action == "start":
            public = public._replace(message=state[n + 4])
        steps.append(public)
        try:
            state = world.step(state, choice)
        except (CheckFailed, NodeError, _Broken):
            break
        expected.append(tuple((info.role, info.term) if info.alive else None
                              for info in (world.infos[s] for s in state[:n])))
    return steps, (tracker.messages, tracker.timers, expected)


# ----------------------------------------------------------------- grading and the bug clinic
#: What exploration looks at for each lab part: a crash (elections after restarts, and the
#: persisted term and vote), client commands for the log, and a depth bound (the default
#: number of states, 50,000, ends the search first).
PART_SETTINGS: dict[str, dict[str, int]] = {
    "3A": dict(crashes=1, commands=0, max_depth=12),
    "3B": dict(crashes=0, commands=1, max_depth=12),
    "3C": dict(crashes=1, commands=1, max_depth=12),
    "all": dict(crashes=1, commands=1, max_depth=12),
}
#: The rules exploration checks (the timing rule ``early-election`` and the liveness rules
#: of the ported tests are not among them).
CHECKED_RULES = frozenset({
    "step-down-request", "step-down-reply", "stale-vote", "one-vote", "vote-persisted",
    "term-persisted", "term-monotonic", "up-to-date", "log-matching", "commit-current-term",
    "election-safety", "leader-completeness", "state-machine-safety", "node-error"})


def explore_part(node_class: Any, part: str = "3A", n: int = 3,
                 max_depth: Optional[int] = None, max_states: int = 50_000,
                 progress: bool = False) -> ExploreResult:
    """``explore`` with the settings of a lab part (``PART_SETTINGS``): what
    ``grade(..., explore=True)`` and ``raftlab grade --explore`` run."""
    if part not in PART_SETTINGS:
        raise ValueError(f"part must be one of {', '.join(PART_SETTINGS)}; got {part!r}")
    settings = dict(PART_SETTINGS[part])
    if max_depth is not None:
        settings["max_depth"] = max_depth
    return explore(n, node_class, settings.pop("max_depth"), max_states, progress=progress,
                   **settings)


def explore_bugs(bugs: Optional[dict] = None, max_states: int = 50_000,
                 max_depth: Optional[int] = None) -> dict[str, ExploreResult]:
    """``explore_part`` over each safety mistake of the bug clinic (``raftlab.bugs.BUGS`` by
    default: those whose ``rule`` exploration checks, ``CHECKED_RULES``), each with its own
    part's settings: ``{name: result}``."""
    if bugs is None:
        from .bugs import BUGS
        bugs = BUGS
    return {name: explore_part(cls, cls.part, max_depth=max_depth, max_states=max_states)
            for name, cls in bugs.items() if getattr(cls, "rule", None) in CHECKED_RULES}
