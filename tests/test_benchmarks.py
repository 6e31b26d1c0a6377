"""The benchmarks behind the README's speed figures still run and print those figures.

Each script runs with the smallest arguments it takes, so this checks that it works and what
it reports, never how fast: the figures themselves are measured by running the scripts in
full (``make bench``) on an idle machine."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

#: script, tiny arguments, a pattern each figure line it prints must match
CASES = [
    ("throughput.py", ["--repeat", "1", "--virtual-s", "5"],
     [r"delivered messages per wall second: median [\d,]+", r"virtual time / wall time: [\d,]+x"]),
    ("election_suite.py", ["--seeds", "1"],
     [r"TestInitialElection3A", r"TestManyElections3A", r"\d+x faster than the reference"]),
    ("log_suite.py", ["--seeds", "1"],
     [r"all 3B tests: median \d+ ms", r"all 3C tests: median \d+ ms"]),
    ("grading.py", ["--seeds", "2", "--repeat", "1"],
     [r"1 worker: +[\d.]+ s wall", r"2 workers: +[\d.]+ s wall",
      r"cost of the extra checks: [\d.]+x the bare tests"]),
    ("explore.py", ["--depth", "3", "--repeat", "1", "--memory-depth", "2"],
     [r"every ordering up to 3 steps \(complete\): [\d,]+ distinct states",
      r"distinct states per second: median [\d,]+", r"bytes per stored state"]),
    ("figure16.py", ["--trials", "2", "--workers", "2"],
     [r"serial: +[\d.]+ s", r"parallel \(2 workers\): +[\d.]+ s",
      r"identical downtimes serial vs parallel: True"]),
    # the panel's benchmark exits 1 over its time budget: a budget no run can exceed keeps
    # this a check of what it prints, not of the machine's speed
    ("widget_response.py", ["--reps", "1", "--budget", "1e9"],
     [r"largest median [\d.]+ ms: within"]),
]


@pytest.mark.parametrize("script,args,patterns", CASES, ids=[c[0] for c in CASES])
def test_benchmark_runs_and_prints_its_figures(script: str, args: list[str],
                                               patterns: list[str]) -> None:
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *args],
                          capture_output=True, text=True, timeout=300,
                          cwd=BENCHMARKS.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    for pattern in patterns:
        assert re.search(pattern, done.stdout), (pattern, done.stdout[-2000:])


def test_every_benchmark_is_covered() -> None:
    assert sorted(p.name for p in BENCHMARKS.glob("*.py")) == sorted(c[0] for c in CASES)


def test_a_benchmark_refuses_bad_arguments() -> None:
    done = subprocess.run([sys.executable, str(BENCHMARKS / "grading.py"), "--seeds", "0"],
                          capture_output=True, text=True, timeout=60, cwd=BENCHMARKS.parent)
    assert done.returncode == 2 and "--seeds and --workers must be >= 1" in done.stderr
