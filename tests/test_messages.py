"""The stable wire encoding of messages and persisted state."""

from __future__ import annotations

from dataclasses import replace

import pytest

from raftlab import AppendEntries, AppendEntriesReply, LogEntry, RequestVote, RequestVoteReply
from raftlab.messages import command_size, decode, encode
from raftlab.persister import Persister, decode_state, encode_state

PLAIN = [0, -5, 2**62, "", "hello", "ünïcode", b"\x00\xff", None, True, 1.5]
COMMANDS = PLAIN + [(1, "a")]   # a tuple is no plain value: it travels as its repr text

MESSAGES = [
    RequestVote(3, 1, 7, 2),
    RequestVoteReply(3, True),
    RequestVoteReply(4, False),
    AppendEntries(5, 0, 3, 2, (), 3),
    AppendEntries(5, 0, 3, 2, tuple(LogEntry(5, c) for c in COMMANDS), 3),
    AppendEntriesReply(5, False, 2, 1),
    AppendEntriesReply(5, True),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: type(m).__name__)
def test_size_is_the_encoded_length_and_decode_inverts_encode(msg) -> None:
    data = encode(msg)
    assert msg.size() == len(data)
    back = decode(data)
    assert type(back) is type(msg) and encode(back) == data
    if isinstance(msg, AppendEntries) and msg.entries:
        commands = [e.command for e in back.entries]
        assert [(type(c), c) for c in commands[:-1]] == [(type(c), c) for c in PLAIN]
        assert commands[-1] == repr((1, "a"))
        assert [e.term for e in back.entries] == [e.term for e in msg.entries]
        msg = replace(msg, entries=back.entries)
    assert back == msg


@pytest.mark.parametrize("command", COMMANDS, ids=repr)
def test_command_size_matches_its_encoding(command) -> None:
    msg = AppendEntries(1, 0, 0, 0, (LogEntry(1, command),), 0)
    assert msg.size() == len(encode(msg)) == 45 + 8 + command_size(command)


def test_a_5000_character_command_costs_5000_bytes_plus_a_small_header() -> None:
    assert command_size("x" * 5000) == 5005


@pytest.mark.parametrize("data", [b"", b"\x09", b"\x01\x00", encode(RequestVote(1, 1, 1, 1))[:-1],
                                  encode(AppendEntries(1, 0, 0, 0, (LogEntry(1, "ab"),), 0))[:-1]])
def test_malformed_messages_raise_value_error(data) -> None:
    with pytest.raises(ValueError, match="malformed|truncated"):
        decode(data)


def test_persisted_state_round_trips_and_copies_are_independent() -> None:
    log = [LogEntry(1, "a"), LogEntry(2, 3), LogEntry(2, None)]
    p = Persister()
    p.save(encode_state(4, 2, log))
    q = p.copy()
    p.save(encode_state(5, None, []))
    assert decode_state(q.read()) == (4, 2, log)
    assert decode_state(p.read()) == (5, None, [])
    assert decode_state(b"") == (0, None, [])
    with pytest.raises(ValueError, match="corrupt"):
        decode_state(q.read()[:-3])
