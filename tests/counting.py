"""Trace reads, counted: for tests that a long session does not rescan the whole trace."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from raftlab import Trace


class CountingList(list):
    """A list that counts the items read from it (by index, slice or iteration)."""

    reads = 0

    def __getitem__(self, i):
        got = super().__getitem__(i)
        CountingList.reads += len(got) if isinstance(i, slice) else 1
        return got

    def __iter__(self):
        for item in super().__iter__():
            CountingList.reads += 1
            yield item


class CountingTrace(Trace):
    """A Trace whose events are kept in a CountingList, so every read of an event is counted,
    whichever way it is read (``raw``, ``of``, iteration, indexing)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._events = CountingList()
        self.append = self._events.append


@contextmanager
def uncounted() -> Iterator[None]:
    """Reads inside the block are the test's own, not the code's under test: not counted."""
    saved = CountingList.reads
    try:
        yield
    finally:
        CountingList.reads = saved
