"""Random fault programs (hypothesis stateful testing): whatever happens, elections stay safe.

Rules are the harness's fault injections; after every rule the trace so far must satisfy
election safety and every live node's term must not have gone down. A failure shrinks to a
short program of Cluster calls that can be pasted into a test."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from raftlab import Cluster
from raftlab.safety import SafetyMonitor

N = 5
node_ids = st.integers(min_value=0, max_value=N - 1)


class FaultProgram(RuleBasedStateMachine):
    @initialize(seed=st.integers(min_value=0, max_value=2**16), reliable=st.booleans())
    def make(self, seed: int, reliable: bool) -> None:
        self.c = Cluster(N, seed=seed, reliable=reliable)
        self.safety = SafetyMonitor(self.c.trace)  # reads each event once, not once per rule
        self.terms = [0] * N

    @rule(ms=st.sampled_from([10, 100, 450, 1000, 3000]))
    def run(self, ms: int) -> None:
        self.c.run_for(ms)

    @rule(i=node_ids)
    def crash(self, i: int) -> None:
        if self.c.is_alive(i):
            self.c.crash(i)

    @rule(i=node_ids)
    def restart(self, i: int) -> None:
        self.c.restart(i)

    @rule(i=node_ids)
    def disconnect(self, i: int) -> None:
        self.c.disconnect(i)

    @rule(i=node_ids)
    def connect(self, i: int) -> None:
        self.c.connect(i)

    @rule(cut=st.sets(node_ids, min_size=1, max_size=N - 1))
    def partition(self, cut: set) -> None:
        self.c.partition(sorted(cut), [i for i in range(N) if i not in cut])

    @rule()
    def heal(self) -> None:
        self.c.heal()

    @rule(flag=st.booleans())
    def reliable(self, flag: bool) -> None:
        self.c.set_reliable(flag)

    @rule(flag=st.booleans())
    def reordering(self, flag: bool) -> None:
        self.c.set_long_reordering(flag)

    @rule(command=st.integers(0, 1000))
    def start(self, command: int) -> None:
        leader = self.c.leader()
        if leader is not None:
            self.c.start(leader, command)

    @invariant()
    def elections_are_safe(self) -> None:
        assert self.safety.update() == []

    @invariant()
    def terms_never_go_down(self) -> None:
        for i in range(N):
            if self.c.is_alive(i):
                term, _ = self.c.get_state(i)
                assert term >= self.terms[i]
                self.terms[i] = term

    @invariant()
    def committed_entries_agree(self) -> None:
        self.c.n_committed(1)  # raises if any two nodes applied different commands somewhere

    def teardown(self) -> None:
        if hasattr(self, "c"):
            self.c.heal()
            for i in range(N):
                if not self.c.is_alive(i):
                    self.c.restart(i)
            self.c.check_one_leader()  # once every fault is lifted, a leader emerges


FaultProgram.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow])
TestFaultProgram = FaultProgram.TestCase
