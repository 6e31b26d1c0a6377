"""Tables from a trace (raftlab.analysis): spans, elections, per-node summaries."""

from __future__ import annotations

import pytest

from raftlab import Cluster, Trace
from scenarios import faults, leader_failure, quiet

from raftlab.analysis import (OUTCOMES, Election, LinkCut, as_trace, check_window,
                              disconnect_spans, elections, index_window, link_cut_spans,
                              node_count, node_summary, partition_spans, role_spans, table,
                              to_dataframe, vote_answers)


def split_votes(seed=0):
    # 2 ms of randomness and 5-10 ms latency: every node times out before any RequestVote lands
    return quiet(5, seed, 1000, election_timeout=(300, 302))


SCENARIOS = {"quiet": quiet, "leader_failure": leader_failure, "faults": faults,
             "split_votes": split_votes}


def lossy(seed=0, n=7):
    """Replies lost (10%) and held back 0.2-2.2 s (2/3 of them): many yes votes come too late."""
    c = Cluster(n, seed=seed, reliable=False)
    c.set_long_reordering(True)
    c.run_for(5000)
    return c


SCENARIOS["lossy"] = lossy


def first_candidate(c: Cluster) -> int:
    """Run until some node becomes a candidate (read from the trace) and return it."""
    while not any(e.role == "candidate" for e in c.trace.of("state")):
        c.run_for(1)
    return next(e.node for e in c.trace.of("state") if e.role == "candidate")


def answers_heard(trace):
    """(term, candidate) -> voters whose yes / no reached the candidate, with the time: each
    vote event is followed by the send of its reply, and the reply's deliver is looked up."""
    events = list(trace)
    delivered = {e.id: e.time for e in events if e.kind == "deliver"}
    heard = {}
    for k, e in enumerate(events):
        if e.kind != "vote":
            continue
        reply = events[k + 1]
        assert (reply.kind, reply.msg, reply.src, reply.dst, reply.time) == (
            "send", "RequestVoteReply", e.node, e.candidate, e.time)
        if reply.id in delivered:
            heard.setdefault((e.term, e.candidate), []).append(
                (e.node, e.granted, delivered[reply.id]))
    return heard


def left_term(trace, node, term, after):
    """When ``node`` left ``term`` after time ``after``: a later term, or a crash."""
    for e in trace.of("state", "crash"):
        if e.time > after and e.node == node and (e.kind == "crash" or e.term != term):
            return e.time
    return trace.end_time


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
    states = c.trace.of("state")
    candidacies = {(e.node, e.term) for e in states if e.role == "candidate"}
    assert {(e.candidate, e.term) for e in found} == candidacies
    assert len(found) == len(candidacies)
    leaders = {e.term: e.node for e in states if e.role == "leader"}
    won = {e.term: e.candidate for e in found if e.outcome == "won"}
    assert won == leaders
    heard = answers_heard(c.trace)
    votes = c.trace.of("vote")
    for e in found:
        assert e.outcome in OUTCOMES
        assert e.leader == leaders.get(e.term)
        assert e.start <= e.end
        until = left_term(c.trace, e.candidate, e.term, e.start)
        answers = [(voter, granted) for voter, granted, t in heard.get((e.term, e.candidate), [])
                   if e.start <= t <= until]
        assert list(e.granted) == sorted({voter for voter, granted in answers if granted})
        assert list(e.denied) == sorted({voter for voter, granted in answers if not granted})
        said_yes = {v.node for v in votes if (v.candidate, v.term, v.granted) ==
                    (e.candidate, e.term, True)}
        assert set(e.granted) | set(e.not_counted) == said_yes
        assert not set(e.granted) & set(e.not_counted)
        assert e.votes == 1 + len(e.granted)
        # a candidate becomes leader the moment a majority of yes votes has reached it
        assert (e.votes * 2 > c.n) == (e.outcome == "won"), e


def test_votes_that_never_reached_the_candidate_are_not_counted():
    # Seed 0: node 6's first candidacy hears yes from 0 and 2 only; 1, 3, 4 and 5 also said yes
    # but their replies were held back past its election timeout. Counting the voters' own
    # records, the row read "granted 0,1,2,3,4,5 ... no majority".
    c = lossy(0)
    (e,) = [e for e in elections(c) if (e.term, e.candidate) == (1, 6)]
    yes = {v.node for v in c.trace.of("vote") if (v.candidate, v.term, v.granted) == (6, 1, True)}
    assert yes == {0, 1, 2, 3, 4, 5}
    assert (e.granted, e.not_counted, e.votes, e.outcome) == ((0, 2), (1, 3, 4, 5), 3,
                                                            "no majority")
    row = table([e], ["granted", "not_counted", "outcome"]).splitlines()[1].split()
    assert row == ["0,2", "1,3,4,5", "no", "majority"]


def test_lossy_seven_nodes_win_exactly_with_a_majority_heard():
    unheard = 0
    for seed in range(4):
        c = lossy(seed)
        for e in elections(c):
            assert (2 * e.votes > c.n) == (e.outcome == "won"), (seed, e)
            unheard += e.outcome != "won" and 2 * (e.votes + len(e.not_counted)) > c.n
    assert unheard >= 3   # rows whose voters said yes often enough, but too late


def hand_built(n, events, end=1000):
    t = Trace(n, {"end": end})
    for ev in events:
        t.append(tuple(ev))
    return t


def test_lost_replies_in_a_hand_built_trace():
    # node 0 asks 1 and 2; both say yes, both replies are lost; node 0 times out again
    t = hand_built(3, [
        (0, "state", 0, 0, "follower"), (0, "state", 1, 0, "follower"),
        (0, "state", 2, 0, "follower"),
        (100, "timeout", 0, 0), (100, "state", 0, 1, "candidate"),
        (100, "send", 0, 1, "RequestVote", 1, 1, None),
        (100, "send", 0, 2, "RequestVote", 1, 2, None),
        (105, "deliver", 0, 1, "RequestVote", 1, 1), (105, "state", 1, 1, "follower"),
        (105, "vote", 1, 0, 1, True), (105, "send", 1, 0, "RequestVoteReply", 1, 3, True),
        (106, "deliver", 0, 2, "RequestVote", 1, 2), (106, "state", 2, 1, "follower"),
        (106, "vote", 2, 0, 1, True), (106, "send", 2, 0, "RequestVoteReply", 1, 4, True),
        (110, "drop", 1, 0, "RequestVoteReply", 1, 3, "lost"),
        (111, "drop", 2, 0, "RequestVoteReply", 1, 4, "lost"),
        (400, "timeout", 0, 1), (400, "state", 0, 2, "candidate"),
    ])
    first, second = elections(t)
    assert (first.term, first.granted, first.not_counted, first.denied) == (1, (), (1, 2), ())
    assert (first.votes, first.outcome, first.leader) == (1, "no majority", None)
    assert (second.term, second.outcome, second.end) == (2, "running", 1000)
    answers = vote_answers(t)
    assert [(a.vote.node, a.reply, a.fate, a.fate_time, a.received) for a in answers] == [
        (1, 3, "drop", 110, False), (2, 4, "drop", 111, False)]
    assert node_summary(t)[1].votes_granted == 1   # what node 1 answered, heard or not


def test_a_late_yes_counts_while_the_candidate_is_still_in_its_term():
    asked = [(100, "state", 0, 1, "candidate"),
             (105, "vote", 1, 0, 1, True), (105, "send", 1, 0, "RequestVoteReply", 1, 3, True),
             (106, "vote", 2, 0, 1, True), (106, "send", 2, 0, "RequestVoteReply", 1, 4, True)]
    # the first yes makes node 0 leader; the second arrives after the win, in the same term
    (won,) = elections(hand_built(3, asked + [
        (110, "deliver", 1, 0, "RequestVoteReply", 1, 3), (110, "state", 0, 1, "leader"),
        (115, "deliver", 2, 0, "RequestVoteReply", 1, 4)]))
    assert (won.granted, won.not_counted, won.votes, won.outcome, won.end) == (
        (1, 2), (), 3, "won", 110)
    # both yes votes arrive after node 0 timed out into term 2: too late to count
    first, _ = elections(hand_built(3, asked + [
        (400, "state", 0, 2, "candidate"),
        (450, "deliver", 1, 0, "RequestVoteReply", 1, 3),
        (451, "deliver", 2, 0, "RequestVoteReply", 1, 4)]))
    assert (first.granted, first.not_counted, first.votes, first.outcome) == (
        (), (1, 2), 1, "no majority")


def test_two_leaders_in_one_term_are_flagged():
    t = hand_built(5, [
        (100, "state", 0, 1, "candidate"), (101, "state", 3, 1, "candidate"),
        (102, "state", 4, 1, "candidate"),
        (120, "state", 0, 1, "leader"), (130, "state", 3, 1, "leader"),
        (140, "state", 4, 1, "follower"),
    ])
    rows = {e.candidate: e for e in elections(t)}
    assert {c: e.outcome for c, e in rows.items()} == {0: "two leaders", 3: "two leaders",
                                                      4: "lost"}
    assert all(e.leader == 0 for e in rows.values())   # the first one to lead the term
    assert "two leaders" in OUTCOMES and "won" not in table(list(rows.values()))


def test_vote_answers_link_every_vote_to_its_reply():
    c = lossy(1)
    answers = vote_answers(c)
    assert len(answers) == len(c.trace.of("vote"))
    ids = [a.reply for a in answers]
    assert None not in ids and len(set(ids)) == len(ids)
    fates = {e.id: (e.kind, e.time) for e in c.trace.of("deliver", "drop")}
    for a in answers:
        assert (a.fate, a.fate_time) == fates.get(a.reply, (None, None))
    assert any(a.fate == "drop" for a in answers) and any(a.received for a in answers)
    lo, hi = 1000, 2000
    assert [a.vote for a in vote_answers(c, lo, hi)] == [a.vote for a in answers
                                                        if lo <= a.vote.time <= hi]


def test_index_window_is_the_events_in_the_window():
    c = leader_failure()
    for start, end in ((0, 0), (0, 10**9), (1400.5, 2500), (2000, 2000), (10**8, 10**9)):
        lo, hi = index_window(c if start else c.trace, start, end)
        assert c.trace[lo:hi] == c.trace.window(start, end)


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


def test_cluster_or_trace_and_json_round_trip():
    c = leader_failure()
    assert elections(c) == elections(c.trace)
    assert node_summary(c) == node_summary(c.trace)
    assert not hasattr(c.trace, "elections") and not hasattr(c.trace, "summary")
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
    assert Election(1, 0, 0.0, 1.0, (2,), (3, 4), (), "no majority", None).votes == 2


def test_link_cut_spans_fold_both_directions_of_a_link() -> None:
    c = Cluster(4, seed=1)
    c.run_for(100)
    c.cut_link(1, 0)                          # both ways: reported with a < b
    c.cut_link(3, 2, one_way=True)
    c.run_for(100)
    c.restore_link(1, 0, one_way=True)        # now only 0 -> 1
    c.run_for(100)
    c.cut_link(1, 0, one_way=True)            # both ways again
    c.run_for(50)
    c.restore_link(0, 1)
    c.cut_link(0, 1)                          # a cut and restore at one instant: no span
    c.restore_link(0, 1)
    c.run_for(10)
    assert link_cut_spans(c) == [LinkCut(0, 1, 100, 200, False), LinkCut(3, 2, 100, 360, True),
                                 LinkCut(0, 1, 200, 300, True), LinkCut(0, 1, 300, 350, False)]
    # the fold is incremental: a cut added later extends the same trace's spans
    c.restore_link(3, 2, one_way=True)
    c.run_for(10)
    assert link_cut_spans(c.trace)[1] == LinkCut(3, 2, 100, 360, True)
    assert link_cut_spans(Trace.from_json(c.trace.to_json())) == link_cut_spans(c)
    assert node_count(Trace.from_json('{"format":"raftlab-trace","version":1,"events":'
                                      '[[0,"cut",0,6,true]]}')) == 7
