"""The 6.5840 (2024) persistence tests (part 3C), ported step for step to virtual time.

Each test is a ``LabTest`` (see ``raftlab.labtests``): call it with a seed and it builds its
cluster, runs the Go test's steps and returns a ``LabRun``; a failed check raises
``CheckFailed`` with config.go's message. Each test runs on the network Go gives it
(``reliable=`` may still be passed). Pass ``node_class=`` to test your own node::

    from raftlab.persistence_tests import PERSISTENCE_TESTS
    for test in PERSISTENCE_TESTS.values():
        run = test(seed=1)               # test(seed=1, node_class=MyRaft)
        print(run.header); print(run.summary)

How the port differs from Go, everywhere (besides what ``raftlab.agreement_tests`` lists:
virtual time, the seeded stream ``labtest`` for ``rand``, messages without a trailing
``\\n``):

* config.go's ``start1(i)`` followed by ``connect(i)`` is ``c.restart(i)``, which restarts
  and connects at once. Where Go restarts several servers before connecting them (TestPersist1,
  TestPersist2) the calls all happen at one virtual instant, so nothing can tell the orders
  apart; ``crash1`` is ``c.crash``.
* Goroutines are ``Goroutine`` objects: a generator that yields how long it sleeps, resumed by
  the simulator (``c.sim.call_later``) in virtual time, interleaved deterministically with the
  nodes' messages and timers. ``wait_all`` is ``sync.WaitGroup.Wait``. A ``t.Fatalf`` in a
  goroutine raises ``CheckFailed`` at that virtual instant, out of whatever call is running
  time (in Go the test goes on until the main goroutine ends, then reports the failure).
"""

from __future__ import annotations

from typing import Any, Generator, Iterable, Optional

from .agreement_tests import is_int, rand_int
from .cluster import Cluster
from .labtests import RAFT_ELECTION_TIMEOUT as RET
from .labtests import LabRun, LabTest, lab_test

__all__ = ["persist1", "persist2", "persist3", "figure8", "unreliable_agree",
           "figure8_unreliable", "reliable_churn", "unreliable_churn", "PERSISTENCE_TESTS",
           "Goroutine", "wait_all", "one_steps"]

#: A goroutine's body: yields the ms it sleeps each time, returns its result.
Steps = Generator[float, None, Any]


class Goroutine:
    """A Go goroutine in virtual time: ``steps`` is a generator that yields how many ms it
    sleeps (``time.Sleep``) and returns its result.

    It runs at once up to its first sleep, then resumes in a simulator callback each time a
    sleep ends, so it interleaves with the nodes in virtual time exactly as the seed
    determines. ``done`` and ``result`` (the generator's return value) say how it ended;
    ``wake`` is the time it sleeps until. An exception it raises (``c.fail(...)``: Go's
    ``t.Fatalf``) propagates out of the call that is running virtual time at that moment;
    the routine is then done, with that exception as ``error``."""

    __slots__ = ("_c", "_steps", "done", "result", "error", "wake")

    def __init__(self, c: Cluster, steps: Steps) -> None:
        self._c = c
        self._steps = steps
        self.done = False
        self.result: Any = None
        self.error: Optional[BaseException] = None
        self.wake: Optional[float] = None
        self._resume()

    def _resume(self) -> None:
        try:
            ms = next(self._steps)
        except StopIteration as end:
            self.done, self.result, self.wake = True, end.value, None
            return
        except BaseException as exc:
            self.done, self.error, self.wake = True, exc, None
            raise
        self.wake = self._c.now + ms
        self._c.sim.call_later(ms, self._resume)


def wait_all(c: Cluster, routines: Iterable[Goroutine]) -> None:
    """``sync.WaitGroup.Wait``: run virtual time until every routine has returned; the clock
    stops at the instant the last one returns. Bounded, since each routine is."""
    routines = list(routines)
    while True:
        wakes = [r.wake for r in routines if not r.done]
        if not wakes:
            return
        c.run_until(max(wakes))  # type: ignore[type-var]  # a routine not done has a wake


def one_steps(c: Cluster, command: Any, expected_servers: int, retry: bool = True) -> Steps:
    """config.go's ``one(cmd, expectedServers, retry)`` as a goroutine body (for ``Goroutine``):
    the same round-robin ``Start``, 20 ms polls for 2 s, 50 ms pauses, 10 s limit and failure
    message as ``Cluster.one``, sleeping by yielding instead of running time. Returns the
    index."""
    t0 = c.now
    starts = 0
    while c.now - t0 < 10_000:
        index = -1
        for _ in range(c.n):
            starts = (starts + 1) % c.n
            if c.is_up(starts):
                index1, _, ok = c.start(starts, command)
                if ok:
                    index = index1
                    break
        if index != -1:
            t1 = c.now
            while c.now - t1 < 2_000:
                nd, cmd1 = c.n_committed(index)
                if nd > 0 and nd >= expected_servers and cmd1 == command:
                    return index
                yield 20
            if not retry:
                raise c.fail(f"one({command!r}) failed to reach agreement")
        else:
            yield 50
    raise c.fail(f"one({command!r}) failed to reach agreement")


@lab_test("TestPersist13C", "Test (3C): basic persistence", 3)
def persist1(c: Cluster, run: LabRun) -> None:
    """TestPersist13C: committed entries survive restarts of every server, of the leader, and
    of a server that missed entries while cut off."""
    n = c.n
    c.one(11, n, retry=True)
    for i in range(n):                # crash and re-start all
        c.restart(i)
    for i in range(n):
        c.disconnect(i)
        c.connect(i)
    c.one(12, n, retry=True)
    leader1 = c.check_one_leader()
    c.disconnect(leader1)
    c.restart(leader1)
    c.one(13, n, retry=True)
    leader2 = c.check_one_leader()
    c.disconnect(leader2)
    c.one(14, n - 1, retry=True)
    c.restart(leader2)
    c.wait(4, n, -1)                  # wait for leader2 to join before killing i3
    i3 = (c.check_one_leader() + 1) % n
    c.disconnect(i3)
    c.one(15, n - 1, retry=True)
    c.restart(i3)
    c.one(16, n, retry=True)


@lab_test("TestPersist23C", "Test (3C): more persistence", 5)
def persist2(c: Cluster, run: LabRun) -> None:
    """TestPersist23C: 5 servers, 5 rounds of cutting and restarting most of them; what a
    majority committed must survive."""
    n = c.n
    index = 1
    for _ in range(5):
        c.one(10 + index, n, retry=True)
        index += 1
        leader1 = c.check_one_leader()
        c.disconnect((leader1 + 1) % n)
        c.disconnect((leader1 + 2) % n)
        c.one(10 + index, n - 2, retry=True)
        index += 1
        c.disconnect((leader1 + 0) % n)
        c.disconnect((leader1 + 3) % n)
        c.disconnect((leader1 + 4) % n)
        c.restart((leader1 + 1) % n)  # Go: start1 both, then connect both
        c.restart((leader1 + 2) % n)
        c.run_for(RET)
        c.restart((leader1 + 3) % n)
        c.one(10 + index, n - 2, retry=True)
        index += 1
        c.connect((leader1 + 4) % n)
        c.connect((leader1 + 0) % n)
    c.one(1000, n, retry=True)


@lab_test("TestPersist33C",
          "Test (3C): partitioned leader and one follower crash, leader restarts", 3)
def persist3(c: Cluster, run: LabRun) -> None:
    """TestPersist33C: the leader and a follower crash after committing without the third
    server; the restarted leader must still have the entry."""
    n = c.n
    c.one(101, 3, retry=True)
    leader = c.check_one_leader()
    c.disconnect((leader + 2) % n)
    c.one(102, 2, retry=True)
    c.crash((leader + 0) % n)
    c.crash((leader + 1) % n)
    c.connect((leader + 2) % n)
    c.restart((leader + 0) % n)
    c.one(103, 2, retry=True)
    c.restart((leader + 1) % n)
    c.one(104, n, retry=True)


def _figure8_sleep(c: Cluster) -> None:
    """Figure 8's pause: 10% of the time 0-499 ms (half of RET), else 0-12 ms."""
    rng = c.sim.rng("labtest")
    if rng.randrange(1000) < 100:
        c.run_for(rng.randrange(RET // 2))
    else:
        c.run_for(rng.randrange(13))


@lab_test("TestFigure83C", "Test (3C): Figure 8", 5)
def figure8(c: Cluster, run: LabRun) -> None:
    """TestFigure83C: 1000 rounds of starting a command everywhere and crashing whoever
    accepted it (restarting random servers when fewer than 3 are up): Figure 8's scenarios,
    where an entry of an old term must not be committed by counting replicas."""
    n = c.n
    c.one(rand_int(c), 1, retry=True)
    nup = n
    rng = c.sim.rng("labtest")
    for _ in range(1000):
        leader = -1
        for i in range(n):
            if c.is_alive(i):
                _, _, ok = c.start(i, rand_int(c))
                if ok:
                    leader = i
        _figure8_sleep(c)
        if leader != -1:
            c.crash(leader)
            nup -= 1
        if nup < 3:
            s = rng.randrange(n)
            if not c.is_alive(s):
                c.restart(s)
                nup += 1
    for i in range(n):
        if not c.is_alive(i):
            c.restart(i)
    c.one(rand_int(c), n, retry=True)


@lab_test("TestUnreliableAgree3C", "Test (3C): unreliable agreement", 5, reliable=False)
def unreliable_agree(c: Cluster, run: LabRun) -> None:
    """TestUnreliableAgree3C: 49 rounds of four concurrent ``one(cmd, 1)`` and one more, on an
    unreliable network; then everything must reach all five servers.

    Port: Go runs the four ``one`` calls of each round as goroutines beside the test's own
    ``one``. Here each is a ``Goroutine`` running ``one_steps`` (the same algorithm as
    ``c.one``), started at the instant the round begins, before the test's own ``one``; they
    poll and retry on their own schedules while the test's ``one`` runs virtual time. The end
    waits for all of them (``wait_all``) after making the network reliable, as Go does."""
    routines = []
    for iters in range(1, 50):
        for j in range(4):
            routines.append(Goroutine(c, one_steps(c, 100 * iters + j, 1, retry=True)))
        c.one(iters, 1, retry=True)
    c.set_reliable(True)              # Go: cfg.setunreliable(false)
    wait_all(c, routines)
    c.one(100, c.n, retry=True)


@lab_test("TestFigure8Unreliable3C", "Test (3C): Figure 8 (unreliable)", 5, reliable=False)
def figure8_unreliable(c: Cluster, run: LabRun) -> None:
    """TestFigure8Unreliable3C: Figure 8 on an unreliable network with long reordering from
    round 200: leaders are cut off (never crashed) half the time."""
    n = c.n
    rng = c.sim.rng("labtest")
    c.one(rand_int(c) % 10000, 1, retry=True)
    nup = n
    for iters in range(1000):
        if iters == 200:
            c.set_long_reordering(True)
        leader = -1
        for i in range(n):
            _, _, ok = c.start(i, rand_int(c) % 10000)
            if ok and c.connected[i]:
                leader = i
        _figure8_sleep(c)
        if leader != -1 and rng.randrange(1000) < RET // 2:
            c.disconnect(leader)
            nup -= 1
        if nup < 3:
            s = rng.randrange(n)
            if not c.connected[s]:
                c.connect(s)
                nup += 1
    for i in range(n):
        if not c.connected[i]:
            c.connect(i)
    c.one(rand_int(c) % 10000, n, retry=True)


def _churn_client(c: Cluster, me: int, stop: list[bool]) -> Steps:
    """config.go's churn client ``cfn(me)``: start a random command on every live server and
    note it if it commits, until ``stop[0]``. Returns the values it saw committed.

    Port: an iteration that does not sleep (its index was already committed when first
    checked) yields 0 ms, so what else is due at that instant runs before it tries again, as
    goroutines interleave; a client that spins forever is stopped by the simulator's flood
    bound instead of hanging."""
    values: list[int] = []
    while not stop[0]:
        x = rand_int(c)
        index = -1
        ok = False
        for i in range(c.n):          # try them all, maybe one of them is a leader
            if c.is_alive(i):
                index1, _, ok1 = c.start(i, x)
                if ok1:
                    ok = ok1
                    index = index1
        slept = False
        if ok:
            # maybe leader will commit our value, maybe not; but don't wait forever
            for to in (10, 20, 50, 100, 200):
                nd, cmd = c.n_committed(index)
                if nd > 0:
                    if is_int(cmd):
                        if cmd == x:
                            values.append(x)
                    else:
                        raise c.fail("wrong command type")
                    break
                slept = True
                yield to
        else:
            slept = True
            yield 79 + me * 17
        if not slept:
            yield 0
    return values


def _churn(c: Cluster) -> None:
    """config.go's ``internalChurn``: three clients keep starting commands while servers are
    cut off, reconnected, crashed and restarted at random for 14 s; every value a client saw
    committed must then be committed on all five servers."""
    n = c.n
    rng = c.sim.rng("labtest")
    stop = [False]
    clients = [Goroutine(c, _churn_client(c, me, stop)) for me in range(3)]
    for _ in range(20):
        if rng.randrange(1000) < 200:
            c.disconnect(rng.randrange(n))
        if rng.randrange(1000) < 500:
            i = rng.randrange(n)
            if not c.is_alive(i):
                c.restart(i)
            c.connect(i)
        if rng.randrange(1000) < 200:
            i = rng.randrange(n)
            if c.is_alive(i):
                c.crash(i)
        # Make crash/restart infrequent enough that the Raft implementation can recover to
        # the point of a functioning log while restarting. Make it frequent enough that the
        # test is exercising persistence.
        c.run_for(RET * 7 // 10)
    c.run_for(RET)
    c.set_reliable(True)              # Go: cfg.setunreliable(false)
    for i in range(n):
        if not c.is_alive(i):
            c.restart(i)
        c.connect(i)
    stop[0] = True
    wait_all(c, clients)
    values: list[int] = []
    for client in clients:
        if client.result is None:
            raise c.fail("client failed")
        values.extend(client.result)
    c.run_for(RET)
    last_index = c.one(rand_int(c), n, retry=True)
    really = set()
    for index in range(1, last_index + 1):
        v = c.wait(index, n, -1)
        if not is_int(v):
            raise c.fail("not an int")
        really.add(v)
    for v1 in values:
        if v1 not in really:
            raise c.fail("didn't find a value")


@lab_test("TestReliableChurn3C", "Test (3C): churn", 5)
def reliable_churn(c: Cluster, run: LabRun) -> None:
    """TestReliableChurn3C: ``internalChurn`` on a reliable network (see ``_churn``).

    Port: the three client goroutines are ``Goroutine`` objects (``_churn_client``), started
    before the first round at the same instant; the main loop's choices and the clients'
    commands come from one stream, ``labtest``, in the order the simulator runs them."""
    _churn(c)


@lab_test("TestUnreliableChurn3C", "Test (3C): unreliable churn", 5, reliable=False)
def unreliable_churn(c: Cluster, run: LabRun) -> None:
    """TestUnreliableChurn3C: ``internalChurn`` on an unreliable network (made reliable for
    the final checks, as in Go); ported as ``reliable_churn`` is."""
    _churn(c)


#: The 3C tests, by Go name, in the order of 6.5840's test_test.go.
PERSISTENCE_TESTS: dict[str, LabTest] = {test.name: test for test in (
    persist1, persist2, persist3, figure8, unreliable_agree, figure8_unreliable,
    reliable_churn, unreliable_churn)}
