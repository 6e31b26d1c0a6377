"""Step 10 (3C): persistence."""

from __future__ import annotations

from ..errors import CheckFailed
from ..formatting import format_ms
from ..persister import decode_state
from ..rules import rule
from .harness import _Lab, _logs, _wait_leader
from .results import _fail


# ============================================================================ step 10 (3C)
def _check_persist(lab: _Lab) -> str:
    c = lab.cluster(3, 1)
    _wait_leader(lab, c, step="steps 1-6")
    try:
        c.one(101, 3)
        c.one(102, 3)
    except CheckFailed as exc:
        raise _fail(f"{exc}: this step needs commands to commit (step 8)",
                    rule("log-replication").hint, c) from None
    for i in range(3):
        raft = c.nodes[i].raft
        term, voted, entries = decode_state(c.saved[i].read())
        have = (raft.current_term, getattr(raft, "voted_for", voted),
                [(e.term, e.command) for e in raft.log[1:]])
        saved = (term, voted, [(e.term, e.command) for e in entries])
        if have != saved:
            raise _fail(f"at {format_ms(c.now)} ms node {i} is in term {have[0]}, voted for "
                        f"{have[1]!r}, log {have[2]}, but its saved state says term {saved[0]}, "
                        f"voted for {saved[1]!r}, log {saved[2]} ({c.rebuild_call()})",
                        rule("persistence").hint, c)
    before = [(c.nodes[i].raft.current_term, _logs(c)[i]) for i in range(3)]
    for i in range(3):
        c.crash(i)
    for i in range(3):
        c.restart(i)
    for i in range(3):
        after = (c.nodes[i].raft.current_term, _logs(c)[i])
        if after != before[i]:
            raise _fail(f"node {i} was in term {before[i][0]} with log {before[i][1]} when it "
                        f"crashed and restarted in term {after[0]} with log {after[1]} "
                        f"({c.rebuild_call()})", rule("persistence").hint, c)
    try:
        c.one(103, 3)
    except CheckFailed as exc:
        raise _fail(f"after a crash and restart of every server: {exc}",
                    rule("persistence").hint, c) from None
    return ("the saved state matched the servers' own, and after every server crashed and "
            "restarted they kept their terms and logs and went on committing.")
