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
            for event in self.trace.of("state", "vote", start=self._seen):
                self._check(event)
            self._seen = end
        return self.violations

    def _check(self, e: Any) -> None:
        problems = self.violations
        if e.kind == "state":
            last = self._term_of.get(e.node)
            if last is not None and e.term < last:
                problems.append(f"t={e.time} ms: node {e.node}'s term went down from {last} "
                                f"to {e.term}")
            self._term_of[e.node] = e.term
            if e.role == "leader":
                other = self._leader_of.setdefault(e.term, e.node)
                if other != e.node:
                    problems.append(f"t={e.time} ms: term {e.term} has two leaders, "
                                    f"node {other} and node {e.node}")
        elif e.granted:
            other = self._vote_of.setdefault((e.node, e.term), e.candidate)
            if other != e.candidate:
                problems.append(f"t={e.time} ms: node {e.node} voted twice in term {e.term}, "
                                f"for node {other} and for node {e.candidate}")


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
