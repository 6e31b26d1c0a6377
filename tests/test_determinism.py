"""The same seed and the same calls give the same trace, byte for byte, in any process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
from raftlab import Cluster
c = Cluster(5, seed=SEED, reliable=False)
leader = c.check_one_leader()
c.one('cmd', 5)
c.partition([leader], [i for i in range(5) if i != leader])
c.run_for(2000)
c.heal()
c.set_long_reordering(True)
c.crash((leader + 1) % 5)
c.one({'k': 1}, 4)
c.restart((leader + 1) % 5)
c.run_for(3000)
print(c.trace.to_json())
"""

ROOT = Path(__file__).resolve().parents[1]


def run_in_subprocess(seed: int, hashseed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=hashseed, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SCRIPT.replace("SEED", str(seed))], env=env,
                         capture_output=True, text=True, check=True, timeout=120)
    return out.stdout


def test_same_seed_same_trace_across_processes_and_hash_seeds() -> None:
    a = run_in_subprocess(11, "0")
    b = run_in_subprocess(11, "12345")
    c = run_in_subprocess(11, "random")
    assert len(a) > 10_000
    assert hashlib.sha256(a.encode()).hexdigest() == hashlib.sha256(b.encode()).hexdigest()
    assert a == c


def test_different_seeds_give_different_traces() -> None:
    assert run_in_subprocess(1, "0") != run_in_subprocess(2, "0")
