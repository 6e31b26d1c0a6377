"""Raft's RPC messages (Figure 2 of the paper) and their stable binary encoding.

Messages are small immutable records. ``encode`` gives a deterministic byte string (the
simulated network counts its length, and a socket transport could send it); ``decode`` reads it
back. ``msg.size()`` equals ``len(encode(msg))`` without building the bytes.
"""

from __future__ import annotations

import struct
from typing import Any, NamedTuple, Union

__all__ = [
    "LogEntry", "RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply",
    "Message", "encode", "decode", "command_size", "encode_command", "decode_command",
]


class LogEntry(NamedTuple):
    """One log entry: the leader's term when it was received, and the client's command."""

    term: int
    command: Any


class RequestVote:
    """RequestVote arguments: a candidate asks for a vote in ``term``."""

    __slots__ = ("term", "candidate", "last_log_index", "last_log_term")
    TAG = 1
    NAME = "RequestVote"

    def __init__(self, term: int, candidate: int, last_log_index: int, last_log_term: int) -> None:
        self.term = term
        self.candidate = candidate
        self.last_log_index = last_log_index
        self.last_log_term = last_log_term

    def size(self) -> int:
        return 33

    def __repr__(self) -> str:
        return (f"RequestVote(term={self.term}, candidate={self.candidate}, "
                f"last_log_index={self.last_log_index}, last_log_term={self.last_log_term})")


class RequestVoteReply:
    """RequestVote result: the voter's term and whether it granted its vote."""

    __slots__ = ("term", "granted")
    TAG = 2
    NAME = "RequestVoteReply"

    def __init__(self, term: int, granted: bool) -> None:
        self.term = term
        self.granted = granted

    def size(self) -> int:
        return 10

    def __repr__(self) -> str:
        return f"RequestVoteReply(term={self.term}, granted={self.granted})"


class AppendEntries:
    """AppendEntries arguments; an empty ``entries`` tuple is a heartbeat."""

    __slots__ = ("term", "leader", "prev_log_index", "prev_log_term", "entries", "leader_commit")
    TAG = 3
    NAME = "AppendEntries"

    def __init__(self, term: int, leader: int, prev_log_index: int, prev_log_term: int,
                 entries: tuple[LogEntry, ...], leader_commit: int) -> None:
        self.term = term
        self.leader = leader
        self.prev_log_index = prev_log_index
        self.prev_log_term = prev_log_term
        self.entries = entries
        self.leader_commit = leader_commit

    def size(self) -> int:
        if not self.entries:
            return 45
        return 45 + sum(8 + command_size(e.command) for e in self.entries)

    def __repr__(self) -> str:
        return (f"AppendEntries(term={self.term}, leader={self.leader}, "
                f"prev_log_index={self.prev_log_index}, prev_log_term={self.prev_log_term}, "
                f"entries={list(self.entries)!r}, leader_commit={self.leader_commit})")


class AppendEntriesReply:
    """AppendEntries result. On a log mismatch ``conflict_index``/``conflict_term`` tell the
    leader where to back up to (the 6.5840 lab's fast backup); both are 0 on success."""

    __slots__ = ("term", "success", "conflict_index", "conflict_term")
    TAG = 4
    NAME = "AppendEntriesReply"

    def __init__(self, term: int, success: bool, conflict_index: int = 0,
                 conflict_term: int = 0) -> None:
        self.term = term
        self.success = success
        self.conflict_index = conflict_index
        self.conflict_term = conflict_term

    def size(self) -> int:
        return 26

    def __repr__(self) -> str:
        return (f"AppendEntriesReply(term={self.term}, success={self.success}, "
                f"conflict_index={self.conflict_index}, conflict_term={self.conflict_term})")


Message = Union[RequestVote, RequestVoteReply, AppendEntries, AppendEntriesReply]

_Q = struct.Struct(">q")
_I = struct.Struct(">I")
_D = struct.Struct(">d")


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
    """Encoded size in bytes of one command (matches ``encode``)."""
    if isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < (1 << 63):
        return 9
    if type(value) is str and value.isascii():
        return 5 + len(value)
    return len(encode_command(value))


def encode(msg: Message) -> bytes:
    """The deterministic binary encoding of a message."""
    q = _Q.pack
    if isinstance(msg, RequestVote):
        return (b"\x01" + q(msg.term) + q(msg.candidate) + q(msg.last_log_index)
                + q(msg.last_log_term))
    if isinstance(msg, RequestVoteReply):
        return b"\x02" + q(msg.term) + (b"\x01" if msg.granted else b"\x00")
    if isinstance(msg, AppendEntries):
        parts = [b"\x03", q(msg.term), q(msg.leader), q(msg.prev_log_index),
                 q(msg.prev_log_term), q(msg.leader_commit), _I.pack(len(msg.entries))]
        for entry in msg.entries:
            parts.append(q(entry.term))
            parts.append(encode_command(entry.command))
        return b"".join(parts)
    if isinstance(msg, AppendEntriesReply):
        return (b"\x04" + q(msg.term) + (b"\x01" if msg.success else b"\x00")
                + q(msg.conflict_index) + q(msg.conflict_term))
    raise TypeError(f"not a raftlab message: {msg!r}")


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


def decode(data: bytes) -> Message:
    """Read back a message written by ``encode``. Raises ``ValueError`` on malformed input."""
    try:
        tag = data[0]
        if tag == 1 and len(data) == 33:
            return RequestVote(*struct.unpack(">qqqq", data[1:]))
        if tag == 2 and len(data) == 10:
            return RequestVoteReply(_Q.unpack_from(data, 1)[0], data[9] == 1)
        if tag == 4 and len(data) == 26:
            term, = _Q.unpack_from(data, 1)
            ci, ct = struct.unpack_from(">qq", data, 10)
            return AppendEntriesReply(term, data[9] == 1, ci, ct)
        if tag == 3:
            term, leader, pli, plt, commit = struct.unpack_from(">qqqqq", data, 1)
            (count,) = _I.unpack_from(data, 41)
            pos, entries = 45, []
            for _ in range(count):
                (eterm,) = _Q.unpack_from(data, pos)
                command, pos = decode_command(data, pos + 8)
                entries.append(LogEntry(eterm, command))
            if pos != len(data):
                raise ValueError("trailing bytes")
            return AppendEntries(term, leader, pli, plt, tuple(entries), commit)
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise ValueError(f"malformed message: {exc}") from None
    raise ValueError(f"malformed message: tag {data[:1]!r}, {len(data)} bytes")
