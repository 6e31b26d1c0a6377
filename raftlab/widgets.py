"""``ClusterLab``: an ipywidgets control panel that drives a Cluster and shows its trace.

One line opens it in JupyterLab::

    from raftlab import Cluster
    from raftlab.widgets import ClusterLab
    lab = ClusterLab(Cluster(5, seed=3))

Every control calls the public ``Cluster`` API, exactly as a user would type it, and every call
is recorded with its virtual time: ``lab.script()`` returns Python code that replays the session
on a fresh cluster and gives the same trace. The views (timeline of the recent window, status
table, last events, safety warning) are redrawn from ``cluster.trace`` after every action.
A bad value in a field (lo > hi, an empty partition group) shows a message and changes nothing.
"""

from __future__ import annotations

import asyncio
import html
import io
from functools import partial
from typing import Any, Callable, Optional

import ipywidgets as W
from matplotlib.figure import Figure

from .cluster import Cluster
from .plots import PARTITION_COLOR, ROLE_COLORS, VOTE_COLORS, timeline
from .formatting import format_ms, plain_number as _num
from .recording import Recorder
from .status import TraceDigest, describe_event

__all__ = ["ClusterLab", "parse_groups", "STEPS", "SPEEDS"]

#: The time-step buttons: label -> virtual ms.
STEPS = {"+10 ms": 10, "+100 ms": 100, "+1 s": 1000}
#: The most vote arrows the timeline view draws; a busier window is narrowed to fit.
MAX_VOTES = 30
#: Play speeds: virtual ms advanced per tick.
SPEEDS = (10, 20, 50, 100, 200, 500, 1000)
_ROLE_TEXT_COLOR = {"follower": "black", "candidate": "black", "leader": "white", "down": "white"}


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


def _check_ms_range(what: str, lo: float, hi: float, minimum: float) -> tuple[float, float]:
    if lo < minimum:
        raise ValueError(f"{what} lo = {lo} ms is too small; it must be >= {minimum} ms")
    if lo > hi:
        raise ValueError(f"{what} lo = {lo} ms is above hi = {hi} ms; need lo <= hi")
    return lo, hi


def _legend_html() -> str:
    """The timeline's legend, drawn once in HTML (same colours and marks as raftlab.plots)."""
    def swatch(color: str, label: str, style: str = "") -> str:
        return (f"<span style='white-space:nowrap'><span style='display:inline-block;width:14px;"
                f"height:10px;background:{color};{style}margin:0 3px 0 10px'></span>{label}</span>")
    items = [swatch(ROLE_COLORS[r], r) for r in ("follower", "candidate", "leader", "crashed")]
    items.append(swatch("repeating-linear-gradient(45deg,#999 0 2px,transparent 2px 5px)",
                        "disconnected", "border:1px solid #999;"))
    items.append(swatch(PARTITION_COLOR, "partitioned", "opacity:0.5;"))
    for color, text in [("black", "▼ election timeout"), (VOTE_COLORS[True], "⟶ vote granted"),
                        (VOTE_COLORS[False], "⇢ vote denied"),
                        (ROLE_COLORS["leader"], "| AppendEntries round")]:
        items.append(f"<span style='margin-left:10px;white-space:nowrap;color:{color}'>{text}"
                     "</span>")
    return "<div class='raftlab-legend' style='font-size:11px'>" + "".join(items) + "</div>"


class ClusterLab:
    """A control panel for ``cluster``; ``lab.cluster`` is the cluster it drives.

    ``window`` is the span of the timeline view (ms of virtual time, ending now);
    ``display=True`` shows the panel at once when running in IPython/Jupyter.
    ``lab.button("crash 2").click()`` finds a button by its current description;
    ``lab.script()`` is the recorded session as Python code; ``lab.tick()`` is one play step;
    ``lab.timeline_info`` is what the timeline view last drew, as data.
    """

    def __init__(self, cluster: Cluster, *, window: float = 3000, display: bool = True,
                 tick_seconds: float = 0.25) -> None:
        if not isinstance(cluster, Cluster):
            raise ValueError(f"ClusterLab needs a raftlab Cluster, got {type(cluster).__name__}")
        if isinstance(window, bool) or not isinstance(window, (int, float)) or \
                not 10 <= window <= 600_000:
            raise ValueError(f"window must be a number of ms in 10..600000, got {window!r}")
        self.window = window
        self.tick_seconds = tick_seconds
        self._task: Optional[asyncio.Task] = None
        self._syncing = False
        # fixed margins (no layout engine): one draw per redraw keeps an action under 250 ms
        self._fig = Figure(figsize=(8.5, 3.1), dpi=72)
        self._build()
        self._attach(cluster)
        self._shown_at: Optional[int] = None
        if display:
            self._display()

    # ---------------------------------------------------------------- the cluster
    @property
    def cluster(self) -> Cluster:
        """The cluster the panel drives (a new one after "reset")."""
        return self._cluster

    def _attach(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self.recorder = Recorder(cluster)
        self.digest = TraceDigest(cluster.trace)
        self._mark = (len(cluster.trace.raw), cluster.now)
        self._outside = False
        self.seed.value = cluster.seed
        self._sync_settings()
        if not self.recorder.fresh:
            self._say("This cluster was already used before the panel took it over: "
                      "lab.script() can only replay what happens from now on.", "warning")
        self.refresh()

    def _sync_settings(self) -> None:
        """Show the cluster's current settings in the fields (public attributes only)."""
        c = self._cluster
        net = c.network_config
        self._syncing = True  # the checkboxes' observers must not call the cluster now
        try:
            self.reliable.value = bool(net.reliable)
            self.reordering.value = bool(net.long_reordering)
            self.lat_lo.value, self.lat_hi.value = (_num(x) for x in net.latency)
            self.et_lo.value, self.et_hi.value = (_num(x) for x in c.config.election_timeout)
            self.heartbeat.value = _num(c.config.heartbeat_interval)
        finally:
            self._syncing = False

    def script(self) -> str:
        """Python code that replays this session (since the last reset) on a fresh cluster."""
        text = self.recorder.script()
        if self._outside:
            text = ("# NOTE: the cluster was also driven outside the panel during this session; "
                    "those calls are not in this script.\n" + text)
        return text

    # ---------------------------------------------------------------- widgets
    def _button(self, description: str, handler: Callable[[], None], tooltip: str = "",
                width: str = "auto") -> W.Button:
        b = W.Button(description=description, tooltip=tooltip or description,
                     layout=W.Layout(width=width))
        b.on_click(lambda _b: handler())
        return b

    def _build(self) -> None:
        self.header = W.HTML()
        self.warning = W.HTML()
        self.message = W.HTML()

        # time
        self.step_buttons = {label: self._button(label, partial(self.step, ms),
                                                 f"run {ms} ms of virtual time", width="100px")
                             for label, ms in STEPS.items()}
        self.play = W.ToggleButton(value=False, description="play", icon="play",
                                   tooltip="advance time continuously",
                                   layout=W.Layout(width="90px"))
        self.play.observe(self._on_play, "value")
        self.speed = W.Dropdown(options=[(f"{s} ms / tick", s) for s in SPEEDS], value=100,
                                description="speed", layout=W.Layout(width="190px"))
        self.seed = W.IntText(value=0, description="seed", layout=W.Layout(width="150px"))
        self.reset_button = self._button("reset", self._reset,
                                         "a fresh cluster with this seed (clears the recording)")
        time_box = W.VBox([W.HTML("<b>Time</b>"),
                           W.HBox([*self.step_buttons.values(), self.play]),
                           W.HBox([self.speed, self.seed, self.reset_button])])

        # network
        self.groups = W.Text(value="", placeholder="0 1 | 2 3 4", description="groups",
                             layout=W.Layout(width="230px"))
        self.partition_button = self._button("partition", self._partition,
                                             "split the network into these groups")
        self.heal_button = self._button("heal", self._heal, "end the partition, reconnect all")
        self.reliable = W.Checkbox(value=True, description="reliable", indent=False,
                                   layout=W.Layout(width="90px"))
        self.reliable.observe(lambda ch: self._set_flag("set_reliable", ch), "value")
        self.reordering = W.Checkbox(value=False, description="long reordering", indent=False,
                                     layout=W.Layout(width="140px"))
        self.reordering.observe(lambda ch: self._set_flag("set_long_reordering", ch), "value")
        self.lat_lo = W.FloatText(description="latency", layout=W.Layout(width="150px"))
        self.lat_hi = W.FloatText(description="to", layout=W.Layout(width="120px"),
                                  style={"description_width": "20px"})
        self.latency_button = self._button("set latency", self._set_latency,
                                           "one-way delay range of delivered messages, ms")
        net_box = W.VBox([W.HTML("<b>Network</b>"),
                          W.HBox([self.groups, self.partition_button, self.heal_button]),
                          W.HBox([self.reliable, self.reordering]),
                          W.HBox([self.lat_lo, self.lat_hi, self.latency_button])])

        # timing
        self.et_lo = W.FloatText(description="election", layout=W.Layout(width="150px"))
        self.et_hi = W.FloatText(description="to", layout=W.Layout(width="120px"),
                                 style={"description_width": "20px"})
        self.heartbeat = W.FloatText(description="heartbeat", layout=W.Layout(width="150px"))
        self.timing_button = self._button("set timing", self._set_timing,
                                          "applies to timers set from now on")
        self.split_button = self._button(
            "split vote", self._split_vote,
            "zero-width election timeout, and restart every live node at this instant so all "
            "election timers start together")
        timing_box = W.VBox([W.HTML("<b>Timing</b> (ms; applies to timers set from now on)"),
                             W.HBox([self.et_lo, self.et_hi]),
                             W.HBox([self.heartbeat, self.timing_button, self.split_button])])

        # views
        self.timeline = W.Image(format="png", layout=W.Layout(width="100%"))
        self.show_timeline = W.Checkbox(value=True, description="draw timeline", indent=False,
                                        tooltip="switch off for faster stepping on a slow machine")
        self.show_timeline.observe(self._on_show_timeline, "value")
        self.status = W.HTML()
        self.events = W.HTML()
        self.node_box = W.VBox()
        self.node_rows: list[tuple[W.HTML, W.Button, W.Button]] = []

        controls = W.VBox([W.HTML("<b>Nodes</b>"), self.node_box, time_box, net_box, timing_box],
                          layout=W.Layout(width="560px", min_width="560px", flex="0 0 560px"))
        views = W.VBox([self.timeline, W.HBox([self.show_timeline, W.HTML(_legend_html())]),
                        self.status, self.events],
                       layout=W.Layout(flex="1 1 auto", min_width="0", max_width="720px"))
        self.widget = W.VBox([self.header, self.warning, self.message, W.HBox([controls, views])])
        self.widget.add_class("raftlab-lab")

    def _build_nodes(self) -> None:
        n = self._cluster.n
        if len(self.node_rows) == n:
            return
        rows = []
        for i in range(n):
            label = W.HTML(layout=W.Layout(width="230px"))
            crash = self._button(f"crash {i}", partial(self._crash_or_restart, i),
                                 width="100px")
            link = self._button(f"disconnect {i}", partial(self._disconnect_or_connect, i),
                                width="120px")
            rows.append((label, crash, link))
        self.node_rows = rows
        self.node_box.children = [W.HBox(list(r)) for r in rows]

    def buttons(self) -> list[W.Button]:
        """Every button of the panel."""
        out = [b for _, crash, link in self.node_rows for b in (crash, link)]
        out += [*self.step_buttons.values(), self.reset_button, self.partition_button,
                self.heal_button, self.latency_button, self.timing_button, self.split_button]
        return out

    def button(self, description: str) -> W.Button:
        """The button whose description is ``description`` right now (e.g. "crash 2")."""
        for b in self.buttons():
            if b.description == description:
                return b
        known = ", ".join(repr(b.description) for b in self.buttons())
        raise ValueError(f"no button {description!r}; the buttons are {known}")

    # ---------------------------------------------------------------- display
    def _display(self) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:  # pragma: no cover - ipywidgets brings IPython
            return
        shell = get_ipython()
        if shell is None:
            return
        self._shown_at = shell.execution_count
        display(self.widget)

    def _ipython_display_(self) -> None:
        """Show the panel (not a second time in the cell that created it)."""
        from IPython import get_ipython
        from IPython.display import display
        shell = get_ipython()
        if shell is not None and self._shown_at == shell.execution_count:
            return
        self._shown_at = None
        display(self.widget)

    def __repr__(self) -> str:
        return f"ClusterLab({self._cluster!r})"

    # ---------------------------------------------------------------- actions
    def _say(self, text: str, level: str = "info") -> None:
        color = {"info": "#333", "warning": "#8a5a00", "error": "#b00020"}[level]
        self.message.value = (f"<div class='raftlab-message raftlab-{level}' "
                              f"style='color:{color}'>{html.escape(text)}</div>") if text else ""

    def _act(self, fn: Callable[[], None]) -> bool:
        """Run an action; a bad value shows a message and changes nothing."""
        if (len(self._cluster.trace.raw), self._cluster.now) != self._mark:
            self._outside = True  # someone drove the cluster outside the panel
        try:
            fn()
        except ValueError as exc:
            self._say(str(exc), "error")
            self.refresh()
            return False
        except Exception as exc:  # e.g. a CheckFailed raised while time ran
            self._say(f"{type(exc).__name__}: {exc}", "error")
            self.refresh()
            raise
        self._say("")
        self.refresh()
        return True

    def _call(self, method: str, *args: Any, **kwargs: Any) -> None:
        """Call ``cluster.method(*args, **kwargs)`` and record it (only if it succeeded)."""
        t = self._cluster.now
        getattr(self._cluster, method)(*args, **kwargs)
        self.recorder.call(t, method, *args, **kwargs)

    def step(self, ms: int) -> None:
        """Run ``ms`` of virtual time (what the "+10 ms", "+100 ms", "+1 s" buttons do)."""
        self._act(lambda: self._call("run_for", ms))

    def tick(self) -> None:
        """One step of play: ``speed`` ms of virtual time."""
        self.step(self.speed.value)

    def _crash_or_restart(self, i: int) -> None:
        self._act(lambda: self._call("crash" if self._cluster.is_alive(i) else "restart", i))

    def _disconnect_or_connect(self, i: int) -> None:
        def go() -> None:
            if not self._cluster.is_alive(i):
                raise ValueError(f"node {i} is crashed: restart it first (restart connects it)")
            self._call("disconnect" if self._cluster.connected[i] else "connect", i)
        self._act(go)

    def _partition(self) -> None:
        self._act(lambda: self._call("partition", *parse_groups(self.groups.value,
                                                                 self._cluster.n)))

    def _heal(self) -> None:
        self._act(lambda: self._call("heal"))

    def _set_flag(self, method: str, change: dict) -> None:
        if self._syncing or change["new"] == change["old"]:
            return
        self._act(lambda: self._call(method, bool(change["new"])))

    def _set_latency(self) -> None:
        def go() -> None:
            lo, hi = _check_ms_range("latency", _num(self.lat_lo.value), _num(self.lat_hi.value),
                                     0)
            self._call("set_latency", (lo, hi))
        self._act(go)

    def _set_timing(self) -> None:
        def go() -> None:
            lo, hi = _check_ms_range("election timeout", _num(self.et_lo.value),
                                     _num(self.et_hi.value), 1)
            hb = _num(self.heartbeat.value)
            if not hb > 0:
                raise ValueError(f"heartbeat interval {hb} ms must be > 0 ms")
            self._call("set_timing", election_timeout=(lo, hi), heartbeat_interval=hb)
        self._act(go)

    def _split_vote(self) -> None:
        """Align the election timers: a zero-width timeout range, then every live node is
        restarted at this instant, so their timers start together and expire together."""
        def go() -> None:
            c = self._cluster
            lo = _num(c.config.election_timeout[0])
            live = [i for i in range(c.n) if c.is_alive(i)]
            if len(live) < 2:
                raise ValueError("split vote needs at least 2 live nodes; restart some first")
            self._call("set_timing", election_timeout=(lo, lo))
            for i in live:
                self._call("restart", i)
            self.et_lo.value = self.et_hi.value = lo
        if self._act(go):
            self._say("Split vote preset: the election timeout is now exactly "
                      f"{_num(self._cluster.config.election_timeout[0])} ms and every live node "
                      "was restarted now, so all timers fire together and every node votes for "
                      "itself, round after round. Widen the range ('set timing') to end it.")

    def _reset(self) -> None:
        seed = self.seed.value
        old = self._cluster
        try:
            new = Cluster(old.n, seed=seed, **old.constructor_args())
        except ValueError as exc:
            self._say(str(exc), "error")
            return
        self.play.value = False
        self._attach(new)
        self._say(f"Reset: a fresh cluster with seed {seed}; the recording starts again.")

    # ---------------------------------------------------------------- play
    def _on_play(self, change: dict) -> None:
        self.play.description = "pause" if change["new"] else "play"
        self.play.icon = "pause" if change["new"] else "play"
        if not change["new"]:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._say("play needs a running event loop (a Jupyter kernel); use the step buttons "
                      "or lab.tick() instead", "error")
            self.play.value = False
            return
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._play_loop())

    async def _play_loop(self) -> None:
        """Step ``speed`` ms per tick while "play" is down; wall-clock pacing is for the eye
        only (virtual time advances by the same fixed steps however fast ticks come)."""
        while self.play.value:
            try:
                self.tick()
            except Exception:
                self.play.value = False
                raise
            await asyncio.sleep(self.tick_seconds)

    # ---------------------------------------------------------------- views
    def refresh(self) -> None:
        """Redraw every view from the trace."""
        c = self._cluster
        self._build_nodes()
        d = self.digest.update()
        now = c.now
        leader = c.leader()
        lead = (f"leader: node {leader} (term {c.get_state(leader)[0]})" if leader is not None
                else "no leader")
        self.header.value = (f"<div class='raftlab-header'><b>raftlab</b> · "
                             f"Cluster({c.n}, seed={c.seed}) · t = {format_ms(now)} ms · "
                             f"<span class='raftlab-leader'>{lead}</span></div>")
        if d.violations:
            items = "".join(f"<li>{html.escape(v)}</li>" for v in d.violations[:5])
            self.warning.value = ("<div class='raftlab-violation' style='background:#b00020;"
                                  "color:white;padding:4px'><b>SAFETY VIOLATION</b> "
                                  f"({len(d.violations)}):<ul>{items}</ul></div>")
        else:
            self.warning.value = ""
        rows = d.rows(now)
        connected = c.connected
        for r, (label, crash, link) in zip(rows, self.node_rows):
            bg = ROLE_COLORS["crashed" if r.role == "down" else r.role]
            state = r.role if r.role == "down" else f"{r.role} · term {r.term}"
            if r.role != "down" and not connected[r.node]:
                state += " · cut off"
            label.value = (f"<span class='raftlab-node' style='background:{bg};"
                           f"color:{_ROLE_TEXT_COLOR[r.role]};padding:2px 6px'>"
                           f"node {r.node} · {state}</span>")
            crash.description = f"{'restart' if r.role == 'down' else 'crash'} {r.node}"
            link.description = (f"{'connect' if r.role != 'down' and not connected[r.node] else 'disconnect'}"
                                f" {r.node}")
            link.disabled = r.role == "down"
        self.status.value = self._status_table(rows, connected)
        self.events.value = ("<div><b>last events</b> (heartbeats hidden)<pre style='font-size:"
                             "11px;line-height:1.25'>" +
                             html.escape("\n".join(describe_event(e) for e in d.recent)) +
                             "</pre></div>")
        if self.show_timeline.value:
            self._draw_timeline()
        self._mark = (len(c.trace.raw), c.now)

    def _status_table(self, rows: list, connected: list[bool]) -> str:
        head = "".join(f"<th style='padding:0 6px;white-space:nowrap'>{h}</th>" for h in
                       ("node", "role", "term", "voted for", "since heartbeat", "link"))
        body = []
        for r in rows:
            hb = "—" if r.role in ("leader", "down") or r.since_heartbeat is None \
                else f"{r.since_heartbeat:.0f} ms"
            vote = "—" if r.voted_for is None else str(r.voted_for)
            link = "—" if r.role == "down" else ("up" if connected[r.node] else "cut off")
            cells = (r.node, r.role, r.term, vote, hb, link)
            body.append("<tr>" + "".join(f"<td style='padding:0 6px'>{v}</td>" for v in cells)
                        + "</tr>")
        return ("<table class='raftlab-status'><thead><tr>" + head + "</tr></thead><tbody>" +
                "".join(body) + "</tbody></table>")

    def _on_show_timeline(self, change: dict) -> None:
        self.timeline.layout.display = None if change["new"] else "none"
        if change["new"]:
            self._draw_timeline()

    def _window(self) -> tuple[float, float]:
        """The timeline's window: the last ``window`` ms, narrowed when it holds more than
        ``MAX_VOTES`` votes (each is an arrow; a storm of them would make a redraw slow)."""
        c = self._cluster
        end = max(c.now, 1)
        start = max(0.0, end - self.window)
        raw = c.trace.raw
        votes = 0
        for k in range(len(raw) - 1, -1, -1):
            ev = raw[k]
            if ev[0] < start:
                break
            if ev[1] == "vote":
                votes += 1
                if votes == MAX_VOTES:
                    last_kept = ev[0]
                elif votes > MAX_VOTES:
                    return last_kept, end
        return start, end

    def _draw_timeline(self) -> None:
        start, end = self._window()
        span = end - start
        title = (f"last {format_ms(span)} ms" if span >= self.window or start == 0 else
                 f"last {format_ms(span)} ms (narrowed: over {MAX_VOTES} votes in "
                 f"{format_ms(self.window)} ms)")
        fig = self._fig
        fig.clear()
        ax = fig.add_axes((0.08, 0.2, 0.9, 0.7))
        timeline(self._cluster.trace, start=start, end=end, ax=ax, title=title)
        self.timeline_info: dict = getattr(fig, "raftlab")  # what was drawn, as data (see raftlab.plots)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()  # the panel shows a fixed HTML legend: drawing it costs ~60 ms
        buf = io.BytesIO()
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        self.timeline.value = buf.getvalue()
