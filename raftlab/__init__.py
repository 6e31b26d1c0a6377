"""raftlab: watch and test Raft leader election on a deterministic simulated network.

The public surface (see the API contract) is re-exported here::

    from raftlab import Cluster, CheckFailed
    c = Cluster(3, seed=1)
    leader = c.check_one_leader()
"""

from .cluster import Cluster, NodeHandle
from .config import NetworkConfig, RaftConfig
from .errors import CheckFailed, NodeDown, SafetyViolation
from .messages import (AppendEntries, AppendEntriesReply, LogEntry, PreVote, PreVoteReply,
                       RequestVote, RequestVoteReply)
from .node import ApplyMsg, RaftNode
from .persister import Persister
from .protocol import Environment, NodeProtocol
from .safety import check_election_safety, election_safety_violations
from .trace import KINDS, Trace

__version__ = "0.1.0"

__all__ = [
    "Cluster", "NodeHandle", "CheckFailed", "NodeDown", "SafetyViolation", "ApplyMsg",
    "RaftConfig", "NetworkConfig", "NodeProtocol", "Environment", "RaftNode", "Persister", "Trace", "KINDS", "check_election_safety",
    "election_safety_violations", "RequestVote", "RequestVoteReply", "AppendEntries",
    "AppendEntriesReply", "PreVote", "PreVoteReply", "LogEntry", "__version__",
]
