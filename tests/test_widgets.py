"""The ClusterLab view, driven the way a person drives it: clicks and typed values.

Every test checks both sides: the cluster (through its public API and its trace) and the views
the panel shows. What the actions do, their recording and replay, are tested headless on the
controller (tests/test_lab_control.py), the HTML in tests/test_panel_html.py; here, that each
control reaches its action and the views follow. No kernel and no wall clock are involved (play
is tested on a private event loop with zero pacing), except in the one real-kernel test.
"""

from __future__ import annotations

import asyncio
import html
import random

import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from raftlab import Cluster, check_election_safety  # noqa: E402
from raftlab.formatting import format_ms  # noqa: E402
from raftlab.widgets import SPEEDS, VIEWS_MIN_WIDTH, ClusterLab, parse_groups  # noqa: E402

from planted import Forgetful, Grumpy  # noqa: E402
from scenarios import split_terms  # noqa: E402


def make_lab(n: int = 5, seed: int = 3, **kwargs) -> ClusterLab:
    return ClusterLab(Cluster(n, seed=seed, **kwargs), display=False)


def elected(lab: ClusterLab) -> int:
    lab.button("+1 s").click()
    leader = lab.cluster.leader()
    assert leader is not None
    return leader


def replay(script: str) -> Cluster:
    scope: dict = {}
    exec(compile(script, "<lab.script()>", "exec"), scope)
    return scope["c"]


# ---------------------------------------------------------------- opening and time
def test_open_shows_the_cluster_it_drives():
    c = Cluster(5, seed=3)
    lab = ClusterLab(c, display=False)
    assert lab.cluster is c
    assert "Cluster(5, seed=3)" in lab.header.value and "t = 0 ms" in lab.header.value
    names = {b.description for b in lab.buttons()}
    for i in range(5):
        assert {f"crash {i}", f"disconnect {i}"} <= names
    assert {"+10 ms", "+100 ms", "+1 s", "partition", "heal", "split vote", "reset",
            "cut link", "restore link", "request"} <= names
    assert list(lab.link_a.options) == list(lab.link_b.options) == [0, 1, 2, 3, 4]
    assert (lab.pre_vote.value, lab.check_quorum.value) == (False, False)
    assert "cut links</b>: none" in lab.status.value
    assert lab.timeline.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_step_buttons_advance_virtual_time_and_redraw():
    lab = make_lab()
    png = lab.timeline.value
    lab.button("+10 ms").click()
    assert lab.cluster.now == 10
    lab.button("+100 ms").click()
    assert lab.cluster.now == 110
    lab.button("+1 s").click()
    assert lab.cluster.now == 1110
    assert "t = 1110 ms" in lab.header.value
    leader = lab.cluster.leader()
    term = lab.cluster.get_state(leader)[0]
    assert f"leader: node {leader} (term {term})" in lab.header.value
    assert lab.timeline.value != png
    assert f"node {leader} · leader · term {term}" in lab.node_rows[leader][0].value


def test_crash_and_restart_the_leader():
    lab = make_lab()
    leader = elected(lab)
    before = lab.timeline.value
    lab.button(f"crash {leader}").click()
    assert not lab.cluster.is_alive(leader)
    last = lab.cluster.trace[-1]
    assert (last.kind, last.node) == ("crash", leader)
    assert lab.node_rows[leader][1].description == f"restart {leader}"
    assert f"node {leader} · down" in lab.node_rows[leader][0].value
    assert lab.node_rows[leader][2].disabled
    assert f"crash node {leader}" in lab.events.value
    lab.button("+100 ms").click()
    assert lab.timeline.value != before
    crashed = [b for b in lab.timeline_info["bands"] if b[1] == "crashed"]
    assert [(b[0], b[3], b[4]) for b in crashed] == [(leader, 1000, 1100)]
    lab.button("+1 s").click()
    new = lab.cluster.leader()
    assert new is not None and new != leader
    assert f"leader: node {new}" in lab.header.value
    lab.button(f"restart {leader}").click()
    assert lab.cluster.is_alive(leader)
    kinds = [(e.kind, e.node) for e in lab.cluster.trace.of("restart", "connect")][-2:]
    assert kinds == [("restart", leader), ("connect", leader)]
    assert lab.node_rows[leader][1].description == f"crash {leader}"


def test_disconnect_and_connect():
    lab = make_lab()
    leader = elected(lab)
    lab.button(f"disconnect {leader}").click()
    assert lab.cluster.connected[leader] is False
    assert "cut off" in lab.node_rows[leader][0].value
    assert lab.node_rows[leader][2].description == f"connect {leader}"
    lab.button("+1 s").click()
    assert lab.cluster.leader() not in (None, leader)
    lab.button(f"connect {leader}").click()
    assert lab.cluster.connected[leader] is True
    last = lab.cluster.trace[-1]
    assert (last.kind, last.node) == ("connect", leader)


def test_link_button_of_a_crashed_node_explains_and_changes_nothing():
    lab = make_lab()
    lab.button("crash 1").click()
    n_events = len(lab.cluster.trace)
    lab.node_rows[1][2].click()  # disabled in the browser; a script may still click it
    assert "node 1 is crashed" in lab.message.value
    assert len(lab.cluster.trace) == n_events


# ---------------------------------------------------------------- network
def test_partition_and_heal():
    lab = make_lab()
    elected(lab)
    lab.groups.value = "0 1 | 2,3,4"
    lab.button("partition").click()
    last = lab.cluster.trace[-1]
    assert (last.kind, last.groups) == ("partition", ((0, 1), (2, 3, 4)))
    assert lab.cluster.groups == ((0, 1), (2, 3, 4))
    lab.button("+1 s").click()
    assert lab.cluster.leader() in (2, 3, 4)
    lab.button("heal").click()
    assert lab.cluster.groups is None
    assert "heal" in [e.kind for e in lab.cluster.trace[-6:]]


@pytest.mark.parametrize("text, says", [
    ("", "partition groups are empty"),
    ("0 x | 2", "'x' in '0 x | 2' is not a node id"),
])
def test_bad_partition_groups_show_a_message_and_change_nothing(text, says):
    lab = make_lab()
    lab.button("+100 ms").click()
    before = (lab.cluster.trace.to_json(), list(lab.recorder.entries))
    lab.groups.value = text
    lab.button("partition").click()
    assert says in html.unescape(lab.message.value)
    assert "raftlab-error" in lab.message.value
    assert (lab.cluster.trace.to_json(), list(lab.recorder.entries)) == before
    lab.button("+10 ms").click()  # the next good action clears the message
    assert lab.message.value == ""


def test_reliable_and_long_reordering_toggles():
    lab = make_lab()
    lab.reliable.value = False
    assert lab.cluster.network_config.reliable is False
    last = lab.cluster.trace[-1]
    assert (last.kind, last.setting, last.value) == ("config", "reliable", False)
    lab.reordering.value = True
    assert lab.cluster.network_config.long_reordering is True
    last = lab.cluster.trace[-1]
    assert (last.kind, last.setting, last.value) == ("config", "long_reordering", True)
    lab.button("+1 s").click()
    drops = lab.cluster.trace.of("drop")
    assert drops, "an unreliable network loses some messages within a second"
    lab.reliable.value = True
    assert lab.cluster.network_config.reliable is True


def test_protocol_variant_checkboxes():
    lab = make_lab()
    lab.pre_vote.value = True
    assert lab.cluster.config.pre_vote is True
    lab.check_quorum.value = True
    assert lab.cluster.config.check_quorum is True
    lab.pre_vote.value = False
    assert lab.cluster.config.pre_vote is False
    assert [t for _, t in lab.recorder.entries] == [
        "c.set_pre_vote(True)", "c.set_check_quorum(True)", "c.set_pre_vote(False)"]
    assert [(e.setting, e.value) for e in lab.cluster.trace.of("config")] == [
        ("pre_vote", True), ("check_quorum", True), ("pre_vote", False)]
    lab.cluster.set_check_quorum(False)      # typed by hand: the box follows, calling nothing
    lab.refresh()
    assert lab.check_quorum.value is False and len(lab.recorder.entries) == 3


def test_cut_and_restore_a_link():
    lab = make_lab()
    leader = elected(lab)
    other = (leader + 1) % 5
    lab.link_a.value, lab.link_b.value = leader, other
    lab.button("cut link").click()
    assert lab.cluster.cut_links == tuple(sorted([(leader, other), (other, leader)]))
    pair = f"{min(leader, other)}↔{max(leader, other)}"
    assert f"cut links</b>: {pair}" in lab.status.value
    lab.button("+1 s").click()
    assert [e for e in lab.cluster.trace.of("drop") if e.reason == "link cut"]
    assert [c for c in lab.timeline_info["link_cuts"] if c[:3] == (min(leader, other),
                                                                   max(leader, other), False)]
    lab.one_way.value = True
    lab.button("restore link").click()       # only leader -> other comes back
    assert lab.cluster.cut_links == ((other, leader),)
    assert f"cut links</b>: {other}→{leader}" in lab.status.value
    assert [t for _, t in lab.recorder.entries if "link" in t] == [
        f"c.cut_link({leader}, {other})", f"c.restore_link({leader}, {other}, one_way=True)"]
    # a link from a node to itself: the cluster's message, nothing changed or recorded
    entries = list(lab.recorder.entries)
    lab.link_b.value = leader
    lab.button("cut link").click()
    assert "two different nodes" in lab.message.value and "raftlab-error" in lab.message.value
    assert lab.recorder.entries == entries and lab.cluster.cut_links == ((other, leader),)


def test_checkboxes_follow_settings_changed_outside_the_panel():
    lab = make_lab()
    lab.cluster.set_reliable(False)          # typed by hand
    lab.refresh()
    assert lab.reliable.value is False
    n_entries = len(lab.recorder.entries)
    assert len(lab.recorder.entries) == n_entries  # showing it called nothing
    lab.reliable.value = True                # and the box still drives the cluster
    assert lab.cluster.network_config.reliable is True
    assert lab.recorder.entries[-1][1] == "c.set_reliable(True)"


def test_latency_range_and_its_bad_values():
    lab = make_lab()
    lab.lat_lo.value, lab.lat_hi.value = 20, 40
    lab.button("set latency").click()
    assert lab.cluster.network_config.latency == (20, 40)
    lab.button("+1 s").click()
    sent = {e.id: e.time for e in lab.cluster.trace.of("send")}
    delays = [e.time - sent[e.id] for e in lab.cluster.trace.of("deliver")]
    assert delays and min(delays) >= 20 - 1e-9 and max(delays) <= 40 + 1e-9
    n_events = len(lab.cluster.trace)
    lab.lat_lo.value, lab.lat_hi.value = 50, 10
    lab.button("set latency").click()
    assert "latency lo = 50 ms is above hi = 10 ms" in lab.message.value
    lab.lat_lo.value, lab.lat_hi.value = -1, 10
    lab.button("set latency").click()
    assert "latency lo = -1 ms is too small" in lab.message.value
    assert lab.cluster.network_config.latency == (20, 40) and len(lab.cluster.trace) == n_events


def test_timing_fields_and_their_bad_values():
    lab = make_lab()
    lab.et_lo.value, lab.et_hi.value, lab.heartbeat.value = 150, 300, 50
    lab.button("set timing").click()
    assert lab.cluster.config.election_timeout == (150, 300)
    assert lab.cluster.config.heartbeat_interval == 50
    last = lab.cluster.trace[-1]
    assert (last.kind, last.setting, last.value) == ("config", "heartbeat_interval", 50)
    for lo, hi, hb, says in [(400, 300, 50, "election timeout lo = 400 ms is above hi = 300"),
                             (0, 300, 50, "election timeout lo = 0 ms is too small"),
                             (150, 300, 0, "heartbeat interval 0 ms must be > 0")]:
        n_events = len(lab.cluster.trace)
        lab.et_lo.value, lab.et_hi.value, lab.heartbeat.value = lo, hi, hb
        lab.button("set timing").click()
        assert says in html.unescape(lab.message.value)
        assert len(lab.cluster.trace) == n_events
        assert lab.cluster.config.election_timeout == (150, 300)
        assert lab.cluster.config.heartbeat_interval == 50


def test_split_vote_preset_gives_terms_with_several_candidates_and_no_leader():
    lab = make_lab()
    elected(lab)
    t0 = lab.cluster.now
    lab.button("split vote").click()
    assert lab.cluster.config.election_timeout[0] == lab.cluster.config.election_timeout[1]
    assert "Split vote preset" in lab.message.value
    lab.button("+1 s").click()
    lab.button("+1 s").click()
    split, candidates = split_terms(lab.cluster.trace, t0)
    assert len(split) >= 3, candidates
    assert lab.cluster.leader() is None and "no leader" in lab.header.value
    # widening the range again lets an election succeed
    lab.et_lo.value, lab.et_hi.value = 300, 600
    lab.button("set timing").click()
    lab.button("+1 s").click()
    lab.button("+1 s").click()
    assert lab.cluster.leader() is not None
    check_election_safety(lab.cluster.trace)


# ---------------------------------------------------------------- views from the trace
def test_status_table_comes_from_the_trace():
    lab = make_lab()
    leader = elected(lab)
    lab.button("+10 ms").click()
    trace, now = lab.cluster.trace, lab.cluster.now
    term = lab.cluster.get_state(leader)[0]
    rows = lab.digest.rows(now)
    for r in rows:
        assert (r.role, r.term) == (("leader" if r.node == leader else "follower"), term)
        granted = [e.candidate for e in trace.of("vote")
                   if e.node == r.node and e.term == term and e.granted]
        assert r.voted_for == (leader if r.node == leader else (granted[0] if granted else None))
        hb = [e.time for e in trace.of("deliver") if e.dst == r.node and e.msg == "AppendEntries"]
        assert r.since_heartbeat == (now - hb[-1] if hb else None)
        if r.node != leader:
            assert 0 <= r.since_heartbeat <= lab.cluster.config.heartbeat_interval + 10
            assert f">{r.since_heartbeat:.0f} ms</td>" in lab.status.value


def test_request_button_sends_the_next_command_to_the_leader():
    lab = make_lab()
    lab.show_timeline.value = False
    assert list(lab.request_to.options) == [("leader", "leader")] + \
        [(f"node {i}", i) for i in range(5)]
    assert (lab.request_to.value, lab.command.value) == ("leader", "1")
    calls = []
    real = lab.control.request
    lab.control.request = lambda *args: calls.append(args) or real(*args)
    lab.button("request").click()                  # no leader yet
    assert calls == [("leader", "1")] and lab.control.recorder.entries == []
    assert "raftlab-warning" in lab.message.value and "No leader right now" in lab.message.value
    leader = elected(lab)
    term = lab.cluster.get_state(leader)[0]
    lab.button("request").click()
    assert calls[-1] == ("leader", "1")
    assert html.unescape(lab.message.value).count(
        f"node {leader} accepted 1 at index 1 in term {term}") == 1
    assert lab.command.value == "2"
    lab.button("request").click()
    assert [(e.node, e.index, e.command) for e in lab.cluster.trace.of("start")] == \
        [(leader, 1, 1), (leader, 2, 2)]
    lab.button("+1 s").click()                      # followers apply after a heartbeat
    assert ">applied</th></tr></thead>" in lab.status.value
    assert [r.applied for r in lab.control.state().rows] == [2] * 5
    follower = (leader + 1) % 5
    lab.request_to.value, lab.command.value = follower, "x"
    lab.button("request").click()
    assert calls[-1] == (follower, "x")
    assert f"node {follower} is not the leader" in lab.message.value
    assert "raftlab-warning" in lab.message.value and lab.command.value == "x"
    lab.command.value = "  "
    lab.button("request").click()
    assert "raftlab-error" in lab.message.value and "the command is empty" in lab.message.value
    script = lab.script()
    assert f"c.start({leader}, 2)  # t=1000 ms" in script
    assert f"c.start({follower}, 'x')" in script
    assert replay(script).trace.to_json() == lab.cluster.trace.to_json()
    lab.seed.value = 4
    lab.button("reset").click()
    assert (lab.command.value, lab.request_to.value) == ("1", "leader")


@pytest.mark.unsafe
def test_panel_shows_a_visible_warning_on_a_safety_violation():
    lab = make_lab(node_class=Forgetful)
    lab.button("+1 s").click()
    assert lab.warning.value == ""
    lab.button("crash 0").click()
    lab.button("restart 0").click()
    assert "SAFETY VIOLATION" in lab.warning.value
    assert "node 0&#x27;s term went down from 1 to 0" in lab.warning.value
    # the script names the planted node class, and replays the same (unsafe) trace
    assert "from planted import Forgetful" in lab.script()


# ---------------------------------------------------------------- record and replay
def test_script_replays_the_session_exactly():
    lab = make_lab()
    lab.show_timeline.value = False  # speed; the drawn views are tested above
    lab.show_logs.value = False
    lab.button("+1 s").click()
    leader = lab.cluster.leader()
    lab.button(f"crash {leader}").click()
    for _ in range(3):
        lab.button("+100 ms").click()
    lab.reliable.value = False
    lab.groups.value = "0 1 | 2 3"   # node 4 is isolated
    lab.button("partition").click()
    lab.groups.value = "0 |"         # rejected: not recorded
    lab.button("partition").click()
    lab.button("+1 s").click()
    lab.lat_lo.value, lab.lat_hi.value = 3, 30
    lab.button("set latency").click()
    lab.button("heal").click()
    lab.button(f"restart {leader}").click()
    lab.button("disconnect 2").click()
    lab.reordering.value = True
    lab.button("+1 s").click()
    lab.button("connect 2").click()
    lab.button("split vote").click()
    lab.button("+1 s").click()
    lab.et_lo.value, lab.et_hi.value, lab.heartbeat.value = 200, 400, 80
    lab.button("set timing").click()
    lab.link_a.value, lab.link_b.value = 1, 3
    lab.button("cut link").click()
    lab.pre_vote.value = True
    lab.button("+100 ms").click()
    lab.link_a.value, lab.link_b.value, lab.one_way.value = 3, 1, True
    lab.button("restore link").click()
    lab.button("+10 ms").click()
    script = lab.script()
    assert script.startswith("from raftlab import Cluster\n\nc = Cluster(5, seed=3)\n")
    assert f"c.crash({leader})  # t=1000 ms" in script
    assert "c.run_for(300)" in script  # three +100 ms steps merged
    assert "c.partition([0, 1], [2, 3])" in script and "[0]" not in script
    assert "c.set_timing(election_timeout=(200, 400), heartbeat_interval=80)" in script
    assert "c.cut_link(1, 3)  # t=" in script and "c.restore_link(3, 1, one_way=True)" in script
    again = replay(script)
    assert again.cut_links == lab.cluster.cut_links == ((1, 3),)
    assert again.trace.to_json() == lab.cluster.trace.to_json()


def test_script_says_when_the_cluster_was_driven_outside_the_panel():
    lab = make_lab()
    assert "NOTE" not in lab.script()
    lab.cluster.run_for(5)
    lab.refresh()                        # a redraw does not hide what happened outside
    lab.button("+10 ms").click()
    assert lab.script().startswith("# NOTE: the cluster was also driven outside the panel")
    used = Cluster(3, seed=1)
    used.run_for(100)
    lab2 = ClusterLab(used, display=False)
    assert "already used" in lab2.message.value
    assert "NOTE: the cluster had already been used" in lab2.script()


# ---------------------------------------------------------------- reset and play
def test_reset_to_a_seed_starts_a_fresh_cluster_and_recording():
    lab = make_lab(reliable=False)
    old = lab.cluster
    lab.button("+1 s").click()
    lab.seed.value = 42
    lab.button("reset").click()
    assert lab.cluster is not old and lab.cluster.seed == 42 and lab.cluster.now == 0
    assert lab.cluster.network_config.reliable is False and lab.reliable.value is False
    assert old.now == 1000
    assert "seed 42" in lab.message.value and "seed=42" in lab.header.value
    assert lab.script() == "from raftlab import Cluster\n\nc = Cluster(5, seed=42, reliable=False)\n"
    lab.button("+1 s").click()
    assert replay(lab.script()).trace.to_json() == lab.cluster.trace.to_json()


def test_tick_steps_the_chosen_speed():
    lab = make_lab()
    assert lab.speed.value in SPEEDS
    lab.speed.value = 50
    lab.tick()
    lab.tick()
    assert lab.cluster.now == 100
    assert lab.script().endswith("c.run_for(100)\n")


def test_play_without_an_event_loop_explains_itself():
    lab = make_lab()
    lab.play.value = True
    assert lab.play.value is False
    assert "play needs a running event loop" in lab.message.value
    assert lab.cluster.now == 0


def test_play_and_pause_on_an_event_loop():
    lab = make_lab()
    lab.show_timeline.value = False
    lab.show_logs.value = False
    lab.tick_seconds = 0
    lab.speed.value = 20
    seen: list[float] = []

    async def session() -> None:
        lab.play.value = True
        assert lab.play.description == "pause" and lab.play.icon == "pause"
        for _ in range(100):
            await asyncio.sleep(0)
            seen.append(lab.cluster.now)
            if lab.cluster.now >= 200:
                break
        lab.play.value = False
        stopped_at = lab.cluster.now
        for _ in range(5):
            await asyncio.sleep(0)
        assert lab.cluster.now == stopped_at  # pause stops the loop
        others = asyncio.all_tasks() - {asyncio.current_task()}
        assert not others, others              # and the play loop has ended

    asyncio.run(session())
    assert lab.cluster.now >= 200 and lab.cluster.now % 20 == 0
    assert seen == sorted(seen) and len(set(seen)) > 5   # time advanced tick by tick
    assert lab.play.description == "play" and lab.play.icon == "play"
    assert lab.script().endswith(f"c.run_for({lab.cluster.now:g})\n")


def test_play_stops_when_a_tick_fails():
    lab = make_lab(n=3, seed=1, node_class=Grumpy)
    lab.show_timeline.value = False
    lab.show_logs.value = False
    lab.tick_seconds = 0
    lab.speed.value = 100

    async def session() -> None:
        lab.play.value = True
        for _ in range(50):
            await asyncio.sleep(0)
            if not lab.play.value:
                break

    asyncio.run(session())  # the error ends the play task; the panel shows it
    assert lab.play.value is False and lab.play.description == "play"
    assert "RuntimeError: planted failure" in lab.message.value


# ---------------------------------------------------------------- bad input
def test_bad_arguments():
    with pytest.raises(ValueError, match="needs a raftlab Cluster, got str"):
        ClusterLab("Cluster(5)", display=False)
    with pytest.raises(ValueError, match="window must be a finite number of ms >= 10 and <= 600000, got 0"):
        ClusterLab(Cluster(3), window=0, display=False)
    lab = make_lab()
    with pytest.raises(ValueError, match="no button 'crash 9'; the buttons are 'crash 0'"):
        lab.button("crash 9")
    assert parse_groups(" 0, 1 |2 | 3 4", 5) == [[0, 1], [2], [3, 4]]


def test_display_outside_ipython_is_harmless(capsys):
    lab = ClusterLab(Cluster(3, seed=1))
    assert capsys.readouterr().out == ""
    assert repr(lab) == "ClusterLab(Cluster(3, seed=1) at t=0.0 ms)"


# ---------------------------------------------------------------- randomized
def random_session(seed: int, steps: int, timeline: bool) -> None:
    """Fire ``steps`` random actions (good and bad values alike) at a panel; after each one
    the panel must show no safety warning; at the end the trace must be safe and replay."""
    rng = random.Random(seed)
    lab = make_lab(n=rng.choice([3, 5]), seed=rng.randrange(1000))
    lab.show_timeline.value = timeline
    lab.show_logs.value = timeline   # both views drawn, or neither (speed)
    n = lab.cluster.n

    def action() -> str:
        kind = rng.choice(["step", "step", "step", "node", "link", "partition", "heal",
                           "reliable", "reorder", "latency", "timing", "split", "tick",
                           "cut", "restore", "variant", "request"])
        if kind == "step":
            lab.button(rng.choice(["+10 ms", "+100 ms", "+1 s"])).click()
        elif kind == "tick":
            lab.speed.value = rng.choice(SPEEDS)
            lab.tick()
        elif kind == "node":
            lab.node_rows[rng.randrange(n)][1].click()
        elif kind == "link":
            lab.node_rows[rng.randrange(n)][2].click()
        elif kind == "partition":
            nodes = rng.sample(range(n), rng.randint(1, n))
            cut = rng.randint(0, len(nodes))
            text = " ".join(map(str, nodes[:cut])) + " | " + " ".join(map(str, nodes[cut:]))
            lab.groups.value = rng.choice([text, text, text, "", "0 0", "7", "0 | x"])
            lab.button("partition").click()
        elif kind == "heal":
            lab.button("heal").click()
        elif kind == "reliable":
            lab.reliable.value = not lab.reliable.value
        elif kind == "reorder":
            lab.reordering.value = not lab.reordering.value
        elif kind == "latency":
            lab.lat_lo.value, lab.lat_hi.value = rng.randint(-5, 40), rng.randint(0, 40)
            lab.button("set latency").click()
        elif kind == "timing":
            lab.et_lo.value, lab.et_hi.value = rng.randint(0, 500), rng.randint(100, 700)
            lab.heartbeat.value = rng.choice([0, 50, 100])
            lab.button("set timing").click()
        elif kind in ("cut", "restore"):
            lab.link_a.value, lab.link_b.value = rng.randrange(n), rng.randrange(n)
            lab.one_way.value = rng.random() < 0.5
            lab.button(kind + " link").click()
        elif kind == "request":
            lab.request_to.value = rng.choice(["leader", "leader", *range(n)])
            if rng.random() < 0.3:
                lab.command.value = rng.choice(["x", "", "12"])
            lab.button("request").click()
        elif kind == "variant":
            box = rng.choice([lab.pre_vote, lab.check_quorum])
            box.value = not box.value
        else:
            lab.button("split vote").click()
        return kind

    done: list[str] = []
    try:
        for _ in range(steps):
            done.append(action())
            assert lab.warning.value == ""
            assert f"t = {format_ms(lab.cluster.now)} ms" in lab.header.value
        check_election_safety(lab.cluster.trace)
        assert replay(lab.script()).trace.to_json() == lab.cluster.trace.to_json()
    except Exception as exc:
        note = f"random panel session seed={seed} (timeline={timeline}); actions: {done}"
        # BaseException.add_note is new in 3.11; pytest shows __notes__ on 3.10 too
        exc.__notes__ = [*getattr(exc, "__notes__", []), note]
        raise


@pytest.mark.parametrize("seed", [1, 2])
def test_long_random_sessions_never_raise_and_stay_safe(seed):
    random_session(seed, steps=200, timeline=False)


def test_random_session_with_the_timeline_drawn():
    random_session(3, steps=25, timeline=True)


def test_timeline_can_be_switched_off_and_on():
    lab = make_lab()
    lab.button("+1 s").click()
    lab.show_timeline.value = False
    assert lab.timeline.layout.display == "none"
    png = lab.timeline.value
    lab.button("+1 s").click()
    assert lab.timeline.value == png  # not redrawn while hidden
    lab.show_timeline.value = True
    assert lab.timeline.layout.display is None
    assert lab.timeline.value != png
    assert lab.timeline_info["window"] == (0.0, 2000.0)


def test_timeline_window_is_narrowed_in_a_vote_storm():
    lab = make_lab(reliable=False)
    lab.show_timeline.value = False
    lab.show_logs.value = False
    lab.button("split vote").click()
    for _ in range(3):
        lab.button("+1 s").click()
    lab.show_timeline.value = True
    start, end = lab.timeline_info["window"]
    assert end == 3000 and start > 0
    assert len(lab.timeline_info["vote_arrows"]) <= 30
    assert lab.timeline_info["title"] == \
        f"last {format_ms(end - start)} ms (narrowed: over 30 votes in 3000 ms)"


# ---------------------------------------------------------------- in a real kernel
def test_in_a_kernel_it_displays_itself_once_and_plays():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "from raftlab import Cluster\nfrom raftlab.widgets import ClusterLab",
        "ClusterLab(Cluster(3, seed=1))",            # one line, shown once
        "lab = ClusterLab(Cluster(3, seed=1))",      # shown by the constructor
        "lab",                                       # shown again on request
        "import asyncio\nlab.tick_seconds = 0\nlab.speed.value = 50\nlab.play.value = True\n"
        "for _ in range(200):\n    await asyncio.sleep(0.01)\n    if lab.cluster.now >= 500:\n"
        "        break\nlab.play.value = False\nawait asyncio.sleep(0.05)\n"
        "print(lab.cluster.now >= 500, lab.cluster.now % 50 == 0, lab.play.description)",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    widget_views = [sum("application/vnd.jupyter.widget-view+json" in o.get("data", {})
                        for o in cell.outputs) for cell in nb.cells]
    assert widget_views == [0, 1, 1, 1, 0]
    assert [o["text"] for o in nb.cells[4].outputs] == ["True True play\n"]


# ---------------------------------------------------------------- the log view
def test_log_view_shows_the_logs_and_the_leaders_next_index_from_the_trace():
    from raftlab.analysis import log_views, next_indices

    lab = make_lab()
    lab.show_timeline.value = False
    leader = elected(lab)
    follower = (leader + 1) % 5
    lab.button("request").click()
    lab.button("+100 ms").click()
    lab.button(f"disconnect {follower}").click()
    for _ in range(2):
        lab.button("request").click()
    lab.button("+1 s").click()           # the next heartbeats start where the entries ended
    assert lab.logs.value[:8] == b"\x89PNG\r\n\x1a\n"
    info = lab.log_info
    trace, term = lab.cluster.trace, lab.cluster.get_state(leader)[0]
    assert info["leader"] == leader
    assert info["length"] == {v.node: len(v.terms) for v in log_views(trace)}
    assert info["length"][leader] == 3 and info["length"][follower] == 1
    assert info["next"] == next_indices(trace, leader, term)
    assert info["next"][follower] == 2 and info["next"][(leader + 2) % 5] == 4
    assert "nextIndex" in lab.log_legend.value


def test_log_view_is_redrawn_only_when_the_logs_change_and_can_be_switched_off():
    lab = make_lab()
    lab.show_timeline.value = False
    leader = elected(lab)
    png = lab.logs.value
    lab.button("+10 ms").click()          # heartbeats only: nothing the log view shows
    assert lab.logs.value is png or lab.logs.value == png
    lab.button("request").click()
    assert lab.logs.value != png and lab.log_info["length"][leader] == 1
    lab.show_logs.value = False
    assert lab.logs.layout.display == "none" == lab.log_legend.layout.display
    png = lab.logs.value
    lab.button("request").click()
    assert lab.logs.value == png          # not redrawn while hidden
    lab.show_logs.value = True
    assert lab.logs.layout.display is None and lab.log_info["length"][leader] == 2
    lab.button("reset").click()           # a new cluster: redrawn, empty
    assert lab.log_info["length"] == {i: 0 for i in range(5)}


def test_views_move_below_the_controls_when_the_notebook_is_narrow():
    lab = make_lab()
    row = lab.widget.children[-1]
    controls, views = row.children
    assert row.layout.flex_flow == "row wrap"
    assert views.layout.min_width == VIEWS_MIN_WIDTH and controls.layout.min_width == "560px"
    assert lab.legend in views.children and lab.logs in views.children
