"""Election safety, checked over a trace (and nothing else).

* at most one leader per term;
* a node's term never decreases, across crashes and restarts (so hard state was persisted);
* a node never grants its vote to two different candidates in one term, across restarts.
"""

from __future__ import annotations

from .errors import SafetyViolation
from .trace import Trace

__all__ = ["election_safety_violations", "check_election_safety"]


def election_safety_violations(trace: Trace) -> list[str]:
    """Every violation found in ``trace``, as readable sentences (empty if safe)."""
    problems: list[str] = []
    leader_of: dict[int, int] = {}
    term_of: dict[int, int] = {}
    vote_of: dict[tuple[int, int], int] = {}
    for raw in trace.raw:
        kind = raw[1]
        if kind == "state":
            time, _, node, term, role = raw
            last = term_of.get(node)
            if last is not None and term < last:
                problems.append(f"t={time} ms: node {node}'s term went down from {last} to {term}")
            term_of[node] = term
            if role == "leader":
                other = leader_of.setdefault(term, node)
                if other != node:
                    problems.append(f"t={time} ms: term {term} has two leaders, "
                                    f"node {other} and node {node}")
        elif kind == "vote" and raw[5]:
            time, _, node, candidate, term, _granted = raw
            other = vote_of.setdefault((node, term), candidate)
            if other != candidate:
                problems.append(f"t={time} ms: node {node} voted twice in term {term}, "
                                f"for node {other} and for node {candidate}")
    return problems


def check_election_safety(trace: Trace) -> None:
    """Raise ``SafetyViolation`` listing every violation in ``trace``."""
    problems = election_safety_violations(trace)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise SafetyViolation(f"election safety violated {len(problems)} time(s):\n  {shown}{more}")
