"""Who should ring whom: a pure plan over a snapshot of the queue and the agents.

Rules, in the order a support desk expects them:

* customers are served first come, first served; one who goes back to the queue after a declined
  or missed ring keeps their place;
* an agent matches a customer when the agent speaks the customer's language and has the topic as
  a skill; an agent with no languages (or no skills) listed takes any;
* among matching agents the one idle longest gets the ring (fair share of work);
* an agent who declined a customer is not rung for that customer again until the decline hold
  has passed (``MAYDAY_DECLINE_HOLD_S``): with nobody else to take them, the customer would
  otherwise wait forever;
* an agent wrapping up a session is not rung (``AgentPresence.routable``);
* a customer whose device is disconnected (inside its grace period) is not rung;
* a customer whom no signed-in agent can serve (language or topic) is rung, once they have waited
  ``MAYDAY_OVERFLOW_S`` since the press, at any free agent: one who speaks their language first,
  then anyone (*widened* routing, told to the customer: protocol §20.1);
* a customer an agent handed on to a named colleague (``session.transfer``) is rung only at that
  colleague while the reservation holds (whatever its languages and skills: the handing agent
  chose them); after a decline, a missed ring or the reservation's end, at whoever matches.

The plan is only a proposal: the store's atomic ``open_ring`` re-checks every condition, so a plan
made from a stale snapshot can lose a race but never double-book anyone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence

from .live.line import WaitingLine, line_key
from .live.records import AgentPresence, LiveSession, SessionState

__all__ = [
    "Coverage",
    "can_serve",
    "declined_lately",
    "matches",
    "plan_rings",
    "reserved",
    "widens_at",
]


def can_serve(agent: AgentPresence, session: LiveSession) -> bool:
    """The agent speaks the customer's language and knows the topic."""
    knows = not agent.skills or session.topic in agent.skills
    return speaks(agent, session) and knows


def speaks(agent: AgentPresence, session: LiveSession) -> bool:
    return not agent.languages or session.language in agent.languages


class Coverage:
    """Which signed-in agents can serve a customer, by language and topic, each asked once.

    The staffed agents are indexed by language in one scan, when first asked; customers of one
    language and topic share the answer, so a queue of thousands costs that scan and one pass
    over a language's speakers per topic, not a scan of all agents per customer. Routing asks
    :meth:`served` for the head of every language and topic in line on every pass.

    The server keeps one until the staffing changes (:meth:`of_roster`): what it answers depends
    on who is staffed and what they speak and know, nothing else. The agents it hands out
    (``staffed``, :meth:`serving`) are as they were when it was made: for their number and
    their ids, not for whether they are free now."""

    ANY = ""
    """The index entry of agents who list no language (they speak every language)."""

    def __init__(self, agents: Iterable[AgentPresence]) -> None:
        self.staffed = [agent for agent in agents if agent.staffed]
        self._speaking: dict[str, list[AgentPresence]] | None = None
        self._serving: dict[tuple[str, str], list[AgentPresence]] = {}
        self._served: dict[tuple[str, str], bool] = {}

    @classmethod
    def of_roster(cls, staffed: Mapping[str, AgentPresence]) -> Coverage:
        """For :meth:`AgentRoster.kept <server.live.roster.AgentRoster.kept>`: one coverage per
        staffing, shared by every routing pass and ticket until an agent's staffing changes."""
        return cls(staffed.values())

    def _speakers(self, language: str) -> Iterator[AgentPresence]:
        """The staffed agents who speak ``language``, then those who speak every language."""
        speaking = self._speaking
        if speaking is None:
            speaking = self._speaking = {}
            for agent in self.staffed:
                for spoken in agent.languages or (self.ANY,):
                    speakers = speaking.setdefault(spoken, [])
                    if not speakers or speakers[-1] is not agent:  # a language listed twice
                        speakers.append(agent)
        yield from speaking.get(language, ())
        if language != self.ANY:
            yield from speaking.get(self.ANY, ())

    def serving(self, session: LiveSession) -> list[AgentPresence]:
        """The signed-in agents who speak the customer's language and know the topic."""
        language, topic = key = (session.language, session.topic)
        found = self._serving.get(key)
        if found is None:
            found = self._serving[key] = [
                agent
                for agent in self._speakers(language)
                if not agent.skills or topic in agent.skills
            ]
        return found

    def served(self, session: LiveSession) -> bool:
        """Some signed-in agent speaks the customer's language and knows the topic (as
        ``bool(serving(session))``, but it stops at the first such agent)."""
        language, topic = key = (session.language, session.topic)
        found = self._served.get(key)
        if found is None:
            found = self._served[key] = any(
                not agent.skills or topic in agent.skills for agent in self._speakers(language)
            )
        return found

    def widens_at(self, session: LiveSession, *, overflow_s: float) -> float | None:
        """When routing widens for this customer: ``MAYDAY_OVERFLOW_S`` after the press while
        agents are signed in but none can serve them; ``None`` while one can (they wait for
        that agent) or nobody is signed in at all (there is nobody to widen to)."""
        if not self.staffed or self.served(session):
            return None
        return session.pressed_at + overflow_s

    def widened(self, session: LiveSession, *, now: float, overflow_s: float) -> bool:
        at = self.widens_at(session, overflow_s=overflow_s)
        return at is not None and now >= at


def widens_at(
    session: LiveSession, agents: Sequence[AgentPresence], *, overflow_s: float
) -> float | None:
    """:meth:`Coverage.widens_at` for one customer."""
    return Coverage(agents).widens_at(session, overflow_s=overflow_s)


def declined_lately(
    agent: AgentPresence, session: LiveSession, *, now: float, decline_hold_s: float
) -> bool:
    declined = session.declined_at.get(agent.agent_id)
    return declined is not None and now < declined + decline_hold_s


def retrying_later(session: LiveSession, *, now: float, callback_retry_s: float) -> bool:
    """A callback the customer just missed: not rung again until the retry pause is over."""
    missed = session.callback_missed_at
    return missed is not None and now < missed + callback_retry_s


def reserved(session: LiveSession, now: float) -> str | None:
    """The agent a handed-on ticket is kept for right now, if any."""
    if session.reserved_for is None or (
        session.reserved_until is not None and now >= session.reserved_until
    ):
        return None
    return session.reserved_for


def matches(
    agent: AgentPresence,
    session: LiveSession,
    *,
    now: float,
    decline_hold_s: float,
    widened: bool = False,
) -> bool:
    kept_for = reserved(session, now)
    if kept_for is not None:
        return agent.agent_id == kept_for
    return (widened or can_serve(agent, session)) and not declined_lately(
        agent, session, now=now, decline_hold_s=decline_hold_s
    )


def plan_rings(
    line: WaitingLine,
    agents: Sequence[AgentPresence],
    *,
    now: float,
    decline_hold_s: float,
    overflow_s: float = math.inf,
    callback_retry_s: float = 0.0,
    coverage: Coverage | None = None,
) -> list[tuple[str, str]]:
    """Pairs ``(session_id, agent_id)`` to ring now, first customer in line first.

    Only the customers some free agent might take are looked at (:func:`_passed_over`): a pass
    costs what the free agents can serve, not what the whole queue holds. ``coverage`` is
    ``Coverage(agents)``, if the caller has it already; with it, ``agents`` need only hold the
    free ones (the server passes its roster's, :mod:`server.live.roster`)."""
    free = sorted((a for a in agents if a.routable), key=lambda a: (a.idle_since, a.agent_id))
    if not free:
        return []
    coverage = coverage or Coverage(agents)
    plan: list[tuple[str, str]] = []
    planned: set[str] = set()
    heads = {line_key(head): head for head in line.heads()}
    # The languages and topics worth a look: those a free agent serves, and those nobody signed
    # in serves (routing may widen for them); see _passed_over.
    open_keys = [key for key, head in heads.items() if not _passed_over(head, free, coverage)]
    candidates = line.in_line(open_keys)
    while free:
        session = next(candidates, None)
        if session is None:
            break
        if session.id in planned:
            continue
        chosen = _agent_for(
            session,
            free,
            coverage,
            now=now,
            decline_hold_s=decline_hold_s,
            overflow_s=overflow_s,
            callback_retry_s=callback_retry_s,
        )
        if chosen is None:
            continue
        plan.append((session.id, chosen.agent_id))
        planned.add(session.id)
        free = [agent for agent in free if agent is not chosen]
        # Only what the agent just rung could serve may have nobody free left to serve it. Such
        # groups are left out at once, and the line is looked at again from the front (a
        # customer passed by before has no match among fewer agents either): walking on went to
        # the end of the group, hundreds of customers, whenever the one free agent serving it
        # was rung while agents serving nobody waiting stayed free.
        closed = [
            key
            for key in open_keys
            if can_serve(chosen, heads[key]) and _passed_over(heads[key], free, coverage)
        ]
        if closed:
            open_keys = [key for key in open_keys if key not in closed]
            candidates = line.in_line(open_keys)
    return plan


def _agent_for(
    session: LiveSession,
    free: Sequence[AgentPresence],
    coverage: Coverage,
    *,
    now: float,
    decline_hold_s: float,
    overflow_s: float,
    callback_retry_s: float,
) -> AgentPresence | None:
    """The free agent to ring for this customer now, if any (the longest idle who matches)."""
    if session.state is not SessionState.QUEUED or session.device_lost_at is not None:
        return None  # being rung already, or the device is away (within its grace)
    if retrying_later(session, now=now, callback_retry_s=callback_retry_s):
        return None
    chosen = next(
        (a for a in free if matches(a, session, now=now, decline_hold_s=decline_hold_s)), None
    )
    if chosen is None and coverage.widened(session, now=now, overflow_s=overflow_s):
        # Anyone free now; the customer's language first, then whoever waited longest.
        anyone = [
            a
            for a in free
            if matches(a, session, now=now, decline_hold_s=decline_hold_s, widened=True)
        ]
        chosen = next((a for a in anyone if speaks(a, session)), anyone[0] if anyone else None)
    return chosen


def _passed_over(session: LiveSession, free: Sequence[AgentPresence], coverage: Coverage) -> bool:
    """No free agent can serve the customer, and routing never widens for them (an agent who
    can is signed in): then no free agent :func:`matches` them, whatever their declines. Alike
    for every customer of the same language and topic who is not kept for a colleague."""
    return not any(can_serve(agent, session) for agent in free) and coverage.served(session)
