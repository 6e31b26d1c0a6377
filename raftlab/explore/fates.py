"""Fates, for the replay: when each message and timer setting of one schedule arrives, is lost
or never comes (``_Tracker``)."""

from __future__ import annotations

from typing import Optional


class _Tracker:
    """Follows one schedule through the world and notes when each message and timer setting
    of it meets its fate (the step at which it arrives, is lost, or never), in the order the
    simulator would create them: what the replay's scripted chooser needs."""

    def __init__(self) -> None:
        self.step = 0
        self.messages: list[list] = []   # per message, in send order: [born, fate, lost, dead]
        self.flight: dict[tuple, list[int]] = {}  # item -> its message numbers, oldest first
        self.timers: list[list] = []     # per set_timer call: [set step, fire step or None]
        self.armed: dict[tuple, int] = {}  # (node, name) -> its last setting's number

    def born(self, item: tuple, dead: bool) -> None:
        self.flight.setdefault(item, []).append(len(self.messages))
        self.messages.append([self.step, None, False, dead])

    def consume(self, item: tuple, how: str) -> None:
        k = self.flight[item].pop(0)
        if how != "never":
            self.messages[k][1] = self.step
            self.messages[k][2] = how == "lost"

    def convert(self, item: tuple, new: Optional[tuple]) -> None:
        k = self.flight[item].pop(0)
        if new is not None:
            self.flight.setdefault(new, []).append(k)

    def timer_set(self, node: int, name: str) -> None:
        self.armed[(node, name)] = len(self.timers)
        self.timers.append([self.step, None])

    def timer_gone(self, node: int, name: str) -> None:
        self.armed.pop((node, name), None)

    def timer_fired(self, node: int, name: str) -> None:
        k = self.armed.pop((node, name))
        self.timers[k][1] = self.step

    def crashed(self, node: int) -> None:
        for key in [key for key in self.armed if key[0] == node]:
            del self.armed[key]
