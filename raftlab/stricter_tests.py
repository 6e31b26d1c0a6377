"""raftlab's own election tests, stricter than the 6.5840 lab's (the grader adds them to 3A).

* ``TestIdleHeartbeatRate3A``: an idle leader sends each follower at most about ten
  AppendEntries per second (the lab's text asks for "no more than ten times per second";
  6.5840's TestCount only notices thirty).
* ``TestElectionAfterRestart3A``: leaders are elected again after every server crashes and
  restarts, and after the leader alone restarts; with the grader's monitors this catches a
  node that does not persist its term and vote.

They are ``LabTest`` s like ``raftlab.labtests``' ports: ``idle_heartbeat_rate(seed)``.
"""

from __future__ import annotations

from .cluster import Cluster
from .labtests import RAFT_ELECTION_TIMEOUT, LabRun, LabTest, lab_test

__all__ = ["idle_heartbeat_rate", "election_after_restart", "STRICTER_TESTS",
           "HEARTBEATS_PER_SECOND", "IDLE_WINDOW"]

#: The most heartbeats per second per follower an idle leader may send.
HEARTBEATS_PER_SECOND = 10
#: ms of idleness over which they are counted (a 10 % margin covers the window's alignment).
IDLE_WINDOW = RAFT_ELECTION_TIMEOUT


@lab_test("TestIdleHeartbeatRate3A", "Test (3A+): idle heartbeats at most ten per second", 3,
          stricter=True)
def idle_heartbeat_rate(c: Cluster, run: LabRun) -> None:
    """An idle leader sends each follower at most ~10 AppendEntries per second."""
    leader = c.check_one_leader()
    c.run_for(RAFT_ELECTION_TIMEOUT / 2)  # let the election's own traffic settle
    start = len(c.trace)
    t0 = c.now
    c.run_for(IDLE_WINDOW)
    if c.leader() != leader or c.check_terms() != c.get_state(leader)[0]:
        run.warnings.append("warning: leadership changed during the idle window; "
                            "heartbeats counted anyway")
    sent: dict[int, int] = {}
    for event in c.trace.of("send", start=start):
        if event.src == leader and event.msg == "AppendEntries":
            sent[event.dst] = sent.get(event.dst, 0) + 1
    limit = int(HEARTBEATS_PER_SECOND * 1.1 * IDLE_WINDOW / 1000)
    for follower, count in sorted(sent.items()):
        if count > limit:
            raise c.fail(f"too many heartbeats: leader {leader} sent {count} AppendEntries to "
                         f"follower {follower} in {IDLE_WINDOW / 1000:g} s of idleness "
                         f"(from t={t0} ms); at most {limit} (about "
                         f"{HEARTBEATS_PER_SECOND} per second)")


@lab_test("TestElectionAfterRestart3A", "Test (3A+): elections after crashes and restarts", 3,
          stricter=True)
def election_after_restart(c: Cluster, run: LabRun) -> None:
    """A leader again after all servers restart, and after the leader alone restarts."""
    c.check_one_leader()
    term1 = c.check_terms()
    for i in range(3):  # crash and restart every server, as TestPersist1 does
        c.restart(i)
    c.check_one_leader()
    term2 = c.check_terms()
    if term2 < term1:
        raise c.fail(f"term went down from {term1} to {term2} after every server restarted")
    leader2 = c.check_one_leader()
    c.crash(leader2)      # the others elect a new leader while it is down
    c.check_one_leader()
    c.restart(leader2)    # and the old leader rejoins without disturbing it for long
    c.check_one_leader()


STRICTER_TESTS: dict[str, LabTest] = {
    "TestIdleHeartbeatRate3A": idle_heartbeat_rate,
    "TestElectionAfterRestart3A": election_after_restart,
}
