"""Shared fixtures: seed sweeps, and an election-safety check on every cluster a test makes."""

from __future__ import annotations

import os

import pytest

import raftlab
from raftlab import check_election_safety


def seed_count() -> int:
    """How many seeds a sweep covers: ``RAFTLAB_SEEDS`` (default 20)."""
    raw = os.environ.get("RAFTLAB_SEEDS", "20")
    try:
        count = int(raw)
    except ValueError:
        raise pytest.UsageError(f"RAFTLAB_SEEDS must be a positive integer, got {raw!r}") from None
    if count < 1:
        raise pytest.UsageError(f"RAFTLAB_SEEDS must be >= 1, got {count}")
    return count


SEEDS = list(range(seed_count()))


@pytest.fixture(autouse=True)
def _election_safety_of_every_cluster(monkeypatch, request):
    """Every ``Cluster`` built during a test has its trace checked for election safety at the
    end of the test (tests that plant a bug on purpose opt out with ``@pytest.mark.unsafe``)."""
    made: list = []
    original = raftlab.cluster.Cluster.__init__

    def tracking_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(raftlab.cluster.Cluster, "__init__", tracking_init)
    yield
    if request.node.get_closest_marker("unsafe"):
        return
    for cluster in made:
        try:
            check_election_safety(cluster.trace)
        except AssertionError as exc:
            raise AssertionError(f"{cluster!r} (seed {cluster.seed}): {exc}") from None


def pytest_configure(config):
    config.addinivalue_line("markers", "unsafe: the test plants a safety bug on purpose")
