"""Argument checks shared by the harness, the configs, the plots and the experiments.

Each returns the checked value or raises ``ValueError`` naming the argument, the bad value and
what is allowed."""

from __future__ import annotations

import math
from typing import Any, Optional

__all__ = ["check_int", "check_seed", "check_bool", "check_number", "check_range",
           "check_duration"]


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def check_int(name: str, value: Any, lo: int, hi: Optional[int] = None) -> int:
    """An int (not a bool) in ``lo..hi`` (or ``>= lo`` when ``hi`` is None)."""
    if (isinstance(value, bool) or not isinstance(value, int) or value < lo
            or (hi is not None and value > hi)):
        allowed = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ValueError(f"{name} must be an int {allowed}, got {value!r}")
    return value


def check_seed(value: Any, name: str = "seed") -> int:
    """Any int (not a bool): the master seed of a run."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_number(name: str, value: Any, lo: float = -math.inf, hi: float = math.inf, *,
                 open_lo: bool = False, unit: str = "ms") -> float:
    """A finite number (not a bool) with ``lo <= value <= hi`` (``lo < value`` if ``open_lo``)."""
    if (not _is_number(value) or not math.isfinite(value) or value < lo
            or (open_lo and value == lo) or value > hi):
        bounds = []
        if lo > -math.inf:
            bounds.append(f"{'>' if open_lo else '>='} {lo:g}")
        if hi < math.inf:
            bounds.append(f"<= {hi:g}")
        what = f"a finite number of {unit}" if unit else "a finite number"
        raise ValueError(f"{name} must be {what}{' ' + ' and '.join(bounds) if bounds else ''}, "
                         f"got {value!r}")
    return value


def check_range(name: str, value: Any, minimum: float = 0.0,
                positive: bool = False) -> tuple[float, float]:
    """A ``(lo, hi)`` pair of finite milliseconds with ``minimum <= lo <= hi``
    (``0 < lo`` if ``positive``)."""
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (lo, hi) pair of milliseconds, got {value!r}") from None
    for x in (lo, hi):
        if not _is_number(x) or not math.isfinite(x):
            raise ValueError(f"{name} must hold finite numbers of ms, got {value!r}")
    if lo < minimum or (positive and lo <= 0):
        bound = "> 0" if positive and minimum <= 0 else f">= {minimum:g}"
        raise ValueError(f"{name} lower bound must be {bound} ms, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} must have lo <= hi, got {value!r}")
    return lo, hi


def check_duration(value: Any, what: str = "duration") -> float:
    """A span of virtual time: a finite, non-negative number of ms."""
    return check_number(what, value, 0)
