"""The 6.5840 (2024) log-agreement tests (part 3B), ported step for step to virtual time.

Each test is a ``LabTest`` (see ``raftlab.labtests``): call it with a seed and it builds its
cluster, runs the Go test's steps and returns a ``LabRun``; a failed check raises
``CheckFailed`` with config.go's message. Every 3B test runs on a reliable network, as in Go
(``reliable=`` may still be passed). Pass ``node_class=`` to test your own node::

    from raftlab.agreement_tests import AGREEMENT_TESTS
    for test in AGREEMENT_TESTS.values():
        run = test(seed=1)               # test(seed=1, node_class=MyRaft)
        print(run.header); print(run.summary)

How the port differs from Go, everywhere:

* Time is virtual: every ``time.Sleep`` is ``c.run_for`` of the same number of milliseconds
  (``RET`` is the tester's one-second ``RaftElectionTimeout``), and the checks run virtual
  time exactly where config.go's helpers sleep.
* ``rand.Int()`` / ``rand.Int31()`` draw from the test's own seeded stream
  ``c.sim.rng("labtest")`` (``[0, 2**63)`` / ``[0, 2**31)``), so a seed fixes the commands too.
* Messages are config.go's text, without the trailing ``\\n`` a few ``Fatalf`` calls carry
  (Go's test log prints both alike); values are shown with Python's ``repr``, as ``one`` does.
* Goroutines become calls at one virtual instant: TestConcurrentStarts3B's five ``Start``
  goroutines all call ``Start`` before any virtual time passes (see its docstring).
"""

from __future__ import annotations

import base64
from typing import Any

from .cluster import Cluster
from .labtests import RAFT_ELECTION_TIMEOUT as RET
from .labtests import LabRun, LabTest, lab_test

__all__ = ["basic_agree", "rpc_bytes", "follower_failure", "leader_failure", "fail_agree",
           "fail_no_agree", "concurrent_starts", "rejoin", "backup", "count",
           "AGREEMENT_TESTS", "randstring", "rand_int", "is_int"]


def rand_int(c: Cluster) -> int:
    """Go's ``rand.Int()``: a non-negative 63-bit int from the test's stream ``labtest``."""
    return c.sim.rng("labtest").getrandbits(63)


def randstring(c: Cluster, n: int) -> str:
    """config.go's ``randstring(n)``: ``2n`` random bytes, base64-URL encoded, cut to ``n``
    characters; the bytes come from the test's stream ``labtest``."""
    raw = c.sim.rng("labtest").getrandbits(16 * n).to_bytes(2 * n, "big")
    return base64.urlsafe_b64encode(raw).decode("ascii")[:n]


def is_int(value: Any) -> bool:
    """Go's ``v.(int)`` type assertion: a Python int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


@lab_test("TestBasicAgree3B", "Test (3B): basic agreement", 3)
def basic_agree(c: Cluster, run: LabRun) -> None:
    """TestBasicAgree3B: three commands, each committed by all 3 servers at indices 1, 2, 3."""
    for index in range(1, 4):
        nd, _ = c.n_committed(index)
        if nd > 0:
            raise c.fail("some have committed before Start()")
        xindex = c.one(index * 100, c.n, retry=False)
        if xindex != index:
            raise c.fail(f"got index {xindex} but expected {index}")


@lab_test("TestRPCBytes3B", "Test (3B): RPC byte count", 3)
def rpc_bytes(c: Cluster, run: LabRun) -> None:
    """TestRPCBytes3B: each 5000-byte command is sent to each peer just once (by counting the
    bytes of every RPC: at most 50000 more than 3 x the commands' size)."""
    c.one(99, c.n, retry=False)
    bytes0 = c.bytes_total()
    sent = 0
    for index in range(2, 12):
        cmd = randstring(c, 5000)
        xindex = c.one(cmd, c.n, retry=False)
        if xindex != index:
            raise c.fail(f"got index {xindex} but expected {index}")
        sent += len(cmd)
    got = c.bytes_total() - bytes0
    expected = c.n * sent
    if got > expected + 50000:
        raise c.fail(f"too many RPC bytes; got {got}, expected {expected}")


@lab_test("TestFollowerFailure3B", "Test (3B): test progressive failure of followers", 3)
def follower_failure(c: Cluster, run: LabRun) -> None:
    """TestFollowerFailure3B: agreement with one follower cut off; none with both cut off."""
    c.one(101, c.n, retry=False)
    leader1 = c.check_one_leader()   # disconnect one follower from the network
    c.disconnect((leader1 + 1) % c.n)
    # the leader and remaining follower should be able to agree despite the disconnected one
    c.one(102, c.n - 1, retry=False)
    c.run_for(RET)
    c.one(103, c.n - 1, retry=False)
    leader2 = c.check_one_leader()   # disconnect the remaining follower
    c.disconnect((leader2 + 1) % c.n)
    c.disconnect((leader2 + 2) % c.n)
    index, _, ok = c.start(leader2, 104)   # submit a command
    if not ok:
        raise c.fail("leader rejected Start()")
    if index != 4:
        raise c.fail(f"expected index 4, got {index}")
    c.run_for(2 * RET)
    n, _ = c.n_committed(index)      # check that command 104 did not commit
    if n > 0:
        raise c.fail(f"{n} committed but no majority")


@lab_test("TestLeaderFailure3B", "Test (3B): test failure of leaders", 3)
def leader_failure(c: Cluster, run: LabRun) -> None:
    """TestLeaderFailure3B: the followers elect a new leader and agree; with the second leader
    cut off too, a command started on every server must not commit."""
    c.one(101, c.n, retry=False)
    leader1 = c.check_one_leader()   # disconnect the first leader
    c.disconnect(leader1)
    # the remaining followers should elect a new leader
    c.one(102, c.n - 1, retry=False)
    c.run_for(RET)
    c.one(103, c.n - 1, retry=False)
    leader2 = c.check_one_leader()   # disconnect the new leader
    c.disconnect(leader2)
    for i in range(c.n):             # submit a command to each server
        c.start(i, 104)
    c.run_for(2 * RET)
    n, _ = c.n_committed(4)          # check that command 104 did not commit
    if n > 0:
        raise c.fail(f"{n} committed but no majority")


@lab_test("TestFailAgree3B", "Test (3B): agreement after follower reconnects", 3)
def fail_agree(c: Cluster, run: LabRun) -> None:
    """TestFailAgree3B: two servers agree while a follower is cut off; it catches up when it
    reconnects."""
    c.one(101, c.n, retry=False)
    leader = c.check_one_leader()    # disconnect one follower from the network
    c.disconnect((leader + 1) % c.n)
    # the leader and remaining follower should be able to agree despite the disconnected one
    c.one(102, c.n - 1, retry=False)
    c.one(103, c.n - 1, retry=False)
    c.run_for(RET)
    c.one(104, c.n - 1, retry=False)
    c.one(105, c.n - 1, retry=False)
    c.connect((leader + 1) % c.n)    # re-connect
    # the full set of servers should preserve previous agreements, and be able to agree on new
    # commands
    c.one(106, c.n, retry=True)
    c.run_for(RET)
    c.one(107, c.n, retry=True)


@lab_test("TestFailNoAgree3B", "Test (3B): no agreement if too many followers disconnect", 5)
def fail_no_agree(c: Cluster, run: LabRun) -> None:
    """TestFailNoAgree3B: 5 servers; with 3 followers cut off nothing commits; after they
    return, agreement resumes (index 2 may have been forgotten)."""
    c.one(10, c.n, retry=False)
    leader = c.check_one_leader()    # 3 of 5 followers disconnect
    c.disconnect((leader + 1) % c.n)
    c.disconnect((leader + 2) % c.n)
    c.disconnect((leader + 3) % c.n)
    index, _, ok = c.start(leader, 20)
    if not ok:
        raise c.fail("leader rejected Start()")
    if index != 2:
        raise c.fail(f"expected index 2, got {index}")
    c.run_for(2 * RET)
    n, _ = c.n_committed(index)
    if n > 0:
        raise c.fail(f"{n} committed but no majority")
    c.connect((leader + 1) % c.n)    # repair
    c.connect((leader + 2) % c.n)
    c.connect((leader + 3) % c.n)
    # the disconnected majority may have chosen a leader from among their own ranks,
    # forgetting index 2
    leader2 = c.check_one_leader()
    index2, _, ok2 = c.start(leader2, 30)
    if not ok2:
        raise c.fail("leader2 rejected Start()")
    if index2 < 2 or index2 > 3:
        raise c.fail(f"unexpected index {index2}")
    c.one(1000, c.n, retry=True)


@lab_test("TestConcurrentStarts3B", "Test (3B): concurrent Start()s", 3)
def concurrent_starts(c: Cluster, run: LabRun) -> None:
    """TestConcurrentStarts3B: five ``Start`` calls at one instant all commit.

    Port: Go starts five goroutines that call ``Start(100+i)`` on the leader and waits for
    them. Here the five calls are made one after another at the same virtual instant (no
    message moves between them), which is the most concurrent a deterministic run can be; the
    indices they return are then waited for in the order the calls were made, as Go's buffered
    channel would hand them over if the goroutines ran in that order."""
    success = False
    for attempt in range(5):
        if attempt > 0:
            c.run_for(3000)          # give solution some time to settle
        leader = c.check_one_leader()
        _, term, ok = c.start(leader, 1)
        if not ok:
            continue                 # leader moved on really quickly
        indices = []
        for ii in range(5):          # Go: five goroutines, each Start(100 + ii)
            i, term1, ok = c.start(leader, 100 + ii)
            if term1 == term and ok:
                indices.append(i)
        if any(c.get_state(j)[0] != term for j in range(c.n)):
            continue                 # term changed -- can't expect low RPC counts
        failed = False
        cmds = []
        for index in indices:
            cmd = c.wait(index, c.n, term)
            if not is_int(cmd):
                raise c.fail(f"value {cmd!r} is not an int")
            if cmd == -1:            # peers have moved on to later terms, so we won't commit
                failed = True        # all the commands
                break
            cmds.append(cmd)
        if failed:
            continue
        for x in range(100, 105):
            if x not in cmds:
                raise c.fail(f"cmd {x} missing in {cmds}")
        success = True
        break
    if not success:
        raise c.fail("term changed too often")


@lab_test("TestRejoin3B", "Test (3B): rejoin of partitioned leader", 3)
def rejoin(c: Cluster, run: LabRun) -> None:
    """TestRejoin3B: a cut-off leader appends entries that never commit; when it rejoins, the
    new leader's log wins."""
    c.one(101, c.n, retry=True)
    leader1 = c.check_one_leader()   # leader network failure
    c.disconnect(leader1)
    c.start(leader1, 102)            # make old leader try to agree on some entries
    c.start(leader1, 103)
    c.start(leader1, 104)
    c.one(103, 2, retry=True)        # new leader commits, also for index=2
    leader2 = c.check_one_leader()   # new leader network failure
    c.disconnect(leader2)
    c.connect(leader1)               # old leader connected again
    c.one(104, 2, retry=True)
    c.connect(leader2)               # all together now
    c.one(105, c.n, retry=True)


@lab_test("TestBackup3B", "Test (3B): leader backs up quickly over incorrect follower logs", 5)
def backup(c: Cluster, run: LabRun) -> None:
    """TestBackup3B: 5 servers; two partitions build long conflicting logs (50 uncommitted
    entries each) and the leader must back up over them quickly."""
    n = c.n
    c.one(rand_int(c), n, retry=True)
    leader1 = c.check_one_leader()   # put leader and one follower in a partition
    c.disconnect((leader1 + 2) % n)
    c.disconnect((leader1 + 3) % n)
    c.disconnect((leader1 + 4) % n)
    for _ in range(50):              # submit lots of commands that won't commit
        c.start(leader1, rand_int(c))
    c.run_for(RET / 2)
    c.disconnect((leader1 + 0) % n)
    c.disconnect((leader1 + 1) % n)
    c.connect((leader1 + 2) % n)     # allow other partition to recover
    c.connect((leader1 + 3) % n)
    c.connect((leader1 + 4) % n)
    for _ in range(50):              # lots of successful commands to new group
        c.one(rand_int(c), 3, retry=True)
    leader2 = c.check_one_leader()   # now another partitioned leader and one follower
    other = (leader1 + 2) % n
    if leader2 == other:
        other = (leader2 + 1) % n
    c.disconnect(other)
    for _ in range(50):              # lots more commands that won't commit
        c.start(leader2, rand_int(c))
    c.run_for(RET / 2)
    for i in range(n):               # bring original leader back to life
        c.disconnect(i)
    c.connect((leader1 + 0) % n)
    c.connect((leader1 + 1) % n)
    c.connect(other)
    for _ in range(50):              # lots of successful commands to new group
        c.one(rand_int(c), 3, retry=True)
    for i in range(n):               # now everyone
        c.connect(i)
    c.one(rand_int(c), n, retry=True)


@lab_test("TestCount3B", "Test (3B): RPC counts aren't too high", 3)
def count(c: Cluster, run: LabRun) -> None:
    """TestCount3B: at most 30 RPCs to elect, 42 for 11 commands, 60 per idle second (counted
    as requests delivered to the servers, config.go's ``rpcCount``)."""
    n = c.n
    rng = c.sim.rng("labtest")

    def rpcs() -> int:
        return sum(c.rpc_count(j) for j in range(n))

    leader = c.check_one_leader()
    total1 = rpcs()
    if total1 > 30 or total1 < 1:
        raise c.fail(f"too many or few RPCs ({total1}) to elect initial leader")
    total2 = 0
    success = False
    for attempt in range(5):
        if attempt > 0:
            c.run_for(3000)          # give solution some time to settle
        leader = c.check_one_leader()
        total1 = rpcs()
        iters = 10
        starti, term, ok = c.start(leader, 1)
        if not ok:
            continue                 # leader moved on really quickly
        cmds: list[int] = []
        moved_on = False
        for i in range(1, iters + 2):
            x = rng.getrandbits(31)  # Go: rand.Int31()
            cmds.append(x)
            index1, term1, ok = c.start(leader, x)
            if term1 != term or not ok:  # term changed while starting / no longer the leader
                moved_on = True
                break
            if starti + i != index1:
                raise c.fail("Start() failed")
        if moved_on:
            continue
        for i in range(1, iters + 1):
            cmd = c.wait(starti + i, n, term)
            if not is_int(cmd) or cmd != cmds[i - 1]:
                if cmd == -1:        # term changed -- try again
                    moved_on = True
                    break
                raise c.fail(f"wrong value {cmd!r} committed for index {starti + i}; "
                             f"expected {cmds}")
        if moved_on:
            continue
        failed = False
        total2 = 0
        for j in range(n):
            if c.get_state(j)[0] != term:
                failed = True        # term changed -- can't expect low RPC counts
            total2 += c.rpc_count(j)
        if failed:
            continue
        if total2 - total1 > (iters + 1 + 3) * 3:
            raise c.fail(f"too many RPCs ({total2 - total1}) for {iters} entries")
        success = True
        break
    if not success:
        raise c.fail("term changed too often")
    c.run_for(RET)
    total3 = rpcs()
    if total3 - total2 > 3 * 20:
        raise c.fail(f"too many RPCs ({total3 - total2}) for 1 second of idleness")


#: The 3B tests, by Go name, in the order of 6.5840's test_test.go.
AGREEMENT_TESTS: dict[str, LabTest] = {test.name: test for test in (
    basic_agree, rpc_bytes, follower_failure, leader_failure, fail_agree, fail_no_agree,
    concurrent_starts, rejoin, backup, count)}
