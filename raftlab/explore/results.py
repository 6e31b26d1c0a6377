"""What ``explore`` returns: ``ExploreResult``, its schedule of ``Step``s and the ``Violation``
found."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional

from ..cluster import Cluster
from ..rules import RULES
from ..validation import check_bool
from .replay import _replay


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
        return _replay(self.n, self.node_class, self.counterexample, self._script, self.code,
                       check_bool("monitors", monitors))

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
