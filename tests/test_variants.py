"""The protocol variants pre_vote (dissertation §9.6) and check_quorum (§6.2, §4.2.3) in the
reference node: the lab tests and the grader pass with them on, elections stay safe under
random faults, and each mechanism does what it is for (and plain Raft does not)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, rule

from raftlab import (Cluster, PreVote, RaftConfig, PreVoteReply, RequestVote, RequestVoteReply,
                     check_election_safety)
from raftlab.agreement_tests import AGREEMENT_TESTS
from raftlab.analysis import elections, node_summary, pre_vote_answers, pre_vote_rounds
from raftlab.bugs import BUGS, NoTermFromRequest
from raftlab.labtests import ELECTION_TESTS
from raftlab.messages import (MESSAGE_TYPES, REPLY_TYPES, REQUEST_TYPES, decode, encode)
from raftlab.monitors import MonitoredCluster, RuleViolation
from raftlab.persistence_tests import PERSISTENCE_TESTS

from test_fault_machine import N, FaultProgram

VARIANTS = {"pre_vote": dict(pre_vote=True), "check_quorum": dict(check_quorum=True),
            "both": dict(pre_vote=True, check_quorum=True)}
NETWORKS = {"reliable": True, "unreliable": False}


def _leader_steps(c: Cluster, node: int, since: float) -> list:
    return [e for e in c.trace.of("state") if e.node == node and e.time > since]


# ------------------------------------------------------------------ messages
def test_pre_vote_messages_are_kinds_of_their_own_with_the_vote_fields():
    request, reply = PreVote(4, 1, 7, 3), PreVoteReply(3, True)
    for msg, twin in ((request, RequestVote(4, 1, 7, 3)), (reply, RequestVoteReply(3, True))):
        assert decode(encode(msg)) == msg and msg.size() == len(encode(msg))
        assert msg.__dataclass_fields__.keys() == twin.__dataclass_fields__.keys()
        assert msg != twin and type(msg).TAG != type(twin).TAG
        assert type(msg).NAME == type(msg).__name__
        assert type(msg) in MESSAGE_TYPES
    assert PreVote in REQUEST_TYPES and REPLY_TYPES[PreVote] is PreVoteReply


# ------------------------------------------------------------------ the lab tests pass
@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", ELECTION_TESTS)
def test_the_3A_tests_pass_with_the_variants(name, variant, network):
    # seeds 0-9; check_quorum alone fails TestInitialElection3A on ~1% of unreliable seeds
    # (see test_check_quorum_alone_can_still_be_disrupted_by_a_follower_that_missed_heartbeats)
    for seed in range(10):
        run = ELECTION_TESTS[name](seed, NETWORKS[network], **VARIANTS[variant])
        assert run.cluster.config.pre_vote == VARIANTS[variant].get("pre_vote", False)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", AGREEMENT_TESTS)
def test_the_3B_tests_pass_with_the_variants(name, variant):
    for seed in (0, 1):
        AGREEMENT_TESTS[name](seed, **VARIANTS[variant])


#: one seed per test and variant, chosen to spread over the slow ones
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("name", PERSISTENCE_TESTS)
def test_the_3C_tests_pass_with_the_variants(name, variant):
    seed = list(VARIANTS).index(variant) + 3 * list(PERSISTENCE_TESTS).index(name)
    PERSISTENCE_TESTS[name](seed, **VARIANTS[variant])


# ------------------------------------------------------------------ the grader passes them
@pytest.mark.parametrize("variant", VARIANTS)
def test_the_monitors_pass_the_reference_with_the_variants(variant):
    kwargs = VARIANTS[variant]
    for name, test in ELECTION_TESTS.items():
        for seed in range(6):
            for reliable in (True, False):
                run = test.run_with(MonitoredCluster, seed, reliable, **kwargs)
                assert isinstance(run.cluster, MonitoredCluster)
    for k, test in enumerate([*AGREEMENT_TESTS.values(), *PERSISTENCE_TESTS.values()]):
        if test.name not in ("TestReliableChurn3C", "TestFigure8Unreliable3C") or k % 3 == 0:
            test.run_with(MonitoredCluster, k, None, **kwargs)


def test_the_monitors_pass_the_reference_when_the_variants_change_at_run_time():
    c = MonitoredCluster(5, seed=4, reliable=False)
    for step in range(8):
        c.set_pre_vote(step % 2 == 0)
        c.set_check_quorum(step % 4 < 2)
        leader = c.check_one_leader()
        c.one(step, 3)
        c.disconnect(leader)
        c.run_for(900)
        c.connect(leader)
    c.check_one_leader()


def test_the_monitors_accept_a_vote_ignored_under_check_quorum_and_flag_a_term_not_adopted():
    c = MonitoredCluster(3, seed=1, check_quorum=True)
    leader = c.check_one_leader()
    c.run_for(200)  # a heartbeat has just reached every follower
    follower = (leader + 1) % 3
    term = c.get_state(follower)[0]
    disruptor = 3 - leader - follower
    reply = c._envs[follower].handle_request(disruptor, RequestVote(term + 5, disruptor, 99, 99))
    assert reply == RequestVoteReply(term, False)   # ignored: no term update, no vote
    assert c.get_state(follower)[0] == term
    # the leader ignores it too (it is the current leader)
    assert c._envs[leader].handle_request(disruptor, RequestVote(term + 5, disruptor, 99, 99)) \
        == RequestVoteReply(term, False)
    # a higher-term request the node must adopt is still held to the rule under check_quorum
    with pytest.raises(RuleViolation) as caught:
        for seed in range(10):
            ELECTION_TESTS["TestReElection3A"].run_with(
                MonitoredCluster, seed, True, node_class=NoTermFromRequest, check_quorum=True)
    assert caught.value.rule == "step-down-request"


def test_without_check_quorum_an_ignored_vote_is_a_violation():
    c = MonitoredCluster(3, seed=1, check_quorum=True)
    leader = c.check_one_leader()
    c.run_for(200)
    follower, disruptor = (leader + 1) % 3, (leader + 2) % 3
    term = c.get_state(follower)[0]
    env = c._envs[follower]
    env.node.config = RaftConfig(c.config.election_timeout, c.config.heartbeat_interval,
                                 check_quorum=True)   # the follower keeps ignoring votes,
    c.set_check_quorum(False)                        # but the cluster (and monitor) do not
    with pytest.raises(RuleViolation) as caught:
        env.handle_request(disruptor, RequestVote(term + 5, disruptor, 99, 99))
    assert caught.value.rule == "step-down-request"


def test_a_pre_vote_of_a_higher_term_is_not_a_step_down_and_changes_nothing():
    c = MonitoredCluster(3, seed=2, pre_vote=True)
    leader = c.check_one_leader()
    voter, asker = (leader + 1) % 3, (leader + 2) % 3
    c.crash(leader)
    c.crash(asker)      # (the request is handed over directly)
    c.run_for(400)      # the voter's lease has expired (no AppendEntries for 400 ms)
    node = c._envs[voter].node
    before = (node.current_term, node.voted_for, node.role)
    timers = [e for e in c.trace.of("timer") if e.node == voter]
    reply = c._envs[voter].handle_request(asker, PreVote(node.current_term + 1, asker, 99, 99))
    assert reply == PreVoteReply(before[0], True)
    assert (node.current_term, node.voted_for, node.role) == before
    assert [e for e in c.trace.of("timer") if e.node == voter] == timers  # no timer reset
    assert c.trace[-1].kind == "prevote" and c.trace[-1].granted  # a prevote event, no vote
    assert not [e for e in c.trace.of("vote") if e.time == c.now]


#: clinic specimens whose mistake the variants leave reachable, with a variant to run them on
#: (NoTermFromRequest raises on a PreVote and NoStepDownOnReply drops every PreVoteReply, so
#: with pre_vote they fail as node errors or without a leader instead)
FLAGGED = [("IgnoresHeartbeats", "both"), ("VotesTwice", "both"), ("CountsReplies", "pre_vote"),
           ("NoTermFromRequest", "check_quorum"), ("NoStepDownOnReply", "check_quorum"),
           ("NoConflictTruncation", "both"), ("CommitsOldTermEntries", "both")]


@pytest.mark.unsafe
@pytest.mark.parametrize("name, variant", FLAGGED)
def test_the_monitors_still_flag_the_clinic_bugs_with_the_variants(name, variant):
    bug = BUGS[name]
    tests = {"3A": ELECTION_TESTS, "3B": AGREEMENT_TESTS, "3C": PERSISTENCE_TESTS}[bug.part]
    with pytest.raises(RuleViolation) as caught:
        for seed in range(5):
            for test in tests.values():
                test.run_with(MonitoredCluster, seed, None, node_class=bug, **VARIANTS[variant])
    assert caught.value.rule == bug.rule


# ------------------------------------------------------------------ random fault programs
class VariantFaultProgram(FaultProgram):
    """The fault programs of test_fault_machine with the variants on from the start and
    switched at run time."""

    @initialize(seed=st.integers(min_value=0, max_value=2**16), reliable=st.booleans(),
                pre_vote=st.booleans(), check_quorum=st.booleans())
    def make(self, seed: int, reliable: bool, pre_vote: bool = True,
             check_quorum: bool = True) -> None:
        from raftlab.safety import SafetyMonitor
        self.c = Cluster(N, seed=seed, reliable=reliable, pre_vote=pre_vote,
                         check_quorum=check_quorum)
        self.safety = SafetyMonitor(self.c.trace)
        self.terms = [0] * N

    @rule(flag=st.booleans())
    def pre_vote(self, flag: bool) -> None:
        self.c.set_pre_vote(flag)

    @rule(flag=st.booleans())
    def check_quorum(self, flag: bool) -> None:
        self.c.set_check_quorum(flag)


VariantFaultProgram.TestCase.settings = settings(
    max_examples=30, stateful_step_count=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow])
TestVariantFaultProgram = VariantFaultProgram.TestCase


# ------------------------------------------------------------------ what pre_vote is for
def _isolate_a_follower(seed: int, pre_vote: bool) -> tuple[Cluster, int, int, int, float]:
    c = Cluster(5, seed=seed, pre_vote=pre_vote)
    leader = c.check_one_leader()
    c.run_for(100)
    term = c.get_state(leader)[0]
    lonely = (leader + 1) % 5
    c.disconnect(lonely)
    c.run_for(5000)
    return c, leader, lonely, term, c.now


@pytest.mark.parametrize("seed", range(8))
def test_pre_vote_a_cut_off_follower_keeps_its_term_and_does_not_depose_the_leader(seed):
    c, leader, lonely, term, back = _isolate_a_follower(seed, pre_vote=True)
    assert c.get_state(lonely)[0] == term  # it never raised its term while alone
    rounds = [r for r in pre_vote_rounds(c) if r.candidate == lonely]
    assert len(rounds) >= 5 and all(r.term == term + 1 for r in rounds)
    assert not [e for e in elections(c) if e.candidate == lonely]  # no candidacy at all
    c.connect(lonely)
    c.run_for(2000)
    assert c.get_state(leader) == (term, True)  # the leader was not disturbed
    assert c.get_state(lonely) == (term, False)
    assert not _leader_steps(c, leader, back)


def test_without_pre_vote_a_cut_off_follower_deposes_the_leader_on_most_seeds():
    deposed = 0
    for seed in range(8):
        c, leader, lonely, term, back = _isolate_a_follower(seed, pre_vote=False)
        assert c.get_state(lonely)[0] > term + 3   # one term per timeout, alone
        c.connect(lonely)
        c.run_for(2000)
        deposed += bool(_leader_steps(c, leader, back))
    assert deposed >= 6


def test_pre_vote_rounds_are_counted_as_rounds_not_elections():
    c, leader, lonely, term, _ = _isolate_a_follower(1, pre_vote=True)
    row = node_summary(c)[lonely]
    rounds = [r for r in pre_vote_rounds(c) if r.candidate == lonely]
    assert row.pre_vote_rounds == row.timeouts == len(rounds) >= 5
    assert row.precandidate_ms > 4000 and row.candidate_ms == 0
    assert all(r.outcome in ("no majority", "running") for r in rounds)
    assert all(r.granted == r.denied == () for r in rounds)   # nobody heard it
    # a round that won: the candidacy it led to is an election of term + 1
    c.crash(leader)
    new = c.check_one_leader()
    won = [r for r in pre_vote_rounds(c) if r.outcome == "promoted"]
    assert won and won[-1].candidate == new and len(won[-1].granted) >= 2
    assert elections(c)[-1].term == won[-1].term and elections(c)[-1].outcome == "won"
    answers = pre_vote_answers(c)
    assert answers and all(a.vote.kind == "prevote" for a in answers)
    assert {e.kind for e in c.trace if e.kind in ("vote", "prevote")} == {"vote", "prevote"}
    check_election_safety(c.trace)


# ------------------------------------------------------------------ what check_quorum is for
def _minority_leader(seed: int, check_quorum: bool) -> tuple[Cluster, int, float]:
    c = Cluster(5, seed=seed, check_quorum=check_quorum)
    leader = c.check_one_leader()
    c.run_for(200)
    c.partition([leader, (leader + 1) % 5], [(leader + k) % 5 for k in (2, 3, 4)])
    return c, leader, c.now


@pytest.mark.parametrize("seed", range(8))
def test_check_quorum_a_leader_in_a_minority_steps_down_within_about_an_election_timeout(seed):
    c, leader, cut = _minority_leader(seed, check_quorum=True)
    c.run_for(3000)
    steps = _leader_steps(c, leader, cut)
    assert steps and steps[0].role == "follower"
    lo = c.config.election_timeout[0]
    assert steps[0].time - cut <= 2 * lo   # checked every lo ms: gone after lo to 2 lo
    assert not c.get_state(leader)[1]


def test_without_check_quorum_a_minority_leader_still_leads_3_s_later():
    for seed in range(8):
        c, leader, cut = _minority_leader(seed, check_quorum=False)
        c.run_for(3000)
        term, is_leader = c.get_state(leader)
        assert is_leader and not _leader_steps(c, leader, cut)


@pytest.mark.parametrize("check_quorum", [True, False])
def test_check_quorum_followers_that_heard_the_leader_ignore_a_disruptive_candidate(
        check_quorum):
    c = Cluster(5, seed=3, check_quorum=check_quorum)
    leader = c.check_one_leader()
    c.run_for(300)
    term = c.get_state(leader)[0]
    disruptor = (leader + 1) % 5
    node = c._envs[disruptor].node
    # the disruptor jumps ahead five terms and asks everyone for a vote, as after a long
    # partition without pre_vote
    node.current_term = term + 5
    node._become_candidate()
    c.run_for(30)   # the RequestVotes arrive well within the followers' lease
    votes = [e for e in c.trace.of("vote") if e.candidate == disruptor and e.term == term + 6]
    others = [i for i in range(5) if i not in (leader, disruptor)]
    if check_quorum:
        assert {e.node for e in votes} >= set(others) and not any(e.granted for e in votes)
        assert all(c.get_state(i)[0] == term for i in others)   # no term update either
    else:
        assert any(e.granted for e in votes)
        assert all(c.get_state(i)[0] == term + 6 for i in others)


def test_check_quorum_alone_can_still_be_disrupted_by_a_follower_that_missed_heartbeats():
    """A known limit of check_quorum without pre_vote (seed 40 on the unreliable network): a
    follower whose heartbeats were lost times out and raises its term; the others ignore its
    RequestVote, but its higher-term reply still deposes the leader, and the next election
    must wait for their leases to end. With pre_vote as well it never raised its term."""
    test = ELECTION_TESTS["TestInitialElection3A"]
    with pytest.raises(AssertionError, match="servers disagree on term"):
        test(40, False, check_quorum=True)
    test(40, False)
    test(40, False, pre_vote=True, check_quorum=True)
