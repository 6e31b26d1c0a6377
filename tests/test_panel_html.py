"""The panel's HTML, as pure functions of data: what each piece says, and that text is escaped."""

from __future__ import annotations

import html
import re

import pytest

pytest.importorskip("matplotlib")  # the colours come from raftlab.plots

from raftlab import panel_html  # noqa: E402
from raftlab.lab_control import Header, NodeRow  # noqa: E402
from raftlab.plots import ROLE_COLORS  # noqa: E402


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def row(node=0, role="follower", term=2, voted_for=None, since=None, connected=True):
    return NodeRow(node, role, term, voted_for, since, connected)


def test_header_names_the_cluster_time_and_leader():
    h = panel_html.header(Header(5, 3, 1025.5, 2, 4))
    assert "class='raftlab-header'" in h
    assert text_of(h) == "raftlab · Cluster(5, seed=3) · t = 1025.5 ms · leader: node 2 (term 4)"
    assert text_of(panel_html.header(Header(3, 0, 1000.0, None, None))).endswith(
        "t = 1000 ms · no leader")


def test_node_label_in_the_role_colour():
    leader = panel_html.node_label(row(1, "leader", 3))
    assert text_of(leader) == "node 1 · leader · term 3"
    assert f"background:{ROLE_COLORS['leader']}" in leader and "color:white" in leader
    assert text_of(panel_html.node_label(row(2, "follower", 3, connected=False))) == \
        "node 2 · follower · term 3 · cut off"
    down = panel_html.node_label(row(4, "down", 3, connected=False))
    assert text_of(down) == "node 4 · down" and ROLE_COLORS["crashed"] in down


def test_a_precandidate_label_is_in_its_role_colour():
    pre = panel_html.node_label(row(3, "precandidate", 5))
    assert text_of(pre) == "node 3 · precandidate · term 5"
    assert f"background:{ROLE_COLORS['precandidate']}" in pre and "color:black" in pre


def test_cut_links_line():
    out = panel_html.cut_links(("0↔1", "2→0"))
    assert "class='raftlab-links'" in out and text_of(out) == "cut links: 0↔1, 2→0"
    assert text_of(panel_html.cut_links(())) == "cut links: none"
    assert "&lt;" in panel_html.cut_links(("<b>",))


def test_status_table_has_one_row_per_node():
    rows = [row(0, "leader", 3, voted_for=0, since=None),
            row(1, "follower", 3, voted_for=0, since=42.4),
            row(2, "follower", 3, voted_for=None, since=None, connected=False),
            row(3, "down", 2, voted_for=1, since=7.0, connected=False)]
    table = panel_html.status_table(rows)
    assert table.startswith("<table class='raftlab-status' style='font-size:12px;")
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r)
             for r in re.findall(r"<tr>(.*?)</tr>", table)]
    assert cells == [
        ["node", "role", "term", "voted for", "since heartbeat", "link", "applied"],
        ["0", "leader", "3", "0", "—", "up", "0"],
        ["1", "follower", "3", "0", "42 ms", "up", "0"],
        ["2", "follower", "3", "—", "—", "cut off", "0"],
        ["3", "down", "2", "1", "—", "—", "—"],
    ]


def cells_of(table: str) -> list[list[str]]:
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r)
            for r in re.findall(r"<tr>(.*?)</tr>", table)]


def test_status_table_shows_the_log_columns_the_trace_records():
    applied_only = [NodeRow(0, "leader", 1, 0, None, True, applied=3),
                    NodeRow(1, "follower", 1, 0, 5.0, True, applied=2)]
    assert [r[6:] for r in cells_of(panel_html.status_table(applied_only))] == [
        ["applied"], ["3"], ["2"]]
    full = [NodeRow(0, "leader", 1, 0, None, True, 3, log_length=4, commit_index=3),
            NodeRow(1, "follower", 1, 0, 5.0, True, 1, log_length=3, commit_index=2),
            NodeRow(2, "down", 1, 0, None, False, 0, log_length=2, commit_index=0)]
    assert [r[6:] for r in cells_of(panel_html.status_table(full))] == [
        ["log", "commit", "applied"], ["4", "3", "3"], ["3", "2", "1"], ["2", "—", "—"]]


def test_events_are_escaped_lines():
    out = panel_html.events(["  10 ms  node 1: <b>hi</b> & bye", "  20 ms  crash node 2"])
    assert "&lt;b&gt;hi&lt;/b&gt; &amp; bye" in out and "<b>hi</b>" not in out
    assert text_of(out).endswith("node 1: <b>hi</b> & bye\n  20 ms  crash node 2")
    assert "(heartbeats hidden)" in out


def test_safety_banner_only_when_there_are_violations():
    assert panel_html.safety_banner([]) == "" and panel_html.safety_banner(()) == ""
    many = [f"t={k} ms: node {k}'s term went down" for k in range(7)]
    banner = panel_html.safety_banner(many)
    assert "class='raftlab-violation'" in banner and "SAFETY VIOLATION</b> (7)" in banner
    assert banner.count("<li>") == panel_html.MAX_VIOLATIONS_SHOWN
    assert "node 0&#x27;s term went down" in banner


def test_message_levels():
    assert panel_html.message("") == ""
    err = panel_html.message("lo = 5 > hi = <3>", "error")
    assert "raftlab-message raftlab-error" in err and "color:#b00020" in err
    assert text_of(err) == "lo = 5 > hi = <3>" and "<3>" not in err
    assert "raftlab-warning" in panel_html.message("careful", "warning")
    with pytest.raises(ValueError, match="message level must be one of info, warning, error"):
        panel_html.message("x", "loud")


def test_legend_names_every_mark_of_the_timeline():
    text = text_of(panel_html.legend())
    for item in ("follower", "precandidate", "candidate", "leader", "crashed", "disconnected",
                 "partitioned", "link cut (both ways)", "link cut (one way)",
                 "election timeout", "vote granted", "vote denied", "AppendEntries round"):
        assert item in text
    assert ROLE_COLORS["precandidate"] in panel_html.legend()


def test_the_status_table_is_compact_and_its_headings_may_wrap():
    """Nine columns fit beside the controls at JupyterLab's default width (the browser test
    measures it): small text, narrow padding, headings allowed to break between words."""
    table = panel_html.status_table([NodeRow(0, "leader", 1, 0, None, True, 3, 4, 3)])
    heads = re.findall(r"<th style='([^']*)'>", table)
    assert len(heads) == 9 and all("nowrap" not in h and "padding:0 4px" in h for h in heads)


def test_log_legend_names_every_mark_of_the_log_grid():
    out = panel_html.log_legend()
    text = text_of(out)
    assert "class='raftlab-log-legend'" in out
    for item in ("coloured and numbered by its term", "committed", "not committed",
                 "agrees with the leader", "matchIndex", "nextIndex"):
        assert item in text
    assert "white-space:normal" in panel_html.legend() and "white-space:normal" in out
