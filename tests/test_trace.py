"""The trace: event records, JSON round trip, and clear errors for malformed files."""

from __future__ import annotations

import json

import pytest

from raftlab import KINDS, Cluster, Trace


def busy_cluster(seed: int = 3) -> Cluster:
    c = Cluster(5, seed=seed, reliable=False)
    leader = c.check_one_leader()
    c.one(101, 5)
    c.partition([leader, (leader + 1) % 5], [(leader + k) % 5 for k in (2, 3, 4)])
    c.run_for(1500)
    c.heal()
    c.crash((leader + 2) % 5)
    c.run_for(300)
    c.restart((leader + 2) % 5)
    c.set_long_reordering(True)
    c.run_for(1000)
    return c


def test_every_event_has_time_kind_and_its_fields() -> None:
    c = busy_cluster()
    seen = set()
    last = 0.0
    for event in c.trace:
        assert event.time >= last
        last = event.time
        assert event.kind in KINDS
        fields = KINDS[event.kind]
        assert len(event) == 2 + len(fields)
        assert tuple(getattr(event, name) for name in fields) == tuple(event)[2:]
        seen.add(event.kind)
    assert {"state", "timeout", "vote", "send", "deliver", "drop", "crash", "restart",
            "partition", "heal", "start", "apply", "config", "connect", "append", "commit",
            "next_index"} <= seen


def test_json_round_trip_gives_the_same_text_and_events() -> None:
    c = busy_cluster()
    text = c.trace.to_json()
    back = Trace.from_json(text)
    assert back.to_json() == text
    assert (back.n, back.meta) == (c.trace.n, c.trace.meta)
    assert list(back) == list(c.trace)


def test_send_events_say_what_each_message_carries() -> None:
    c = busy_cluster()
    sends = c.trace.of("send")
    details = {e.msg: set() for e in sends}
    for e in sends:
        details[e.msg].add(e.detail if e.msg != "AppendEntries" else type(e.detail))
    assert details["RequestVote"] == {None}
    assert details["AppendEntries"] == {int}
    for reply in ("RequestVoteReply", "AppendEntriesReply"):
        assert details[reply] <= {True, False} and True in details[reply]
    # a vote's reply says what the vote event says
    votes = {(e.time, e.node, e.candidate): e.granted for e in c.trace.of("vote")}
    replies = {(e.time, e.src, e.dst): e.detail for e in sends if e.msg == "RequestVoteReply"}
    assert replies == votes
    # the command travels in one AppendEntries per follower at least, once each
    assert sum(e.detail for e in sends if e.msg == "AppendEntries") >= 4


def test_send_events_of_older_trace_files_read_with_detail_unknown() -> None:
    trace = Trace.from_json(_doc([[0, "send", 0, 1, "RequestVote", 1, 3],
                                  [1, "send", 1, 0, "RequestVoteReply", 1, 4, True]]))
    assert [(e.id, e.detail) for e in trace] == [(3, None), (4, True)]
    assert Trace.from_json(trace.to_json()).to_json() == trace.to_json()


def test_of_and_window_select_events() -> None:
    c = busy_cluster()
    everything = list(c.trace)
    assert c.trace.of("vote") == [e for e in everything if e.kind == "vote"] != []
    assert c.trace.of("crash", "restart") == [e for e in everything
                                              if e.kind in ("crash", "restart")] != []
    half = len(everything) // 2
    assert c.trace.of("send", start=half) == [e for e in everything[half:] if e.kind == "send"]
    assert c.trace.window(500, 1000) == [e for e in everything if 500 <= e.time <= 1000] != []
    with pytest.raises(ValueError, match="unknown event kind 'votes'"):
        c.trace.of("votes")
    with pytest.raises(ValueError, match="after its end"):
        c.trace.window(10, 5)


def _doc(events, n=3):
    return json.dumps({"format": "raftlab-trace", "version": 1, "n": n, "meta": {},
                       "events": events})


@pytest.mark.parametrize("text, message", [
    ("{not json", "not valid JSON"),
    ("[]", "not a raftlab trace"),
    (json.dumps({"format": "raftlab-trace", "version": 9, "events": []}), "unsupported trace version 9"),
    (json.dumps({"format": "raftlab-trace", "version": 1, "events": {}}), "'events' must be a list"),
    (_doc([[0, "state", 0, 0, "follower"]], n=0), "'n' must be an int >= 1"),
    (_doc([[0, "explode", 1]]), "trace event 0: unknown kind 'explode'"),
    (_doc([[-1, "crash", 1]]), "trace event 0: time must be a finite number of ms >= 0"),
    (_doc([[5, "crash", 1], [4, "restart", 1]]), "trace event 1: time 4 ms is before"),
    (_doc([[0, "state", 0, 0]]), r"trace event 0: a 'state' event has fields \['node', 'term', 'role'\]"),
    (_doc([[0, "state", 7, 0, "follower"]]), "trace event 0: node 7 is not a node id"),
    (_doc([[0, "state", 0, 0, "king"]]), "trace event 0: role 'king'"),
    (_doc([[0, "vote", 0, 1, 1, "yes"]]), "'granted' must be true or false"),
    (_doc([[0, "send", 0, 1, "RequestVote", 1.5, 3]]), "field 'term' must be an int"),
    (_doc([[0, "send", 0, 1, "AppendEntries", 1, 3, -1]]), "field 'detail' must be a number"),
    (_doc([[0, "send", 0, 1, "AppendEntriesReply", 1, 3, "yes"]]), "field 'detail' must be"),
    (_doc([[0, "send", 0, 1, "RequestVote", 1, 3, None, 0]]), "a 'send' event has fields"),
    (_doc([[0, "partition", [[0], "x"]]]), "'groups' must be a list of lists"),
    (_doc(["crash"]), "trace event 0: expected a list"),
])
def test_malformed_trace_files_raise_value_errors_that_say_what_is_wrong(text, message) -> None:
    with pytest.raises(ValueError, match=message):
        Trace.from_json(text)
