"""Stable storage for a Raft node's hard state (``current_term``, ``voted_for``, the log).

Like 6.5840's ``Persister``: the node saves an opaque byte string; the harness copies the
persister on crash so that a killed instance can never write into its successor's storage.
"""

from __future__ import annotations

import struct
from typing import Optional

from .messages import LogEntry, decode_command, encode_entries

__all__ = ["Persister", "encode_state", "decode_state"]

_HEAD = struct.Struct(">qqI")


class Persister:
    """Holds the last saved raft state (bytes are immutable, so copies are cheap)."""

    __slots__ = ("_state", "saves")

    def __init__(self, state: bytes = b"") -> None:
        self._state = state
        self.saves = 0

    def save(self, state: bytes) -> None:
        self._state = bytes(state)
        self.saves += 1

    def read(self) -> bytes:
        return self._state

    def size(self) -> int:
        """Bytes of persisted raft state (config.go's ``RaftStateSize``)."""
        return len(self._state)

    def copy(self) -> "Persister":
        return Persister(self._state)


def encode_state(term: int, voted_for: Optional[int], log: list[LogEntry]) -> bytes:
    """Encode the hard state; ``log`` excludes the sentinel entry at index 0."""
    return (_HEAD.pack(term, -1 if voted_for is None else voted_for, len(log))
            + encode_entries(log))


def decode_state(data: bytes) -> tuple[int, Optional[int], list[LogEntry]]:
    """Inverse of ``encode_state``; empty bytes mean a fresh node (term 0, no vote, no log)."""
    if not data:
        return 0, None, []
    try:
        term, voted, count = _HEAD.unpack_from(data, 0)
        pos, log = _HEAD.size, []
        for _ in range(count):
            (eterm,) = struct.unpack_from(">q", data, pos)
            command, pos = decode_command(data, pos + 8)
            log.append(LogEntry(eterm, command))
    except (struct.error, IndexError) as exc:
        raise ValueError(f"corrupt persisted raft state: {exc}") from None
    if pos != len(data):
        raise ValueError(f"corrupt persisted raft state: {len(data) - pos} trailing bytes")
    return term, (None if voted < 0 else voted), log
