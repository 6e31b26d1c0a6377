"""The plots draw what the trace says: bands, votes, drops and terms are counted against it."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from scenarios import faults, leader_failure  # noqa: E402

from matplotlib.colors import to_hex  # noqa: E402

from raftlab import Cluster, RaftNode  # noqa: E402
from raftlab.analysis import role_spans  # noqa: E402
from raftlab.plots import (LINK_CUT_COLOR, MAX_MARKS, MESSAGE_COLORS, OKABE_ITO,  # noqa: E402
                           ROLE_COLORS, VOTE_COLORS, message_diagram, terms, timeline)


def split_votes(seed=0):
    c = Cluster(5, seed=seed, election_timeout=(300, 310))
    c.run_for(3000)
    return c


def unreliable(seed=3):
    c = Cluster(3, seed=seed, reliable=False)
    c.run_for(3000)
    return c


SCENARIOS = {"leader_failure": leader_failure, "faults": faults, "split_votes": split_votes,
             "unreliable": unreliable}


def gids(fig: Figure, prefix: str) -> list[str]:
    return [a.get_gid() for a in fig.findobj() if (a.get_gid() or "").startswith(prefix)]


def png_bytes(fig: Figure) -> int:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    return len(buf.getvalue())


# ------------------------------------------------------------------ palette
def test_palette_is_okabe_ito_and_roles_are_distinct():
    palette = set(OKABE_ITO.values())
    for colors in (ROLE_COLORS, MESSAGE_COLORS, VOTE_COLORS):
        assert set(colors.values()) <= palette
    assert set(ROLE_COLORS) == {"follower", "precandidate", "candidate", "leader", "crashed",
                                "disconnected"}
    assert len(set(ROLE_COLORS.values())) == len(ROLE_COLORS)
    assert set(MESSAGE_COLORS) == {"RequestVote", "RequestVoteReply", "AppendEntries",
                                   "AppendEntriesReply", "PreVote", "PreVoteReply"}
    assert len(set(MESSAGE_COLORS.values())) == 5  # vote answers share one colour
    assert MESSAGE_COLORS["PreVoteReply"] == MESSAGE_COLORS["RequestVoteReply"]
    assert MESSAGE_COLORS["PreVote"] == ROLE_COLORS["precandidate"]
    assert VOTE_COLORS[True] != VOTE_COLORS[False]
    assert MESSAGE_COLORS["RequestVote"] == ROLE_COLORS["candidate"]
    assert MESSAGE_COLORS["AppendEntries"] == ROLE_COLORS["leader"]


# ------------------------------------------------------------------ timeline
@pytest.mark.parametrize("name", SCENARIOS)
def test_timeline_leader_bands_match_terms_with_a_leader(name):
    c = SCENARIOS[name]()
    fig = timeline(c.trace)
    led = {(e.node, e.term) for e in c.trace.of("state") if e.role == "leader"}
    terms_with_leader = {term for _, term in led}
    bands = fig.raftlab["leader_bands"]
    assert len(bands) == len(terms_with_leader) == len(led)
    assert {(node, term) for node, term, _, _ in bands} == led
    assert len(gids(fig, "band:leader:")) == len(led)
    assert png_bytes(fig) > 10_000


@pytest.mark.parametrize("name", SCENARIOS)
def test_timeline_has_an_arrow_for_every_vote(name):
    c = SCENARIOS[name]()
    fig = timeline(c)
    votes = c.trace.of("vote")
    assert len(fig.raftlab["vote_arrows"]) == len(votes)
    for granted in (True, False):
        want = sorted(f"vote:{v.node}:{v.candidate}:{v.term}:{granted}" for v in votes
                      if v.granted is granted)
        drawn = [g for g in gids(fig, "vote:") if g.endswith(f":{granted}")]
        assert sorted(drawn) == want
    styles = {a.arrow_patch.get_linestyle() for a in fig.axes[0].texts
              if (a.get_gid() or "").startswith("vote:") and a.get_gid().endswith("False")}
    if any(not v.granted for v in votes):
        assert styles and "solid" not in styles  # denied votes are dashed


def test_vote_arrows_end_where_the_reply_was_delivered_or_lost():
    c = unreliable()
    events = list(c.trace)
    fates = {e.id: e.time for e in events if e.kind in ("deliver", "drop")}
    want = []
    for k, e in enumerate(events):
        if e.kind == "vote":
            reply = events[k + 1]   # the voter's RequestVoteReply, sent at the same instant
            assert (reply.kind, reply.msg, reply.src, reply.dst) == (
                "send", "RequestVoteReply", e.node, e.candidate)
            want.append((f"vote:{e.node}:{e.candidate}:{e.term}:{e.granted}", e.time,
                         fates.get(reply.id, e.time)))
    fig = timeline(c)
    drawn = [(a.get_gid(), a.xyann[0], a.xy[0]) for a in fig.axes[0].texts
             if (a.get_gid() or "").startswith("vote:")]
    assert drawn == want


def test_timeline_marks_timeouts_faults_and_partitions():
    c = faults()
    fig = timeline(c)
    info = fig.raftlab
    assert len(info["timeouts"]) == len(c.trace.of("timeout"))
    crashed = [b for b in info["bands"] if b[1] == "crashed"]
    assert [(b[0], b[3], b[4]) for b in crashed] == [
        (1, c.trace.of("crash")[0].time, c.trace.of("restart")[0].time)]
    assert info["partitions"] == [(c.trace.of("partition")[0].time, c.trace.of("heal")[0].time,
                                   ((0, 1), (2, 3, 4)))]
    assert gids(fig, "partition")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("partition {0,1} | {2,3,4}" in t for t in texts)
    d = leader_failure()
    info = timeline(d).raftlab
    cut = d.trace.of("disconnect")[0]
    assert info["disconnected"] == [(cut.node, cut.time, d.trace.of("connect")[0].time)]


def test_timeline_writes_each_new_term():
    c = leader_failure()
    info = timeline(c).raftlab
    for node in range(c.n):
        written = [term for n, term, _ in info["term_labels"] if n == node]
        seen = []
        for e in c.trace.of("state"):
            if e.node == node and (not seen or seen[-1] != e.term):
                seen.append(e.term)
        assert written == seen  # few terms: every change is labelled


def test_timeline_window_zooms_in():
    c = leader_failure()
    fig = timeline(c, start=1400, end=2500)
    info = fig.raftlab
    assert info["window"] == (1400, 2500)
    assert all(1400 <= b[3] <= b[4] <= 2500 for b in info["bands"])
    assert all(1400 <= t <= 2500 for *_, t in info["vote_arrows"])
    lo, hi = fig.axes[0].get_xlim()
    assert lo < 1400 < 2500 < hi < 2600


def test_timeline_thins_heartbeats_over_long_windows():
    c = Cluster(3, seed=2)
    c.run_for(60_000)
    short = timeline(c, start=0, end=1000).raftlab
    assert 0 < short["heartbeats"] == short["heartbeat_rounds"] <= MAX_MARKS
    long = timeline(c).raftlab
    assert long["heartbeat_rounds"] > MAX_MARKS and long["heartbeats"] == 0
    fig = timeline(c)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("not drawn" in t for t in labels)
    assert len(long["term_labels"]) <= 3 * 31


@pytest.mark.parametrize("n", [3, 5, 9])
def test_timeline_readable_sizes_render(n):
    c = Cluster(n, seed=n)
    c.run_for(1000)
    fig = timeline(c, nodes=range(n))
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [f"node {i}" for i in range(n)]
    assert png_bytes(fig) > 10_000


def test_default_titles_write_times_in_full():
    c = leader_failure()
    fig = timeline(c, start=1400.25, end=1_234_567.5)
    assert fig.axes[0].get_title(loc="left") == "Timeline: 3 nodes, seed 1, 1400.25-1234567.5 ms"
    assert message_diagram(c, end=1000).axes[0].get_title(loc="left").endswith(", 0-1000 ms")


def test_timeline_on_given_axes_and_node_subset():
    import matplotlib.pyplot as plt
    c = leader_failure()
    fig, (a, b) = plt.subplots(2, 1)
    try:
        assert timeline(c, ax=a, nodes=[2, 0], title="two nodes") is fig
        assert terms(c, ax=b) is fig
        assert a.get_title(loc="left") == "two nodes"
        assert [t.get_text() for t in a.get_yticklabels()] == ["node 2", "node 0"]
    finally:
        plt.close(fig)


# ------------------------------------------------------------------ message diagram
@pytest.mark.parametrize("name", SCENARIOS)
def test_message_diagram_draws_every_message_and_crosses_drops(name):
    c = SCENARIOS[name]()
    start, end = 0, 2500
    fig = message_diagram(c, start=start, end=end)
    info = fig.raftlab
    sends = {e.id for e in c.trace.window(start, end) if e.kind == "send"}
    dropped = {e.id for e in c.trace.of("drop")} & sends
    delivered = {e.id for e in c.trace.of("deliver")} & sends
    assert {a[0] for a in info["arrows"]} == sends
    assert {d[0] for d in info["drops"]} == dropped
    assert {a[0] for a in info["arrows"] if not a[6]} >= delivered
    (cross,) = [a for a in fig.findobj() if a.get_gid() == "drops"] or [None]
    if dropped:
        assert len(cross.get_offsets()) == len(dropped)
    for mid, msg, src, dst, t0, t1, was_dropped in info["arrows"]:
        assert t1 >= t0


def test_message_diagram_kinds_filter_and_colours():
    c = split_votes()
    fig = message_diagram(c, start=0, end=800, kinds=["RequestVote"])
    msgs = {a[1] for a in fig.raftlab["arrows"]}
    assert msgs == {"RequestVote"}
    n_rv = sum(1 for e in c.trace.of("send") if e.msg == "RequestVote" and e.time <= 800)
    assert len(fig.raftlab["arrows"]) == n_rv
    colors = {matplotlib.colors.to_hex(a.arrow_patch.get_edgecolor()) for a in fig.axes[0].texts
              if (a.get_gid() or "").startswith("msg:")}
    assert colors == {MESSAGE_COLORS["RequestVote"].lower()}


def test_unreliable_network_drops_are_marked():
    c = unreliable()
    info = message_diagram(c).raftlab
    drops = c.trace.of("drop")
    assert any(e.reason == "lost" for e in drops) and len(info["drops"]) == len(drops)


# ------------------------------------------------------------------ message labels
def drawn_labels(fig: Figure) -> dict[int, tuple[str, str]]:
    """Message id -> (text, colour) of every label written on the diagram's arrows."""
    return {int(t.get_gid().split(":")[1]): (t.get_text(), to_hex(t.get_color()))
            for t in fig.axes[0].texts if (t.get_gid() or "").startswith("label:")}


def test_a_refused_vote_is_labelled_with_a_cross_and_the_voters_term():
    c = split_votes()
    refused = [e for e in c.trace.of("vote") if not e.granted]
    assert refused
    first = refused[0]
    fig = message_diagram(c, start=first.time - 20, end=first.time + 60)
    labels = drawn_labels(fig)
    sends = {e.id: e for e in c.trace.of("send")}
    # each vote's reply leaves at the vote's instant: its label says what the vote event says
    votes = {(v.time, v.node, v.candidate): v for v in c.trace.of("vote")}
    checked = 0
    for mid, (text, color) in labels.items():
        e = sends[mid]
        if e.msg == "RequestVoteReply":
            vote = votes[(e.time, e.src, e.dst)]
            assert text == f"t{e.term} {'✓' if vote.granted else '✗'}"
            assert (color == OKABE_ITO["vermillion"].lower()) == (not vote.granted)
            checked += not vote.granted
        elif e.msg == "RequestVote":
            assert text == f"RV t{e.term}"
    assert checked >= 1
    assert sends[min(labels)].term == first.term


def test_appendentries_labels_count_entries_and_heartbeats_stay_light():
    c = Cluster(3, seed=1)
    leader = c.check_one_leader()
    before = c.now
    c.one("x", 3)
    c.run_for(300)
    fig = message_diagram(c, start=before, end=c.now)
    labels = drawn_labels(fig)
    term = c.get_state(leader)[0]
    sends = {e.id: e for e in c.trace.of("send")}
    delivered = {e.id: e.time for e in c.trace.of("deliver")}
    carried = {}   # follower -> the first AppendEntries that carried "x"
    for mid, (text, color) in sorted(labels.items()):
        e = sends[mid]
        if e.msg == "AppendEntries" and text.endswith("+1"):
            assert text == f"AE t{term} +1" and color == "#000000"
            carried.setdefault(e.dst, mid)
        elif e.msg == "AppendEntries":
            assert text == f"t{term}" and color != "#000000"   # a heartbeat: light
    assert sorted(carried) == sorted(set(range(3)) - {leader})
    assert not {e.id for e in sends.values() if e.msg == "AppendEntries" and e.detail
                and before <= e.time} & set(fig.raftlab["hidden_labels"])
    for follower, mid in carried.items():   # the entry reached the follower's log then
        assert [(e.node, e.index) for e in c.trace.of("append")
                if e.time == delivered[mid] and e.node == follower] == [(follower, 1)]
    replies = [text for mid, (text, _) in labels.items()
               if sends[mid].msg == "AppendEntriesReply"]
    assert replies and set(replies) == {f"t{term} ✓"}


def test_a_stale_leaders_appendentries_is_refused_with_the_newer_term():
    c = leader_failure()
    reconnect = c.trace.of("connect")[-1]
    fig = message_diagram(c, start=reconnect.time, end=reconnect.time + 400)
    labels = drawn_labels(fig)
    sends = {e.id: e for e in c.trace.of("send")}
    refusals = [(sends[mid], text) for mid, (text, _) in labels.items()
                if sends[mid].msg == "AppendEntriesReply" and text.endswith("✗")]
    assert refusals
    for e, text in refusals:
        assert e.dst == reconnect.node and text == f"t{e.term} ✗"
        assert e.term > min(s.term for s in sends.values()
                            if s.msg == "AppendEntries" and s.src == reconnect.node
                            and s.time >= reconnect.time)


def test_prevote_messages_are_labelled_with_the_term_asked_for():
    c = Cluster(5, seed=1, pre_vote=True)
    c.run_for(600)
    first = c.trace.of("send")[0]
    assert first.msg == "PreVote"
    fig = message_diagram(c, start=0, end=first.time + 30)
    sends = {e.id: e for e in c.trace.of("send")}
    answers = {(e.time, e.node, e.candidate): e.granted for e in c.trace.of("prevote")}
    kinds = set()
    for mid, (text, _) in drawn_labels(fig).items():
        e = sends[mid]
        kinds.add(e.msg)
        if e.msg == "PreVote":
            assert text == f"PV t{e.term}" and e.term == 1
        elif e.msg == "PreVoteReply":
            granted = answers[(e.time, e.src, e.dst)]
            assert text == f"t{e.term} {'✓' if granted else '✗'}"
    assert {"PreVote", "PreVoteReply"} <= kinds


def test_labels_work_for_a_students_node_and_can_be_switched_off():
    from student_nodes import StudentRaft
    c = Cluster(3, seed=2, node_class=StudentRaft)
    c.run_for(1500)
    fig = message_diagram(c)
    info = fig.raftlab
    texts = [text for text, _ in drawn_labels(fig).values()]
    assert any(t.startswith("RV t") for t in texts) and any(t.endswith("✓") for t in texts)
    # every arrow's label is either drawn or listed as left out (they would overlap)
    assert ({m for m, *_ in info["labels"]} | set(info["hidden_labels"])
            == {a[0] for a in info["arrows"]})
    assert info["hidden_labels"] and any("left out" in t for t in legend_labels(fig))
    fig = message_diagram(c, labels=False)
    assert not drawn_labels(fig) and fig.raftlab["labels"] == []
    assert len(fig.raftlab["arrows"]) == len(info["arrows"])
    with pytest.raises(ValueError, match="labels must be True or False, got 'yes'"):
        message_diagram(c, labels="yes")


def test_drawn_labels_do_not_overlap_and_stay_inside_the_window():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    c = split_votes()
    fig = message_diagram(c, start=290, end=400)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    inside = ax.get_window_extent(renderer)
    boxes = [t.get_window_extent(renderer) for t in ax.texts
             if (t.get_gid() or "").startswith("label:")]
    assert len(boxes) > 20
    for k, a in enumerate(boxes):
        assert inside.x0 <= a.x0 and a.x1 <= inside.x1
        for b in boxes[k + 1:]:
            assert not a.overlaps(b)


def test_labels_of_a_trace_saved_before_sends_carried_their_detail():
    from raftlab import Trace
    c = Cluster(3, seed=1)
    c.one("x", 3)
    doc = json.loads(c.trace.to_json())
    doc["events"] = [ev[:-1] if ev[1] == "send" else ev for ev in doc["events"]]
    old = Trace.from_json(json.dumps(doc))
    texts = {text for text, _ in drawn_labels(message_diagram(old, end=600)).values()}
    assert texts and all("✓" not in t and "✗" not in t and "+" not in t for t in texts)
    assert any(t.startswith("AE t") for t in texts)


# ------------------------------------------------------------------ precandidates
class Hesitant(RaftNode):
    """Spends one election timeout as a "precandidate" before it stands (a stand-in for
    PreVote's phase, so that traces hold precandidate state events)."""

    def on_timer(self, name: str) -> None:
        if name == "election" and self.role == "follower":
            self.role = "precandidate"
            self._reset_election_timer()
            return
        super().on_timer(name)


def precandidates(seed=1):
    c = Cluster(3, seed=seed, node_class=Hesitant)
    c.run_for(2000)
    assert [e for e in c.trace.of("state") if e.role == "precandidate"]
    return c


def legend_labels(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_precandidates_have_their_own_colour_in_every_plot():
    c = precandidates()
    pre = [s for s in role_spans(c) if s.role == "precandidate"]
    assert pre
    yellow = ROLE_COLORS["precandidate"]
    assert yellow == OKABE_ITO["yellow"] and yellow not in (
        ROLE_COLORS[r] for r in ROLE_COLORS if r != "precandidate")
    fig = timeline(c)
    assert [b for b in fig.raftlab["bands"] if b[1] == "precandidate"] == [
        (s.node, s.role, s.term, s.start, s.end) for s in pre]
    bands = [a for a in fig.findobj() if (a.get_gid() or "").startswith("band:precandidate")]
    assert len(bands) == len(pre)
    assert {to_hex(b.get_facecolor()[0]).upper() for b in bands} == {yellow.upper()}
    assert "precandidate" in legend_labels(fig)
    fig = message_diagram(c)
    lines = [a for a in fig.axes[0].get_lines() if to_hex(a.get_color()).upper() == yellow]
    assert len(lines) == len(pre)
    assert "node is precandidate" in legend_labels(fig)
    fig = terms(c)
    lines = [a for a in fig.axes[0].get_lines() if to_hex(a.get_color()).upper() == yellow]
    assert len(lines) == len(pre)
    assert "precandidate" in legend_labels(fig)


# ------------------------------------------------------------------ link cuts
def link_cuts():
    c = Cluster(3, seed=1)
    c.run_for(500)
    c.cut_link(0, 1)
    c.run_for(300)
    c.cut_link(2, 0, one_way=True)
    c.run_for(700)
    c.restore_link(1, 0)
    c.run_for(500)
    return c


def test_timeline_draws_link_cuts_between_the_lanes_of_their_ends():
    c = link_cuts()
    fig = timeline(c)
    info = fig.raftlab
    assert info["link_cuts"] == [(0, 1, False, 500, 1500), (2, 0, True, 800, 2000)]
    both, one = gids(fig, "link_cut:0:1:both"), gids(fig, "link_cut:2:0:one_way")
    # a line on each end's lane, a connector between them and its cross
    assert len(both) == 4 and len(one) == 4
    lines = [a for a in fig.findobj() if a.get_gid() == "link_cut:2:0:one_way"
             and hasattr(a, "get_linestyle") and hasattr(a, "get_xdata")]
    assert lines and all(a.get_linestyle() == "--" for a in lines)
    assert {tuple(a.get_xdata()) for a in lines} == {(800, 2000)}
    assert all(to_hex(a.get_color()) == LINK_CUT_COLOR for a in lines)
    texts = [t.get_text().strip() for t in fig.axes[0].texts]
    assert "0↔1" in texts and "2→0" in texts
    labels = legend_labels(fig)
    assert "link cut (both ways)" in labels and "link cut (one way)" in labels
    # a window that begins during a cut draws the part inside it; one after it, nothing
    assert timeline(c, start=1000).raftlab["link_cuts"] == [(0, 1, False, 1000, 1500),
                                                           (2, 0, True, 1000, 2000)]
    assert timeline(c, start=100, end=400).raftlab["link_cuts"] == []
    assert "link cut (both ways)" not in legend_labels(timeline(c, start=100, end=400))
    # a node left out of the picture: the other end's lane still shows the cut
    info = timeline(c, nodes=[0, 2]).raftlab
    assert info["link_cuts"] == [(0, 1, False, 500, 1500), (2, 0, True, 800, 2000)]
    assert png_bytes(timeline(c)) > 10_000


# ------------------------------------------------------------------ terms
def test_terms_steps_follow_state_events():
    c = faults()
    info = terms(c).raftlab
    for node in range(c.n):
        drawn = [term for _, term, _ in info["steps"][node]]
        seen = []
        for e in c.trace.of("state"):
            if e.node == node and (not seen or seen[-1] != e.term):
                seen.append(e.term)
        assert sorted(set(drawn)) == sorted(set(seen))
        assert drawn == sorted(drawn)
    crash, restart = c.trace.of("crash")[0].time, c.trace.of("restart")[0].time
    assert not any(a < restart and b > crash for a, _, b in info["steps"][1])  # gap while down


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("plot", [timeline, message_diagram, terms])
def test_start_after_end_names_both(plot):
    c = leader_failure()
    with pytest.raises(ValueError, match="start 900.*end 300"):
        plot(c, start=900, end=300)
    with pytest.raises(ValueError, match="-1"):
        plot(c.trace, start=-1)
    with pytest.raises(ValueError, match="Cluster or a Trace"):
        plot("not a trace")


def test_bad_nodes_and_kinds():
    c = leader_failure()
    with pytest.raises(ValueError, match="node id 7.*0..2"):
        timeline(c, nodes=[0, 7])
    with pytest.raises(ValueError, match="twice"):
        timeline(c, nodes=[1, 1])
    with pytest.raises(ValueError, match="at least one"):
        timeline(c, nodes=[])
    with pytest.raises(ValueError, match="'Heartbeat'"):
        message_diagram(c, kinds=["Heartbeat"])


def test_core_imports_without_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "import raftlab, raftlab.analysis\n"
            "c = raftlab.Cluster(3, seed=1); c.run_for(1000)\n"
            "print(len(raftlab.analysis.elections(c)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 1


def test_plots_do_not_import_the_experiments():
    code = "import raftlab.plots, sys; assert 'raftlab.experiments' not in sys.modules"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_downtime_cdf_is_still_importable_from_plots():
    import raftlab.plots
    from raftlab.experiment_plots import downtime_cdf as original
    from raftlab.plots import downtime_cdf
    assert downtime_cdf is original is raftlab.plots.downtime_cdf
    assert "downtime_cdf" in dir(raftlab.plots)
    with pytest.raises(AttributeError, match="no_such_plot"):
        raftlab.plots.no_such_plot


def test_the_readme_timeline_picture_can_be_regenerated(tmp_path) -> None:
    import runpy
    from pathlib import Path
    script = Path(__file__).resolve().parent.parent / "docs" / "make_images.py"
    make_images = runpy.run_path(str(script))
    out = tmp_path / "timeline.png"
    make_images["timeline_png"](out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert make_images["main"](["nonsense"]) == 2


def test_redrawing_the_recent_window_does_not_rescan_the_whole_trace(monkeypatch) -> None:
    """The panel redraws the last few seconds after every action: the events read must grow
    with the trace plus the windows drawn, not with redraws x trace length."""
    import raftlab.cluster
    from counting import CountingList, CountingTrace, uncounted
    monkeypatch.setattr(raftlab.cluster, "Trace", CountingTrace)
    c = Cluster(3, seed=7, reliable=False, election_timeout=(100, 150))
    CountingList.reads = 0
    windows = 0
    for k in range(100):
        c.run_for(600)
        if k % 30 == 15:
            c.crash(k % 3)
        if k % 30 == 29:
            c.restart((k - 14) % 3)
        start = max(0.0, c.now - 2000)
        fig = timeline(c, start=start, end=c.now)
        with uncounted():
            windows += len(c.trace.window(start, c.now))
        assert fig.raftlab["bands"]
    total = len(c.trace)
    assert total > 10_000, total
    # each redraw reads its window a few times over (bands, votes, heartbeats), never the
    # whole trace: redrawing 100 times a trace of 10,000+ events would read millions more
    assert CountingList.reads <= 2 * total + 8 * windows, (CountingList.reads, total, windows)
