"""Pictures of a trace: a swimlane timeline, a message (space-time) diagram, terms over time.

Every function takes a ``Trace`` (or a ``Cluster``: its ``.trace`` is used), an optional time
window ``start``/``end`` in virtual ms and an optional matplotlib ``ax``; it returns the Figure.
What was drawn is also kept as plain data in ``fig.raftlab`` (a dict, one entry per axes-level
call: the last call wins), so tests and curious users can check a picture against the trace.

Colours come from the Okabe-Ito palette (safe for colour-blind readers) and mean the same thing
in every plot: ``ROLE_COLORS`` for roles, ``MESSAGE_COLORS`` for message types (a RequestVote is
a candidate's colour, an AppendEntries a leader's). Log entries are coloured by term with
``term_color`` (one colour per term, the same in every plot).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Optional, Sequence

from matplotlib.collections import PatchCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from .analysis import (agreement, as_trace, check_window, disconnect_spans, index_window,
                       link_cut_spans, log_views, match_indices, message_fates, next_indices,
                       node_count,
                       partition_spans, role_spans, vote_answers)
from .formatting import format_ms
from .validation import check_int

__all__ = ["OKABE_ITO", "ROLE_COLORS", "ROLES_DRAWN", "MESSAGE_COLORS", "VOTE_COLORS",
           "LINK_CUT_COLOR", "MATCH_COLOR", "TERM_COLORS", "term_color", "timeline",
           "message_diagram", "message_label", "MESSAGE_ABBREVIATIONS", "terms", "log_grid"]

#: The Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2008), plus its grey.
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
    "reddish purple": "#CC79A7", "grey": "#999999",
}

#: One colour per role, shared by every plot and widget.
ROLE_COLORS = {
    "follower": OKABE_ITO["sky blue"],
    "precandidate": OKABE_ITO["yellow"],   # PreVote's phase before a candidacy
    "candidate": OKABE_ITO["orange"],
    "leader": OKABE_ITO["blue"],
    "crashed": OKABE_ITO["black"],
    "disconnected": OKABE_ITO["grey"],
}

#: One colour per message type: requests take the colour of the role that sends them.
MESSAGE_COLORS = {
    "RequestVote": ROLE_COLORS["candidate"],
    "RequestVoteReply": OKABE_ITO["reddish purple"],
    "AppendEntries": ROLE_COLORS["leader"],
    "AppendEntriesReply": OKABE_ITO["bluish green"],
    "PreVote": ROLE_COLORS["precandidate"],
    "PreVoteReply": OKABE_ITO["reddish purple"],   # an answer about a vote, like RequestVoteReply
}

#: Vote arrows on the timeline: a granted vote has the RequestVoteReply colour, a denied one
#: vermillion (and a dashed line).
VOTE_COLORS = {True: MESSAGE_COLORS["RequestVoteReply"], False: OKABE_ITO["vermillion"]}

#: The roles a band or line is drawn for, in legend order (every plot uses this list).
ROLES_DRAWN = ("follower", "precandidate", "candidate", "leader", "crashed")

#: Colours of log entries by term, cycled (``term_color``): Okabe-Ito hues, then lighter tints of
#: the same hues, so neighbouring terms always differ. Term 0 (the sentinel's) is grey.
TERM_COLORS = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442",
               "#A9D8F4", "#F2CE80", "#7FCEB9", "#E5BCD3", "#7FB8D8", "#EAAE7F")


def term_color(term: int) -> str:
    """The colour of term ``term`` (a log entry's), the same in every plot."""
    if term <= 0:
        return OKABE_ITO["grey"]
    return TERM_COLORS[(term - 1) % len(TERM_COLORS)]


PARTITION_COLOR = OKABE_ITO["yellow"]
#: Links cut by ``cut_link``: black, like the cross of a dropped message.
LINK_CUT_COLOR = OKABE_ITO["black"]
LINK_CUT_OFFSET = 0.44   # the cut's line runs this far above the centre of each end's lane
OTHER_MESSAGE_COLOR = OKABE_ITO["grey"]
MAX_MARKS = 400      # heartbeat rounds drawn one by one on a timeline; more are summarised
MAX_LABELS = 30      # term labels per lane that fit side by side


# ------------------------------------------------------------------ shared helpers
def _axes(ax: Any, n_lanes: int, width: float = 11.0) -> tuple[Figure, Any]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=(width, 1.2 + 0.55 * n_lanes), dpi=100, layout="constrained")
    return fig, fig.add_subplot()


def _nodes(trace: Any, nodes: Optional[Iterable[int]]) -> list[int]:
    n = node_count(trace)
    if nodes is None:
        return list(range(n))
    try:
        chosen = list(nodes)
    except TypeError:
        raise ValueError(f"nodes must be a list of node ids, got {nodes!r}") from None
    if not chosen:
        raise ValueError("nodes must name at least one node id")
    for i in chosen:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < n:
            raise ValueError(f"unknown node id {i!r} in nodes: node ids are 0..{n - 1}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"nodes lists a node twice: {chosen!r}")
    return chosen


def _lanes(ax: Any, nodes: Sequence[int], start: float, end: float) -> dict[int, float]:
    """Node 0 at the top; returns each node's lane centre."""
    y = {node: float(len(nodes) - 1 - k) for k, node in enumerate(nodes)}
    ax.set_yticks([y[i] for i in nodes], [f"node {i}" for i in nodes])
    ax.set_ylim(-0.7, len(nodes) - 0.3)
    pad = (end - start) * 0.01 if end > start else 1.0
    ax.set_xlim(start - pad, end + pad)
    ax.set_xlabel("virtual time (ms)")
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return y


def _clip(a: float, b: float, start: float, end: float) -> Optional[tuple[float, float]]:
    lo, hi = max(a, start), min(b, end)
    return (lo, hi) if hi > lo or (hi == lo and a == b) else None


# ------------------------------------------------------------------ timeline
def timeline(trace: Any, *, start: Optional[float] = None, end: Optional[float] = None,
             ax: Any = None, nodes: Optional[Iterable[int]] = None,
             title: Optional[str] = None, log: bool = False) -> Figure:
    """One swimlane per node: roles as coloured bands, terms written where they change,
    election timeouts (triangles), votes (arrows voter -> candidate; granted solid purple,
    denied dashed vermillion), crashes (black), disconnections (grey hatching), partitions
    (yellow shading), links cut by ``cut_link`` (a black line along the top of both ends'
    lanes, dashed if one way, and between the lanes where the cut begins a crossed line, or
    for a one-way cut an arrow from the node whose messages are lost), and the leader's
    heartbeat rounds (ticks, summarised when too dense). ``log=True`` also marks log changes
    below each lane: entries appended (small squares in their term's ``term_color``), logs
    truncated (vermillion crosses) and commit indices advanced (black diamonds); they are
    listed in ``fig.raftlab["log_marks"]`` as (kind, node, index, term or None, time)."""
    trace = as_trace(trace)
    start, end = check_window(trace, start, end)
    chosen = _nodes(trace, nodes)
    fig, ax = _axes(ax, len(chosen))
    y = _lanes(ax, chosen, start, end)
    span = max(end - start, 1e-9)
    info: dict[str, Any] = {"window": (start, end), "nodes": tuple(chosen), "bands": [],
                            "leader_bands": [], "term_labels": [], "timeouts": [],
                            "vote_arrows": [], "disconnected": [], "partitions": [],
                            "link_cuts": [],
                            "heartbeats": 0, "heartbeat_rounds": 0}

    # partitions: shaded behind everything, labelled at the top
    for p in partition_spans(trace):
        c = _clip(p.start, p.end, start, end)
        if c is None:
            continue
        ax.axvspan(c[0], c[1], color=PARTITION_COLOR, alpha=0.3, lw=0, zorder=0,
                   gid="partition")
        label = "partition " + " | ".join("{" + ",".join(map(str, g)) + "}" for g in p.groups)
        ax.text(c[0], -0.66, " " + label, fontsize=8, va="bottom", ha="left", clip_on=True,
                zorder=5)
        info["partitions"].append((p.start, p.end, p.groups))

    # role bands, and the term written where it changes
    last_label_x: dict[int, float] = {}
    min_gap = span / MAX_LABELS
    prev_term: dict[int, Optional[int]] = {}
    for s in role_spans(trace):
        if s.node not in y:
            continue
        term_changed = prev_term.get(s.node) != s.term and s.role != "crashed"
        if s.role != "crashed":
            prev_term[s.node] = s.term
        c = _clip(s.start, s.end, start, end)
        if c is None:
            continue
        height = 0.3 if s.role == "follower" else 0.45 if s.role == "precandidate" else 0.6
        ax.broken_barh([(c[0], c[1] - c[0])], (y[s.node] - height / 2, height),
                       facecolors=ROLE_COLORS[s.role], edgecolor="none", zorder=2,
                       gid=f"band:{s.role}:{s.node}:{s.term}")
        info["bands"].append((s.node, s.role, s.term, c[0], c[1]))
        if s.role == "leader":
            info["leader_bands"].append((s.node, s.term, c[0], c[1]))
        if (term_changed or s.role == "leader") and (
                c[0] - last_label_x.get(s.node, -math.inf) >= min_gap):
            ax.annotate(f"t{s.term}", (c[0], y[s.node] + 0.31), xytext=(4, 0),
                        textcoords="offset points", fontsize=7, va="bottom", ha="left",
                        zorder=9, annotation_clip=True,
                        bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.7))
            last_label_x[s.node] = c[0]
            info["term_labels"].append((s.node, s.term, c[0]))

    # disconnections: grey hatching over whatever role the node still thinks it has
    for node, a, b in disconnect_spans(trace):
        c = _clip(a, b, start, end)
        if node not in y or c is None:
            continue
        ax.broken_barh([(c[0], c[1] - c[0])], (y[node] - 0.4, 0.8), facecolors="none",
                       edgecolor=ROLE_COLORS["disconnected"], hatch="////", lw=0.8, zorder=3,
                       gid=f"disconnected:{node}")
        info["disconnected"].append((node, c[0], c[1]))

    # link cuts: a line along the top of both ends' lanes (dashed: one way) and, where the
    # cut begins in the window, a connector between the lanes: crossed for a cut both ways,
    # an arrow a -> b for a one-way cut (what a sends to b is lost), labelled "0↔1" / "0→1"
    for lc in link_cut_spans(trace):
        c = _clip(lc.start, lc.end, start, end)
        if c is None or (lc.a not in y and lc.b not in y):
            continue
        info["link_cuts"].append((lc.a, lc.b, lc.one_way, c[0], c[1]))
        ls = "--" if lc.one_way else "-"
        gid = f"link_cut:{lc.a}:{lc.b}:{'one_way' if lc.one_way else 'both'}"
        for node in (lc.a, lc.b):
            if node in y:
                ax.plot(c, (y[node] + LINK_CUT_OFFSET,) * 2, color=LINK_CUT_COLOR, lw=1.2,
                        ls=ls, zorder=6, gid=gid)
        if lc.a not in y or lc.b not in y:
            continue
        ya, yb = y[lc.a] + LINK_CUT_OFFSET, y[lc.b] + LINK_CUT_OFFSET
        mid = (ya + yb) / 2
        if lc.one_way:
            ax.annotate("", xy=(c[0], yb), xytext=(c[0], ya), zorder=6,
                        arrowprops=dict(arrowstyle="-|>", color=LINK_CUT_COLOR, lw=0.9,
                                        ls=":", shrinkA=0, shrinkB=0, mutation_scale=8),
                        gid=gid)
        else:
            ax.plot((c[0], c[0]), (ya, yb), color=LINK_CUT_COLOR, lw=0.9, ls=":", zorder=6,
                    gid=gid)
        ax.scatter([c[0]], [mid], marker="x", s=30, color=LINK_CUT_COLOR, lw=1.4, zorder=6,
                   gid=gid)
        ax.text(c[0], mid, f" {lc.a}{'→' if lc.one_way else '↔'}{lc.b}", fontsize=7,
                va="center", ha="left", zorder=9, clip_on=True,
                bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.7))

    # votes: an arrow from the voter to the candidate, ending where the reply was delivered
    # or lost (at the vote itself if the reply is still in flight)
    for a in vote_answers(trace, start, end):
        v = a.vote
        info["vote_arrows"].append((v.node, v.candidate, v.term, v.granted, v.time))
        if v.node not in y or v.candidate not in y:
            continue
        t_end = v.time if a.fate_time is None else a.fate_time
        ax.annotate("", xy=(t_end, y[v.candidate]), xytext=(v.time, y[v.node]), zorder=7,
                    arrowprops=dict(arrowstyle="-|>", color=VOTE_COLORS[v.granted],
                                    lw=1.3, ls="-" if v.granted else "--",
                                    shrinkA=0, shrinkB=2, mutation_scale=9),
                    gid=f"vote:{v.node}:{v.candidate}:{v.term}:{v.granted}")

    # timeouts and heartbeat rounds: only the window's events are visited
    lo_i, hi_i = index_window(trace, start, end)
    timeouts_x: list[float] = []
    timeouts_y: list[float] = []
    rounds: dict[int, list[float]] = {}
    last_round: dict[int, float] = {}
    log_marks: list[tuple] = []
    for e in trace[lo_i:hi_i]:
        kind = e.kind
        if log and (kind == "append" or kind == "truncate" or kind == "commit"):
            if e.node in y:
                log_marks.append((kind, e.node, e.index, getattr(e, "term", None), e.time))
        elif kind == "timeout":
            if e.node in y:
                timeouts_x.append(e.time)
                timeouts_y.append(y[e.node])
                info["timeouts"].append((e.node, e.term, e.time))
        elif kind == "send" and e.msg == "AppendEntries" and e.src in y:
            if last_round.get(e.src) != e.time:
                last_round[e.src] = e.time
                rounds.setdefault(e.src, []).append(e.time)
    if timeouts_x:
        ax.scatter(timeouts_x, timeouts_y, marker="v", s=28, color="black", edgecolors="white",
                   linewidths=0.6, zorder=8, gid="timeouts")
    n_rounds = sum(len(v) for v in rounds.values())
    info["heartbeat_rounds"] = n_rounds
    if 0 < n_rounds <= MAX_MARKS:
        for node, times in rounds.items():
            ax.scatter(times, [y[node] - 0.36] * len(times), marker="|", s=18, lw=0.8,
                       color=ROLE_COLORS["leader"], zorder=4, gid=f"heartbeats:{node}")
        info["heartbeats"] = n_rounds

    if log:
        info["log_marks"] = log_marks
        _draw_log_marks(ax, y, log_marks)

    # legend
    handles = [Patch(color=ROLE_COLORS[r], label=r) for r in ROLES_DRAWN]
    handles.append(Patch(facecolor="none", edgecolor=ROLE_COLORS["disconnected"], hatch="////",
                         label="disconnected"))
    if info["partitions"]:
        handles.append(Patch(color=PARTITION_COLOR, alpha=0.3, label="partitioned"))
    if info["link_cuts"]:
        handles.append(Line2D([], [], color=LINK_CUT_COLOR, marker="x", lw=1.2,
                              label="link cut (both ways)"))
        handles.append(Line2D([], [], color=LINK_CUT_COLOR, ls="--", lw=1.2,
                              label="link cut (one way)"))
    handles.append(Line2D([], [], marker="v", ls="", color="black", label="election timeout"))
    handles.append(Line2D([], [], color=VOTE_COLORS[True], label="vote granted"))
    handles.append(Line2D([], [], color=VOTE_COLORS[False], ls="--", label="vote denied"))
    if info["heartbeats"]:
        handles.append(Line2D([], [], marker="|", ls="", color=ROLE_COLORS["leader"],
                              label="AppendEntries round"))
    elif n_rounds:
        handles.append(Line2D([], [], ls="", label=f"{n_rounds} AppendEntries\nrounds not drawn:"
                              "\nzoom in with\nstart=, end="))
    if log:
        handles += [Line2D([], [], marker="s", ls="", color=term_color(1), markersize=4,
                           label="entry appended"),
                    Line2D([], [], marker="x", ls="", color=OKABE_ITO["vermillion"],
                           label="log truncated"),
                    Line2D([], [], marker="D", ls="", color="black", markersize=4,
                           label="commit index advanced")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              frameon=False)
    ax.set_title(title if title is not None else _default_title(trace, "Timeline", start, end),
                 fontsize=10, loc="left")
    fig.raftlab = info
    return fig


def _draw_log_marks(ax: Any, y: dict[int, float], marks: list[tuple]) -> None:
    """``timeline(log=True)``'s marks, just below each lane's centre line."""
    appends = [(t, y[node] - 0.22, term_color(term)) for kind, node, _, term, t in marks
               if kind == "append"]
    if appends:
        xs, ys, colors = zip(*appends)
        ax.scatter(xs, ys, marker="s", s=10, c=list(colors), edgecolors="black",
                   linewidths=0.3, zorder=8, gid="log:append")
    for kind, marker, color, size in (("truncate", "x", OKABE_ITO["vermillion"], 30),
                                      ("commit", "D", "black", 12)):
        pts = [(t, y[node] - 0.22) for k, node, _, _, t in marks if k == kind]
        if pts:
            xs, ys = zip(*pts)
            ax.scatter(xs, ys, marker=marker, s=size, color=color, zorder=8, gid=f"log:{kind}")


def _default_title(trace: Any, what: str, start: float, end: float) -> str:
    n = node_count(trace)
    seed = trace.meta.get("seed")
    where = f"seed {seed}, " if seed is not None else ""
    return f"{what}: {n} nodes, {where}{format_ms(start)}-{format_ms(end)} ms"


# ------------------------------------------------------------------ message diagram
#: Short names of the requests in message labels (replies are told apart by their colour).
MESSAGE_ABBREVIATIONS = {"RequestVote": "RV", "PreVote": "PV", "AppendEntries": "AE"}
_REPLIES = frozenset({"RequestVoteReply", "PreVoteReply", "AppendEntriesReply"})
LABEL_FONTSIZE = 6.5
LIGHT_LABEL_COLOR = "#777777"       # heartbeats and the replies that accept them
REFUSED_LABEL_COLOR = OKABE_ITO["vermillion"]   # a reply that says no (like a denied vote)
_LABEL_SPOTS = (0.5, 0.35, 0.65, 0.2, 0.8)   # where along an arrow a label may sit


def message_label(msg: str, term: int, detail: Any = None) -> str:
    """The label ``message_diagram`` writes on a message's arrow, from a ``send`` event's
    ``msg``, ``term`` and ``detail``: ``"RV t3"``, ``"PV t4"``, ``"AE t3 +2"`` (two entries),
    ``"t3"`` for a heartbeat (an AppendEntries without entries), and for a reply its term and
    ✓ (granted, success) or ✗. A ``detail`` of None (a trace written before send events
    carried it) leaves the count or the mark out."""
    if msg in _REPLIES:
        return f"t{term}" if detail is None else f"t{term} {'✓' if detail else '✗'}"
    if msg == "AppendEntries" and detail == 0:
        return f"t{term}"
    text = f"{MESSAGE_ABBREVIATIONS.get(msg, msg)} t{term}"
    return text if msg != "AppendEntries" or detail is None else f"{text} +{detail}"


def message_diagram(trace: Any, *, start: Optional[float] = None, end: Optional[float] = None,
                    ax: Any = None, kinds: Optional[Iterable[str]] = None,
                    labels: bool = True) -> Figure:
    """A space-time (Lamport) diagram: one horizontal line per node, coloured by its role, and
    each message sent in the window as an arrow from its send to its delivery; a dropped
    message stops where it was lost (halfway if lost at once) and ends in a cross.
    ``kinds`` picks message types, e.g. ``["RequestVote", "RequestVoteReply"]``.

    ``labels`` (default True) writes on each arrow what the message says (``message_label``):
    its term, ✓ or ✗ on a reply (a vote or pre-vote granted, an AppendEntries accepted), and
    how many entries an AppendEntries carries (``AE t3 +2``). Heartbeats and the replies that
    accept them are written in light grey, refusals in vermillion. A label that would cover
    another is moved along its arrow, or left out (refusals and entries are placed first);
    ``fig.raftlab["labels"]`` lists those drawn (id, text, x, y) and
    ``fig.raftlab["hidden_labels"]`` the ids of those left out: zoom in to see them."""
    trace = as_trace(trace)
    start, end = check_window(trace, start, end)
    if not isinstance(labels, bool):
        raise ValueError(f"labels must be True or False, got {labels!r}")
    wanted = None
    if kinds is not None:
        if isinstance(kinds, str):
            kinds = [kinds]
        wanted = set(kinds)
        unknown = sorted(wanted - set(MESSAGE_COLORS))
        if unknown:
            raise ValueError(f"unknown message kind(s) {unknown}; kinds are "
                             f"{', '.join(MESSAGE_COLORS)}")
    chosen = _nodes(trace, None)
    fig, ax = _axes(ax, max(len(chosen), 5) if labels else len(chosen))  # room for the legend
    y = _lanes(ax, chosen, start, end)
    info: dict[str, Any] = {"window": (start, end), "arrows": [], "drops": [], "labels": [],
                            "hidden_labels": []}

    for s in role_spans(trace):
        c = _clip(s.start, s.end, start, end)
        if c is not None:
            ax.plot(c, (y[s.node], y[s.node]), color=ROLE_COLORS[s.role], lw=4,
                    solid_capstyle="butt", zorder=1, alpha=0.45 if s.role == "follower" else 0.8)

    lo_i, hi_i = index_window(trace, start, end)
    sends = []
    entries: dict[int, Any] = {}      # AppendEntries id -> how many entries it carries
    answers: dict[int, int] = {}      # reply id -> the id of the request it answers
    handling: dict[int, int] = {}     # node -> the request it was last delivered
    for e in trace[lo_i:hi_i]:
        kind = e.kind
        if kind == "deliver" and e.msg not in _REPLIES:
            handling[e.dst] = e.id
        elif kind == "send":
            msg = e.msg
            if msg == "AppendEntries":
                entries[e.id] = e.detail
            elif msg in _REPLIES and e.src in handling:
                # a reply is sent at the instant its request is handled, just after it
                answers[e.id] = handling.pop(e.src)
            if wanted is None or msg in wanted:
                sends.append(e)
    fate = message_fates(trace, (e.id for e in sends), lo_i)
    drop_x: list[float] = []
    drop_y: list[float] = []
    counts: dict[str, int] = {}
    to_label: list[tuple] = []        # (priority, order, id, text, colour, (x0, y0, x1, y1))
    for e in sends:
        t, src, dst, msg, mid = e.time, e.src, e.dst, e.msg, e.id
        how, t_end = fate.get(mid, ("open", None))
        color = MESSAGE_COLORS.get(msg, OTHER_MESSAGE_COLOR)
        counts[msg] = counts.get(msg, 0) + 1
        if how == "deliver":
            ax.annotate("", xy=(t_end, y[dst]), xytext=(t, y[src]), zorder=3,
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=1.0, shrinkA=0,
                                        shrinkB=0, mutation_scale=8),
                        gid=f"msg:{mid}")
            info["arrows"].append((mid, msg, src, dst, t, t_end, False))
            segment = (t, y[src], t_end, y[dst])
        else:
            if how == "drop":
                frac = 0.5 if t_end == t else 0.8
                x_end = t_end
            else:  # still in flight when the trace ends
                frac, x_end = 0.5, min(trace.end_time, end)
            y_end = y[src] + (y[dst] - y[src]) * frac
            ax.plot((t, x_end), (y[src], y_end), color=color, lw=1.0, ls="-" if how == "drop"
                    else ":", zorder=3, gid=f"msg:{mid}")
            info["arrows"].append((mid, msg, src, dst, t, x_end, how == "drop"))
            if how == "drop":
                drop_x.append(x_end)
                drop_y.append(y_end)
                info["drops"].append((mid, msg, src, dst, t_end))
            segment = (t, y[src], x_end, y_end)
        if labels:
            detail = e.detail
            if msg in _REPLIES and detail is False:
                priority, text_color = 0, REFUSED_LABEL_COLOR
            elif msg == "AppendEntries" and detail == 0 or (
                    msg == "AppendEntriesReply" and entries.get(answers.get(mid), 0) == 0):
                priority, text_color = 3, LIGHT_LABEL_COLOR   # a heartbeat, or its answer
            elif msg == "AppendEntriesReply":
                priority, text_color = 2, "black"
            else:
                priority, text_color = 1, "black"
            to_label.append((priority, len(to_label), mid, message_label(msg, e.term, detail),
                             text_color, segment))
    if drop_x:
        ax.scatter(drop_x, drop_y, marker="x", s=30, color="black", lw=1.4, zorder=4,
                   gid="drops")
    if to_label:
        _place_labels(ax, sorted(to_label), info)
    handles = [Line2D([], [], color=MESSAGE_COLORS[m], label=f"{m} ({counts.get(m, 0)})")
               for m in MESSAGE_COLORS if wanted is None or m in wanted]
    handles.append(Line2D([], [], marker="x", ls="", color="black",
                          label=f"dropped ({len(info['drops'])})"))
    handles += [Patch(color=ROLE_COLORS[r], label=f"node is {r}") for r in ROLES_DRAWN]
    if labels:
        handles.append(Line2D([], [], ls="", label="labels: t3 term, +2 entries,\n"
                              "✓ granted/accepted, ✗ refused"))
    if info["hidden_labels"]:
        hidden = len(info["hidden_labels"])
        handles.append(Line2D([], [], ls="", label=f"{hidden} label{'s' if hidden > 1 else ''} "
                              "left out:\nzoom in with start=, end="))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              frameon=False)
    ax.set_title(_default_title(trace, "Messages", start, end), fontsize=10, loc="left")
    fig.raftlab = info
    return fig


def _place_labels(ax: Any, todo: list[tuple], info: dict[str, Any]) -> None:
    """Write each label on its arrow, at the first spot along it (``_LABEL_SPOTS``) inside the
    window where it covers no label already written (moved inside if it would cross the
    window's edge), in the order given; a label with no such spot is left out. Overlaps are judged in display units with each text's size estimated
    from its length (the layout may still move the axes a little when the figure is drawn)."""
    to_px = ax.transData.transform
    left, right = sorted(to_px([(x, 0) for x in ax.get_xlim()])[:, 0])
    scale = ax.figure.dpi / 72 * LABEL_FONTSIZE   # one em, in pixels
    half_h = 0.75 * scale
    cell = 6 * scale                              # a grid of placed boxes, to look up nearby
    grid: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    for _, _, mid, text, color, (x0, y0, x1, y1) in todo:
        half_w = (0.62 * len(text) + 0.4) * scale / 2
        (px0, py0), (px1, py1) = to_px([(x0, y0), (x1, y1)])
        for f in _LABEL_SPOTS:
            cx, cy = px0 + (px1 - px0) * f, py0 + (py1 - py0) * f
            if not left <= cx <= right:
                continue
            # near the window's edge, the label slides inside along the time axis
            shift = min(max(cx, left + half_w), right - half_w) - cx
            cx += shift
            box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
            keys = [(i, j) for i in range(int((box[0]) // cell), int(box[2] // cell) + 1)
                    for j in range(int(box[1] // cell), int(box[3] // cell) + 1)]
            if not any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3]
                       for k in keys for b in grid.get(k, ())):
                break
        else:  # no free spot inside the window
            info["hidden_labels"].append(mid)
            continue
        for k in keys:
            grid.setdefault(k, []).append(box)
        x, yv = x0 + (x1 - x0) * f, y0 + (y1 - y0) * f
        if shift:
            x = float(ax.transData.inverted().transform((cx, cy))[0])
        ax.text(x, yv, text, fontsize=LABEL_FONTSIZE, color=color, ha="center", va="center",
                zorder=3.5, clip_on=True, gid=f"label:{mid}",
                bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.8))
        info["labels"].append((mid, text, x, yv))


# ------------------------------------------------------------------ terms
def terms(trace: Any, *, start: Optional[float] = None, end: Optional[float] = None,
          ax: Any = None) -> Figure:
    """Each node's current term as a step line, coloured by its role (nodes are nudged apart
    vertically so equal terms stay visible); gaps are times the node was crashed."""
    trace = as_trace(trace)
    start, end = check_window(trace, start, end)
    n = node_count(trace)
    fig, ax = _axes(ax, max(3, min(n, 6)))
    info: dict[str, Any] = {"window": (start, end), "steps": {i: [] for i in range(n)}}
    nudge = 0.3 / max(n - 1, 1)
    top = 0
    for s in role_spans(trace):
        c = _clip(s.start, s.end, start, end)
        if c is None or s.role == "crashed":
            continue
        yv = s.term + (s.node - (n - 1) / 2) * nudge
        ax.plot(c, (yv, yv), color=ROLE_COLORS[s.role], lw=2.5 if s.role == "leader" else 1.6,
                solid_capstyle="butt", zorder=3)
        steps = info["steps"][s.node]
        if steps and steps[-1][1] != s.term and steps[-1][2] == c[0]:
            ax.plot((c[0], c[0]), (steps[-1][3], yv), color="#777777", lw=0.8, zorder=2)
        steps.append((c[0], s.term, c[1], yv))
        top = max(top, s.term)
    ends: dict[tuple[float, int], list[int]] = {}
    for node, steps in info["steps"].items():
        if steps:
            ends.setdefault((steps[-1][2], steps[-1][1]), []).append(node)
        info["steps"][node] = [(a, term, b) for a, term, b, _ in steps]
    for (x, term), group in ends.items():
        ax.text(x, term, " node " + ",".join(map(str, group)), fontsize=7, va="center",
                ha="left")
    pad = (end - start) * 0.01 if end > start else 1.0
    ax.set_xlim(start - pad, end + pad * 8)
    ax.set_ylim(-0.5, top + 0.7)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("virtual time (ms)")
    ax.set_ylabel("term")
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.legend(handles=[Line2D([], [], color=ROLE_COLORS[r], lw=2, label=r)
                       for r in ROLES_DRAWN if r != "crashed"],
              loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    ax.set_title(_default_title(trace, "Terms", start, end), fontsize=10, loc="left")
    fig.raftlab = info
    return fig


# ------------------------------------------------------------------ logs
MAX_CELLS = 60   # log indices drawn side by side; a longer log shows its last MAX_CELLS
#: The leader's matchIndex bar under a follower's cell: the AppendEntriesReply colour, since
#: the leader learns it from a successful reply.
MATCH_COLOR = MESSAGE_COLORS["AppendEntriesReply"]
NUMBERED_CELLS = 40   # up to this many cells, each shows its term; more: each run's first


def log_grid(trace: Any, at: Optional[float] = None, *, ax: Any = None,
             title: Optional[str] = None, last: int = MAX_CELLS) -> Figure:
    """Every node's log as a grid: one row per node, one cell per index, coloured by the
    entry's term (``term_color``, its number written in it; in a grid of over
    ``NUMBERED_CELLS`` cells, only in the first cell of each run of one term in a row).
    Committed entries (up to the node's commit index) have a thick black border, the others a
    thin dashed one. ``at``
    (virtual ms) rebuilds the logs as they were then from the trace alone (``log_views``);
    ``last`` is how many indices are drawn at most (a longer log shows its last ones). The
    cells are one ``PatchCollection`` (gid ``"entries"``), in ``cells`` order.

    For the leader (the live one of the highest term), each follower's row shows three marks:
    how far its log agrees with the leader's (a black triangle under that cell: the truth, read
    off the two logs); the leader's matchIndex for it (a bluish-green bar under that cell:
    what the leader knows, the highest ``prev_log_index`` + entries of an AppendEntries the
    follower answered with success, the answer delivered, ``raftlab.analysis.match_indices``;
    it lags the agreement by a reply's flight and is unknown, no bar, until the first success
    of the leader's term); and the leader's nextIndex for it (a vermillion triangle at the left
    edge of the cell, pointing into it): the index its last AppendEntries to that follower
    began at, prev_log_index + 1, which the harness records as ``next_index`` events
    (``raftlab.analysis.next_indices``); a follower it has sent nothing yet in its term has
    none. Crashed nodes' rows are hatched grey (their log is what they had when they crashed).
    ``fig.raftlab`` holds ``cells`` (node, index, term, committed), ``commit`` and ``length``
    per node, ``leader``, ``agree`` (follower -> agreeing index), ``match`` (follower -> the
    leader's matchIndex, where known) and ``next`` (follower -> nextIndex)."""
    trace = as_trace(trace)
    views = log_views(trace, at)
    at = trace.end_time if at is None else float(at)
    leaders = [v for v in views if v.alive and v.role == "leader"]
    leader = max(leaders, key=lambda v: v.term) if leaders else None
    nxt = {} if leader is None else next_indices(trace, leader.node, leader.term, at)
    known = {} if leader is None else match_indices(trace, leader.node, leader.term, at)
    longest = max((len(v.terms) for v in views), default=0)
    check_int("last (how many log indices to draw)", last, 1)
    first = max(1, longest - last + 1)
    n = len(views)
    if ax is None:
        width = min(14.0, 2.6 + 0.32 * max(longest - first + 1, 8))
        fig = Figure(figsize=(width, 1.0 + 0.5 * n), dpi=100, layout="constrained")
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    info: dict[str, Any] = {"at": at, "cells": [], "commit": {}, "length": {},
                            "leader": None if leader is None else leader.node, "agree": {},
                            "match": {}, "next": {},
                            "first_index": first, "last_index": longest}
    y = {v.node: float(n - 1 - v.node) for v in views}
    # every entry is a cell of one collection (one artist: drawing hundreds stays fast)
    cells: list[Rectangle] = []
    faces: list[tuple] = []
    widths: list[float] = []
    styles: list[str] = []
    every_number = sum(max(0, len(v.terms) - first + 1) for v in views) <= NUMBERED_CELLS
    drawn: set[str] = set()   # the kinds of marks drawn, for the legend
    for v in views:
        row = y[v.node]
        info["commit"][v.node] = v.commit
        info["length"][v.node] = len(v.terms)
        if not v.alive:
            ax.add_patch(Rectangle((first - 0.5, row - 0.45), longest - first + 1 or 1, 0.9,
                                   facecolor="none", edgecolor=ROLE_COLORS["disconnected"],
                                   hatch="////", lw=0, zorder=1, gid=f"crashed:{v.node}"))
        for index in range(first, len(v.terms) + 1):
            t = v.terms[index - 1]
            committed = index <= v.commit
            info["cells"].append((v.node, index, t, committed))
            cells.append(Rectangle((index - 0.42, row - 0.38), 0.84, 0.76))
            faces.append(to_rgba(term_color(t), 1.0 if committed else 0.55))
            widths.append(2.0 if committed else 0.8)
            styles.append("-" if committed else "--")
            if every_number or index == first or v.terms[index - 2] != t:
                ax.text(index, row, str(t), ha="center", va="center", fontsize=7, zorder=3)
        if leader is not None and v.node != leader.node and v.alive:
            k = agreement(leader.terms, v.terms)
            info["agree"][v.node] = k
            if k >= first:
                drawn.add("agree")
                ax.scatter([k], [row - 0.47], marker="^", s=22, color="black", zorder=5,
                           gid=f"agree:{v.node}:{k}")
        if v.node in known:
            k = known[v.node]
            info["match"][v.node] = k
            if k >= first:
                drawn.add("match")
                ax.plot([k - 0.4, k + 0.4], [row - 0.47] * 2, lw=3.5, color=MATCH_COLOR,
                        solid_capstyle="butt", zorder=4, gid=f"match:{v.node}:{k}")
        if v.node in nxt:
            k = nxt[v.node]
            info["next"][v.node] = k
            if k >= first:
                ax.scatter([k - 0.5], [row], marker=">", s=40, color=OKABE_ITO["vermillion"],
                           edgecolors="white", linewidths=0.5, zorder=4,
                           gid=f"next:{v.node}:{k}")
    if cells:
        ax.add_collection(PatchCollection(cells, facecolors=faces, edgecolors="black",
                                          linewidths=widths, linestyles=styles, zorder=2,
                                          gid="entries"))
    labels = []
    for v in views:
        what = "crashed" if not v.alive else f"{v.role}, t{v.term}"
        labels.append(f"node {v.node} ({what})")
    ax.set_yticks([y[v.node] for v in views], labels)
    ax.set_ylim(-0.7, n - 0.3)
    right = max([longest, first + 7, *info["next"].values()])
    ax.set_xlim(first - 0.7, right + 0.7)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("log index")
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    shown = sorted({t for _, _, t, _ in info["cells"]})
    handles = [Patch(facecolor=term_color(t), edgecolor="black", label=f"term {t}")
               for t in shown[-12:]]
    handles.append(Patch(facecolor="white", edgecolor="black", lw=2.0, label="committed"))
    handles.append(Patch(facecolor="white", edgecolor="black", lw=0.8, ls="--",
                         label="not committed"))
    if "agree" in drawn:
        handles.append(Line2D([], [], marker="^", ls="", color="black",
                              label="agrees with the\nleader up to here"))
    if "match" in drawn:
        handles.append(Line2D([], [], lw=3.5, color=MATCH_COLOR, solid_capstyle="butt",
                              label="leader's matchIndex\n(its highest\nsuccess heard)"))
    if info["next"]:
        handles.append(Line2D([], [], marker=">", ls="", color=OKABE_ITO["vermillion"],
                              label="leader's nextIndex\n(its last\nAppendEntries)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
              frameon=False)
    if title is None:
        seed = trace.meta.get("seed")
        title = (f"Logs at {format_ms(at)} ms: {n} nodes" + (f", seed {seed}" if seed is not None
                                                              else ""))
        if first > 1:
            title += f" (indices 1-{first - 1} not drawn)"
    ax.set_title(title, fontsize=10, loc="left")
    fig.raftlab = info
    return fig


def __getattr__(name: str) -> Any:
    # ``raftlab.plots.downtime_cdf`` is Figure 16's plot, which needs raftlab.experiments; it is
    # imported on first use so that ``import raftlab.plots`` does not load the experiments.
    if name == "downtime_cdf":
        from .experiment_plots import downtime_cdf
        return downtime_cdf
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "downtime_cdf"])
