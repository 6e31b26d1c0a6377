"""Raft's RPC messages (Figure 2 of the paper) as immutable values, and their binary encoding.

Each message is a frozen dataclass: equal fields compare equal and hash equal, and no field can
be changed after construction, so a node may keep, reuse or share a message safely. The wire
format is driven by the fields themselves: a one-byte tag, then every field in declaration
order, each written by the codec of its type (``int`` as 8 bytes, ``bool`` as one byte, a tuple
of ``LogEntry`` as a count and the entries). ``encode``, ``decode`` and ``msg.size()`` all walk
that one layout, so ``msg.size() == len(encode(msg))`` holds for every message by construction.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, fields
from typing import Any, Callable, ClassVar, Iterable, Union

__all__ = [
    "LogEntry", "RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply",
    "PreVote", "PreVoteReply", "Message", "MESSAGE_TYPES", "REQUEST_TYPES", "REPLY_TYPES", "encode", "decode",
    "command_size", "encode_command", "decode_command", "encode_entries",
]

_Q = struct.Struct(">q")
_I = struct.Struct(">I")
_D = struct.Struct(">d")


# ---------------------------------------------------------------------- commands
class _Repr(str):
    """A command that was not a plain value, decoded as its ``repr`` text."""


def encode_command(value: Any) -> bytes:
    """Tagged binary encoding of one command (None, bool, int, float, str, bytes; else its repr)."""
    if value is None:
        return b"n"
    if isinstance(value, _Repr):
        data = value.encode("utf-8")
        return b"r" + _I.pack(len(data)) + data
    if isinstance(value, bool):
        return b"?" + (b"\x01" if value else b"\x00")
    if isinstance(value, int) and -(1 << 63) <= value < (1 << 63):
        return b"i" + _Q.pack(value)
    if isinstance(value, float):
        return b"f" + _D.pack(value)
    if isinstance(value, str):
        data = value.encode("utf-8")
        return b"s" + _I.pack(len(data)) + data
    if isinstance(value, (bytes, bytearray)):
        return b"b" + _I.pack(len(value)) + bytes(value)
    data = repr(value).encode("utf-8")
    return b"r" + _I.pack(len(data)) + data


def command_size(value: Any) -> int:
    """Encoded size in bytes of one command (matches ``encode_command``)."""
    if isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < (1 << 63):
        return 9
    if type(value) is str and value.isascii():
        return 5 + len(value)
    return len(encode_command(value))


def decode_command(data: bytes, pos: int) -> tuple[Any, int]:
    """Read one command at ``pos``; return it and the position after it."""
    tag = data[pos:pos + 1]
    pos += 1
    if tag == b"n":
        return None, pos
    if tag == b"?":
        return data[pos] == 1, pos + 1
    if tag == b"i":
        return _Q.unpack_from(data, pos)[0], pos + 8
    if tag == b"f":
        return _D.unpack_from(data, pos)[0], pos + 8
    if tag in (b"s", b"b", b"r"):
        (length,) = _I.unpack_from(data, pos)
        pos += 4
        raw = data[pos:pos + length]
        if len(raw) != length:
            raise ValueError("truncated command in message")
        if tag == b"b":
            return raw, pos + length
        text = raw.decode("utf-8")
        return (text if tag == b"s" else _Repr(text)), pos + length
    raise ValueError(f"unknown command tag {tag!r} at byte {pos - 1}")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log entry: the leader's term when it was received, and the client's command."""

    term: int
    command: Any


# ---------------------------------------------------------------------- field codecs
class _Codec:
    """How one field type is written: ``size(value)``, ``write(value)``, ``read(data, pos)``.
    ``fixed`` is the size of every value, or None when it depends on the value; then
    ``empty`` is the size of an empty value (an empty tuple of entries: a heartbeat)."""

    def __init__(self, fixed: int | None, size: Callable[[Any], int],
                 write: Callable[[Any], bytes],
                 read: Callable[[bytes, int], tuple[Any, int]], empty: int = 0) -> None:
        self.fixed, self.size, self.write, self.read, self.empty = fixed, size, write, read, empty


def _read_int(data: bytes, pos: int) -> tuple[int, int]:
    return _Q.unpack_from(data, pos)[0], pos + 8


def _read_bool(data: bytes, pos: int) -> tuple[bool, int]:
    byte = data[pos]
    if byte > 1:
        raise ValueError(f"bool field holds byte {byte}, not 0 or 1")
    return byte == 1, pos + 1


#: An entry whose command is an int that fits 8 bytes: term, tag ``i``, command (17 bytes).
_INT_ENTRY = struct.Struct(">qBq")
_INT_TAG = ord("i")
_INT_LIMIT = 1 << 63


def _entries_size(entries: tuple[LogEntry, ...]) -> int:
    # the int commands of the 6.5840 tests are 17 bytes with their term; measure only others
    size = 4 + 17 * len(entries)
    for entry in entries:
        command = entry.command
        if type(command) is not int or not -_INT_LIMIT <= command < _INT_LIMIT:
            size += command_size(command) - 9
    return size


def encode_entries(entries: Iterable[LogEntry]) -> bytes:
    """The entries, each as its term (8 bytes) and its command (``encode_command``), in order
    (the tests' int commands on a fast path: ``encode_state`` writes whole logs)."""
    pack = _INT_ENTRY.pack
    parts = []
    for entry in entries:
        command = entry.command
        if type(command) is int and -_INT_LIMIT <= command < _INT_LIMIT:
            parts.append(pack(entry.term, _INT_TAG, command))
        else:
            parts.append(_Q.pack(entry.term) + encode_command(command))
    return b"".join(parts)


def _write_entries(entries: tuple[LogEntry, ...]) -> bytes:
    return _I.pack(len(entries)) + encode_entries(entries)


def _read_entries(data: bytes, pos: int) -> tuple[tuple[LogEntry, ...], int]:
    (count,) = _I.unpack_from(data, pos)
    pos += 4
    entries = []
    for _ in range(count):
        (term,) = _Q.unpack_from(data, pos)
        command, pos = decode_command(data, pos + 8)
        entries.append(LogEntry(term, command))
    return tuple(entries), pos


#: One codec per field annotation used by the messages below.
_CODECS = {
    "int": _Codec(8, lambda v: 8, _Q.pack, _read_int),
    "bool": _Codec(1, lambda v: 1, lambda v: b"\x01" if v else b"\x00", _read_bool),
    "tuple[LogEntry, ...]": _Codec(None, _entries_size, _write_entries, _read_entries, empty=4),
}

#: tag byte -> message class, filled by ``_message``.
_BY_TAG: dict[int, type] = {}


def _message(tag: int) -> Callable[[type], type]:
    """Register a message class under ``tag`` and derive its wire layout from its fields."""
    def register(cls: type) -> type:
        layout = tuple((f.name, _CODECS[str(f.type)]) for f in fields(cls))
        fixed = 1 + sum(codec.fixed for _, codec in layout if codec.fixed is not None)
        variable = tuple((name, codec.size, codec.empty) for name, codec in layout
                         if codec.fixed is None)
        if variable:
            def size(self: Any) -> int:
                total = fixed
                for name, measure, empty in variable:
                    value = getattr(self, name)
                    total += measure(value) if value else empty
                return total
        else:
            def size(self: Any) -> int:
                return fixed
        size.__doc__ = "Encoded size in bytes (equals ``len(encode(self))``)."
        cls.size = size
        cls.TAG, cls.NAME, cls._LAYOUT = tag, cls.__name__, layout
        cls.SIZE = None if variable else fixed  # a constant size, where there is one
        _BY_TAG[tag] = cls
        return cls
    return register


# ---------------------------------------------------------------------- the messages
@_message(1)
@dataclass(frozen=True, slots=True)
class RequestVote:
    """RequestVote arguments: a candidate asks for a vote in ``term``."""

    TAG: ClassVar[int]
    NAME: ClassVar[str]
    SIZE: ClassVar[int | None]
    term: int
    candidate: int
    last_log_index: int
    last_log_term: int


@_message(2)
@dataclass(frozen=True, slots=True)
class RequestVoteReply:
    """RequestVote result: the voter's term and whether it granted its vote."""

    TAG: ClassVar[int]
    NAME: ClassVar[str]
    SIZE: ClassVar[int | None]
    term: int
    granted: bool


@_message(3)
@dataclass(frozen=True, slots=True)
class AppendEntries:
    """AppendEntries arguments; an empty ``entries`` tuple is a heartbeat."""

    TAG: ClassVar[int]
    NAME: ClassVar[str]
    SIZE: ClassVar[int | None]
    term: int
    leader: int
    prev_log_index: int
    prev_log_term: int
    entries: tuple[LogEntry, ...]
    leader_commit: int


@_message(4)
@dataclass(frozen=True, slots=True)
class AppendEntriesReply:
    """AppendEntries result. On a log mismatch ``conflict_index``/``conflict_term`` tell the
    leader where to back up to (the 6.5840 lab's fast backup); both are 0 on success."""

    TAG: ClassVar[int]
    NAME: ClassVar[str]
    SIZE: ClassVar[int | None]
    term: int
    success: bool
    conflict_index: int = 0
    conflict_term: int = 0


@_message(5)
@dataclass(frozen=True, slots=True)
class PreVote:
    """PreVote arguments (the ``pre_vote`` variant, dissertation §9.6): a precandidate asks
    whether it could win an election for ``term`` (its own term + 1) before raising its term.
    The same fields as ``RequestVote``; a message kind of its own, so the trace tells them
    apart."""

    TAG: ClassVar[int]
    NAME: ClassVar[str]
    SIZE: ClassVar[int | None]
    term: int
    candidate: int
    last_log_index: int
    last_log_term: int


@_message(6)
@dataclass(frozen=True, slots=True)
class PreVoteReply:
    """PreVote result: the voter's own term and whether it would vote. Granting one changes
    nothing in the voter (no term, no vote, no timer)."""

    TAG: ClassVar[int]
    NAME: ClassVar[str]
    SIZE: ClassVar[int | None]
    term: int
    granted: bool


Message = Union[RequestVote, RequestVoteReply, AppendEntries, AppendEntriesReply, PreVote,
                PreVoteReply]
#: Every message class, the requests a node may send, and the replies a handler may return.
MESSAGE_TYPES: tuple[type, ...] = (RequestVote, RequestVoteReply, AppendEntries,
                                   AppendEntriesReply, PreVote, PreVoteReply)
REQUEST_TYPES: tuple[type, ...] = (RequestVote, AppendEntries, PreVote)
REPLY_TYPES: dict[type, type] = {RequestVote: RequestVoteReply, AppendEntries: AppendEntriesReply,
                                 PreVote: PreVoteReply}


# ---------------------------------------------------------------------- encode / decode
def encode(msg: Message) -> bytes:
    """The deterministic binary encoding of a message: its tag, then each field in order."""
    layout = getattr(type(msg), "_LAYOUT", None)
    if layout is None or _BY_TAG.get(type(msg).TAG) is not type(msg):
        raise TypeError(f"not a raftlab message: {msg!r}")
    parts = [bytes((type(msg).TAG,))]
    parts.extend(codec.write(getattr(msg, name)) for name, codec in layout)
    return b"".join(parts)


def decode(data: bytes) -> Message:
    """Read back a message written by ``encode``. Raises ``ValueError`` on malformed input."""
    if not data:
        raise ValueError("malformed message: no bytes")
    cls = _BY_TAG.get(data[0])
    if cls is None:
        raise ValueError(f"malformed message: unknown tag {data[:1]!r}, {len(data)} bytes")
    values, pos = [], 1
    try:
        for _, codec in cls._LAYOUT:
            value, pos = codec.read(data, pos)
            values.append(value)
    except (IndexError, struct.error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"malformed {cls.__name__}: {exc}") from None
    if pos != len(data):
        raise ValueError(f"malformed {cls.__name__}: {len(data) - pos} trailing bytes")
    return cls(*values)
