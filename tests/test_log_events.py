"""Log replication you can see: the harness records ``append``, ``truncate`` and ``commit``
events from what it observes of any node's ``log`` and ``commit_index``; ``log_grid`` draws
them, now or at a past moment, from the trace alone."""

from __future__ import annotations

import json

import pytest

from student_nodes import StudentRaft

from raftlab import Cluster, LogEntry, Trace
from raftlab.analysis import agreement, log_views
from raftlab.status import describe_event

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from raftlab.plots import TERM_COLORS, log_grid, term_color  # noqa: E402


def diverging(seed=1) -> Cluster:
    """A leader cut off with three uncommitted entries; a new leader commits others; the old
    leader comes back and its entries are overwritten (a truncate, then appends)."""
    c = Cluster(5, seed=seed)
    c.run_for(1000)
    for k in range(4):
        c.one(k, 5)
    old = c.check_one_leader()
    c.disconnect(old)
    for k in range(3):
        c.start(old, 100 + k)
    c.run_for(300)
    c.crash((old + 1) % 5)
    for k in range(3):
        c.one(200 + k, 3)
    c.connect(old)
    c.run_for(600)
    return c


def fold_matches_nodes(c: Cluster) -> None:
    for v in log_views(c):
        if not c.nodes[v.node].alive:
            continue
        node = c.nodes[v.node].raft
        assert v.terms == tuple(e.term for e in node.log[1:]), v.node
        assert v.commit == node.commit_index, v.node


# ------------------------------------------------------------------ recording
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_folded_log_events_are_each_nodes_log_and_commit_index(seed):
    c = diverging(seed)
    assert c.trace.of("truncate"), "the old leader's entries are overwritten"
    fold_matches_nodes(c)


def test_an_unreliable_run_with_restarts_folds_to_the_live_logs():
    c = Cluster(5, seed=7, reliable=False)
    c.run_for(1000)
    for k in range(20):
        leader = next((i for i in range(5) if c.nodes[i].alive and c.get_state(i)[1]), None)
        if leader is not None:
            c.start(leader, k)
        c.run_for(150)
        if k % 7 == 3:
            c.restart(k % 5)
    c.run_for(2000)
    fold_matches_nodes(c)
    restarts = [e.node for e in c.trace.of("restart")]
    assert restarts


def test_commit_comes_before_the_applies_it_allows():
    c = Cluster(3, seed=1)
    c.run_for(1000)
    c.one("x", 3)
    for i in range(3):
        kinds = [e.kind for e in c.trace if getattr(e, "node", None) == i
                 and e.kind in ("append", "commit", "apply")]
        assert kinds == ["append", "commit", "apply"], (i, kinds)
    start = c.trace.of("start")[0]
    append = next(e for e in c.trace.of("append") if e.node == start.node)
    assert (append.time, append.index, append.term) == (start.time, start.index, start.term)


def test_a_heartbeat_only_run_has_no_log_events():
    c = Cluster(5, seed=0)
    c.run_for(5000)
    assert c.trace.of("append", "truncate", "commit") == []


def student(c: Cluster, i: int = 0) -> StudentRaft:
    return c.nodes[i].raft


def test_a_students_log_changes_are_recorded_truncate_and_overwrite_included():
    c = Cluster(3, seed=1, node_class=StudentRaft)
    c.run_for(500)
    node = student(c)
    mark = len(c.trace)
    node.log += [LogEntry(1, "a"), LogEntry(1, "b"), LogEntry(2, "c")]
    node.env.observe_log()
    node.log[2:] = [LogEntry(3, "d"), LogEntry(3, "e")]      # same length: entries overwritten
    node.env.observe_log()
    node.log.append(node.log[-1])                            # the same object twice
    node.commit_index = 2
    node.env.observe_log()
    del node.log[3:]
    node.env.observe_log()
    got = [(e.kind, *e[2:]) for e in c.trace[mark:]]
    assert got == [("append", 0, 1, 1), ("append", 0, 2, 1), ("append", 0, 3, 2),
                   ("truncate", 0, 2), ("append", 0, 2, 3), ("append", 0, 3, 3),
                   ("append", 0, 4, 3), ("commit", 0, 2), ("truncate", 0, 3)]
    c.run_for(300)  # later inputs see nothing new
    assert [(e.kind, *e[2:]) for e in c.trace[mark:]][:9] == got
    assert len(c.trace.of("append", "truncate", "commit", start=mark)) == 9


@pytest.mark.parametrize("bad, error, words", [
    ({}, TypeError, "node 0's log is a dict"),
    ([], ValueError, "node 0's log is empty"),
    ([LogEntry(0, None), (1, "x")], TypeError, "node 0's log entry 1 is a tuple"),
    ([LogEntry(0, None), LogEntry("1", "x")], ValueError, "node 0's log entry 1 has term '1'"),
])
def test_a_log_that_is_not_a_list_of_entries_is_named(bad, error, words):
    c = Cluster(3, seed=1, node_class=StudentRaft)
    c.run_for(200)
    node = student(c)
    node.log = bad
    with pytest.raises(error, match=words):
        node.env.observe_log()


def test_a_log_emptied_during_an_input_is_named():
    c = Cluster(3, seed=1, node_class=StudentRaft)
    c.run_for(200)
    student(c).log = []
    with pytest.raises(ValueError, match="node 0's log is empty"):
        c.run_for(500)


def test_a_bad_commit_index_is_named():
    c = Cluster(3, seed=1, node_class=StudentRaft)
    student(c).commit_index = -1
    with pytest.raises(ValueError, match="node 0's commit_index is -1"):
        c.run_for(500)


# ------------------------------------------------------------------ trace files
def test_log_events_survive_json_and_are_checked_when_read():
    c = diverging()
    again = Trace.from_json(c.trace.to_json())
    assert again.to_json() == c.trace.to_json()
    assert log_views(again) == log_views(c)
    doc = json.loads(c.trace.to_json())
    for bad, words in ([["append", 0, 0, 1], "index must be >= 1"],
                       [["truncate", 0, 0], "index must be >= 1"],
                       [["append", 0, 1, -1], "term must be >= 0"],
                       [["commit", 0, -1], "index must be >= 0"],
                       [["commit", 9, 1], "not a node id"],
                       [["append", 0, 1], "fields"]):
        doc2 = dict(doc, events=[[0, *bad]])
        with pytest.raises(ValueError, match=words):
            Trace.from_json(json.dumps(doc2))


def test_describe_event_tells_log_events():
    c = diverging()
    text = {e.kind: describe_event(e) for e in c.trace.of("append", "truncate", "commit")}
    assert "appended an entry of term" in text["append"]
    assert "removed its log entries from index" in text["truncate"]
    assert "commit index is now" in text["commit"]


# ------------------------------------------------------------------ log_grid
def test_log_grid_draws_every_entry_coloured_by_term_and_commit_marked():
    c = diverging()
    fig = log_grid(c)
    info = fig.raftlab
    views = log_views(c)
    assert info["cells"] == [(v.node, i, t, i <= v.commit) for v in views
                             for i, t in enumerate(v.terms, 1)]
    assert info["length"] == {v.node: len(v.terms) for v in views}
    leader = info["leader"]
    assert leader is not None and c.get_state(leader)[1]
    lv = views[leader]
    assert info["agree"] == {v.node: agreement(lv.terms, v.terms) for v in views
                             if v.node != leader and v.alive}
    entries = next(a for a in fig.findobj() if a.get_gid() == "entries")
    faces, widths = entries.get_facecolor(), entries.get_linewidth()
    assert len(faces) == len(widths) == len(info["cells"])
    for (node, index, term, committed), face, width in zip(info["cells"], faces, widths):
        assert matplotlib.colors.to_hex(face[:3]) == term_color(term).lower()
        assert face[3] == (1.0 if committed else 0.55)
        assert width == (2.0 if committed else 0.8)
    centres = [tuple(round(float(v.min() + v.max()) / 2, 6) for v in p.vertices.T)
               for p in entries.get_paths()]      # each cell's centre: (index, row)
    n = len(views)
    assert centres == [(float(index), float(n - 1 - node)) for node, index, _, _ in info["cells"]]


def test_log_grid_at_a_past_moment_shows_the_entries_later_overwritten():
    c = diverging()
    cut = c.trace.of("truncate")[0]
    before = log_grid(c.trace, at=cut.time - 0.001).raftlab
    after = log_grid(c.trace, at=cut.time).raftlab
    lost = [cell for cell in before["cells"] if cell[0] == cut.node and cell[1] >= cut.index]
    assert lost and not any(committed for *_, committed in lost)
    kept = {(n, i): t for n, i, t, _ in after["cells"] if n == cut.node}
    assert all(kept.get((n, i)) != t for n, i, t, _ in lost)
    assert log_grid(c.trace, at=0).raftlab["cells"] == []


def test_log_grid_bad_input():
    c = diverging()
    end = c.trace.end_time
    for at in (-1, end + 1):
        with pytest.raises(ValueError, match=rf"at.*{at}"):
            log_grid(c, at=at)
    doc = json.loads(c.trace.to_json())
    doc["events"] = [e for e in doc["events"] if e[1] not in ("append", "truncate", "commit")]
    old = Trace.from_json(json.dumps(doc))
    with pytest.raises(ValueError, match="no append, truncate or commit events"):
        log_grid(old)


def test_term_colours_are_stable_and_neighbours_differ():
    assert [term_color(t) for t in range(1, 4)] == list(TERM_COLORS[:3])
    assert term_color(1) == term_color(1 + len(TERM_COLORS))
    assert all(term_color(t) != term_color(t + 1) for t in range(0, 40))


def test_timeline_marks_log_changes_only_when_asked():
    from raftlab.plots import timeline
    c = diverging()
    plain = timeline(c).raftlab
    assert "log_marks" not in plain
    marked = timeline(c, log=True).raftlab
    want = [(e.kind, e.node, e.index, getattr(e, "term", None), e.time)
            for e in c.trace.of("append", "truncate", "commit")]
    assert marked["log_marks"] == want
    assert {k: v for k, v in marked.items() if k != "log_marks"} == plain


def test_a_large_grid_writes_each_terms_number_once_per_run_and_last_limits_the_indices():
    c = diverging()
    small = log_grid(c)
    cells = small.raftlab["cells"]
    assert len(cells) <= 40
    assert len(small.axes[0].texts) == len(cells)          # every cell numbered
    c.run_for(10)
    leader = c.check_one_leader()
    for k in range(8):
        c.start(leader, 500 + k)
    c.run_for(400)
    big = log_grid(c)
    cells = big.raftlab["cells"]
    assert len(cells) > 40
    runs = [(node, index) for k, (node, index, term, _) in enumerate(cells)
            if k == 0 or cells[k - 1][0] != node or cells[k - 1][2] != term]
    assert [(float(t.get_position()[0]), t.get_text()) for t in big.axes[0].texts] == \
        [(float(index), str(term)) for node, index, term, _ in cells if (node, index) in runs]
    few = log_grid(c, last=5).raftlab
    longest = max(few["length"].values())
    assert few["first_index"] == longest - 4 and {i for _, i, _, _ in few["cells"]} == \
        set(range(longest - 4, longest + 1))
    with pytest.raises(ValueError, match="last"):
        log_grid(c, last=0)
