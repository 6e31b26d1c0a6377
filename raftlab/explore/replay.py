"""The replay: a ``Cluster`` whose network delays and node timers follow an explored schedule,
one step per virtual ms."""

from __future__ import annotations

import functools
from typing import Any, Optional

from ..cluster import Cluster
from ..environment import NodeEnv
from ..monitors import MonitoredCluster, MonitoredEnv, RuleMonitor

#: Virtual ms between two steps of a replayed schedule.
STEP_MS = 1
_NEVER_MS = 60_000            # a replayed message or timer whose step never comes: after the end
_LATENCY_SPAN = float(1 << 16)  # the replay network's latency range, a power of two (exact)


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


def _replay(n: int, node_class: Any, schedule: list, fates: tuple, code: str,
            monitors: bool) -> Cluster:
    """A ``Cluster`` of ``n`` nodes of ``node_class`` that ran ``schedule``, the steps of a
    counterexample (``fates``: when each of its messages and timers meets its fate, and the
    nodes' (role, term) after each step); ``code`` is how to build it again."""
    messages, timers, expected = fates
    script = {"__slots__": (), "script": _TimerScript(timers)}
    chooser = _ScriptedChooser(messages)
    if monitors:
        env = type("ReplayEnv", (_MonitoredScriptedEnv,), script)
        cls: Any = type("ReplayCluster", (_MonitoredReplayCluster,),
                        {"replay_env": env, "chooser": chooser, "code": code})
    else:
        env = type("ReplayEnv", (_ScriptedEnv,), script)
        cls = type("ReplayCluster", (_ReplayCluster,), {"env_class": env, "chooser": chooser,
                                                         "code": code})
    c = cls(n, seed=0, node_class=node_class, reliable=False,
            latency=(0, _LATENCY_SPAN), long_delays=True)
    for k, step in enumerate(schedule, 1):
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
    c.run_until(len(schedule) * STEP_MS + STEP_MS / 2)
    return c
