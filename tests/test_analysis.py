"""Tables from a trace (raftlab.analysis): spans, elections, per-node summaries."""

from __future__ import annotations

import pytest

from raftlab import Cluster, Trace
from scenarios import faults, leader_failure, quiet

from raftlab.analysis import (OUTCOMES, Election, as_trace, check_window, disconnect_spans,
                              elections, node_summary, partition_spans, role_spans, table,
                              to_dataframe)


def split_votes(seed=0):
    # 2 ms of randomness and 5-10 ms latency: every node times out before any RequestVote lands
    return quiet(5, seed, 1000, election_timeout=(300, 302))


SCENARIOS = {"quiet": quiet, "leader_failure": leader_failure, "faults": faults,
             "split_votes": split_votes}


def first_candidate(c: Cluster) -> int:
    """Run until some node becomes a candidate (read from the trace) and return it."""
    while not any(r[1] == "state" and r[4] == "candidate" for r in c.trace.raw):
        c.run_for(1)
    return next(r[2] for r in c.trace.raw if r[1] == "state" and r[4] == "candidate")


# ------------------------------------------------------------------ spans
@pytest.mark.parametrize("name", SCENARIOS)
def test_role_spans_tile_each_node_from_zero_to_the_end(name):
    c = SCENARIOS[name]()
    spans = role_spans(c.trace)
    for node in range(c.n):
        lane = [s for s in spans if s.node == node]
        assert lane[0].start == 0
        assert lane[-1].end == c.trace.end_time == c.now
        for a, b in zip(lane, lane[1:]):
            assert a.end == b.start, (a, b)
            assert (a.role, a.term) != (b.role, b.term)
        terms = [s.term for s in lane]
        assert terms == sorted(terms)


def test_role_spans_follow_state_events_and_crashes():
    c = faults()
    spans = role_spans(c)
    crashed = [s for s in spans if s.role == "crashed"]
    crash_t = c.trace.of("crash")[0].time
    restart_t = c.trace.of("restart")[0].time
    assert [(s.node, s.start, s.end) for s in crashed] == [(1, crash_t, restart_t)]
    for ev in c.trace.of("state"):
        at = [s for s in spans if s.node == ev.node and s.start <= ev.time < s.end]
        if at:  # the span that covers the event's moment has its role and term
            assert (at[0].role, at[0].term) == (ev.role, ev.term)


def test_disconnect_and_partition_spans():
    c = leader_failure()
    cut = c.trace.of("disconnect")[0]
    back = c.trace.of("connect")[0]
    assert disconnect_spans(c) == [(cut.node, cut.time, back.time)]
    assert partition_spans(c) == []
    f = faults()
    (p,) = partition_spans(f)
    assert p.groups == ((0, 1), (2, 3, 4))
    assert (p.start, p.end) == (f.trace.of("partition")[0].time, f.trace.of("heal")[0].time)


# ------------------------------------------------------------------ elections
@pytest.mark.parametrize("name", SCENARIOS)
def test_elections_match_the_trace(name):
    c = SCENARIOS[name]()
    found = elections(c.trace)
    candidacies = {(r[2], r[3]) for r in c.trace.raw if r[1] == "state" and r[4] == "candidate"}
    assert {(e.candidate, e.term) for e in found} == candidacies
    assert len(found) == len(candidacies)
    leaders = {r[3]: r[2] for r in c.trace.raw if r[1] == "state" and r[4] == "leader"}
    won = {e.term: e.candidate for e in found if e.outcome == "won"}
    assert won == leaders
    for e in found:
        assert e.outcome in OUTCOMES
        assert e.leader == leaders.get(e.term)
        assert e.start <= e.end
        yes = sorted({r[2] for r in c.trace.raw
                      if r[1] == "vote" and r[3] == e.candidate and r[4] == e.term and r[5]})
        no = sorted({r[2] for r in c.trace.raw
                     if r[1] == "vote" and r[3] == e.candidate and r[4] == e.term and not r[5]})
        assert list(e.granted) == yes and list(e.denied) == no
        assert e.votes == 1 + len(yes)
        if e.outcome == "won":
            assert e.votes * 2 > c.n


def test_split_votes_are_called_split():
    found = elections(split_votes())
    first = [e for e in found if e.term == 1]
    assert len(first) >= 2
    assert all(e.outcome == "split" and e.leader is None for e in first)


def test_a_minority_candidate_has_no_majority():
    c = faults()
    lonely = [e for e in elections(c) if e.candidate in (0, 1)
              and c.trace.of("partition")[0].time <= e.start < c.trace.of("heal")[0].time]
    assert lonely, "the minority side {0, 1} should have tried to elect a leader"
    assert {e.outcome for e in lonely} == {"no majority"}
    assert all(e.leader is None for e in lonely)


def test_candidates_that_cannot_reach_each_other_are_not_a_split_vote():
    c = Cluster(3, seed=2)
    c.run_for(1000)
    c.disconnect(0)
    c.disconnect(1)
    c.disconnect(2)
    c.run_for(3000)
    cut = c.trace.of("disconnect")[-1].time
    late = [e for e in elections(c) if e.start > cut]
    assert len({e.candidate for e in late}) >= 2
    assert {e.outcome for e in late} <= {"no majority", "running"}


def test_crashed_and_running_candidacies():
    c = Cluster(3, seed=1)
    cand = first_candidate(c)
    (e,) = elections(c)
    assert (e.candidate, e.outcome, e.end) == (cand, "running", c.now)
    c.crash(cand)
    c.run_for(5)
    crashed = [e for e in elections(c) if e.candidate == cand]
    assert crashed[0].outcome == "crashed"


def test_one_node_cluster_elects_itself():
    found = elections(quiet(1, 0, 1000))
    assert [(e.term, e.candidate, e.outcome, e.votes) for e in found] == [(1, 0, "won", 1)]


def test_trace_methods_and_json_round_trip():
    c = leader_failure()
    assert c.trace.elections() == elections(c.trace)
    assert c.trace.summary() == node_summary(c.trace)
    back = Trace.from_json(c.trace.to_json())
    assert elections(back) == elections(c.trace)
    back.n = None  # a trace without n: the node count comes from the events
    assert node_summary(back) == node_summary(c.trace)


# ------------------------------------------------------------------ node summary
@pytest.mark.parametrize("name", SCENARIOS)
def test_node_summary_adds_up(name):
    c = SCENARIOS[name]()
    rows = node_summary(c.trace)
    assert [r.node for r in rows] == list(range(c.n))
    for r in rows:
        total = r.follower_ms + r.candidate_ms + r.leader_ms + r.crashed_ms
        assert total == pytest.approx(c.now, abs=0.01)
        assert r.timeouts == sum(1 for e in c.trace.of("timeout") if e.node == r.node)
        assert r.votes_granted == sum(1 for e in c.trace.of("vote") if e.node == r.node and e.granted)
        assert r.votes_denied == sum(1 for e in c.trace.of("vote")
                                     if e.node == r.node and not e.granted)
        assert r.sent == sum(1 for e in c.trace.of("send") if e.src == r.node)
        assert r.received == sum(1 for e in c.trace.of("deliver") if e.dst == r.node)
        assert r.crashes == sum(1 for e in c.trace.of("crash") if e.node == r.node)
        assert set(r.terms_led) == {e.term for e in c.trace.of("state")
                                    if e.node == r.node and e.role == "leader"}
    alive_leaders = [r for r in rows if r.last_role == "leader"]
    if name != "split_votes":
        assert c.leader() in [r.node for r in alive_leaders]


def test_node_summary_counts_disconnected_time():
    c = leader_failure()
    cut = c.trace.of("disconnect")[0]
    back = c.trace.of("connect")[0]
    row = node_summary(c)[cut.node]
    assert row.disconnected_ms == pytest.approx(back.time - cut.time)
    assert all(r.disconnected_ms == 0 for r in node_summary(c) if r.node != cut.node)


# ------------------------------------------------------------------ display and bad input
def test_table_prints_one_line_per_record():
    rows = elections(split_votes())
    text = table(rows, ["term", "candidate", "outcome"])
    lines = text.splitlines()
    assert lines[0].split() == ["term", "candidate", "outcome"]
    assert len(lines) == len(rows) + 1
    assert "split" in lines[1]
    assert table([]) == "(no rows)"
    with pytest.raises(ValueError, match="'winner'"):
        table(rows, ["term", "winner"])


def test_to_dataframe_needs_pandas():
    rows = node_summary(quiet())
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            to_dataframe(rows)
    else:
        df = to_dataframe(rows)
        assert list(df["node"]) == [0, 1, 2]


@pytest.mark.parametrize("start,end,words", [
    (500, 100, ["500", "100"]),
    (-1, 100, ["start", "-1"]),
    (0, -5, ["end", "-5"]),
    ("0", 10, ["start", "'0'"]),
    (float("nan"), 10, ["start", "nan"]),
])
def test_bad_windows_are_named(start, end, words):
    with pytest.raises(ValueError) as info:
        check_window(quiet().trace, start, end)
    for w in words:
        assert w in str(info.value)


def test_not_a_trace():
    with pytest.raises(ValueError, match="Cluster or a Trace"):
        as_trace([1, 2, 3])
    assert isinstance(Election(1, 0, 0.0, 1.0, (), (), "won", 0).votes, int)
