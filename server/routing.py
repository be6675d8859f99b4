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
* a customer an agent handed on to a named colleague (``session.transfer``) is rung only at that
  colleague while the reservation holds (whatever its languages and skills: the handing agent
  chose them); after a decline, a missed ring or the reservation's end, at whoever matches.

The plan is only a proposal: the store's atomic ``open_ring`` re-checks every condition, so a plan
made from a stale snapshot can lose a race but never double-book anyone.
"""

from __future__ import annotations

from collections.abc import Sequence

from .live.records import AgentPresence, LiveSession, SessionState

__all__ = ["can_serve", "declined_lately", "matches", "plan_rings", "reserved"]


def can_serve(agent: AgentPresence, session: LiveSession) -> bool:
    """The agent speaks the customer's language and knows the topic."""
    speaks = not agent.languages or session.language in agent.languages
    knows = not agent.skills or session.topic in agent.skills
    return speaks and knows


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
    agent: AgentPresence, session: LiveSession, *, now: float, decline_hold_s: float
) -> bool:
    kept_for = reserved(session, now)
    if kept_for is not None:
        return agent.agent_id == kept_for
    return can_serve(agent, session) and not declined_lately(
        agent, session, now=now, decline_hold_s=decline_hold_s
    )


def plan_rings(
    waiting: Sequence[LiveSession],
    agents: Sequence[AgentPresence],
    *,
    now: float,
    decline_hold_s: float,
) -> list[tuple[str, str]]:
    """Pairs ``(session_id, agent_id)`` to ring now, first customer in line first."""
    free = sorted((a for a in agents if a.routable), key=lambda a: (a.idle_since, a.agent_id))
    plan: list[tuple[str, str]] = []
    for session in waiting:
        if not free:
            break
        if session.state is not SessionState.QUEUED or not session.device_connected:
            continue
        for agent in free:
            if matches(agent, session, now=now, decline_hold_s=decline_hold_s):
                plan.append((session.id, agent.agent_id))
                free.remove(agent)
                break
    return plan
