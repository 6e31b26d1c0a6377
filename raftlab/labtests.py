"""The 6.5840 (2024) leader-election tests, ported scenario for scenario to virtual time.

Each test is a ``LabTest``: call it with a seed (and, for the 3A tests, the network) and it
builds a cluster, runs the Go test's steps (``RET`` = the tester's one-second
``RaftElectionTimeout``) and returns a ``LabRun``; a failed check raises ``CheckFailed`` with
config.go's message. Pass ``node_class=`` to test your own Raft node, as students do in the lab::

    from raftlab.labtests import run_election_tests
    for run in run_election_tests(seed=1):
        print(run.header); print(run.summary)

The log (3B) and persistence (3C) tests live in ``raftlab.agreement_tests`` and
``raftlab.persistence_tests``; ``raftlab.grading`` runs them all over many seeds.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .cluster import Cluster
from .errors import CheckFailed, add_note

__all__ = ["LabRun", "LabTest", "lab_test", "initial_election", "re_election", "many_elections",
           "ELECTION_TESTS", "run_election_tests", "RAFT_ELECTION_TIMEOUT"]

#: ms; "The tester generously allows solutions to complete elections in one second"
RAFT_ELECTION_TIMEOUT = 1000


@dataclass
class LabRun:
    """What one ported test did: its header, config.go's "Passed" line, and any warnings."""

    name: str
    header: str
    cluster: Cluster
    summary: str = ""
    warnings: list[str] = field(default_factory=list)


#: ``make(n, seed, reliable, **cluster_kwargs)``: builds the cluster a test runs on.
ClusterFactory = Callable[..., Cluster]


class LabTest:
    """One ported test: ``name`` (Go's, e.g. ``TestReElection3A``), ``header`` (its
    ``begin`` line), ``n`` servers, the network it runs on by default (``reliable``), and its
    steps, a function of the cluster and the ``LabRun`` being filled in.

    ``test(seed, reliable=..., **cluster_kwargs)`` runs it on a fresh ``Cluster``;
    ``test.run_with(make, seed, reliable)`` on a cluster from ``make`` (the grader's)."""

    def __init__(self, name: str, header: str, n: int, steps: Callable[[Cluster, LabRun], None],
                 reliable: bool = True, stricter: bool = False) -> None:
        self.name = name
        self.header = header
        self.n = n
        self.steps = steps
        self.reliable = reliable
        #: True for raftlab's own tests, stricter than the Go lab's
        self.stricter = stricter
        functools.update_wrapper(self, steps)

    def __repr__(self) -> str:
        return f"<LabTest {self.name}: {self.header!r}>"

    def __call__(self, seed: int = 0, reliable: Optional[bool] = None,
                 **cluster_kwargs: Any) -> LabRun:
        return self.run_with(Cluster, seed, reliable, **cluster_kwargs)

    def run_with(self, make: ClusterFactory, seed: int = 0, reliable: Optional[bool] = None,
                 **cluster_kwargs: Any) -> LabRun:
        """Run the steps on ``make(n, seed=seed, reliable=reliable, **cluster_kwargs)``.
        A failed check also says how to rerun just this test."""
        if reliable is None:
            reliable = self.reliable
        try:
            c = make(self.n, seed=seed, reliable=reliable, **cluster_kwargs)
            run = LabRun(self.name, c.begin(self.header), c)
            self.steps(c, run)
            run.summary = c.end()
            return run
        except CheckFailed as exc:
            extra = "".join(f", {k}={v.__qualname__ if k == 'node_class' else repr(v)}"
                            for k, v in cluster_kwargs.items())
            add_note(exc, f"raftlab: rerun this test alone with {self.__module__}."
                          f"{self.__name__}({seed}, reliable={reliable}{extra})")
            raise


def lab_test(name: str, header: str, n: int, *, reliable: bool = True,
             stricter: bool = False) -> Callable[[Callable[[Cluster, LabRun], None]], LabTest]:
    """Decorator: the function ``steps(c, run)`` becomes the ``LabTest`` ``name``."""
    def wrap(steps: Callable[[Cluster, LabRun], None]) -> LabTest:
        return LabTest(name, header, n, steps, reliable=reliable, stricter=stricter)
    return wrap


@lab_test("TestInitialElection3A", "Test (3A): initial election", 3)
def initial_election(c: Cluster, run: LabRun) -> None:
    """TestInitialElection3A: 3 servers elect a leader and keep it when nothing fails."""
    c.check_one_leader()  # is a leader elected?
    c.run_for(50)          # avoid racing with followers learning of the election
    term1 = c.check_terms()
    if term1 < 1:
        raise c.fail(f"term is {term1}, but should be at least 1")
    c.run_for(2 * RAFT_ELECTION_TIMEOUT)  # does the leader+term stay the same without failures?
    term2 = c.check_terms()
    if term1 != term2:
        run.warnings.append("warning: term changed even though there were no failures")
    c.check_one_leader()  # there should still be a leader


@lab_test("TestReElection3A", "Test (3A): election after network failure", 3)
def re_election(c: Cluster, run: LabRun) -> None:
    """TestReElection3A: a new leader after the leader is cut off; none without a majority."""
    leader1 = c.check_one_leader()
    c.disconnect(leader1)   # if the leader disconnects, a new one should be elected
    c.check_one_leader()
    c.connect(leader1)      # the old leader rejoining should not disturb the new leader
    leader2 = c.check_one_leader()
    c.disconnect(leader2)   # no quorum: no new leader should be elected
    c.disconnect((leader2 + 1) % 3)
    c.run_for(2 * RAFT_ELECTION_TIMEOUT)
    c.check_no_leader()     # the single connected server must not think it is leader
    c.connect((leader2 + 1) % 3)  # with a quorum, a leader should arise
    c.check_one_leader()
    c.connect(leader2)      # re-joining the last node should not prevent leaders from existing
    c.check_one_leader()


@lab_test("TestManyElections3A", "Test (3A): multiple elections", 7)
def many_elections(c: Cluster, run: LabRun) -> None:
    """TestManyElections3A: 7 servers; 9 rounds of cutting 3 random servers (maybe repeats)."""
    rng = c.sim.rng("labtest")
    c.check_one_leader()
    for _ in range(1, 10):
        i1, i2, i3 = rng.randrange(7), rng.randrange(7), rng.randrange(7)
        c.disconnect(i1)
        c.disconnect(i2)
        c.disconnect(i3)
        # either the current leader should still be alive, or the remaining four should elect
        c.check_one_leader()
        c.connect(i1)
        c.connect(i2)
        c.connect(i3)
    c.check_one_leader()


ELECTION_TESTS: dict[str, LabTest] = {
    "TestInitialElection3A": initial_election,
    "TestReElection3A": re_election,
    "TestManyElections3A": many_elections,
}


def run_election_tests(seed: int = 0, reliable: bool = True, **cluster_kwargs: Any) -> list[LabRun]:
    """Run the three election tests in order; ``CheckFailed`` stops at the first failure."""
    return [test(seed, reliable, **cluster_kwargs) for test in ELECTION_TESTS.values()]
