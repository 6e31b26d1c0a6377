"""The Raft node alone, driven by hand through a recording environment (no simulator).

Each test is named after the rule of the paper's Figure 2 (or §5) that it checks."""

from __future__ import annotations

import random

import pytest

from raftlab import (AppendEntries, AppendEntriesReply, LogEntry, Persister, RaftConfig, RaftNode,
                     RequestVote, RequestVoteReply)
from raftlab.persister import decode_state, encode_state


class RecordingEnv:
    """Collects everything a node asks of its environment."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, object]] = []
        self.timers: dict[str, float] = {}
        self.applied: list = []
        self.events: list[tuple] = []
        self.node: RaftNode | None = None

    def call(self, dst, request):
        self.calls.append((dst, request))

    def set_timer(self, name, delay):
        self.timers[name] = delay

    def cancel_timer(self, name):
        self.timers.pop(name, None)

    def apply(self, msg):
        self.applied.append(msg)

    def record(self, kind, *values):
        self.events.append((kind, *values))

    def take_calls(self):
        calls, self.calls = self.calls, []
        return calls


def make_node(me=0, n=3, term=0, voted_for=None, log=(), timeout=(300, 600)):
    persister = Persister(encode_state(term, voted_for, [LogEntry(t, c) for t, c in log]))
    env = RecordingEnv()
    node = RaftNode(me, n, persister, env, RaftConfig(timeout, 100), random.Random(1))
    env.node = node
    node.boot()
    return node, env


def hard_state(node):
    return decode_state(node.persister.read())


def elect(node, env):
    """Make ``node`` leader through a real election."""
    node.on_timer("election")
    for dst, req in env.take_calls():
        node.handle_reply(dst, req, RequestVoteReply(req.term, True))
    assert node.role == "leader"
    env.take_calls()


def test_boot_starts_a_follower_with_a_randomized_election_timer() -> None:
    delays = set()
    for seed in range(20):
        env = RecordingEnv()
        node = RaftNode(0, 3, Persister(), env, RaftConfig((150, 300), 50), random.Random(seed))
        node.boot()
        assert node.role == "follower"
        assert env.events == [], "the node records nothing: the harness observes it"
        delays.add(env.timers["election"])
    assert all(150 <= d <= 300 for d in delays) and len(delays) == 20


def test_election_timeout_makes_a_candidate_that_votes_for_itself_and_asks_everyone() -> None:
    node, env = make_node(me=1, n=5, term=3, log=[(1, "a"), (3, "b")])
    env.timers.clear()
    node.on_timer("election")
    assert node.role == "candidate" and node.current_term == 4
    assert hard_state(node)[:2] == (4, 1), "term and self-vote persisted before asking"
    assert "election" in env.timers, "starting an election resets the election timer"
    calls = env.take_calls()
    assert sorted(dst for dst, _ in calls) == [0, 2, 3, 4]
    for _, req in calls:
        assert (req.term, req.candidate, req.last_log_index, req.last_log_term) == (4, 1, 2, 3)


def test_candidate_with_votes_from_a_majority_becomes_leader_and_heartbeats_at_once() -> None:
    node, env = make_node(me=0, n=5)
    node.on_timer("election")
    calls = env.take_calls()
    node.handle_reply(calls[0][0], calls[0][1], RequestVoteReply(1, True))
    assert node.role == "candidate", "2 of 5 is no majority"
    node.handle_reply(calls[1][0], calls[1][1], RequestVoteReply(1, False))
    assert node.role == "candidate"
    node.handle_reply(calls[2][0], calls[2][1], RequestVoteReply(1, True))
    assert node.role == "leader" and node.get_state() == (1, True)
    heartbeats = env.take_calls()
    assert sorted(d for d, _ in heartbeats) == [1, 2, 3, 4]
    assert all(isinstance(m, AppendEntries) and m.entries == () for _, m in heartbeats)
    assert "election" not in env.timers and env.timers["heartbeat"] == 100


def test_single_node_cluster_elects_itself() -> None:
    node, env = make_node(me=0, n=1)
    node.on_timer("election")
    assert node.role == "leader" and env.calls == []
    assert node.start("x") == (1, 1, True)
    assert [m.command for m in env.applied] == ["x"]


@pytest.mark.parametrize("voter_log, cand_last_index, cand_last_term, granted", [
    ([], 0, 0, True),                        # both empty
    ([(1, "a")], 0, 0, False),               # candidate's log is shorter
    ([(1, "a")], 1, 1, True),                # equal logs
    ([(1, "a"), (1, "b")], 1, 2, True),      # higher last term wins over length
    ([(2, "a")], 5, 1, False),               # lower last term loses despite length
    ([(2, "a"), (2, "b")], 1, 2, False),     # same last term, shorter
])
def test_vote_only_for_a_candidate_at_least_as_up_to_date(voter_log, cand_last_index,
                                                         cand_last_term, granted) -> None:
    node, env = make_node(me=0, term=2, log=voter_log)
    reply = node.handle_request(1, RequestVote(3, 1, cand_last_index, cand_last_term))
    assert reply.granted is granted and reply.term == 3
    assert hard_state(node)[:2] == (3, 1 if granted else None)


def test_at_most_one_vote_per_term_and_it_is_persisted_before_the_reply() -> None:
    node, env = make_node(me=0, term=1)
    first = node.handle_request(1, RequestVote(2, 1, 0, 0))
    assert first.granted and hard_state(node)[:2] == (2, 1)
    assert not node.handle_request(2, RequestVote(2, 2, 0, 0)).granted
    assert node.handle_request(1, RequestVote(2, 1, 0, 0)).granted, "a repeated request is fine"
    restarted = RaftNode(0, 3, node.persister.copy(), RecordingEnv(), node.config, random.Random(2))
    assert not restarted.handle_request(2, RequestVote(2, 2, 0, 0)).granted, \
        "a restarted node remembers its vote"


def test_granting_a_vote_resets_the_election_timer_but_denying_does_not() -> None:
    node, env = make_node(me=0, term=1, log=[(1, "a")])
    env.timers.clear()
    node.handle_request(1, RequestVote(2, 1, 0, 0))       # stale log: denied
    assert "election" not in env.timers
    node.handle_request(2, RequestVote(2, 2, 1, 1))       # granted
    assert "election" in env.timers


def test_any_higher_term_turns_a_leader_into_a_follower() -> None:
    for message in ("request", "reply"):
        node, env = make_node(me=0)
        elect(node, env)
        if message == "request":
            node.handle_request(1, RequestVote(7, 1, 0, 0))
        else:
            node.handle_reply(1, AppendEntries(1, 0, 0, 0, (), 0), AppendEntriesReply(7, False))
        assert node.role == "follower" and node.current_term == 7
        assert node.leader_id is None, "the leader of term 7 is not known yet"
        # a new term forgets the old vote; the RequestVote of term 7 then wins it
        assert hard_state(node)[:2] == (7, 1 if message == "request" else None)
        assert "heartbeat" not in env.timers and "election" in env.timers


def test_stale_terms_are_refused_with_the_current_term() -> None:
    node, env = make_node(me=0, term=5)
    assert node.handle_request(1, RequestVote(4, 1, 9, 9)).granted is False
    reply = node.handle_request(1, AppendEntries(4, 1, 0, 0, (), 0))
    assert reply.term == 5 and reply.success is False
    assert node.role == "follower" and node.current_term == 5


def test_appendentries_from_the_current_leader_resets_the_timer_and_makes_candidates_followers() -> None:
    node, env = make_node(me=0)
    node.on_timer("election")
    env.timers.clear()
    reply = node.handle_request(2, AppendEntries(1, 2, 0, 0, (), 0))
    assert reply.success and node.role == "follower" and node.leader_id == 2
    assert "election" in env.timers


def test_replies_from_an_older_term_are_ignored() -> None:
    node, env = make_node(me=0, n=3)
    node.on_timer("election")                 # term 1
    old = env.take_calls()
    node.on_timer("election")                 # term 2
    for dst, req in old:
        node.handle_reply(dst, req, RequestVoteReply(2, True))
    assert node.role == "candidate"


def test_a_candidate_asks_again_when_a_call_fails() -> None:
    node, env = make_node(me=0, n=3)
    node.on_timer("election")
    (dst, req), _ = env.take_calls()
    node.handle_failure(dst, req)
    assert env.take_calls() == [(dst, req)]
    node.handle_reply(dst, req, RequestVoteReply(1, False))
    node.handle_failure(dst, req)
    assert env.take_calls() == [], "no retry once the peer has answered"


@pytest.mark.parametrize("log, prev_index, prev_term, entries, result_log, success, conflict", [
    # consistent prefix: append
    ([(1, "a")], 1, 1, [(1, "b")], [(1, "a"), (1, "b")], True, (0, 0)),
    # missing prev entry: tell the leader where our log ends
    ([(1, "a")], 3, 1, [(1, "x")], [(1, "a")], False, (2, 0)),
    # prev entry of another term: report that term and its first index
    ([(1, "a"), (2, "b"), (2, "c")], 3, 3, [(3, "x")], [(1, "a"), (2, "b"), (2, "c")], False, (2, 2)),
    # conflicting entry: truncate it and everything after
    ([(1, "a"), (2, "b"), (2, "c")], 1, 1, [(3, "x")], [(1, "a"), (3, "x")], True, (0, 0)),
    # an old, shorter AppendEntries does not truncate matching entries
    ([(1, "a"), (1, "b"), (1, "c")], 0, 0, [(1, "a")], [(1, "a"), (1, "b"), (1, "c")], True, (0, 0)),
])
def test_appendentries_consistency_check(log, prev_index, prev_term, entries, result_log,
                                         success, conflict) -> None:
    node, env = make_node(me=1, term=3, log=log)
    reply = node.handle_request(0, AppendEntries(3, 0, prev_index, prev_term,
                                                 tuple(LogEntry(*e) for e in entries), 0))
    assert reply.success is success
    assert (reply.conflict_index, reply.conflict_term) == conflict
    assert [(e.term, e.command) for e in node.log[1:]] == result_log
    assert [(e.term, e.command) for e in hard_state(node)[2]] == result_log


def test_follower_commits_up_to_leader_commit_but_not_past_the_new_entries() -> None:
    node, env = make_node(me=1, term=1)
    node.handle_request(0, AppendEntries(1, 0, 0, 0, (LogEntry(1, "a"), LogEntry(1, "b")), 5))
    assert node.commit_index == 2
    assert [(m.command_index, m.command) for m in env.applied] == [(1, "a"), (2, "b")]


def test_leader_commits_entries_of_its_term_once_a_majority_has_them() -> None:
    node, env = make_node(me=0, n=5)
    elect(node, env)
    assert node.start("x") == (1, 1, True)
    assert node.start("y") == (2, 1, True)
    assert env.timers["heartbeat"] == 0, "new entries go out at once"
    node.on_timer("heartbeat")
    calls = env.take_calls()
    assert all(m.entries == (LogEntry(1, "x"), LogEntry(1, "y")) for _, m in calls)
    node.handle_reply(calls[0][0], calls[0][1], AppendEntriesReply(1, True))
    assert node.commit_index == 0
    node.handle_reply(calls[1][0], calls[1][1], AppendEntriesReply(1, True))
    assert node.commit_index == 2 and [m.command for m in env.applied] == ["x", "y"]


def test_leader_never_commits_an_old_term_entry_by_counting_replicas() -> None:
    node, env = make_node(me=0, n=3, term=2, log=[(1, "old")])
    elect(node, env)                       # term 3, log holds only a term-1 entry
    node.on_timer("heartbeat")
    dst, req = env.take_calls()[0]
    node.handle_reply(dst, req, AppendEntriesReply(3, False, 1, 0))
    dst, req = env.take_calls()[0]
    assert req.entries == (LogEntry(1, "old"),)
    node.handle_reply(dst, req, AppendEntriesReply(3, True))
    assert node.commit_index == 0, "Figure 8: only current-term entries commit by counting"
    node.start("new")
    node.on_timer("heartbeat")
    dst, req = [c for c in env.take_calls() if c[0] == dst][0]
    node.handle_reply(dst, req, AppendEntriesReply(3, True))
    assert node.commit_index == 2


def test_start_on_a_follower_is_refused() -> None:
    node, env = make_node(me=0, term=4)
    assert node.start("x") == (-1, 4, False) and node.log[1:] == []


def test_votes_that_arrive_after_a_candidate_stepped_down_do_not_make_it_leader() -> None:
    node, env = make_node(me=0, n=5)
    node.on_timer("election")                                   # candidate in term 1
    calls = env.take_calls()
    node.handle_reply(calls[0][0], calls[0][1], RequestVoteReply(1, True))
    assert node.handle_request(2, AppendEntries(1, 2, 0, 0, (), 0)).success
    assert node.role == "follower" and node.leader_id == 2     # a leader of term 1 exists
    for dst, req in calls[1:]:
        node.handle_reply(dst, req, RequestVoteReply(1, True))  # a majority, but too late
    assert node.get_state() == (1, False) and env.take_calls() == []
    assert "heartbeat" not in env.timers


def test_a_second_leader_in_the_same_term_fails_loudly() -> None:
    node, env = make_node(me=0)
    elect(node, env)
    with pytest.raises(RuntimeError, match="two leaders in term 1"):
        node.handle_request(2, AppendEntries(1, 2, 0, 0, (), 0))


def test_restart_reads_term_vote_and_log_back() -> None:
    node, env = make_node(me=2, term=0)
    node.handle_request(0, RequestVote(4, 0, 0, 0))
    node.handle_request(0, AppendEntries(4, 0, 0, 0, (LogEntry(4, 10), LogEntry(4, "s")), 0))
    again = RaftNode(2, 3, node.persister.copy(), RecordingEnv(), node.config, random.Random(3))
    assert (again.current_term, again.voted_for) == (4, 0)
    assert again.log[1:] == [LogEntry(4, 10), LogEntry(4, "s")]
    assert again.commit_index == 0 and again.role == "follower"
