"""Steps 3-4 (3A): the RequestVote handler grants votes; a candidate counts them and leads."""

from __future__ import annotations

from ..formatting import format_ms
from ..messages import RequestVote, RequestVoteReply
from ..persister import encode_state
from ..rules import rule
from ..safety import election_safety_violations
from .harness import _Lab, _leader_event, _who
from .results import _fail


# ============================================================================ step 3
def _check_votes(lab: _Lab) -> str:
    p = lab.probe(n=3, me=0)
    rv = RequestVote(1, 1, 0, 0)
    reply = p.request(1, rv)
    if not (reply.granted and reply.term == 1):
        raise _fail(f"a fresh server (term 0, no vote, empty log) answered {rv!r} with "
                    f"{reply!r}; it must adopt term 1 and grant the vote: "
                    f"RequestVoteReply(term=1, granted=True)",
                    "request_vote: adopt a higher term first (current_term = args.term, "
                    "voted_for = None, become a follower), then grant if voted_for is None or "
                    "args.candidate.")
    if getattr(p.node, "current_term", None) != 1:
        raise _fail(f"after granting {rv!r} the server is a {p.state}; it must now be in term 1",
                    rule("step-down-request").hint)
    if not p.reset:
        raise _fail(f"the server granted {rv!r} without resetting its election timer",
                    "Followers: the election timer restarts when a vote is granted "
                    "(self.reset_election_timer()).")
    term, voted, _ = p.saved()
    if (term, voted) != (1, 1):
        raise _fail(f"the server granted {rv!r}, but the state it saved says term {term}, "
                    f"voted for {voted!r}: a server that crashes now would forget its vote and "
                    f"could vote again in term 1", rule("vote-persisted").hint)
    again = p.request(1, rv)
    if not again.granted:
        raise _fail(f"the server voted for node 1 in term 1, then answered the same {rv!r} "
                    f"again (its first reply may have been lost) with {again!r}; a vote for "
                    f"the same candidate is granted again",
                    "grant if voted_for is None or voted_for == args.candidate.")
    other = RequestVote(1, 2, 0, 0)
    reply = p.request(2, other)
    if reply.granted:
        raise _fail(f"the server voted for node 1 in term 1, then granted {other!r} too: two "
                    f"votes in one term", rule("one-vote").hint)
    stale = RequestVote(0, 2, 0, 0)
    reply = p.request(2, stale)
    if reply.granted or reply.term != 1:
        raise _fail(f"a server of term 1 answered {stale!r} with {reply!r}; it must refuse a "
                    f"candidate of an older term and reply its own term, 1",
                    rule("stale-vote").hint)
    q = lab.probe(n=3, me=0, state=encode_state(2, None, []))
    old = RequestVote(1, 1, 0, 0)
    reply = q.request(1, old)
    if reply.granted or reply.term != 2:
        raise _fail(f"a server of term 2 that has not voted in term 2 answered {old!r} with "
                    f"{reply!r}; a candidate of an older term is refused, whatever the vote",
                    rule("stale-vote").hint)
    newer = RequestVote(3, 2, 0, 0)
    reply = p.request(2, newer)
    if not (reply.granted and reply.term == 3 and getattr(p.node, "current_term", None) == 3):
        raise _fail(f"a server of term 1 that voted for node 1 answered {newer!r} with "
                    f"{reply!r} and is now a {p.state}; a new term means a new vote: adopt term "
                    f"3, forget the old vote and grant it", rule("step-down-request").hint)
    delivered = 0
    for seed in (1, 2, 3):
        c = lab.cluster(3, seed)
        c.run_for(3000)
        term_of: dict[int, int] = {}
        granted: dict[tuple[int, int], int] = {}
        for e in c.trace.of("state", "vote"):
            if e.kind == "state":
                term_of[e.node] = e.term
                continue
            delivered += 1
            now = term_of.get(e.node, 0)
            if e.term > now:
                raise _fail(f"node {e.node} answered a RequestVote of term {e.term} at "
                            f"{format_ms(e.time)} ms but stayed in term {now} "
                            f"({c.rebuild_call()})", rule("step-down-request").hint, c)
            if e.granted and e.term < now:
                raise _fail(f"node {e.node}, in term {now}, granted its vote to node "
                            f"{e.candidate} for the older term {e.term} at "
                            f"{format_ms(e.time)} ms ({c.rebuild_call()})",
                            rule("stale-vote").hint, c)
            if e.granted:
                before = granted.setdefault((e.node, e.term), e.candidate)
                if before != e.candidate:
                    raise _fail(f"node {e.node} granted its vote in term {e.term} to node "
                                f"{before} and then, at {format_ms(e.time)} ms, to node "
                                f"{e.candidate} ({c.rebuild_call()})", rule("one-vote").hint, c)
    where = (f"in clusters of seeds 1-3, {delivered} RequestVotes were answered, at most one "
             f"vote per server and term" if delivered else
             "no RequestVote was sent in a cluster yet (that is step 2)")
    return ("the handler granted a fresh candidate's vote (and again on a repeat), refused a "
            "second candidate of the same term and a stale one, and adopted a newer term; "
            + where + ".")


# ============================================================================ step 4
def _probe_counting(lab: _Lab) -> None:
    p = lab.probe(n=3, me=0)
    rv = p.candidate()
    p.reply(1, rv, RequestVoteReply(rv.term, False))
    if p.role != "candidate":
        raise _fail(f"node 0, candidate of term {rv.term} of 3 servers, got one refusal "
                    f"(RequestVoteReply(term={rv.term}, granted=False)) and is now a "
                    f"{p.state}: a refusal is not a vote", rule("election-safety").hint)
    p.reply(2, rv, RequestVoteReply(rv.term, True))
    if p.role != "leader":
        raise _fail(f"node 0, candidate of term {rv.term} of 3 servers, got a granted vote from "
                    f"node 2; with its own that is 2 of 3, a majority, yet it is a {p.state}",
                    rule("vote-counting").hint)
    p = lab.probe(n=3, me=0)
    first = p.candidate()
    second = p.candidate()  # its timer fires again: a new election, one term up
    p.reply(1, first, RequestVoteReply(first.term, True))
    if p.role == "leader":
        raise _fail(f"node 0 started elections in terms {first.term} and {second.term}; a vote "
                    f"granted for term {first.term} arrived late and made it leader of term "
                    f"{p.term}: only answers to the current election count",
                    "request_vote_reply: ignore a reply whose request's term is not "
                    "current_term (args.term != self.current_term).")
    p = lab.probe(n=3, me=0)
    rv = p.candidate()
    p.reply(1, rv, RequestVoteReply(rv.term + 2, False))
    if p.role != "follower" or p.term != rv.term + 2:
        raise _fail(f"node 0, candidate of term {rv.term}, got RequestVoteReply(term="
                    f"{rv.term + 2}, granted=False) and is now a {p.state}; it must become a "
                    f"follower of term {rv.term + 2}", rule("step-down-reply").hint)


def _check_leader(lab: _Lab) -> str:
    _probe_counting(lab)
    seen = []
    for seed, n in ((1, 3), (2, 3), (3, 5), (4, 5)):
        c = lab.cluster(n, seed)
        event = c.run_until_event(_leader_event, 5000)
        bad = election_safety_violations(c.trace)
        if bad:
            raise _fail(f"{bad[0]} ({c.rebuild_call()})", rule("election-safety").hint, c)
        majority = n // 2 + 1
        grants: dict[tuple[int, int], set[int]] = {}
        for v in c.trace.of("vote"):
            if v.granted:
                grants.setdefault((v.candidate, v.term), set()).add(v.node)
        if event is None:
            candidates = [e for e in c.trace.of("state") if e.role == "candidate"]
            if not candidates:
                raise _fail(f"no server became a candidate in 5 s of {c.rebuild_call()} "
                            f"(step 2)", rule("no-election").hint, c)
            if not grants:
                raise _fail(f"{len(candidates)} candidacies in 5 s of {c.rebuild_call()}, and "
                            f"not one vote granted (step 3)", rule("vote-counting").hint, c)
            for (cand, term), voters in sorted(grants.items(), key=lambda kv: kv[0][1]):
                if len(voters - {cand}) + 1 >= majority:
                    raise _fail(f"node {cand} was granted the votes of {_who(voters)} in term "
                                f"{term}, a majority of {n} with its own, but did not become "
                                f"leader within 5 s ({c.rebuild_call()})",
                                rule("vote-counting").hint, c)
            raise _fail(f"no candidate of {c.rebuild_call()} gathered a majority in 5 s: "
                        f"{len(candidates)} candidacies, granted votes "
                        + ", ".join(f"term {t}: {_who(v)} for node {k}"
                                    for (k, t), v in sorted(grants.items(),
                                                            key=lambda kv: kv[0][1])),
                        rule("leader-election").hint, c)
        leader, term = event.node, event.term
        voters = grants.get((leader, term), set()) - {leader}
        if len(voters) + 1 < majority:
            raise _fail(f"node {leader} became leader of term {term} at {format_ms(event.time)} "
                        f"ms with the votes of {_who(voters)} and its own: fewer than "
                        f"{majority} of {n} ({c.rebuild_call()})", rule("election-safety").hint,
                        c)
        c.run_for(2000)
        bad = election_safety_violations(c.trace)
        if bad:
            raise _fail(f"{bad[0]} ({c.rebuild_call()})", rule("election-safety").hint, c)
        seen.append(f"node {leader} of term {term} at {format_ms(event.time)} ms ({n} servers, "
                    f"seed {seed})")
    return ("a candidate alone won with its own vote and one more of three, not with a "
            "refusal or a late vote, and stepped down on a newer term; in clusters, a leader "
            "with a majority of votes, within 5 s, and never two in one term: "
            + "; ".join(seen) + ".")
