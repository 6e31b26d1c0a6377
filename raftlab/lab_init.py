"""``raftlab lab init DIR``: write the student's side of the lab into a folder.

Two files, both made from templates shipped in ``raftlab/templates``: ``raft.py``, a
skeleton ``class Raft`` with Figure 2's state and all the plumbing and a "Your code here" where
the assignment asks for work, and ``lab.ipynb``, the assignment in steps (``raftlab.assignment``),
each with its Figure 2 rule, a cell that checks just that step and a timeline of the student's
own cluster, ending with the full grade::

    from raftlab.lab_init import init_lab
    init_lab("mylab", part="3A")       # -> [Path("mylab/raft.py"), Path("mylab/lab.ipynb")]

The templates hold both parts; lines between ``#[3A]`` (or ``#[all]``) and ``#[end]`` belong
to that part only.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, Union

from .assignment import PARTS, steps

__all__ = ["init_lab", "render", "skeleton", "notebook", "LabExists", "FILES", "PARTS"]

#: The files ``init_lab`` writes, in order.
FILES = ("raft.py", "lab.ipynb")

_TITLES = {"3A": "leader election (6.5840 Lab 3A)",
           "all": "election, log and persistence (6.5840 Labs 3A-3C)"}
_GRADE_PART = {"3A": "3A", "all": "all"}


class LabExists(FileExistsError):
    """``init_lab`` would overwrite files (and ``force`` was not given)."""


def _check_part(part: Any) -> str:
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; parts are {', '.join(PARTS)}")
    return part


def _template(name: str) -> str:
    return resources.files("raftlab").joinpath("templates", name).read_text(encoding="utf-8")


def render(text: str, part: str) -> str:
    """Keep the lines of ``part`` and those of every part; drop the others and the markers."""
    _check_part(part)
    out, keep, inside = [], True, None
    for lineno, line in enumerate(text.splitlines(keepends=True), 1):
        marker = line.strip()
        if marker.startswith("#[") and marker.endswith("]"):
            name = marker[2:-1]
            if name == "end":
                if inside is None:
                    raise ValueError(f"template line {lineno}: #[end] without a part marker")
                inside, keep = None, True
            elif name in PARTS:
                if inside is not None:
                    raise ValueError(f"template line {lineno}: #[{name}] inside #[{inside}]")
                inside, keep = name, name == part
            else:
                raise ValueError(f"template line {lineno}: unknown marker {marker}")
            continue
        if keep:
            out.append(line)
    if inside is not None:
        raise ValueError(f"template: #[{inside}] is never closed by #[end]")
    return "".join(out)


def skeleton(part: str = "3A") -> str:
    """The text of ``raft.py`` for ``part``."""
    return render(_template("raft.py.tmpl"), part)


# ---------------------------------------------------------------------- the notebook
def _cells(text: str) -> list[tuple[str, str]]:
    """``%% md`` / ``%% code`` / ``%% steps`` sections of the notebook template, in order."""
    cells: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("%% "):
            kind = line[3:].strip()
            if kind not in ("md", "code", "steps"):
                raise ValueError(f"notebook template: unknown cell kind {kind!r}")
            cells.append((kind, []))
        elif cells:
            cells[-1][1].append(line)
        elif line.strip():
            raise ValueError("notebook template: text before the first '%% ' line")
    return [(kind, "\n".join(lines).strip("\n")) for kind, lines in cells]


def _cell(kind: str, source: str, cell_id: str) -> dict:
    lines = source.splitlines(keepends=True)
    if kind == "md":
        return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": lines}
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {},
            "outputs": [], "source": lines}


def _step_cells(part: str) -> list[tuple[str, str, str]]:
    out = []
    for step in steps(part):
        text = (f"## Step {step.number}: {step.title} ({step.part})\n\n"
                f"**Implement.** {step.implement}\n\n"
                f"**The rule.** {step.rule}\n\n"
                f"**The check.** {step.checks}")
        out.append(("md", text, f"step-{step.number}"))
        out.append(("code", f"importlib.reload(raft); Raft = raft.Raft   # your latest raft.py\n"
                            f'check(Raft, "{step.id}")', f"step-{step.number}-check"))
        out.append(("md", "Your cluster, as it runs now:", f"step-{step.number}-see"))
        out.append(("code", step.demo, f"step-{step.number}-timeline"))
    return out


def notebook(part: str = "3A") -> dict:
    """The lab notebook for ``part``, as nbformat 4 JSON data."""
    text = render(_template("lab.ipynb.tmpl"), part)
    text = text.replace("{title}", _TITLES[part]).replace("{part}", _GRADE_PART[part])
    cells = []
    for k, (kind, source) in enumerate(_cells(text)):
        if kind == "steps":
            cells += [_cell(kd, src, cid) for kd, src, cid in _step_cells(part)]
        else:
            cells.append(_cell(kind, source, f"cell-{k}"))
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def init_lab(folder: Union[str, os.PathLike], part: str = "3A",
             force: bool = False) -> list[Path]:
    """Write ``raft.py`` and ``lab.ipynb`` for ``part`` into ``folder`` (made if missing).
    Refuses (``LabExists``, naming the files) to overwrite a file unless ``force``."""
    _check_part(part)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{str(folder)!r} exists and is not a folder")
    paths = [folder / name for name in FILES]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        raise LabExists(f"{', '.join(repr(str(p)) for p in existing)} already "
                        f"exist{'s' if len(existing) == 1 else ''}; keep your work, choose "
                        f"another folder, or pass --force to overwrite")
    contents = {"raft.py": skeleton(part),
                "lab.ipynb": json.dumps(notebook(part), indent=1, ensure_ascii=False) + "\n"}
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        path.write_text(contents[path.name], encoding="utf-8")
    return paths
