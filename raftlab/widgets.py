"""``ClusterLab``: an ipywidgets control panel that drives a Cluster and shows its trace.

One line opens it in JupyterLab::

    from raftlab import Cluster
    from raftlab.widgets import ClusterLab
    lab = ClusterLab(Cluster(5, seed=3))

This module is the view only: it builds the widgets, hands each control to one call of a
``raftlab.lab_control.LabController`` (which calls the public ``Cluster`` API and records it,
so ``lab.script()`` replays the session), and redraws from the controller's state: header,
node rows, status table and last events as HTML (``raftlab.panel_html``), the timeline of
the recent window and every node's log now as PNGs (``raftlab.plots.timeline`` and
``log_grid``). A bad value in a field (lo > hi, an empty partition group) shows the
controller's message and changes nothing. The "request"
control proposes a command (``LabController.request``: ``c.start`` on the leader or a chosen
node) and shows whether it was accepted, at which index and term.
"""

from __future__ import annotations

import asyncio
import io
from functools import partial
from typing import Any, Callable, Optional

import ipywidgets as W
from matplotlib.figure import Figure

from . import panel_html
from .cluster import Cluster
from .lab_control import LabController, LabState, Outcome, parse_groups
from .plots import log_grid, timeline
from .recording import Recorder
from .status import TraceDigest

__all__ = ["ClusterLab", "parse_groups", "STEPS", "SPEEDS", "VIEWS_MIN_WIDTH"]

#: The time-step buttons: label -> virtual ms.
STEPS = {"+10 ms": 10, "+100 ms": 100, "+1 s": 1000}
#: Play speeds: virtual ms advanced per tick.
SPEEDS = (10, 20, 50, 100, 200, 500, 1000)
#: The log view draws at most this many indices (the last ones): each cell costs drawing time.
LOG_VIEW_INDICES = 12
#: The narrowest the views (timeline, logs, status table) may be beside the controls; in a
#: narrower notebook they go below them.
VIEWS_MIN_WIDTH = "460px"


def _full_width(**more: str) -> W.Layout:
    """As wide as the views' column: no margin, which would push it out at the right."""
    return W.Layout(width="100%", margin="0", **more)


class ClusterLab:
    """A control panel for ``cluster``; ``lab.cluster`` is the cluster it drives.

    ``window`` is the span of the timeline view (ms of virtual time, ending now);
    ``display=True`` shows the panel at once when running in IPython/Jupyter.
    ``lab.button("crash 2").click()`` finds a button by its current description;
    ``lab.script()`` is the recorded session as Python code; ``lab.tick()`` is one play step;
    ``lab.timeline_info`` is what the timeline view last drew, as data (``raftlab.plots``'
    ``fig.raftlab``, plus its ``title``), ``lab.log_info`` what the log view last drew
    (``log_grid``'s); ``lab.control`` is the headless controller behind it.
    """

    def __init__(self, cluster: Cluster, *, window: float = 3000, display: bool = True,
                 tick_seconds: float = 0.25) -> None:
        self.control = LabController(cluster, window=window)
        self.tick_seconds = tick_seconds
        self.timeline_info: dict = {}
        self._task: Optional[asyncio.Task] = None
        self._syncing = False
        # fixed margins (no layout engine): one draw per redraw keeps an action under 250 ms
        self._fig = Figure(figsize=(8.5, 3.1), dpi=72)
        self._log_fig = Figure(figsize=(8.5, 2.0), dpi=72)
        self._build()
        self._attached()
        self._shown_at: Optional[int] = None
        if display:
            self._display()

    # ---------------------------------------------------------------- the controller's parts
    @property
    def cluster(self) -> Cluster:
        """The cluster the panel drives (a new one after "reset")."""
        return self.control.cluster

    @property
    def recorder(self) -> Recorder:
        """The record of this session's calls (since the last reset)."""
        return self.control.recorder

    @property
    def digest(self) -> TraceDigest:
        """The running summary of the trace behind the node rows and status table."""
        return self.control.digest

    @property
    def window(self) -> float:
        """The timeline's span, ms."""
        return self.control.window

    def script(self) -> str:
        """Python code that replays this session (since the last reset) on a fresh cluster."""
        return self.control.script()

    def _attached(self) -> None:
        """Show a cluster just taken over: its seed and settings in the fields, the next
        command (1) to the leader in the request fields."""
        self.seed.value = self.cluster.seed
        self.command.value = str(self.control.next_command)
        self.request_to.value = "leader"
        self._show_settings(self.control.settings(), numbers=True)
        self._say(self.control.notice, "warning")
        self.refresh()

    def _show_settings(self, settings: dict[str, Any], numbers: bool) -> None:
        """The checkboxes always follow the cluster; the number fields only when ``numbers``
        (they may hold a value being typed)."""
        self._syncing = True  # the checkboxes' observers must not call the cluster now
        try:
            self.reliable.value = bool(settings["reliable"])
            self.reordering.value = bool(settings["long_reordering"])
            self.pre_vote.value = bool(settings["pre_vote"])
            self.check_quorum.value = bool(settings["check_quorum"])
            if numbers:
                self.lat_lo.value, self.lat_hi.value = settings["latency"]
                self.et_lo.value, self.et_hi.value = settings["election_timeout"]
                self.heartbeat.value = settings["heartbeat_interval"]
        finally:
            self._syncing = False

    # ---------------------------------------------------------------- widgets
    def _button(self, description: str, handler: Callable[[], Any], tooltip: str = "",
                width: str = "auto") -> W.Button:
        b = W.Button(description=description, tooltip=tooltip or description,
                     layout=W.Layout(width=width))
        b.on_click(lambda _b: handler())
        return b

    def _build(self) -> None:
        ctl = self.control
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

        # a client request: c.start(node, command) on the leader or a chosen node
        self.request_to = W.Dropdown(options=[("leader", "leader")], value="leader",
                                     description="to", layout=W.Layout(width="150px"),
                                     style={"description_width": "20px"})
        self.command = W.Text(value="1", description="command", layout=W.Layout(width="190px"),
                              tooltip="a number or any text; after an accepted request, the "
                                      "next number")
        self.request_button = self._button(
            "request", self._request,
            "c.start(node, command): propose the command to the leader (or the chosen node)")
        client_box = W.VBox([W.HTML("<b>Client</b>"),
                             W.HBox([self.request_to, self.command, self.request_button])])

        # network
        self.groups = W.Text(value="", placeholder="0 1 | 2 3 4", description="groups",
                             layout=W.Layout(width="230px"))
        self.partition_button = self._button(
            "partition", lambda: self._run(lambda: ctl.partition(self.groups.value)),
            "split the network into these groups")
        self.heal_button = self._button("heal", lambda: self._run(ctl.heal),
                                        "end the partition, reconnect all")
        self.reliable = W.Checkbox(value=True, description="reliable", indent=False,
                                   layout=W.Layout(width="90px"))
        self.reliable.observe(lambda ch: self._on_flag(ctl.set_reliable, ch), "value")
        self.reordering = W.Checkbox(value=False, description="long reordering", indent=False,
                                     layout=W.Layout(width="140px"))
        self.reordering.observe(lambda ch: self._on_flag(ctl.set_long_reordering, ch), "value")
        self.lat_lo = W.FloatText(description="latency", layout=W.Layout(width="150px"))
        self.lat_hi = W.FloatText(description="to", layout=W.Layout(width="120px"),
                                  style={"description_width": "20px"})
        self.latency_button = self._button(
            "set latency",
            lambda: self._run(lambda: ctl.set_latency(self.lat_lo.value, self.lat_hi.value)),
            "one-way delay range of delivered messages, ms")
        # one link: a -> b (both ways unless "one way")
        self.link_a = W.Dropdown(options=[0], description="link", layout=W.Layout(width="110px"),
                                 style={"description_width": "30px"})
        self.link_b = W.Dropdown(options=[0], description="–", layout=W.Layout(width="80px"),
                                 style={"description_width": "12px"})
        self.one_way = W.Checkbox(value=False, description="one way", indent=False,
                                  tooltip="only what the first node sends to the second is lost",
                                  layout=W.Layout(width="80px"))
        self.cut_link_button = self._button(
            "cut link", lambda: self._link(ctl.cut_link),
            "lose every message between these two nodes (one way: first -> second only)")
        self.restore_link_button = self._button(
            "restore link", lambda: self._link(ctl.restore_link),
            "lift the cut (the link is up again unless a node is disconnected or partitioned)")
        net_box = W.VBox([W.HTML("<b>Network</b>"),
                          W.HBox([self.groups, self.partition_button, self.heal_button]),
                          W.HBox([self.link_a, self.link_b, self.one_way, self.cut_link_button,
                                  self.restore_link_button]),
                          W.HBox([self.reliable, self.reordering]),
                          W.HBox([self.lat_lo, self.lat_hi, self.latency_button])])

        # timing
        self.et_lo = W.FloatText(description="election", layout=W.Layout(width="150px"))
        self.et_hi = W.FloatText(description="to", layout=W.Layout(width="120px"),
                                 style={"description_width": "20px"})
        self.heartbeat = W.FloatText(description="heartbeat", layout=W.Layout(width="150px"))
        self.timing_button = self._button(
            "set timing",
            lambda: self._run(lambda: ctl.set_timing(self.et_lo.value, self.et_hi.value,
                                                     self.heartbeat.value)),
            "applies to timers set from now on")
        self.split_button = self._button(
            "split vote", self._split_vote,
            "zero-width election timeout, and restart every live node at this instant so all "
            "election timers start together")
        self.pre_vote = W.Checkbox(value=False, description="pre-vote", indent=False,
                                   tooltip="PreVote (§9.6): ask for pre-votes before raising "
                                           "the term", layout=W.Layout(width="90px"))
        self.pre_vote.observe(lambda ch: self._on_flag(ctl.set_pre_vote, ch), "value")
        self.check_quorum = W.Checkbox(value=False, description="check quorum", indent=False,
                                       tooltip="CheckQuorum (§6.2): a leader without a majority "
                                               "steps down; followers ignore RequestVote while "
                                               "they hear a leader",
                                       layout=W.Layout(width="120px"))
        self.check_quorum.observe(lambda ch: self._on_flag(ctl.set_check_quorum, ch), "value")
        timing_box = W.VBox([W.HTML("<b>Timing</b> (ms; applies to timers set from now on)"),
                             W.HBox([self.et_lo, self.et_hi]),
                             W.HBox([self.heartbeat, self.timing_button, self.split_button]),
                             W.HBox([W.HTML("<b>Protocol</b>", layout=W.Layout(width="70px")),
                                     self.pre_vote, self.check_quorum])])

        # views
        self.timeline = W.Image(format="png", layout=_full_width())
        self.show_timeline = W.Checkbox(value=True, description="draw timeline", indent=False,
                                        tooltip="switch off for faster stepping on a slow machine")
        self.show_timeline.observe(self._on_show_timeline, "value")
        self.legend = W.HTML(panel_html.legend(), layout=_full_width())
        # the log view: every node's log now (log_grid), with the leader's nextIndex and
        # matchIndex
        self.logs = W.Image(format="png", layout=_full_width())
        self.log_legend = W.HTML(panel_html.log_legend(), layout=_full_width())
        self.show_logs = W.Checkbox(value=True, description="draw logs", indent=False,
                                    tooltip="every node's log now, coloured by term, with the "
                                            "leader's nextIndex and matchIndex for each "
                                            "follower")
        self.show_logs.observe(self._on_show_logs, "value")
        self.log_info: dict = {}
        self._logs_drawn: Optional[tuple[Cluster, int]] = None  # (cluster, log_changes) drawn
        self.status = W.HTML(layout=_full_width(overflow="auto"))
        self.events = W.HTML()
        self.node_box = W.VBox()
        self.node_rows: list[tuple[W.HTML, W.Button, W.Button]] = []

        controls = W.VBox([W.HTML("<b>Nodes</b>"), self.node_box, time_box, client_box, net_box,
                           timing_box],
                          layout=W.Layout(width="560px", min_width="560px", flex="0 0 560px"))
        # the views take what is left beside the controls, and move below them when that is
        # under VIEWS_MIN_WIDTH (a narrow notebook), so nothing is ever clipped at the right
        views = W.VBox([self.timeline, self.show_timeline, self.legend,
                        self.logs, W.VBox([self.show_logs, self.log_legend]),
                        self.status, self.events],
                       layout=W.Layout(flex=f"1 1 {VIEWS_MIN_WIDTH}", min_width=VIEWS_MIN_WIDTH,
                                       max_width="720px"))
        self.widget = W.VBox([self.header, self.warning, self.message,
                              W.HBox([controls, views], layout=W.Layout(flex_flow="row wrap"))])
        self.widget.add_class("raftlab-lab")

    def _build_nodes(self, n: int) -> None:
        if len(self.node_rows) == n:
            return
        ctl = self.control
        rows = []
        for i in range(n):
            label = W.HTML(layout=W.Layout(width="230px"))
            power = self._button(f"crash {i}", partial(self._run, partial(ctl.crash_or_restart, i)),
                                 width="100px")
            link = self._button(f"disconnect {i}",
                                partial(self._run, partial(ctl.disconnect_or_connect, i)),
                                width="120px")
            rows.append((label, power, link))
        self.node_rows = rows
        self.node_box.children = [W.HBox(list(r)) for r in rows]
        self.link_a.options = self.link_b.options = list(range(n))
        self.link_a.value, self.link_b.value = 0, min(1, n - 1)
        self.request_to.options = [("leader", "leader")] + [(f"node {i}", i) for i in range(n)]
        self.request_to.value = "leader"

    def buttons(self) -> list[W.Button]:
        """Every button of the panel."""
        out = [b for _, power, link in self.node_rows for b in (power, link)]
        out += [*self.step_buttons.values(), self.reset_button, self.request_button,
                self.partition_button,
                self.heal_button, self.cut_link_button, self.restore_link_button,
                self.latency_button, self.timing_button, self.split_button]
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
        return f"ClusterLab({self.cluster!r})"

    # ---------------------------------------------------------------- actions
    def _say(self, text: str, level: str = "info") -> None:
        self.message.value = panel_html.message(text, level)

    def _run(self, action: Callable[[], Outcome]) -> Optional[Outcome]:
        """Run one controller action and redraw. A ValueError (a bad value: nothing changed)
        becomes the panel's message; any other error is shown, then raised."""
        try:
            outcome = action()
        except ValueError as exc:
            self._say(str(exc), "error")
            self.refresh()
            return None
        except Exception as exc:  # e.g. a CheckFailed raised while time ran
            self._say(f"{type(exc).__name__}: {exc}", "error")
            self.refresh()
            raise
        self._say(outcome.note, outcome.level)
        self.refresh()
        return outcome

    def step(self, ms: int) -> None:
        """Run ``ms`` of virtual time (what the "+10 ms", "+100 ms", "+1 s" buttons do)."""
        self._run(lambda: self.control.step(ms))

    def tick(self) -> None:
        """One step of play: ``speed`` ms of virtual time."""
        self.step(self.speed.value)

    def _on_flag(self, action: Callable[[bool], Outcome], change: dict) -> None:
        if self._syncing or change["new"] == change["old"]:
            return
        self._run(lambda: action(bool(change["new"])))

    def _link(self, action: Callable[..., Outcome]) -> None:
        """The "cut link" / "restore link" buttons: the chosen pair, one way if ticked."""
        self._run(lambda: action(self.link_a.value, self.link_b.value,
                                 one_way=self.one_way.value))

    def _request(self) -> None:
        """The "request" button: the command field's value to the chosen node (or the
        leader); once a leader accepts it, the field shows the next number."""
        ctl = self.control
        outcome = self._run(lambda: ctl.request(self.request_to.value, self.command.value))
        if outcome is not None and outcome.calls and outcome.level == "info":
            self.command.value = str(ctl.next_command)

    def _split_vote(self) -> None:
        if self._run(self.control.split_vote) is not None:
            self._show_settings(self.control.settings(), numbers=True)

    def _reset(self) -> None:
        seed = self.seed.value
        try:
            outcome = self.control.reset(seed)
        except ValueError as exc:
            self._say(str(exc), "error")
            return
        self.play.value = False
        self._attached()
        self._say(outcome.note)

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
        """Redraw every view from the controller's state (and the timeline, if shown)."""
        s: LabState = self.control.state()
        self._build_nodes(len(s.rows))
        self.header.value = panel_html.header(s.header)
        self.warning.value = panel_html.safety_banner(s.violations)
        for row, (label, power, link) in zip(s.rows, self.node_rows):
            label.value = panel_html.node_label(row)
            power.description = f"{row.power_action} {row.node}"
            link.description = f"{row.link_action} {row.node}"
            link.disabled = not row.link_enabled
        self.status.value = panel_html.status_table(s.rows) + panel_html.cut_links(s.cuts)
        self.events.value = panel_html.events(s.recent)
        self._show_settings(s.settings, numbers=False)
        if self.show_timeline.value:
            self.draw_timeline()
        if self.show_logs.value:
            self.draw_logs()

    def _on_show_logs(self, change: dict) -> None:
        display = None if change["new"] else "none"
        self.logs.layout.display = self.log_legend.layout.display = display
        if change["new"]:
            self.draw_logs(force=True)

    def draw_logs(self, force: bool = False) -> None:
        """Draw every node's log as it is now (``raftlab.plots.log_grid``: entries coloured
        by term, committed ones framed, the leader's nextIndex, matchIndex and agreement per
        follower)
        into the log view; ``log_info`` says what was drawn. ``refresh`` does it while "draw
        logs" is ticked, only if an event that changes the picture came since the last
        drawing (``TraceDigest.log_changes``), unless ``force``."""
        c = self.cluster
        changes = self.digest.update().log_changes
        drawn = self._logs_drawn
        if not force and drawn is not None and drawn[0] is c and drawn[1] == changes:
            return
        self._logs_drawn = (c, changes)
        fig = self._log_fig
        fig.clear()
        height = 0.85 + 0.3 * c.n   # inches: 0.3 per row, 0.5 below for the index axis
        fig.set_size_inches(8.5, height)
        ax = fig.add_axes((0.25, 0.5 / height, 0.73, 1 - 0.78 / height))
        log_grid(c.trace, ax=ax, last=LOG_VIEW_INDICES,
                 title="every node's log now (the leader's nextIndex ▶, matchIndex ▬)")
        self.log_info = dict(getattr(fig, "raftlab"))
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()  # the panel shows it in HTML (panel_html.log_legend)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        self.logs.value = buf.getvalue()

    def _on_show_timeline(self, change: dict) -> None:
        self.timeline.layout.display = None if change["new"] else "none"
        if change["new"]:
            self.draw_timeline()

    def draw_timeline(self) -> None:
        """Draw the timeline of the controller's window into the image view now (``refresh``
        does it while "draw timeline" is ticked); ``timeline_info`` says what was drawn."""
        w = self.control.timeline_window()
        fig = self._fig
        fig.clear()
        ax = fig.add_axes((0.08, 0.2, 0.9, 0.7))
        timeline(self.cluster.trace, start=w.start, end=w.end, ax=ax, title=w.title)
        self.timeline_info = {**getattr(fig, "raftlab"), "title": w.title}
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()  # the panel shows a fixed HTML legend: drawing it costs ~60 ms
        buf = io.BytesIO()
        fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})
        self.timeline.value = buf.getvalue()
