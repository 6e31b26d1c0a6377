"""The lab in steps: what to implement, the Figure 2 rule it implements, and a check of it.

``raftlab lab init`` writes a skeleton ``raft.py`` and a notebook that walks through
``STEPS`` in order. Each step is checked on its own, on small clusters of the student's class
(and, for the RPC handlers, on one server driven input by input), by reading the trace by
field name::

    from raftlab.assignment import check, check_all
    check(Raft, "election")          # one step: a StepResult (passed, message, hint)
    check_all(Raft, part="3A")       # every step of a part, in order

A check never raises for a wrong node: an exception in the node is reported with the node,
the virtual time and the input it was handling, and a run that floods the simulator is
stopped and named. ``run(cluster, ms)`` does the same for the notebook's own clusters.
The ported tests over many seeds are ``raftlab.grading``'s job; a step says *which* rule is
missing, early, with a hint.
"""

from .lab_steps import PARTS, STEPS, Step, check, check_all, steps
from .node_errors import describe_node_error, run
from .results import StepReport, StepResult

__all__ = ["Step", "StepResult", "StepReport", "STEPS", "PARTS", "steps", "check", "check_all",
           "run", "describe_node_error"]
