"""Canonical node states: a node's attributes turned into a hashable value and back, so that
equal states are stored once."""

from __future__ import annotations

import pickle
from types import MethodType
from typing import Any

from ..messages import MESSAGE_TYPES, LogEntry

_LIST, _SET, _DICT, _TUPLE, _REF, _METHOD, _REFMETHOD, _OBJ, _PICKLED = (
    object() for _ in range(9))
# containers of immutable values only (the common case), copied back with one builtin call
_FLIST, _FSET, _FDICT = object(), object(), object()
_FLAT = {_FLIST: list, _FSET: set, _FDICT: dict}
#: Values kept as they are in a frozen node: immutable, hashable, compared by value.
_ATOMS = frozenset({int, str, float, bool, type(None), bytes, frozenset, LogEntry,
                    *MESSAGE_TYPES})


class _Codec:
    """Turns a node's ``__dict__`` into a hashable value (``freeze``) and back (``thaw``):
    lists, sets, dicts and tuples of them become tagged tuples; immutable values stay as they
    are; the environment, persister, config and rng become references to this slot's."""

    def __init__(self, node: Any, refs: tuple) -> None:
        self.node = node
        self.refs = refs
        self.ref_tags = {id(ref): (_REF, k) for k, ref in enumerate(refs)}

    def freeze(self, v: Any) -> Any:
        t = type(v)
        if t in _ATOMS:
            return v
        atoms = _ATOMS
        if t is list:
            if atoms.issuperset(map(type, v)):
                return (_FLIST, tuple(v))
            return (_LIST, tuple(map(self.freeze, v)))
        if t is dict:
            if atoms.issuperset(map(type, v)) and atoms.issuperset(map(type, v.values())):
                return (_FDICT, tuple(v.items()))
            f = self.freeze
            return (_DICT, tuple((f(k), f(x)) for k, x in v.items()))
        if t is set:
            if atoms.issuperset(map(type, v)):
                return (_FSET, frozenset(v))
            return (_SET, frozenset(map(self.freeze, v)))
        if t is tuple:
            if atoms.issuperset(map(type, v)):
                return v  # a tuple of immutable values is one (its first item is no tag)
            return (_TUPLE, tuple(map(self.freeze, v)))
        if t is MethodType:
            owner = v.__self__
            if owner is self.node:
                return (_METHOD, v.__func__)
            for k, ref in enumerate(self.refs):
                if owner is ref:
                    return (_REFMETHOD, k, v.__func__)
        for k, ref in enumerate(self.refs):
            if v is ref:
                return (_REF, k)
        if hasattr(v, "__dict__") and not isinstance(v, type) and not callable(v):
            return (_OBJ, t, self.freeze(vars(v)))
        try:
            return (_PICKLED, pickle.dumps(v, pickle.HIGHEST_PROTOCOL))
        except Exception as exc:
            raise TypeError(f"explore cannot copy a node attribute holding {v!r} "
                            f"({type(v).__name__}): {exc}") from None

    def thaw(self, v: Any) -> Any:
        if type(v) is not tuple or not v:
            return v
        tag = v[0]
        flat = _FLAT.get(tag) if type(tag) is object else None
        if flat is not None:
            return flat(v[1])
        if tag is _LIST:
            return list(map(self.thaw, v[1]))
        if tag is _DICT:
            t = self.thaw
            return {t(k): t(x) for k, x in v[1]}
        if tag is _SET:
            return set(map(self.thaw, v[1]))
        if tag is _TUPLE:
            return tuple(map(self.thaw, v[1]))
        if tag is _METHOD:
            return MethodType(v[1], self.node)
        if tag is _REF:
            return self.refs[v[1]]
        if tag is _REFMETHOD:
            return MethodType(v[2], self.refs[v[1]])
        if tag is _OBJ:
            obj = object.__new__(v[1])
            obj.__dict__.update(self.thaw(v[2]))
            return obj
        if tag is _PICKLED:
            return pickle.loads(v[1])
        return v

    def snapshot(self) -> tuple:
        """The node's attributes as (names, frozen values)."""
        d = self.node.__dict__
        atoms = _ATOMS
        f = self.freeze
        ref = self.ref_tags.get
        return (tuple(d), tuple([x if type(x) in atoms else (ref(id(x)) or f(x))
                                 for x in d.values()]))

    def restore(self, plan: tuple) -> None:
        """Set the node's attributes from ``plan(frozen)``."""
        template, rebuild = plan
        d = template.copy()
        for name, make, value in rebuild:
            d[name] = make(value) if make is not None else self.thaw(value)
        self.node.__dict__ = d


def _plan(frozen: tuple) -> tuple:
    """How to rebuild a node's attributes from their frozen form quickly: a dict of the
    immutable ones to copy, and for the others (name, builtin or None for ``thaw``, value)."""
    template: dict = {}
    rebuild = []
    for name, v in zip(*frozen):
        if type(v) is tuple and v and type(v[0]) is object:
            flat = _FLAT.get(v[0])
            rebuild.append((name, flat, v[1]) if flat is not None else (name, None, v))
        else:
            template[name] = v
    return template, tuple(rebuild)
