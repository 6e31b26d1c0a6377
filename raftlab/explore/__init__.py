"""Exhaustive exploration: every ordering of a small cluster's messages and timers, breadth
first, with the shortest counterexample replayable in a normal ``Cluster``.

``explore(n=3, node_class=RaftNode, max_depth=16)`` runs any ``NodeProtocol`` class. A *state*
is every node's attributes (its ``__dict__``), its pending timers, the messages in flight, what
the rule monitors remember (the highest term of each node, its votes, the leader of each
term) and the entries seen committed. A *step* is one input to one node, or one fault:

* ``deliver``: a message in flight arrives (a request runs the handler, whose reply is then in
  flight; a reply runs ``handle_reply``), in any order: every pending message may be next;
* ``drop`` (only with ``drops=True``): a request or reply is lost, and its caller learns that
  the call failed (``handle_failure``), as labrpc reports a lost message;
* ``fail``: a call to a crashed node, or whose server crashed, fails (``handle_failure``);
* ``timer``: any pending timer of any live node fires next;
* ``start``: a leader is given the next client command (``1``, ``2``, ...; at most
  ``commands``);
* ``crash`` / ``restart`` (at most ``crashes`` crashes): a node stops and loses everything but
  its persister; later a new instance boots from the persisted state, as ``Cluster.crash``
  and ``Cluster.restart`` do.

Time is abstracted away: safety must hold whatever the timing, so any pending timer may fire
next whatever its length, and the values a node draws from its ``rng`` (timeout lengths) are
not explored -- the node gets an ``rng`` whose every draw is the midpoint (``random()`` is
0.5). A node whose behaviour depends on its draws other than through timer lengths is
explored with that one draw. What is *not* explored: a message delivered twice (labrpc never
duplicates), network partitions and cut links (a lost message is the same to a node; a
partition is a pattern of losses, explored with ``drops=True``), the protocol variants
(``pre_vote``, ``check_quorum``: their rules depend on elapsed time), and anything past
``max_depth`` steps or ``max_states`` states. A request sent by an instance that crashed stays
in flight and may arrive once that node is back (then its reply is lost), as in the simulator.

Checked in every state reached (the first violation ends the search): the grader's Figure 2
rule monitors (``raftlab.monitors``) on every input, except ``early-election``, which is about
elapsed time; Election Safety (one leader per term, across the whole history); Log Matching
between every two live nodes (an entry of the same index and term, the same prefix); Leader
Completeness (a leader of a term above the one in which an entry was seen committed holds it)
and State Machine Safety (one command per committed index; each node applies in order).

States are deduplicated by a canonical form: the nodes' attributes with lists, sets and dicts
turned into tuples and frozensets (immutable values such as messages and log entries as they
are), pending timers by name, messages in flight as a sorted multiset of (kind, from, to,
request, reply) without ids or times. Breadth-first search finds a shortest schedule to the
first violation; the search is a pure function of its arguments, so equal calls give equal
results. ``r.replay()`` runs that schedule in a ``Cluster`` (one virtual ms per step), whose
trace feeds the plots, the tables, the safety checker and ``ClusterLab`` unchanged.
"""

from .parts import CHECKED_RULES, PART_SETTINGS, explore_bugs, explore_part
from .replay import STEP_MS
from .results import ExploreResult, Step, Violation
from .search import MAX_EXPLORE_NODES, explore

__all__ = ["explore", "explore_part", "explore_bugs", "ExploreResult", "Step", "Violation",
           "MAX_EXPLORE_NODES", "PART_SETTINGS", "CHECKED_RULES", "STEP_MS"]
