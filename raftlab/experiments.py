"""Experiments: thousands of independent, seeded election trials on the real core, in parallel.

Two measurements from the Raft papers, each built on :class:`raftlab.Cluster` (not on a
separate model) and read from each trial's trace:

* :func:`election_downtime` -- the paper's §9.3 / Figure 16: how long a five-server cluster is
  without a leader after its leader crashes.
* :func:`split_vote_rate` -- the dissertation's §9.2: how often the first election term after a
  simultaneous timer reset fails, beside the closed form :func:`split_vote_probability`.
* :func:`disruption_rates` -- how much a server that rejoins, a cut link, a leader that cannot
  hear or a leader left in a minority disrupts the cluster, with and without PreVote and
  CheckQuorum (dissertation §9.6, §6.2, §4.2.3).

Trial ``k`` of a sweep with master ``seed`` runs a cluster seeded with
``derive_seed(seed, f"trial{k}")``, so results are identical whatever the executor and the
number of workers. ``executor`` takes any ``concurrent.futures.Executor`` (a process pool, or a
Dask ``distributed`` client's ``get_executor()``); trials are sent in chunks.
"""

from __future__ import annotations

import math
import os
import statistics
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Optional, Sequence

from .cluster import MAX_NODES, MAX_RUN, Cluster
from .sim import derive_seed
from .validation import check_bool, check_int, check_number, check_range, check_seed

__all__ = ["DowntimeResult", "DowntimeTrial", "election_downtime", "downtime_trial",
           "split_vote_rate", "split_vote_probability", "split_vote_trial", "figure16",
           "figure16_table",
           "FIGURE16_TOP", "FIGURE16_BOTTOM", "PAPER", "DEFAULT_LATENCY",
           "DEFAULT_PERSIST_DELAY", "range_label", "SCENARIOS", "VARIANTS", "Disruption",
           "DisruptionTrial", "DisruptionRates", "disruption_trial", "disruption_rates",
           "disruption_table"]

#: One-way message latency (ms) of the downtime model: a 2-4 ms hop, a LAN with a busy stack.
DEFAULT_LATENCY = (2.0, 4.0)
#: Time (ms) a reply waits for its handler's write to stable storage (a granted vote, a new
#: term, appended entries). With ``DEFAULT_LATENCY`` the broadcast time (round trip plus disk
#: write) averages 6 + 9 = 15 ms, the paper's "roughly 15ms".
DEFAULT_PERSIST_DELAY = (6.0, 12.0)

#: Figure 16's two graphs: election timeout ranges (ms).
FIGURE16_TOP = ((150, 150), (150, 151), (150, 155), (150, 175), (150, 200), (150, 300))
FIGURE16_BOTTOM = ((12, 24), (25, 50), (50, 100), (100, 200), (150, 300))

#: The numbers the paper's §9.3 text states (ms), for comparison.
PAPER = {
    "150-150 downtime": "> 10000 (no randomness: many split votes)",
    "150-155 median": 287,
    "150-200 worst of 1000": 513,
    "12-24 mean": 35,
    "12-24 longest": 152,
}

_SERIAL_BELOW = 400      # default executor: fewer trials than this run in this process
_CHUNKS_PER_WORKER = 6   # trials are sent in about this many chunks per worker
_MAX_CHUNK = 250


def range_label(election_timeout: Sequence[float]) -> str:
    """``(150, 300)`` -> ``"150–300ms"``, as the paper labels its lines."""
    lo, hi = election_timeout
    return f"{lo:g}\u2013{hi:g}ms"


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class DowntimeResult:
    """Downtimes (ms) of a sweep of trials; a trial still leaderless at ``cap`` counts as cap."""

    times: tuple[float, ...]
    censored: int
    params: dict = field(default_factory=dict, compare=False)

    @property
    def trials(self) -> int:
        return len(self.times)

    @property
    def label(self) -> str:
        et = self.params.get("election_timeout")
        return range_label(et) if et else "downtime"

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.times)

    @property
    def max(self) -> float:
        return max(self.times)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0..100), linear between order statistics (numpy's default)."""
        check_number("percentile q", q, 0, 100)
        xs = sorted(self.times)
        pos = (len(xs) - 1) * q / 100
        i = math.floor(pos)
        if i + 1 >= len(xs):
            return xs[-1]
        return xs[i] + (xs[i + 1] - xs[i]) * (pos - i)

    def rows(self) -> list[dict]:
        """One dict per trial (label, trial, downtime_ms, censored), for ``csv.DictWriter``."""
        cap = self.params.get("cap", math.inf)
        return [{"label": self.label, "trial": k, "downtime_ms": t, "censored": t >= cap}
                for k, t in enumerate(self.times)]

    def __repr__(self) -> str:
        return (f"DowntimeResult({self.label}, trials={self.trials}, median={self.median:.1f} ms, "
                f"mean={self.mean:.1f} ms, max={self.max:.1f} ms, censored={self.censored})")


class DowntimeTrial(NamedTuple):
    """One downtime trial: its cluster (and trace), the crash and the end of the downtime."""

    cluster: Cluster
    leader: int            # the leader that was crashed
    crash: float           # virtual time of the crash (ms)
    end: Optional[float]   # first delivery of the new leader's AppendEntries; None if capped

    @property
    def downtime(self) -> Optional[float]:
        return None if self.end is None else self.end - self.crash


# ---------------------------------------------------------------------- validation
def _pair(name: str, value: Any, positive_lo: bool = False,
          distinct: bool = False) -> tuple[float, float]:
    """A (lo, hi) range of ms; a single number means (x, x)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = (value, value)
    lo, hi = check_range(name, value, 0, open_minimum=positive_lo, distinct=distinct)
    return float(lo), float(hi)


def _check_executor(executor: Any) -> None:
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise ValueError(f"executor must be a concurrent.futures.Executor (with .submit), "
                         f"or None for the default; got {executor!r}")


def _check_downtime_timing(election_timeout: tuple[float, float], latency: tuple[float, float],
                           persist_delay: tuple[float, float]) -> None:
    """Refuse timings under which a downtime trial has no steady leader to crash."""
    lo, hi = election_timeout
    lat_lo, lat_hi = latency
    hb = lo / 2
    if lat_hi - lat_lo >= hb:
        raise ValueError(
            f"latency={latency!r} is too uneven for election_timeout={election_timeout!r}: "
            f"need latency hi - lo < election_timeout lo / 2, got {lat_hi - lat_lo:g} ms >= "
            f"{hb:g} ms. The leader heartbeats every lo / 2 ms; with more jitter than that, two "
            f"heartbeats can reach a follower further apart than its shortest timeout, so "
            f"followers depose a live leader and there is no steady leader to crash")
    broadcast = lat_lo + lat_hi + (persist_delay[0] + persist_delay[1]) / 2
    if broadcast >= (lo + hi) / 2:
        raise ValueError(
            f"latency={latency!r} and persist_delay={persist_delay!r} are too slow for "
            f"election_timeout={election_timeout!r}: need the mean broadcast time "
            f"(latency lo + hi + (persist_delay lo + hi) / 2 = {broadcast:g} ms) < the mean "
            f"election timeout ((lo + hi) / 2 = {(lo + hi) / 2:g} ms). A candidate needs a round "
            f"trip and a vote write before its timer fires; slower than that, elections "
            f"rarely complete (Raft needs broadcast time << election timeout)")


# ---------------------------------------------------------------------- running trials
def _scan(raw: list, start: int, match: Callable[[tuple], bool]) -> Optional[tuple]:
    for j in range(start, len(raw)):
        if match(raw[j]):
            return raw[j]
    return None


def _in_office(raw: list, start: int, leader: int, term: int, n: int) -> bool:
    """Has every follower heard ``leader`` (an AppendEntries of ``term`` delivered since
    ``raw[start]``), with nobody in a later term? Then, with heartbeats arriving less than a
    minimum timeout apart, no follower times out while the leader lives. (A leader that is
    merely still in office may already face a candidate whose RequestVote is in flight.)"""
    heard = set()
    for j in range(start, len(raw)):
        r = raw[j]
        kind = r[1]
        if kind == "deliver":
            if r[2] == leader and r[4] == "AppendEntries" and r[5] == term:
                heard.add(r[3])
        elif kind == "state" and r[3] > term:
            return False
    return len(heard) == n - 1


def downtime_trial(seed: int, n: int = 5, election_timeout: tuple[float, float] = (150, 300),
                   latency: tuple[float, float] = DEFAULT_LATENCY,
                   persist_delay: tuple[float, float] = DEFAULT_PERSIST_DELAY,
                   cap: float = 10_000, logs_differ: bool = True) -> DowntimeTrial:
    """Run one Figure 16 trial on a cluster seeded ``seed``; see :func:`election_downtime`.

    Raises ``ValueError`` for timings without a steady leader to crash (see there)."""
    check_seed(seed)
    params = _trial_params(n, election_timeout, latency, persist_delay, cap, logs_differ)
    lo, hi = params["election_timeout"]
    cap = params["cap"]
    hb = lo / 2
    # Bring the first leader up with a spread of timeouts (identical ones could livelock here
    # too), then switch every node to the range under test before the measured heartbeat.
    setup_hi = max(hi, 2 * lo)
    c = Cluster(n, seed=seed, election_timeout=(lo, setup_hi), heartbeat_interval=hb,
                latency=params["latency"], persist_delay=params["persist_delay"])
    raw = c.trace.raw
    switched_at: Optional[float] = None
    # The timing checks let a lone candidate win often enough: with the defaults a steady
    # leader takes about 10 heartbeat intervals, at the very edge of the checks about 130
    # (at most 1200 in 200 seeds). Give up after 10,000 election rounds' worth of time.
    give_up = 10_000 * setup_hi
    while True:
        if c.now >= give_up:
            raise RuntimeError(
                f"downtime_trial seed={seed}: no steady leader (one that every follower has "
                f"heard) in {give_up:.0f} ms (election_timeout={(lo, hi)!r}, "
                f"latency={params['latency']!r}, persist_delay={params['persist_delay']!r})")
        c.run_for(hb)
        leader = c.leader()
        if leader is None:
            continue
        if switched_at is None:
            c.set_timing(election_timeout=(lo, hi))
            switched_at = c.now
        at = next(j for j in range(len(raw) - 1, -1, -1) if raw[j][1] == "state"
                  and raw[j][2] == leader and raw[j][4] == "leader")
        became, term = raw[at][0], raw[at][3]
        # The measured heartbeat: the leader's next regular broadcast, which every follower
        # gets (and which resets their timers in the range under test). Where the setup range
        # was wider, the broadcast before it must also come after the switch: a crash before
        # the measured one arrives leaves the followers with the timers that one set.
        beat = became + hb * (math.floor((c.now - became) / hb) + 1)
        c.run_until(beat)
        if (c.leader() == leader and _in_office(raw, at, leader, term, n)
                and (setup_hi == hi or beat - hb >= switched_at)):
            break
    if params["logs_differ"]:
        # At the same instant the leader replicates one new entry, which reaches only n // 2
        # followers (with the leader: a majority). The others are cut for that one send, so
        # their logs are shorter and they cannot win the next election.
        behind = [i for i in range(n) if i != leader][n // 2:]
        for i in behind:
            c.disconnect(i)
        c.start(leader, "x")
        c.run_for(0)  # the leader's heartbeat timer fires now: the entry goes out
        for i in behind:
            c.connect(i)
    crash = beat + hb * c.sim.rng("crash").random()
    c.run_until(crash)
    crash = c.now
    k = len(raw)
    c.crash(leader)
    end = crash + cap
    step = max(lo / 2, 1.0)
    while True:
        c.run_until(min(c.now + step, end))
        for j in range(k, len(raw)):  # inline: this loop sees every event of every trial
            r = raw[j]
            if r[1] == "deliver" and r[4] == "AppendEntries":
                return DowntimeTrial(c, leader, crash, r[0])
        k = len(raw)
        if c.now >= end - 1e-6:
            return DowntimeTrial(c, leader, crash, None)


def _downtime_chunk(seed: int, start: int, stop: int, params: dict) -> list[float]:
    out = []
    for k in range(start, stop):
        trial = downtime_trial(derive_seed(seed, f"trial{k}"), **params)
        out.append(params["cap"] if trial.end is None else trial.end - trial.crash)
        trial.cluster._release()
    return out


def split_vote_trial(seed: int, n: int = 5, alive: int = 4,
                     election_timeout: tuple[float, float] = (100, 200),
                     latency: float = 10) -> tuple[bool, Cluster]:
    """One §9.2 trial: ``(split, cluster)``; split means term 1 elected no leader.

    The trial ends at the first leader (split is False if it leads term 1) or at the first
    election timeout in term 1 (split is True), whichever comes first; one of them always
    happens by ``2 * hi`` ms (see below)."""
    check_seed(seed)
    lo, hi = election_timeout
    c = Cluster(n, seed=seed, election_timeout=(lo, hi), heartbeat_interval=max(lo / 2, 1),
                latency=(latency, latency), persist_delay=(0, 0))
    for i in range(alive, n):
        c.crash(i)  # at t=0: the live servers' timers were all reset at this same instant
    raw = c.trace.raw
    # The latest end of term 1: the first server to time out does so in term 0 by ``hi`` and
    # becomes a candidate of term 1, drawing a new timeout of at most ``hi``. Only a leader
    # (of term 1, or of a later term, whose term began with a timeout in term 1) or a
    # candidacy for term 2 (which began with a timeout in term 1) can stop that timer first:
    # a candidate grants no vote in its own term. So by ``2 * hi`` ms the trace holds a leader
    # or a timeout in term 1; whichever comes first decides the trial.
    limit = 2 * hi
    step = max(hi - lo, 2 * latency, 1.0)
    k = 0
    while True:
        c.run_until(min(c.now + step, limit))
        hit = _scan(raw, k, lambda r: (r[1] == "state" and r[4] == "leader")
                    or (r[1] == "timeout" and r[3] >= 1))
        if hit is not None or c.now >= limit:
            break
        k = len(raw)
    assert hit is not None, f"split_vote_trial seed={seed}: term 1 undecided at {c.now} ms"
    return hit[1] == "timeout", c


def _split_chunk(seed: int, start: int, stop: int, params: dict) -> list[bool]:
    out = []
    for k in range(start, stop):
        split, c = split_vote_trial(derive_seed(seed, f"trial{k}"), **params)
        out.append(split)
        c._release()
    return out


class _Job(NamedTuple):
    fn: Callable[..., list]
    seed: int
    trials: int
    params: dict


def _progress(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional (raftlab[progress])
        return None
    return tqdm(total=total, desc=desc, unit="trial")


def _workers(executor: Any) -> int:
    for attr in ("_max_workers",):
        value = getattr(executor, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return os.cpu_count() or 1


def _run(jobs: Sequence[_Job], executor: Optional[Executor], progress: bool,
         desc: str) -> list[list]:
    """Run every job's trials (in chunks, on ``executor`` or in this process), in order."""
    total = sum(j.trials for j in jobs)
    own = None
    if executor is None and total >= _SERIAL_BELOW and (os.cpu_count() or 1) > 1:
        executor = own = ProcessPoolExecutor(os.cpu_count())
    workers = 1 if executor is None else _workers(executor)
    size = max(1, min(_MAX_CHUNK, math.ceil(total / (workers * _CHUNKS_PER_WORKER))))
    tasks = [(j, s, min(s + size, job.trials)) for j, job in enumerate(jobs)
             for s in range(0, job.trials, size)]
    bar = _progress(total, desc, progress)
    parts: dict[tuple[int, int], list] = {}
    try:
        if executor is None:
            for j, s, e in tasks:
                job = jobs[j]
                parts[j, s] = job.fn(job.seed, s, e, job.params)
                if bar is not None:
                    bar.update(e - s)
        else:
            futures = {executor.submit(jobs[j].fn, jobs[j].seed, s, e, jobs[j].params): (j, s, e)
                       for j, s, e in tasks}
            for fut in as_completed(futures):
                j, s, e = futures[fut]
                parts[j, s] = fut.result()
                if bar is not None:
                    bar.update(e - s)
    finally:
        if bar is not None:
            bar.close()
        if own is not None:
            own.shutdown(cancel_futures=True)
    return [[x for (j2, s), part in sorted(parts.items()) if j2 == j for x in part]
            for j in range(len(jobs))]


# ---------------------------------------------------------------------- public sweeps
def _downtime_params(n: Any, election_timeout: Any, trials: Any, seed: Any, latency: Any,
                     cap: Any, persist_delay: Any, logs_differ: Any) -> dict:
    check_int("trials", trials, 1)
    check_seed(seed)
    return _trial_params(n, election_timeout, latency, persist_delay, cap, logs_differ)


def _trial_params(n: Any, election_timeout: Any, latency: Any, persist_delay: Any, cap: Any,
                  logs_differ: Any) -> dict:
    check_int("n", n, 3, MAX_NODES)
    params = {"n": n, "election_timeout": _pair("election_timeout", election_timeout, True),
              "latency": _pair("latency", latency),
              "persist_delay": _pair("persist_delay", persist_delay),
              "cap": check_number("cap", cap, 0, MAX_RUN, open_lo=True, unit="ms"),
              "logs_differ": check_bool("logs_differ", logs_differ)}
    _check_downtime_timing(params["election_timeout"], params["latency"],
                           params["persist_delay"])
    return params


def election_downtime(n: int = 5, election_timeout: tuple[float, float] = (150, 300),
                      trials: int = 1000, seed: int = 0,
                      latency: tuple[float, float] = DEFAULT_LATENCY, cap: float = 10_000,
                      executor: Optional[Executor] = None, progress: bool = True, *,
                      persist_delay: tuple[float, float] = DEFAULT_PERSIST_DELAY,
                      logs_differ: bool = True) -> DowntimeResult:
    """Time without a leader after the leader crashes, over ``trials`` trials (the paper's §9.3).

    Each trial is a fresh ``Cluster(n)`` run on the real core:

    1. A first leader is elected (with timeouts spread over ``(lo, max(hi, 2 lo))``, so that
       even identical timeouts get a leader), then every node is switched to
       ``election_timeout``. The leader heartbeats every ``lo / 2`` ms, half the minimum
       election timeout, as in the paper. It is steady once every follower has heard it and
       nobody has moved to a later term (a leader merely still in office may already face a
       candidate whose RequestVote is on its way).
    2. At one of its regular heartbeat broadcasts, which every follower receives (the
       paper's "synchronized broadcast of heartbeat RPCs"), the leader also replicates one new
       log entry. With ``logs_differ`` (default) that entry reaches only ``n // 2`` followers:
       the other ``n - 1 - n // 2`` are cut for that one send, so their logs are shorter and
       they cannot be elected (for five servers: two of the four survivors are ineligible, as
       in the dissertation's LAN runs).
    3. The leader crashes at a uniformly random point of its heartbeat interval after that
       broadcast. A crash cuts its links at once, so messages it still had in flight are lost
       (this matters only for crashes within a latency of the broadcast).
    4. The downtime runs from the crash to the first *delivery* of the new leader's first
       AppendEntries to another server (the dissertation: "until the other servers received
       the new leader's first heartbeat"). A trial with no such delivery within ``cap`` ms
       counts as ``cap`` and is counted in ``censored``.

    Model: one-way latency uniform in ``latency`` per message (default 2-4 ms); a reply whose
    handler wrote hard state (a granted vote, a new term, appended entries) leaves only after a
    disk write uniform in ``persist_delay`` (default 6-12 ms); a candidate's own vote for
    itself is not delayed. Defaults give a broadcast time (round trip + write) of about 15 ms,
    like the paper's. Logs are one entry long at most. The network is reliable; a call to the
    dead leader fails after 0-6999 ms (labrpc's long delays) and a candidate retries it; that
    never changes an outcome, as the dead cannot vote. Identical timeouts (e.g. 150-150)
    can stay split for ever in a simulator without real-world jitter: cap them.

    The timing must allow a steady leader, else ``ValueError`` (before any trial runs):
    the latency's jitter ``hi - lo`` must be below the heartbeat interval ``lo / 2`` of the
    election timeout (or heartbeats can arrive further apart than the shortest timeout), and
    the mean broadcast time, ``latency lo + hi + (persist_delay lo + hi) / 2``, must be below
    the mean election timeout (or elections rarely complete). Latencies above the heartbeat
    interval are fine otherwise.

    ``executor``: any ``concurrent.futures.Executor``; ``None`` runs small sweeps here and big
    ones on a process pool of all cores. Results are identical for a given ``seed`` whatever
    runs them. ``progress`` shows a tqdm bar (if tqdm is installed).
    """
    params = _downtime_params(n, election_timeout, trials, seed, latency, cap, persist_delay,
                              logs_differ)
    check_bool("progress", progress)
    _check_executor(executor)
    (times,) = _run([_Job(_downtime_chunk, seed, trials, params)], executor, progress,
                    f"downtime {range_label(params['election_timeout'])}")
    return _result(times, params, trials, seed)


def _result(times: list[float], params: dict, trials: int, seed: int) -> DowntimeResult:
    cap = params["cap"]
    return DowntimeResult(tuple(times), sum(1 for t in times if t >= cap),
                          dict(params, trials=trials, seed=seed))


def figure16(trials: int = 1000, seed: int = 0, cap: float = 10_000,
             executor: Optional[Executor] = None, progress: bool = True, *,
             n: int = 5, latency: tuple[float, float] = DEFAULT_LATENCY,
             persist_delay: tuple[float, float] = DEFAULT_PERSIST_DELAY,
             logs_differ: bool = True) -> dict[str, list[DowntimeResult]]:
    """Both graphs of Figure 16: ``{"top": [...6 results], "bottom": [...5 results]}``.

    Every line is :func:`election_downtime` with the same arguments; the shared 150-300 ms line
    is run once and appears in both lists. All lines share one executor and one progress bar.
    """
    ranges = list(dict.fromkeys(FIGURE16_TOP + FIGURE16_BOTTOM))
    base = _downtime_params(n, ranges[0], trials, seed, latency, cap, persist_delay, logs_differ)
    for r in ranges[1:]:
        _check_downtime_timing(tuple(map(float, r)), base["latency"], base["persist_delay"])
    check_bool("progress", progress)
    _check_executor(executor)
    jobs = [_Job(_downtime_chunk, seed, trials, dict(base, election_timeout=tuple(map(float, r))))
            for r in ranges]
    out = _run(jobs, executor, progress, "figure 16")
    by_range = {r: _result(times, job.params, trials, seed)
                for r, times, job in zip(ranges, out, jobs)}
    return {"top": [by_range[r] for r in FIGURE16_TOP],
            "bottom": [by_range[r] for r in FIGURE16_BOTTOM]}


def split_vote_probability(n: int, alive: int, l: float) -> float:  # noqa: E741
    """The dissertation's §9.2 closed form: the chance that the first term splits.

    ``l`` is the one-way latency as a fraction of the timeout range; with
    ``c = alive - n // 2 + 1``, ``P = sum_{k=c-1}^{alive} C(alive, k) l^k (1-l)^(alive-k)``.
    """
    check_int("n", n, 1, MAX_NODES)
    check_int("alive", alive, n // 2 + 1, n)
    p = min(check_number("l (latency / timeout range)", l, 0), 1.0)
    c = alive - n // 2 + 1
    return min(1.0, sum(math.comb(alive, k) * p ** k * (1 - p) ** (alive - k)
                        for k in range(c - 1, alive + 1)))


def split_vote_rate(n: int = 5, alive: int = 4,
                    election_timeout: tuple[float, float] = (100, 200), latency: float = 10,
                    trials: int = 10_000, seed: int = 0, executor: Optional[Executor] = None,
                    progress: bool = True) -> float:
    """Fraction of trials whose first election term fails (the dissertation's §9.2).

    Each trial is a fresh ``Cluster(n)``: nodes ``alive..n-1`` are crashed at t = 0, so the
    ``alive`` servers' timers were all reset at that instant, each uniform in
    ``election_timeout``. Every message takes exactly ``latency`` ms; no disk-write delay; all
    logs are empty (everyone eligible). A trial is a split vote if a node times out again in
    term 1 before any node becomes leader of term 1. Under these assumptions the closed form
    :func:`split_vote_probability` with ``l = latency / (hi - lo)`` is exact, provided the
    minimum timeout is well above three latencies (so nothing else times out meanwhile).
    """
    check_int("n", n, 1, MAX_NODES)
    check_int("alive", alive, n // 2 + 1, n)
    check_int("trials", trials, 1)
    check_seed(seed)
    lo, hi = _pair("election_timeout", election_timeout, positive_lo=True, distinct=True)
    lat = check_number("latency", latency, 0, unit="ms")
    check_bool("progress", progress)
    _check_executor(executor)
    params = {"n": n, "alive": alive, "election_timeout": (lo, hi), "latency": lat}
    (splits,) = _run([_Job(_split_chunk, seed, trials, params)], executor, progress,
                     f"split votes n={n} alive={alive}")
    return sum(splits) / trials


def figure16_table(graphs: dict[str, list[DowntimeResult]]) -> str:
    """A plain-text table: every line's statistics, then the paper's numbers beside ours."""
    lines = [(f"{'timeouts':>12} {'trials':>6} {'median':>8} {'mean':>8} {'p99':>8} "
              f"{'max':>8} {'> cap':>6}")]
    seen: set[str] = set()
    by_label: dict[str, DowntimeResult] = {}
    for res in graphs["top"] + graphs["bottom"]:
        by_label[res.label] = res
        if res.label in seen:
            continue
        seen.add(res.label)
        lines.append(f"{res.label:>12} {res.trials:>6} {res.median:>8.1f} {res.mean:>8.1f} "
                     f"{res.percentile(99):>8.1f} {res.max:>8.1f} {res.censored:>6}")
    rows = []

    def get(lo: int, hi: int) -> Optional[DowntimeResult]:
        return by_label.get(range_label((lo, hi)))

    if (r := get(150, 150)) is not None:
        rows.append(("150-150 ms: no randomness", "> 10 s (many split votes)",
                     f"{r.censored} of {r.trials} trials > {r.params['cap'] / 1000:g} s"))
    if (r := get(150, 155)) is not None:
        rows.append(("150-155 ms: median", "287 ms", f"{r.median:.0f} ms"))
    if (r := get(150, 200)) is not None:
        rows.append((f"150-200 ms: worst of {r.trials}", "513 ms (of 1000)", f"{r.max:.0f} ms"))
    if (r := get(12, 24)) is not None:
        rows.append(("12-24 ms: mean", "35 ms", f"{r.mean:.0f} ms"))
        rows.append(("12-24 ms: longest", "152 ms", f"{r.max:.0f} ms"))
    lines.append("")
    lines.append(f"{'':<26} {'paper':<26} raftlab")
    lines.extend(f"{a:<26} {b:<26} {c}" for a, b, c in rows)
    return "\n".join(lines)


# ====================================================================== disruptions
#: The disruption scenarios: name -> (what it models, fault duration in ms by default).
SCENARIOS: dict[str, tuple[str, float]] = {
    "rejoin": (
        "a follower cut off from everyone (disconnect) for 5 s, then reconnected: a server "
        "that was partitioned away, or crashed without losing its term, comes back", 5000.0),
    "link cut": (
        "the link between the leader and one follower cut both ways for 10 s (cut_link), every "
        "other link up: a partial partition, where the follower hears nobody who leads but "
        "the others still hear the leader", 10_000.0),
    "deaf leader": (
        "every follower's messages to the leader lost (one-way cuts follower -> leader) for "
        "5 s while the leader's heartbeats still reach them: a leader that cannot hear, so it "
        "commits nothing, yet keeps everyone from timing out", 5000.0),
    "minority leader": (
        "the leader and one follower partitioned from the other three for 3 s: a leader left "
        "in a minority of 2 of 5, which can commit nothing", 3000.0),
}

#: Protocol variant settings by name: (pre_vote, check_quorum).
VARIANTS: dict[str, tuple[bool, bool]] = {
    "plain": (False, False),
    "pre_vote": (True, False),
    "check_quorum": (False, True),
    "both": (True, True),
}

_DISRUPTION_N = 5
_SETTLE = 2000.0


def _variant_name(pre_vote: bool, check_quorum: bool) -> str:
    return next(k for k, v in VARIANTS.items() if v == (pre_vote, check_quorum))


class Disruption(NamedTuple):
    """What one disruption trial measured (see :func:`disruption_trial`); times in ms.

    The observation runs from the fault (``fault_start``) until ``settle`` ms after it is
    lifted (``fault_end``); counts and the time without a working leader cover all of it."""

    seed: int
    scenario: str
    pre_vote: bool
    check_quorum: bool
    leader: int                     # the leader when the fault began
    target: Optional[int]           # the follower the fault is about (None: every follower)
    fault_start: float
    fault_end: float
    end: float                      # end of the observation
    leader_changes: int             # times a node became leader during the observation
    term_increments: int            # highest term at the end minus the leader's term at the fault
    deposed: bool                   # the old leader stopped leading its term during the observation
    still_leads: bool               # the old leader still thought it led when the fault was lifted
    unavailable_ms: float           # time without a working leader (see disruption_trial)
    new_leader_ms: Optional[float]  # from the fault to the first working leader of a later term

    @property
    def variant(self) -> str:
        return _variant_name(self.pre_vote, self.check_quorum)


class DisruptionTrial(NamedTuple):
    """One disruption trial: its cluster (and trace) and its figures."""

    cluster: Cluster
    figures: Disruption


def _check_scenario(scenario: Any) -> str:
    if not isinstance(scenario, str) or scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(map(repr, SCENARIOS))}, "
                         f"got {scenario!r}")
    return scenario


def _check_variants(variants: Any) -> tuple[str, ...]:
    allowed = ", ".join(map(repr, VARIANTS))
    if isinstance(variants, str) or not isinstance(variants, (list, tuple)) or not variants:
        raise ValueError(f"variants must be a non-empty list of names from {allowed}, "
                         f"got {variants!r}")
    for v in variants:
        if not isinstance(v, str) or v not in VARIANTS:
            raise ValueError(f"unknown variant {v!r} in variants; allowed: {allowed}")
    if len(set(variants)) != len(variants):
        raise ValueError(f"variants names a setting twice: {variants!r}")
    return tuple(variants)


def _disruption_params(scenario: Any, duration: Any, settle: Any) -> dict:
    scenario = _check_scenario(scenario)
    if duration is None:
        duration = SCENARIOS[scenario][1]
    return {"scenario": scenario,
            "duration": check_number("duration", duration, 0, MAX_RUN, open_lo=True, unit="ms"),
            "settle": check_number("settle", settle, 0, MAX_RUN, unit="ms")}


def _steady_leader(c: Cluster) -> int:
    """Run until one leader is heard by every follower of its term (everyone a follower of
    that term), then return it."""
    hb = c.config.heartbeat_interval
    give_up = c.now + 60_000
    while c.now < give_up:
        c.run_for(hb)
        leader = c.leader()
        if leader is None:
            continue
        c.run_for(2 * hb)  # every follower gets at least one heartbeat of this term
        term = c.get_state(leader)[0]
        if c.leader() == leader and all(
                c.nodes[i].raft.role == "follower" and c.get_state(i)[0] == term
                for i in range(c.n) if i != leader):
            return leader
    raise RuntimeError(f"seed {c.seed}: no steady leader in 60 s")  # pragma: no cover


def _reach(scenario: str, leader: int, target: Optional[int],
           minority: tuple[int, ...]) -> Callable[[int, int], bool]:
    """During the fault: can ``a`` and ``b`` exchange messages both ways?"""
    if scenario == "rejoin":
        return lambda a, b: target not in (a, b)
    if scenario == "link cut":
        return lambda a, b: {a, b} != {leader, target}
    if scenario == "deaf leader":
        return lambda a, b: leader not in (a, b)
    return lambda a, b: (a in minority) == (b in minority)


def _working_time(raw: list, fault_start: float, fault_end: float, end: float, n: int,
                  old_term: int,
                  reach: Callable[[int, int], bool]) -> tuple[float, Optional[float]]:
    """Time without a working leader in ``[fault_start, end]``, and the first moment a working
    leader of a term above ``old_term`` exists (ms after the fault, or None).

    A working leader is a leader that, with the followers of its own term it can exchange
    messages with both ways, makes a majority: it can commit. Roles come from the trace's
    ``state`` events; reachability is the fault's until ``fault_end``, then every link."""
    role = ["follower"] * n
    term = [0] * n
    k = 0
    while k < len(raw) and raw[k][0] < fault_start:
        r = raw[k]
        if r[1] == "state":
            term[r[2]], role[r[2]] = r[3], r[4]
        k += 1
    changes = [r for r in raw[k:] if r[1] == "state" and r[0] <= end]
    times = sorted({fault_start, fault_end, end, *(r[0] for r in changes)})
    unavailable = 0.0
    first_new: Optional[float] = None
    j = 0
    for a, b in zip(times, times[1:]):
        while j < len(changes) and changes[j][0] <= a:
            r = changes[j]
            term[r[2]], role[r[2]] = r[3], r[4]
            j += 1
        faulty = a < fault_end
        working = None
        for i in range(n):
            if role[i] != "leader":
                continue
            votes = 1 + sum(1 for p in range(n) if p != i and role[p] == "follower"
                            and term[p] == term[i] and (not faulty or reach(i, p)))
            if 2 * votes > n:
                working = i
        if working is None:
            unavailable += b - a
        elif first_new is None and term[working] > old_term:
            first_new = a - fault_start
    return unavailable, first_new


def disruption_trial(seed: int, scenario: str, pre_vote: bool = False,
                     check_quorum: bool = False, *, duration: Optional[float] = None,
                     settle: float = _SETTLE,
                     node_class: Optional[Callable[..., Any]] = None) -> DisruptionTrial:
    """Run one disruption trial on a fresh ``Cluster(5, seed=seed)``; see
    :func:`disruption_rates` for the scenarios and the figures. ``node_class`` (default the
    reference ``RaftNode``) runs another node, e.g. a variant of the rules to compare."""
    check_seed(seed)
    params = _disruption_params(scenario, duration, settle)
    check_bool("pre_vote", pre_vote)
    check_bool("check_quorum", check_quorum)
    return _disruption_trial(seed, params["scenario"], pre_vote, check_quorum,
                             params["duration"], params["settle"], node_class)


def _disruption_trial(seed: int, scenario: str, pre_vote: bool, check_quorum: bool,
                      duration: float, settle: float,
                      node_class: Optional[Callable[..., Any]] = None) -> DisruptionTrial:
    n = _DISRUPTION_N
    extra = {} if node_class is None else {"node_class": node_class}
    c = Cluster(n, seed=seed, pre_vote=pre_vote, check_quorum=check_quorum, **extra)
    rng = c.sim.rng("disruption")
    leader = _steady_leader(c)
    # the fault strikes at a random point of the leader's heartbeat interval
    c.run_for(c.config.heartbeat_interval * rng.random())
    followers = [i for i in range(n) if i != leader]
    target: Optional[int] = rng.choice(followers)
    minority: tuple[int, ...] = ()
    old_term = c.get_state(leader)[0]
    fault_start = c.now
    if scenario == "rejoin":
        c.disconnect(target)
    elif scenario == "link cut":
        c.cut_link(leader, target)
    elif scenario == "deaf leader":
        target = None
        for f in followers:
            c.cut_link(f, leader, one_way=True)
    else:
        minority = (leader, target)
        c.partition(list(minority), [i for i in followers if i != target])
    c.run_for(duration)
    fault_end = c.now
    still_leads = c.get_state(leader) == (old_term, True)
    if scenario == "rejoin":
        c.connect(target)
    elif scenario == "link cut":
        c.restore_link(leader, target)
    elif scenario == "deaf leader":
        for f in followers:
            c.restore_link(f, leader, one_way=True)
    else:
        c.heal()
    c.run_for(settle)
    end = c.now
    raw = c.trace.raw
    start = next(j for j in range(len(raw) - 1, -1, -1) if raw[j][0] < fault_start) + 1
    window = raw[start:]
    changes = sum(1 for r in window if r[1] == "state" and r[4] == "leader")
    deposed = any(r[1] == "state" and r[2] == leader for r in window)
    top = max(c.get_state(i)[0] for i in range(n))
    unavailable, new_leader = _working_time(raw, fault_start, fault_end, end, n, old_term,
                                            _reach(scenario, leader, target, minority))
    return DisruptionTrial(c, Disruption(
        seed, scenario, pre_vote, check_quorum, leader, target, fault_start, fault_end, end,
        changes, top - old_term, deposed, still_leads, unavailable, new_leader))


def _disruption_chunk(seed: int, start: int, stop: int, params: dict) -> list[Disruption]:
    out = []
    for k in range(start, stop):
        trial = _disruption_trial(derive_seed(seed, f"trial{k}"), params["scenario"],
                                  params["pre_vote"], params["check_quorum"],
                                  params["duration"], params["settle"])
        out.append(trial.figures)
        trial.cluster._release()
    return out


@dataclass(frozen=True)
class DisruptionRates:
    """A sweep of one scenario under one variant setting: every trial's figures and rates."""

    scenario: str
    variant: str
    trials: tuple[Disruption, ...]
    params: dict = field(default_factory=dict, compare=False)

    @property
    def seeds(self) -> int:
        return len(self.trials)

    def _mean(self, name: str) -> float:
        return statistics.fmean(getattr(t, name) for t in self.trials)

    def _rate(self, flags: Any) -> float:
        return sum(1 for x in flags if x) / len(self.trials)

    @property
    def leader_changes(self) -> float:
        """Mean number of times a node became leader, per trial (per fault)."""
        return self._mean("leader_changes")

    @property
    def term_increments(self) -> float:
        """Mean rise of the highest term over the old leader's, per trial."""
        return self._mean("term_increments")

    @property
    def unavailable_ms(self) -> float:
        """Mean time without a working leader, per trial (ms)."""
        return self._mean("unavailable_ms")

    @property
    def deposed(self) -> float:
        """Fraction of trials in which the old leader stopped leading."""
        return self._rate(t.deposed for t in self.trials)

    @property
    def still_leads(self) -> float:
        """Fraction of trials in which the old leader still thought it led at the fault's end."""
        return self._rate(t.still_leads for t in self.trials)

    def new_leader(self, within: Optional[float] = None) -> float:
        """Fraction of trials in which a working leader of a later term took over, within
        ``within`` ms of the fault (None: by the end of the observation)."""
        if within is not None:
            check_number("within", within, 0, unit="ms")
        return self._rate(t.new_leader_ms is not None
                          and (within is None or t.new_leader_ms <= within)
                          for t in self.trials)

    def __repr__(self) -> str:
        return (f"DisruptionRates({self.scenario!r}, {self.variant}, seeds={self.seeds}, "
                f"leader_changes={self.leader_changes:.2f}, deposed={self.deposed:.0%}, "
                f"term_increments={self.term_increments:.1f}, "
                f"unavailable_ms={self.unavailable_ms:.0f}, still_leads={self.still_leads:.0%})")


def disruption_rates(scenario: str, seeds: int = 200,
                     variants: Sequence[str] = tuple(VARIANTS), seed: int = 0,
                     executor: Optional[Executor] = None, progress: bool = True, *,
                     duration: Optional[float] = None,
                     settle: float = _SETTLE) -> dict[str, DisruptionRates]:
    """How much a fault disrupts a five-server cluster, under each protocol variant setting.

    For each name in ``variants`` (from ``VARIANTS``: ``"plain"``, ``"pre_vote"``,
    ``"check_quorum"``, ``"both"``), ``seeds`` trials; trial ``k`` runs a fresh
    ``Cluster(5, seed=derive_seed(seed, f"trial{k}"))`` with that setting, so every variant
    meets the same seeds. Returns ``{variant: DisruptionRates}`` in the order given.

    Each trial (:func:`disruption_trial`): a leader is elected and heard by every follower;
    at a random point of its heartbeat interval the fault below strikes a random follower (the
    *target*); it lasts ``duration`` ms (default: the scenario's, in ``SCENARIOS``) and is then
    lifted, and the cluster runs ``settle`` ms more (default 2000). Default timing and network
    (300-600 ms election timeout, 110 ms heartbeats, 5-10 ms latency, reliable).

    * ``"rejoin"``: the target is disconnected for 5 s, then reconnected. Models a server that
      was away (partitioned, or paused) and comes back. Without PreVote its term climbs
      while it is away, and back, its higher term deposes the leader.
    * ``"link cut"``: the leader <-> target link is cut for 10 s; every other link stays up.
      Models a partial partition. The target hears no leader and starts elections that the
      others, who can reach it, may grant; the new leader cannot reach the old one, which
      then does the same: leadership flaps.
    * ``"deaf leader"``: for 5 s nothing any follower sends reaches the leader (one-way cuts
      follower -> leader), while the leader's heartbeats still reach them. Models a leader
      whose incoming traffic is lost. It commits nothing, yet its heartbeats keep everyone from
      timing out: only CheckQuorum makes it step down.
    * ``"minority leader"``: the leader and the target are partitioned from the other three
      for 3 s. Models a leader stranded in a minority. The majority elects a new leader;
      does the old one still believe it leads (``still_leads``)?

    Figures per trial (:class:`Disruption`), over the observation from the fault to the end
    of ``settle``: ``leader_changes`` (times a node became leader), ``term_increments``
    (highest term at the end minus the old leader's term), ``deposed`` (the old leader stopped
    leading), ``still_leads`` (at the fault's end, before it is lifted), ``unavailable_ms`` (time
    without a *working* leader: one that, with the followers of its term it can exchange
    messages with both ways, makes a majority, so it could commit) and ``new_leader_ms``
    (from the fault to the first working leader of a later term; None if none).

    ``executor``: any ``concurrent.futures.Executor`` (None: small sweeps here, 400 trials or
    more on a process pool of all cores); results are identical whatever runs them.
    Bad arguments (an unknown scenario or variant, ``seeds < 1``, a flag that is not a bool)
    raise ``ValueError`` naming the value and what is allowed.
    """
    params = _disruption_params(scenario, duration, settle)
    check_int("seeds", seeds, 1)
    names = _check_variants(variants)
    check_seed(seed)
    check_bool("progress", progress)
    _check_executor(executor)
    jobs = [_Job(_disruption_chunk, seed, seeds,
                 dict(params, pre_vote=VARIANTS[v][0], check_quorum=VARIANTS[v][1]))
            for v in names]
    out = _run(jobs, executor, progress, f"disruption: {params['scenario']}")
    return {v: DisruptionRates(params["scenario"], v, tuple(figs), dict(job.params, seed=seed))
            for v, figs, job in zip(names, out, jobs)}


def disruption_table(rates: dict[str, DisruptionRates], within: Optional[float] = None) -> str:
    """A plain-text table of :func:`disruption_rates`' result, one row per variant setting;
    ``within`` (ms) limits the "new leader" column to takeovers that fast."""
    lines = [f"{'variant':<13} {'seeds':>5} {'leader changes':>14} {'deposed':>8} "
             f"{'terms +':>8} {'no leader ms':>12} {'new leader':>10} {'still leads':>11}"]
    for v, r in rates.items():
        lines.append(f"{v:<13} {r.seeds:>5} {r.leader_changes:>14.2f} {r.deposed:>8.0%} "
                     f"{r.term_increments:>8.1f} {r.unavailable_ms:>12.0f} "
                     f"{r.new_leader(within):>10.0%} {r.still_leads:>11.0%}")
    return "\n".join(lines)
