"""The harness side of one node instance: its network endpoint, its timers, and the observer
that writes what the node does into the trace.

A ``NodeEnv`` stands between one node instance and everything else. The network hands it
requests, replies and failures; the simulator fires its timers; it passes each to the node and
then looks at the node through ``NodeProtocol`` alone (``role`` and ``current_term``) and
records what it sees:

* a ``state`` event whenever the node's (role, term) differs from the last one seen -- checked
  after every input and whenever the node calls its environment, so even a candidacy that turns
  into leadership within one input is seen; but a leader whose term changed is recorded only
  at the end of the input (a leader that adopts a higher term, calls its environment and only
  then becomes a follower was never a leader of that term);
* a ``timeout`` event (with the term before) when a timer firing makes the node start an
  election: it becomes a candidate or precandidate, or, a precandidate already, it sends a new
  round of PreVote requests (its role and term stay the same, so only the requests show it);
* a ``vote`` event for every RequestVote reply the node returns, and a ``prevote`` event (same
  fields) for every PreVoteReply: a pre-vote is no vote (it binds the voter to nothing), so it
  is never a ``vote`` event and the election-safety check never counts it;
* a ``timer`` event for every timer set, cancelled or fired;
* ``append`` / ``truncate`` events when the node's ``log`` gains or loses entries, and a
  ``commit`` event when its ``commit_index`` changes -- checked after every input, at boot,
  after ``start`` and whenever the node calls ``env.apply`` (so a ``commit`` comes before the
  ``apply`` events it allows). The harness keeps a copy of the terms it has seen and, when the
  log's length or its last entry (by identity) changed, compares terms from the end back to
  the first index whose term agrees (the Log Matching property: same index and term, same
  prefix): O(changed entries), not O(log). A restarted instance starts from an empty observed
  log, so its persisted entries are ``append`` events at its boot.

So a node that never calls ``env.record`` still yields a complete trace.
"""

from __future__ import annotations

import math
from heapq import heappush
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Optional

from .messages import REPLY_TYPES, REQUEST_TYPES, AppendEntries, Message, RequestVote
from .persister import Persister
from .protocol import ROLES
from .trace import KINDS

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from .sim import Simulator
    from .trace import Trace

__all__ = ["NodeEnv", "OBSERVED_KINDS", "NODE_KINDS"]

#: Kinds the harness records itself; a node's own ``env.record`` of them is not recorded again.
OBSERVED_KINDS = frozenset({"state", "timeout", "vote", "prevote", "timer", "append",
                            "truncate", "commit", "next_index"})
#: Kinds a node may write with ``env.record``.
NODE_KINDS = frozenset({"note"})
_ELECTION_ROLES = frozenset({"candidate", "precandidate"})
_INF = math.inf


def _short(value: Any) -> str:
    text = repr(value)
    return f"a {type(value).__name__} ({text[:60]}{'...' if len(text) > 60 else ''})"


def _term_of(me: int, log: list, i: int) -> Any:
    """``log[i].term``, or a ``TypeError`` naming the node and the entry."""
    try:
        return log[i].term
    except AttributeError:
        raise TypeError(f"node {me}'s log entry {i} is {_short(log[i])}, which has no .term; "
                        f"NodeProtocol's log entries have .term and .command") from None


class NodeEnv:
    """The environment of one instance of node ``node_id`` (see the module docstring)."""

    __slots__ = ("node", "id", "alive", "persister", "_sim", "_append", "_network", "_apply",
                 "_timers", "_heap", "_seq", "_on_fire", "_role", "_term", "_firing",
                 "_log_last", "_log_len", "_terms", "_commit")

    def __init__(self, node_id: int, sim: Simulator, trace: Trace, network: Any,
                 persister: Persister, apply: Callable[[int, Any], None]) -> None:
        self.node: Any = None
        self.id = node_id
        self.alive = True
        self.persister = persister
        self._sim = sim
        self._append = trace.append
        self._network = network
        self._apply = apply
        # each pending timer: [due time in µs, its heap entry], one dict for both so that
        # the election timer's reset at every heartbeat costs one lookup
        self._timers: dict[str, list] = {}
        self._heap, self._seq = sim.queue()  # timer entries are pushed here directly
        self._on_fire = self._fire  # bound once, not at every push
        self._role: Optional[str] = None    # the (role, term) last recorded
        self._term: Optional[int] = None
        self._firing: Optional[int] = None  # the term when a timer fired, during on_timer
        # the log as last recorded: its last entry (the object), length, every entry's term,
        # and the commit index; ``_log_last`` None: not yet seen (boot records it)
        self._log_last: Any = None
        self._log_len = 1
        self._terms: list[int] = [0]
        self._commit = 0

    # ------------------------------------------------------------- observing the node
    def observe(self) -> None:
        """Record a ``state`` event if the node's (role, term) changed since last seen.
        (The hot paths below test ``role is not self._role or term != self._term`` inline
        before calling this: the common case, no change, then costs no call.)"""
        node = self.node
        role, term = node.role, node.current_term
        if role == self._role and term == self._term:
            return
        if role not in ROLES:
            raise ValueError(f"node {self.id}'s role is {role!r}; NodeProtocol roles are "
                             f"{', '.join(ROLES)}")
        if isinstance(term, bool) or not isinstance(term, int) or term < 0:
            raise ValueError(f"node {self.id}'s current_term is {term!r}; it must be an int "
                             f">= 0")
        now = self._sim.now
        if self._firing is not None and role in _ELECTION_ROLES:
            self._append((now, "timeout", self.id, self._firing))
            self._firing = None
        self._role, self._term = role, term
        self._append((now, "state", self.id, term, role))

    def observe_log(self) -> None:
        """Record ``truncate`` / ``append`` events for what changed in the node's log since
        last seen, then a ``commit`` event if its ``commit_index`` changed. (The hot paths
        test the log's last entry, its length and the commit index inline before calling
        this: a heartbeat that changes nothing then costs no call.)"""
        node = self.node
        log = node.log
        me = self.id
        if type(log) is not list:
            raise TypeError(f"node {me}'s log is {_short(log)}; NodeProtocol's log is a list "
                            f"whose index 0 is a sentinel entry of term 0")
        if not log:
            raise ValueError(f"node {me}'s log is empty; NodeProtocol's log starts with a "
                             f"sentinel entry of term 0 at index 0")
        terms = self._terms
        length = len(log)
        now = self._sim.now
        record = self._append
        if log[-1] is not self._log_last or length != self._log_len:
            # walk back from the shorter end to the first index whose term agrees: entries
            # from there on are what changed (Log Matching: an equal term, an equal prefix)
            k = min(length, len(terms)) - 1
            while k > 0 and _term_of(me, log, k) != terms[k]:
                k -= 1
            first = k + 1
            if first < len(terms):
                del terms[first:]
                record((now, "truncate", me, first))
            for i in range(first, length):
                term = _term_of(me, log, i)
                if isinstance(term, bool) or not isinstance(term, int) or term < 0:
                    raise ValueError(f"node {me}'s log entry {i} has term {term!r}; a term is "
                                     f"an int >= 0")
                terms.append(term)
                record((now, "append", me, i, term))
            self._log_last, self._log_len = log[-1], length
        commit = node.commit_index
        if commit != self._commit:
            if isinstance(commit, bool) or not isinstance(commit, int) or commit < 0:
                raise ValueError(f"node {me}'s commit_index is {commit!r}; it must be an int "
                                 f">= 0")
            self._commit = commit
            record((now, "commit", me, commit))

    def _observe_call(self) -> None:
        """``observe()`` when the node calls its environment in the middle of an input, except
        for a leader whose term changed: it is stepping down (it adopted a higher term and has
        not yet changed its role), and the end of the input records what it becomes."""
        if self._role == "leader" and self.node.role == "leader":
            return
        self.observe()

    def boot(self) -> None:
        """Start the instance and record its first state."""
        self.node.boot()
        self.observe()
        self.observe_log()

    # ------------------------------------------------------------- inputs from the network
    def handle_request(self, src: int, request: Message) -> Message:
        """Pass a delivered request to the node; record the state it leaves and, for a
        RequestVote, the vote; return the reply."""
        node = self.node
        reply = node.handle_request(src, request)
        kind = type(request)
        if type(reply) is not REPLY_TYPES[kind]:
            raise TypeError(f"node {self.id}: handle_request({src}, {request!r}) returned "
                            f"{reply!r}; it must return a {REPLY_TYPES[kind].__name__}")
        if node.role is not self._role or node.current_term != self._term:
            self.observe()
        try:  # free in Python 3.11 unless it raises (a log that is no list, or empty)
            log = node.log
            if (log[-1] is not self._log_last or len(log) != self._log_len
                    or node.commit_index != self._commit):
                self.observe_log()
        except (LookupError, TypeError):
            self.observe_log()  # raises what is wrong with the log, naming the node
            raise
        if kind is not AppendEntries:  # a vote, or a pre-vote
            record = self._append
            record((self._sim.now, "vote" if kind is RequestVote else "prevote", self.id,
                    request.candidate, request.term, bool(reply.granted)))
        return reply

    def handle_reply(self, src: int, request: Message, reply: Message) -> None:
        node = self.node
        node.handle_reply(src, request, reply)
        if node.role is not self._role or node.current_term != self._term:
            self.observe()
        try:  # free in Python 3.11 unless it raises (a log that is no list, or empty)
            log = node.log
            if (log[-1] is not self._log_last or len(log) != self._log_len
                    or node.commit_index != self._commit):
                self.observe_log()
        except (LookupError, TypeError):
            self.observe_log()  # raises what is wrong with the log, naming the node
            raise

    def handle_failure(self, dst: int, request: Message) -> None:
        node = self.node
        node.handle_failure(dst, request)
        # as in ``handle_reply``: leaders call cut-off peers often, and most failures change
        # nothing in the node
        if node.role is not self._role or node.current_term != self._term:
            self.observe()
        try:
            log = node.log
            if (log[-1] is not self._log_last or len(log) != self._log_len
                    or node.commit_index != self._commit):
                self.observe_log()
        except (LookupError, TypeError):
            self.observe_log()  # raises what is wrong with the log, naming the node
            raise

    # ------------------------------------------------------------- the node's requests
    def call(self, dst: int, request: Message) -> None:
        """Send ``request`` to node ``dst``."""
        if type(request) not in REQUEST_TYPES:
            raise TypeError(f"node {self.id}: env.call({dst!r}, {request!r}): a request must "
                            f"be a RequestVote, an AppendEntries or a PreVote")
        node = self.node
        if node.role is not self._role or node.current_term != self._term:
            self._observe_call()
        self._network.call(self.id, dst, request)

    def set_timer(self, name: str, delay: float) -> None:
        """Fire ``node.on_timer(name)`` after ``delay`` ms, replacing a pending one."""
        if not 0 <= delay < _INF or type(name) is not str:
            self._bad_timer(name, delay)
        node = self.node
        if node.role is not self._role or node.current_term != self._term:
            self._observe_call()
        sim = self._sim
        # ``x.__round__()`` is ``round(x)`` without the builtin's lookup of the special
        # method: the same value, at about half the cost
        due = sim.now_us + (delay * 1000).__round__()
        record = self._append  # a local: ``self._append(...)`` would look the method up slowly
        record((sim.now, "timer", self.id, name, "set", due / 1000))
        timer = self._timers.get(name)
        if timer is None:
            self._timers[name] = [due, self._push(due, name)]
            return
        timer[0] = due
        entry = timer[1]
        if entry[0] <= due:
            return  # the pending entry fires first and re-arms itself for ``due``
        entry[2] = None
        timer[1] = self._push(due, name)

    def _bad_timer(self, name: Any, delay: Any) -> NoReturn:
        """Raise the error for ``set_timer(name, delay)`` with a bad delay or name (for every
        environment that takes timers, so a node gets the same message everywhere)."""
        if not 0 <= delay < _INF:
            raise ValueError(f"node {self.id}: set_timer({name!r}, {delay!r}): the delay must "
                             f"be a finite number of ms >= 0")
        raise TypeError(f"node {self.id}: a timer name must be a str, got {name!r}")

    def _push(self, due: int, name: str) -> list:
        """Schedule ``self._fire(name)`` at ``due`` µs (``sim.push_us``, inlined)."""
        entry = [due, next(self._seq), self._on_fire, (name,)]
        heappush(self._heap, entry)
        return entry

    def cancel_timer(self, name: str) -> None:
        """Forget the pending timer ``name`` (nothing happens if there is none)."""
        self._observe_call()
        timer = self._timers.pop(name, None)
        if timer is None:
            return
        timer[1][2] = None
        self._append((self._sim.now, "timer", self.id, name, "cancel", None))

    def apply(self, msg: Any) -> None:
        """A committed command for the service (the harness checks and records it)."""
        self._observe_call()
        self.observe_log()
        self._apply(self.id, msg)

    def record(self, kind: str, *values: Any) -> None:
        """An event of this node, written by the node itself: a ``note`` (one text). The
        kinds the harness observes (``OBSERVED_KINDS``) are accepted and not recorded again;
        the harness's own kinds (messages, faults, ...) cannot be written by a node."""
        if kind not in NODE_KINDS and kind not in OBSERVED_KINDS:
            raise ValueError(f"node {self.id}: env.record({kind!r}, ...): unknown kind; a "
                             f"node may record {', '.join(sorted(NODE_KINDS))} (the harness "
                             f"records {', '.join(sorted(OBSERVED_KINDS))} itself)")
        fields = KINDS[kind]
        if len(values) != len(fields) - 1:
            raise ValueError(f"node {self.id}: env.record({kind!r}, ...) takes "
                             f"{len(fields) - 1} value(s) ({', '.join(fields[1:])}), "
                             f"got {len(values)}")
        if kind in NODE_KINDS:
            self._append((self._sim.now, kind, self.id, *values))

    # ------------------------------------------------------------- timers
    def _fire(self, name: str) -> None:
        if not self.alive:
            return
        timer = self._timers.get(name)
        if timer is None:
            return
        sim = self._sim
        due = timer[0]
        if due > sim.now_us:
            timer[1] = self._push(due, name)
            return
        del self._timers[name]
        record = self._append
        record((sim.now, "timer", self.id, name, "fire", sim.now))
        node = self.node
        self._firing = self._term
        # a precandidate whose timer starts a new pre-vote round changes neither role nor
        # term: the PreVote requests it sends during this input are what show the round
        mark = len(self._append.__self__) if self._role == "precandidate" else -1
        try:
            node.on_timer(name)
            if node.role is not self._role or node.current_term != self._term:
                self.observe()
            elif mark >= 0 and self._firing is not None:
                self._pre_vote_round(mark)
            try:  # free in Python 3.11 unless it raises (a log that is no list, or empty)
                log = node.log
                if (log[-1] is not self._log_last or len(log) != self._log_len
                        or node.commit_index != self._commit):
                    self.observe_log()
            except (LookupError, TypeError):
                self.observe_log()  # raises what is wrong with the log, naming the node
                raise
        finally:
            self._firing = None

    def _pre_vote_round(self, mark: int) -> None:
        """Record a ``timeout`` (just after the timer's ``fire`` event, where a first round's
        is) if the precandidate sent PreVote requests since the trace had ``mark`` events."""
        events = self._append.__self__
        me = self.id
        for k in range(mark, len(events)):
            e = events[k]
            if e[1] == "send" and e[2] == me and e[4] == "PreVote":
                events.insert(mark, (self._sim.now, "timeout", me, self._firing))
                return

    def stop(self) -> None:
        """The instance is crashed: cancel its timers; nothing reaches it any more."""
        self.alive = False
        for _, entry in self._timers.values():
            entry[2] = None
        self._timers.clear()
