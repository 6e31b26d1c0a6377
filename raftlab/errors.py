"""Exceptions raised by raftlab."""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["CheckFailed", "NodeDown", "SafetyViolation", "add_note"]


class CheckFailed(AssertionError):
    """A harness check failed (config.go's ``t.Fatalf``): ``str(exc)`` is config.go's text,
    ``exc.cluster`` the ``Cluster`` it ran on; a note says how to rebuild the run."""

    def __init__(self, message: str, cluster: Optional[Any] = None) -> None:
        super().__init__(message)
        self.cluster = cluster


class NodeDown(ValueError):
    """The node is crashed: it has no running instance to ask."""


class SafetyViolation(AssertionError):
    """A trace breaks one of Raft's election-safety properties."""


def add_note(exc: BaseException, note: str) -> None:
    """``exc.add_note(note)`` (Python 3.11+); on 3.10 the note is kept in ``__notes__`` too,
    where 3.11's tracebacks would show it."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    else:  # Python 3.10
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]  # type: ignore[attr-defined]
