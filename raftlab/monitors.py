"""Figure 2 rule monitors: a node's every input checked against the rules, for any node class.

The grader runs its tests on a ``MonitoredCluster``: a ``Cluster`` whose node environments
(``MonitoredEnv``) hand each input to the node as usual and then look at what the node did,
through ``NodeProtocol`` alone (``role``, ``current_term``, ``log``, ``commit_index`` and the
reply it returned). The first broken rule raises ``RuleViolation`` at that very input, so the
run stops where it went wrong. The rules (ids from ``raftlab.rules``):

* ``step-down-request`` / ``step-down-reply``: a request or reply with a higher term leaves the
  node a follower at that term. Not held to it, by the variants' own rules: a ``PreVote``
  request (a pre-vote changes nothing in the voter), a granted ``PreVoteReply`` (etcd's carries
  the term asked about, not the voter's), and, with ``check_quorum``, a RequestVote refused
  without a term change by a leader or by a node that accepted AppendEntries from a current
  leader within the minimum election timeout (§4.2.3). A leader that steps down to follower
  at its own term (check_quorum) breaks no rule;
* ``stale-vote``: no vote for a candidate whose term is below the voter's;
* ``one-vote`` / ``vote-persisted``: one vote per term, across restarts too;
* ``term-monotonic`` / ``term-persisted``: a term never goes down, across restarts too;
* ``early-election``: no election (a candidacy or a pre-vote round started by a timer) sooner
  than the minimum election timeout after the node booted, granted a vote, or accepted
  AppendEntries from the current leader (granting a pre-vote is no vote);
* ``up-to-date``: votes only for a candidate whose log is at least as up to date;
* ``log-matching``: after a successful AppendEntries the log holds the leader's entries, and a
  conflicting tail is gone;
* ``commit-current-term``: a leader's commit index only advances onto its own term's entries;
* ``election-safety``: at most one leader per term.

A node that raises while handling an input fails with ``NodeError`` naming the node, the input
and the time.
"""

from __future__ import annotations

import functools
from typing import Any, Optional

from .cluster import Cluster
from .environment import NodeEnv
from .errors import CheckFailed
from .messages import AppendEntries, Message, PreVote, PreVoteReply, RequestVote
from .rules import RULES

__all__ = ["MonitoredCluster", "MonitoredEnv", "RuleMonitor", "RuleViolation", "NodeError"]

_CANDIDATES = ("candidate", "precandidate")
_EPSILON = 1e-6  # ms; timers are kept in whole microseconds


class RuleViolation(CheckFailed):
    """A node broke a rule (``rule``: an id of ``raftlab.rules.RULES``) at ``time`` ms,
    while handling an input (``node``); ``str(exc)`` says what it did."""

    def __init__(self, message: str, cluster: Any, rule: str, node: Optional[int],
                 time: float) -> None:
        super().__init__(message, cluster)
        self.rule = rule
        self.node = node
        self.time = time


class NodeError(Exception):
    """A node raised (or returned a wrong value) while handling an input."""

    def __init__(self, node: int, doing: str, time: float, cause: BaseException) -> None:
        super().__init__(f"node {node} raised {type(cause).__name__}: {cause} (while {doing}, "
                         f"at t={time} ms)")
        self.node = node
        self.doing = doing
        self.time = time
        self.cause = cause


def _a(name: str) -> str:
    """``name`` with its indefinite article: "an AppendEntries", "a RequestVote"."""
    return ("an " if name[0] in "AEIOU" else "a ") + name


class RuleMonitor:
    """What the monitors remember about each node across its instances: the highest term it
    reached, its votes, and the leader of each term."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.max_term: dict[int, int] = {}
        self.votes: dict[tuple[int, int], tuple[int, int]] = {}  # (node, term) -> (cand, life)
        self.lives: dict[int, int] = {}                          # node -> instances started
        self.leader_of: dict[int, int] = {}

    def violation(self, rule: str, node: Optional[int], message: str) -> RuleViolation:
        c = self.cluster
        return RuleViolation(f"{message} [{RULES[rule].title}]", c, rule, node, c.now)


class MonitoredEnv(NodeEnv):
    """A ``NodeEnv`` that checks the Figure 2 rules after every input it hands its node."""

    __slots__ = ("monitor", "life", "last_reset", "last_leader", "last_commit", "led_term")

    #: Whether the rules about elapsed time (``early-election``) are checked: exploration,
    #: which abstracts time away, turns this off in its subclass.
    timed = True

    def __init__(self, *args: Any, monitor: RuleMonitor) -> None:
        super().__init__(*args)
        self.monitor = monitor
        self.life = monitor.lives[self.id] = monitor.lives.get(self.id, 0) + 1
        self.last_reset = 0.0
        self.last_leader = -float("inf")  # when it last accepted a current leader's AppendEntries
        self.last_commit = 0
        self.led_term = -1  # the term whose leadership by this node was checked

    # ------------------------------------------------------------- helpers
    def _fail(self, rule: str, message: str) -> RuleViolation:
        return self.monitor.violation(rule, self.id, f"node {self.id} {message}")

    def _error(self, exc: Exception, doing: str, msg: Any = None, peer: Any = None) -> NodeError:
        """The ``NodeError`` for ``exc``, raised while ``doing`` (``msg`` from/to ``peer``)."""
        if msg is not None:
            doing = f"{doing} {type(msg).__name__}(term={msg.term}) {peer}"
        return NodeError(self.id, doing, self._sim.now, exc)

    def _guard(self, doing: str, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except (CheckFailed, NodeError):
            raise
        except Exception as exc:
            raise self._error(exc, doing) from exc

    def _after_input(self, term0: int) -> None:
        """The checks every input shares: terms only grow; one leader per term; a leader
        commits by counting only entries of its own term. (Callers skip the call when the
        node's term, commit index and leadership are as already checked: ``_unchanged``.)"""
        node = self.node
        term = node.current_term
        if term != term0:
            if term < term0:
                raise self._fail("term-monotonic", f"lowered its term from {term0} to {term}")
            max_term = self.monitor.max_term
            if term > max_term.get(self.id, -1):
                max_term[self.id] = term
        commit = node.commit_index
        if node.role == "leader":
            if term != self.led_term:
                other = self.monitor.leader_of.setdefault(term, self.id)
                if other != self.id:
                    raise self._fail("election-safety", f"became leader of term {term}, which "
                                     f"already has a leader, node {other}")
                self.led_term = term
            if commit > self.last_commit:
                entry_term = node.log[commit].term
                if entry_term != term:
                    raise self._fail("commit-current-term", f"(leader of term {term}) advanced "
                                     f"its commit index to {commit}, an entry of term "
                                     f"{entry_term}, by counting replicas")
        if commit > self.last_commit:
            self.last_commit = commit

    def _ignored_vote(self, request: Message, reply: Message, role0: str, term0: int) -> bool:
        """Whether a RequestVote was legitimately ignored under ``check_quorum`` (§4.2.3):
        refused, no term change, by a leader or by a node that accepted AppendEntries from a
        current leader within the minimum election timeout."""
        if not self.monitor.cluster.config.check_quorum or reply.granted:
            return False
        if self.node.current_term != term0:
            return False
        lo = self.monitor.cluster.config.election_timeout[0]
        return role0 == "leader" or self._sim.now - self.last_leader < lo + _EPSILON

    def _demoted(self, term: int, by: str) -> Optional[str]:
        node = self.node
        if node.current_term == term and node.role == "follower":
            return None
        return (f"is {node.role} at term {node.current_term} after {by} with term {term}; it "
                f"must be a follower at term {term}")

    # ------------------------------------------------------------- life cycle
    def boot(self) -> None:
        self.last_reset = self._sim.now
        self._guard("booting", super().boot)
        node, monitor = self.node, self.monitor
        before = monitor.max_term.get(self.id)
        if before is not None and node.current_term < before:
            raise self._fail("term-persisted", f"restarted at term {node.current_term}, but it "
                             f"had reached term {before} before it crashed")
        if node.current_term > monitor.max_term.get(self.id, -1):
            monitor.max_term[self.id] = node.current_term
        self.last_commit = node.commit_index
        self._after_input(node.current_term)

    # ------------------------------------------------------------- inputs
    def handle_request(self, src: int, request: Message) -> Message:
        node = self.node
        term0, role0 = node.current_term, node.role
        kind = type(request)
        is_vote = kind is RequestVote
        if is_vote:
            last = (node.log[-1].term, len(node.log) - 1)
        elif kind is PreVote:
            pass
        elif request.entries:
            conflict = self._first_conflict(request)
        try:
            reply = NodeEnv.handle_request(self, src, request)
        except (CheckFailed, NodeError):
            raise
        except Exception as exc:
            raise self._error(exc, "handling", request, f"from node {src}") from exc
        term = request.term
        if kind is PreVote:
            pass  # a pre-vote binds the voter to nothing: no term, no vote, no timer reset
        elif term >= term0:
            if term > term0 and not (is_vote and self._ignored_vote(request, reply, role0,
                                                                    term0)):
                problem = self._demoted(term, f"{_a(type(request).__name__)} from node {src}")
                if problem:
                    raise self._fail("step-down-request", problem)
            if is_vote:
                if reply.granted:
                    self._check_vote(src, request, last)
                    self.last_reset = self._sim.now
            else:
                # AppendEntries from the current leader
                self.last_reset = self.last_leader = self._sim.now
                if request.entries and reply.success:
                    self._check_appended(src, request, conflict)
        elif is_vote and reply.granted:
            raise self._fail("stale-vote", f"granted its vote to node {src} for term "
                             f"{term}, though its own term was {term0}")
        if (node.current_term != term0 or node.commit_index != self.last_commit
                or (node.role == "leader" and node.current_term != self.led_term)):
            self._after_input(term0)
        return reply

    def handle_reply(self, src: int, request: Message, reply: Message) -> None:
        node = self.node
        term0, role0 = node.current_term, node.role
        try:
            NodeEnv.handle_reply(self, src, request, reply)
        except (CheckFailed, NodeError):
            raise
        except Exception as exc:
            raise self._error(exc, "handling", reply, f"from node {src}") from exc
        if reply.term > term0 and not (type(reply) is PreVoteReply and reply.granted):
            problem = self._demoted(reply.term, f"{_a(type(reply).__name__)} from node {src}")
            if problem:
                raise self._fail("step-down-reply", problem)
        if node.role == "candidate" and (role0 != "candidate" or node.current_term != term0):
            # a precandidate that won its pre-vote round votes for itself as a candidate
            self.monitor.votes.setdefault((self.id, node.current_term), (self.id, self.life))
        if (node.current_term != term0 or node.commit_index != self.last_commit
                or (node.role == "leader" and node.current_term != self.led_term)):
            self._after_input(term0)

    def handle_failure(self, dst: int, request: Message) -> None:
        term0 = self.node.current_term
        try:
            NodeEnv.handle_failure(self, dst, request)
        except (CheckFailed, NodeError):
            raise
        except Exception as exc:
            raise self._error(exc, "handling the failed call", request, f"to node {dst}") from exc
        node = self.node
        if (node.current_term != term0 or node.commit_index != self.last_commit
                or (node.role == "leader" and node.current_term != self.led_term)):
            self._after_input(term0)

    def _fire(self, name: str) -> None:
        node = self.node
        if not self.alive:
            return
        role0, term0 = node.role, node.current_term
        try:
            NodeEnv._fire(self, name)
        except (CheckFailed, NodeError):
            raise
        except Exception as exc:
            raise self._error(exc, f"handling timer {name!r}") from exc
        role = node.role
        if (role == "candidate" or role == "precandidate") and (
                role != role0 or node.current_term != term0):
            if role == "candidate":  # a candidate votes for itself
                self.monitor.votes.setdefault((self.id, node.current_term), (self.id, self.life))
            lo = self.monitor.cluster.config.election_timeout[0]
            waited = self._sim.now - self.last_reset
            if waited < lo - _EPSILON and self.timed:
                raise self._fail("early-election", f"started an election {waited:g} ms after "
                                 f"it last booted, granted a vote or heard from the leader; "
                                 f"the election timeout is at least {lo:g} ms")
        if (node.current_term != term0 or node.commit_index != self.last_commit
                or (role == "leader" and node.current_term != self.led_term)):
            self._after_input(term0)

    # ------------------------------------------------------------- votes and logs
    def _check_vote(self, src: int, request: RequestVote, last: tuple[int, int]) -> None:
        """A granted vote of the current (or a newer) term: one per term, up to date; a stale
        one is caught before this is called."""
        key = (self.id, request.term)
        earlier = self.monitor.votes.setdefault(key, (request.candidate, self.life))
        if earlier[0] != request.candidate:
            if earlier[1] != self.life:
                raise self._fail("vote-persisted", f"voted for node {request.candidate} in term "
                                 f"{request.term} after a restart, though before the crash it "
                                 f"had voted for node {earlier[0]} in that term")
            first = "itself, as a candidate," if earlier[0] == self.id else f"node {earlier[0]}"
            raise self._fail("one-vote", f"voted twice in term {request.term}: for {first} "
                             f"and for node {request.candidate}")
        candidate_last = (request.last_log_term, request.last_log_index)
        if candidate_last < last:
            raise self._fail("up-to-date", f"voted for node {src}, whose log ends at "
                             f"(term {candidate_last[0]}, index {candidate_last[1]}), less up "
                             f"to date than its own (term {last[0]}, index {last[1]})")

    def _first_conflict(self, request: AppendEntries) -> Optional[int]:
        """The first index where the log has an entry of another term than the leader's."""
        log = self.node.log
        index = request.prev_log_index
        for entry in request.entries:
            index += 1
            if index >= len(log):
                return None
            if log[index].term != entry.term:
                return index
        return None

    def _check_appended(self, src: int, request: AppendEntries,
                        conflict: Optional[int]) -> None:
        log = self.node.log
        index = request.prev_log_index
        for entry in request.entries:
            index += 1
            if index >= len(log) or log[index].term != entry.term:
                have = f"term {log[index].term}" if index < len(log) else "nothing"
                raise self._fail("log-matching", f"answered success to node {src}'s "
                                 f"AppendEntries but holds {have} at index {index}, where the "
                                 f"leader sent an entry of term {entry.term}")
        if conflict is not None and len(log) - 1 > index:
            raise self._fail("log-matching", f"kept entries after index {index} although its "
                             f"entry at index {conflict} conflicted with node {src}'s (it must "
                             f"delete the conflicting entry and all that follow)")


class MonitoredCluster(Cluster):
    """A ``Cluster`` whose nodes are checked against the Figure 2 rules after every input
    (see the module docstring); ``Cluster``'s arguments."""

    def __init__(self, n: int, seed: int = 0, **kwargs: Any) -> None:
        self.monitor = RuleMonitor(self)
        self.env_class = functools.partial(MonitoredEnv, monitor=self.monitor)  # type: ignore
        super().__init__(n, seed, **kwargs)

    def start(self, i: int, command: Any) -> tuple[int, int, bool]:
        env = self._envs[self._id(i)]
        if env is None:
            return super().start(i, command)
        term0 = env.node.current_term
        result = env._guard(f"handling start({command!r})", super().start, i, command)
        env._after_input(term0)
        return result

    def get_state(self, i: int) -> tuple[int, bool]:
        env = self._envs[self._id(i)]
        if env is None:
            return super().get_state(i)
        try:
            state = env.node.get_state()
        except (CheckFailed, NodeError):
            raise
        except Exception as exc:
            raise env._error(exc, "handling get_state()") from exc
        if (not isinstance(state, tuple) or len(state) != 2 or not isinstance(state[0], int)
                or not isinstance(state[1], bool)):
            raise NodeError(i, "handling get_state()", self.now,
                            TypeError(f"get_state() returned {state!r}; it must return "
                                      f"(term: int, is_leader: bool)"))
        return state
