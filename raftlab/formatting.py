"""Text for people: virtual times, numbers in generated code, and plain-text tables.

Small pure functions with no imports from the rest of raftlab, shared by the tables
(``raftlab.analysis``), the plots, the panel and its replay scripts, so that one time reads the
same everywhere.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["format_ms", "plain_number", "cell_text", "text_table"]


def format_ms(t: float) -> str:
    """A virtual time for people: ``1025.483`` stays as is, ``1000.0`` reads ``1000``
    (times are whole microseconds, so three decimals are exact)."""
    text = f"{t:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def plain_number(value: Any) -> Any:
    """``300.0`` -> ``300`` and lists -> tuples, so generated code reads as a person would
    write it (the same value: ``plain_number(x) == x`` for numbers)."""
    if isinstance(value, (list, tuple)):
        return tuple(plain_number(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def cell_text(value: Any) -> str:
    """One table cell: a float with one decimal, a tuple as ``1,2,3`` (``-`` if empty),
    ``None`` as ``-``, anything else as ``str``."""
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) or "-"
    if value is None:
        return "-"
    return str(value)


def text_table(names: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A header line and one line per row, every column right-aligned to its widest text,
    columns two spaces apart."""
    widths = [max([len(c)] + [len(row[k]) for row in rows]) for k, c in enumerate(names)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(names, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)
