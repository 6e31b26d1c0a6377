"""Exceptions raised by raftlab."""

from __future__ import annotations


class CheckFailed(AssertionError):
    """A harness check failed (config.go's ``t.Fatalf``); the message is config.go's text."""


class NodeDown(ValueError):
    """The node is crashed: it has no running instance to ask."""


class SafetyViolation(AssertionError):
    """A trace breaks one of Raft's election-safety properties."""
