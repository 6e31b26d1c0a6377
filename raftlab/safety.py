"""Election safety, checked over a trace (and nothing else).

* at most one leader per term;
* a node's term never decreases, across crashes and restarts (so hard state was persisted);
* a node never grants its vote to two different candidates in one term, across restarts.

``SafetyMonitor`` folds events one at a time, so a panel or a test that checks after every
step reads each event once (``monitor.update()`` looks only at events recorded since the last
call); ``election_safety_violations(trace)`` runs one monitor over a whole trace.
"""

from __future__ import annotations

from typing import Any

from .errors import SafetyViolation
from .trace import Trace

__all__ = ["SafetyMonitor", "election_safety_violations", "check_election_safety"]

# the kinds the checker reads, taken from the trace's raw tuples: a grader checks every trace
# it runs, and naming each event (``trace.of``) would cost more than the checks themselves
_WATCHED = frozenset(("state", "vote"))


class SafetyMonitor:
    """Watches one trace; ``update()`` checks the events added since the last call and
    returns every violation found so far (``violations``), as readable sentences."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.violations: list[str] = []
        self._seen = 0
        self._leader_of: dict[int, int] = {}
        self._term_of: dict[int, int] = {}
        self._vote_of: dict[tuple[int, int], int] = {}

    def update(self) -> list[str]:
        """Check the events recorded since the last call; return all violations so far."""
        end = len(self.trace)
        if end > self._seen:
            for event in self.trace.raw[self._seen:end]:
                if event[1] in _WATCHED:
                    self._check(event)
            self._seen = end
        return self.violations

    def _check(self, e: tuple) -> None:
        """One ``state`` event ``(time, kind, node, term, role)`` or ``vote`` event
        ``(time, kind, node, candidate, term, granted)``, as recorded."""
        problems = self.violations
        if e[1] == "state":
            time, _, node, term, role = e
            last = self._term_of.get(node)
            if last is not None and term < last:
                problems.append(f"t={time} ms: node {node}'s term went down from {last} "
                                f"to {term}")
            self._term_of[node] = term
            if role == "leader":
                other = self._leader_of.setdefault(term, node)
                if other != node:
                    problems.append(f"t={time} ms: term {term} has two leaders, "
                                    f"node {other} and node {node}")
        elif e[5]:  # a vote granted
            time, _, node, candidate, term, _ = e
            other = self._vote_of.setdefault((node, term), candidate)
            if other != candidate:
                problems.append(f"t={time} ms: node {node} voted twice in term {term}, "
                                f"for node {other} and for node {candidate}")


def election_safety_violations(trace: Trace) -> list[str]:
    """Every violation found in ``trace``, as readable sentences (empty if safe)."""
    return SafetyMonitor(trace).update()


def check_election_safety(trace: Trace) -> None:
    """Raise ``SafetyViolation`` listing every violation in ``trace``."""
    problems = election_safety_violations(trace)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise SafetyViolation(f"election safety violated {len(problems)} time(s):\n  {shown}{more}")
