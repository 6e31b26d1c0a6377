"""The ClusterLab panel's HTML: pure functions from the controller's data to markup.

Nothing here touches a widget or a cluster: each function takes plain values (the dataclasses of
``raftlab.lab_control``) and returns a string, with every piece of text escaped. The colours are
those of ``raftlab.plots``, so the panel and the timeline agree. The CSS classes
(``raftlab-header``, ``raftlab-status``, ``raftlab-violation``, ``raftlab-message``, ...) are what
tests and the browser test look for.
"""

from __future__ import annotations

import html
from typing import Iterable, Sequence

from .formatting import format_ms
from .lab_control import Header, NodeRow
from .plots import (LINK_CUT_COLOR, MATCH_COLOR, OKABE_ITO, PARTITION_COLOR, ROLE_COLORS,
                    ROLES_DRAWN, VOTE_COLORS)

__all__ = ["header", "node_label", "status_table", "cut_links", "events", "legend",
           "log_legend", "safety_banner", "message", "MESSAGE_LEVELS"]

#: Message levels -> text colour.
MESSAGE_LEVELS = {"info": "#333", "warning": "#8a5a00", "error": "#b00020"}
#: The most violations the safety banner lists (it gives the total).
MAX_VIOLATIONS_SHOWN = 5
#: The status table's styles: small and tight, headings may wrap, so that nine columns fit
#: beside the controls at JupyterLab's default width (about 500 px for the views).
_TABLE = "font-size:12px;border-collapse:collapse;margin:0"
_TH = "padding:0 4px;line-height:1.15;vertical-align:bottom;text-align:right"
_TD = "padding:1px 4px;line-height:1.3;text-align:right"
#: Legends wrap between items (never inside one) to the width they are given.
_LEGEND = "font-size:11px;line-height:1.6;white-space:normal;max-width:100%"
_ROLE_TEXT_COLOR = {"follower": "black", "precandidate": "black", "candidate": "black",
                    "leader": "white", "down": "white"}


def header(h: Header) -> str:
    """``raftlab · Cluster(5, seed=3) · t = 1000 ms · leader: node 3 (term 1)``."""
    lead = (f"leader: node {h.leader} (term {h.leader_term})" if h.leader is not None
            else "no leader")
    return (f"<div class='raftlab-header'><b>raftlab</b> · Cluster({h.n}, seed={h.seed}) · "
            f"t = {format_ms(h.now)} ms · <span class='raftlab-leader'>{lead}</span></div>")


def node_label(row: NodeRow) -> str:
    """A node's badge in its role colour: ``node 2 · leader · term 3`` (``· cut off`` when its
    links are down; ``node 2 · down`` when crashed)."""
    bg = ROLE_COLORS["crashed" if row.role == "down" else row.role]
    state = row.role if row.role == "down" else f"{row.role} · term {row.term}"
    if row.role != "down" and not row.connected:
        state += " · cut off"
    return (f"<span class='raftlab-node' style='background:{bg};"
            f"color:{_ROLE_TEXT_COLOR[row.role]};padding:2px 6px'>"
            f"node {row.node} · {html.escape(state)}</span>")


def status_table(rows: Iterable[NodeRow]) -> str:
    """One table row per node: role, term, voted for, time since an AppendEntries arrived
    (a leader and a crashed node show "—"), link, then its log: length and commit index when
    the trace records them (``NodeRow.log_length``, ``commit_index`` not None), and the last
    index applied (a crashed node shows "—": it applies nothing)."""
    rows = list(rows)
    log = any(r.log_length is not None for r in rows)
    commit = any(r.commit_index is not None for r in rows)
    titles = ["node", "role", "term", "voted for", "since heartbeat", "link"]
    titles += ["log"] * log + ["commit"] * commit + ["applied"]
    head = "".join(f"<th style='{_TH}'>{h}</th>" for h in titles)
    body = []
    for r in rows:
        down = r.role == "down"
        hb = "—" if r.role in ("leader", "down") or r.since_heartbeat is None \
            else f"{r.since_heartbeat:.0f} ms"
        vote = "—" if r.voted_for is None else str(r.voted_for)
        link = "—" if down else ("up" if r.connected else "cut off")
        cells = [r.node, r.role, r.term, vote, hb, link]
        if log:
            cells.append("—" if r.log_length is None else r.log_length)
        if commit:
            cells.append("—" if down or r.commit_index is None else r.commit_index)
        cells.append("—" if down else r.applied)
        body.append("<tr>" + "".join(f"<td style='{_TD}'>{html.escape(str(v))}</td>"
                                     for v in cells) + "</tr>")
    return (f"<table class='raftlab-status' style='{_TABLE}'><thead><tr>" + head +
            "</tr></thead><tbody>" + "".join(body) + "</tbody></table>")


def cut_links(cuts: Sequence[str]) -> str:
    """The links cut now (``LabState.cuts``: ``"0↔1"`` both ways, ``"2→0"`` one way)."""
    text = ", ".join(cuts) if cuts else "none"
    return (f"<div class='raftlab-links' style='font-size:12px'><b>cut links</b>: "
            f"{html.escape(text)}</div>")


def events(lines: Sequence[str]) -> str:
    """The last events, one line each (``raftlab.status.describe_event`` text)."""
    return ("<div><b>last events</b> (heartbeats hidden)<pre style='font-size:11px;"
            "line-height:1.25'>" + html.escape("\n".join(lines)) + "</pre></div>")


def legend() -> str:
    """The timeline's legend, drawn once in HTML (same colours and marks as raftlab.plots)."""
    def swatch(color: str, label: str, style: str = "") -> str:
        return (f"<span style='white-space:nowrap'><span style='display:inline-block;width:14px;"
                f"height:10px;background:{color};{style}margin:0 3px 0 10px'></span>{label}</span>")
    items = [swatch(ROLE_COLORS[r], r) for r in ROLES_DRAWN]
    items.append(swatch("repeating-linear-gradient(45deg,#999 0 2px,transparent 2px 5px)",
                        "disconnected", "border:1px solid #999;"))
    items.append(swatch(PARTITION_COLOR, "partitioned", "opacity:0.5;"))
    items.append(f"<span style='margin-left:10px;white-space:nowrap;color:{LINK_CUT_COLOR}'>"
                 "✕— link cut (both ways)</span>")
    items.append(f"<span style='margin-left:10px;white-space:nowrap;color:{LINK_CUT_COLOR}'>"
                 "- - link cut (one way)</span>")
    for color, text in [("black", "▼ election timeout"), (VOTE_COLORS[True], "⟶ vote granted"),
                        (VOTE_COLORS[False], "⇢ vote denied"),
                        (ROLE_COLORS["leader"], "| AppendEntries round")]:
        items.append(f"<span style='margin-left:10px;white-space:nowrap;color:{color}'>{text}"
                     "</span>")
    return (f"<div class='raftlab-legend' style='{_LEGEND}'>" + " ".join(items) + "</div>")


def log_legend() -> str:
    """The log view's legend (``raftlab.plots.log_grid``'s marks), in HTML like ``legend``."""
    items = ["<span style='white-space:nowrap;margin-left:10px'>cell: an entry, coloured and "
             "numbered by its term</span>",
             "<span style='white-space:nowrap;margin-left:10px'><span style='display:"
             "inline-block;width:12px;height:9px;border:2px solid black;margin-right:3px'>"
             "</span>committed</span>",
             "<span style='white-space:nowrap;margin-left:10px'><span style='display:"
             "inline-block;width:12px;height:9px;border:1px dashed black;margin-right:3px'>"
             "</span>not committed</span>",
             "<span style='white-space:nowrap;margin-left:10px'>▲ agrees with the leader up "
             "to here</span>",
             f"<span style='white-space:nowrap;margin-left:10px;color:{MATCH_COLOR}'>"
             "▬ the leader's matchIndex (its highest success heard)</span>",
             f"<span style='white-space:nowrap;margin-left:10px;color:{OKABE_ITO['vermillion']}'>"
             "▶ the leader's nextIndex (its last AppendEntries)</span>"]
    return (f"<div class='raftlab-log-legend' style='{_LEGEND}'>" + " ".join(items) + "</div>")


def safety_banner(violations: Sequence[str]) -> str:
    """A red banner listing the first violations and their count; empty if there are none."""
    if not violations:
        return ""
    items = "".join(f"<li>{html.escape(v)}</li>" for v in violations[:MAX_VIOLATIONS_SHOWN])
    return ("<div class='raftlab-violation' style='background:#b00020;color:white;"
            f"padding:4px'><b>SAFETY VIOLATION</b> ({len(violations)}):<ul>{items}</ul></div>")


def message(text: str, level: str = "info") -> str:
    """A line of text for the person at the panel (``level``: info, warning or error);
    empty text gives empty markup."""
    if level not in MESSAGE_LEVELS:
        raise ValueError(f"message level must be one of {', '.join(MESSAGE_LEVELS)}, "
                         f"got {level!r}")
    if not text:
        return ""
    return (f"<div class='raftlab-message raftlab-{level}' "
            f"style='color:{MESSAGE_LEVELS[level]}'>{html.escape(text)}</div>")
