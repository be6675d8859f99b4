"""Who should ring whom: a pure plan over a snapshot of the queue and the agents.

Rules, in the order a support desk expects them:

* customers are served first come, first served; one who goes back to the queue after a declined
  or missed ring keeps their place;
* an agent matches a customer when the agent speaks the customer's language and has the topic as
  a skill; an agent with no languages (or no skills) listed takes any;
* among matching agents the one idle longest gets the ring (fair share of work);
* an agent who declined a customer is not rung for that customer again;
* a customer whose device is disconnected (inside its grace period) is not rung.

The plan is only a proposal: the store's atomic ``open_ring`` re-checks every condition, so a plan
made from a stale snapshot can lose a race but never double-book anyone.
"""

from __future__ import annotations

from collections.abc import Sequence

from .live.records import AgentPresence, LiveSession, SessionState

__all__ = ["matches", "plan_rings"]


def matches(agent: AgentPresence, session: LiveSession) -> bool:
    speaks = not agent.languages or session.language in agent.languages
    knows = not agent.skills or session.topic in agent.skills
    return speaks and knows and agent.agent_id not in session.declined_by


def plan_rings(
    waiting: Sequence[LiveSession], agents: Sequence[AgentPresence]
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
            if matches(agent, session):
                plan.append((session.id, agent.agent_id))
                free.remove(agent)
                break
    return plan
