"""Argument checks shared by the harness, the node's config, the experiments and the CLI.

Every check raises ``ValueError`` naming the argument, the bad value and what is allowed. A
value of the wrong type (a string, ``None``, a bool where a number is due) raises
``BadArgumentType``, which is a ``ValueError`` and also a ``TypeError``."""

from __future__ import annotations

import math
from typing import Any, Optional

__all__ = ["BadArgumentType", "check_seed", "check_int", "check_number", "check_range",
           "check_duration", "check_bool"]


class BadArgumentType(ValueError, TypeError):
    """An argument of the wrong type: a ``ValueError`` like every bad argument, and a
    ``TypeError`` for callers that catch that."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def check_seed(value: Any, name: str = "seed") -> int:
    """A seed: any int (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadArgumentType(f"{name} must be an int, got {value!r}")
    return value


def check_int(name: str, value: Any, lo: int, hi: Optional[int] = None) -> int:
    """An int (not a bool) in ``lo..hi`` (or ``>= lo`` when ``hi`` is None)."""
    allowed = f">= {lo}" if hi is None else f"in {lo}..{hi}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadArgumentType(f"{name} must be an int {allowed}, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        raise ValueError(f"{name} must be an int {allowed}, got {value!r}")
    return value


def check_number(name: str, value: Any, lo: float = -math.inf, hi: float = math.inf, *,
                 open_lo: bool = False, open_hi: bool = False, unit: str = "",
                 finite: bool = True) -> float:
    """A real number (not a bool, never NaN) between ``lo`` and ``hi``, as a float.

    ``open_lo`` / ``open_hi`` exclude the bound itself; ``finite=False`` also lets ``±inf``
    through (when the bounds allow it); ``unit`` ("ms") goes into the message."""
    bounds = []
    if lo > -math.inf:
        bounds.append(f"{'>' if open_lo else '>='} {_fmt(lo)}")
    if hi < math.inf:
        bounds.append(f"{'<' if open_hi else '<='} {_fmt(hi)}")
    allowed = ("finite " if finite else "") + "number" + (f" of {unit}" if unit else "")
    if bounds:
        allowed += " " + " and ".join(bounds)
    if not _is_number(value):
        raise BadArgumentType(f"{name} must be a {allowed}, got {value!r}")
    if (math.isnan(value) or (finite and math.isinf(value))
            or value < lo or (open_lo and value == lo)
            or value > hi or (open_hi and value == hi)):
        raise ValueError(f"{name} must be a {allowed}, got {value!r}")
    return float(value)


def check_range(name: str, value: Any, minimum: float = 0.0, *, open_minimum: bool = False,
                distinct: bool = False) -> tuple[float, float]:
    """A ``(lo, hi)`` pair of finite milliseconds with ``minimum <= lo <= hi``.

    ``open_minimum``: ``lo`` must be above ``minimum``; ``distinct``: ``lo < hi`` (a range
    to draw from)."""
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise BadArgumentType(f"{name} must be a (lo, hi) pair of milliseconds, "
                              f"got {value!r}") from None
    for x in (lo, hi):
        if not _is_number(x):
            raise BadArgumentType(f"{name} must hold finite numbers of ms, got {value!r}")
        if not math.isfinite(x):
            raise ValueError(f"{name} must hold finite numbers of ms, got {value!r}")
    if lo < minimum or (open_minimum and lo == minimum):
        raise ValueError(f"{name} lower bound must be {'>' if open_minimum else '>='} "
                         f"{_fmt(minimum)} ms, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} must have lo <= hi, got {value!r}")
    if distinct and lo == hi:
        raise ValueError(f"{name} must have lo < hi (a range to draw from), got {value!r}")
    return lo, hi


def check_duration(value: Any, what: str = "duration") -> float:
    """A span of virtual time: a finite number of milliseconds >= 0."""
    return check_number(what, value, 0, unit="ms")


def check_bool(name: str, value: Any) -> bool:
    """``True`` or ``False`` (not a truthy string or number, which would pass unnoticed)."""
    if not isinstance(value, bool):
        raise BadArgumentType(f"{name} must be True or False, got {value!r}")
    return value
