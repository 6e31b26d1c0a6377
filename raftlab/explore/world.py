"""The explorer's harness: the nodes, their environments and the step function over canonical
states (``_World``)."""

from __future__ import annotations

import math
import random
from typing import Any, Iterator, Optional

from ..config import RaftConfig
from ..errors import CheckFailed
from ..monitors import MonitoredEnv, NodeError, RuleMonitor
from ..persister import Persister
from ..protocol import check_node_instance
from ..sim import Simulator
from .canonical import _Codec, _plan
from .fates import _Tracker
from .invariants import (_Broken, _check_applied, _check_commits, _check_leaders,
                         _check_logs, _SlotInfo)

# kinds of messages in flight (the first field of an item: also their order in a state)
_REQ, _REP, _FAIL, _ORPHAN = 0, 1, 2, 3
# kinds of steps (internal choices)
_DELIVER, _DROP, _TIMER, _START, _CRASH, _RESTART = range(6)
# kinds of input to one node (memoized)
_REQUEST, _REPLY, _FAILED, _FIRE, _GIVE = range(5)


class _FixedRandom(random.Random):
    """A node's rng during exploration: every draw is the middle value (no state at all)."""

    def random(self) -> float:
        return 0.5

    def getrandbits(self, k: int) -> int:
        return 0

    def seed(self, *args: Any, **kwargs: Any) -> None:
        pass


_DUE = [0, None]  # every pending timer is due "now" (NodeEnv._fire reads [0], then deletes it)
_INF = math.inf


class _ExploreEnv(MonitoredEnv):
    """A node's environment during exploration: the monitors' checks on every input, no
    clock (timers are remembered by name), calls handed to the explorer."""

    __slots__ = ("applied",)
    timed = False

    def set_timer(self, name: str, delay: float) -> None:
        if not 0 <= delay < _INF or type(name) is not str:
            self._bad_timer(name, delay)
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
                _check_applied(i, self.envs[i], self.applied)
            slots.append(self._slot(i, True, -1, keep))
        for i in range(n):
            _check_logs(self.infos, i, slots, {})
        hist: dict = {}
        for i in range(n):
            _check_commits(self.infos, i, slots, hist, tuple(self.applied))
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
                _check_applied(i, self.envs[i], self.applied)
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
            _check_applied(i, self.envs[i], self.applied)
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
                _check_logs(self.infos, i, slots, hist)
                if _check_commits(self.infos, i, slots, hist, applied):
                    _check_leaders(self.infos, slots, hist)
                    hist_id = self._intern(self.hist_ids, self.hists,
                                           tuple(sorted(hist.items())))
        pending.sort()
        return (*slots, tuple(pending), mon_id, hist_id, crashes_left, next_cmd)
