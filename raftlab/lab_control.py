"""What the ClusterLab panel does, without any widget: actions, their recording, and the state
the panel shows. ``raftlab.widgets.ClusterLab`` is a thin view over a ``LabController``; the
controller also works on its own, headless (tests, scripts, another front end)::

    lab = LabController(Cluster(5, seed=3))
    lab.step(1000)
    lab.crash_or_restart(lab.state().header.leader)
    lab.partition("0 1 | 2 3 4")
    lab.cut_link(0, 1, one_way=True)
    lab.request()                       # the next command (1, 2, 3, ...) to the leader
    lab.request(2, "x")                 # "x" to node 2, leader or not
    print(lab.script())

Every action calls the public ``Cluster`` API and records the call with its virtual time, so
``script()`` replays the session on a fresh cluster with the same trace. A bad value raises a
``ValueError`` whose message is what the panel shows, and then nothing has changed and nothing
was recorded. Settings are read only through the cluster's public accessors (``config``,
``network_config``, ``groups``, ``connected``, ``cut_links``, ``is_alive``, ``leader``) and the
trace (each node's log length, commit index and applied index: never the nodes' own
attributes). Reading the state
after an action costs time in proportion to the events that action added (plus, for the
timeline window, the events of that window), not to the whole trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from .cluster import Cluster
from .config import SETTINGS, NetworkConfig, RaftConfig
from .formatting import format_ms, plain_number
from .recording import Recorder
from .status import TraceDigest, describe_event
from .validation import check_number

__all__ = ["LabController", "Outcome", "LabState", "Header", "NodeRow", "TimelineWindow",
           "parse_groups", "parse_command", "check_ms_range", "describe_cuts", "MAX_VOTES"]

#: The most vote arrows the timeline view draws; a busier window is narrowed to fit.
MAX_VOTES = 30


def parse_groups(text: str, n: int) -> list[list[int]]:
    """``"0 1 | 2 3 4"`` -> ``[[0, 1], [2, 3, 4]]`` (commas or spaces inside a group).

    A ValueError names the problem: an empty group, a token that is not a node id, a node id
    outside ``0..n-1`` or a node in two groups."""
    if not text.strip():
        raise ValueError("partition groups are empty: write groups like '0 1 | 2 3 4' "
                         f"(node ids 0..{n - 1}, groups separated by '|')")
    groups: list[list[int]] = []
    seen: set[int] = set()
    for k, part in enumerate(text.split("|")):
        tokens = part.replace(",", " ").split()
        if not tokens:
            raise ValueError(f"partition group {k + 1} of {text!r} is empty; every group needs "
                             f"at least one node id (0..{n - 1})")
        group = []
        for tok in tokens:
            try:
                node = int(tok)
            except ValueError:
                raise ValueError(f"{tok!r} in {text!r} is not a node id; node ids are "
                                 f"0..{n - 1}") from None
            if not 0 <= node < n:
                raise ValueError(f"node {node} in {text!r} does not exist; node ids are "
                                 f"0..{n - 1}")
            if node in seen:
                raise ValueError(f"node {node} appears twice in {text!r}; a node belongs to "
                                 f"one group")
            seen.add(node)
            group.append(node)
        groups.append(group)
    return groups


def parse_command(text: Any) -> Any:
    """The command typed in the panel's field: ``"7"`` -> ``7`` (an int when the text is a
    whole number), any other text as the string itself, stripped (``" x "`` -> ``"x"``); an
    int is kept as it is. Empty text is a ValueError."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    if not isinstance(text, str):
        raise ValueError(f"a command must be text or an int, got {text!r}")
    text = text.strip()
    if not text:
        raise ValueError("the command is empty: type a value to propose (a number such as 7, "
                         "or any text)")
    try:
        return int(text)
    except ValueError:
        return text


def _ms(what: str, value: Any) -> Any:
    return plain_number(check_number(what, value, unit="ms"))


def check_ms_range(what: str, lo: Any, hi: Any, minimum: float) -> tuple[Any, Any]:
    """``(lo, hi)`` as plain numbers if ``minimum <= lo <= hi``, else a ValueError saying
    which bound is wrong (the panel shows it as is)."""
    lo, hi = _ms(f"{what} lo", lo), _ms(f"{what} hi", hi)
    if lo < minimum:
        raise ValueError(f"{what} lo = {lo} ms is too small; it must be >= {minimum} ms")
    if lo > hi:
        raise ValueError(f"{what} lo = {lo} ms is above hi = {hi} ms; need lo <= hi")
    return lo, hi


def describe_cuts(cuts: Any) -> tuple[str, ...]:
    """The cut links (``Cluster.cut_links``: one ``(a, b)`` per direction) as people read
    them: ``"0↔1"`` for a link cut both ways, ``"2→0"`` for one cut one way, sorted."""
    directed = set(cuts)
    out = []
    for a, b in sorted(directed):
        if (b, a) in directed:
            if a < b:
                out.append(f"{a}↔{b}")
        else:
            out.append(f"{a}→{b}")
    return tuple(out)


@dataclass(frozen=True)
class Outcome:
    """What an action did: the ``Cluster`` calls it made, as recorded (``"c.crash(2)"``), and
    a note for the person at the panel (empty when there is nothing to add), and how the panel
    shows that note (``level``: "info" or "warning")."""

    calls: tuple[str, ...]
    note: str = ""
    level: str = "info"


@dataclass(frozen=True)
class Header:
    """The panel's title line: which cluster, the virtual time, the leader and its term
    (``leader`` is ``cluster.leader()``: the connected leader in the highest term, or None)."""

    n: int
    seed: int
    now: float
    leader: Optional[int]
    leader_term: Optional[int]


@dataclass(frozen=True)
class NodeRow:
    """One node as the panel shows it: its status from the trace (``raftlab.status``) and
    whether its links are up. ``role`` is "follower", "precandidate", "candidate", "leader"
    or "down". ``applied`` is the last log index its current instance applied (``apply``
    events); ``log_length`` and ``commit_index`` come from ``append`` / ``truncate`` /
    ``commit`` events, None when the trace does not record those."""

    node: int
    role: str
    term: int
    voted_for: Optional[int]
    since_heartbeat: Optional[float]
    connected: bool
    applied: int = 0
    log_length: Optional[int] = None
    commit_index: Optional[int] = None

    @property
    def power_action(self) -> str:
        """What ``crash_or_restart`` does to this node now: "crash" or "restart"."""
        return "restart" if self.role == "down" else "crash"

    @property
    def link_action(self) -> str:
        """What ``disconnect_or_connect`` does now: "disconnect" or "connect"."""
        return "connect" if self.role != "down" and not self.connected else "disconnect"

    @property
    def link_enabled(self) -> bool:
        """A crashed node has no links to cut or restore (``restart`` connects it)."""
        return self.role != "down"


@dataclass(frozen=True)
class LabState:
    """Everything the panel shows but the timeline: header, one row per node, the recent
    events as text (heartbeats and timer bookkeeping left out), the safety checker's
    violations, every setting's current value (``raftlab.config.SETTINGS`` order) and the
    links cut now (``describe_cuts``: ``("0↔1", "2→0")``)."""

    header: Header
    rows: tuple[NodeRow, ...]
    recent: tuple[str, ...]
    violations: tuple[str, ...]
    settings: dict[str, Any]
    cuts: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimelineWindow:
    """The span the timeline view draws, ``start`` to ``end`` ms, and its title; ``narrowed``
    if it is shorter than the panel's window because that held over ``MAX_VOTES`` votes."""

    start: float
    end: float
    narrowed: bool
    title: str


class LabController:
    """Drives ``cluster`` the way the panel does, and records every call.

    ``window`` is the span of the timeline (ms of virtual time, ending now). ``cluster`` is the
    cluster driven (a new one after ``reset``); ``recorder`` and ``digest`` are its ``Recorder``
    and ``TraceDigest``; ``notice`` is a warning to show about the cluster taken over (empty
    if it was fresh)."""

    def __init__(self, cluster: Cluster, *, window: float = 3000) -> None:
        if not isinstance(cluster, Cluster):
            raise ValueError(f"the lab needs a raftlab Cluster, got {type(cluster).__name__}")
        check_number("window", window, 10, 600_000, unit="ms")
        self.window = window
        self.attach(cluster)

    # ------------------------------------------------------------ the cluster
    @property
    def cluster(self) -> Cluster:
        return self._cluster

    def attach(self, cluster: Cluster) -> None:
        """Drive ``cluster`` from now on, with a fresh recording and digest."""
        self._cluster = cluster
        self.recorder = Recorder(cluster)
        self.digest = TraceDigest(cluster.trace)
        self._mark = self._position()
        self._outside = False
        #: The command ``request()`` proposes when given none (1, then one more each time).
        self.next_command = 1
        self.notice = ("" if self.recorder.fresh else
                       "This cluster was already used before the panel took it over: "
                       "lab.script() can only replay what happens from now on.")

    def _position(self) -> tuple[int, float]:
        return len(self._cluster.trace), self._cluster.now

    def script(self) -> str:
        """Python code that replays this session (since the last reset) on a fresh cluster."""
        text = self.recorder.script()
        if self._outside:
            text = ("# NOTE: the cluster was also driven outside the panel during this session; "
                    "those calls are not in this script.\n" + text)
        return text

    # ------------------------------------------------------------ how an action runs
    def _act(self, body: Callable[[], list[str]], note: str = "") -> Outcome:
        """Run ``body`` (which checks its values, then makes its calls with ``_call``).
        Anything that moved the cluster since the last action came from outside the panel."""
        if self._position() != self._mark:
            self._outside = True
        try:
            calls = body()
        finally:
            self._mark = self._position()
        return Outcome(tuple(calls), note)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> str:
        """``cluster.method(*args, **kwargs)``, recorded; returns the recorded text."""
        return self._invoke(method, *args, **kwargs)[1]

    def _invoke(self, method: str, *args: Any, **kwargs: Any) -> tuple[Any, str]:
        """``cluster.method(*args, **kwargs)``, recorded if it succeeded, or if it failed
        after changing the cluster (a check that fails while time runs: the replay fails the
        same way). A call rejected up front changes nothing and is not recorded. Returns what
        the call returned and the recorded text."""
        c = self._cluster
        t, before = c.now, self._position()
        try:
            result = getattr(c, method)(*args, **kwargs)
        except Exception:
            if self._position() != before:
                self.recorder.call(t, method, *args, **kwargs)
            raise
        return result, self.recorder.call(t, method, *args, **kwargs)

    # ------------------------------------------------------------ actions
    def step(self, ms: float) -> Outcome:
        """Run ``ms`` of virtual time."""
        return self._act(lambda: [self._call("run_for", ms)])

    def crash_or_restart(self, i: int) -> Outcome:
        """Crash node ``i`` if it is running, else restart it."""
        return self._act(lambda: [self._call("crash" if self._cluster.is_alive(i)
                                             else "restart", i)])

    def disconnect_or_connect(self, i: int) -> Outcome:
        """Cut node ``i``'s links if they are up, else restore them (not on a crashed node)."""
        def body() -> list[str]:
            c = self._cluster
            if not c.is_alive(i):
                raise ValueError(f"node {i} is crashed: restart it first (restart connects it)")
            return [self._call("disconnect" if c.connected[i] else "connect", i)]
        return self._act(body)

    def partition(self, text: str) -> Outcome:
        """Split the network into the groups written in ``text`` (``"0 1 | 2 3 4"``)."""
        if not isinstance(text, str):
            raise ValueError(f"partition groups must be text like '0 1 | 2 3 4', got {text!r}")
        return self._act(lambda: [self._call("partition",
                                             *parse_groups(text, self._cluster.n))])

    def heal(self) -> Outcome:
        """End the partition and reconnect every live node."""
        return self._act(lambda: [self._call("heal")])

    def set_reliable(self, flag: bool) -> Outcome:
        """Switch labrpc's unreliable model off (True) or on (False)."""
        return self._act(lambda: [self._call("set_reliable", flag)])

    def set_long_reordering(self, flag: bool) -> Outcome:
        """Hold 2/3 of replies back 200-2199 ms (True), or not."""
        return self._act(lambda: [self._call("set_long_reordering", flag)])

    def cut_link(self, a: int, b: int, one_way: bool = False) -> Outcome:
        """Cut the link between nodes ``a`` and ``b`` (``one_way``: only what ``a`` sends to
        ``b`` is lost); it stays cut through heal and connect until ``restore_link``."""
        return self._act(lambda: [self._link_call("cut_link", a, b, one_way)])

    def restore_link(self, a: int, b: int, one_way: bool = False) -> Outcome:
        """Lift a cut between ``a`` and ``b`` (``one_way``: only ``a -> b``)."""
        return self._act(lambda: [self._link_call("restore_link", a, b, one_way)])

    def _link_call(self, method: str, a: Any, b: Any, one_way: Any) -> str:
        # written as a person would: the keyword only when it is not the default
        if one_way is False:
            return self._call(method, a, b)
        return self._call(method, a, b, one_way=one_way)

    def set_pre_vote(self, flag: bool) -> Outcome:
        """Turn PreVote on (True) or off for every node."""
        return self._act(lambda: [self._call("set_pre_vote", flag)])

    def set_check_quorum(self, flag: bool) -> Outcome:
        """Turn CheckQuorum on (True) or off for every node."""
        return self._act(lambda: [self._call("set_check_quorum", flag)])

    def set_latency(self, lo: float, hi: float) -> Outcome:
        """One-way delay of delivered messages, ``lo`` to ``hi`` ms (0 <= lo <= hi)."""
        def body() -> list[str]:
            return [self._call("set_latency", check_ms_range("latency", lo, hi, 0))]
        return self._act(body)

    def set_timing(self, lo: float, hi: float, heartbeat: float) -> Outcome:
        """Election timeout ``lo`` to ``hi`` ms (1 <= lo <= hi) and heartbeat interval (> 0 ms),
        for timers set from now on."""
        def body() -> list[str]:
            timeout = check_ms_range("election timeout", lo, hi, 1)
            hb = _ms("heartbeat interval", heartbeat)
            if not hb > 0:
                raise ValueError(f"heartbeat interval {hb} ms must be > 0 ms")
            return [self._call("set_timing", election_timeout=timeout, heartbeat_interval=hb)]
        return self._act(body)

    def split_vote(self) -> Outcome:
        """Line the election timers up: a zero-width timeout range (its current low end), then
        every live node restarted at this instant, so all timers start together and expire
        together, and every node votes for itself, round after round."""
        c = self._cluster
        lo = plain_number(c.config.election_timeout[0])

        def body() -> list[str]:
            live = [i for i in range(c.n) if c.is_alive(i)]
            if len(live) < 2:
                raise ValueError("split vote needs at least 2 live nodes; restart some first")
            calls = [self._call("set_timing", election_timeout=(lo, lo))]
            return calls + [self._call("restart", i) for i in live]
        return self._act(body, note=(
            f"Split vote preset: the election timeout is now exactly {lo} ms and every live "
            "node was restarted now, so all timers fire together and every node votes for "
            "itself, round after round. Widen the range ('set timing') to end it."))

    def request(self, target: Any = "leader", command: Any = None) -> Outcome:
        """A client request: ``cluster.start(node, command)`` on ``target``, a node id or
        ``"leader"`` (``cluster.leader()`` now: the connected leader in the highest term).

        ``command`` defaults to ``next_command`` (1, 2, 3, ...: after a request a leader
        accepted, ``next_command`` is that command + 1 if it was an int). The note says what
        happened: accepted at which index and term, or that the node is not the leader (the
        call is still made and recorded: a replay makes it too). With no leader, nothing is
        called and nothing recorded; the outcome is a warning that says so. A crashed or
        unknown node, or an empty command, is a ValueError (nothing changed)."""
        c = self._cluster
        if command is None:
            command = self.next_command
        command = parse_command(command)

        def body() -> list[str]:
            nonlocal note, level
            if target == "leader":
                node = c.leader()
                if node is None:
                    note, level = ("No leader right now, so nobody to send the request to: "
                                   "run time until one is elected (or pick a node)."), "warning"
                    return []
            elif isinstance(target, bool) or not isinstance(target, int):
                raise ValueError(f"a request goes to \"leader\" or a node id 0..{c.n - 1}, "
                                 f"got {target!r}")
            else:
                node = target
                if not c.is_alive(node):  # also checks the id
                    raise ValueError(f"node {node} is crashed: restart it first, or send the "
                                     "request to another node")
            (index, term, ok), text = self._invoke("start", node, command)
            if ok:
                note = (f"node {node} accepted {command!r} at index {index} in term {term}; "
                        "it is committed once a majority of nodes store it")
                if isinstance(command, int) and not isinstance(command, bool):
                    self.next_command = command + 1
            else:
                leader = c.leader()
                note = (f"node {node} is not the leader (term {term}): it refused "
                        f"{command!r}, nothing was appended" +
                        ("" if leader is None else f"; the leader is node {leader}"))
                level = "warning"
            return [text]

        note, level = "", "info"
        outcome = self._act(body)
        return Outcome(outcome.calls, note, level)

    def reset(self, seed: int) -> Outcome:
        """A fresh cluster like this one (same size and constructor arguments) with ``seed``;
        the recording starts again."""
        old = self._cluster
        new = Cluster(old.n, seed=seed, **old.constructor_args())
        self.attach(new)
        return Outcome((), f"Reset: a fresh cluster with seed {seed}; the recording starts "
                           "again.")

    # ------------------------------------------------------------ what the panel shows
    def settings(self) -> dict[str, Any]:
        """Every setting's current value (``raftlab.config.SETTINGS``), as plain numbers."""
        c = self._cluster
        source = {RaftConfig: c.config, NetworkConfig: c.network_config}
        return {name: plain_number(getattr(source[cls], name)) for name, cls in SETTINGS.items()}

    def state(self) -> LabState:
        """The header, node rows, recent events, violations and settings, as of now."""
        c = self._cluster
        d = self.digest.update()
        now = c.now
        leader = c.leader()
        header = Header(c.n, c.seed, now, leader,
                        None if leader is None else c.get_state(leader)[0])
        connected = c.connected
        rows = tuple(NodeRow(r.node, r.role, r.term, r.voted_for, r.since_heartbeat,
                             connected[r.node], r.applied, r.log_length, r.commit_index)
                     for r in d.rows(now))
        return LabState(header, rows, tuple(describe_event(e) for e in d.recent),
                        tuple(d.violations), self.settings(), describe_cuts(c.cut_links))

    def timeline_window(self) -> TimelineWindow:
        """The last ``window`` ms, narrowed when it holds more than ``MAX_VOTES`` votes (each
        is an arrow; a storm of them would make a redraw slow). Reads only that window's
        events, newest first."""
        c = self._cluster
        end = max(c.now, 1)
        start = max(0.0, end - self.window)
        trace = c.trace
        votes = 0
        last_kept = start
        for k in range(len(trace) - 1, -1, -1):
            e = trace[k]
            if e.time < start:
                break
            if e.kind == "vote":
                votes += 1
                if votes == MAX_VOTES:
                    last_kept = e.time
                elif votes > MAX_VOTES:
                    if last_kept <= start:
                        break
                    span = end - last_kept
                    return TimelineWindow(last_kept, end, True,
                                          f"last {format_ms(span)} ms (narrowed: over "
                                          f"{MAX_VOTES} votes in {format_ms(self.window)} ms)")
        return TimelineWindow(start, end, False, f"last {format_ms(end - start)} ms")
