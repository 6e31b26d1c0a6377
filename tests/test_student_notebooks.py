"""The students' copy of the notebooks: same cells, no outputs (``raftlab notebooks DIR``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from raftlab.cli import main
from raftlab.student_notebooks import (NoNotebooks, NotebooksExist, cleared, notebooks_source,
                                       write_student_notebooks)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
ORIGINALS = sorted(NOTEBOOKS.glob("*.ipynb"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_package_finds_the_repository_notebooks() -> None:
    # in a checkout, raftlab/notebooks is a link to notebooks/: one copy of each notebook
    assert notebooks_source().resolve() == NOTEBOOKS.resolve()
    assert len(ORIGINALS) >= 9


def test_copies_have_every_cell_with_its_source_and_no_output(tmp_path, capsys) -> None:
    assert main(["notebooks", str(tmp_path / "course")]) == 0
    out = capsys.readouterr().out
    written = sorted((tmp_path / "course").iterdir())
    assert [p.name for p in written] == sorted([p.name for p in ORIGINALS] + ["README.md"])
    assert out.count("wrote ") == len(written)
    assert (tmp_path / "course" / "README.md").read_bytes() == (NOTEBOOKS / "README.md").read_bytes()
    executed = 0
    for original in ORIGINALS:
        nb, copy = load(original), load(tmp_path / "course" / original.name)
        assert [(c["cell_type"], c["id"], c["source"]) for c in copy["cells"]] == [
            (c["cell_type"], c["id"], c["source"]) for c in nb["cells"]]
        for cell in copy["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None
            assert "execution" not in cell.get("metadata", {})
        assert "widgets" not in copy["metadata"]
        assert copy["metadata"]["kernelspec"] == nb["metadata"]["kernelspec"]
        assert (copy["nbformat"], copy["nbformat_minor"]) == (nb["nbformat"], nb["nbformat_minor"])
        executed += sum(1 for c in nb["cells"] if c.get("outputs"))
        # stored like the repository's notebooks: one-space indent, UTF-8, a final newline
        text = (tmp_path / "course" / original.name).read_text(encoding="utf-8")
        assert text == json.dumps(copy, indent=1, ensure_ascii=False) + "\n"
    assert executed > 50   # the originals do have outputs: the copies really lost them


def test_cleared_leaves_the_original_alone_and_rejects_what_is_no_notebook() -> None:
    nb = load(NOTEBOOKS / "05_interactive_lab.ipynb")
    before = json.dumps(nb)
    assert "widgets" in nb["metadata"] and "widgets" not in cleared(nb)["metadata"]
    assert json.dumps(nb) == before
    with pytest.raises(ValueError, match="not a notebook"):
        cleared({"cells": "none"})


def test_existing_copies_are_kept_unless_forced(tmp_path, capsys) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "01_first_election.ipynb").write_text("my answers")
    assert main(["notebooks", str(course)]) == 2
    err = capsys.readouterr().err
    assert "01_first_election.ipynb' already exists" in err and "--force" in err
    assert [p.name for p in course.iterdir()] == ["01_first_election.ipynb"]   # nothing written
    assert (course / "01_first_election.ipynb").read_text() == "my answers"
    with pytest.raises(NotebooksExist):
        write_student_notebooks(course)
    assert main(["notebooks", str(course), "--force"]) == 0
    assert load(course / "01_first_election.ipynb")["cells"][0]["source"] == load(
        ORIGINALS[0])["cells"][0]["source"]


def test_bad_folders_are_usage_errors_that_name_them(tmp_path, capsys) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    for argv, message in [
        (["notebooks", str(a_file)], "notes.txt' exists and is not a folder"),
        (["notebooks", ""], "the folder to write into is empty"),
        (["notebooks", str(NOTEBOOKS)], "is where the notebooks come from"),
        (["notebooks", str(a_file / "inside")], "cannot write into"),
    ]:
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv
    with pytest.raises(SystemExit) as exc:
        main(["notebooks"])
    assert exc.value.code == 2 and "DIR" in capsys.readouterr().err
    with pytest.raises(NoNotebooks, match="holds no .ipynb"):
        write_student_notebooks(tmp_path / "out", source=tmp_path)
    assert not (tmp_path / "out").exists()


def test_make_student_notebooks(tmp_path) -> None:
    if shutil.which("make") is None:
        pytest.fail("GNU make is needed (the README's commands use it)")
    # a stand-in venv whose install stamps are up to date: make runs only the copy
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    for stamp in (".installed-lab", ".installed-test"):
        (venv / stamp).touch()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run(["make", "-s", "-C", str(ROOT), "student-notebooks", f"VENV={venv}"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 2 and "make student-notebooks DIR=" in run.stderr
    course = tmp_path / "course"
    make = ["make", "-s", "-C", str(ROOT), "student-notebooks", f"VENV={venv}", f"DIR={course}"]
    run = subprocess.run(make, capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in course.glob("*.ipynb")) == [p.name for p in ORIGINALS]
    run = subprocess.run(make, capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode != 0 and "--force" in run.stderr
    run = subprocess.run(make + ["FORCE=1"], capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr
