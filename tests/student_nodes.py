"""Raft nodes that raftlab did not write: what a student might hand in for the election part.

``StudentRaft`` is a plain, independent leader-election implementation written the way a
6.5840 student writes it (one big handler per RPC, its own timer names, no ``env.record``
call). The harness, the trace, the plots and the checks must work for it as they do for
``raftlab.RaftNode``. The subclasses plant classic mistakes.
"""

from __future__ import annotations

from raftlab import (AppendEntries, AppendEntriesReply, ApplyMsg, LogEntry, RequestVote,
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


class StudentLogRaft(StudentRaft):
    """StudentRaft plus log replication (3B) the plain Figure 2 way, written apart from
    ``raftlab.RaftNode``: a refused AppendEntries lowers nextIndex by one, a success sets
    matchIndex to what the request carried, and every heartbeat carries the entries from
    nextIndex on."""

    def __init__(self, me, n, persister, env, config, rng):
        super().__init__(me, n, persister, env, config, rng)
        self.last_applied = 0
        self.next_index = [0] * n
        self.match_index = [0] * n

    def last(self):
        return len(self.log) - 1, self.log[-1].term

    def start(self, command):
        if self.role != "leader":
            return -1, self.current_term, False
        self.log.append(LogEntry(self.current_term, command))
        self.persist()
        return len(self.log) - 1, self.current_term, True

    def handle_request(self, src, msg):
        if msg.term > self.current_term:
            self.step_down(msg.term)
        if isinstance(msg, RequestVote):
            my_index, my_term = self.last()
            up_to_date = (msg.last_log_term, msg.last_log_index) >= (my_term, my_index)
            ok = (msg.term == self.current_term and up_to_date
                  and self.voted_for in (None, msg.candidate))
            if ok:
                self.voted_for = msg.candidate
                self.persist()
                self.reset_election_timer()
            return RequestVoteReply(self.current_term, ok)
        if msg.term < self.current_term:
            return AppendEntriesReply(self.current_term, False)
        self.role = "follower"
        self.reset_election_timer()
        if msg.prev_log_index >= len(self.log) or \
                self.log[msg.prev_log_index].term != msg.prev_log_term:
            return AppendEntriesReply(self.current_term, False)
        for i, entry in enumerate(msg.entries, msg.prev_log_index + 1):
            if i < len(self.log) and self.log[i].term != entry.term:
                del self.log[i:]
            if i >= len(self.log):
                self.log.append(entry)
        self.persist()
        if msg.leader_commit > self.commit_index:
            self.commit_index = min(msg.leader_commit, msg.prev_log_index + len(msg.entries))
            self.apply_committed()
        return AppendEntriesReply(self.current_term, True)

    def handle_reply(self, src, request, reply):
        if isinstance(reply, AppendEntriesReply) and reply.term <= self.current_term:
            if self.role != "leader" or request.term != self.current_term:
                return
            if reply.success:
                self.match_index[src] = request.prev_log_index + len(request.entries)
                self.next_index[src] = self.match_index[src] + 1
                self.advance_commit()
            else:
                self.next_index[src] = max(1, self.next_index[src] - 1)
            return
        super().handle_reply(src, request, reply)

    def on_timer(self, name):
        if name == "electionTimer" and self.role != "leader":
            self.current_term += 1
            self.role, self.voted_for, self.votes = "candidate", self.me, 1
            self.persist()
            self.reset_election_timer()
            index, term = self.last()
            for peer in range(self.n):
                if peer != self.me:
                    self.env.call(peer, RequestVote(self.current_term, self.me, index, term))
        else:
            super().on_timer(name)

    def become_leader(self):
        self.next_index = [len(self.log)] * self.n
        self.match_index = [0] * self.n
        super().become_leader()

    def heartbeat(self):
        for peer in range(self.n):
            if peer != self.me:
                prev = self.next_index[peer] - 1
                self.env.call(peer, AppendEntries(
                    self.current_term, self.me, prev, self.log[prev].term,
                    tuple(self.log[prev + 1:]), self.commit_index))
        self.env.set_timer("hb", self.config.heartbeat_interval)

    def advance_commit(self):
        for index in range(len(self.log) - 1, self.commit_index, -1):
            count = 1 + sum(1 for p in range(self.n) if p != self.me
                            and self.match_index[p] >= index)
            if self.log[index].term == self.current_term and 2 * count > self.n:
                self.commit_index = index
                self.apply_committed()
                break

    def apply_committed(self):
        while self.last_applied < self.commit_index:
            self.last_applied += 1
            self.env.apply(ApplyMsg(True, self.log[self.last_applied].command,
                                    self.last_applied))
