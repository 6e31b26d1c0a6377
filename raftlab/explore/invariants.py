"""The explorer's own checks over the whole cluster, which no rule monitor makes: Log
Matching, Leader Completeness and State Machine Safety."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional


class _Broken(Exception):
    """A violation found by the explorer's own checks (not the rule monitors)."""

    def __init__(self, rule: str, message: str, node: Optional[int]) -> None:
        super().__init__(message)
        self.rule, self.node = rule, node


class _SlotInfo(NamedTuple):
    """A node slot's stored state (``slot``) and what the global checks read of it."""

    slot: tuple
    alive: bool
    role: Optional[str]
    term: int
    terms: tuple
    entries: tuple
    commit: int


def _check_logs(infos: list[_SlotInfo], i: int, slots: list, hist: dict) -> None:
    """Log Matching between node ``i`` and every other live node; Leader Completeness if
    node ``i`` leads."""
    me = infos[slots[i]]
    mine = me.entries
    for j, s in enumerate(slots):
        other = infos[s]
        if j == i or not other.alive:
            continue
        theirs = other.entries
        k = min(len(mine), len(theirs)) - 1
        while k > 0 and mine[k][0] != theirs[k][0]:
            k -= 1
        if k > 0 and mine[:k + 1] != theirs[:k + 1]:
            first = next(x for x in range(k + 1) if mine[x] != theirs[x])
            raise _Broken("log-matching", f"nodes {i} and {j} both hold an entry of term "
                          f"{mine[k][0]} at index {k}, but their logs differ at index "
                          f"{first}: {_entry(mine[first])} and {_entry(theirs[first])} "
                          f"(Log Matching)", i)
    if me.role == "leader":
        _check_leader(i, me, hist)


def _check_leader(i: int, me: _SlotInfo, hist: dict) -> None:
    """Leader Completeness for node ``i``, a leader: it holds every entry committed by an
    earlier term."""
    for index, (term, command, seen) in hist.items():
        if seen < me.term and (index >= len(me.entries)
                               or me.entries[index] != (term, command)):
            have = _entry(me.entries[index]) if index < len(me.entries) else "nothing"
            raise _Broken("leader-completeness", f"node {i} is leader of term {me.term} "
                          f"but holds {have} at index {index}, where "
                          f"{_entry((term, command))} was committed by term {seen} "
                          f"(Leader Completeness)", i)


def _check_leaders(infos: list[_SlotInfo], slots: list, hist: dict) -> None:
    for j, s in enumerate(slots):
        info = infos[s]
        if info.alive and info.role == "leader":
            _check_leader(j, info, hist)


def _check_commits(infos: list[_SlotInfo], i: int, slots: list, hist: dict,
                   applied: tuple) -> bool:
    """Record the entries node ``i`` now counts as committed; State Machine Safety for
    them and for what it applied. True if the record grew."""
    info = infos[slots[i]]
    grew = False
    entries = info.entries
    for index in range(1, min(info.commit, len(entries) - 1) + 1):
        entry = entries[index]
        known = hist.get(index)
        if known is None:
            hist[index] = (entry[0], entry[1], info.term)
            grew = True
        elif (known[0], known[1]) != entry:
            raise _Broken("state-machine-safety", f"node {i} counts {_entry(entry)} at "
                          f"index {index} as committed, but {_entry(known[:2])} was "
                          f"committed there (State Machine Safety)", i)
    for j, msg in applied:
        if j != i or not getattr(msg, "command_valid", True):
            continue
        known = hist.get(msg.command_index)
        if known is not None and known[1] != msg.command:
            raise _Broken("state-machine-safety", f"node {i} applied {msg.command!r} at "
                          f"index {msg.command_index}, where {_entry(known[:2])} was "
                          f"committed (State Machine Safety)", i)
    return grew


def _check_applied(i: int, env: Any, applied: list) -> None:
    """Node ``i`` applies its commands one by one, in index order (config.go's check)."""
    for j, msg in applied:
        if j != i or not getattr(msg, "command_valid", True):
            continue
        index = msg.command_index
        if index != env.applied + 1:
            raise _Broken("state-machine-safety", f"node {i} applied index {index} after "
                          f"index {env.applied} (apply out of order)", i)
        env.applied = index


def _entry(e: tuple) -> str:
    return f"(term {e[0]}, command {e[1]!r})"
