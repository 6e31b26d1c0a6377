"""Grade a Raft node class: every test of a lab part, over many seeds, with a diagnosis.

    from raftlab.grading import grade
    report = grade(MyRaft, part="3A", seeds=200)      # network="both", workers=1
    print(report)                 # one go-test-like line per test and network
    report.failures[0].replay()   # the first failing run, rebuilt and stopped where it failed

Every test of the part runs on every seed (the 3A tests on both networks by default), never
stopping at the first failure, on a ``MonitoredCluster``: besides config.go's checks, each
node's every input is checked against the Figure 2 rules (``raftlab.monitors``), election
safety is checked over each trace, raftlab's own stricter 3A tests run too (idle heartbeat
rate, elections after restarts), and the first seed of each test runs twice to check that the
same seed gives the same trace. Each failure carries the rule it breaks, a hint, where it
happened, and a line of code that replays it.

From a shell: ``raftlab grade raft.py[:Raft] --part 3A --seeds 200 --workers 2``.
"""

from __future__ import annotations

import html
import os
import random
import time as time_module
import traceback
from concurrent.futures import ProcessPoolExecutor
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from .agreement_tests import AGREEMENT_TESTS
from .cluster import Cluster
from .diagnosis import diagnose
from .errors import CheckFailed
from .labtests import ELECTION_TESTS, LabTest
from .monitors import MonitoredCluster, NodeError, RuleViolation
from .persistence_tests import PERSISTENCE_TESTS
from .protocol import check_node_class
from .rules import RULES
from .safety import election_safety_violations
from .sim import FloodError
from .stricter_tests import STRICTER_TESTS
from .validation import check_int

__all__ = ["grade", "replay", "GradeReport", "TestResult", "Failure", "PARTS", "NETWORKS", "RACE_WARNING",
           "part_tests", "REPRODUCIBILITY"]

NETWORKS = ("both", "reliable", "unreliable")
#: The name under which the same-seed-same-trace check is reported.
REPRODUCIBILITY = "Reproducibility"

#: A run whose check failed only because it raced the network (``diagnosis`` rule
#: ``network-race``) passes with this warning.
RACE_WARNING = ("warning: servers disagreed on term only because the network had not yet "
                "brought every server the newer term (the check raced the network; not a "
                "fault of the node)")


def part_tests(part: str) -> list[LabTest]:
    """The tests of ``part`` ("3A", "3B", "3C" or "all"), in the Go lab's order."""
    parts = PARTS
    if part not in parts:
        raise ValueError(f"part must be one of {', '.join(parts)}; got {part!r}")
    if part == "all":
        return [t for p in ("3A", "3B", "3C") for t in part_tests(p)]
    if part == "3A":
        return [*ELECTION_TESTS.values(), *STRICTER_TESTS.values()]
    if part == "3B":
        return list(AGREEMENT_TESTS.values())
    return list(PERSISTENCE_TESTS.values())


#: The lab parts: 3A leader election, 3B log, 3C persistence, and all three.
PARTS = ("3A", "3B", "3C", "all")


def _find_test(name: str) -> LabTest:
    for test in part_tests("all"):
        if test.name == name:
            return test
    known = ", ".join(t.name for t in part_tests("all"))
    raise ValueError(f"unknown test {name!r}; the tests are {known}")


# ---------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Failure:
    """One failed run: which ``test`` on which network and ``seed``, when (``time``, ms) and
    at which ``node`` it failed, the ``message`` (config.go's text or the broken rule's),
    the ``rule`` id, its Figure 2 line and a ``hint``; ``code`` replays it."""

    test: str
    seed: int
    reliable: bool
    time: Optional[float]
    message: str
    hint: str
    rule: str
    node: Optional[int] = None
    evidence: str = ""
    stricter: bool = False
    node_class: Any = field(default=None, repr=False, compare=False)

    @property
    def figure2(self) -> str:
        """The rule this failure breaks, in one line."""
        return RULES[self.rule].figure2

    @property
    def code(self) -> str:
        """One line of Python that rebuilds this run, stopped where it failed."""
        name = getattr(self.node_class, "__qualname__", "Raft")
        return (f"raftlab.grading.replay({name}, {self.test!r}, seed={self.seed}, "
                f"reliable={self.reliable})")

    def replay(self) -> Cluster:
        """The failing run rebuilt, stopped where it failed (the same trace)."""
        if self.node_class is None:
            raise ValueError("this Failure does not know its node class; use "
                             "raftlab.grading.replay(node_class, test, seed, reliable)")
        return replay(self.node_class, self.test, self.seed, self.reliable)

    def describe(self) -> str:
        """The failure in a few lines: message, where, rule, hint, evidence, replay code."""
        where = "" if self.time is None else f" (t={self.time:g} ms"
        if where and self.node is not None:
            where += f", node {self.node}"
        where += ")" if where else ""
        lines = [f"{self.message}{where}",
                 f"rule: {self.figure2}",
                 f"hint: {self.hint}"]
        if self.evidence and self.evidence != self.message:
            lines.append(f"seen: {self.evidence}")
        lines.append(f"replay: {self.code}")
        return "\n".join(lines)


@dataclass(frozen=True)
class TestResult:
    """One test on one network over all seeds: ``runs``, ``failed`` runs, the
    ``first_failing_seed`` and its ``message`` and ``hint`` (None when all passed)."""

    name: str
    network: str
    runs: int
    failed: int
    first_failing_seed: Optional[int]
    message: Optional[str]
    hint: Optional[str]
    stricter: bool = False
    header: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.failed == 0


@dataclass(frozen=True)
class GradeReport:
    """What ``grade`` found: ``tests`` (one ``TestResult`` per test and network),
    ``failures`` (the first failure of each failing test and network, smallest seed first,
    after a failure of reproducibility, which makes the others unreliable),
    and whether everything ``passed``."""

    node: str
    part: str
    seeds: tuple[int, ...]
    tests: tuple[TestResult, ...]
    failures: tuple[Failure, ...]
    #: ``grade(..., explore=True)``: the ``raftlab.explore.ExploreResult`` of the part
    exploration: Any = None

    @property
    def passed(self) -> bool:
        return all(t.passed for t in self.tests) and (
            self.exploration is None or self.exploration.violation is None)

    @property
    def warnings(self) -> list[str]:
        return [f"{t.name} ({t.network}): {w}" for t in self.tests for w in t.warnings]

    def __str__(self) -> str:
        return _text_report(self)

    def _repr_html_(self) -> str:
        return _html_report(self)

    def __repr__(self) -> str:
        failed = sum(1 for t in self.tests if not t.passed)
        return (f"<GradeReport {self.node} part {self.part}: {len(self.tests)} tests x "
                f"{len(self.seeds)} seeds, {'passed' if self.passed else f'{failed} failed'}>")


# ---------------------------------------------------------------------------- one run
@dataclass
class _Outcome:
    """A run's result as plain data (it crosses process boundaries)."""

    test: str
    reliable: bool
    seed: int
    ok: bool
    warnings: list[str] = field(default_factory=list)
    time: Optional[float] = None
    message: str = ""
    rule: str = ""
    node: Optional[int] = None
    evidence: str = ""


class _Built:
    """A cluster factory that remembers the cluster it built."""

    def __init__(self, node_class: Any) -> None:
        self.node_class = node_class
        self.cluster: Optional[Cluster] = None

    def __call__(self, n: int, **kwargs: Any) -> Cluster:
        self.cluster = MonitoredCluster(n, node_class=self.node_class, **kwargs)
        return self.cluster


def _node_frame(exc: BaseException) -> str:
    """The innermost traceback line outside raftlab (the node's own code), if any."""
    here = os.path.dirname(os.path.abspath(__file__))
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if not os.path.abspath(frame.filename).startswith(here):
            return f"{os.path.basename(frame.filename)}:{frame.lineno} in {frame.name}: {frame.line}"
    return ""


def _run(node_class: Any, test: LabTest, seed: int, reliable: bool) -> tuple[_Outcome, Optional[Cluster]]:
    """Run ``test`` once on a monitored cluster; the outcome and the cluster."""
    built = _Built(node_class)
    out = _Outcome(test.name, reliable, seed, ok=False)
    try:
        run = test.run_with(built, seed, reliable)
        out.warnings = list(run.warnings)
        problems = election_safety_violations(run.cluster.trace)
        if problems:
            out.rule, out.message, out.time = "election-safety", problems[0], run.cluster.now
        else:
            out.ok = True
    except RuleViolation as exc:
        out.rule, out.node, out.time, out.message = exc.rule, exc.node, exc.time, str(exc)
    except CheckFailed as exc:
        c = exc.cluster if exc.cluster is not None else built.cluster
        out.message = str(exc)
        out.time = c.now if c is not None else None
        if c is not None:
            found = diagnose(c, exc, test.name)
            out.rule, out.node, out.evidence = found.rule, found.node, found.evidence
            if found.time is not None:
                out.time = found.time
            if found.rule == "network-race":  # a correct node fails this way too
                problems = election_safety_violations(c.trace)
                if problems:
                    out.rule, out.message, out.node = "election-safety", problems[0], None
                else:
                    out.ok, out.warnings = True, [RACE_WARNING]
        else:
            out.rule = "check-failed"
    except NodeError as exc:
        out.rule, out.node, out.time = "node-error", exc.node, exc.time
        out.message = str(exc)
        out.evidence = _node_frame(exc.cause)
    except FloodError as exc:
        out.rule = "flood"
        out.message = str(exc).split(". Something")[0]
        out.evidence = "; ".join(getattr(exc, "__notes__", []))
        out.time = built.cluster.now if built.cluster is not None else None
    except Exception as exc:  # the node's constructor, boot or a wrong value it returned
        out.rule = "node-error"
        out.message = f"{type(exc).__name__}: {exc}"
        out.evidence = _node_frame(exc)
        out.time = built.cluster.now if built.cluster is not None else None
    return out, built.cluster


_CLOCKS = ("time", "monotonic", "perf_counter", "time_ns", "monotonic_ns", "perf_counter_ns")


def _reproducibility(node_class: Any, test: LabTest, seed: int, reliable: bool,
                     first: Optional[Cluster]) -> Optional[_Outcome]:
    """Run ``test`` again with the same seed; an outcome if the trace differs, saying
    whether the node used the global random module or read the clock."""
    clock_calls = [0]
    saved = {name: getattr(time_module, name) for name in _CLOCKS}

    def counting(real: Callable[[], Any]) -> Callable[[], Any]:
        def clock() -> Any:
            clock_calls[0] += 1
            return real()
        return clock

    state = random.getstate()
    for name, real in saved.items():
        setattr(time_module, name, counting(real))
    try:
        _, second = _run(node_class, test, seed, reliable)
    finally:
        for name, real in saved.items():
            setattr(time_module, name, real)
    used_random = random.getstate() != state
    if first is None or second is None:
        return None
    a, b = first.trace, second.trace
    k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None)
    if k is None and len(a) == len(b):
        second._release()
        return None
    if k is None:
        k = min(len(a), len(b))
    causes = []
    if used_random:
        causes.append("the node used the global random module")
    if clock_calls[0]:
        causes.append(f"the wall clock was read {clock_calls[0]} times")
    cause = " and ".join(causes) if causes else "something outside rng and the simulator " \
        "(global state, the clock imported by name, object ids or set order)"
    first_a = a[k] if k < len(a) else "the end of the trace"
    first_b = b[k] if k < len(b) else "the end of the trace"
    time = getattr(first_a, "time", None)
    return _Outcome(test.name, reliable, seed, ok=False, rule="reproducible", time=time,
                    node=getattr(first_a, "node", getattr(first_a, "src", None)),
                    message=f"the same seed gave a different trace: {cause}",
                    evidence=f"first difference at event {k}: {first_a} vs {first_b}")


def _run_batch(node_class: Any, test_name: str, reliable: bool, seeds: Sequence[int],
               repeat_first: bool) -> list[_Outcome]:
    """Run one test on ``seeds``; with ``repeat_first``, also the reproducibility check on
    the first seed (reported under ``REPRODUCIBILITY``)."""
    test = _find_test(test_name)
    outcomes = []
    for k, seed in enumerate(seeds):
        out, cluster = _run(node_class, test, seed, reliable)
        outcomes.append(out)
        if repeat_first and k == 0:
            check = _reproducibility(node_class, test, seed, reliable, cluster)
            outcomes.append(check if check is not None else
                            _Outcome(test.name, reliable, seed, ok=True, rule="reproducible"))
        if cluster is not None:
            cluster._release()
    return outcomes


# worker processes inherit the node class by fork: nothing about it is pickled
_WORKER_NODE_CLASS: Any = None


def _worker_batch(args: tuple[str, bool, tuple[int, ...], bool]) -> list[_Outcome]:
    return _run_batch(_WORKER_NODE_CLASS, *args)


# ---------------------------------------------------------------------------- grade
def grade(node_class: Any, part: str = "3A", seeds: Any = 100, network: str = "both",
          workers: int = 1, progress: Optional[bool] = None,
          tests: Optional[Iterable[str]] = None, explore: bool = False) -> GradeReport:
    """Run every test of ``part`` on ``seeds`` seeds and report, never stopping early.

    ``seeds``: a count (seeds 0..seeds-1) or an iterable of seeds. ``network``: "both",
    "reliable" or "unreliable", for the 3A tests (the 3B/3C tests choose their own).
    ``workers``: processes to spread the runs over (the report is the same for any number).
    ``progress``: a progress bar (tqdm) on stderr; by default on runs of 300 or more.
    ``tests``: only these tests (names as in the report, e.g. ``["TestInitialElection3A"]``).
    ``explore``: also search every ordering of a 3-node cluster's messages and timers
    (``raftlab.explore.explore_part``); a violation is reported with its shortest schedule.
    """
    check_node_class(node_class)
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}; got {part!r}")
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {', '.join(NETWORKS)}; got {network!r}")
    seed_list = _seeds(seeds)
    check_int("workers", workers, 1, 256)
    chosen = part_tests(part)
    if tests is not None:
        wanted = [tests] if isinstance(tests, str) else list(tests)
        for name in wanted:
            _find_test(name)
        chosen = [t for t in chosen if t.name in wanted]
        if not chosen:
            raise ValueError(f"none of the tests {wanted} is in part {part}; its tests are "
                             f"{', '.join(t.name for t in part_tests(part))}")
    jobs = list(_jobs(chosen, network))
    total = len(jobs) * len(seed_list)
    outcomes = _execute(node_class, jobs, seed_list, workers,
                        lambda: _progress_bar(total, progress))
    report = _report(node_class, part, seed_list, jobs, outcomes)
    if explore:
        from .explore import explore_part
        report = dataclasses.replace(report, exploration=explore_part(node_class, part))
    return report


def _seeds(seeds: Any) -> tuple[int, ...]:
    if isinstance(seeds, bool):
        raise ValueError(f"seeds must be a count >= 1 or a list of seeds, got {seeds!r}")
    if isinstance(seeds, int):
        check_int("seeds", seeds, 1, 1_000_000)
        return tuple(range(seeds))
    try:
        listed = tuple(seeds)
    except TypeError:
        raise ValueError(f"seeds must be a count >= 1 or a list of seeds, got {seeds!r}") \
            from None
    if not listed:
        raise ValueError("seeds is empty; give a count >= 1 or a list of seeds")
    for s in listed:
        check_int("seed", s, 0, 2**63 - 1)
    return listed


def _jobs(tests: list[LabTest], network: str) -> Iterator[tuple[LabTest, bool]]:
    for test in tests:
        if test.name.endswith("3A") and not test.stricter:
            nets = {"both": (True, False), "reliable": (True,), "unreliable": (False,)}[network]
        else:
            nets = (test.reliable,)
        for reliable in nets:
            yield test, reliable


def _progress_bar(total: int, progress: Optional[bool]) -> Any:
    if progress is None:
        progress = total >= 300
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm  # a widget in a notebook, text in a terminal
    except ImportError:
        return None
    return tqdm(total=total, desc="grading", unit="run", leave=False)


def _execute(node_class: Any, jobs: list[tuple[LabTest, bool]], seeds: tuple[int, ...],
             workers: int, make_bar: Callable[[], Any]) -> list[_Outcome]:
    """Every run's outcome, in job and seed order whatever the number of workers. The
    progress bar is made after the worker processes are forked (its thread must not be)."""
    chunk = max(1, min(50, len(seeds) // max(1, 4 * workers) or 1))
    batches = [(test.name, reliable, seeds[i:i + chunk], i == 0)
               for test, reliable in jobs for i in range(0, len(seeds), chunk)]
    outcomes: list[_Outcome] = []
    pool = None
    if workers > 1 and len(batches) > 1:
        import multiprocessing
        global _WORKER_NODE_CLASS
        _WORKER_NODE_CLASS = node_class
        try:
            context = multiprocessing.get_context("fork")
        except ValueError:  # pragma: no cover - platforms without fork: run here
            context = None
        if context is not None:
            pool = ProcessPoolExecutor(workers, mp_context=context)
            pool.submit(int).result()  # fork the workers now, before any thread starts
    bar = make_bar()
    try:
        results = (pool.map(_worker_batch, batches) if pool is not None
                   else (_run_batch(node_class, *batch) for batch in batches))
        for batch, result in zip(batches, results):
            outcomes += result
            if bar is not None:
                bar.update(len(batch[2]))
    finally:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.shutdown()
    return outcomes


def _report(node_class: Any, part: str, seeds: tuple[int, ...],
            jobs: list[tuple[LabTest, bool]], outcomes: list[_Outcome]) -> GradeReport:
    by_job: dict[tuple[str, bool], list[_Outcome]] = {}
    repro: list[_Outcome] = []
    for out in outcomes:
        (repro if out.rule == "reproducible" else
         by_job.setdefault((out.test, out.reliable), [])).append(out)
    results, failures = [], []
    for test, reliable in jobs:
        runs = sorted(by_job.get((test.name, reliable), []), key=lambda o: o.seed)
        result, failure = _summarise(node_class, test.name, reliable, runs, test.stricter,
                                     test.header)
        results.append(result)
        if failure is not None:
            failures.append(failure)
    if repro:
        failed = [o for o in repro if not o.ok]
        first = min(failed, key=lambda o: (o.seed, o.test, not o.reliable)) if failed else None
        results.append(TestResult(REPRODUCIBILITY, "both", len(repro), len(failed),
                                  first.seed if first else None,
                                  first.message if first else None,
                                  RULES["reproducible"].hint if first else None,
                                  stricter=True,
                                  header="the same seed gives the same trace"))
        if first is not None:
            failures.append(_failure(node_class, first, True))
    # a run that is not reproducible makes every other failure unreliable: it comes first
    failures.sort(key=lambda f: (f.rule != "reproducible", f.seed, f.test, not f.reliable))
    name = getattr(node_class, "__qualname__", repr(node_class))
    return GradeReport(name, part, seeds, tuple(results), tuple(failures))


def _summarise(node_class: Any, name: str, reliable: bool, runs: list[_Outcome],
               stricter: bool, header: str) -> tuple[TestResult, Optional[Failure]]:
    failed = [o for o in runs if not o.ok]
    warnings: dict[str, list[int]] = {}  # warning -> [runs with it, first seed]
    for o in runs:
        for w in o.warnings:
            warnings.setdefault(w, [0, o.seed])[0] += 1
    shown = tuple(f"{w} ({k} of {len(runs)} runs, first at seed {seed})"
                  for w, (k, seed) in warnings.items())
    network = "reliable" if reliable else "unreliable"
    if not failed:
        return TestResult(name, network, len(runs), 0, None, None, None, stricter, header,
                          shown), None
    first = failed[0]
    failure = _failure(node_class, first, stricter)
    return TestResult(name, network, len(runs), len(failed), first.seed, first.message,
                      failure.hint, stricter, header, shown), failure


def _failure(node_class: Any, out: _Outcome, stricter: bool) -> Failure:
    rule = RULES[out.rule or "check-failed"]
    return Failure(out.test, out.seed, out.reliable, out.time, out.message, rule.hint,
                   rule.id, out.node, out.evidence, stricter or rule.stricter, node_class)


# ---------------------------------------------------------------------------- replay
def replay(node_class: Any, test: str, seed: int, reliable: Optional[bool] = None) -> Cluster:
    """Rebuild one graded run of ``node_class``: ``test`` (its name) on ``seed`` and network,
    stopped where it failed (or at its end if it passed). Returns its ``Cluster``, ready for
    ``timeline(...)`` or ``ClusterLab(...)``."""
    check_node_class(node_class)
    lab_test = _find_test(test)
    built = _Built(node_class)
    try:
        lab_test.run_with(built, seed, lab_test.reliable if reliable is None else reliable)
    except Exception:  # a failed check, a broken rule, a node error or a flood: stop there
        pass
    if built.cluster is None:
        raise ValueError(f"{getattr(node_class, '__qualname__', node_class)} could not even "
                         f"build a cluster for {test} (seed {seed}); grade it to see why")
    built.cluster.trace.meta["end"] = built.cluster.now
    return built.cluster


# ---------------------------------------------------------------------------- reports
def _text_report(r: GradeReport) -> str:
    seeds = (f"seeds {r.seeds[0]}-{r.seeds[-1]}" if r.seeds == tuple(range(r.seeds[0],
             r.seeds[0] + len(r.seeds))) else f"{len(r.seeds)} seeds")
    lines = [f"grading {r.node}: part {r.part}, {len(r.seeds)} seed(s) ({seeds})"]
    failures = {(f.test, f.reliable if f.rule != "reproducible" else None): f
                for f in r.failures}
    for t in r.tests:
        label = f"{t.name} ({t.network})" + (" [stricter than the Go lab]" if t.stricter else "")
        if t.passed:
            lines.append(f"--- PASS: {label}  {t.runs} runs")
        else:
            lines.append(f"--- FAIL: {label}  {t.failed} of {t.runs} runs failed, first at "
                         f"seed {t.first_failing_seed}")
            key = (t.name, t.network == "reliable") if t.name != REPRODUCIBILITY else None
            f = failures.get(key) if key else next(
                (x for x in r.failures if x.rule == "reproducible"), None)
            if f is not None:
                lines += ["        " + line for line in f.describe().splitlines()]
        for w in t.warnings:
            lines.append(f"        {w}")
    failed = sum(1 for t in r.tests if not t.passed)
    total = len(r.tests)
    if r.exploration is not None:
        lines.append(r.exploration.report())
        failed += r.exploration.violation is not None
        total += 1
    lines.append("PASS" if r.passed else f"FAIL ({failed} of {total} failed)")
    return "\n".join(lines)


def _html_report(r: GradeReport) -> str:
    esc = html.escape
    rows = []
    for t in r.tests:
        colour = "#e8f5e9" if t.passed else "#ffebee"
        name = esc(t.name) + (" <small>(stricter than the Go lab)</small>" if t.stricter else "")
        detail = "" if t.passed else (f"{esc(t.message or '')}<br><small><b>hint:</b> "
                                      f"{esc(t.hint or '')}</small>")
        if t.warnings:
            detail += "<br><small>" + "<br>".join(esc(w) for w in t.warnings) + "</small>"
        rows.append(f"<tr style='background:{colour}'><td>{name}</td><td>{esc(t.network)}</td>"
                    f"<td>{t.runs}</td><td>{t.failed}</td>"
                    f"<td>{'' if t.first_failing_seed is None else t.first_failing_seed}</td>"
                    f"<td style='text-align:left'>{detail}</td></tr>")
    if r.exploration is not None:
        e = r.exploration
        colour = "#e8f5e9" if e.violation is None else "#ffebee"
        detail = "" if e.violation is None else (
            f"{esc(str(e.violation))}<br><small>shortest schedule: "
            + "; ".join(f"{k}. {esc(str(s))}" for k, s in enumerate(e.counterexample, 1))
            + f"<br>replay: <code>{esc(e.code)}</code></small>")
        rows.append(f"<tr style='background:{colour}'><td>Exploration <small>(every ordering, "
                    f"{e.n} nodes, up to {e.depth} steps; stricter than the Go lab)</small></td>"
                    f"<td>-</td><td>{e.states:,} states</td>"
                    f"<td>{0 if e.violation is None else 1}</td><td></td>"
                    f"<td style='text-align:left'>{detail}</td></tr>")
    verdict = "passed" if r.passed else "failed"
    replays = "".join(f"<li><code>{esc(f.code)}</code>: {esc(f.test)}, {esc(f.rule)}</li>"
                      for f in r.failures)
    return (f"<div><b>{esc(r.node)}</b>, part {esc(r.part)}, {len(r.seeds)} seed(s): "
            f"<b>{verdict}</b><table><thead><tr><th>test</th><th>network</th><th>runs</th>"
            f"<th>failed</th><th>first failing seed</th><th>first message</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            + (f"<p>Replay a failure:</p><ul>{replays}</ul>" if replays else "") + "</div>")
