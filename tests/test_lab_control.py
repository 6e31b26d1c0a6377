"""The panel's controller, headless: every action, its recording and replay, bad values, the
state the panel shows. No widget library is imported here (one test checks that the module
does not import one either)."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

import raftlab.cluster
from raftlab import Cluster, check_election_safety
from raftlab.config import SETTINGS
from raftlab.formatting import format_ms
from raftlab.lab_control import (MAX_VOTES, LabController, Outcome, check_ms_range,
                                 describe_cuts, parse_command, parse_groups)
from raftlab.recording import Recorder

from counting import CountingList, CountingTrace, uncounted
from planted import Forgetful, Grumpy
from scenarios import split_terms


def make(n: int = 5, seed: int = 3, **kwargs) -> LabController:
    return LabController(Cluster(n, seed=seed, **kwargs))


def elected(lab: LabController) -> int:
    lab.step(1000)
    leader = lab.state().header.leader
    assert leader is not None
    return leader


def moved(lab: LabController):
    """A cheap snapshot of what an action could change (for long randomized sessions)."""
    return (len(lab.cluster.trace), lab.cluster.now, len(lab.recorder.entries), lab.settings(),
            lab.cluster.groups, lab.cluster.connected, lab.cluster.cut_links)


def replay(script: str) -> Cluster:
    scope: dict = {}
    exec(compile(script, "<lab.script()>", "exec"), scope)
    return scope["c"]


def unchanged(lab: LabController):
    """A snapshot of everything an action could change (trace, recording, settings)."""
    return (lab.cluster.trace.to_json(), list(lab.recorder.entries), lab.settings(),
            lab.cluster.groups, lab.cluster.connected, lab.cluster.cut_links)


def test_the_controller_imports_no_widget_library():
    code = ("import sys, raftlab.lab_control; "
            "print(sorted(m for m in ('ipywidgets', 'IPython', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------- actions
def test_step_runs_virtual_time_and_is_recorded():
    lab = make()
    assert lab.step(10) == Outcome(("c.run_for(10)",))
    lab.step(100)
    assert lab.cluster.now == 110
    assert [text for _, text in lab.recorder.entries] == ["c.run_for(10)", "c.run_for(100)"]
    assert lab.recorder.entries[1][0] == 10


def test_crash_or_restart_toggles_and_the_rows_follow():
    lab = make()
    leader = elected(lab)
    assert lab.crash_or_restart(leader).calls == (f"c.crash({leader})",)
    assert not lab.cluster.is_alive(leader)
    row = lab.state().rows[leader]
    assert (row.role, row.power_action, row.link_enabled) == ("down", "restart", False)
    lab.step(1000)
    new = lab.state().header.leader
    assert new not in (None, leader)
    assert lab.crash_or_restart(leader).calls == (f"c.restart({leader})",)
    assert lab.cluster.is_alive(leader) and lab.state().rows[leader].power_action == "crash"


def test_disconnect_or_connect_toggles_and_refuses_a_crashed_node():
    lab = make()
    leader = elected(lab)
    assert lab.disconnect_or_connect(leader).calls == (f"c.disconnect({leader})",)
    row = lab.state().rows[leader]
    assert row.connected is False and row.link_action == "connect"
    lab.step(1000)
    assert lab.state().header.leader not in (None, leader)
    assert lab.disconnect_or_connect(leader).calls == (f"c.connect({leader})",)
    assert lab.cluster.connected[leader] is True
    lab.crash_or_restart(1)
    before = unchanged(lab)
    with pytest.raises(ValueError, match="node 1 is crashed: restart it first"):
        lab.disconnect_or_connect(1)
    assert unchanged(lab) == before


def test_partition_and_heal():
    lab = make()
    elected(lab)
    assert lab.partition("0 1 | 2,3,4").calls == ("c.partition([0, 1], [2, 3, 4])",)
    assert lab.cluster.groups == ((0, 1), (2, 3, 4))
    lab.step(1000)
    assert lab.state().header.leader in (2, 3, 4)
    assert lab.heal().calls == ("c.heal()",)
    assert lab.cluster.groups is None


@pytest.mark.parametrize("text, says", [
    ("", "partition groups are empty"),
    ("0 1 |", "group 2 of '0 1 |' is empty"),
    ("| 0 1", "group 1 of '| 0 1' is empty"),
    ("0 x | 2", "'x' in '0 x | 2' is not a node id"),
    ("0 9 | 2", "node 9 in '0 9 | 2' does not exist; node ids are 0..4"),
    ("0 1 | 1 2", "node 1 appears twice"),
    (None, "partition groups must be text"),
])
def test_bad_partition_groups_change_nothing(text, says):
    lab = make()
    lab.step(100)
    before = unchanged(lab)
    with pytest.raises(ValueError, match=says.replace("|", r"\|").replace("(", r"\(")):
        lab.partition(text)
    assert unchanged(lab) == before


def test_network_flags():
    lab = make()
    lab.set_reliable(False)
    assert lab.cluster.network_config.reliable is False and lab.settings()["reliable"] is False
    lab.set_long_reordering(True)
    assert lab.cluster.network_config.long_reordering is True
    assert [t for _, t in lab.recorder.entries] == ["c.set_reliable(False)",
                                                    "c.set_long_reordering(True)"]
    lab.step(1000)
    assert lab.cluster.trace.of("drop"), "an unreliable network loses some messages in 1 s"
    before = unchanged(lab)
    with pytest.raises(ValueError):
        lab.set_reliable("no")
    assert unchanged(lab) == before


def test_protocol_variants():
    lab = make()
    lab.set_pre_vote(True)
    lab.set_check_quorum(True)
    assert lab.cluster.config.pre_vote is True and lab.cluster.config.check_quorum is True
    assert (lab.settings()["pre_vote"], lab.settings()["check_quorum"]) == (True, True)
    lab.set_pre_vote(False)
    assert [t for _, t in lab.recorder.entries] == ["c.set_pre_vote(True)",
                                                    "c.set_check_quorum(True)",
                                                    "c.set_pre_vote(False)"]
    assert [(e.setting, e.value) for e in lab.cluster.trace.of("config")] == [
        ("pre_vote", True), ("check_quorum", True), ("pre_vote", False)]
    before = unchanged(lab)
    for bad in ("yes", 1, None):
        with pytest.raises(ValueError, match="pre_vote must be True or False"):
            lab.set_pre_vote(bad)
        with pytest.raises(ValueError, match="check_quorum must be True or False"):
            lab.set_check_quorum(bad)
    assert unchanged(lab) == before


def test_cut_and_restore_links():
    lab = make()
    leader = elected(lab)
    other = (leader + 1) % 5
    a = (leader + 2) % 5
    lab.cut_link(leader, other)
    lab.cut_link(a, leader, one_way=True)
    assert lab.cluster.cut_links == tuple(sorted({(leader, other), (other, leader), (a, leader)}))
    s = lab.state()
    assert set(s.cuts) == {f"{min(leader, other)}↔{max(leader, other)}", f"{a}→{leader}"}
    lab.step(1000)
    drops = [e for e in lab.cluster.trace.of("drop") if e.reason == "link cut"]
    assert {(e.src, e.dst) for e in drops} <= {(leader, other), (other, leader), (a, leader)}
    assert (leader, other) in {(e.src, e.dst) for e in drops}
    lab.restore_link(leader, other)
    lab.restore_link(a, leader, one_way=True)
    assert lab.cluster.cut_links == () and lab.state().cuts == ()
    assert [t for _, t in lab.recorder.entries if "link" in t] == [
        f"c.cut_link({leader}, {other})", f"c.cut_link({a}, {leader}, one_way=True)",
        f"c.restore_link({leader}, {other})", f"c.restore_link({a}, {leader}, one_way=True)"]
    before = unchanged(lab)
    for args, says in (((1, 1), "two different nodes"), ((0, 5), "node ids are 0..4"),
                       ((0, 1, "yes"), "one_way must be True or False")):
        for action in (lab.cut_link, lab.restore_link):
            with pytest.raises(ValueError, match=says):
                action(*args[:2], one_way=args[2] if len(args) > 2 else False)
    assert unchanged(lab) == before


def test_describe_cuts_pairs_the_two_directions_of_a_link():
    assert describe_cuts(()) == ()
    assert describe_cuts(((0, 1), (1, 0), (2, 0), (3, 4))) == ("0↔1", "2→0", "3→4")
    assert describe_cuts([(4, 3), (3, 4), (1, 0)]) == ("1→0", "3↔4")


def test_latency_and_its_bad_values():
    lab = make()
    lab.set_latency(20.0, 40.0)
    assert lab.cluster.network_config.latency == (20, 40)
    assert lab.recorder.entries[-1][1] == "c.set_latency((20, 40))"  # plain numbers
    lab.step(1000)
    sent = {e.id: e.time for e in lab.cluster.trace.of("send")}
    delays = [e.time - sent[e.id] for e in lab.cluster.trace.of("deliver")]
    assert delays and min(delays) >= 20 - 1e-9 and max(delays) <= 40 + 1e-9
    before = unchanged(lab)
    for lo, hi, says in [(50, 10, "latency lo = 50 ms is above hi = 10 ms"),
                         (-1, 10, "latency lo = -1 ms is too small"),
                         (float("nan"), 10, "latency lo must be a finite number of ms, got nan"),
                         (1, "x", "latency hi must be a finite number of ms, got 'x'")]:
        with pytest.raises(ValueError, match=says):
            lab.set_latency(lo, hi)
    assert unchanged(lab) == before


def test_timing_and_its_bad_values():
    lab = make()
    lab.set_timing(150, 300, 50)
    assert lab.cluster.config.election_timeout == (150, 300)
    assert lab.cluster.config.heartbeat_interval == 50
    assert lab.settings()["election_timeout"] == (150, 300)
    before = unchanged(lab)
    for lo, hi, hb, says in [(400, 300, 50, "election timeout lo = 400 ms is above hi = 300"),
                             (0, 300, 50, "election timeout lo = 0 ms is too small"),
                             (150, 300, 0, "heartbeat interval 0 ms must be > 0"),
                             (150, 300, None, "heartbeat interval must be a finite number of ms")]:
        with pytest.raises(ValueError, match=says):
            lab.set_timing(lo, hi, hb)
    assert unchanged(lab) == before


def test_split_vote_gives_terms_with_several_candidates_and_no_leader():
    lab = make()
    elected(lab)
    t0 = lab.cluster.now
    outcome = lab.split_vote()
    assert outcome.calls == ("c.set_timing(election_timeout=(300, 300))",
                             *(f"c.restart({i})" for i in range(5)))
    assert outcome.note.startswith("Split vote preset: the election timeout is now exactly "
                                   "300 ms")
    lab.step(2000)
    split, candidates = split_terms(lab.cluster.trace, t0)
    assert len(split) >= 3, candidates
    assert lab.state().header.leader is None
    lab.set_timing(300, 600, 110)
    lab.step(2000)
    assert lab.state().header.leader is not None
    check_election_safety(lab.cluster.trace)


def test_split_vote_needs_two_live_nodes():
    lab = make(n=3)
    lab.crash_or_restart(0)
    lab.crash_or_restart(1)
    before = unchanged(lab)
    with pytest.raises(ValueError, match="split vote needs at least 2 live nodes"):
        lab.split_vote()
    assert unchanged(lab) == before


def test_reset_starts_a_fresh_cluster_and_recording():
    lab = make(reliable=False)
    old = lab.cluster
    lab.step(1000)
    outcome = lab.reset(42)
    assert outcome == Outcome((), "Reset: a fresh cluster with seed 42; the recording starts "
                                  "again.")
    assert lab.cluster is not old and lab.cluster.seed == 42 and lab.cluster.now == 0
    assert lab.settings()["reliable"] is False and old.now == 1000
    assert lab.script() == "from raftlab import Cluster\n\nc = Cluster(5, seed=42, reliable=False)\n"
    before = unchanged(lab)
    with pytest.raises(ValueError, match="seed must be an int, got 'x'"):
        lab.reset("x")
    assert lab.cluster.seed == 42 and unchanged(lab) == before


def test_bad_arguments():
    with pytest.raises(ValueError, match="needs a raftlab Cluster, got str"):
        LabController("Cluster(5)")
    for window in (0, True, "3000", 700_000):
        with pytest.raises(ValueError, match="window must be a finite number of ms >= 10 and <= 600000"):
            LabController(Cluster(3), window=window)
    lab = make()
    with pytest.raises(ValueError, match="unknown node id 9"):
        lab.crash_or_restart(9)
    with pytest.raises(ValueError, match="run_for time"):
        lab.step(-5)
    assert lab.recorder.entries == []
    assert parse_groups(" 0, 1 |2 | 3 4", 5) == [[0, 1], [2], [3, 4]]
    assert check_ms_range("x", 1.0, 2.5, 0) == (1, 2.5)


# ---------------------------------------------------------------- state
def test_state_comes_from_the_trace_and_the_public_accessors():
    lab = make()
    leader = elected(lab)
    lab.step(10)
    s = lab.state()
    c = lab.cluster
    term = c.get_state(leader)[0]
    assert (s.header.n, s.header.seed, s.header.now) == (5, 3, 1010)
    assert (s.header.leader, s.header.leader_term) == (leader, term)
    assert [r.node for r in s.rows] == list(range(5))
    for r in s.rows:
        assert (r.role, r.term) == (("leader" if r.node == leader else "follower"), term)
        assert r.connected is True and r.link_action == "disconnect"
        granted = [e.candidate for e in c.trace.of("vote")
                   if e.node == r.node and e.term == term and e.granted]
        assert r.voted_for == (leader if r.node == leader else (granted[0] if granted else None))
        hb = [e.time for e in c.trace.of("deliver")
              if e.dst == r.node and e.msg == "AppendEntries"]
        assert r.since_heartbeat == (c.now - hb[-1] if hb else None)
    assert s.violations == ()
    assert s.recent and all(" ms  " in line for line in s.recent)
    assert not any("timer" in line or "AppendEntries" in line for line in s.recent)
    assert list(s.settings) == list(SETTINGS)
    assert s.settings == {"election_timeout": (300, 600), "heartbeat_interval": 110,
                          "pre_vote": False, "check_quorum": False, "reliable": True, "latency": (5, 10), "long_delays": True,
                          "long_reordering": False, "persist_delay": (0, 0)}


@pytest.mark.unsafe
def test_state_reports_a_safety_violation():
    lab = make(node_class=Forgetful)
    lab.step(1000)
    assert lab.state().violations == ()
    lab.crash_or_restart(0)
    lab.crash_or_restart(0)
    assert "node 0's term went down from 1 to 0" in lab.state().violations[0]
    assert "import Forgetful" in lab.script()


def test_timeline_window_is_the_last_window_or_narrowed_in_a_vote_storm():
    lab = make(reliable=False)
    w = lab.timeline_window()
    assert (w.start, w.end, w.narrowed, w.title) == (0, 1, False, "last 1 ms")
    lab.step(5000)
    w = lab.timeline_window()
    assert (w.start, w.end, w.narrowed, w.title) == (2000, 5000, False, "last 3000 ms")
    lab.split_vote()
    lab.step(3000)
    w = lab.timeline_window()
    assert w.end == 8000 and 5000 < w.start < 8000 and w.narrowed
    assert w.title == (f"last {format_ms(w.end - w.start)} ms "
                       f"(narrowed: over {MAX_VOTES} votes in 3000 ms)")
    votes = [e for e in lab.cluster.trace.of("vote") if w.start <= e.time <= w.end]
    assert len(votes) <= MAX_VOTES


# ---------------------------------------------------------------- record and replay
def test_script_replays_the_session_exactly():
    lab = make()
    lab.step(1000)
    leader = lab.state().header.leader
    lab.crash_or_restart(leader)
    for _ in range(3):
        lab.step(100)
    lab.set_reliable(False)
    lab.partition("0 1 | 2 3")          # node 4 is isolated
    with pytest.raises(ValueError):
        lab.partition("0 |")            # rejected: not recorded
    lab.step(1000)
    lab.set_latency(3, 30)
    lab.heal()
    lab.crash_or_restart(leader)
    lab.disconnect_or_connect(2)
    lab.set_long_reordering(True)
    lab.step(1000)
    lab.disconnect_or_connect(2)
    lab.split_vote()
    lab.step(1000)
    lab.set_timing(200, 400, 80)
    lab.cut_link(0, 1)
    lab.cut_link(3, 2, one_way=True)
    lab.set_pre_vote(True)
    lab.set_check_quorum(True)
    lab.step(500)
    lab.restore_link(1, 0)
    lab.step(10)
    script = lab.script()
    assert script.startswith("from raftlab import Cluster\n\nc = Cluster(5, seed=3)\n")
    assert f"c.crash({leader})  # t=1000 ms" in script
    assert "c.run_for(300)" in script  # three 100 ms steps merged
    assert "c.partition([0, 1], [2, 3])" in script and "[0]" not in script
    assert "c.set_timing(election_timeout=(200, 400), heartbeat_interval=80)" in script
    assert "c.cut_link(0, 1)  # t=" in script and "c.cut_link(3, 2, one_way=True)" in script
    assert "c.restore_link(1, 0)  # t=" in script and "c.set_pre_vote(True)" in script
    again = replay(script)
    assert again.trace.to_json() == lab.cluster.trace.to_json()
    assert again.cut_links == lab.cluster.cut_links == ((3, 2),)


def test_script_keeps_non_default_constructor_arguments():
    lab = make(n=3, seed=11, reliable=False, election_timeout=(150, 300), latency=(1, 4))
    lab.step(1000)
    lab.crash_or_restart(0)
    lab.step(1000)
    script = lab.script()
    assert "Cluster(3, seed=11, election_timeout=(150, 300), reliable=False, latency=(1, 4))" \
        in script
    assert replay(script).trace.to_json() == lab.cluster.trace.to_json()


def test_script_rebuilds_the_constructor_not_the_current_settings():
    lab = make(n=3, seed=5, long_delays=False)
    lab.step(1000)
    lab.cluster.set_long_delays(True)    # typed by hand after the panel opened
    assert "Cluster(3, seed=5, long_delays=False)" in lab.script()
    assert lab.settings()["long_delays"] is True


def test_script_says_when_the_cluster_was_driven_outside_the_panel():
    lab = make()
    assert "NOTE" not in lab.script()
    lab.state()                          # reading the state is not driving
    lab.step(10)
    assert "NOTE" not in lab.script()
    lab.cluster.run_for(5)
    lab.state()                          # nor does a redraw hide what happened outside
    lab.step(10)
    assert lab.script().startswith("# NOTE: the cluster was also driven outside the panel")
    used = Cluster(3, seed=1)
    used.run_for(100)
    lab2 = LabController(used)
    assert "already used" in lab2.notice and make().notice == ""
    assert "NOTE: the cluster had already been used" in lab2.script()


def test_a_call_that_fails_after_changing_the_cluster_is_still_recorded():
    """A failure while time runs leaves the cluster moved on; the script keeps the call,
    so the replay fails the same way, at the same point."""
    lab = make(n=3, seed=1, node_class=Grumpy)
    with pytest.raises(RuntimeError, match="planted failure"):
        lab.step(1000)
    assert 0 < lab.cluster.now < 1000
    assert lab.recorder.entries == [(0, "c.run_for(1000)")]
    assert "NOTE" not in lab.script()
    scope: dict = {}
    with pytest.raises(RuntimeError, match="planted failure"):
        exec(compile(lab.script(), "<lab.script()>", "exec"), scope)
    assert scope["c"].trace.to_json() == lab.cluster.trace.to_json()


def test_recorder_keeps_fractional_steps_separate():
    c = Cluster(3, seed=1)
    rec = Recorder(c)
    for ms in (0.5, 0.5, 10, 10):
        rec.call(c.now, "run_for", ms)
        c.run_for(ms)
    body = rec.script().split("\n")[3:]
    assert body[:3] == ["c.run_for(0.5)  # t=0 ms", "c.run_for(0.5)  # t=0.5 ms", "c.run_for(20)"]
    assert replay(rec.script()).trace.to_json() == c.trace.to_json()


# ---------------------------------------------------------------- cost of a long session
def test_a_long_session_reads_each_event_a_bounded_number_of_times(monkeypatch):
    """After each action the panel reads the controller's state and timeline window: over a
    long session the events read must grow with the trace (plus one window per action),
    not with actions x trace length."""
    monkeypatch.setattr(raftlab.cluster, "Trace", CountingTrace)
    lab = make(reliable=False, election_timeout=(100, 150))  # elections all the time
    assert isinstance(lab.cluster.trace, CountingTrace)
    CountingList.reads = 0
    window_events = 0
    for k in range(400):
        lab.step(100)
        if k % 50 == 25:
            lab.crash_or_restart(k % 5)
        lab.state()
        w = lab.timeline_window()
        with uncounted():
            window_events += len(lab.cluster.trace.window(w.start, w.end))
    total = len(lab.cluster.trace)
    reads = CountingList.reads
    assert total > 10_000
    # the digest and its safety monitor read each event about twice; the window scan reads
    # each window's events once more
    assert reads <= 3 * total + window_events, (reads, total, window_events)


# ---------------------------------------------------------------- randomized
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sessions_stay_safe_and_replay(seed):
    """Random actions, good and bad values alike: a bad one raises ValueError and changes
    nothing; the state never shows a violation; the script replays the trace."""
    rng = random.Random(seed)
    lab = make(n=rng.choice([3, 5]), seed=rng.randrange(1000))
    n = lab.cluster.n
    done: list[str] = []
    try:
        for _ in range(300):
            kind = rng.choice(["step", "step", "step", "power", "link", "partition", "heal",
                               "reliable", "reorder", "latency", "timing", "split", "cut",
                               "restore", "variant", "request"])
            done.append(kind)
            before = moved(lab)
            try:
                if kind == "step":
                    lab.step(rng.choice([10, 20, 50, 100, 1000]))
                elif kind == "power":
                    lab.crash_or_restart(rng.randrange(n))
                elif kind == "link":
                    lab.disconnect_or_connect(rng.randrange(n))
                elif kind == "partition":
                    nodes = rng.sample(range(n), rng.randint(1, n))
                    cut = rng.randint(0, len(nodes))
                    text = " ".join(map(str, nodes[:cut])) + " | " + \
                        " ".join(map(str, nodes[cut:]))
                    lab.partition(rng.choice([text, text, text, "", "0 0", "7", "0 | x"]))
                elif kind == "heal":
                    lab.heal()
                elif kind == "reliable":
                    lab.set_reliable(not lab.settings()["reliable"])
                elif kind == "reorder":
                    lab.set_long_reordering(not lab.settings()["long_reordering"])
                elif kind == "latency":
                    lab.set_latency(rng.randint(-5, 40), rng.randint(0, 40))
                elif kind == "timing":
                    lab.set_timing(rng.randint(0, 500), rng.randint(100, 700),
                                   rng.choice([0, 50, 100]))
                elif kind in ("cut", "restore"):
                    action = lab.cut_link if kind == "cut" else lab.restore_link
                    action(rng.randrange(n), rng.randrange(n), one_way=rng.random() < 0.5)
                elif kind == "request":
                    lab.request(rng.choice(["leader", "leader", *range(n)]),
                                rng.choice([None, None, "x", 7]))
                elif kind == "variant":
                    setting = rng.choice(["pre_vote", "check_quorum"])
                    getattr(lab, "set_" + setting)(not lab.settings()[setting])
                else:
                    lab.split_vote()
            except ValueError:
                assert moved(lab) == before
            s = lab.state()
            assert s.violations == () and s.header.now == lab.cluster.now
        check_election_safety(lab.cluster.trace)
        assert replay(lab.script()).trace.to_json() == lab.cluster.trace.to_json()
    except Exception as exc:
        exc.add_note(f"random controller session seed={seed}; actions: {done}")
        raise


# ---------------------------------------------------------------- client requests
def test_request_goes_to_the_leader_with_an_incrementing_command():
    lab = make()
    leader = elected(lab)
    term = lab.cluster.get_state(leader)[0]
    assert lab.next_command == 1
    first = lab.request()
    assert first == Outcome((f"c.start({leader}, 1)",),
                            f"node {leader} accepted 1 at index 1 in term {term}; it is "
                            "committed once a majority of nodes store it")
    assert lab.request("leader").calls == (f"c.start({leader}, 2)",)
    assert lab.request(command="x").calls == (f"c.start({leader}, 'x')",)
    assert lab.next_command == 3                     # only int commands move the counter
    assert lab.request(command=" 41 ").calls == (f"c.start({leader}, 41)",)
    assert lab.next_command == 42
    starts = [(e.node, e.index, e.command) for e in lab.cluster.trace.of("start")]
    assert starts == [(leader, 1, 1), (leader, 2, 2), (leader, 3, "x"), (leader, 4, 41)]
    lab.step(300)
    rows = lab.state().rows
    assert [r.applied for r in rows] == [4] * 5      # read from the apply events
    assert [m.command for m in lab.cluster.applied[0]] == [1, 2, "x", 41]


def test_request_to_a_follower_is_refused_and_still_recorded():
    lab = make()
    leader = elected(lab)
    follower = (leader + 1) % 5
    term = lab.cluster.get_state(follower)[0]
    n_events = len(lab.cluster.trace)
    out = lab.request(follower)
    assert out.calls == (f"c.start({follower}, 1)",) and out.level == "warning"
    assert out.note == (f"node {follower} is not the leader (term {term}): it refused 1, "
                        f"nothing was appended; the leader is node {leader}")
    assert len(lab.cluster.trace) == n_events and lab.next_command == 1
    assert lab.request(leader).note.startswith(f"node {leader} accepted 1 at index 1")


def test_request_with_no_leader_says_so_and_changes_nothing():
    lab = make()
    before = unchanged(lab)
    out = lab.request()
    assert out.calls == () and out.level == "warning"
    assert out.note.startswith("No leader right now")
    assert unchanged(lab) == before and lab.next_command == 1
    # a node can still be asked: a follower refuses
    assert "is not the leader" in lab.request(0).note


def test_bad_requests_change_nothing():
    lab = make()
    elected(lab)
    lab.crash_or_restart(2)
    before = unchanged(lab)
    for target, command, says in [(2, 1, "node 2 is crashed: restart it first"),
                                  (9, 1, "unknown node id 9"),
                                  ("node 1", 1, "a request goes to \"leader\" or a node id"),
                                  (True, 1, "a request goes to"),
                                  ("leader", "  ", "the command is empty"),
                                  ("leader", [1], "a command must be text or an int")]:
        with pytest.raises(ValueError, match=says):
            lab.request(target, command)
    assert unchanged(lab) == before


def test_parse_command():
    assert [parse_command(t) for t in ("7", " -3 ", "x", " put a 1 ", 5)] == \
        [7, -3, "x", "put a 1", 5]


def test_script_with_requests_replays_to_the_same_trace():
    lab = make()
    leader = elected(lab)
    lab.request()
    lab.request((leader + 2) % 5, "nope")
    lab.step(50)
    lab.disconnect_or_connect(leader)
    lab.request(leader)                  # the cut-off leader accepts; it cannot commit
    lab.step(1000)
    lab.request()                        # the new leader
    lab.step(100)
    lab.disconnect_or_connect(leader)
    lab.step(1000)
    lab.crash_or_restart(leader)
    lab.crash_or_restart(leader)
    lab.step(500)
    script = lab.script()
    assert f"c.start({leader}, 1)  # t=1000 ms" in script
    assert f"c.start({(leader + 2) % 5}, 'nope')" in script
    again = replay(script)
    assert again.trace.to_json() == lab.cluster.trace.to_json()
    rows = lab.state().rows
    applied = [0] * 5
    for e in lab.cluster.trace:
        if e.kind == "apply":
            applied[e.node] = e.index
        elif e.kind == "restart":        # a new instance applies from index 1 again
            applied[e.node] = 0
    assert [r.applied for r in rows] == applied
    assert [len(lab.cluster.applied[i]) for i in range(5)] == applied
    # 2 went to the cut-off leader and was lost; 3 went to the new leader
    assert [m.command for m in lab.cluster.applied[leader]] == [1, 3]
    check_election_safety(lab.cluster.trace)
