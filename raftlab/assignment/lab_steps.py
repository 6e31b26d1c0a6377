"""The lab's ten steps, in order (``STEPS``, ``steps``), and running their checks (``check``,
``check_all``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..cluster import Cluster
from ..errors import CheckFailed
from ..protocol import check_node_class
from ..rules import rule
from ..sim import FloodError
from .election_checks import _check_election, _check_timeouts
from .harness import _Lab
from .leadership_checks import _check_failures, _check_heartbeats
from .log_checks import _check_commit, _check_replicate, _check_up_to_date
from .node_errors import _with_notes, describe_node_error
from .persistence_checks import _check_persist
from .results import StepReport, StepResult, _Fail
from .vote_checks import _check_leader, _check_votes

#: The parts ``raftlab lab init --part`` offers: the election lab, or the whole of 3A-3C.
PARTS = ("3A", "all")


@dataclass(frozen=True)
class Step:
    """One step of the lab: ``id`` (used by ``check``), ``number``, ``title``, the ``part``
    of 6.5840 it belongs to ("3A", "3B", "3C"), ``implement`` (what to write, in raft.py's
    names), ``rule`` (the Figure 2 rule it implements, in plain words), ``checks`` (what the
    check looks at) and ``demo`` (notebook code that shows the student's own cluster)."""

    id: str
    number: int
    title: str
    part: str
    implement: str
    rule: str
    checks: str
    demo: str
    _check: Callable[["_Lab"], str] = field(repr=False, compare=False)

    def check(self, node_class: Any) -> StepResult:
        """Run this step's check on ``node_class``; never raises for a wrong node."""
        return _run_check(self, node_class)


def _run_check(step: Step, node_class: Any) -> StepResult:
    def result(passed: bool, message: str, hint: str = "",
               cluster: Optional[Cluster] = None) -> StepResult:
        return StepResult(step.id, step.number, step.title, passed, message, hint, cluster)

    try:
        check_node_class(node_class)
    except TypeError as exc:
        return result(False, str(exc), "raft.py's class must keep every method of the "
                      "skeleton (boot, kill, get_state, start, handle_request, handle_reply, "
                      "handle_failure, on_timer) and its constructor's six arguments.")
    lab = _Lab(node_class)
    try:
        return result(True, step._check(lab), cluster=lab.last)
    except _Fail as failed:
        cluster = failed.cluster if failed.cluster is not None else lab.last
        return result(False, failed.message, failed.hint, cluster)
    except CheckFailed as exc:
        cluster = exc.cluster if exc.cluster is not None else lab.last
        return result(False, _with_notes(exc), rule("check-failed").hint, cluster)
    except FloodError as exc:
        return result(False, _with_notes(exc), rule("flood").hint, lab.last)
    except Exception as exc:  # noqa: BLE001 - the student's node raised: report, never raise
        message, hint = describe_node_error(exc, lab.last, node_class)
        return result(False, message, hint, lab.last)


# ============================================================================ the steps
_DEMO = """c = Cluster({n}, seed=1, node_class=Raft)
run(c, {ms})                     # c.run_for({ms}); an error in your node is shown, not raised
timeline(c)"""

_STEP_LIST = [
    Step("timeouts", 1, "randomized election timeouts", "3A",
         "`election_timeout()`: return a new timeout in ms, drawn uniformly from "
         "`self.config.election_timeout` (a `(lo, hi)` pair) with `self.rng`. `boot()` and "
         "`reset_election_timer()` already call it.",
         "A follower that hears nothing from a leader for one election timeout starts an "
         "election. Each server draws its timeout at random, afresh every time it resets the "
         "timer, so one server usually times out well before the others and has won before "
         "anyone else starts (section 5.2). `self.rng` is the only randomness a node may use, "
         "and it never reads the clock: the same seed must replay the same run.",
         "Five servers' first timers lie in the configured range and differ (for two ranges); "
         "two runs of one seed give identical traces.",
         _DEMO.format(n=3, ms=1000), _check_timeouts),
    Step("election", 2, "start an election", "3A",
         "`on_election_timeout()`: become a candidate, increment `current_term`, vote for "
         "yourself, reset the election timer and send `RequestVote(term, candidate, "
         "last_log_index, last_log_term)` to every peer with `self.env.call(peer, request)`.",
         "When the election timeout passes without a word from the current leader and without "
         "granting a vote, a follower becomes a candidate: it moves to a new term, votes for "
         "itself, restarts its election timer and asks every other server for its vote "
         "(Figure 2, Rules for Servers: Followers, Candidates).",
         "In three clusters of three, a server becomes a candidate of term 1 within 1 s, votes "
         "for itself, resets its timer and sends a RequestVote of term 1 naming itself to every "
         "peer.",
         _DEMO.format(n=3, ms=1500), _check_election),
    Step("votes", 3, "grant votes: the RequestVote handler", "3A",
         "`request_vote(args)`: adopt a higher term first; refuse an older term; grant if you "
         "have not voted in this term (or voted for this same candidate); when you grant it, "
         "remember the vote, save it with `self.persist()` and reset the election timer.",
         "A server votes at most once per term, first come first served. It refuses a candidate "
         "whose term is older than its own. Any request or reply with a newer term makes a "
         "server adopt that term and become a follower, with no vote yet in it, before it does "
         "anything else. The term and the vote are saved to stable storage before the answer "
         "goes out, so a crash cannot make a server vote twice in a term (Figure 2, RequestVote "
         "RPC, receiver implementation 1-2; Rules for Servers, All Servers; Persistent state).",
         "One server, driven alone, answers a sequence of RequestVotes (fresh, repeated, a "
         "second candidate, stale, newer) and saves the vote it grants; in three clusters "
         "every vote obeys one vote per server and term.",
         _DEMO.format(n=3, ms=1500), _check_votes),
    Step("leader", 4, "count the votes: a leader", "3A",
         "`request_vote_reply(src, args, reply)`: step down on a higher term; count each "
         "granted vote of the current election once; with a majority (your own vote included) "
         "become leader: cancel the election timer and start the heartbeats (step 5).",
         "A candidate that collects votes from a majority of the servers, its own included, "
         "becomes leader of its term. Only answers to the current election count, and each "
         "voter counts once. Since each server votes once per term, at most one candidate can "
         "win a term (Election Safety; Figure 2, Rules for Servers, Candidates).",
         "One candidate, driven alone: a refusal is not a vote, its own vote and one more of "
         "three win, a late vote for its previous election does not count, and a newer term in "
         "a reply makes it a follower. In clusters of three and five servers, a leader emerges "
         "within 5 s with the votes of a majority, and no term ever has two leaders.",
         _DEMO.format(n=3, ms=2000), _check_leader),
    Step("heartbeats", 5, "heartbeats keep the leader in place", "3A",
         "`send_heartbeats()` (every peer, then the HEARTBEAT timer again), the "
         "`append_entries(args)` handler and `append_entries_reply(...)`; a new leader sends "
         "its first heartbeats at once.",
         "A leader sends AppendEntries (empty: a heartbeat) to every server as soon as it wins "
         "and again whenever it has been idle for a heartbeat interval, so no follower's "
         "election timer runs out, but at most ten times a second (the tester's limit). A "
         "server that gets AppendEntries from the current leader restarts its election timer; a "
         "candidate of the same term learns that it lost and becomes a follower; an "
         "AppendEntries of an older term is refused (Figure 2, AppendEntries RPC 1; Rules for "
         "Servers, Leaders).",
         "One server accepts a heartbeat (adopting the term, resetting its timer) and refuses a "
         "stale one; in three clusters the leader keeps its term for 3 s, no timer fires, and "
         "every follower gets an AppendEntries at least every election timeout but at most "
         "ten per second.",
         _DEMO.format(n=3, ms=3000), _check_heartbeats),
    Step("failures", 6, "elections after failures", "3A",
         "Usually nothing new. This step runs TestReElection3A and TestManyElections3A on a few "
         "seeds, where leaders are cut off and come back; a failure here points at stepping "
         "down on a higher term, or at counting votes.",
         "If the leader fails or is cut off, the others elect a new leader within a few seconds "
         "as long as a majority of them can talk; a server cut off from the majority never "
         "becomes leader; an old leader that comes back sees the newer term and steps down "
         "(section 5.2).",
         "TestReElection3A on seeds 1 and 2 (reliable network) and seed 3 (unreliable), and "
         "TestManyElections3A on seed 1.",
         """c = Cluster(3, seed=1, node_class=Raft)
run(c, 1500)
leader = c.leader()
if leader is not None:
    c.disconnect(leader)         # cut the leader off: the other two should elect a new one
    run(c, 2000)
    c.connect(leader)            # it comes back and should step down
    run(c, 1000)
timeline(c)""", _check_failures),
    Step("replicate", 7, "start() and log replication", "3B",
         "`start(command)` on the leader (append, return the index), AppendEntries with the "
         "entries from `next_index[peer]` on (`send_heartbeats`), the consistency check, "
         "truncation and append in `append_entries`, and `next_index` / `match_index` in "
         "`append_entries_reply` (back up on a mismatch and retry).",
         "The leader appends each command to its own log and sends every follower the entries "
         "it lacks, with the index and term of the entry before them. A follower accepts only "
         "if its log holds that previous entry; it deletes a conflicting entry and everything "
         "after it, then appends. On a refusal the leader backs up `next_index` and tries again "
         "(Figure 2, AppendEntries RPC 2-4; Rules for Servers, Leaders; Log Matching).",
         "`start()` answers at the right index; the entry reaches every log; a follower that "
         "missed entries catches up; an old leader's uncommitted entries are replaced.",
         """c = Cluster(3, seed=1, node_class=Raft)
run(c, 1500)
leader = c.leader()
if leader is not None:
    print(c.start(leader, "x"))  # (index, term, is_leader)
    run(c, 1000)
    print([c.nodes[i].raft.log[1:] for i in range(3)])
timeline(c)""", _check_replicate),
    Step("commit", 8, "commit and apply", "3B",
         "The leader's commit rule (in `append_entries_reply`), `leader_commit` in "
         "`append_entries` (rule 5), and `apply_committed()`, which hands each committed "
         "command to `self.env.apply(ApplyMsg(True, command, index))` in order.",
         "An entry of the leader's current term is committed once a majority of servers store "
         "it; entries before it are committed with it. Followers learn the commit index from "
         "`leader_commit`. Every server applies committed entries in index order, each exactly "
         "once (Figure 2, Rules for Servers, All Servers and Leaders; AppendEntries RPC 5).",
         "A new leader, driven alone, whose log holds entries of older terms commits none of "
         "them by counting replicas, then commits them with its own term's first entry and "
         "applies all three in order. In a cluster, four commands are agreed on (config.go's "
         "`one`), one while a follower is cut off; every server applies all four in order.",
         """c = Cluster(3, seed=1, node_class=Raft)
run(c, 1500)
try:
    print("committed at index", c.one("x", 3))
except AssertionError as exc:
    print(exc)
print(c.applied)
timeline(c)""", _check_commit),
    Step("up-to-date", 9, "vote only for an up-to-date log", "3B",
         "In `request_vote(args)`: grant only if `(args.last_log_term, args.last_log_index)` "
         "is at least as up-to-date as your own last entry; send the right values in your own "
         "RequestVote.",
         "A server refuses its vote to a candidate whose log is less up-to-date than its own: "
         "the log whose last entry has the later term is more up-to-date; if the terms are "
         "equal, the longer log is. So a leader always holds every committed entry (section "
         "5.4.1, Figure 2 RequestVote RPC 2).",
         "One server with log [(1, 'a'), (2, 'b')] answers four RequestVotes: refuses a longer "
         "log with an older last term and a shorter one with the same, grants an equal one and "
         "a shorter one with a newer last term.",
         _DEMO.format(n=3, ms=2000), _check_up_to_date),
    Step("persist", 10, "persistence", "3C",
         "Call `self.persist()` whenever `current_term`, `voted_for` or the log changes, before "
         "the reply or call that depends on it; `read_persist()` (already written) restores "
         "the state on restart.",
         "current_term, voted_for and the log are the persistent state: a server saves them to "
         "stable storage before it answers an RPC or sends one that depends on them, so a "
         "crash and restart never makes it forget a vote or an entry it acknowledged (Figure "
         "2, Persistent state on all servers).",
         "After commands commit, each server's saved state equals its own; after every server "
         "crashes and restarts they keep their terms and logs and commit again.",
         """c = Cluster(3, seed=1, node_class=Raft)
run(c, 1500)
for i in range(3):
    c.crash(i)
for i in range(3):
    c.restart(i)                 # each restarts from what it saved
run(c, 2000)
timeline(c)""", _check_persist),
]

#: Every step, by id, in the order of the lab.
STEPS: dict[str, Step] = {s.id: s for s in _STEP_LIST}


def steps(part: str = "3A") -> list[Step]:
    """The steps of ``part``: "3A" (leader election, steps 1-6) or "all" (3A-3C, 1-10)."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; parts are {', '.join(PARTS)}")
    return [s for s in _STEP_LIST if part == "all" or s.part == part]


def _step(step: Any) -> Step:
    if isinstance(step, Step):
        return step
    if isinstance(step, int) and not isinstance(step, bool):
        for s in _STEP_LIST:
            if s.number == step:
                return s
    elif isinstance(step, str) and step in STEPS:
        return STEPS[step]
    raise ValueError(f"unknown step {step!r}; steps are "
                     + ", ".join(f"{s.number} {s.id!r}" for s in _STEP_LIST))


def check(node_class: Any, step: Any) -> StepResult:
    """Check one step (its id, e.g. ``"votes"``, or its number) on ``node_class``. Never
    raises for a wrong node: the result says what went wrong (``ValueError`` for an unknown
    step)."""
    return _step(step).check(node_class)


def check_all(node_class: Any, part: str = "3A") -> StepReport:
    """Check every step of ``part`` in order; a ``StepReport`` (a list of ``StepResult``)."""
    return StepReport(s.check(node_class) for s in steps(part))
