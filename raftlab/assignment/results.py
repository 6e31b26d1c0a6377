"""What a check returns: ``StepResult`` (one step's verdict), ``StepReport`` (``check_all``'s),
and ``_Fail``, which a check raises to report a broken rule."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Optional

from ..cluster import Cluster


@dataclass
class StepResult:
    """The verdict of one step's check: ``passed``, a ``message`` saying what was seen, a
    ``hint`` when it failed, and ``cluster``: the run the verdict is about (draw it with
    ``raftlab.plots.timeline(result.cluster)``; None when no cluster was built)."""

    step: str
    number: int
    title: str
    passed: bool
    message: str
    hint: str = ""
    cluster: Optional[Cluster] = field(default=None, repr=False, compare=False)

    @property
    def rebuild(self) -> Optional[str]:
        """The constructor call that rebuilds ``cluster`` (the same calls replay it exactly)."""
        return None if self.cluster is None else self.cluster.rebuild_call()

    def __bool__(self) -> bool:
        return self.passed

    def _lines(self) -> list[str]:
        lines = [f"step {self.number}, {self.title}: {'PASSED' if self.passed else 'FAILED'}",
                 *_indent(self.message)]
        if self.hint and not self.passed:
            lines += _indent(f"hint: {self.hint}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour, verdict = ("#009E73", "passed") if self.passed else ("#D55E00", "failed")
        hint = ("" if self.passed or not self.hint else
                f"<p style='margin:4px 0'><b>Hint.</b> {html.escape(self.hint)}</p>")
        return (f"<div style='border-left:6px solid {colour};padding:4px 10px;margin:4px 0'>"
                f"<p style='margin:4px 0'><b>Step {self.number}, {html.escape(self.title)}:"
                f" <span style='color:{colour}'>{verdict}</span></b></p>"
                f"<p style='margin:4px 0;white-space:pre-wrap'>{html.escape(self.message)}</p>"
                f"{hint}</div>")


class StepReport(list):
    """The results of ``check_all``, in step order; ``passed`` if every step passed."""

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self)

    def __str__(self) -> str:
        done = sum(r.passed for r in self)
        return "\n".join([f"{done} of {len(self)} steps passed"] + [str(r) for r in self])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        done = sum(r.passed for r in self)
        return (f"<p><b>{done} of {len(self)} steps passed</b></p>"
                + "".join(r._repr_html_() for r in self))


def _indent(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines()]


class _Fail(Exception):
    """A check found the rule broken: ``message`` (what was seen) and ``hint``."""

    def __init__(self, message: str, hint: str = "", cluster: Optional[Cluster] = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.cluster = cluster


def _fail(message: str, hint: str = "", cluster: Optional[Cluster] = None) -> _Fail:
    return _Fail(message, hint, cluster)
