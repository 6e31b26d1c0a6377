"""Exhaustive exploration (raftlab.explore): breadth-first search over message and timer
orderings, the shortest counterexample, its replay in a Cluster, the grader's use of it."""

from __future__ import annotations

import pytest

from raftlab import RaftNode, check_election_safety, election_safety_violations
from raftlab.bugs import BUGS, CountsReplies, NoPersistence, VotesTwice
from raftlab.errors import SafetyViolation
from raftlab.explore import (CHECKED_RULES, MAX_EXPLORE_NODES, ExploreResult, Step, Violation,
                             explore, explore_part)
from raftlab.grading import grade
from raftlab.monitors import RuleViolation
from raftlab.rules import RULES

import student_nodes

# replays of counterexamples break Raft on purpose (the trace check at the end of each test
# is done by the tests themselves)
pytestmark = pytest.mark.unsafe


def test_the_first_level_is_one_state_per_election_timer():
    r = explore(3, RaftNode, max_depth=1)
    # the initial state, then each node's election timer firing first: three distinct states
    assert r.states == 4
    assert r.depth == 1 and r.complete and r.violation is None
    assert r.counterexample == []


def test_equal_calls_give_equal_results():
    a = explore(3, CountsReplies, max_depth=8, max_states=20_000)
    b = explore(3, CountsReplies, max_depth=8, max_states=20_000)
    assert a.violation == b.violation
    assert a.counterexample == b.counterexample
    assert (a.states, a.transitions, a.depth) == (b.states, b.transitions, b.depth)
    assert a.states_per_second > 0


def test_a_double_vote_is_found_with_the_shortest_schedule():
    r = explore(3, VotesTwice, max_depth=10)
    assert r.violation is not None and r.violation.rule == "one-vote"
    assert [s.action for s in r.counterexample] == ["timer", "timer", "deliver"]
    voter = r.counterexample[-1].node
    # the voter started its own election (a vote for itself), then granted another candidate
    assert r.counterexample[1] == Step("timer", voter, name="election")
    # breadth first: no schedule one step shorter breaks a rule, and all of them were seen
    shorter = explore(3, VotesTwice, max_depth=len(r.counterexample) - 1)
    assert shorter.violation is None and shorter.complete


def test_the_reference_node_breaks_nothing_in_a_bounded_search():
    r = explore(3, RaftNode, max_depth=6, max_states=100_000)
    assert r.violation is None and r.complete and r.depth == 6
    assert r.states > 1_000 and r.transitions > r.states
    with pytest.raises(ValueError, match="no violation"):
        r.replay()
    # crashes, restarts and a client command as well
    r = explore(3, RaftNode, max_depth=9, max_states=6_000, crashes=1, commands=1)
    assert r.violation is None and r.states == 6_000 and not r.complete


def test_replay_shows_two_leaders_in_the_clusters_trace():
    r = explore(3, CountsReplies, max_depth=8)
    assert r.violation.rule == "election-safety"
    c = r.replay()
    problems = election_safety_violations(c.trace)
    assert problems and "two leaders" in problems[0]
    assert c.now == len(r.counterexample) + 0.5   # one virtual ms per step
    assert repr(c).startswith("raftlab.explore.explore(n=3, node_class=CountsReplies")
    with pytest.raises(SafetyViolation):
        check_election_safety(c.trace)
    # the steps are in the trace: every delivered message of the schedule is a deliver event
    delivered = [s for s in r.counterexample if s.action == "deliver"]
    assert len(c.trace.of("deliver")) == len(delivered)


def test_the_panel_reads_a_replay_like_any_cluster():
    from raftlab.lab_control import LabController
    from raftlab.plots import log_grid, message_diagram, timeline
    c = explore(3, CountsReplies, max_depth=8).replay()
    lab = LabController(c)
    assert any("two leaders" in v for v in lab.state().violations)
    import matplotlib.pyplot as plt
    try:
        assert timeline(c).raftlab and message_diagram(c).raftlab and log_grid(c).raftlab
    finally:
        plt.close("all")


def test_replay_with_monitors_breaks_the_same_rule_at_the_last_step():
    r = explore(3, VotesTwice, max_depth=6)
    with pytest.raises(RuleViolation) as info:
        r.replay(monitors=True)
    assert info.value.rule == r.violation.rule
    assert info.value.time == len(r.counterexample)
    assert info.value.cluster is not None


def test_a_lost_term_is_found_with_a_crash_and_a_restart():
    without = explore(3, NoPersistence, max_depth=4, crashes=0)
    assert without.violation is None and without.complete
    r = explore(3, NoPersistence, max_depth=6, crashes=1)
    assert r.violation.rule == "term-persisted"
    assert [s.action for s in r.counterexample] == ["timer", "crash", "restart"]
    with pytest.raises(RuleViolation, match="restarted at term 0"):
        r.replay(monitors=True)


def test_drops_add_orderings():
    with_drops = explore(3, RaftNode, max_depth=5, drops=True)
    without = explore(3, RaftNode, max_depth=5, drops=False)
    assert without.states < with_drops.states
    assert without.violation is None and with_drops.violation is None


def test_a_student_style_node_is_explored_and_replayed():
    ok = explore(3, student_nodes.StudentRaft, max_depth=5)
    assert ok.violation is None and ok.complete
    r = explore(3, student_nodes.VotesTwice, max_depth=8)
    assert r.violation is not None and r.violation.rule in ("one-vote", "election-safety")
    with pytest.raises(RuleViolation) as info:
        r.replay(monitors=True)
    assert info.value.rule == r.violation.rule


def test_a_node_that_raises_is_a_node_error_with_its_schedule():
    r = explore(3, student_nodes.ForgetsToReturnAReply, max_depth=4)
    assert r.violation.rule == "node-error"
    assert "RequestVoteReply" in r.violation.message
    assert r.counterexample[-1].action == "deliver"


@pytest.mark.parametrize("kwargs, name, allowed", [
    (dict(max_depth=0), "max_depth", ">= 1"),
    (dict(max_states=-1), "max_states", ">= 0"),
    (dict(crashes=-1), "crashes", ">= 0"),
    (dict(n=0), "n", f"in 1..{MAX_EXPLORE_NODES}"),
    (dict(n=MAX_EXPLORE_NODES + 1), "n", f"in 1..{MAX_EXPLORE_NODES}"),
    (dict(commands=-2), "commands", ">= 0"),
])
def test_bad_bounds_raise_value_error_naming_the_value_and_range(kwargs, name, allowed):
    with pytest.raises(ValueError) as info:
        explore(**{"n": 3, **kwargs})
    text = str(info.value)
    assert name in text and allowed in text and repr(next(iter(kwargs.values()))) in text


def test_bad_arguments_of_other_kinds():
    with pytest.raises(TypeError, match="NodeProtocol"):
        explore(3, object)
    with pytest.raises(ValueError, match="drops"):
        explore(3, drops="yes")
    with pytest.raises(ValueError, match="part must be one of"):
        explore_part(RaftNode, "3D")


def test_max_states_zero_checks_only_the_initial_state():
    r = explore(3, RaftNode, max_states=0)
    assert r.states == 1 and r.depth == 0 and r.violation is None


def test_the_grader_reports_a_found_violation_with_its_schedule():
    report = grade(VotesTwice, part="3A", seeds=1, network="reliable",
                   tests=["TestInitialElection3A"], explore=True)
    e = report.exploration
    assert isinstance(e, ExploreResult) and e.violation.rule == "one-vote"
    assert not report.passed
    text = str(report)
    assert "--- FAIL: Exploration" in text and "shortest schedule (3 steps)" in text
    assert "replay: raftlab.explore.explore(n=3, node_class=VotesTwice" in text
    assert "Exploration" in report._repr_html_()
    assert grade(VotesTwice, part="3A", seeds=1, network="reliable",
                 tests=["TestInitialElection3A"]).exploration is None


def test_checked_rules_are_rules():
    assert CHECKED_RULES <= set(RULES)
    assert "early-election" not in CHECKED_RULES
    safety_bugs = [c for c in BUGS.values() if c.rule in CHECKED_RULES]
    assert VotesTwice in safety_bugs and len(safety_bugs) < len(BUGS)


def test_the_lab_skeleton_is_explored_without_error():
    from raftlab.lab_init import skeleton
    namespace: dict = {}
    exec(compile(skeleton("all"), "raft.py", "exec"), namespace)
    r = explore(3, namespace["Raft"], max_depth=6, crashes=1, commands=1)
    # the untouched skeleton never becomes a candidate: its timers fire, nothing else happens
    assert r.violation is None and r.complete and r.states > 1


def test_a_progress_bar_changes_nothing():
    quiet = explore(3, RaftNode, max_depth=4)
    shown = explore(3, RaftNode, max_depth=4, progress=True)
    assert (shown.states, shown.transitions) == (quiet.states, quiet.transitions)


def test_raftlab_grade_explore_prints_the_schedule(tmp_path, capsys):
    from pathlib import Path

    from raftlab.cli import main
    here = Path(__file__).parent
    (tmp_path / "explore_nodes.py").write_text((here / "student_nodes.py").read_text())
    status = main(["grade", f"{tmp_path / 'explore_nodes.py'}:VotesTwice", "--seeds", "1",
                   "--network", "reliable", "--no-progress", "--explore"])
    out = capsys.readouterr().out
    assert status == 1
    assert "--- FAIL: Exploration (3 nodes" in out and "shortest schedule" in out
    assert "replay: raftlab.explore.explore(n=3, node_class=VotesTwice" in out


def test_the_result_is_the_same_in_any_process():
    import os
    import subprocess
    import sys
    code = ("from raftlab.explore import explore; from raftlab.bugs import CountsReplies; "
            "r = explore(3, CountsReplies, max_depth=8); print(r.states, r.transitions); "
            "print(r)")
    outs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        outs.append(done.stdout)
    assert outs[0] == outs[1] and "election-safety" in outs[0]


def test_replays_of_explored_schedules_reach_the_explored_states():
    """Any schedule the search walks (crashes, restarts, losses, commands), replayed in a
    Cluster, leaves every node with the role, term, log and commit index the search saw."""
    import random

    from raftlab.explore.search import _follow, _path
    from raftlab.explore.world import _World
    world = _World(3, RaftNode, True, 1, 1)
    init = world.initial()
    parent: dict = {init: None}
    frontier = [init]
    while len(parent) < 20_000:
        level = []
        for state in frontier:
            for choice in world.choices(state):
                new = world.step(state, choice)  # the reference breaks no rule
                if parent.setdefault(new, (state, choice)) == (state, choice):
                    level.append(new)
        frontier = level
    for state in random.Random(0).sample(frontier, 25):
        steps, script = _follow(world, _path(parent, state))
        result = ExploreResult(3, RaftNode, 0, 0, len(steps), True, 0.0, Violation("x", "x"),
                               steps, {}, 0, 0.0, script)
        c = result.replay()
        for i, slot in enumerate(state[:3]):
            seen, env = world.infos[slot], c._envs[i]
            assert seen.alive == (env is not None)
            if env is not None:
                node = env.node
                assert (node.role, node.current_term, node.commit_index) == (
                    seen.role, seen.term, seen.commit)
                assert tuple((e.term, e.command) for e in node.log) == seen.entries


class _ForgetfulLeader(RaftNode):
    """Drops its log when it becomes leader of a term above 1."""

    def _become_leader(self):
        if self.current_term > 1:
            del self.log[1:]
        super()._become_leader()


class _AppliesWrongCommands(RaftNode):
    """Hands the service another command than the committed one."""

    def _apply_committed(self):
        from raftlab.node import ApplyMsg
        while self.last_applied < self.commit_index:
            self.last_applied += 1
            self.env.apply(ApplyMsg(True, ("not", self.log[self.last_applied].command),
                                    self.last_applied))


class _GarblesCommands(RaftNode):
    """Stores every entry it receives with another command (the same index and term)."""

    def handle_request(self, src, msg):
        from raftlab import AppendEntries, LogEntry
        if type(msg) is AppendEntries and msg.entries:
            garbled = tuple(LogEntry(e.term, ("garbled", e.command)) for e in msg.entries)
            msg = AppendEntries(msg.term, msg.leader, msg.prev_log_index, msg.prev_log_term,
                                garbled, msg.leader_commit)
        return super().handle_request(src, msg)


def test_the_explorers_own_checks_catch_what_no_monitor_does():
    # the monitors compare terms only: two logs with one index and term but other commands
    r = explore(3, _GarblesCommands, max_depth=8, commands=1, drops=False)
    assert r.violation.rule == "log-matching" and "Log Matching" in r.violation.message
    assert [s.action for s in r.counterexample][-3:] == ["start", "timer", "deliver"]
    # a single server commits its command at once, crashes, restarts from its persisted log,
    # and becomes leader of term 2 without the committed entry
    r = explore(1, _ForgetfulLeader, max_depth=6, crashes=1, commands=1)
    assert r.violation.rule == "leader-completeness"
    assert [s.action for s in r.counterexample] == ["timer", "start", "crash", "restart",
                                                    "timer"]
    r = explore(1, _AppliesWrongCommands, max_depth=4, commands=1)
    assert r.violation.rule == "state-machine-safety"
    assert "applied ('not', 1) at index 1" in r.violation.message
