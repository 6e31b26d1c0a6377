"""config.go's checks, in virtual time: ``check_one_leader``, ``check_terms``,
``check_no_leader``, ``n_committed``, ``wait``, ``one`` and the ``begin``/``end`` test window.

They are methods of ``Cluster`` (this mixin) and use only its public Raft interface
(``get_state``, ``start``) and what the harness recorded. Each runs virtual time exactly where
the Go helper sleeps, so a Go test ports line for line, and each failure raises
``CheckFailed`` with config.go's message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from .errors import CheckFailed, add_note
from .validation import check_int

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    import random

    from .config import RaftConfig

__all__ = ["ConfigChecks"]


class ConfigChecks:
    """config.go's checks; mixed into ``Cluster``, which provides what is declared here."""

    n: int
    seed: int
    config: RaftConfig
    logs: list[dict[int, Any]]
    apply_errors: list[Optional[str]]
    max_index: int
    _harness_rng: random.Random
    _begin: Optional[tuple[str, float, int, int, int]]

    if TYPE_CHECKING:  # provided by Cluster (declared for type checkers only)
        now: float
        def run_for(self, ms: float) -> None: ...                          # noqa: E704
        def get_state(self, i: int) -> tuple[int, bool]: ...               # noqa: E704
        def start(self, i: int, command: Any) -> tuple[int, int, bool]: ...  # noqa: E704
        def is_up(self, i: int) -> bool: ...                               # noqa: E704
        def is_alive(self, i: int) -> bool: ...                            # noqa: E704
        def rpc_total(self) -> int: ...                                    # noqa: E704
        def bytes_total(self) -> int: ...                                  # noqa: E704
        def rebuild_call(self) -> str: ...                                 # noqa: E704

    def fail(self, message: str) -> CheckFailed:
        """A ``CheckFailed`` (to raise) with ``message``, this cluster, and a note that says
        when it failed and how to rebuild the run: config.go's ``t.Fatalf``."""
        exc = CheckFailed(message, cluster=self)
        add_note(exc, f"raftlab: failed at t={self.now} ms of {self.rebuild_call()}; the same "
                      f"construction and calls rebuild this run exactly")
        return exc

    def check_one_leader(self) -> int:
        """The leader of the highest term among connected nodes, trying 10 times 450-549 ms
        apart; ``CheckFailed`` if a term has two leaders or no leader ever appears."""
        for _ in range(10):
            self.run_for(450 + self._harness_rng.randrange(100))
            leaders: dict[int, list[int]] = {}
            for i in range(self.n):
                if self.is_up(i):
                    term, is_leader = self.get_state(i)
                    if is_leader:
                        leaders.setdefault(term, []).append(i)
            for term, ids in leaders.items():
                if len(ids) > 1:
                    raise self.fail(f"term {term} has {len(ids)} (>1) leaders")
            if leaders:
                return leaders[max(leaders)][0]
        raise self.fail("expected one leader, got none")

    def check_terms(self) -> int:
        """The term every connected node agrees on (-1 if none is connected)."""
        term = -1
        for i in range(self.n):
            if self.is_up(i):
                xterm, _ = self.get_state(i)
                if term == -1:
                    term = xterm
                elif term != xterm:
                    raise self.fail("servers disagree on term")
        return term

    def check_no_leader(self) -> None:
        """No connected node believes it is leader."""
        for i in range(self.n):
            if self.is_up(i) and self.get_state(i)[1]:
                raise self.fail(f"expected no leader among connected servers, "
                                 f"but {i} claims to be leader")

    def n_committed(self, index: int) -> tuple[int, Any]:
        """How many nodes have applied ``index`` (restarts included), and the command."""
        check_int("index", index, 0)
        count, cmd = 0, None
        for i in range(self.n):
            error = self.apply_errors[i]
            if error:
                raise self.fail(error)
            if index in self.logs[i]:
                cmd1 = self.logs[i][index]
                if count > 0 and cmd != cmd1:
                    raise self.fail(f"committed values do not match: index {index}, "
                                     f"{cmd!r}, {cmd1!r}")
                count += 1
                cmd = cmd1
        return count, cmd

    def wait(self, index: int, n: int, start_term: int) -> Any:
        """Wait (up to ~30 s) for ``n`` nodes to commit ``index``; -1 if the term moved on."""
        check_int("index", index, 1)
        check_int("n", n, 1, self.n)
        to = 10
        for _ in range(30):
            nd, _ = self.n_committed(index)
            if nd >= n:
                break
            self.run_for(to)
            if to < 1000:
                to *= 2
            if start_term > -1:
                for i in range(self.n):
                    if self.is_alive(i) and self.get_state(i)[0] > start_term:
                        return -1  # someone has moved on; can no longer guarantee we'll "win"
        nd, cmd = self.n_committed(index)
        if nd < n:
            raise self.fail(f"only {nd} decided for index {index}; wanted {n}")
        return cmd

    def one(self, command: Any, expected_servers: int, retry: bool = True) -> int:
        """Submit ``command`` to the leader and wait until ``expected_servers`` commit it;
        returns its index. Retries for up to 10 s (virtual) like config.go's ``one``."""
        check_int("expected_servers", expected_servers, 1, self.n)
        t0 = self.now
        starts = 0
        while self.now - t0 < 10_000:
            index = -1
            for _ in range(self.n):
                starts = (starts + 1) % self.n
                if self.is_up(starts):
                    index1, _, ok = self.start(starts, command)
                    if ok:
                        index = index1
                        break
            if index != -1:
                t1 = self.now
                while self.now - t1 < 2_000:
                    nd, cmd1 = self.n_committed(index)
                    if nd > 0 and nd >= expected_servers and cmd1 == command:
                        return index
                    self.run_for(20)
                if not retry:
                    raise self.fail(f"one({command!r}) failed to reach agreement")
            else:
                self.run_for(50)
        raise self.fail(f"one({command!r}) failed to reach agreement")

    # ----------------------------------------------------------------- config.go's begin/end
    def begin(self, description: str) -> str:
        """Open a test window (config.go's ``begin``); returns the ``"... "`` header line."""
        self._begin = (description, self.now, self.rpc_total(), self.bytes_total(),
                       self.max_index)
        return f"{description} ..."

    def end(self) -> str:
        """The ``  ... Passed --`` line: virtual seconds, peers, RPCs, bytes, agreements."""
        if self._begin is None:
            raise ValueError("end() without begin()")
        _, t0, rpcs0, bytes0, max0 = self._begin
        return (f"  ... Passed --  {(self.now - t0) / 1000:4.1f}  {self.n} "
                f"{self.rpc_total() - rpcs0:4d} {self.bytes_total() - bytes0:7d} "
                f"{self.max_index - max0:4d}")
