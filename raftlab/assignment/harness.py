"""What a check function works with: ``_Lab`` (the student's class and the clusters it
builds), and the helpers the checks share."""

from __future__ import annotations

from typing import Any, Iterable, Optional

from ..cluster import Cluster
from ..config import DEFAULTS, constructor_call
from ..formatting import format_ms, plain_number
from .node_errors import describe_node_error
from .probe import _Probe
from .results import _Fail, _fail


class _Lab:
    """What a check function works with: the student's class, and the clusters it builds."""

    def __init__(self, node_class: Any) -> None:
        self.node_class = node_class
        self.last: Optional[Cluster] = None

    def cluster(self, n: int, seed: int, **kwargs: Any) -> Cluster:
        """A cluster of the student's class (remembered as the one the verdict is about)."""
        self.last = None
        try:
            c = Cluster(n, seed=seed, node_class=self.node_class, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the student's __init__ or boot() failed
            self._failed_to_build(exc, n, seed, kwargs)
        self.last = c
        return c

    def _failed_to_build(self, exc: BaseException, n: int, seed: int,
                         kwargs: dict[str, Any]) -> None:
        message, hint = describe_node_error(exc, None, self.node_class)
        first, _, rest = message.partition("\n")
        args = {k: v for k, v in kwargs.items() if plain_number(v) != plain_number(DEFAULTS[k])}
        call = constructor_call(n, seed, {**args, "node_class": self.node_class})[1]
        raise _Fail(f"{first} (at t=0 ms, as the cluster was built)\nrun: {call}"
                    + (f"\n{rest}" if rest else ""), hint) from None

    def probe(self, n: int = 3, me: int = 0, state: bytes = b"") -> "_Probe":
        """One server of the student's class, outside any cluster, driven input by input."""
        return _Probe(self.node_class, me, n, state)

    def start(self, c: Cluster, i: int, command: Any) -> tuple[int, int, bool]:
        """``c.start(i, command)``; an exception in the node fails the step, saying so."""
        try:
            return c.start(i, command)
        except Exception as exc:  # noqa: BLE001 - any error of the student's node
            message, hint = describe_node_error(exc, c, self.node_class,
                                                f"start({command!r}) on node {i}")
            raise _Fail(message, hint, c) from None


def _who(nodes: Iterable[int]) -> str:
    nodes = sorted(nodes)
    if not nodes:
        return "nobody"
    if len(nodes) == 1:
        return f"node {nodes[0]}"
    return "nodes " + ", ".join(map(str, nodes[:-1])) + f" and {nodes[-1]}"


def _leader_event(e: Any) -> bool:
    return e.kind == "state" and e.role == "leader"


def _wait_leader(lab: _Lab, c: Cluster, within: float = 5000, step: str = "step 4") -> Any:
    event = c.run_until_event(_leader_event, within)
    if event is None:
        raise _fail(f"no leader within {format_ms(within)} ms of {c.rebuild_call()}; this step "
                    f"needs one", f"this step builds on {step}: make their checks pass first.",
                    c)
    return event


def _logs(c: Cluster) -> list[list[tuple[int, Any]]]:
    """Every live node's log after the sentinel, as (term, command) pairs."""
    out = []
    for i in range(c.n):
        log = list(getattr(c.nodes[i].raft, "log", [])) if c.is_alive(i) else []
        out.append([(getattr(e, "term", None), getattr(e, "command", None)) for e in log[1:]])
    return out
