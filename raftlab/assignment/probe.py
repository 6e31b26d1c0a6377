"""One server of the student's class outside any cluster, driven input by input by a check
(``_Probe``)."""

from __future__ import annotations

import random
from typing import Any, Callable, Optional

from ..config import RaftConfig
from ..messages import REPLY_TYPES, REQUEST_TYPES, RequestVote
from ..persister import Persister, decode_state
from ..rules import rule
from .node_errors import describe_node_error
from .results import _Fail, _fail


class _ProbeEnv:
    """The environment of a server driven alone by a check: it keeps what the server asks."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, Any]] = []
        self.timers: list[tuple[str, float]] = []
        self.cancelled: list[str] = []
        self.applied: list[Any] = []

    def call(self, dst: int, request: Any) -> None:
        if type(request) not in REQUEST_TYPES:
            raise TypeError(f"env.call({dst!r}, {request!r}): a request must be a RequestVote, "
                            f"an AppendEntries or a PreVote")
        self.calls.append((dst, request))

    def set_timer(self, name: str, delay: float) -> None:
        self.timers.append((name, delay))

    def cancel_timer(self, name: str) -> None:
        self.cancelled.append(name)

    def apply(self, msg: Any) -> None:
        self.applied.append(msg)

    def record(self, kind: str, *values: Any) -> None:
        pass


class _Probe:
    """One server of the student's class outside any cluster: the check hands it one input
    at a time and looks at its reply, its state and what it asked of its environment."""

    def __init__(self, node_class: Any, me: int, n: int, state: bytes) -> None:
        self.node_class = node_class
        self.me, self.n = me, n
        self.env = _ProbeEnv()
        self.persister = Persister(state)
        name = node_class.__qualname__
        self.node = self._do(f"{name}(me={me}, n={n}, persister, env, config, rng)",
                             lambda: node_class(me, n, self.persister, self.env, RaftConfig(),
                                                random.Random(1)))
        self._do(f"boot() of node {me}", self.node.boot)

    def _do(self, what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except Exception as exc:  # noqa: BLE001 - the student's node raised
            message, hint = describe_node_error(exc, None, self.node_class)
            message = message.replace(f"{self.node_class.__qualname__} raised",
                                      f"{what} raised", 1)
            raise _Fail(message, hint) from None

    @property
    def state(self) -> str:
        node = self.node
        return f"{getattr(node, 'role', '?')} of term {getattr(node, 'current_term', '?')}"

    @property
    def role(self) -> Any:
        return getattr(self.node, "role", None)

    @property
    def term(self) -> Any:
        return getattr(self.node, "current_term", None)

    def saved(self) -> tuple[int, Optional[int], list]:
        """What the server saved: ``(term, voted_for, log entries)``."""
        return decode_state(self.persister.read())

    def fire_election_timer(self) -> None:
        """Fire the timer the server set in ``boot()`` (its election timer)."""
        if not self.env.timers:
            raise _fail(f"node {self.me} set no timer in boot(): a server starts with an "
                        f"election timer (step 1)", rule("no-election").hint)
        name = self.env.timers[0][0]
        self._do(f"on_timer({name!r}) on node {self.me}", lambda: self.node.on_timer(name))

    def reply(self, src: int, request: Any, reply: Any) -> None:
        """Hand ``reply`` (from ``src``, to our ``request``) to ``handle_reply``."""
        self._do(f"handle_reply({src}, {request!r}, {reply!r}) on node {self.me}",
                 lambda: self.node.handle_reply(src, request, reply))

    def candidate(self) -> RequestVote:
        """Make the server start an election (its election timer fires); its RequestVote."""
        self.fire_election_timer()
        asked = [r for _, r in self.env.calls if isinstance(r, RequestVote)]
        if self.role != "candidate" or not asked:
            raise _fail(f"node {self.me}'s election timer fired and it is now a {self.state}, "
                        f"having sent {len(asked)} RequestVote(s); this step needs elections "
                        f"to start (step 2)", rule("no-request-vote").hint)
        return asked[-1]

    def request(self, src: int, msg: Any) -> Any:
        """Hand ``msg`` from ``src`` to ``handle_request``; the reply must have the right type."""
        timers = len(self.env.timers)
        reply = self._do(f"handle_request({src}, {msg!r}) on node {self.me}",
                         lambda: self.node.handle_request(src, msg))
        want = REPLY_TYPES[type(msg)]
        if type(reply) is not want:
            raise _fail(f"node {self.me} answered {msg!r} with {reply!r}; handle_request must "
                        f"return a {want.__name__}", rule("node-error").hint)
        self.reset = len(self.env.timers) > timers
        return reply
