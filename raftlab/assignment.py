"""The lab in steps: what to implement, the Figure 2 rule it implements, and a check of it.

``raftlab lab init`` writes a skeleton ``raft.py`` and a notebook that walks through
``STEPS`` in order. Each step is checked on its own, on small clusters of the student's class
(and, for the RPC handlers, on one server driven input by input), by reading the trace by
field name::

    from raftlab.assignment import check, check_all
    check(Raft, "election")          # one step: a StepResult (passed, message, hint)
    check_all(Raft, part="3A")       # every step of a part, in order

A check never raises for a wrong node: an exception in the node is reported with the node,
the virtual time and the input it was handling, and a run that floods the simulator is
stopped and named. ``run(cluster, ms)`` does the same for the notebook's own clusters.
The ported tests over many seeds are ``raftlab.grading``'s job; a step says *which* rule is
missing, early, with a hint.
"""

from __future__ import annotations

import html
import linecache
import os
import random
import sysconfig
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from .cluster import Cluster
from .config import DEFAULTS, RaftConfig, constructor_call
from .errors import CheckFailed
from .formatting import format_ms, plain_number
from .labtests import many_elections, re_election
from .messages import (REPLY_TYPES, REQUEST_TYPES, AppendEntries, AppendEntriesReply,
                       LogEntry, RequestVote, RequestVoteReply)
from .node import ApplyMsg
from .persister import Persister, decode_state, encode_state
from .protocol import check_node_class
from .rules import rule
from .safety import election_safety_violations
from .sim import FloodError

__all__ = ["Step", "StepResult", "StepReport", "STEPS", "PARTS", "steps", "check", "check_all",
           "run", "describe_node_error"]

#: The parts ``raftlab lab init --part`` offers: the election lab, or the whole of 3A-3C.
PARTS = ("3A", "all")

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_ENVIRONMENT_FILE = os.path.join(_PACKAGE_DIR, "environment.py")
_STDLIB_DIR = os.path.abspath(sysconfig.get_paths()["stdlib"])


# ============================================================================ results
@dataclass
class StepResult:
    """The verdict of one step's check: ``passed``, a ``message`` saying what was seen, a
    ``hint`` when it failed, and ``cluster``: the run the verdict is about (draw it with
    ``raftlab.plots.timeline(result.cluster)``; None when no cluster was built)."""

    step: str
    number: int
    title: str
    passed: bool
    message: str
    hint: str = ""
    cluster: Optional[Cluster] = field(default=None, repr=False, compare=False)

    @property
    def rebuild(self) -> Optional[str]:
        """The constructor call that rebuilds ``cluster`` (the same calls replay it exactly)."""
        return None if self.cluster is None else self.cluster.rebuild_call()

    def __bool__(self) -> bool:
        return self.passed

    def _lines(self) -> list[str]:
        lines = [f"step {self.number}, {self.title}: {'PASSED' if self.passed else 'FAILED'}",
                 *_indent(self.message)]
        if self.hint and not self.passed:
            lines += _indent(f"hint: {self.hint}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self._lines())

    __repr__ = __str__

    def _repr_html_(self) -> str:
        colour, verdict = ("#009E73", "passed") if self.passed else ("#D55E00", "failed")
        hint = ("" if self.passed or not self.hint else
                f"<p style='margin:4px 0'><b>Hint.</b> {html.escape(self.hint)}</p>")
        return (f"<div style='border-left:6px solid {colour};padding:4px 10px;margin:4px 0'>"
                f"<p style='margin:4px 0'><b>Step {self.number}, {html.escape(self.title)}:"
                f" <span style='color:{colour}'>{verdict}</span></b></p>"
                f"<p style='margin:4px 0;white-space:pre-wrap'>{html.escape(self.message)}</p>"
                f"{hint}</div>")


class StepReport(list):
    """The results of ``check_all``, in step order; ``passed`` if every step passed."""

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self)

    def __str__(self) -> str:
        done = sum(r.passed for r in self)
        return "\n".join([f"{done} of {len(self)} steps passed"] + [str(r) for r in self])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        done = sum(r.passed for r in self)
        return (f"<p><b>{done} of {len(self)} steps passed</b></p>"
                + "".join(r._repr_html_() for r in self))


def _indent(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines()]


# ============================================================================ steps
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


class _Fail(Exception):
    """A check found the rule broken: ``message`` (what was seen) and ``hint``."""

    def __init__(self, message: str, hint: str = "", cluster: Optional[Cluster] = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.cluster = cluster


class _Lab:
    """What a check function works with: the student's class, and the clusters it builds."""

    def __init__(self, node_class: Any) -> None:
        self.node_class = node_class
        self.last: Optional[Cluster] = None

    def cluster(self, n: int, seed: int, **kwargs: Any) -> Cluster:
        """A cluster of the student's class (remembered as the one the verdict is about)."""
        self.last = None
        try:
            c = Cluster(n, seed=seed, node_class=self.node_class, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the student's __init__ or boot() failed
            self._failed_to_build(exc, n, seed, kwargs)
        self.last = c
        return c

    def _failed_to_build(self, exc: BaseException, n: int, seed: int,
                         kwargs: dict[str, Any]) -> None:
        message, hint = describe_node_error(exc, None, self.node_class)
        first, _, rest = message.partition("\n")
        args = {k: v for k, v in kwargs.items() if plain_number(v) != plain_number(DEFAULTS[k])}
        call = constructor_call(n, seed, {**args, "node_class": self.node_class})[1]
        raise _Fail(f"{first} (at t=0 ms, as the cluster was built)\nrun: {call}"
                    + (f"\n{rest}" if rest else ""), hint) from None

    def probe(self, n: int = 3, me: int = 0, state: bytes = b"") -> "_Probe":
        """One server of the student's class, outside any cluster, driven input by input."""
        return _Probe(self.node_class, me, n, state)

    def start(self, c: Cluster, i: int, command: Any) -> tuple[int, int, bool]:
        """``c.start(i, command)``; an exception in the node fails the step, saying so."""
        try:
            return c.start(i, command)
        except Exception as exc:  # noqa: BLE001 - any error of the student's node
            message, hint = describe_node_error(exc, c, self.node_class,
                                                f"start({command!r}) on node {i}")
            raise _Fail(message, hint, c) from None


def _fail(message: str, hint: str = "", cluster: Optional[Cluster] = None) -> _Fail:
    return _Fail(message, hint, cluster)


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


def _with_notes(exc: BaseException) -> str:
    return "\n".join([str(exc), *getattr(exc, "__notes__", [])])


# ============================================================================ node errors
_INPUTS = {"handle_request", "handle_reply", "handle_failure", "_fire", "boot"}


def _describe_input(name: str, local: dict) -> str:
    if name == "handle_request":
        return f"{local.get('request')!r} from node {local.get('src')}"
    if name == "handle_reply":
        return (f"the reply {local.get('reply')!r} from node {local.get('src')} to its "
                f"{local.get('request')!r}")
    if name == "handle_failure":
        return f"the failure of its call {local.get('request')!r} to node {local.get('dst')}"
    if name == "_fire":
        return f"its timer {local.get('name')!r} firing (on_timer)"
    return "boot()"


def _own_code(filename: str) -> bool:
    path = os.path.abspath(filename)
    return not (path.startswith(_PACKAGE_DIR + os.sep) or path.startswith(_STDLIB_DIR + os.sep)
                or "site-packages" in path or filename.startswith("<frozen"))


def describe_node_error(exc: BaseException, cluster: Optional[Cluster], node_class: Any,
                        doing: Optional[str] = None) -> tuple[str, str]:
    """``(message, hint)`` for an exception raised while the harness ran a node: which node,
    at what virtual time, handling which input (read from the harness's frames), and the
    line of the node's own code where it was raised."""
    where_env: Optional[tuple[int, str]] = None
    where_code: Optional[tuple[str, int, str]] = None
    seen: set[int] = set()
    chain: Optional[BaseException] = exc
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        tb = chain.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            code = frame.f_code
            if (os.path.abspath(code.co_filename) == _ENVIRONMENT_FILE
                    and code.co_name in _INPUTS and where_env is None):
                owner = frame.f_locals.get("self")
                node_id = getattr(owner, "id", None)
                where_env = (node_id, _describe_input(code.co_name, frame.f_locals))
            if _own_code(code.co_filename):
                where_code = (code.co_filename, tb.tb_lineno, code.co_name)
            tb = tb.tb_next
        chain = chain.__cause__ or chain.__context__
    name = getattr(node_class, "__qualname__", "the node")
    error = f"{type(exc).__name__}: {exc}"
    when = "" if cluster is None else f" at t={format_ms(cluster.now)} ms"
    if where_env is not None:
        who, what = where_env
        message = f"node {who} raised {error}{when} while handling {what}"
    elif doing is not None:
        message = f"{doing} raised {error}{when}"
    else:
        message = f"{name} raised {error}{when}"
    if cluster is not None:
        message += f"\nrun: {cluster.rebuild_call()}"
    if where_code is not None:
        filename, lineno, func = where_code
        text = linecache.getline(filename, lineno).strip()
        message += f"\n{os.path.basename(filename)}, line {lineno}, in {func}: {text}"
    return message, rule("node-error").hint


def run(cluster: Cluster, ms: float) -> Optional[str]:
    """``cluster.run_for(ms)``, for the notebook: if the node raises (or floods the
    simulator), print what happened, where and when, and stop there instead of raising, so
    the timeline of what came before can still be drawn. Returns that text, or None."""
    try:
        cluster.run_for(ms)
        return None
    except FloodError as exc:
        text = _with_notes(exc)
    except CheckFailed as exc:
        text = _with_notes(exc)
    except Exception as exc:  # noqa: BLE001 - the student's node raised
        message, _ = describe_node_error(exc, cluster, cluster.node_class)
        text = message
    print(text)
    return text


# ============================================================================ probes
class _ProbeEnv:
    """The environment of a server driven alone by a check: it keeps what the server asks."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, Any]] = []
        self.timers: list[tuple[str, float]] = []
        self.cancelled: list[str] = []
        self.applied: list[Any] = []

    def call(self, dst: int, request: Any) -> None:
        if type(request) not in REQUEST_TYPES:
            raise TypeError(f"env.call({dst!r}, {request!r}): a request must be a RequestVote, "
                            f"an AppendEntries or a PreVote")
        self.calls.append((dst, request))

    def set_timer(self, name: str, delay: float) -> None:
        self.timers.append((name, delay))

    def cancel_timer(self, name: str) -> None:
        self.cancelled.append(name)

    def apply(self, msg: Any) -> None:
        self.applied.append(msg)

    def record(self, kind: str, *values: Any) -> None:
        pass


class _Probe:
    """One server of the student's class outside any cluster: the check hands it one input
    at a time and looks at its reply, its state and what it asked of its environment."""

    def __init__(self, node_class: Any, me: int, n: int, state: bytes) -> None:
        self.node_class = node_class
        self.me, self.n = me, n
        self.env = _ProbeEnv()
        self.persister = Persister(state)
        name = node_class.__qualname__
        self.node = self._do(f"{name}(me={me}, n={n}, persister, env, config, rng)",
                             lambda: node_class(me, n, self.persister, self.env, RaftConfig(),
                                                random.Random(1)))
        self._do(f"boot() of node {me}", self.node.boot)

    def _do(self, what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - the student's node raised
            message, hint = describe_node_error(exc, None, self.node_class)
            message = message.replace(f"{self.node_class.__qualname__} raised",
                                      f"{what} raised", 1)
            raise _Fail(message, hint) from None

    @property
    def state(self) -> str:
        node = self.node
        return f"{getattr(node, 'role', '?')} of term {getattr(node, 'current_term', '?')}"

    @property
    def role(self) -> Any:
        return getattr(self.node, "role", None)

    @property
    def term(self) -> Any:
        return getattr(self.node, "current_term", None)

    def saved(self) -> tuple[int, Optional[int], list]:
        """What the server saved: ``(term, voted_for, log entries)``."""
        return decode_state(self.persister.read())

    def fire_election_timer(self) -> None:
        """Fire the timer the server set in ``boot()`` (its election timer)."""
        if not self.env.timers:
            raise _fail(f"node {self.me} set no timer in boot(): a server starts with an "
                        f"election timer (step 1)", rule("no-election").hint)
        name = self.env.timers[0][0]
        self._do(f"on_timer({name!r}) on node {self.me}", lambda: self.node.on_timer(name))

    def reply(self, src: int, request: Any, reply: Any) -> None:
        """Hand ``reply`` (from ``src``, to our ``request``) to ``handle_reply``."""
        self._do(f"handle_reply({src}, {request!r}, {reply!r}) on node {self.me}",
                 lambda: self.node.handle_reply(src, request, reply))

    def candidate(self) -> RequestVote:
        """Make the server start an election (its election timer fires); its RequestVote."""
        self.fire_election_timer()
        asked = [r for _, r in self.env.calls if isinstance(r, RequestVote)]
        if self.role != "candidate" or not asked:
            raise _fail(f"node {self.me}'s election timer fired and it is now a {self.state}, "
                        f"having sent {len(asked)} RequestVote(s); this step needs elections "
                        f"to start (step 2)", rule("no-request-vote").hint)
        return asked[-1]

    def request(self, src: int, msg: Any) -> Any:
        """Hand ``msg`` from ``src`` to ``handle_request``; the reply must have the right type."""
        timers = len(self.env.timers)
        reply = self._do(f"handle_request({src}, {msg!r}) on node {self.me}",
                         lambda: self.node.handle_request(src, msg))
        want = REPLY_TYPES[type(msg)]
        if type(reply) is not want:
            raise _fail(f"node {self.me} answered {msg!r} with {reply!r}; handle_request must "
                        f"return a {want.__name__}", rule("node-error").hint)
        self.reset = len(self.env.timers) > timers
        return reply


def _who(nodes: Iterable[int]) -> str:
    nodes = sorted(nodes)
    if not nodes:
        return "nobody"
    if len(nodes) == 1:
        return f"node {nodes[0]}"
    return "nodes " + ", ".join(map(str, nodes[:-1])) + f" and {nodes[-1]}"


def _leader_event(e: Any) -> bool:
    return e.kind == "state" and e.role == "leader"


def _wait_leader(lab: _Lab, c: Cluster, within: float = 5000, step: str = "step 4") -> Any:
    event = c.run_until_event(_leader_event, within)
    if event is None:
        raise _fail(f"no leader within {format_ms(within)} ms of {c.rebuild_call()}; this step "
                    f"needs one", f"this step builds on {step}: make their checks pass first.",
                    c)
    return event


# ============================================================================ step 1
def _check_timeouts(lab: _Lab) -> str:
    seen = []
    for seed, timeout in ((1, (300, 600)), (2, (200, 260))):
        c = lab.cluster(5, seed, election_timeout=timeout)
        first: dict[int, Any] = {}
        for e in c.trace.of("timer"):
            if e.action == "set" and e.node not in first:
                first[e.node] = e
        missing = [i for i in range(c.n) if i not in first]
        if missing:
            raise _fail(f"{_who(missing)} set no timer in boot() ({c.rebuild_call()}): a server "
                        f"starts with an election timer", rule("no-election").hint, c)
        lo, hi = timeout
        dues = [first[i].due - first[i].time for i in range(c.n)]
        for i, due in enumerate(dues):
            if not lo <= due <= hi:
                raise _fail(f"with election_timeout={timeout}, node {i}'s first timer "
                            f"({first[i].name!r}) is due after {format_ms(due)} ms, outside "
                            f"{lo}-{hi} ms ({c.rebuild_call()})",
                            "read the range from self.config.election_timeout each time you "
                            "draw a timeout (it can change at run time); do not write numbers "
                            "of your own.", c)
        if len(set(dues)) == 1:
            raise _fail(f"all {c.n} servers' first election timers are due after the same "
                        f"{format_ms(dues[0])} ms ({c.rebuild_call()}): the timeouts are not "
                        f"random, so every election would be a split vote",
                        rule("fixed-timeout").hint, c)
        seen.append(f"{timeout[0]}-{timeout[1]} ms: "
                    + ", ".join(format_ms(round(d, 1)) for d in dues))
    a = lab.cluster(3, 7)
    a.run_for(3000)
    b = lab.cluster(3, 7)
    b.run_for(3000)
    if a.trace.raw != b.trace.raw:
        k = next((k for k, (x, y) in enumerate(zip(a.trace.raw, b.trace.raw)) if x != y),
                 min(len(a.trace), len(b.trace)))
        first_a = a.trace[k] if k < len(a.trace) else "(the end)"
        first_b = b.trace[k] if k < len(b.trace) else "(the end)"
        raise _fail(f"two runs of {a.rebuild_call()} differ from event {k} on: {first_a} in "
                    f"one, {first_b} in the other", rule("reproducible").hint, b)
    return ("the first election timeouts of five servers, in ms: " + "; ".join(seen)
            + ". Two runs of seed 7 gave identical traces.")


# ============================================================================ step 2
def _check_election(lab: _Lab) -> str:
    seen = []
    for seed in (1, 2, 3):
        c = lab.cluster(3, seed)
        event = c.run_until_event(lambda e: e.kind == "state" and e.role == "candidate", 1000)
        if event is None:
            fired = [e for e in c.trace.of("timer") if e.action == "fire"]
            if not fired:
                raise _fail(f"no timer fired within 1000 ms of {c.rebuild_call()}: boot() must "
                            f"set an election timer (step 1)", rule("no-election").hint, c)
            f = fired[0]
            raise _fail(f"node {f.node}'s timer {f.name!r} fired at {format_ms(f.time)} ms, but "
                        f"no server became a candidate within 1000 ms of {c.rebuild_call()}",
                        rule("no-election").hint, c)
        node, term, t0 = event.node, event.term, event.time
        if term != 1:
            raise _fail(f"node {node} became a candidate of term {term} at {format_ms(t0)} ms; "
                        f"the first election of a fresh cluster is term 1: a candidate "
                        f"increments current_term once ({c.rebuild_call()})",
                        "on_election_timeout: current_term += 1, then ask for votes in that "
                        "term.", c)
        sends = [e for e in c.trace.window(t0, t0)
                 if e.kind == "send" and e.src == node and e.msg == "RequestVote"]
        peers = set(range(c.n)) - {node}
        asked = {e.dst for e in sends}
        if not peers <= asked:
            raise _fail(f"node {node} became a candidate of term 1 at {format_ms(t0)} ms but "
                        f"asked only {_who(asked)} for a vote, not {_who(peers - asked)} "
                        f"({c.rebuild_call()})", rule("no-request-vote").hint, c)
        stale = [e for e in sends if e.term != term]
        if stale:
            raise _fail(f"node {node}, candidate of term {term}, sent a RequestVote of term "
                        f"{stale[0].term} ({c.rebuild_call()}): a RequestVote carries the "
                        f"candidate's current term", rule("no-request-vote").hint, c)
        if not any(e.kind == "timer" and e.node == node and e.action == "set"
                   for e in c.trace.window(t0, t0)):
            raise _fail(f"node {node} became a candidate at {format_ms(t0)} ms without setting "
                        f"its election timer again ({c.rebuild_call()}): if this election "
                        f"fails, nothing would ever start the next one",
                        "Candidates, on conversion: reset the election timer "
                        "(self.reset_election_timer()).", c)
        raft = c.nodes[node].raft
        if hasattr(raft, "voted_for") and raft.voted_for != node:
            raise _fail(f"node {node} became a candidate of term 1 with voted_for = "
                        f"{raft.voted_for!r} ({c.rebuild_call()}): a candidate votes for itself",
                        "on_election_timeout: self.voted_for = self.me (and count that vote).",
                        c)
        c.run_for(100)
        for vote in c.trace.of("vote"):
            if vote.term == term and vote.candidate != node and vote.node != node:
                sender = [e for e in c.trace.of("deliver")
                          if e.dst == vote.node and e.time == vote.time and e.src == node]
                if sender:
                    raise _fail(f"node {node}'s RequestVote names candidate {vote.candidate}; "
                                f"it must name the candidate itself ({c.rebuild_call()})",
                                "RequestVote(term, candidate=self.me, last_log_index, "
                                "last_log_term).", c)
        seen.append(f"node {node} at {format_ms(t0)} ms (seed {seed})")
    return ("a server became a candidate of term 1, voted for itself, reset its election timer "
            "and asked every other server for its vote: " + "; ".join(seen) + ".")


# ============================================================================ step 3
def _check_votes(lab: _Lab) -> str:
    p = lab.probe(n=3, me=0)
    rv = RequestVote(1, 1, 0, 0)
    reply = p.request(1, rv)
    if not (reply.granted and reply.term == 1):
        raise _fail(f"a fresh server (term 0, no vote, empty log) answered {rv!r} with "
                    f"{reply!r}; it must adopt term 1 and grant the vote: "
                    f"RequestVoteReply(term=1, granted=True)",
                    "request_vote: adopt a higher term first (current_term = args.term, "
                    "voted_for = None, become a follower), then grant if voted_for is None or "
                    "args.candidate.")
    if getattr(p.node, "current_term", None) != 1:
        raise _fail(f"after granting {rv!r} the server is a {p.state}; it must now be in term 1",
                    rule("step-down-request").hint)
    if not p.reset:
        raise _fail(f"the server granted {rv!r} without resetting its election timer",
                    "Followers: the election timer restarts when a vote is granted "
                    "(self.reset_election_timer()).")
    term, voted, _ = p.saved()
    if (term, voted) != (1, 1):
        raise _fail(f"the server granted {rv!r}, but the state it saved says term {term}, "
                    f"voted for {voted!r}: a server that crashes now would forget its vote and "
                    f"could vote again in term 1", rule("vote-persisted").hint)
    again = p.request(1, rv)
    if not again.granted:
        raise _fail(f"the server voted for node 1 in term 1, then answered the same {rv!r} "
                    f"again (its first reply may have been lost) with {again!r}; a vote for "
                    f"the same candidate is granted again",
                    "grant if voted_for is None or voted_for == args.candidate.")
    other = RequestVote(1, 2, 0, 0)
    reply = p.request(2, other)
    if reply.granted:
        raise _fail(f"the server voted for node 1 in term 1, then granted {other!r} too: two "
                    f"votes in one term", rule("one-vote").hint)
    stale = RequestVote(0, 2, 0, 0)
    reply = p.request(2, stale)
    if reply.granted or reply.term != 1:
        raise _fail(f"a server of term 1 answered {stale!r} with {reply!r}; it must refuse a "
                    f"candidate of an older term and reply its own term, 1",
                    rule("stale-vote").hint)
    q = lab.probe(n=3, me=0, state=encode_state(2, None, []))
    old = RequestVote(1, 1, 0, 0)
    reply = q.request(1, old)
    if reply.granted or reply.term != 2:
        raise _fail(f"a server of term 2 that has not voted in term 2 answered {old!r} with "
                    f"{reply!r}; a candidate of an older term is refused, whatever the vote",
                    rule("stale-vote").hint)
    newer = RequestVote(3, 2, 0, 0)
    reply = p.request(2, newer)
    if not (reply.granted and reply.term == 3 and getattr(p.node, "current_term", None) == 3):
        raise _fail(f"a server of term 1 that voted for node 1 answered {newer!r} with "
                    f"{reply!r} and is now a {p.state}; a new term means a new vote: adopt term "
                    f"3, forget the old vote and grant it", rule("step-down-request").hint)
    delivered = 0
    for seed in (1, 2, 3):
        c = lab.cluster(3, seed)
        c.run_for(3000)
        term_of: dict[int, int] = {}
        granted: dict[tuple[int, int], int] = {}
        for e in c.trace.of("state", "vote"):
            if e.kind == "state":
                term_of[e.node] = e.term
                continue
            delivered += 1
            now = term_of.get(e.node, 0)
            if e.term > now:
                raise _fail(f"node {e.node} answered a RequestVote of term {e.term} at "
                            f"{format_ms(e.time)} ms but stayed in term {now} "
                            f"({c.rebuild_call()})", rule("step-down-request").hint, c)
            if e.granted and e.term < now:
                raise _fail(f"node {e.node}, in term {now}, granted its vote to node "
                            f"{e.candidate} for the older term {e.term} at "
                            f"{format_ms(e.time)} ms ({c.rebuild_call()})",
                            rule("stale-vote").hint, c)
            if e.granted:
                before = granted.setdefault((e.node, e.term), e.candidate)
                if before != e.candidate:
                    raise _fail(f"node {e.node} granted its vote in term {e.term} to node "
                                f"{before} and then, at {format_ms(e.time)} ms, to node "
                                f"{e.candidate} ({c.rebuild_call()})", rule("one-vote").hint, c)
    where = (f"in clusters of seeds 1-3, {delivered} RequestVotes were answered, at most one "
             f"vote per server and term" if delivered else
             "no RequestVote was sent in a cluster yet (that is step 2)")
    return ("the handler granted a fresh candidate's vote (and again on a repeat), refused a "
            "second candidate of the same term and a stale one, and adopted a newer term; "
            + where + ".")


# ============================================================================ step 4
def _probe_counting(lab: _Lab) -> None:
    p = lab.probe(n=3, me=0)
    rv = p.candidate()
    p.reply(1, rv, RequestVoteReply(rv.term, False))
    if p.role != "candidate":
        raise _fail(f"node 0, candidate of term {rv.term} of 3 servers, got one refusal "
                    f"(RequestVoteReply(term={rv.term}, granted=False)) and is now a "
                    f"{p.state}: a refusal is not a vote", rule("election-safety").hint)
    p.reply(2, rv, RequestVoteReply(rv.term, True))
    if p.role != "leader":
        raise _fail(f"node 0, candidate of term {rv.term} of 3 servers, got a granted vote from "
                    f"node 2; with its own that is 2 of 3, a majority, yet it is a {p.state}",
                    rule("vote-counting").hint)
    p = lab.probe(n=3, me=0)
    first = p.candidate()
    second = p.candidate()  # its timer fires again: a new election, one term up
    p.reply(1, first, RequestVoteReply(first.term, True))
    if p.role == "leader":
        raise _fail(f"node 0 started elections in terms {first.term} and {second.term}; a vote "
                    f"granted for term {first.term} arrived late and made it leader of term "
                    f"{p.term}: only answers to the current election count",
                    "request_vote_reply: ignore a reply whose request's term is not "
                    "current_term (args.term != self.current_term).")
    p = lab.probe(n=3, me=0)
    rv = p.candidate()
    p.reply(1, rv, RequestVoteReply(rv.term + 2, False))
    if p.role != "follower" or p.term != rv.term + 2:
        raise _fail(f"node 0, candidate of term {rv.term}, got RequestVoteReply(term="
                    f"{rv.term + 2}, granted=False) and is now a {p.state}; it must become a "
                    f"follower of term {rv.term + 2}", rule("step-down-reply").hint)


def _check_leader(lab: _Lab) -> str:
    _probe_counting(lab)
    seen = []
    for seed, n in ((1, 3), (2, 3), (3, 5), (4, 5)):
        c = lab.cluster(n, seed)
        event = c.run_until_event(_leader_event, 5000)
        bad = election_safety_violations(c.trace)
        if bad:
            raise _fail(f"{bad[0]} ({c.rebuild_call()})", rule("election-safety").hint, c)
        majority = n // 2 + 1
        grants: dict[tuple[int, int], set[int]] = {}
        for v in c.trace.of("vote"):
            if v.granted:
                grants.setdefault((v.candidate, v.term), set()).add(v.node)
        if event is None:
            candidates = [e for e in c.trace.of("state") if e.role == "candidate"]
            if not candidates:
                raise _fail(f"no server became a candidate in 5 s of {c.rebuild_call()} "
                            f"(step 2)", rule("no-election").hint, c)
            if not grants:
                raise _fail(f"{len(candidates)} candidacies in 5 s of {c.rebuild_call()}, and "
                            f"not one vote granted (step 3)", rule("vote-counting").hint, c)
            for (cand, term), voters in sorted(grants.items(), key=lambda kv: kv[0][1]):
                if len(voters - {cand}) + 1 >= majority:
                    raise _fail(f"node {cand} was granted the votes of {_who(voters)} in term "
                                f"{term}, a majority of {n} with its own, but did not become "
                                f"leader within 5 s ({c.rebuild_call()})",
                                rule("vote-counting").hint, c)
            raise _fail(f"no candidate of {c.rebuild_call()} gathered a majority in 5 s: "
                        f"{len(candidates)} candidacies, granted votes "
                        + ", ".join(f"term {t}: {_who(v)} for node {k}"
                                    for (k, t), v in sorted(grants.items(),
                                                            key=lambda kv: kv[0][1])),
                        rule("leader-election").hint, c)
        leader, term = event.node, event.term
        voters = grants.get((leader, term), set()) - {leader}
        if len(voters) + 1 < majority:
            raise _fail(f"node {leader} became leader of term {term} at {format_ms(event.time)} "
                        f"ms with the votes of {_who(voters)} and its own: fewer than "
                        f"{majority} of {n} ({c.rebuild_call()})", rule("election-safety").hint,
                        c)
        c.run_for(2000)
        bad = election_safety_violations(c.trace)
        if bad:
            raise _fail(f"{bad[0]} ({c.rebuild_call()})", rule("election-safety").hint, c)
        seen.append(f"node {leader} of term {term} at {format_ms(event.time)} ms ({n} servers, "
                    f"seed {seed})")
    return ("a candidate alone won with its own vote and one more of three, not with a "
            "refusal or a late vote, and stepped down on a newer term; in clusters, a leader "
            "with a majority of votes, within 5 s, and never two in one term: "
            + "; ".join(seen) + ".")


# ============================================================================ step 5
def _check_heartbeats(lab: _Lab) -> str:
    p = lab.probe(n=3, me=0)
    ae = AppendEntries(2, 1, 0, 0, (), 0)
    reply = p.request(1, ae)
    if reply.term != 2 or getattr(p.node, "current_term", None) != 2 \
            or getattr(p.node, "role", None) != "follower":
        raise _fail(f"a fresh server answered the heartbeat {ae!r} with {reply!r} and is now a "
                    f"{p.state}; it must adopt the leader's term 2, stay a follower and reply "
                    f"term 2", rule("step-down-request").hint)
    if not p.reset:
        raise _fail(f"the server accepted the heartbeat {ae!r} of its leader without resetting "
                    f"its election timer", rule("heartbeats").hint)
    stale = AppendEntries(1, 2, 0, 0, (), 0)
    reply = p.request(2, stale)
    if reply.success or reply.term != 2:
        raise _fail(f"a server of term 2 answered {stale!r} (an old leader) with {reply!r}; it "
                    f"must refuse it and reply its own term so the old leader steps down",
                    "append_entries: reply AppendEntriesReply(current_term, False) if "
                    "args.term < current_term.")
    lines = []
    for seed in (1, 2, 3):
        c = lab.cluster(3, seed)
        event = _wait_leader(lab, c, step="step 4")
        leader, term, t0 = event.node, event.term, event.time
        interval = c.config.heartbeat_interval
        c.run_for(3000)
        t1 = t0 + 3000
        late = [e for e in c.trace.of("timeout") if t0 + 50 < e.time <= t1]
        changed = [e for e in c.trace.of("state") if e.node == leader and t0 < e.time <= t1]
        if late or changed:
            what = (f"node {late[0].node}'s election timer fired at {format_ms(late[0].time)} ms"
                    if late else f"it became a {changed[0].role} of term {changed[0].term} at "
                                 f"{format_ms(changed[0].time)} ms")
            raise _fail(f"node {leader} became leader of term {term} at {format_ms(t0)} ms and "
                        f"nothing failed, yet {what} ({c.rebuild_call()})",
                        rule("heartbeats").hint, c)
        lo = c.config.election_timeout[0]
        for peer in range(c.n):
            if peer == leader:
                continue
            sent = [e.time for e in c.trace.of("send") if e.src == leader and e.dst == peer
                    and e.msg == "AppendEntries" and t0 <= e.time <= t1]
            if not sent:
                raise _fail(f"node {leader}, leader of term {term} from {format_ms(t0)} ms, sent "
                            f"no AppendEntries to node {peer} in 3 s ({c.rebuild_call()})",
                            rule("heartbeats").hint, c)
            if sent[0] - t0 > interval:
                raise _fail(f"node {leader} won term {term} at {format_ms(t0)} ms but sent its "
                            f"first AppendEntries to node {peer} only at "
                            f"{format_ms(sent[0])} ms ({c.rebuild_call()})",
                            "Leaders, upon election: send the first heartbeats at once (and "
                            "set the HEARTBEAT timer for the next ones).", c)
            gaps = [b - a for a, b in zip(sent, sent[1:])] + [t1 - sent[-1]]
            if max(gaps) >= lo:
                raise _fail(f"node {leader}, leader of term {term}, left node {peer} without an "
                            f"AppendEntries for {format_ms(round(max(gaps), 3))} ms, as long as "
                            f"the shortest election timeout ({format_ms(lo)} ms) "
                            f"({c.rebuild_call()})", rule("heartbeats").hint, c)
            if len(sent) > 3000 / 100 + 1:
                raise _fail(f"node {leader}, leader of term {term}, sent {len(sent)} "
                            f"AppendEntries to node {peer} in 3 s; the tester allows at most "
                            f"ten heartbeats per second ({c.rebuild_call()})",
                            rule("heartbeat-rate").hint, c)
            lines.append(len(sent))
        bad = election_safety_violations(c.trace)
        if bad:
            raise _fail(f"{bad[0]} ({c.rebuild_call()})", rule("election-safety").hint, c)
    counts = f"{min(lines)}" if min(lines) == max(lines) else f"{min(lines)}-{max(lines)}"
    return (f"the leaders kept their term for 3 s with no election timeout anywhere, sending "
            f"{counts} AppendEntries per follower in those 3 s (at most 31 "
            f"allowed); a heartbeat was accepted and reset the timer, a stale one refused.")


# ============================================================================ step 6
def _check_failures(lab: _Lab) -> str:
    def make(n: int, seed: int = 0, reliable: bool = True, **kwargs: Any) -> Cluster:
        kwargs.pop("node_class", None)  # given below only so the rerun note names it
        return lab.cluster(n, seed, reliable=reliable, **kwargs)

    runs = [(re_election, 1, True), (re_election, 2, True), (re_election, 3, False),
            (many_elections, 1, True)]
    for test, seed, reliable in runs:
        try:
            test.run_with(make, seed, reliable, node_class=lab.node_class)
        except CheckFailed as exc:
            text = str(exc)
            if "got none" in text:
                hint = ("a majority was connected but no leader emerged: "
                        + rule("leader-election").hint)
            elif "claims to be leader" in text:
                hint = ("a server without a majority still believes it leads: a candidate "
                        "needs n // 2 + 1 votes, and a leader that loses its majority keeps "
                        "its role only until it hears of a higher term; here the lone server "
                        "must never have won an election alone.")
            elif "leaders" in text:
                hint = rule("step-down-reply").hint
            else:
                hint = rule("check-failed").hint
            where = "reliable" if reliable else "unreliable"
            raise _fail(f"{test.name}, seed {seed}, {where} network: {_with_notes(exc)}", hint,
                        exc.cluster) from None
        bad = election_safety_violations(lab.last.trace) if lab.last is not None else []
        if bad:
            where = "reliable" if reliable else "unreliable"
            raise _fail(f"{test.name}, seed {seed}, {where} network, passed config.go's checks "
                        f"but broke election safety: {bad[0]} ({lab.last.rebuild_call()})",
                        rule("election-safety").hint,
                        lab.last)
    return ("TestReElection3A (seeds 1 and 2, reliable; seed 3, unreliable) and "
            "TestManyElections3A (seed 1) passed: new leaders after failures, none without a "
            "majority.")


# ============================================================================ step 7 (3B)
def _logs(c: Cluster) -> list[list[tuple[int, Any]]]:
    """Every live node's log after the sentinel, as (term, command) pairs."""
    out = []
    for i in range(c.n):
        log = list(getattr(c.nodes[i].raft, "log", [])) if c.is_alive(i) else []
        out.append([(getattr(e, "term", None), getattr(e, "command", None)) for e in log[1:]])
    return out


def _check_replicate(lab: _Lab) -> str:
    c = lab.cluster(3, 1)
    event = _wait_leader(lab, c, step="steps 1-6")
    leader, term = event.node, event.term
    follower = (leader + 1) % 3
    index, t, ok = lab.start(c, follower, "not-me")
    if ok:
        raise _fail(f"start('not-me') on node {follower}, a follower, returned ({index}, {t}, "
                    f"{ok}); only the leader accepts commands ({c.rebuild_call()})",
                    "start: return (-1, current_term, False) unless this server is the leader.",
                    c)
    got = lab.start(c, leader, 101)
    if got != (1, term, True):
        raise _fail(f"start(101) on node {leader}, leader of term {term} with an empty log, "
                    f"returned {got}; it must append the command at index 1 and return "
                    f"(1, {term}, True) ({c.rebuild_call()})",
                    "start: append LogEntry(current_term, command) to the log and return its "
                    "index, len(self.log) - 1 (log[0] is the sentinel).", c)
    c.run_for(1000)
    for i, log in enumerate(_logs(c)):
        if log[:1] != [(term, 101)]:
            raise _fail(f"1 s after start(101) on the leader, node {i}'s log is {log} (as "
                        f"(term, command) pairs); every server should hold ({term}, 101) at "
                        f"index 1 ({c.rebuild_call()})", rule("log-replication").hint, c)
    # a follower that missed entries catches up
    c.disconnect(follower)
    for command in (102, 103):
        lab.start(c, leader, command)
    c.run_for(1000)
    c.connect(follower)
    c.run_for(2000)
    logs = _logs(c)
    if logs[follower] != logs[leader]:
        raise _fail(f"node {follower} was cut off while the leader appended 102 and 103, and "
                    f"2 s after it came back its log is {logs[follower]}, the leader's "
                    f"{logs[leader]} ({c.rebuild_call()})", rule("log-replication").hint, c)
    # an old leader's uncommitted entries are replaced by the new leader's
    c = lab.cluster(3, 2)
    old = _wait_leader(lab, c, step="steps 1-6").node
    c.disconnect(old)
    for command in (201, 202):
        lab.start(c, old, command)
    c.run_for(100)
    new = _wait_leader(lab, c, step="step 6").node
    if new == old:
        raise _fail(f"node {old} was cut off, but no other server became leader "
                    f"({c.rebuild_call()})", rule("leader-election").hint, c)
    lab.start(c, new, 301)
    c.run_for(1000)
    c.connect(old)
    c.run_for(2000)
    logs = _logs(c)
    if logs[old] != logs[new]:
        raise _fail(f"node {old} appended 201 and 202 as a leader cut off from the others; "
                    f"node {new} then led and appended 301. 2 s after node {old} came back, "
                    f"its log is {logs[old]}, the new leader's {logs[new]} "
                    f"({c.rebuild_call()})", rule("log-matching").hint, c)
    return ("start() appended at the right index and the leader brought every log up to date: "
            "a follower that missed entries caught up, and an old leader's conflicting entries "
            "were replaced.")


# ============================================================================ step 8 (3B)
def _probe_commit_rule(lab: _Lab) -> None:
    """Figure 8: a new leader does not commit an older term's entry by counting replicas; the
    entry commits with the first entry of its own term."""
    old_log = [LogEntry(1, "a"), LogEntry(2, "b")]
    p = lab.probe(n=3, me=0, state=encode_state(3, None, old_log))
    rv = p.candidate()
    p.reply(1, rv, RequestVoteReply(rv.term, True))
    if p.role != "leader":
        raise _fail(f"node 0 (log [(1, 'a'), (2, 'b')]) won the votes of node 1 and itself in "
                    f"term {rv.term} but is a {p.state} (step 4)", rule("vote-counting").hint)
    term = rv.term

    def to_peer() -> list[AppendEntries]:
        return [r for dst, r in p.env.calls
                if dst == 1 and isinstance(r, AppendEntries) and r.term == term]

    if not to_peer():
        raise _fail(f"node 0 became leader of term {term} but sent node 1 no AppendEntries "
                    f"(step 5)", rule("heartbeats").hint)
    for ae in to_peer():  # node 1 now holds everything the leader sent it
        p.reply(1, ae, AppendEntriesReply(term, True))
    commit = getattr(p.node, "commit_index", None)
    if commit:
        raise _fail(f"node 0, new leader of term {term} with log [(1, 'a'), (2, 'b')], "
                    f"learned that node 1 stores both entries and set commit_index = {commit}: "
                    f"an entry of an older term is never committed by counting its replicas "
                    f"(Figure 8 of the paper)", rule("commit-current-term").hint)
    sent = len(p.env.calls)
    got = p._do("start('c') on node 0", lambda: p.node.start("c"))
    if tuple(got) != (3, term, True):
        raise _fail(f"start('c') on node 0, leader of term {term} with 2 entries, returned "
                    f"{got}; expected (3, {term}, True)", rule("log-replication").hint)
    carrying = [r for r in to_peer()[len(to_peer()) - (len(p.env.calls) - sent):]
                if r.prev_log_index + len(r.entries) >= 3]
    if not carrying:
        timers = [name for name, _ in p.env.timers if name != p.env.timers[0][0]]
        if timers:  # the leader replicates on its heartbeat timer: let it fire
            name = timers[-1]
            p._do(f"on_timer({name!r}) on node 0", lambda: p.node.on_timer(name))
        carrying = [r for r in to_peer() if r.prev_log_index + len(r.entries) >= 3]
    if not carrying:
        raise _fail(f"node 0, leader of term {term}, accepted 'c' at index 3 but sent node 1 "
                    f"no AppendEntries carrying it, even after its heartbeat timer fired",
                    rule("log-replication").hint)
    for ae in carrying:
        p.reply(1, ae, AppendEntriesReply(term, True))
    commit = getattr(p.node, "commit_index", None)
    applied = [tuple(m) for m in p.env.applied]
    want = [(True, "a", 1), (True, "b", 2), (True, "c", 3)]
    if commit != 3 or applied != want:
        raise _fail(f"node 0, leader of term {term}, learned that node 1 stores index 3 "
                    f"('c', term {term}) and everything before it: a majority with itself. Its "
                    f"commit_index is {commit!r} and it applied {applied}; it should commit "
                    f"index 3, the older entries with it, and apply {want}",
                    "commit_index = N for the highest N of the current term stored on a "
                    "majority (match_index[peer] >= N, and your own log); then apply_committed() "
                    "hands every entry up to N to env.apply, in order.")


def _check_commit(lab: _Lab) -> str:
    _probe_commit_rule(lab)
    c = lab.cluster(3, 1)
    _wait_leader(lab, c, step="steps 1-6")
    for command, servers, cut in ((101, 3, None), (102, 3, None), (103, 2, "cut"),
                                  (104, 3, "heal")):
        leader = c.leader()
        if cut == "cut" and leader is not None:
            c.disconnect((leader + 1) % 3)
        if cut == "heal":
            for i in range(3):
                c.connect(i)
        try:
            c.one(command, servers, retry=True)
        except CheckFailed as exc:
            logs = _logs(c)
            commits = [getattr(c.nodes[i].raft, "commit_index", None) for i in range(3)]
            applied = [len(c.applied[i]) for i in range(3)]
            if all(any(cmd == command for _, cmd in log) for log in logs) and max(commits) == 0:
                hint = ("every log holds the command but no commit_index moved: the leader "
                        "sets commit_index = N once a majority has match_index >= N and "
                        "log[N].term == current_term.")
            elif max(commits) > max(applied):
                hint = ("commit_index advanced but nothing was applied: apply_committed() must "
                        "call env.apply(ApplyMsg(True, command, index)) for each newly committed "
                        "entry, on followers too (after leader_commit raises their "
                        "commit_index).")
            else:
                hint = rule("log-replication").hint
            raise _fail(f"{exc} (logs {logs}, commit_index {commits}, applied {applied})\n"
                        + "\n".join(getattr(exc, "__notes__", [])), hint, c) from None
    c.run_for(1000)
    want = [ApplyMsg(True, cmd, k) for k, cmd in enumerate((101, 102, 103, 104), 1)]
    for i in range(3):
        got = [tuple(m) for m in c.applied[i]]
        if got != [tuple(m) for m in want]:
            raise _fail(f"node {i} applied {got}; every server applies "
                        f"{[tuple(m) for m in want]}, in order ({c.rebuild_call()})",
                        rule("log-replication").hint, c)
    return ("a new leader did not commit an older term's entry by counting, then committed it "
            "with its own term's first entry; in a cluster, commands 101-104 were committed and "
            "applied in order on every server, one of them while a follower was cut off.")


# ============================================================================ step 9 (3B)
def _check_up_to_date(lab: _Lab) -> str:
    state = encode_state(2, None, [LogEntry(1, "a"), LogEntry(2, "b")])
    cases = [
        (RequestVote(3, 1, 5, 1), False, "a longer log whose last entry has an older term"),
        (RequestVote(4, 2, 1, 2), False, "a shorter log whose last entry has the same term"),
        (RequestVote(5, 1, 2, 2), True, "a log with the same last entry"),
        (RequestVote(6, 2, 1, 3), True, "a shorter log whose last entry has a newer term"),
    ]
    for request, grant, what in cases:
        p = lab.probe(n=3, me=0, state=state)
        log = getattr(p.node, "log", [])
        if len(log) != 3:
            raise _fail("a server restarted from saved state term 2, log [(1, 'a'), (2, 'b')] "
                        f"has a log of {len(log)} entries (with the sentinel); read_persist() "
                        "must restore it", rule("persistence").hint)
        reply = p.request(request.candidate, request)
        if bool(reply.granted) != grant or getattr(p.node, "current_term", None) != request.term:
            verdict = "grant" if grant else "refuse"
            raise _fail(f"a server in term 2 whose log ends with term 2 at index 2 answered "
                        f"{request!r} ({what}) with {reply!r} and is now a {p.state}; it must "
                        f"adopt term {request.term} and {verdict} the vote",
                        rule("up-to-date").hint)
    return ("votes went only to candidates whose log is at least as up-to-date: the last "
            "entries' terms decide, then the lengths.")


# ============================================================================ step 10 (3C)
def _check_persist(lab: _Lab) -> str:
    c = lab.cluster(3, 1)
    _wait_leader(lab, c, step="steps 1-6")
    try:
        c.one(101, 3)
        c.one(102, 3)
    except CheckFailed as exc:
        raise _fail(f"{exc}: this step needs commands to commit (step 8)",
                    rule("log-replication").hint, c) from None
    for i in range(3):
        raft = c.nodes[i].raft
        term, voted, entries = decode_state(c.saved[i].read())
        have = (raft.current_term, getattr(raft, "voted_for", voted),
                [(e.term, e.command) for e in raft.log[1:]])
        saved = (term, voted, [(e.term, e.command) for e in entries])
        if have != saved:
            raise _fail(f"at {format_ms(c.now)} ms node {i} is in term {have[0]}, voted for "
                        f"{have[1]!r}, log {have[2]}, but its saved state says term {saved[0]}, "
                        f"voted for {saved[1]!r}, log {saved[2]} ({c.rebuild_call()})",
                        rule("persistence").hint, c)
    before = [(c.nodes[i].raft.current_term, _logs(c)[i]) for i in range(3)]
    for i in range(3):
        c.crash(i)
    for i in range(3):
        c.restart(i)
    for i in range(3):
        after = (c.nodes[i].raft.current_term, _logs(c)[i])
        if after != before[i]:
            raise _fail(f"node {i} was in term {before[i][0]} with log {before[i][1]} when it "
                        f"crashed and restarted in term {after[0]} with log {after[1]} "
                        f"({c.rebuild_call()})", rule("persistence").hint, c)
    try:
        c.one(103, 3)
    except CheckFailed as exc:
        raise _fail(f"after a crash and restart of every server: {exc}",
                    rule("persistence").hint, c) from None
    return ("the saved state matched the servers' own, and after every server crashed and "
            "restarted they kept their terms and logs and went on committing.")


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
