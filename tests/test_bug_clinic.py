"""The grader catches every specimen of the bug clinic, and names the rule it breaks."""

from __future__ import annotations

import pytest

from raftlab.bugs import BUGS
from raftlab.grading import grade
from raftlab.rules import RULES

pytestmark = pytest.mark.unsafe  # the specimens break Raft on purpose

#: seeds per specimen: enough for the rarest (VotesForStaleCandidate fails 1 run in 10)
SEEDS = {"3A": 20, "3B": 3, "3C": 2}


@pytest.mark.parametrize("name", list(BUGS))
def test_the_grader_catches_each_specimen_with_its_rule(name):
    bug = BUGS[name]
    report = grade(bug, part=bug.part, seeds=SEEDS[bug.part], progress=False)
    assert not report.passed, f"{name} passed its grading:\n{report}"
    first = report.failures[0]
    assert first.rule == bug.rule, f"{name}: first failure names {first.rule}:\n{report}"
    assert first.hint == RULES[bug.rule].hint
    assert first.figure2 == RULES[bug.rule].figure2
    assert f"hint: {first.hint}" in str(report)


def test_each_specimen_has_its_own_rule_and_every_rule_it_names_exists():
    rules = [bug.rule for bug in BUGS.values()]
    assert len(rules) == len(set(rules)) >= 12
    assert all(rule in RULES for rule in rules)


@pytest.mark.parametrize("name", ["NoStepDownOnReply", "NoConflictTruncation",
                                  "CommitsOldTermEntries"])
def test_a_specimen_replays_to_the_input_that_broke_the_rule(name):
    bug = BUGS[name]
    first = grade(bug, part=bug.part, seeds=SEEDS[bug.part], progress=False).failures[0]
    c = first.replay()
    assert c.now == first.time
    assert c.node_class is bug
