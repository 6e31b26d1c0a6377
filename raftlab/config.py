"""The settings of a cluster, each stated once: the nodes' ``RaftConfig`` and the ``NetworkConfig``.

``Cluster``'s keyword arguments, its ``trace.meta``, the replay scripts of the panel and the
panel's fields are all derived from these two dataclasses, so a new setting is added here and
nowhere else::

    Cluster(5, seed=1, election_timeout=(150, 300), reliable=False)
    c.config.election_timeout, c.network_config.reliable
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Optional

from .formatting import plain_number
from .validation import check_bool, check_number, check_range

__all__ = ["RaftConfig", "NetworkConfig", "SETTINGS", "DEFAULTS", "settings_meta",
           "constructor_args", "constructor_call"]


@dataclass
class RaftConfig:
    """What every node is told about timing, in virtual ms; a node reads it each time it sets a
    timer, so a change applies to timers set afterwards.

    ``election_timeout``: a follower or candidate that hears nothing for a time drawn uniformly
    from ``(lo, hi)`` starts an election; ``heartbeat_interval``: a leader's idle AppendEntries
    period (110 ms keeps a follower under the 6.5840 lab's cap of ten heartbeats per second).

    The protocol variants, both off by default (plain Raft, as in the 6.5840 lab):
    ``pre_vote`` (dissertation §9.6): a node whose election timer fires first asks for
    pre-votes as a ``"precandidate"``, without raising its term, and becomes a candidate only
    with a majority of them; ``check_quorum`` (§6.2, §4.2.3): a leader that has not heard from
    a majority for an election timeout steps down, and a server that heard from a current
    leader within the minimum election timeout ignores RequestVote.
    """

    election_timeout: tuple[float, float] = (300, 600)
    heartbeat_interval: float = 110
    pre_vote: bool = False
    check_quorum: bool = False

    def __post_init__(self) -> None:
        self.election_timeout = check_range("election_timeout", self.election_timeout,
                                            open_minimum=True)
        check_number("heartbeat_interval", self.heartbeat_interval, 0, open_lo=True, unit="ms")
        for name in ("pre_vote", "check_quorum"):
            setattr(self, name, check_bool(name, getattr(self, name)))


@dataclass
class NetworkConfig:
    """The simulated network's model (labrpc's switches, plus latency and disk writes).

    ``reliable=False``: 10% of requests and 10% of replies are lost and each message takes
    0-26 ms more; ``latency``: one-way delay ``(lo, hi)`` ms of a delivered message;
    ``long_delays``: a call to a cut or dead peer fails after 0-6999 ms (else 0-99 ms);
    ``long_reordering``: 2/3 of replies are held back 200-2199 ms; ``persist_delay``: a reply
    whose handler wrote hard state waits for a disk write of ``(lo, hi)`` ms.
    """

    reliable: bool = True
    latency: tuple[float, float] = (5, 10)
    long_delays: bool = True
    long_reordering: bool = False
    persist_delay: tuple[float, float] = (0, 0)

    def __post_init__(self) -> None:
        for name in ("reliable", "long_delays", "long_reordering"):
            setattr(self, name, check_bool(name, getattr(self, name)))
        self.latency = check_range("latency", self.latency)
        self.persist_delay = check_range("persist_delay", self.persist_delay)


#: Every setting's name -> the config class it belongs to, in ``Cluster``'s keyword order.
SETTINGS: dict[str, type] = {f.name: cls for cls in (RaftConfig, NetworkConfig)
                             for f in fields(cls)}
#: Every setting's default value.
DEFAULTS: dict[str, Any] = {f.name: f.default for cls in (RaftConfig, NetworkConfig)
                            for f in fields(cls)}


def settings_meta(config: RaftConfig, network: NetworkConfig) -> dict[str, Any]:
    """Every setting as JSON-ready values (pairs as lists), for ``trace.meta``."""
    meta = {f.name: getattr(c, f.name) for c in (config, network) for f in fields(c)}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in meta.items()}


def constructor_args(meta: dict[str, Any], node_class: Optional[type] = None,
                     default_node_class: Optional[type] = None) -> dict[str, Any]:
    """The keyword arguments, beyond ``n`` and ``seed``, that rebuild a cluster whose
    ``trace.meta`` is ``meta``: every setting that differs from its default (in ``SETTINGS``
    order), then ``node_class`` if it is not the default one."""
    args = {}
    for name, default in DEFAULTS.items():
        value = plain_number(meta.get(name, default))
        if value != plain_number(default):
            args[name] = value
    if node_class is not None and node_class is not default_node_class:
        args["node_class"] = node_class
    return args


def constructor_call(n: int, seed: int, args: dict[str, Any]) -> tuple[str, str]:
    """``(imports, "Cluster(5, seed=3, reliable=False)")`` for ``constructor_args`` output."""
    imports = ["from raftlab import Cluster"]
    parts = [repr(n), f"seed={seed!r}"]
    for name, value in args.items():
        if name == "node_class":
            imports.append(f"from {value.__module__} import {value.__qualname__}")
            parts.append(f"node_class={value.__qualname__}")
        else:
            parts.append(f"{name}={value!r}")
    return "\n".join(imports), f"Cluster({', '.join(parts)})"
