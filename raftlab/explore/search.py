"""The breadth-first search: ``explore``, and the public steps of the schedule it found."""

from __future__ import annotations

import time
from typing import Any, Optional

from ..errors import CheckFailed
from ..monitors import NodeError, RuleViolation
from ..node import RaftNode
from ..protocol import check_node_class
from ..validation import check_bool, check_int
from .fates import _Tracker
from .invariants import _Broken
from .results import ExploreResult, Step, Violation
from .world import _CRASH, _DELIVER, _DROP, _FAIL, _REP, _REQ, _START, _TIMER, _World

#: The largest cluster ``explore`` accepts (the number of orderings grows very fast with n).
MAX_EXPLORE_NODES = 7


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
