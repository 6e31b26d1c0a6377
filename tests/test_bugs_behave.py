"""Every specimen of ``raftlab.bugs`` shows its mistake in a fixed run, and the reference node
does not show it in the same run.

Each scenario below is a function of a node class: it builds the same clusters and makes the
same calls whatever the class, checks that the run set up what it is about (two candidates in
one term, a leader that came back, ...), and returns the evidence of the mistake it looks for,
read from the trace or from config.go's checks (empty when there is none). The tests then ask
for evidence from the bug and for none from ``RaftNode``.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from raftlab import CheckFailed, Cluster, RaftNode, check_election_safety
from raftlab.bugs import BUGS
from raftlab.labtests import many_elections
from raftlab.rules import RULES

_REPLIES = ("RequestVoteReply", "AppendEntriesReply")
_REQUESTS = ("RequestVote", "AppendEntries")


# --------------------------------------------------------------------------- reading traces
def leaders(trace) -> list[tuple[float, int, int]]:
    """(time, node, term) of every node becoming leader."""
    return [(e.time, e.node, e.term) for e in trace.of("state") if e.role == "leader"]


def higher_terms_ignored(trace, kinds: tuple[str, ...]) -> list[tuple]:
    """(time, node, its term, message term) for every delivered message of ``kinds`` with a
    term above the receiver's after which the receiver did not take that term at once (and,
    for replies, step down: only candidates and leaders are asked to)."""
    events = list(trace)
    term: dict[int, int] = {}
    role: dict[int, str] = {}
    found = []
    for k, e in enumerate(events):
        if e.kind == "state":
            term[e.node], role[e.node] = e.term, e.role
        elif (e.kind == "deliver" and e.msg in kinds and e.term > term[e.dst]
              and (kinds == _REQUESTS or role[e.dst] in ("candidate", "leader"))):
            took = False
            for f in events[k + 1:]:
                if f.time != e.time:
                    break
                if f.kind == "state" and f.node == e.dst and f.term >= e.term:
                    took = True
                    break
            if not took:
                found.append((e.time, e.dst, term[e.dst], e.term))
    return found


def double_votes(trace) -> list[tuple]:
    """(time, voter, term, first candidate, second candidate) for a second vote in a term."""
    first: dict[tuple[int, int], int] = {}
    found = []
    for e in trace.of("vote"):
        if e.granted:
            other = first.setdefault((e.node, e.term), e.candidate)
            if other != e.candidate:
                found.append((e.time, e.node, e.term, other, e.candidate))
    return found


def stale_votes(trace) -> list[tuple]:
    """(time, voter, candidate, candidate's term, voter's term) for each vote granted to a
    candidate of an older term than the voter's."""
    term: dict[int, int] = {}
    found = []
    for e in trace.of("state", "vote"):
        if e.kind == "state":
            term[e.node] = e.term
        elif e.granted and e.term < term[e.node]:
            found.append((e.time, e.node, e.candidate, e.term, term[e.node]))
    return found


def two_leaders(trace) -> list[tuple]:
    """(time, term, first leader, second leader) for each second leader of a term."""
    first: dict[int, int] = {}
    return [(t, term, first[term], node) for t, node, term in leaders(trace)
            if first.setdefault(term, node) != node]


def early_timeouts(trace, lo: float) -> list[tuple]:
    """(time, node, ms since it last heard its leader) for election timeouts less than ``lo``
    ms after an AppendEntries of the node's own term was delivered to it."""
    term: dict[int, int] = {}
    heard: dict[int, float] = {}
    found = []
    for e in trace.of("state", "deliver", "timeout"):
        if e.kind == "state":
            term[e.node] = e.term
        elif e.kind == "deliver":
            if e.msg == "AppendEntries" and e.term == term[e.dst]:
                heard[e.dst] = e.time
        elif e.node in heard and e.time - heard[e.node] < lo:
            found.append((e.time, e.node, round(e.time - heard[e.node], 3)))
    return found


def safe(c: Cluster) -> Cluster:
    check_election_safety(c.trace)
    return c


# --------------------------------------------------------------------------- scenarios
def too_many_heartbeats(cls) -> dict:
    """A quiet second under one leader: AppendEntries delivered per follower, when > 50."""
    c = Cluster(3, seed=1, node_class=cls)
    c.run_for(2000)
    assert len(leaders(c.trace)) == 1, "one leader the whole run"
    per_link = Counter((e.src, e.dst) for e in c.trace.window(1000, 2000)
                       if e.kind == "deliver" and e.msg == "AppendEntries")
    assert len(per_link) == 2, per_link
    return {link: k for link, k in per_link.items() if k > 50}


def silent_leader(cls) -> list:
    """Quiet run: each leader's AppendEntries rounds, where it stopped after two rounds while
    it still led and its followers then started elections."""
    c = Cluster(3, seed=1, node_class=cls)
    c.run_for(3000)
    found = []
    terms = leaders(c.trace)
    for (t0, node, term), nxt in zip(terms, terms[1:] + [(c.now, None, None)]):
        sent = [e for e in c.trace.window(t0, nxt[0])
                if e.kind == "send" and e.src == node and e.msg == "AppendEntries"
                and e.term == term]
        rounds = len(sent) // 2
        timeouts = [e for e in c.trace.window(t0, nxt[0]) if e.kind == "timeout"]
        if rounds <= 2 and timeouts:
            found.append((term, node, rounds))
    return found


def equal_election_timeouts(cls) -> list:
    """Five quiet seconds: the election timer's delays, when all equal and nobody leads."""
    c = Cluster(3, seed=1, node_class=cls)
    c.run_for(5000)
    sets = [round(e.due - e.time, 6) for e in c.trace.of("timer")
            if e.name == "election" and e.action == "set"]
    assert len(sets) >= 3 * 3, "every node set its election timer several times"
    return sorted(set(sets)) if len(set(sets)) == 1 and not leaders(c.trace) else []


def unrepeatable(cls) -> list:
    """The same cluster twice, the global random module in two different states: what
    differs in the traces (the first differing event of each), if anything."""
    saved = random.getstate()
    try:
        runs = []
        for global_seed in (1, 2):
            random.seed(global_seed)
            c = safe(Cluster(3, seed=5, node_class=cls))
            c.run_for(2000)
            runs.append(c.trace)
    finally:
        random.setstate(saved)
    a, b = runs
    if a.to_json() == b.to_json():
        return []
    return next(([x, y] for x, y in zip(a, b) if x != y), [len(a), len(b)])


def timeouts_despite_leader(cls) -> list:
    """A quiet run: followers that time out although their leader's AppendEntries reached
    them less than election_timeout[0] ms before."""
    c = Cluster(3, seed=1, node_class=cls)
    c.run_for(3000)
    assert leaders(c.trace), "a leader was elected"
    return early_timeouts(c.trace, c.config.election_timeout[0])


def bare_majority_never_wins(cls) -> list:
    """The leader of three is cut off: elections of the other two that got the one vote they
    needed and still did not make a leader, over three seconds."""
    c = Cluster(3, seed=1, node_class=cls)
    old = c.check_one_leader()
    c.disconnect(old)
    since = len(c.trace)
    c.run_for(3000)
    assert c.trace.of("timeout", start=since), "the two left started an election"
    granted = [(e.term, e.candidate) for e in c.trace.of("vote", start=since) if e.granted]
    won = {(term, node) for _, node, term in leaders(c.trace)}
    return [g for g in granted if g not in won]


def leaders_without_votes(cls) -> list:
    """Seed 19 starts two candidates in term 1: second leaders of a term."""
    c = Cluster(3, seed=19, node_class=cls)
    c.run_for(450)
    candidates = {e.node for e in c.trace.of("state") if e.role == "candidate" and e.term == 1}
    assert len(candidates) == 2, candidates
    led: set[tuple[int, int]] = set()

    def second_leader(e) -> bool:
        if e.kind == "state" and e.role == "leader":
            led.add((e.term, e.node))
            return sum(1 for term, _ in led if term == e.term) > 1
        return False

    # (stop there: a leader that hears from a second leader of its term raises an error)
    c.run_until_event(second_leader, 200)
    return two_leaders(c.trace)


def second_vote_in_a_term(cls) -> list:
    """Seed 19 starts two candidates in term 1 and node 1 hears both: second votes."""
    c = Cluster(3, seed=19, node_class=cls)
    c.run_for(460)
    asked = {e.candidate for e in c.trace.of("vote") if e.node == 1 and e.term == 1}
    assert asked == {0, 2}, asked
    return double_votes(c.trace)


def vote_for_stale_candidate(cls) -> list:
    """Five nodes. One crashes in term 1 while the others move on two terms; it comes back in
    a partition with a node that learned the newest term without voting in it, and stands
    for election in an old term: votes granted to it."""
    c = Cluster(5, seed=1, node_class=cls)
    first = c.check_one_leader()
    late = (first + 1) % 5
    c.crash(late)
    c.disconnect(first)
    second = c.check_one_leader()
    c.connect(first)
    c.disconnect(second)
    c.check_one_leader()
    c.connect(second)
    c.run_for(500)  # ``second`` learns the newest term from its leader, without voting in it
    c.partition([second, late], [i for i in range(5) if i not in (second, late)])
    newest = c.get_state(second)[0]
    since = len(c.trace)
    c.restart(late)
    c.run_for(1500)
    asked = [e for e in c.trace.of("vote", start=since) if e.node == second]
    assert asked and asked[0].term < newest, (asked, newest)
    return stale_votes(c.trace)


def higher_request_terms_ignored(cls) -> list:
    """Three quiet seconds: requests whose higher term the receiver did not take at once."""
    c = Cluster(3, seed=1, node_class=cls)
    c.run_for(3000)
    assert c.trace.of("vote"), "there were elections"
    return higher_terms_ignored(c.trace, _REQUESTS)


def higher_reply_terms_ignored(cls) -> list:
    """The leader of three is cut off for 1.5 s and comes back, its first heartbeat answered
    before the new leader's reaches it (seed 2): replies whose higher term a candidate or
    leader did not take at once."""
    c = Cluster(3, seed=2, node_class=cls)
    old = c.check_one_leader()
    c.disconnect(old)
    c.run_for(1500)
    newer = c.get_state((old + 1) % 3)[0]
    assert newer > c.get_state(old)[0], "the others moved to a newer term"
    c.connect(old)
    c.run_for(1000)
    return higher_terms_ignored(c.trace, _REPLIES)


def restart_at_term_zero(cls) -> list:
    """After an election, node 0 restarts: its first state, when it is term 0."""
    c = Cluster(3, seed=1, node_class=cls)
    c.check_one_leader()
    before = c.get_state(0)[0]
    assert before >= 1
    since = len(c.trace)
    c.restart(0)
    first = next(e for e in c.trace.of("state", start=since) if e.node == 0)
    return [first] if first.term == 0 else []


def rejoin(cls) -> tuple[Cluster, int, float, str]:
    """TestRejoin3B's shape: the leader is cut off and takes 102-104, which nobody commits;
    the others commit 103 at index 2; their leader is cut off and the old one returns; then
    104 and 105 must be committed. Returns the cluster, the old leader, the time it returned
    and the first failed check's message ('' if none)."""
    c = Cluster(3, seed=1, node_class=cls)
    c.one(101, 3)
    old = c.check_one_leader()
    c.disconnect(old)
    for command in (102, 103, 104):
        c.start(old, command)
    newer = c.check_one_leader()
    assert c.one(103, 2) == 2
    c.disconnect(newer)
    c.connect(old)
    back = c.now
    try:
        c.one(104, 2)
        c.connect(newer)
        c.one(105, 3)
    except CheckFailed as exc:
        return c, old, back, str(exc)
    return c, old, back, ""


def stale_log_elected(cls) -> list:
    """Rejoin: the returning leader's log is longer but ends in an older term than the
    remaining node's; when it is elected again, its leaderships after the return, and the
    failed check."""
    c, old, back, failure = rejoin(cls)
    again = [(t, node, term) for t, node, term in leaders(c.trace) if t > back and node == old]
    return again + [failure] if again else []


def conflicting_entry_kept(cls) -> list:
    """Rejoin: the returning leader keeps its uncommitted 102 at index 2, where the others
    committed 103; the failed check, if it applied 102 there while another node leads."""
    c, old, back, failure = rejoin(cls)
    assert all(node != old for t, node, _ in leaders(c.trace) if t > back), \
        "the node with the newer last term wins, as it should"
    applied = [e.command for e in c.trace.of("apply") if e.node == old and e.index == 2]
    return [failure] if applied == [102] else []


def figure8(cls) -> list:
    """The paper's Figure 8 on five nodes (seed 1): s1 leads, its entry "a" reaches s2 only;
    s5 is elected by the other three, takes "b" at the same index and crashes before sending
    it; s1 or s2 is elected again and copies "a" to a majority; both crash; s5 returns,
    is elected (its last term is newer) and replaces "a" by "b". Returns where "a" was applied
    by a leader before it had an entry of its own term, and the failed check."""
    c = Cluster(5, seed=1, node_class=cls)
    assert c.one("x", 5) == 1
    s1 = c.check_one_leader()
    s2 = (s1 + 1) % 5
    rest = [i for i in range(5) if i not in (s1, s2)]
    c.partition([s1, s2], rest)
    assert c.start(s1, "a")[0] == 2
    elected = c.run_until_event(lambda e: e.kind == "state" and e.role == "leader"
                                and e.node in rest, 5000)
    s5 = elected.node
    assert c.start(s5, "b")[0] == 2
    c.crash(s5)
    c.heal()
    again = c.run_until_event(lambda e: e.kind == "state" and e.role == "leader", 5000)
    assert again.node in (s1, s2) and again.term > elected.term
    c.run_for(1000)
    early = [(e.time, e.node, again.term) for e in c.trace.of("apply")
             if e.node == again.node and e.command == "a"
             and not any(s.node == again.node and s.term == again.term
                         for s in c.trace.of("start"))]
    c.crash(s1)
    c.crash(s2)
    c.restart(s5)
    try:
        c.one("c", 3)
        assert c.n_committed(2) == (3, "b")
    except CheckFailed as exc:
        return early + [str(exc)]
    return early


#: Each specimen's scenario: a function of a node class, returning the evidence of that
#: specimen's mistake (empty if the run shows none).
SCENARIOS = {
    "FastHeartbeats": too_many_heartbeats,
    "NoHeartbeats": silent_leader,
    "FixedTimeout": equal_election_timeouts,
    "GlobalRandom": unrepeatable,
    "IgnoresHeartbeats": timeouts_despite_leader,
    "NoSelfVote": bare_majority_never_wins,
    "CountsReplies": leaders_without_votes,
    "VotesTwice": second_vote_in_a_term,
    "VotesForStaleCandidate": vote_for_stale_candidate,
    "NoTermFromRequest": higher_request_terms_ignored,
    "NoStepDownOnReply": higher_reply_terms_ignored,
    "NoPersistence": restart_at_term_zero,
    "WrongUpToDateCheck": stale_log_elected,
    "NoConflictTruncation": conflicting_entry_kept,
    "CommitsOldTermEntries": figure8,
}


# --------------------------------------------------------------------------- tests
def test_every_specimen_has_a_scenario() -> None:
    assert list(SCENARIOS) == list(BUGS)


@pytest.mark.unsafe
@pytest.mark.parametrize("name", list(BUGS))
def test_the_specimen_shows_its_mistake(name: str) -> None:
    evidence = SCENARIOS[name](BUGS[name])
    assert evidence, f"{name} did not show its mistake in {SCENARIOS[name].__name__}"


@pytest.mark.parametrize("name", list(BUGS))
def test_the_reference_node_does_not_show_it(name: str) -> None:
    evidence = SCENARIOS[name](RaftNode)
    assert not evidence, f"RaftNode showed {name}'s mistake: {evidence}"


@pytest.mark.parametrize("name", [n for n, cls in BUGS.items() if cls.part != "3A"])
def test_a_specimen_of_a_later_part_elects_exactly_like_the_reference_node(name: str) -> None:
    """A mistake graded after 3A changes nothing in an election test: a lossy run of seven
    nodes cut three at a time gives the reference node's trace, event for event."""
    runs = [many_elections(3, reliable=False, node_class=cls).cluster.trace.raw
            for cls in (BUGS[name], RaftNode)]
    assert len(runs[0]) > 1000 and runs[0] == runs[1]


def test_the_specimens_say_what_they_are() -> None:
    assert len(BUGS) >= 13
    rules = set()
    for name, cls in BUGS.items():
        assert cls.__name__ == name and issubclass(cls, RaftNode) and cls is not RaftNode
        assert cls.__bases__ == (RaftNode,), f"{name} is one mistake on RaftNode itself"
        assert cls.rule in RULES, f"{name}.rule {cls.rule!r} is not a rule id"
        assert cls.part in ("3A", "3B", "3C"), name
        assert cls.mistake and "\n" not in cls.mistake and cls.mistake == cls.mistake.strip()
        assert cls.__doc__, name
        overrides = [k for k, v in vars(cls).items() if callable(v) and not k.startswith("__")]
        assert overrides, f"{name} overrides no method"
        assert all(hasattr(RaftNode, k) for k in overrides), f"{name} adds methods {overrides}"
        rules.add(cls.rule)
    assert len(rules) == len(BUGS), "one specimen per rule"
    import raftlab.bugs
    for name in BUGS:
        assert name in raftlab.bugs.__doc__ and name in raftlab.bugs.__all__
