"""The bug clinic's specimens: the reference ``RaftNode`` with one classic student mistake each.

Every class here is ``raftlab.RaftNode`` with exactly one mistake planted, the way students
make it in the 6.5840 Raft lab. Each overrides only the method the mistake lives in, so
reading the override (``inspect.getsource(cls)``) next to ``raftlab.node`` shows the whole
difference. Each class says what it is about:

* ``rule``: the id of the rule in ``raftlab.rules.RULES`` that grading names for it;
* ``part``: the lab part ("3A", "3B", "3C") whose grading catches it;
* ``mistake``: what the student did wrong, in one line.

Every mistake changes what the node does in the runs that grading makes: raftlab's
``tests/test_bugs_behave.py`` shows each one in a fixed scenario, and shows that the reference
node does not. In teaching order (``BUGS`` holds them in this order):

======================  ======================  ====  ==============================================
class                   rule                    part  mistake
======================  ======================  ====  ==============================================
FastHeartbeats          heartbeat-rate          3A    heartbeats every 10 ms
NoHeartbeats            heartbeats              3A    the heartbeat timer is not set again
FixedTimeout            fixed-timeout           3A    the same election timeout for every node
GlobalRandom            reproducible            3A    timeouts from the global random module
IgnoresHeartbeats       early-election          3A    AppendEntries does not reset the timer
NoSelfVote              vote-counting           3A    a candidate does not count its own vote
CountsReplies           election-safety         3A    every answer counts as a vote
VotesTwice              one-vote                3A    voted_for is not checked
VotesForStaleCandidate  stale-vote              3A    candidates of older terms get votes
NoTermFromRequest       step-down-request       3A    a request's higher term is not adopted
NoStepDownOnReply       step-down-reply         3A    a reply's higher term is not adopted
NoPersistence           term-persisted          3A    nothing is saved to the persister
WrongUpToDateCheck      up-to-date              3B    "up to date" compares log lengths only
NoConflictTruncation    log-matching            3B    conflicting entries are kept
CommitsOldTermEntries   commit-current-term     3C    entries of older terms committed by counting
======================  ======================  ====  ==============================================

Use one like any node class::

    from raftlab import Cluster
    from raftlab.bugs import BUGS, FixedTimeout
    c = Cluster(3, seed=1, node_class=FixedTimeout)
    c.run_for(3000)          # every node times out at the same instant: split votes forever
"""

from __future__ import annotations

import random

from .messages import AppendEntries, AppendEntriesReply, Message, RequestVote, RequestVoteReply
from .node import ELECTION, FOLLOWER, HEARTBEAT, LEADER, RaftNode

__all__ = ["BUGS", "FastHeartbeats", "NoHeartbeats", "FixedTimeout", "GlobalRandom",
           "IgnoresHeartbeats", "NoSelfVote", "CountsReplies", "VotesTwice",
           "VotesForStaleCandidate", "NoTermFromRequest", "NoStepDownOnReply", "NoPersistence",
           "WrongUpToDateCheck", "NoConflictTruncation", "CommitsOldTermEntries"]

#: The ten-millisecond sleep of a ticker loop written without reading the lab's text.
FAST_HEARTBEAT_MS = 10


class FastHeartbeats(RaftNode):
    """The leader's ticker sleeps 10 ms between heartbeats."""

    rule = "heartbeat-rate"
    part = "3A"
    mistake = ("the leader sends heartbeats every 10 ms instead of every "
               "config.heartbeat_interval ms")

    def on_timer(self, name: str) -> None:
        if name == HEARTBEAT and self.role == LEADER:
            self._broadcast_append_entries()
            # "Faster heartbeats keep followers safer": a hard-coded 10 ms, about 100
            # AppendEntries per follower per second, where the lab allows ten.
            self.env.set_timer(HEARTBEAT, FAST_HEARTBEAT_MS)
            return
        super().on_timer(name)


class NoHeartbeats(RaftNode):
    """The heartbeat timer fires once and is never set again."""

    rule = "heartbeats"
    part = "3A"
    mistake = ("the leader's heartbeat timer is not set again when it fires, so the leader "
               "falls silent after its first heartbeat")

    def on_timer(self, name: str) -> None:
        if name == HEARTBEAT:
            if self.role == LEADER:
                # Sends one round of AppendEntries but forgets env.set_timer(HEARTBEAT, ...):
                # the followers hear nothing more and start a new election.
                self._broadcast_append_entries()
            return
        super().on_timer(name)


class FixedTimeout(RaftNode):
    """Every node waits the same election timeout, the middle of the configured range."""

    rule = "fixed-timeout"
    part = "3A"
    mistake = ("the election timeout is the same constant for every node instead of a "
               "random draw from config.election_timeout")

    def _reset_election_timer(self) -> None:
        lo, hi = self.config.election_timeout
        # "Somewhere in the range" taken literally: the middle, for every node and every
        # election. Nodes that start together time out together, all vote for themselves,
        # and split the vote again and again.
        self.env.set_timer(ELECTION, (lo + hi) / 2)


class GlobalRandom(RaftNode):
    """Election timeouts drawn from Python's global ``random`` module."""

    rule = "reproducible"
    part = "3A"
    mistake = ("election timeouts come from the global random module instead of self.rng, "
               "so a run cannot be repeated")

    def _reset_election_timer(self) -> None:
        lo, hi = self.config.election_timeout
        # random.uniform is the process-wide generator, not the node's seeded self.rng:
        # the same seed gives a different run each time.
        self.env.set_timer(ELECTION, random.uniform(lo, hi))


class IgnoresHeartbeats(RaftNode):
    """AppendEntries from the current leader does not reset the election timer."""

    rule = "early-election"
    part = "3A"
    mistake = ("the election timer is reset when granting a vote but not when AppendEntries "
               "from the current leader arrives")

    def _handle_append_entries(self, msg: AppendEntries) -> AppendEntriesReply:
        # The reference handler, except for one missing line: the heartbeat is checked and
        # answered but the election timer keeps running, so a follower of a live leader
        # times out and starts an election anyway.
        if msg.term < self.current_term:
            return AppendEntriesReply(self.current_term, False)
        if self.role == LEADER:
            raise RuntimeError(f"node {self.me}: two leaders in term {msg.term} "
                               f"(me and {msg.leader})")
        if self.role != FOLLOWER:
            self._become_follower(msg.term)
        self.leader_id = msg.leader
        # (no self._reset_election_timer() here)
        config = self.config
        if config.check_quorum or config.pre_vote:
            self._heard_from_leader()
        prev = msg.prev_log_index
        log = self.log
        if prev >= len(log):
            return AppendEntriesReply(self.current_term, False, len(log), 0)
        if log[prev].term != msg.prev_log_term:
            conflict_term = log[prev].term
            first = prev
            while first > 1 and log[first - 1].term == conflict_term:
                first -= 1
            return AppendEntriesReply(self.current_term, False, first, conflict_term)
        if msg.entries:
            changed = False
            index = prev
            for entry in msg.entries:
                index += 1
                if index < len(log):
                    if log[index].term == entry.term:
                        continue
                    del log[index:]
                log.append(entry)
                changed = True
            if changed:
                self._persist()
        last_new = prev + len(msg.entries)
        if msg.leader_commit > self.commit_index:
            self.commit_index = min(msg.leader_commit, last_new)
            self._apply_committed()
        return AppendEntriesReply(self.current_term, True)


class NoSelfVote(RaftNode):
    """A candidate counts only the votes that come back in replies."""

    rule = "vote-counting"
    part = "3A"
    mistake = ("a candidate sets voted_for to itself but starts its tally at zero, so it "
               "needs a majority of the other nodes")

    def _become_candidate(self) -> None:
        super()._become_candidate()
        # The tally starts empty ("votes = 0"), although voted_for = me: the candidate's own
        # vote is never counted. With exactly a bare majority reachable (two of three
        # nodes), no candidate ever wins.
        self.votes = set()


class CountsReplies(RaftNode):
    """A candidate counts every answer to its RequestVote, granted or not."""

    rule = "election-safety"
    part = "3A"
    mistake = "a candidate counts every RequestVote reply as a vote, without checking granted"

    def _candidate_reply(self, src: int, request: Message, reply: Message) -> None:
        if not isinstance(reply, RequestVoteReply):
            return
        self._answered.add(src)
        # Counted without looking at reply.granted: a refusal counts as a vote, so two
        # candidates of one term can both "win".
        self.votes.add(src)
        if len(self.votes) * 2 > self.n:
            self._become_leader()


class VotesTwice(RaftNode):
    """The RequestVote handler never looks at ``voted_for``."""

    rule = "one-vote"
    part = "3A"
    mistake = ("the RequestVote handler sets voted_for but never checks it, so it grants "
               "every candidate of its term")

    def _handle_request_vote(self, msg: RequestVote) -> RequestVoteReply:
        last_term = self.log[-1].term
        up_to_date = (msg.last_log_term > last_term or
                      (msg.last_log_term == last_term
                       and msg.last_log_index >= self.last_log_index))
        # Missing: "and self.voted_for in (None, msg.candidate)". Two candidates of one
        # term both get this node's vote (a candidate even votes for its rival).
        granted = msg.term == self.current_term and up_to_date
        if granted:
            self.voted_for = msg.candidate
            self._persist()
            self._reset_election_timer()
        return RequestVoteReply(self.current_term, granted)


class VotesForStaleCandidate(RaftNode):
    """The RequestVote handler never compares the candidate's term with its own."""

    rule = "stale-vote"
    part = "3A"
    mistake = ("the RequestVote handler grants a vote without checking that the candidate's "
               "term is not older than current_term")

    def _handle_request_vote(self, msg: RequestVote) -> RequestVoteReply:
        last_term = self.log[-1].term
        up_to_date = (msg.last_log_term > last_term or
                      (msg.last_log_term == last_term
                       and msg.last_log_index >= self.last_log_index))
        # Missing: "msg.term == self.current_term" (Figure 2: reply false if term <
        # currentTerm). A candidate from an older term gets the vote if this node has not
        # voted in its own, newer term.
        granted = up_to_date and self.voted_for in (None, msg.candidate)
        if granted:
            if self.voted_for is None:
                self.voted_for = msg.candidate
                self._persist()
            self._reset_election_timer()
        return RequestVoteReply(self.current_term, granted)


class NoTermFromRequest(RaftNode):
    """Requests with a higher term are answered without adopting that term."""

    rule = "step-down-request"
    part = "3A"
    mistake = ("handle_request does not set current_term to a higher term it sees in a "
               "request (nor step down)")

    def handle_request(self, src: int, msg: Message) -> Message:
        # Missing Figure 2's rule for all servers: "if the request's term T > currentTerm,
        # set currentTerm = T and convert to follower". The vote handler then refuses every
        # candidate of a newer term, since it grants only in its own term.
        if type(msg) is AppendEntries:
            return self._handle_append_entries(msg)
        if type(msg) is RequestVote:
            return self._handle_request_vote(msg)
        raise TypeError(f"node {self.me}: unexpected request {msg!r}")


class NoStepDownOnReply(RaftNode):
    """Replies with a higher term are handled as if they were of the current term."""

    rule = "step-down-reply"
    part = "3A"
    mistake = ("handle_reply never compares the reply's term with current_term: a candidate "
               "or leader that hears of a newer term keeps its role")

    def handle_reply(self, src: int, request: Message, reply: Message) -> None:
        # Missing: "if reply.term > current_term: become a follower of that term". A leader
        # cut off for a while and reconnected takes "you are out of date" for a log
        # mismatch and keeps acting as leader.
        if request.term != self.current_term:
            return
        self._reply_handler(src, request, reply)


class NoPersistence(RaftNode):
    """Nothing is ever written to the persister."""

    rule = "term-persisted"
    part = "3A"
    mistake = ("current_term, voted_for and the log are never saved, so a restarted node "
               "begins again at term 0")

    def _persist(self) -> None:
        # Left as "TODO: persist" from the skeleton: a crash forgets the term, the vote and
        # the log.
        pass


class WrongUpToDateCheck(RaftNode):
    """"At least as up-to-date" is judged by log length alone."""

    rule = "up-to-date"
    part = "3B"
    mistake = ("the up-to-date check compares only log lengths, so a long log of old terms "
               "beats a shorter log with a newer last term")

    def _handle_request_vote(self, msg: RequestVote) -> RequestVoteReply:
        # "The longer log is more up to date": the last log terms are never compared (§5.4.1
        # compares them first). A leader that was cut off and collected entries nobody
        # committed can win an election and overwrite committed entries.
        up_to_date = msg.last_log_index >= self.last_log_index
        granted = (msg.term == self.current_term and up_to_date
                   and self.voted_for in (None, msg.candidate))
        if granted:
            if self.voted_for is None:
                self.voted_for = msg.candidate
                self._persist()
            self._reset_election_timer()
        return RequestVoteReply(self.current_term, granted)


class NoConflictTruncation(RaftNode):
    """AppendEntries appends only past the end of the log, keeping entries that conflict."""

    rule = "log-matching"
    part = "3B"
    mistake = ("AppendEntries skips every index the follower already has, without comparing "
               "terms, so conflicting entries are never deleted")

    def _handle_append_entries(self, msg: AppendEntries) -> AppendEntriesReply:
        if msg.term < self.current_term:
            return AppendEntriesReply(self.current_term, False)
        if self.role == LEADER:
            raise RuntimeError(f"node {self.me}: two leaders in term {msg.term} "
                               f"(me and {msg.leader})")
        if self.role != FOLLOWER:
            self._become_follower(msg.term)
        self.leader_id = msg.leader
        self._reset_election_timer()
        config = self.config
        if config.check_quorum or config.pre_vote:
            self._heard_from_leader()
        prev = msg.prev_log_index
        log = self.log
        if prev >= len(log):
            return AppendEntriesReply(self.current_term, False, len(log), 0)
        if log[prev].term != msg.prev_log_term:
            conflict_term = log[prev].term
            first = prev
            while first > 1 and log[first - 1].term == conflict_term:
                first -= 1
            return AppendEntriesReply(self.current_term, False, first, conflict_term)
        changed = False
        index = prev
        for entry in msg.entries:
            index += 1
            if index < len(log):
                # "I already have this one, it must be a retransmission": the terms are not
                # compared, so an entry of a deposed leader stays where the new leader's
                # entry belongs, and the reply still says success.
                continue
            log.append(entry)
            changed = True
        if changed:
            self._persist()
        last_new = prev + len(msg.entries)
        if msg.leader_commit > self.commit_index:
            self.commit_index = min(msg.leader_commit, last_new)
            self._apply_committed()
        return AppendEntriesReply(self.current_term, True)


class CommitsOldTermEntries(RaftNode):
    """The leader commits any entry that a majority stores, whatever its term."""

    rule = "commit-current-term"
    part = "3C"
    mistake = ("the leader commits an entry of an earlier term as soon as a majority stores "
               "it, without the log[N].term == currentTerm check")

    def _advance_commit(self) -> None:
        majority = self.n // 2 + 1
        for index in range(self.last_log_index, self.commit_index, -1):
            # Missing: "if self.log[index].term != self.current_term: break". An entry of an
            # older term stored on a majority can still be overwritten by a later leader
            # (Figure 8 of the paper), and this leader has already applied it.
            if 1 + sum(1 for m in self.match_index.values() if m >= index) >= majority:
                self.commit_index = index
                self._apply_committed()
                break


#: Every specimen by name, in teaching order: timers, counting votes, granting votes, terms,
#: persistence, then the log.
BUGS: dict[str, type] = {cls.__name__: cls for cls in (
    FastHeartbeats, NoHeartbeats, FixedTimeout, GlobalRandom, IgnoresHeartbeats,
    NoSelfVote, CountsReplies, VotesTwice, VotesForStaleCandidate, NoTermFromRequest,
    NoStepDownOnReply, NoPersistence, WrongUpToDateCheck, NoConflictTruncation,
    CommitsOldTermEntries)}
