"""The rules a graded node is held to, each with the Figure 2 line it comes from and a hint.

A ``Rule`` names one thing a correct Raft node does (``rule.figure2``: the rule of the paper's
Figure 2 or the lab's text, in one line) and the mistake that most often breaks it
(``rule.hint``). The grader's monitors (``raftlab.monitors``) and its diagnosis of failed tests
(``raftlab.diagnosis``) each end in one of these, so every failure says which rule broke and
what to look at. ``RULES[rule_id]`` finds one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Rule", "RULES", "rule"]


@dataclass(frozen=True)
class Rule:
    """One rule: ``id`` (short, stable), ``title``, ``figure2`` (the rule, in one line),
    ``hint`` (the likely mistake), and whether the Go lab's tests check it (``stricter``:
    raftlab checks it, 6.5840 does not)."""

    id: str
    title: str
    figure2: str
    hint: str
    stricter: bool = False


_RULES = [
    # -- Figure 2 rules the monitors check on every input (stricter than the Go lab)
    Rule("step-down-reply", "a reply with a higher term demotes",
         "All servers: if a request or reply carries term T > currentTerm, set currentTerm = T "
         "and become a follower (§5.1).",
         "handle_reply ignores the term of replies: a RequestVote or AppendEntries reply with a "
         "higher term must make a candidate or leader a follower at that term.", True),
    Rule("step-down-request", "a request with a higher term demotes",
         "All servers: if a request or reply carries term T > currentTerm, set currentTerm = T "
         "and become a follower (§5.1).",
         "handle_request does not adopt a higher term: on any request whose term is above "
         "current_term, set current_term to it and become a follower before answering.", True),
    Rule("stale-vote", "no vote for a stale candidate",
         "RequestVote: reply false if term < currentTerm (§5.1).",
         "the RequestVote handler grants a vote without comparing the candidate's term with "
         "current_term: a candidate from an older term must be refused.", True),
    Rule("one-vote", "one vote per term",
         "RequestVote: grant only if votedFor is null or candidateId (§5.2); a server votes "
         "for at most one candidate per term.",
         "the RequestVote handler does not check voted_for: once it voted in a term it must "
         "refuse every other candidate of that term (reset voted_for only on a new term).",
         True),
    Rule("vote-persisted", "the vote survives a restart",
         "Persistent state: votedFor is saved to stable storage before answering (§5.2, "
         "Figure 2 'Persistent state on all servers').",
         "voted_for is not persisted: after a crash and restart the node voted again in a term "
         "it had voted in; save voted_for with the persister whenever it changes and read it "
         "back in __init__.", True),
    Rule("term-persisted", "the term survives a restart",
         "Persistent state: currentTerm is saved to stable storage before answering; terms "
         "never go back (Figure 2 'Persistent state on all servers').",
         "current_term is not persisted (or not read back): the node restarted with a lower "
         "term than it had; save current_term and voted_for with the persister whenever they "
         "change and decode them in __init__.", True),
    Rule("term-monotonic", "terms only grow",
         "currentTerm increases monotonically (§5.1); a message with a lower term is stale.",
         "the node lowered its current_term: a smaller term in a message must be refused, "
         "never adopted.", True),
    Rule("early-election", "no election before the timeout",
         "Followers: become a candidate only if the election timeout elapses without "
         "AppendEntries from the current leader or granting a vote (§5.2).",
         "the election timer is not reset when the node grants a vote or accepts "
         "AppendEntries from the current leader, or it is shorter than "
         "config.election_timeout[0].", True),
    Rule("up-to-date", "votes only for an up-to-date log",
         "RequestVote: grant only if the candidate's log is at least as up-to-date as the "
         "voter's (§5.4.1).",
         "the up-to-date check is wrong: compare last log terms first (the higher wins) and "
         "only for equal terms the last log indexes (the longer log wins).", True),
    Rule("log-matching", "conflicting entries are deleted",
         "AppendEntries: if an existing entry conflicts with a new one (same index, different "
         "terms), delete it and all that follow (§5.3); then append the new entries.",
         "the AppendEntries handler keeps entries that conflict with the leader's (or keeps "
         "the old tail after them): truncate the log at the first conflict, then append.",
         True),
    Rule("commit-current-term", "count replicas only for current-term entries",
         "Leaders: set commitIndex = N only if a majority has matchIndex >= N and "
         "log[N].term == currentTerm (§5.3, §5.4.2).",
         "the leader commits an entry of an earlier term by counting its replicas (the "
         "Figure 8 hazard): count only entries of the current term; older ones commit with "
         "them.", True),
    Rule("election-safety", "one leader per term",
         "Election Safety: at most one leader can be elected in a given term (§5.2).",
         "a candidate became leader without a majority of its term's votes: count each voter "
         "once, only replies of the current term, and need n // 2 + 1 (its own vote "
         "included).", True),
    Rule("leader-completeness", "a new leader holds every committed entry",
         "Leader Completeness: if a log entry is committed in a given term, that entry will "
         "be present in the logs of the leaders for all higher-numbered terms (§5.4).",
         "a node became leader without an entry that a majority had committed: votes must "
         "go only to candidates whose log is at least as up to date, and a leader may commit "
         "only entries of its own term by counting.", True),
    Rule("state-machine-safety", "one command per index, applied in order",
         "State Machine Safety: if a server has applied a log entry at a given index, no "
         "other server will ever apply a different log entry for the same index (§5.4.3).",
         "two servers committed different entries at one index, or a server applied out of "
         "order: commit only what a majority holds in the current term, and apply entries "
         "one by one from last_applied + 1.", True),
    Rule("heartbeat-rate", "heartbeats at most ten per second",
         "Leaders: send empty AppendEntries during idle periods to prevent election timeouts "
         "(§5.2); the lab allows at most ten heartbeats per second.",
         "the leader sends heartbeats far too often: send them every "
         "config.heartbeat_interval ms (about 100 ms), not on every timer or reply.", True),
    Rule("reproducible", "the same seed gives the same run",
         "raftlab: rng is a node's only randomness and time is virtual, so a run repeated "
         "with the same seed gives the same trace.",
         "the node uses randomness other than its rng (the global random module) or reads "
         "the wall clock (time.time, time.monotonic, datetime.now): use self.rng and "
         "env timers only.", True),
    Rule("node-error", "a handler raised",
         "raftlab: a node's handlers return normally; a reply is the right message type.",
         "the node raised an exception (or returned a wrong value) while handling the input "
         "named here; the traceback ends in the node's own line."),
    Rule("flood", "the simulator is flooded",
         "raftlab: timers are for elections and heartbeats; a run stays below a million "
         "events per virtual second.",
         "a timer is set with delay 0 and re-armed each time it fires, or every message is "
         "answered with more messages at once."),
    # -- diagnoses of the ported tests' failures, found from the trace
    Rule("no-election", "the election timer never starts an election",
         "Followers: if the election timeout elapses without hearing from a leader, become a "
         "candidate (§5.2).",
         "no node ever became a candidate: set the election timer in boot() with "
         "env.set_timer and, when it fires in on_timer, start an election."),
    Rule("no-request-vote", "a candidate asks nobody for votes",
         "Candidates: on becoming one, increment currentTerm, vote for self, reset the "
         "election timer and send RequestVote to all other servers (§5.2).",
         "candidates send no RequestVote: starting an election must call env.call(peer, "
         "RequestVote(...)) for every other node."),
    Rule("fixed-timeout", "election timeouts are not randomized",
         "Raft draws election timeouts at random so split votes are rare and end quickly "
         "(§5.2).",
         "every node waits the same time before an election, so they split the vote each "
         "time: draw each timeout anew with self.rng.uniform(*config.election_timeout)."),
    Rule("vote-counting", "a candidate with a majority does not win",
         "Candidates: if votes are received from a majority of servers (its own included), "
         "become leader (§5.2).",
         "a candidate got enough votes but did not become leader: count its own vote and "
         "win with n // 2 + 1 votes, as soon as they arrive."),
    Rule("heartbeats", "the leader does not hold its followers",
         "Leaders: upon election send empty AppendEntries to each server; repeat during idle "
         "periods to prevent election timeouts (§5.2).",
         "followers time out although the leader is alive and connected: the leader must "
         "send AppendEntries every heartbeat_interval, and followers must reset their "
         "election timer on it."),
    Rule("leader-election", "no single leader emerges",
         "Leader election (§5.2): a candidate wins with a majority of votes; others step down "
         "when they learn of a higher term.",
         "look at the timeline of the replay: who became candidate, who voted for whom, and "
         "why nobody gathered a majority."),
    Rule("log-replication", "commands are not replicated",
         "Leaders: send AppendEntries with log entries from nextIndex; on rejection decrement "
         "nextIndex and retry; commit once a majority stores the entry (§5.3).",
         "the leader does not bring followers' logs up to date: check nextIndex back-off, "
         "the consistency check on prevLogIndex/prevLogTerm, and how commitIndex advances "
         "and reaches followers (leaderCommit)."),
    Rule("persistence", "state is lost across restarts",
         "Persistent state on all servers (currentTerm, votedFor, log[]) is saved before "
         "answering RPCs (Figure 2).",
         "save current_term, voted_for and the log with the persister whenever they change, "
         "and restore them in __init__."),
    Rule("network-race", "the check raced the network",
         "All servers adopt a newer term when a message carrying it reaches them (§5.1); "
         "until one does, they cannot know of it.",
         "not a fault of the node: the messages that would have brought the newer term were "
         "lost or still in flight when config.go's check_terms ran. The Go lab runs its 3A "
         "tests on a reliable network only; on the unreliable one a correct node fails this "
         "check on a small share of seeds, so the grader counts it as a warning."),
    Rule("check-failed", "a check of the Go tester failed",
         "config.go's checks: one leader, agreeing terms, committed commands agree.",
         "see the message and the replay's timeline."),
]

RULES: dict[str, Rule] = {r.id: r for r in _RULES}


def rule(rule_id: str) -> Rule:
    """The rule ``rule_id``; ``KeyError`` naming the known ids if there is none."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"unknown rule {rule_id!r}; rules are {', '.join(RULES)}") from None
