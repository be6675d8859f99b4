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
from collections.abc import Sequence

from .live.records import AgentPresence, LiveSession, SessionState

__all__ = ["can_serve", "declined_lately", "matches", "plan_rings", "reserved", "widens_at"]


def can_serve(agent: AgentPresence, session: LiveSession) -> bool:
    """The agent speaks the customer's language and knows the topic."""
    knows = not agent.skills or session.topic in agent.skills
    return speaks(agent, session) and knows


def speaks(agent: AgentPresence, session: LiveSession) -> bool:
    return not agent.languages or session.language in agent.languages


def widens_at(
    session: LiveSession, agents: Sequence[AgentPresence], *, overflow_s: float
) -> float | None:
    """When routing widens for this customer: ``MAYDAY_OVERFLOW_S`` after the press while no
    signed-in agent can serve them; ``None`` while one can (they wait for that agent)."""
    if any(agent.staffed and can_serve(agent, session) for agent in agents):
        return None
    return session.pressed_at + overflow_s


def declined_lately(
    agent: AgentPresence, session: LiveSession, *, now: float, decline_hold_s: float
) -> bool:
    declined = session.declined_at.get(agent.agent_id)
    return declined is not None and now < declined + decline_hold_s


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
    waiting: Sequence[LiveSession],
    agents: Sequence[AgentPresence],
    *,
    now: float,
    decline_hold_s: float,
    overflow_s: float = math.inf,
) -> list[tuple[str, str]]:
    """Pairs ``(session_id, agent_id)`` to ring now, first customer in line first."""
    free = sorted((a for a in agents if a.routable), key=lambda a: (a.idle_since, a.agent_id))
    plan: list[tuple[str, str]] = []
    for session in waiting:
        if not free:
            break
        if session.state is not SessionState.QUEUED or not session.device_connected:
            continue
        widen_at = widens_at(session, agents, overflow_s=overflow_s)
        widened = widen_at is not None and now >= widen_at
        candidates = [
            agent
            for agent in free
            if matches(agent, session, now=now, decline_hold_s=decline_hold_s, widened=widened)
        ]
        if widened:  # the customer's language first; then whoever has waited longest
            candidates.sort(key=lambda agent: not speaks(agent, session))
        if candidates:
            plan.append((session.id, candidates[0].agent_id))
            free.remove(candidates[0])
    return plan
