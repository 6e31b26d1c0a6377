"""The trace: one ordered record of everything that happened in a cluster.

Events are stored as plain tuples ``(time, kind, *fields)`` so that recording stays cheap, and
are handed out as named tuples with ``.time``, ``.kind`` and one attribute per field. Plots,
widgets, checks and notebooks read the trace; none of them looks inside the nodes.
"""

from __future__ import annotations

import json
import math
from collections import namedtuple
from typing import Any, Callable, Iterator, Optional, Sequence, Union, overload

from .protocol import ROLES

__all__ = ["Trace", "Event", "KINDS", "ROLES", "as_event"]

#: Field names of each event kind, in order (after ``time`` and ``kind``).
KINDS: dict[str, tuple[str, ...]] = {
    "state": ("node", "term", "role"),          # a node's role or term changed
    "timeout": ("node", "term"),                # an election timer fired (term before the election)
    "vote": ("node", "candidate", "term", "granted"),  # a RequestVote was answered by ``node``
    "prevote": ("node", "candidate", "term", "granted"),  # a PreVote was answered by ``node``
    "timer": ("node", "name", "action", "due"),  # a timer was set, cancelled or fired
    "note": ("node", "text"),                    # a node's own remark (``env.record("note", ...)``)
    # a message left ``src``; ``detail`` is what it carries besides its term: an AppendEntries
    # its number of entries (0: a heartbeat), a reply whether it was granted / succeeded
    # (bool), a RequestVote or PreVote None
    "send": ("src", "dst", "msg", "term", "id", "detail"),
    "deliver": ("src", "dst", "msg", "term", "id"),
    "drop": ("src", "dst", "msg", "term", "id", "reason"),
    "crash": ("node",),
    "restart": ("node",),
    "disconnect": ("node",),
    "connect": ("node",),
    "partition": ("groups",),
    "heal": ("groups",),
    "cut": ("a", "b", "one_way"),      # cut_link: a <-> b cut (one_way: only a -> b)
    "restore": ("a", "b", "one_way"),  # restore_link: that cut lifted
    "start": ("node", "index", "term", "command"),   # a leader accepted a command
    "apply": ("node", "index", "command"),           # a node applied a committed command
    "config": ("setting", "value"),                  # network or timing settings changed
    "append": ("node", "index", "term"),     # an entry was added to a node's log at ``index``
    "truncate": ("node", "index"),           # a node's log lost its entries from ``index`` on
    "commit": ("node", "index"),             # a node's commit index changed to ``index``
    # a leader's AppendEntries to ``peer`` began at ``index`` (its prev_log_index + 1: the
    # nextIndex it used); recorded when that differs from the last one ``node`` sent ``peer``
    # in ``term`` (so always for the first of a term), never for a repeat
    "next_index": ("node", "peer", "term", "index"),
}

_TYPES: dict[str, Any] = {kind: namedtuple(kind.capitalize() + "Event", ("time", "kind") + fields)
                          for kind, fields in KINDS.items()}

Event = Any  # one of the named tuples above; all have .time and .kind

_INT_FIELDS = {"node", "term", "candidate", "src", "dst", "id", "index", "a", "b", "peer"}
_STR_FIELDS = {"role", "msg", "reason", "setting", "name", "action", "text"}
_TIMER_ACTIONS = ("set", "cancel", "fire")
_LOG_KINDS = ("append", "truncate", "commit")


def _make(raw: tuple) -> Event:
    return _TYPES[raw[1]]._make(raw)


def as_event(raw: tuple) -> Event:
    """The named event (``.time``, ``.kind``, one attribute per field) for a plain tuple
    ``(time, kind, *fields)``; an event already named is returned as it is."""
    if hasattr(raw, "_fields"):
        return raw
    if len(raw) < 2 or raw[1] not in KINDS:
        raise ValueError(f"not a trace event: {raw!r:.80}; expected (time, kind, *fields) "
                         f"with kind one of {', '.join(KINDS)}")
    return _make(raw)


class Trace(Sequence):
    """An append-only sequence of events. ``trace[i]``, ``len``, iteration, ``of(kind)``."""

    def __init__(self, n: Optional[int] = None, meta: Optional[dict] = None) -> None:
        self.n = n
        self.meta: dict = dict(meta or {})
        self._events: list[tuple] = []
        self.append = self._events.append

    # recording ---------------------------------------------------------------
    #: ``trace.append((time, kind, *fields))``: the one way events are written (by the
    #: harness, the network and each node's ``env``), fields in ``KINDS[kind]`` order. It is
    #: the list's own ``append``, bound per trace, since it runs several times per message; it
    #: checks nothing (``from_json`` checks what it reads).
    append: Callable[[tuple], None]

    @property
    def raw(self) -> list[tuple]:
        """The underlying tuples ``(time, kind, *fields)`` (read-only by convention)."""
        return self._events

    # reading -----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._events)

    @overload
    def __getitem__(self, i: int) -> Event: ...
    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...

    def __getitem__(self, i: Union[int, slice]) -> Union[Event, list[Event]]:
        if isinstance(i, slice):
            return [_make(r) for r in self._events[i]]
        return _make(self._events[i])

    def __iter__(self) -> Iterator[Event]:
        for raw in self._events:
            yield _TYPES[raw[1]]._make(raw)

    def of(self, *kinds: str, start: int = 0) -> list[Event]:
        """Events of the given kinds, in order; ``start`` skips the first ``start`` events
        (``trace.of("vote", start=k)``: the votes recorded since the trace had ``k`` events)."""
        for kind in kinds:
            if kind not in KINDS:
                raise ValueError(f"unknown event kind {kind!r}; known kinds: {', '.join(KINDS)}")
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValueError(f"start must be an event index >= 0, got {start!r}")
        wanted = set(kinds)
        events = self._events[start:] if start else self._events
        return [_make(raw) for raw in events if raw[1] in wanted]

    def window(self, start: float = 0, end: float = math.inf) -> list[Event]:
        """Events with ``start <= time <= end``."""
        if start > end:
            raise ValueError(f"window start {start!r} is after its end {end!r}")
        return [_make(r) for r in self._events if start <= r[0] <= end]

    @property
    def end_time(self) -> float:
        """Time of the last event (0 if none), or ``meta['end']`` if later."""
        last = self._events[-1][0] if self._events else 0
        return max(last, self.meta.get("end", 0))

    def __repr__(self) -> str:
        return f"<Trace n={self.n} events={len(self._events)} end={self.end_time} ms>"

    # JSON ----------------------------------------------------------------------
    def to_dicts(self) -> list[dict]:
        """Each event as a plain dict (``time``, ``kind``, then its fields)."""
        out = []
        for raw in self._events:
            d = {"time": raw[0], "kind": raw[1]}
            d.update(zip(KINDS[raw[1]], raw[2:]))
            out.append(d)
        return out

    def to_json(self, indent: Optional[int] = None) -> str:
        """A deterministic JSON text: same events, same text, in any process."""
        doc = {"format": "raftlab-trace", "version": 1, "n": self.n, "meta": self.meta,
               "events": [[*raw[:2], *(_jsonable(v) for v in raw[2:])] for raw in self._events]}
        return json.dumps(doc, indent=indent, separators=(",", ":") if indent is None else None,
                          sort_keys=False, allow_nan=False, default=repr)

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "Trace":
        """Read a trace written by ``to_json``; a malformed text raises ``ValueError``."""
        try:
            doc = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"trace is not valid JSON: {exc}") from None
        if not isinstance(doc, dict) or doc.get("format") != "raftlab-trace":
            raise ValueError("not a raftlab trace: expected a JSON object with "
                             "\"format\": \"raftlab-trace\"")
        if doc.get("version") != 1:
            raise ValueError(f"unsupported trace version {doc.get('version')!r} (supported: 1)")
        n = doc.get("n")
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise ValueError(f"trace field 'n' must be an int >= 1, got {n!r}")
        meta = doc.get("meta", {})
        if not isinstance(meta, dict):
            raise ValueError(f"trace field 'meta' must be an object, got {type(meta).__name__}")
        events = doc.get("events")
        if not isinstance(events, list):
            raise ValueError("trace field 'events' must be a list")
        trace = cls(n, meta)
        last = 0.0
        for i, ev in enumerate(events):
            trace.append(_check_event(i, ev, last, n))
            last = ev[0]
        return trace


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _check_event(i: int, ev: Any, last: float, n: Optional[int]) -> tuple:
    where = f"trace event {i}"
    if not isinstance(ev, list) or len(ev) < 2:
        raise ValueError(f"{where}: expected a list [time, kind, fields...], got {ev!r:.80}")
    time, kind = ev[0], ev[1]
    if kind not in KINDS:
        raise ValueError(f"{where}: unknown kind {kind!r}; known kinds: {', '.join(KINDS)}")
    if isinstance(time, bool) or not isinstance(time, (int, float)) or not math.isfinite(time) \
            or time < 0:
        raise ValueError(f"{where}: time must be a finite number of ms >= 0, got {time!r}")
    if time < last:
        raise ValueError(f"{where}: time {time} ms is before the previous event's {last} ms")
    fields = KINDS[kind]
    if kind == "send" and len(ev) == 1 + len(fields):
        ev = [*ev, None]  # written before send events carried their ``detail``: unknown
    if len(ev) != 2 + len(fields):
        raise ValueError(f"{where}: a {kind!r} event has fields {list(fields)}, "
                         f"got {len(ev) - 2} values")
    values = []
    for name, value in zip(fields, ev[2:]):
        if name in _INT_FIELDS and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{where}: field {name!r} must be an int, got {value!r}")
        if name in ("node", "src", "dst", "candidate", "a", "b", "peer") and n is not None \
                and not 0 <= value < n:
            raise ValueError(f"{where}: {name} {value} is not a node id (0..{n - 1})")
        if name in _STR_FIELDS and not isinstance(value, str):
            raise ValueError(f"{where}: field {name!r} must be a string, got {value!r}")
        if name == "role" and value not in ROLES:
            raise ValueError(f"{where}: role {value!r} is not one of {ROLES}")
        if name == "index" and kind in _LOG_KINDS and value < (1 if kind != "commit" else 0):
            raise ValueError(f"{where}: a {kind!r} event's index must be >= "
                             f"{1 if kind != 'commit' else 0} (index 0 is the log's "
                             f"sentinel), got {value}")
        if name == "term" and kind == "append" and value < 0:
            raise ValueError(f"{where}: an 'append' event's term must be >= 0, got {value}")
        if name == "action" and value not in _TIMER_ACTIONS:
            raise ValueError(f"{where}: timer action {value!r} is not one of {_TIMER_ACTIONS}")
        if name == "due" and value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{where}: field 'due' must be a number of ms or null, got {value!r}")
        if name == "detail" and value is not None and (
                not isinstance(value, int) or (not isinstance(value, bool) and value < 0)):
            raise ValueError(f"{where}: field 'detail' must be a number of entries >= 0, "
                             f"true, false or null, got {value!r}")
        if name in ("granted", "one_way") and not isinstance(value, bool):
            raise ValueError(f"{where}: field {name!r} must be true or false, got {value!r}")
        if name == "groups":
            if not isinstance(value, list) or not all(
                    isinstance(g, list) and all(isinstance(x, int) for x in g) for g in value):
                raise ValueError(f"{where}: 'groups' must be a list of lists of node ids")
            value = tuple(tuple(g) for g in value)
        values.append(value)
    return (time, kind, *values)
