"""Argument checks shared by the harness, the node's config and the experiments.

Each raises ``ValueError`` naming the argument, the bad value and what is allowed."""

from __future__ import annotations

import math
from typing import Any, Optional

__all__ = ["check_int", "check_range", "check_duration"]


def check_int(name: str, value: Any, lo: int, hi: Optional[int] = None) -> int:
    """An int (not a bool) in ``lo..hi`` (or ``>= lo`` when ``hi`` is None)."""
    if (isinstance(value, bool) or not isinstance(value, int) or value < lo
            or (hi is not None and value > hi)):
        allowed = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ValueError(f"{name} must be an int {allowed}, got {value!r}")
    return value


def check_range(name: str, value: Any, minimum: float = 0.0) -> tuple[float, float]:
    """A ``(lo, hi)`` pair of finite milliseconds with ``minimum <= lo <= hi``."""
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (lo, hi) pair of milliseconds, got {value!r}") from None
    for x in (lo, hi):
        if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
            raise ValueError(f"{name} must hold finite numbers of ms, got {value!r}")
    if lo < minimum:
        raise ValueError(f"{name} lower bound must be >= {minimum} ms, got {value!r}")
    if lo > hi:
        raise ValueError(f"{name} must have lo <= hi, got {value!r}")
    return lo, hi


def check_duration(value: Any, what: str = "duration") -> float:
    """A span of virtual time: a finite, non-negative number of ms."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number of milliseconds, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number of milliseconds >= 0, got {value!r}")
    return value
