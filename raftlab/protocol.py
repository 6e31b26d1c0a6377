"""What a Raft node is to the harness (``NodeProtocol``) and what the harness is to a node
(``Environment``): the whole interface between a student's class and raftlab.

A node knows no clock and no network. The harness delivers three kinds of input -- an RPC
request, an RPC reply (or the news that a call failed) and a timer firing -- and the node asks
its environment to send calls, set timers and apply committed commands. Beside each name, its
counterpart in the 6.5840 / COS418 Go lab.
"""

from __future__ import annotations

import inspect
import weakref
import random
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover - imports for type checkers only
    from .config import RaftConfig
    from .messages import Message
    from .persister import Persister

__all__ = ["NodeProtocol", "Environment", "NODE_METHODS", "NODE_ATTRIBUTES", "ROLES",
           "check_node_class", "check_node_instance"]

#: The roles a node may be in ("precandidate" is the pre-vote phase of an election).
ROLES = ("follower", "precandidate", "candidate", "leader")


class Environment(Protocol):
    """What a node may ask of the world around it (the harness gives one to each instance)."""

    def call(self, dst: int, request: Message) -> None:
        """Send an RPC (Go: ``peers[dst].Call`` in a goroutine); later the node's
        ``handle_reply`` or ``handle_failure`` is called with the outcome."""

    def set_timer(self, name: str, delay: float) -> None:
        """Call ``node.on_timer(name)`` after ``delay`` ms, replacing a pending timer of that
        name (Go: the ticker goroutine's ``time.Sleep``)."""

    def cancel_timer(self, name: str) -> None:
        """Forget the pending timer of that name (nothing happens if there is none)."""

    def apply(self, msg: Any) -> None:
        """Deliver a committed command to the service, in index order (Go: ``applyCh <- msg``)."""

    def record(self, kind: str, *values: Any) -> None:
        """Optional: add an event of this node to the trace. The harness records ``state``,
        ``vote``, ``timeout``, ``timer``, ``append``, ``truncate`` and ``commit`` events
        itself, so a node need not (and what it records of those kinds is not recorded
        twice); ``note`` takes one text."""


@runtime_checkable
class NodeProtocol(Protocol):
    """A Raft server as the harness drives it: ``raftlab.RaftNode`` or a student's class.

    ``Cluster(n, node_class=MyRaft)`` checks the class when the cluster is built. The
    constructor is ``MyRaft(me, n, persister, env, config, rng)`` (Go: ``Make(peers, me,
    persister, applyCh)``): ``me`` is this node's id, ``n`` the cluster size, ``persister`` its
    stable storage (``save(bytes)`` / ``read()``; ``raftlab.persister.encode_state`` and
    ``decode_state`` help), ``env`` an ``Environment``, ``config`` the cluster's ``RaftConfig``
    (read it when you set a timer: it can change at run time) and ``rng`` a
    ``random.Random`` that is the node's ONLY source of randomness.
    """

    role: str
    """ "follower", "precandidate", "candidate" or "leader" (Go: your ``state`` field); the
    harness reads it after every input to record ``state`` events."""
    current_term: int
    """The latest term this server has seen (Figure 2's ``currentTerm``)."""
    log: list
    """Index 0 is a sentinel; entries have ``.term`` and ``.command`` (Figure 2's ``log[]``).
    The harness reads it after every input to record ``append`` / ``truncate`` events."""
    commit_index: int
    """The highest log index known to be committed (Figure 2's ``commitIndex``); the harness
    records a ``commit`` event when it changes."""

    def __init__(self, me: int, n: int, persister: Persister, env: Environment,
                 config: RaftConfig, rng: random.Random) -> None: ...

    def boot(self) -> None:
        """Start as a follower and set the first election timer (Go: the end of ``Make``,
        which starts the ticker goroutine)."""

    def kill(self) -> None:
        """Stop: the harness will not call this instance again (Go: ``rf.Kill()``)."""

    def get_state(self) -> tuple[int, bool]:
        """``(current_term, is_leader)`` (Go: ``rf.GetState()``)."""

    def start(self, command: Any) -> tuple[int, int, bool]:
        """Propose ``command``; ``(index, term, is_leader)`` at once (Go: ``rf.Start()``)."""

    def handle_request(self, src: int, msg: Message) -> Message:
        """Answer a RequestVote or AppendEntries from ``src`` with its reply message (Go: the
        ``RequestVote`` and ``AppendEntries`` RPC handlers)."""

    def handle_reply(self, src: int, request: Message, reply: Message) -> None:
        """The reply to one of our calls arrived (Go: ``Call`` returned true)."""

    def handle_failure(self, dst: int, request: Message) -> None:
        """A call failed: the request or its reply was lost, or ``dst`` was unreachable
        (Go: ``Call`` returned false)."""

    def on_timer(self, name: str) -> None:
        """The timer ``name`` set through ``env.set_timer`` fired (Go: the ticker woke up)."""


#: Methods every node class defines, in the order the docs list them.
NODE_METHODS = ("boot", "kill", "get_state", "start", "handle_request", "handle_reply",
                "handle_failure", "on_timer")
#: Attributes every node instance has once constructed.
NODE_ATTRIBUTES = ("role", "current_term", "log", "commit_index")


_SIGNATURE_OK: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def check_node_class(node_class: Any) -> None:
    """``TypeError`` naming what ``node_class`` lacks to be a ``NodeProtocol`` class."""
    if not isinstance(node_class, type):
        raise TypeError(f"node_class must be a class implementing raftlab.NodeProtocol, "
                        f"got {node_class!r}")
    name = node_class.__qualname__
    missing = [m for m in NODE_METHODS if not callable(getattr(node_class, m, None))]
    if missing:
        raise TypeError(f"node class {name} does not implement NodeProtocol: missing "
                        f"method{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if node_class in _SIGNATURE_OK:  # reading a signature is slow; a class's does not change
        return
    try:
        inspect.signature(node_class).bind(0, 1, None, None, None, None)
        _SIGNATURE_OK[node_class] = True
    except TypeError:
        raise TypeError(f"node class {name} must be constructed as {name}(me, n, persister, "
                        f"env, config, rng); its signature is "
                        f"{name}{inspect.signature(node_class)}") from None
    except ValueError:  # pragma: no cover - a class whose signature cannot be read (C types)
        pass


def check_node_instance(node: Any) -> None:
    """``TypeError`` naming an attribute a freshly built node lacks or holds a bad value in."""
    name = type(node).__qualname__
    missing = [a for a in NODE_ATTRIBUTES if not hasattr(node, a)]
    if missing:
        raise TypeError(f"a {name} instance has no attribute{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)} after __init__ (NodeProtocol needs "
                        f"{', '.join(NODE_ATTRIBUTES)})")
