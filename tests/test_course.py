"""The course: the coverage table of notebooks/README.md and the shape of every chapter.

* Every rule of the Raft paper's Figure 2 (24 rows) links to a section of a chapter notebook
  (JupyterLab's heading anchor: the heading's text with spaces replaced by '-'), and that
  section holds a code cell: the experiment that shows the rule.
* Every chapter (``notebooks/NN_*.ipynb``) asks for a prediction before a code cell (a
  markdown line starting ``**Predict.**``), ends with ``## Check yourself`` (three or more
  questions, each answer in a collapsed ``<details>``) and ``## What you saw`` (a table
  ``| What you saw | Rule | Paper |``), and answers each exercise of its ``## Try it``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
RULES = 24

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)#\s]+\.ipynb)#([^)\s]+)\)")


# ------------------------------------------------------------------------- reading notebooks
def heading_anchor(markdown: str) -> str:
    """JupyterLab's id for a heading (``createHeaderId``): its rendered text, spaces -> '-'.
    Inline markup is dropped as rendering drops it: links keep their text, code its content."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = text.replace("`", "")
    text = re.sub(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
    return text.replace(" ", "-")


def blocks(path: Path) -> list[tuple[str, str]]:
    """The notebook as a flat list of (kind, text): ("heading", anchor), ("md", a markdown
    cell's text up to its next heading), ("code", source). Headings inside code fences are
    text, not headings."""
    out: list[tuple[str, str]] = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            out.append(("code", source))
            continue
        if cell["cell_type"] != "markdown":
            continue
        fenced, chunk = False, []
        for line in source.split("\n"):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            match = None if fenced else _HEADING.match(line)
            if match:
                if chunk:
                    out.append(("md", "\n".join(chunk)))
                    chunk = []
                out.append(("heading", heading_anchor(match.group(2))))
            else:
                chunk.append(line)
        if chunk:
            out.append(("md", "\n".join(chunk)))
    return out


def sections(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Anchor -> the blocks after that heading, up to the next heading of any level."""
    found: dict[str, list[tuple[str, str]]] = {}
    current = None
    for kind, text in blocks(path):
        if kind == "heading":
            current = found.setdefault(text, [])
        elif current is not None:
            current.append((kind, text))
    return found


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


# ------------------------------------------------------------------------- the coverage table
def coverage_rows() -> dict[int, tuple[str, str, str]]:
    """Rule number -> (rule, chapter-and-section cell, what-you-see cell), from every table of
    notebooks/README.md whose first column is a number."""
    rows = {}
    for line in (NOTEBOOKS / "README.md").read_text(encoding="utf-8").splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split(" | ")]
        if line.startswith("|") and len(parts) == 4 and parts[0].isdigit():
            number = int(parts[0])
            assert number not in rows, f"rule {number} is listed twice"
            rows[number] = (parts[1], parts[2], parts[3])
    return rows


def test_the_table_lists_the_24_rules_of_figure_2() -> None:
    assert sorted(coverage_rows()) == list(range(1, RULES + 1))


def test_no_rule_is_left_todo() -> None:
    todo = [n for n, (_, where, see) in coverage_rows().items() if "TODO" in where + see]
    assert not todo, f"rules still marked TODO in notebooks/README.md: {todo}"


@pytest.mark.parametrize("number", range(1, RULES + 1))
def test_each_linked_section_exists_and_runs_an_experiment(number: int) -> None:
    rule, where, see = coverage_rows()[number]
    if "TODO" in where:
        pytest.fail(f"rule {number} ({rule}) has no chapter yet")
    links = _LINK.findall(where) + _LINK.findall(see)
    assert links, f"rule {number}: no link to a notebook section in {where!r}"
    assert see, f"rule {number}: 'what you see' is empty"
    for label, target, anchor in links:
        path = NOTEBOOKS / target
        assert path in CHAPTERS, f"rule {number}: {target} is not a chapter notebook"
        found = sections(path)
        anchor = unquote(anchor)
        assert anchor in found, (f"rule {number}: {target} has no heading with the anchor "
                                 f"#{anchor}; its anchors: {sorted(found)}")
        assert any(kind == "code" for kind, _ in found[anchor]), \
            f"rule {number}: section #{anchor} of {target} has no code cell"
        assert label.startswith(target[:2]), f"rule {number}: label {label!r} for {target}"


# ------------------------------------------------------------------------- each chapter
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_a_prediction_comes_before_a_code_cell(path: Path) -> None:
    all_cells = cells(path)
    asked = [k for k, c in enumerate(all_cells) if c["cell_type"] == "markdown"
             and any(line.startswith("**Predict.**") for line in "".join(c["source"]).split("\n"))]
    assert asked, f"{path.name}: no markdown line starts with **Predict.**"
    for k in asked:
        assert k + 1 < len(all_cells) and all_cells[k + 1]["cell_type"] == "code", \
            f"{path.name}: the prediction in cell {k} is not followed by a code cell"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_chapter_ends_with_check_yourself_and_what_you_saw(path: Path) -> None:
    headings = [text for kind, text in blocks(path) if kind == "heading"]
    assert headings[-2:] == ["Check-yourself", "What-you-saw"], \
        f"{path.name}: the last two headings are {headings[-2:]}"
    found = sections(path)
    questions = "\n".join(text for kind, text in found["Check-yourself"] if kind == "md")
    assert len(re.findall(r"^\d+\. ", questions, re.M)) >= 3, f"{path.name}: < 3 questions"
    assert questions.count("<details>") >= 3 and questions.count("</details>") >= 3, \
        f"{path.name}: fewer than three collapsed answers"
    table = [line.strip() for kind, text in found["What-you-saw"] if kind == "md"
             for line in text.split("\n") if line.strip().startswith("|")]
    assert table and re.fullmatch(r"\|\s*What you saw\s*\|\s*Rule\s*\|\s*Paper\s*\|", table[0]), \
        f"{path.name}: the closing table's header is {table[:1]}"
    assert len(table) >= 3 and all(line.count("|") == 4 for line in table), \
        f"{path.name}: the closing table needs a separator and at least one row of 3 columns"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_has_an_answer(path: Path) -> None:
    found = sections(path)
    for anchor in ("Try-it", "Your-turn"):
        if anchor not in found:
            continue
        text = "\n".join(t for kind, t in found[anchor] if kind == "md")
        exercises = len(re.findall(r"^[*-] ", text, re.M))
        answers = text.count("<details>")
        assert exercises and answers >= exercises, \
            f"{path.name} §{anchor}: {exercises} exercises, {answers} answers"


# ------------------------------------------------------------------------- the readers
def test_heading_anchor_follows_jupyterlab() -> None:
    assert heading_anchor("3. The old leader rejoins") == "3.-The-old-leader-rejoins"
    assert heading_anchor("1. Set up: `raftlab lab init`") == "1.-Set-up:-raftlab-lab-init"
    assert heading_anchor("The leader's **heartbeats**") == "The-leader's-heartbeats"
    assert heading_anchor("See [chapter 9](09_disruptions.ipynb)") == "See-chapter-9"


def test_sections_end_at_the_next_heading_even_inside_a_cell(tmp_path: Path) -> None:
    nb = {"cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["## A\n", "text\n", "## B\n", "more"]},
        {"cell_type": "code", "metadata": {}, "source": ["x = 1"], "outputs": []},
        {"cell_type": "markdown", "metadata": {}, "source": ["```\n", "# not a heading\n", "```"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    found = sections(path)
    assert list(found) == ["A", "B"]
    assert [kind for kind, _ in found["A"]] == ["md"]
    assert [kind for kind, _ in found["B"]] == ["md", "code", "md"]
