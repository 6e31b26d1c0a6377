"""A Raft node as a reactive state machine (Figure 2 of the Raft paper).

The node knows no clock and no network. It reacts to three inputs -- an RPC request, an RPC
reply (or the news that a call failed), and a timer firing -- and asks its ``Environment`` to
send calls, set timers and deliver committed commands (``raftlab.protocol`` describes both
sides). The simulator in ``raftlab.cluster`` is one environment; a socket transport could be
another. The node records nothing itself: the harness observes its role, term and votes.

Each role has its own reply handler (``_follower_reply``, ``_precandidate_reply``,
``_candidate_reply``, ``_leader_reply``), swapped in by ``_become_follower`` /
``_become_precandidate`` / ``_become_candidate`` / ``_become_leader``; what every role does
alike (a higher term makes you a follower, a stale term is refused) lives in the shared entry
points.

The protocol variants, read live from ``config`` (both off by default):

* ``pre_vote`` (dissertation §9.6): the election timer makes the node a precandidate, which
  sends ``PreVote`` for ``current_term + 1`` without changing its term or vote; a voter grants
  one only if that term is above its own, the candidate's log is at least as up to date, and
  it has not heard from a current leader within the minimum election timeout. Granting changes
  nothing in the voter. A majority (its own included) makes the precandidate a candidate; a
  round without one times out like an election. A refused PreVoteReply with a higher term is
  adopted like any reply's (the node becomes a follower of that term, as etcd does).
* ``check_quorum`` (§6.2, §4.2.3): a leader that has heard no reply from a majority (itself
  included) within the minimum election timeout steps down to follower, same term; and a
  leader, or a server that heard from a current leader within the minimum election timeout,
  ignores RequestVote entirely (no term update, no vote: refused with its own term).

"Heard from a current leader recently" is a flag set by every accepted AppendEntries and
cleared by the ``lease`` timer, ``election_timeout[0]`` ms later (or by a new term or an
election); the leader's majority check is the ``quorum`` timer. Neither timer is set while
both variants are off, so plain Raft's runs are unchanged.
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple, Optional

from .config import RaftConfig
from .messages import (AppendEntries, AppendEntriesReply, LogEntry, Message, PreVote,
                       PreVoteReply, RequestVote, RequestVoteReply)
from .persister import Persister, decode_state, encode_state
from .protocol import Environment

__all__ = ["RaftNode", "RaftConfig", "Environment", "ApplyMsg",
           "FOLLOWER", "PRECANDIDATE", "CANDIDATE", "LEADER", "ELECTION", "HEARTBEAT", "LEASE",
           "QUORUM"]

FOLLOWER, PRECANDIDATE, CANDIDATE, LEADER = "follower", "precandidate", "candidate", "leader"
ELECTION, HEARTBEAT = "election", "heartbeat"
#: the variants' timers: a leader heard recently (``lease``), a leader's majority check
LEASE, QUORUM = "lease", "quorum"


class ApplyMsg(NamedTuple):
    """A committed command handed to the service (6.5840's ``ApplyMsg``)."""

    command_valid: bool
    command: Any
    command_index: int


#: ``log[0]`` of every node: an entry of term 0 before the first (entries are immutable)
_SENTINEL = LogEntry(0, None)
#: placeholders for a node's cached heartbeat and success reply: term -1 matches no term
_NO_HEARTBEAT = AppendEntries(-1, -1, 0, 0, (), 0)
_NO_SUCCESS = AppendEntriesReply(-1, True)


class RaftNode:
    """One Raft server. Log indices start at 1; ``log[0]`` is a sentinel of term 0."""

    def __init__(self, me: int, n: int, persister: Persister, env: Environment,
                 config: RaftConfig, rng: random.Random) -> None:
        self.me = me
        self.n = n
        self.peers = (*range(me), *range(me + 1, n))
        self.persister = persister
        self.env = env
        self.config = config
        self.rng = rng
        term, voted_for, entries = decode_state(persister.read())
        self.current_term: int = term
        self.voted_for: Optional[int] = voted_for
        self.log: list[LogEntry] = [_SENTINEL, *entries]
        self.commit_index = 0
        self.last_applied = 0
        self.role = FOLLOWER
        self.leader_id: Optional[int] = None
        self.votes: set[int] = set()      # who granted this candidacy or pre-vote round (self
        self._answered: set[int] = set()  # included); who answered it, yes or no
        self._leader_heard = False        # heard from a current leader within the minimum
        self._heard: set[int] = set()     # election timeout; a leader's peers heard since its
        self._quorum_armed = False        # last majority check, and whether one is pending
        self.next_index: dict[int, int] = {}
        self.match_index: dict[int, int] = {}
        self.dead = False
        self._reply_handler = self._follower_reply
        # messages are immutable values, so one heartbeat (and one "success" reply) per term
        # serves every peer that is up to date; until the first, a placeholder of term -1
        self._heartbeat = _NO_HEARTBEAT
        self._success = _NO_SUCCESS

    # ----------------------------------------------------------------- life cycle
    def boot(self) -> None:
        """Start as a follower with a fresh election timer."""
        self._reset_election_timer()

    def kill(self) -> None:
        """Stop reacting; the environment will not call this instance again."""
        self.dead = True

    # ----------------------------------------------------------------- service API
    def get_state(self) -> tuple[int, bool]:
        """``(current_term, is_leader)`` -- 6.5840's ``GetState``."""
        return self.current_term, self.role == LEADER

    def start(self, command: Any) -> tuple[int, int, bool]:
        """Propose ``command``; returns ``(index, term, is_leader)`` at once."""
        if self.role != LEADER:
            return -1, self.current_term, False
        self.log.append(LogEntry(self.current_term, command))
        self._persist()
        index = len(self.log) - 1
        if not self.peers:
            self._advance_commit()
        else:
            self.env.set_timer(HEARTBEAT, 0)  # replicate soon; starts at one instant share a round
        return index, self.current_term, True

    @property
    def last_log_index(self) -> int:
        return len(self.log) - 1

    # ----------------------------------------------------------------- shared entry points
    def handle_request(self, src: int, msg: Message) -> Message:
        """Answer an RPC request (every role alike after the term check)."""
        kind = type(msg)
        if kind is AppendEntries:
            if msg.term > self.current_term:
                self._become_follower(msg.term)
            return self._handle_append_entries(msg)
        if kind is RequestVote:
            if self.config.check_quorum and self._leader_alive():
                return RequestVoteReply(self.current_term, False)  # ignored (§4.2.3)
            if msg.term > self.current_term:
                self._become_follower(msg.term)
            return self._handle_request_vote(msg)
        if kind is PreVote:
            return self._handle_pre_vote(msg)  # changes nothing, not even the term
        raise TypeError(f"node {self.me}: unexpected request {msg!r}")

    def handle_reply(self, src: int, request: Message, reply: Message) -> None:
        """A reply arrived for one of our calls."""
        if reply.term > self.current_term:
            self._become_follower(reply.term)
            return
        if request.term != self.current_term:
            # an answer from an older term: ignore; but a PreVote asks about the next term
            if type(request) is PreVote and request.term == self.current_term + 1:
                self._reply_handler(src, request, reply)
            return
        self._reply_handler(src, request, reply)

    def handle_failure(self, dst: int, request: Message) -> None:
        """A call returned false (lost request or reply, or an unreachable peer)."""
        if (self.role == CANDIDATE and isinstance(request, RequestVote)
                and request.term == self.current_term and dst not in self._answered):
            self.env.call(dst, request)  # ask again while the election lasts
        elif (self.role == PRECANDIDATE and type(request) is PreVote
                and request.term == self.current_term + 1 and dst not in self._answered):
            self.env.call(dst, request)  # and while the pre-vote round lasts

    def on_timer(self, name: str) -> None:
        if name == ELECTION:
            if self.role != LEADER:
                if self.config.pre_vote:
                    self._become_precandidate()
                else:
                    self._become_candidate()
        elif name == HEARTBEAT:
            if self.role == LEADER:
                self._broadcast_append_entries()
                self.env.set_timer(HEARTBEAT, self.config.heartbeat_interval)
                if not self._quorum_armed and self.config.check_quorum:
                    self._arm_quorum_check()  # check_quorum was turned on while leading
        elif name == LEASE:
            self._leader_heard = False
        elif name == QUORUM:
            self._check_quorum()
        else:
            raise ValueError(f"node {self.me}: unknown timer {name!r}")

    # ----------------------------------------------------------------- transitions
    def _become_follower(self, term: int) -> None:
        was = self.role
        if term > self.current_term:
            self.current_term = term
            self.voted_for = None
            self.leader_id = None  # the leader of the new term is not known yet
            self._leader_heard = False  # nor is any leader heard before current any more
            self._persist()
        self.role = FOLLOWER
        self._reply_handler = self._follower_reply
        if was == LEADER:
            self.env.cancel_timer(HEARTBEAT)
            if self._quorum_armed:
                self._quorum_armed = False
                self.env.cancel_timer(QUORUM)
            self._reset_election_timer()

    def _become_precandidate(self) -> None:
        """Ask for pre-votes for the next term, keeping the term and the vote (``pre_vote``)."""
        if self.role == LEADER:
            raise RuntimeError(f"node {self.me}: invalid transition [leader -> precandidate]")
        self.role = PRECANDIDATE
        self.leader_id = None
        self._leader_heard = False
        self._reply_handler = self._precandidate_reply
        self.votes = {self.me}
        self._answered = set()
        self._reset_election_timer()  # a round without a majority times out like an election
        if len(self.votes) * 2 > self.n:
            self._become_candidate()
            return
        request = PreVote(self.current_term + 1, self.me, self.last_log_index, self.log[-1].term)
        for peer in self.peers:
            self.env.call(peer, request)

    def _become_candidate(self) -> None:
        if self.role == LEADER:
            raise RuntimeError(f"node {self.me}: invalid transition [leader -> candidate]")
        self.current_term += 1
        self.voted_for = self.me
        self._persist()
        self.role = CANDIDATE
        self.leader_id = None
        self._leader_heard = False
        self._reply_handler = self._candidate_reply
        self.votes = {self.me}
        self._answered = set()
        self._reset_election_timer()
        if len(self.votes) * 2 > self.n:
            self._become_leader()
            return
        request = RequestVote(self.current_term, self.me, self.last_log_index,
                              self.log[-1].term)
        for peer in self.peers:
            self.env.call(peer, request)

    def _become_leader(self) -> None:
        if self.role != CANDIDATE:
            raise RuntimeError(f"node {self.me}: invalid transition [{self.role} -> leader]")
        self.role = LEADER
        self.leader_id = self.me
        self._reply_handler = self._leader_reply
        nxt = self.last_log_index + 1
        self.next_index = {p: nxt for p in self.peers}
        self.match_index = {p: 0 for p in self.peers}
        self._heard = set()
        self.env.cancel_timer(ELECTION)
        self._broadcast_append_entries()
        self.env.set_timer(HEARTBEAT, self.config.heartbeat_interval)
        if self.config.check_quorum:
            self._arm_quorum_check()

    # ----------------------------------------------------------------- RequestVote
    def _up_to_date(self, msg: RequestVote | PreVote) -> bool:
        """Whether the candidate's log is at least as up to date as ours (§5.4.1; the
        RequestVote handler has the same test inline: it is on the election's hot path)."""
        last_term = self.log[-1].term
        return (msg.last_log_term > last_term or
                (msg.last_log_term == last_term and msg.last_log_index >= self.last_log_index))

    def _handle_request_vote(self, msg: RequestVote) -> RequestVoteReply:
        last_term = self.log[-1].term
        up_to_date = (msg.last_log_term > last_term or
                      (msg.last_log_term == last_term and msg.last_log_index >= self.last_log_index))
        granted = (msg.term == self.current_term and up_to_date
                   and self.voted_for in (None, msg.candidate))
        if granted:
            if self.voted_for is None:
                self.voted_for = msg.candidate
                self._persist()
            self._reset_election_timer()
        return RequestVoteReply(self.current_term, granted)

    # ----------------------------------------------------------------- PreVote
    def _leader_alive(self) -> bool:
        """Whether we lead, or heard from a current leader within the minimum election
        timeout (then no election is needed: pre-votes are refused and, with check_quorum,
        RequestVote is ignored)."""
        return self._leader_heard or self.role == LEADER

    def _handle_pre_vote(self, msg: PreVote) -> PreVoteReply:
        """Would we vote for ``msg.candidate`` in ``msg.term``? Answering changes nothing:
        not the term, not the vote, not the election timer."""
        granted = (msg.term > self.current_term and not self._leader_alive()
                   and self._up_to_date(msg))
        return PreVoteReply(self.current_term, granted)

    # ----------------------------------------------------------------- AppendEntries
    def _handle_append_entries(self, msg: AppendEntries) -> AppendEntriesReply:
        if msg.term < self.current_term:
            return AppendEntriesReply(self.current_term, False)
        if self.role == LEADER:
            raise RuntimeError(f"node {self.me}: two leaders in term {msg.term} "
                               f"(me and {msg.leader})")
        if self.role != FOLLOWER:
            self._become_follower(msg.term)  # a leader of our term exists
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
        if self._success.term != self.current_term:
            self._success = AppendEntriesReply(self.current_term, True)
        return self._success

    # ----------------------------------------------------------------- per-role reply handlers
    def _follower_reply(self, src: int, request: Message, reply: Message) -> None:
        """A follower has nothing left to do with answers to its old calls."""

    def _precandidate_reply(self, src: int, request: Message, reply: Message) -> None:
        if type(reply) is not PreVoteReply:
            return
        self._answered.add(src)
        if reply.granted:
            self.votes.add(src)
            if len(self.votes) * 2 > self.n:
                self._become_candidate()

    def _candidate_reply(self, src: int, request: Message, reply: Message) -> None:
        if not isinstance(reply, RequestVoteReply):
            return
        self._answered.add(src)
        if reply.granted:
            self.votes.add(src)
            if len(self.votes) * 2 > self.n:
                self._become_leader()

    def _leader_reply(self, src: int, request: Message, reply: Message) -> None:
        if self._quorum_armed:
            self._heard.add(src)  # for check_quorum: any answer of our term counts
        if type(reply) is not AppendEntriesReply:  # then the request was an AppendEntries
            return
        if reply.success:
            match = request.prev_log_index + len(request.entries)
            if match > self.match_index[src]:
                self.match_index[src] = match
                self._advance_commit()
            if match + 1 > self.next_index[src]:
                self.next_index[src] = match + 1
            return
        # Log mismatch: back up over the follower's conflicting term, then retry at once.
        nxt = reply.conflict_index
        if reply.conflict_term:
            for i in range(min(request.prev_log_index, self.last_log_index), 0, -1):
                t = self.log[i].term
                if t == reply.conflict_term:
                    nxt = i + 1
                    break
                if t < reply.conflict_term:
                    break
        nxt = max(1, min(nxt, self.last_log_index + 1))
        if nxt < self.next_index[src] or request.prev_log_index + 1 == self.next_index[src]:
            self.next_index[src] = max(self.match_index[src] + 1, nxt)
            self._send_append_entries(src)

    # ----------------------------------------------------------------- leader helpers
    def _broadcast_append_entries(self) -> None:
        for peer in self.peers:
            self._send_append_entries(peer)

    def _send_append_entries(self, peer: int) -> None:
        prev = self.next_index[peer] - 1
        log = self.log
        if prev + 1 < len(log):
            msg = AppendEntries(self.current_term, self.me, prev, log[prev].term,
                                tuple(log[prev + 1:]), self.commit_index)
        else:  # a heartbeat: reuse the last one if it says the same
            msg = self._heartbeat
            if (msg.prev_log_index != prev or msg.term != self.current_term
                    or msg.leader_commit != self.commit_index):
                msg = self._heartbeat = AppendEntries(self.current_term, self.me, prev,
                                                      log[prev].term, (), self.commit_index)
        self.env.call(peer, msg)

    def _advance_commit(self) -> None:
        majority = self.n // 2 + 1
        for index in range(self.last_log_index, self.commit_index, -1):
            if self.log[index].term != self.current_term:
                break  # only entries of the current term are committed by counting (Fig. 8)
            if 1 + sum(1 for m in self.match_index.values() if m >= index) >= majority:
                self.commit_index = index
                self._apply_committed()
                break

    # ----------------------------------------------------------------- the variants' timers
    def _heard_from_leader(self) -> None:
        """A current leader's AppendEntries was accepted: no election is needed for the
        minimum election timeout (the lease behind pre_vote's and check_quorum's refusals)."""
        self._leader_heard = True
        self.env.set_timer(LEASE, self.config.election_timeout[0])

    def _arm_quorum_check(self) -> None:
        self._quorum_armed = True
        self.env.set_timer(QUORUM, self.config.election_timeout[0])

    def _check_quorum(self) -> None:
        """The leader's periodic check (``check_quorum``): step down to follower, same term,
        unless a majority (itself included) answered since the last check."""
        self._quorum_armed = False
        if self.role != LEADER or not self.config.check_quorum:
            return
        heard = len(self._heard) + 1
        self._heard = set()
        if heard * 2 <= self.n:
            self._become_follower(self.current_term)
            return
        self._arm_quorum_check()

    # ----------------------------------------------------------------- helpers
    def _apply_committed(self) -> None:
        while self.last_applied < self.commit_index:
            self.last_applied += 1
            self.env.apply(ApplyMsg(True, self.log[self.last_applied].command, self.last_applied))

    def _reset_election_timer(self) -> None:
        lo, hi = self.config.election_timeout
        self.env.set_timer(ELECTION, lo + (hi - lo) * self.rng.random())

    def _persist(self) -> None:
        self.persister.save(encode_state(self.current_term, self.voted_for, self.log[1:]))

    def __repr__(self) -> str:
        return (f"RaftNode(me={self.me}, term={self.current_term}, role={self.role}, "
                f"log={self.last_log_index}, commit={self.commit_index})")
