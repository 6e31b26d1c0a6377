"""``raftlab notebooks DIR``: the course notebooks with their outputs cleared, for students.

The notebooks in the repository's ``notebooks/`` are stored executed, with every output, because
the test suite checks that each run reproduces them. A student who is asked to predict what a
cell will show should not see the answer below it, so this writes copies without outputs::

    from raftlab.student_notebooks import write_student_notebooks
    write_student_notebooks("course")   # -> [Path("course/01_first_election.ipynb"), ...]

Each copy has the same cells with the same sources, ids and metadata; only what running them
produces is gone: every code cell's outputs and execution count, each cell's
``metadata.execution`` timings and the saved state of widgets. ``README.md`` (the guide to the
notebooks) is copied as it is.

The notebooks ship inside the package (``raftlab/notebooks``, package data in the wheel; in
the repository a link to ``notebooks/``, so there is one copy of each), so the command works
for an installed raftlab as well as in a checkout.
"""

from __future__ import annotations

import copy
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, Optional, Union

__all__ = ["write_student_notebooks", "cleared", "notebooks_source", "NotebooksExist",
           "NoNotebooks"]

#: The guide to the notebooks, copied beside them when the source has it.
GUIDE = "README.md"


class NotebooksExist(FileExistsError):
    """``write_student_notebooks`` would overwrite files (and ``force`` was not given)."""


class NoNotebooks(FileNotFoundError):
    """There are no notebooks to copy where they should be."""


def notebooks_source() -> Path:
    """The folder of the notebooks shipped with raftlab; ``NoNotebooks`` (saying where it
    looked) if this copy of raftlab has none."""
    folder = Path(str(resources.files("raftlab").joinpath("notebooks")))
    if not folder.is_dir() or not any(folder.glob("*.ipynb")):
        raise NoNotebooks(
            f"this raftlab has no notebooks: {str(folder)!r} holds no .ipynb files (in a "
            f"checkout it is a link to the repository's notebooks/ folder; an installed "
            f"raftlab carries them as package data)")
    return folder


def cleared(notebook: dict) -> dict:
    """A copy of ``notebook`` (nbformat 4 JSON data) without what running it produced: code
    cells' outputs and execution counts, cells' ``metadata.execution`` and the notebook's
    saved widget state. Everything else, cell sources included, is unchanged."""
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("not a notebook: expected nbformat 4 JSON data with a list of cells")
    out = copy.deepcopy(notebook)
    out.get("metadata", {}).pop("widgets", None)
    for cell in out["cells"]:
        cell.get("metadata", {}).pop("execution", None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return out


def write_student_notebooks(folder: Union[str, os.PathLike], force: bool = False,
                            source: Optional[Union[str, os.PathLike]] = None) -> list[Path]:
    """Write every notebook of ``source`` (default: ``notebooks_source()``), cleared, and its
    ``README.md`` into ``folder`` (made if missing); return the paths written, in order.
    Refuses (``NotebooksExist``, naming the files, writing nothing) to overwrite a file unless
    ``force``."""
    src = notebooks_source() if source is None else Path(source)
    if not src.is_dir():
        raise NoNotebooks(f"notebook folder {str(src)!r} does not exist")
    names = sorted(p.name for p in src.glob("*.ipynb"))
    if not names:
        raise NoNotebooks(f"{str(src)!r} holds no .ipynb files")
    if (src / GUIDE).is_file():
        names.append(GUIDE)
    if isinstance(folder, str) and not folder.strip():
        raise ValueError(f"the folder to write into is empty ({folder!r}); name one, e.g. "
                         f"'course'")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{str(folder)!r} exists and is not a folder")
    if folder.resolve() == src.resolve():
        raise ValueError(f"{str(folder)!r} is where the notebooks come from; choose another "
                         f"folder for the students' copies")
    paths = [folder / name for name in names]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        shown = ", ".join(repr(str(p)) for p in existing[:3])
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise NotebooksExist(f"{shown}{more} already exist{'s' if len(existing) == 1 else ''}; "
                             f"keep them, choose another folder, or pass --force to overwrite")
    contents: dict[str, str] = {}
    for name in names:
        text = (src / name).read_text(encoding="utf-8")
        if name.endswith(".ipynb"):
            try:
                notebook: Any = json.loads(text)
                text = json.dumps(cleared(notebook), indent=1, ensure_ascii=False) + "\n"
            except ValueError as exc:
                raise ValueError(f"{str(src / name)!r} is not a notebook: {exc}") from None
        contents[name] = text
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        path.write_text(contents[path.name], encoding="utf-8")
    return paths
