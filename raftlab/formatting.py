"""Numbers written for people and for code: virtual times in text, settings in scripts."""

from __future__ import annotations

from typing import Any

__all__ = ["format_ms", "plain_number"]


def format_ms(t: float) -> str:
    """A virtual time for people: ``1025.483`` stays as is, ``1000.0`` reads ``1000``
    (times are whole microseconds, so three decimals are exact)."""
    text = f"{t:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def plain_number(value: Any) -> Any:
    """``300.0`` -> ``300`` and lists -> tuples, so code reads as a person would write it
    (the same value: ``plain_number(x) == x`` for numbers)."""
    if isinstance(value, (list, tuple)):
        return tuple(plain_number(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
