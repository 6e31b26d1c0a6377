"""Raft nodes that raftlab did not write: what a student might hand in for the election part.

``StudentRaft`` is a plain, independent leader-election implementation written the way a
6.5840 student writes it (one big handler per RPC, its own timer names, no ``env.record``
call). The harness, the trace, the plots and the checks must work for it as they do for
``raftlab.RaftNode``. The subclasses plant classic mistakes.
"""

from __future__ import annotations

from raftlab import (AppendEntries, AppendEntriesReply, LogEntry, RequestVote,
                     RequestVoteReply)
from raftlab.persister import decode_state, encode_state


class StudentRaft:
    """Leader election only (3A): RequestVote, heartbeats, randomized timeouts, persistence."""

    def __init__(self, me, n, persister, env, config, rng):
        self.me, self.n, self.persister, self.env, self.config, self.rng = (
            me, n, persister, env, config, rng)
        self.current_term, self.voted_for, entries = decode_state(persister.read())
        self.log = [LogEntry(0, None)] + entries
        self.commit_index = 0
        self.role = "follower"
        self.votes = 0

    # -- plumbing
    def persist(self):
        self.persister.save(encode_state(self.current_term, self.voted_for, self.log[1:]))

    def reset_election_timer(self):
        lo, hi = self.config.election_timeout
        self.env.set_timer("electionTimer", self.rng.uniform(lo, hi))

    def step_down(self, term):
        self.current_term, self.voted_for, self.role = term, None, "follower"
        self.persist()

    # -- NodeProtocol
    def boot(self):
        self.reset_election_timer()

    def kill(self):
        pass

    def get_state(self):
        return self.current_term, self.role == "leader"

    def start(self, command):
        return -1, self.current_term, False  # no log replication in this part

    def handle_request(self, src, msg):
        if msg.term > self.current_term:
            self.step_down(msg.term)
        if isinstance(msg, RequestVote):
            ok = msg.term == self.current_term and self.voted_for in (None, msg.candidate)
            if ok:
                self.voted_for = msg.candidate
                self.persist()
                self.reset_election_timer()
            return RequestVoteReply(self.current_term, ok)
        if msg.term < self.current_term:
            return AppendEntriesReply(self.current_term, False)
        self.role = "follower"
        self.reset_election_timer()
        return AppendEntriesReply(self.current_term, True)

    def handle_reply(self, src, request, reply):
        if reply.term > self.current_term:
            self.step_down(reply.term)
            self.env.cancel_timer("hb")
            self.reset_election_timer()
            return
        if (isinstance(reply, RequestVoteReply) and self.role == "candidate"
                and request.term == self.current_term and reply.granted):
            self.votes += 1
            if self.votes * 2 > self.n:
                self.become_leader()

    def handle_failure(self, dst, request):
        pass  # a lost vote request is not retried: the next election asks again

    def on_timer(self, name):
        if name == "electionTimer" and self.role != "leader":
            self.current_term += 1
            self.role, self.voted_for, self.votes = "candidate", self.me, 1
            self.persist()
            self.reset_election_timer()
            if self.votes * 2 > self.n:
                self.become_leader()
                return
            for peer in range(self.n):
                if peer != self.me:
                    self.env.call(peer, RequestVote(self.current_term, self.me, 0, 0))
        elif name == "hb" and self.role == "leader":
            self.heartbeat()

    # -- leader
    def become_leader(self):
        self.role = "leader"
        self.env.cancel_timer("electionTimer")
        self.heartbeat()

    def heartbeat(self):
        for peer in range(self.n):
            if peer != self.me:
                self.env.call(peer, AppendEntries(self.current_term, self.me, 0, 0, (), 0))
        self.env.set_timer("hb", self.config.heartbeat_interval)


class ForgetsToReturnAReply(StudentRaft):
    """Handles RequestVote but forgets the ``return``: a classic first bug."""

    def handle_request(self, src, msg):
        reply = super().handle_request(src, msg)
        return None if isinstance(msg, RequestVote) else reply


class VotesTwice(StudentRaft):
    """Grants every RequestVote of its term: two votes in one term, two leaders."""

    def handle_request(self, src, msg):
        if isinstance(msg, RequestVote) and msg.term >= self.current_term:
            if msg.term > self.current_term:
                self.step_down(msg.term)
            self.reset_election_timer()
            return RequestVoteReply(self.current_term, True)
        return super().handle_request(src, msg)
