"""`raftlab lab init`: the skeleton, the lab notebook and the step checks.

The skeleton must be a NodeProtocol class that runs without error and fails the election tests
exactly as the Go lab's untouched skeleton does ("expected one leader, got none"); every step
check must fail on it with a message and pass on the reference node; and the skeleton, once its
"Your code here" methods are filled in (below, by subclassing: the plumbing stays as shipped),
must pass every step and the grader.
"""

from __future__ import annotations

import ast

import importlib.util
import json
import random
import sys
from pathlib import Path

import pytest

from raftlab import (AppendEntries, AppendEntriesReply, ApplyMsg, CheckFailed, Cluster,
                     LogEntry, Persister, RaftConfig, RaftNode, RequestVote, RequestVoteReply)
from raftlab.assignment import (PARTS, STEPS, StepReport, StepResult, check, check_all, run,
                                steps)
from raftlab.cli import main
from raftlab.labtests import ELECTION_TESTS, initial_election
from raftlab.lab_init import FILES, LabExists, init_lab, notebook, render, skeleton
from raftlab.protocol import check_node_class

from student_nodes import ForgetsToReturnAReply, StudentRaft, VotesTwice

ROOT = Path(__file__).resolve().parent.parent


def _load(path: Path, name: str) -> type:
    """The class ``Raft`` of the file at ``path``, imported as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.Raft


@pytest.fixture(scope="module")
def lab_dirs(tmp_path_factory) -> dict[str, Path]:
    out = {}
    for part in PARTS:
        folder = tmp_path_factory.mktemp(f"lab{part}")
        init_lab(folder, part=part)
        out[part] = folder
    return out


@pytest.fixture(scope="module")
def skeletons(lab_dirs) -> dict[str, type]:
    return {part: _load(folder / "raft.py", f"raft_skeleton_{part}")
            for part, folder in lab_dirs.items()}


# ---------------------------------------------------------------------- a filled-in skeleton
def _completed(Base: type) -> type:
    """The skeleton with every "Your code here" filled in, the way a student would; nothing
    of its plumbing (persist, read_persist, timers, dispatch) is replaced."""

    class Completed(Base):
        def __init__(self, *args):
            self.votes = set()
            super().__init__(*args)

        def become_follower(self, term):
            was = self.role
            self.role = "follower"  # before any env call: the harness looks at every one
            if term > self.current_term:
                self.current_term, self.voted_for = term, None
                self.persist()
            if was == "leader":
                self.env.cancel_timer("heartbeat")
                self.reset_election_timer()

        def election_timeout(self):
            return self.rng.uniform(*self.config.election_timeout)

        def on_election_timeout(self):
            if self.role == "leader":
                return
            self.current_term += 1
            self.role, self.voted_for, self.votes = "candidate", self.me, {self.me}
            self.persist()
            self.reset_election_timer()
            request = RequestVote(self.current_term, self.me, len(self.log) - 1,
                                  self.log[-1].term)
            for peer in self.peers:
                self.env.call(peer, request)

        def request_vote(self, args):
            if args.term > self.current_term:
                self.become_follower(args.term)
            last = self.log[-1].term
            ok = (args.last_log_term, args.last_log_index) >= (last, len(self.log) - 1)
            granted = (args.term == self.current_term and ok
                       and self.voted_for in (None, args.candidate))
            if granted:
                self.voted_for = args.candidate
                self.persist()
                self.reset_election_timer()
            return RequestVoteReply(self.current_term, granted)

        def request_vote_reply(self, src, args, reply):
            if reply.term > self.current_term:
                self.become_follower(reply.term)
                return
            if self.role != "candidate" or args.term != self.current_term or not reply.granted:
                return
            self.votes.add(src)
            if len(self.votes) * 2 > self.n:
                self.role = "leader"
                self.next_index = {p: len(self.log) for p in self.peers}
                self.match_index = {p: 0 for p in self.peers}
                self.env.cancel_timer("election")
                self.send_heartbeats()

        def send_heartbeats(self):
            if self.role != "leader":
                return
            for peer in self.peers:
                self.send_to(peer)
            self.env.set_timer("heartbeat", self.config.heartbeat_interval)

        def send_to(self, peer):
            prev = self.next_index.get(peer, len(self.log)) - 1
            self.env.call(peer, AppendEntries(self.current_term, self.me, prev,
                                              self.log[prev].term, tuple(self.log[prev + 1:]),
                                              self.commit_index))

        def append_entries(self, args):
            if args.term < self.current_term:
                return AppendEntriesReply(self.current_term, False)
            self.become_follower(args.term)
            self.reset_election_timer()
            prev = args.prev_log_index
            if prev >= len(self.log) or self.log[prev].term != args.prev_log_term:
                return AppendEntriesReply(self.current_term, False)
            for k, entry in enumerate(args.entries, prev + 1):
                if k < len(self.log) and self.log[k].term != entry.term:
                    del self.log[k:]
                if k >= len(self.log):
                    self.log.append(entry)
            self.persist()
            if args.leader_commit > self.commit_index:
                self.commit_index = min(args.leader_commit, prev + len(args.entries))
                self.apply_committed()
            return AppendEntriesReply(self.current_term, True)

        def append_entries_reply(self, src, args, reply):
            if reply.term > self.current_term:
                self.become_follower(reply.term)
                return
            if self.role != "leader" or args.term != self.current_term:
                return
            if reply.success:
                match = args.prev_log_index + len(args.entries)
                self.match_index[src] = max(self.match_index[src], match)
                self.next_index[src] = max(self.next_index[src], match + 1)
                for n in range(len(self.log) - 1, self.commit_index, -1):
                    count = 1 + sum(m >= n for m in self.match_index.values())
                    if self.log[n].term == self.current_term and count * 2 > self.n:
                        self.commit_index = n
                        self.apply_committed()
                        break
            elif self.next_index[src] == args.prev_log_index + 1:
                self.next_index[src] = max(1, args.prev_log_index)
                self.send_to(src)

        def start(self, command):
            if self.role != "leader":
                return -1, self.current_term, False
            self.log.append(LogEntry(self.current_term, command))
            self.persist()
            return len(self.log) - 1, self.current_term, True

        def apply_committed(self):
            while self.last_applied < self.commit_index:
                self.last_applied += 1
                self.env.apply(ApplyMsg(True, self.log[self.last_applied].command,
                                        self.last_applied))

    Completed.__qualname__ = Completed.__name__ = "Completed"
    return Completed


# ---------------------------------------------------------------------- the files
@pytest.mark.parametrize("part", PARTS)
def test_init_writes_the_skeleton_and_the_notebook(tmp_path, part):
    paths = init_lab(tmp_path / "mylab", part=part)
    assert [p.name for p in paths] == list(FILES) == ["raft.py", "lab.ipynb"]
    text = paths[0].read_text()
    compile(text, "raft.py", "exec")
    assert "#[" not in text  # every part marker was consumed
    assert text.count("Your code here") >= 6
    assert "class Raft:" in text
    for said in ("ONLY source of randomness", "never reads the clock", "Figure 2"):
        assert said in text
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(paths[1], as_version=4)
    nbformat.validate(nb)
    assert json.loads(paths[1].read_text()) == notebook(part)


def test_the_parts_differ_where_the_log_comes_in():
    election, whole = skeleton("3A"), skeleton("all")
    assert "Your code here (3B)" not in election and "(3C)" not in election
    assert "Not part of 3A" in election
    assert "Your code here (3B)" in whole and "Your code here (3C)" in whole
    assert "def apply_committed" in whole and "def apply_committed" not in election
    assert election.count("Your code here (3A)") == whole.count("Your code here (3A)") >= 7


#: The body of each method where the assignment asks for work, as shipped (no docstring).
_TODO_BODIES = {
    "election_timeout": "lo, hi = self.config.election_timeout\nreturn hi",
    "on_election_timeout": "",
    "request_vote": "return RequestVoteReply(self.current_term, False)",
    "request_vote_reply": "",
    "send_heartbeats": "",
    "append_entries": "return AppendEntriesReply(self.current_term, False)",
    "append_entries_reply": "",
    "handle_failure": "",
    "apply_committed": "",
}


def _method_bodies(text: str) -> dict[str, str]:
    """Each method of class Raft, its code without the docstring (comments are gone too)."""
    import ast

    cls = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef))
    out = {}
    for fn in cls.body:
        if isinstance(fn, ast.FunctionDef):
            body = fn.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]
            out[fn.name] = "\n".join(ast.unparse(stmt) for stmt in body)
    return out


def test_the_skeleton_does_not_contain_the_solution():
    for part in PARTS:
        bodies = _method_bodies(skeleton(part))
        todo = {k: v for k, v in _TODO_BODIES.items() if k in bodies}
        assert len(todo) == (9 if part == "all" else 8)
        for name, shipped in todo.items():
            # unparsed by this Python too: 3.10 writes "(lo, hi) = ...", 3.11 "lo, hi = ..."
            expected = "\n".join(ast.unparse(stmt) for stmt in ast.parse(shipped).body)
            assert bodies[name] == expected, (part, name, bodies[name])
        code = "\n".join(bodies.values())
        for solution in ("current_term += 1", "CANDIDATE", "role = LEADER", "rng.", "env.call(",
                         "env.apply(", "commit_index =", "next_index[", "match_index[",
                         "log.append(", "cancel_timer(", "HEARTBEAT, "):
            assert solution not in code, (part, solution)


def test_the_notebook_has_each_step_with_its_rule_check_and_timeline():
    for part in PARTS:
        nb = notebook(part)
        sources = ["".join(c["source"]) for c in nb["cells"]]
        for step in steps(part):
            k = next(i for i, s in enumerate(sources)
                     if s.startswith(f"## Step {step.number}: {step.title}"))
            assert step.rule in sources[k] and step.implement in sources[k]
            assert sources[k + 1].endswith(f'check(Raft, "{step.id}")')
            assert "importlib.reload(raft)" in sources[k + 1]
            assert "node_class=Raft" in sources[k + 3] and "timeline(c)" in sources[k + 3]
        assert f'grade(Raft, part="{part}", seeds=50)' in sources[-3]
        assert len({c["id"] for c in nb["cells"]}) == len(nb["cells"])
    assert sum(s.startswith("## Step") for s in
               ("".join(c["source"]) for c in notebook("3A")["cells"])) == 6
    assert sum(s.startswith("## Step") for s in
               ("".join(c["source"]) for c in notebook("all")["cells"])) == 10


def test_render_keeps_one_part_and_rejects_broken_markers():
    text = "a\n#[3A]\nb\n#[end]\n#[all]\nc\n#[end]\nd\n"
    assert render(text, "3A") == "a\nb\nd\n"
    assert render(text, "all") == "a\nc\nd\n"
    for broken, says in (("#[3A]\nx\n", "never closed"), ("#[end]\n", "without"),
                         ("#[3A]\n#[all]\n#[end]\n", "inside"), ("#[3B]\n", "unknown marker")):
        with pytest.raises(ValueError, match=says):
            render(broken, "3A")
    with pytest.raises(ValueError, match="parts are 3A, all"):
        render(text, "3B")


def test_init_refuses_to_overwrite_unless_forced(tmp_path):
    init_lab(tmp_path)
    (tmp_path / "raft.py").write_text("my work")
    with pytest.raises(LabExists, match="raft.py.*--force"):
        init_lab(tmp_path, part="all")
    assert (tmp_path / "raft.py").read_text() == "my work"
    init_lab(tmp_path, part="all", force=True)
    assert (tmp_path / "raft.py").read_text() == skeleton("all")


# ---------------------------------------------------------------------- the command
def test_cli_lab_init(tmp_path, capsys):
    target = tmp_path / "mylab"
    assert main(["lab", "init", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {target / 'raft.py'}" in out and f"raftlab grade {target / 'raft.py'}" in out
    assert (target / "raft.py").read_text() == skeleton("3A")
    (target / "lab.ipynb").write_text("my notes")
    assert main(["lab", "init", str(target), "--part", "all"]) == 2
    err = capsys.readouterr().err
    assert "already exist" in err and "--force" in err and "lab.ipynb" in err
    assert (target / "lab.ipynb").read_text() == "my notes"
    assert (target / "raft.py").read_text() == skeleton("3A")
    assert main(["lab", "init", str(target), "--part", "all", "--force"]) == 0
    assert (target / "raft.py").read_text() == skeleton("all")


def test_cli_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["lab", "init", str(tmp_path / "x"), "--part", "3B"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: '3B'" in err and "'3A'" in err and "'all'" in err
    assert not (tmp_path / "x").exists()
    assert main(["lab"]) == 2
    assert "init" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["lab", "init", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_cli_runs_as_a_program(tmp_path):
    import subprocess

    run = subprocess.run([sys.executable, "-m", "raftlab", "lab", "init", str(tmp_path),
                          "--part", "nope"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "choose from '3A', 'all'" in run.stderr


# ---------------------------------------------------------------------- the untouched skeleton
@pytest.mark.parametrize("part", PARTS)
def test_the_skeleton_is_a_node_protocol_class(skeletons, part):
    Raft = skeletons[part]
    check_node_class(Raft)
    c = Cluster(3, seed=1, node_class=Raft)
    c.run_for(2000)
    assert [c.get_state(i) for i in range(3)] == [(0, False)] * 3
    node = c.nodes[0].raft
    assert node.log == [LogEntry(0, None)] and node.voted_for is None
    assert (node.commit_index, node.last_applied, node.role) == (0, 0, "follower")
    assert node.start("x") == (-1, 0, False)


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_untouched_it_fails_the_first_election_test_like_the_go_skeleton(skeletons, part, seed):
    for reliable in (True, False):
        with pytest.raises(CheckFailed) as exc:
            initial_election(seed, reliable=reliable, node_class=skeletons[part])
        assert str(exc.value) == "expected one leader, got none"
        assert exc.value.cluster.now == pytest.approx(5000, abs=600)  # 10 tries ~500 ms apart


@pytest.mark.parametrize("name", list(ELECTION_TESTS))
def test_untouched_it_raises_nothing_but_that_check(skeletons, name):
    for Raft in skeletons.values():
        for seed in range(6):
            for reliable in (True, False):
                with pytest.raises(CheckFailed) as exc:
                    ELECTION_TESTS[name](seed, reliable=reliable, node_class=Raft)
                assert str(exc.value) == "expected one leader, got none"


def test_untouched_its_replies_are_valid_messages(skeletons):
    for Raft in skeletons.values():
        node = Raft(0, 3, Persister(), _NullEnv(), RaftConfig(), random.Random(0))
        node.boot()
        assert node.handle_request(1, RequestVote(1, 1, 0, 0)) == RequestVoteReply(0, False)
        reply = node.handle_request(1, AppendEntries(1, 1, 0, 0, (), 0))
        assert type(reply) is AppendEntriesReply and not reply.success
        node.handle_reply(1, RequestVote(1, 0, 0, 0), RequestVoteReply(1, True))
        node.handle_reply(1, AppendEntries(1, 0, 0, 0, (), 0), AppendEntriesReply(1, True))
        node.handle_failure(1, RequestVote(1, 0, 0, 0))
        node.on_timer("election")
        node.on_timer("heartbeat")
        node.kill()
        assert node.get_state() == (0, False)


class _NullEnv:
    def call(self, dst, request):
        raise AssertionError(f"the untouched skeleton sent {request!r}")

    def set_timer(self, name, delay):
        pass

    def cancel_timer(self, name):
        pass

    def apply(self, msg):
        raise AssertionError(f"the untouched skeleton applied {msg!r}")

    def record(self, kind, *values):
        pass


# ---------------------------------------------------------------------- the step checks
@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_fails_on_the_skeleton_with_a_message_and_a_hint(skeletons, step):
    result = check(skeletons["all"], step)
    assert isinstance(result, StepResult) and not result.passed and not result
    assert result.message and result.hint
    assert "FAILED" in str(result) and result.message.splitlines()[0] in str(result)
    if STEPS[step].part == "3A":
        assert not check(skeletons["3A"], step).passed


@pytest.mark.parametrize("step", list(STEPS))
def test_each_step_passes_on_the_reference_node(step):
    result = check(RaftNode, step)
    assert result.passed, str(result)
    assert "PASSED" in str(result) and "hint" not in str(result)


@pytest.mark.parametrize("part", PARTS)
def test_the_filled_in_skeleton_passes_every_step(skeletons, part):
    report = check_all(_completed(skeletons[part]), part)
    assert isinstance(report, StepReport) and len(report) == len(steps(part))
    assert report.passed, str(report)


def test_changing_the_term_before_the_role_is_not_mistaken_for_a_leader(skeletons):
    """A leader that adopts a higher term and cancels its heartbeat timer before it changes
    its role never was a leader of that term: the harness records a term change at the end of
    the input (or with a new role), so this order passes like the other."""

    class TermFirst(_completed(skeletons["3A"])):
        def become_follower(self, term):
            if term > self.current_term:
                self.current_term, self.voted_for = term, None
                self.persist()
            if self.role == "leader":
                self.env.cancel_timer("heartbeat")
                self.reset_election_timer()
            self.role = "follower"

    result = check(TermFirst, "failures")
    assert result.passed, result.message
    from raftlab.grading import grade

    assert grade(TermFirst, part="3A", seeds=4, progress=False).passed


def test_the_filled_in_skeleton_passes_the_grader(skeletons):
    from raftlab.grading import grade

    assert grade(_completed(skeletons["3A"]), part="3A", seeds=3, progress=False).passed
    report = grade(skeletons["3A"], part="3A", seeds=2, progress=False,
                   tests=["TestInitialElection3A"])
    assert not report.passed
    assert report.failures[0].message.startswith("expected one leader, got none")


def test_an_independent_student_node_passes_the_election_steps():
    assert check_all(StudentRaft, "3A").passed


def test_planted_mistakes_fail_the_step_that_names_them():
    from raftlab import bugs

    twice = check(bugs.VotesTwice, "votes")
    assert not twice.passed and "granted" in twice.message and "two votes" in twice.message
    assert not check(VotesTwice, "votes").passed  # the tests' own planted copy, too
    forgets = check(ForgetsToReturnAReply, 3)
    assert not forgets.passed and "with None" in forgets.message

    class Fixed(StudentRaft):
        def election_timeout(self):
            return 400

        def reset_election_timer(self):
            self.env.set_timer("electionTimer", 400)

    fixed = check(Fixed, "timeouts")
    assert not fixed.passed and "not random" in fixed.message

    class GlobalRandom(StudentRaft):
        def reset_election_timer(self):
            lo, hi = self.config.election_timeout
            self.env.set_timer("electionTimer", random.uniform(lo, hi))

    sloppy = check(GlobalRandom, "timeouts")
    assert not sloppy.passed and "differ" in sloppy.message and "rng" in sloppy.hint

    class Chatty(StudentRaft):
        def heartbeat(self):
            super().heartbeat()
            self.env.set_timer("hb", 20)

    chatty = check(Chatty, "heartbeats")
    assert not chatty.passed and "at most ten heartbeats per second" in chatty.message


#: The step whose check catches the mistake of each rule of raftlab.bugs.
_STEP_OF_RULE = {
    "fixed-timeout": "timeouts", "reproducible": "timeouts", "one-vote": "votes",
    "stale-vote": "votes", "step-down-request": "votes", "term-persisted": "votes",
    "vote-counting": "leader", "election-safety": "leader", "step-down-reply": "leader",
    "heartbeat-rate": "heartbeats", "heartbeats": "heartbeats", "early-election": "heartbeats",
    "log-matching": "replicate", "commit-current-term": "commit", "up-to-date": "up-to-date",
}


@pytest.mark.unsafe
def test_each_bug_of_the_clinic_fails_first_at_the_step_of_its_rule():
    from raftlab.bugs import BUGS

    for name, cls in BUGS.items():
        report = check_all(cls, "3A" if cls.part == "3A" else "all")
        failed = [r for r in report if not r.passed]
        assert failed, f"{name} passed every step"
        assert failed[0].step == _STEP_OF_RULE[cls.rule], (name, str(failed[0]))


def test_a_node_that_raises_is_reported_with_node_time_and_input():
    class Raises(StudentRaft):
        def handle_request(self, src, msg):
            if isinstance(msg, RequestVote) and self.me == 0 and msg.term >= 1:
                raise ZeroDivisionError("planted")
            return super().handle_request(src, msg)

    result = check(Raises, "leader")  # never raises itself
    assert not result.passed
    first = result.message.splitlines()[0]
    assert first.startswith("node 0 raised ZeroDivisionError: planted at t=")
    assert "while handling RequestVote(term=1" in first and "from node" in first
    assert "test_lab_init.py, line" in result.message and "raise ZeroDivisionError" in \
        result.message
    assert result.cluster is not None and result.rebuild.startswith("Cluster(3, seed=1")
    assert "raised an exception" in result.hint
    # the probe of step 3 reports the same error on one server
    probe = check(Raises, "votes")
    assert "handle_request(1, RequestVote(term=1" in probe.message and "planted" in \
        probe.message


def test_broken_classes_and_floods_are_reported_not_raised():
    class NoMethods:
        def __init__(self, me, n, persister, env, config, rng):
            pass

    result = check(NoMethods, "timeouts")
    assert not result.passed and "missing methods" in result.message

    class BadInit(StudentRaft):
        def __init__(self, *args):
            raise RuntimeError("no init for you")

    result = check(BadInit, "election")
    assert not result.passed and "no init for you" in result.message

    class Flood(StudentRaft):
        def boot(self):
            self.env.set_timer("spin", 0)

        def on_timer(self, name):
            self.env.set_timer("spin", 0)

    result = check(Flood, "election")
    assert not result.passed and "floods the simulator" in result.message


def test_unknown_steps_and_parts_are_value_errors():
    with pytest.raises(ValueError, match="steps are 1 'timeouts'"):
        check(RaftNode, "vote")
    with pytest.raises(ValueError, match="parts are 3A, all"):
        steps("3B")
    assert check(RaftNode, 1).step == "timeouts"


def test_results_read_well_as_text_and_html(skeletons):
    result = check(skeletons["3A"], "election")
    html = result._repr_html_()
    assert "Step 2, start an election" in html and "failed" in html and "Hint." in html
    report = check_all(RaftNode, "3A")
    assert str(report).startswith("6 of 6 steps passed\nstep 1, randomized election")
    assert "6 of 6 steps passed" in report._repr_html_()


def test_run_shows_a_node_error_and_stops_there(capsys):
    class Raises(StudentRaft):
        def on_timer(self, name):
            raise KeyError(name)

    c = Cluster(3, seed=1, node_class=Raises)
    text = run(c, 2000)
    assert text == capsys.readouterr().out.rstrip("\n")
    assert text.startswith("node 1 raised KeyError: 'electionTimer' at t=378.734 ms while "
                           "handling its timer 'electionTimer' firing")
    assert c.now == pytest.approx(378.734)
    assert run(Cluster(3, seed=1), 1000) is None


# ---------------------------------------------------------------------- the notebook, executed
@pytest.mark.parametrize("part", PARTS)
def test_the_notebook_runs_every_cell_on_the_untouched_skeleton(tmp_path, part):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    init_lab(tmp_path, part=part)
    nb = nbformat.read(tmp_path / "lab.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    checks = [c for c in code if "check(Raft" in c.source]
    assert len(checks) == len(steps(part))
    for cell in checks:
        text = cell.outputs[0]["data"]["text/plain"]
        assert "FAILED" in text and "hint:" in text
    timelines = [c for c in code if "timeline(c)" in c.source]
    assert all("image/png" in c.outputs[-1]["data"] for c in timelines)
    graded = "".join(o.get("text", "") for o in code[-2].outputs)
    assert "--- FAIL: TestInitialElection3A (reliable)" in graded
    assert "expected one leader, got none" in graded
    assert "image/png" in code[-1].outputs[-1]["data"]  # the replayed failure
