"""Node classes with a planted fault, for tests of the panel and its controller."""

from __future__ import annotations

from raftlab import RaftNode


class Forgetful(RaftNode):
    """A planted safety bug: never persists its hard state, so a restart forgets the term."""

    def _persist(self):
        pass


class Grumpy(RaftNode):
    """A planted crash: a node's third heartbeat timer raises RuntimeError."""

    beats = 0

    def on_timer(self, name):
        if name == "heartbeat":
            self.beats += 1
            if self.beats == 3:
                raise RuntimeError("planted failure")
        super().on_timer(name)
