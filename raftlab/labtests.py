"""The 6.5840 (2024) leader-election tests, ported scenario for scenario to virtual time.

Each function builds a cluster, runs the Go test's steps (``RET`` = the tester's one-second
``RaftElectionTimeout``) and returns a ``LabRun``; a failed check raises ``CheckFailed`` with
config.go's message. Pass ``node_class=`` to test your own Raft node, as students do in the lab::

    from raftlab.labtests import run_election_tests
    for run in run_election_tests(seed=1):
        print(run.header); print(run.summary)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Callable

from .cluster import Cluster
from .errors import CheckFailed, add_note

__all__ = ["LabRun", "initial_election", "re_election", "many_elections", "ELECTION_TESTS",
           "run_election_tests", "RAFT_ELECTION_TIMEOUT"]

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


def _cluster(n: int, seed: int, reliable: bool, kwargs: dict[str, Any]) -> Cluster:
    return Cluster(n, seed=seed, reliable=reliable, **kwargs)


def _lab_test(test: Callable[..., LabRun]) -> Callable[..., LabRun]:
    """A failed check of ``test`` also says how to rerun just that test."""
    @functools.wraps(test)
    def run(seed: int = 0, reliable: bool = True, **cluster_kwargs: Any) -> LabRun:
        try:
            return test(seed, reliable, **cluster_kwargs)
        except CheckFailed as exc:
            extra = "".join(f", {k}={v.__qualname__ if k == 'node_class' else repr(v)}"
                            for k, v in cluster_kwargs.items())
            add_note(exc, f"raftlab: rerun this test alone with raftlab.labtests."
                          f"{test.__name__}({seed}, reliable={reliable}{extra})")
            raise
    return run


@_lab_test
def initial_election(seed: int = 0, reliable: bool = True, **cluster_kwargs: Any) -> LabRun:
    """TestInitialElection3A: 3 servers elect a leader and keep it when nothing fails."""
    c = _cluster(3, seed, reliable, cluster_kwargs)
    run = LabRun("TestInitialElection3A", c.begin("Test (3A): initial election"), c)
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
    run.summary = c.end()
    return run


@_lab_test
def re_election(seed: int = 0, reliable: bool = True, **cluster_kwargs: Any) -> LabRun:
    """TestReElection3A: a new leader after the leader is cut off; none without a majority."""
    c = _cluster(3, seed, reliable, cluster_kwargs)
    run = LabRun("TestReElection3A", c.begin("Test (3A): election after network failure"), c)
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
    run.summary = c.end()
    return run


@_lab_test
def many_elections(seed: int = 0, reliable: bool = True, **cluster_kwargs: Any) -> LabRun:
    """TestManyElections3A: 7 servers; 9 rounds of cutting 3 random servers (maybe repeats)."""
    c = _cluster(7, seed, reliable, cluster_kwargs)
    run = LabRun("TestManyElections3A", c.begin("Test (3A): multiple elections"), c)
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
    run.summary = c.end()
    return run


ELECTION_TESTS: dict[str, Callable[..., LabRun]] = {
    "TestInitialElection3A": initial_election,
    "TestReElection3A": re_election,
    "TestManyElections3A": many_elections,
}


def run_election_tests(seed: int = 0, reliable: bool = True, **cluster_kwargs: Any) -> list[LabRun]:
    """Run the three election tests in order; ``CheckFailed`` stops at the first failure."""
    return [test(seed, reliable, **cluster_kwargs) for test in ELECTION_TESTS.values()]
