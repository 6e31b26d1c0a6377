"""Small fault scenarios shared by the analysis and plot tests; each returns its Cluster."""

from __future__ import annotations

from raftlab import Cluster


def quiet(n=3, seed=1, ms=2000, **kw) -> Cluster:
    """Nothing fails: one election, then heartbeats."""
    c = Cluster(n, seed=seed, **kw)
    c.run_for(ms)
    return c


def leader_failure(n=3, seed=1) -> Cluster:
    """The leader is cut off for 1.5 s, then rejoins."""
    c = Cluster(n, seed=seed)
    c.run_for(1500)
    old = c.check_one_leader()
    c.disconnect(old)
    c.run_for(1500)
    c.connect(old)
    c.run_for(1000)
    return c


def faults(n=5, seed=4) -> Cluster:
    """A crash, a 2|3 partition, a heal and a restart."""
    c = Cluster(n, seed=seed)
    c.run_for(1000)
    c.crash(1)
    c.run_for(700)
    c.partition([0, 1], [2, 3, 4])
    c.run_for(2000)
    c.heal()
    c.restart(1)
    c.run_for(1500)
    return c


def split_terms(trace, since: float = 0) -> tuple[list[int], dict[int, set[int]]]:
    """Terms after ``since`` that had two or more candidates and no leader (split votes),
    and the candidates of every term."""
    candidates: dict[int, set[int]] = {}
    leader_terms = set()
    for e in trace.window(since):
        if e.kind == "state" and e.role == "candidate":
            candidates.setdefault(e.term, set()).add(e.node)
        if e.kind == "state" and e.role == "leader":
            leader_terms.add(e.term)
    split = [t for t, who in candidates.items() if len(who) >= 2 and t not in leader_terms]
    return split, candidates
