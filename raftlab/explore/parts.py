"""Exploration for grading and the bug clinic: the settings of each lab part, and the search
over each safety mistake of ``raftlab.bugs``."""

from __future__ import annotations

from typing import Any, Optional

from .results import ExploreResult
from .search import explore

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
        from ..bugs import BUGS
        bugs = BUGS
    return {name: explore_part(cls, cls.part, max_depth=max_depth, max_states=max_states)
            for name, cls in bugs.items() if getattr(cls, "rule", None) in CHECKED_RULES}
