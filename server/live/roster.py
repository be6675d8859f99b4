"""The signed-in agents as routing reads them: who is free, who is wrapping up, who is staffed.

Both stores keep one, as both keep the waiting line (:mod:`.line`): the memory store with each
change of an agent, the Redis store's copy of the agents (:mod:`.redis_agents`) with each sync.
On a desk of a thousand agents, most of them in a session, every routing pass and every help
press's ticket used to look at each agent: which are free, which are overdue from their
wrap-up, who speaks what. The free ones are a handful, and who is staffed (and what they speak
and know) changes only when an agent signs in or out, goes away or comes back, or loses its
socket, not at each ring, accept and end. So the roster keeps the free and the wrapping-up
agents apart, and keeps what is worked out from the staffed ones (``routing.Coverage``, through
:meth:`AgentRoster.kept`) until one of them changes in a way that matters to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .records import AgentPresence

__all__ = ["AgentRoster"]

T = TypeVar("T")

_Staffing = tuple[tuple[str, ...], tuple[str, ...]] | None
"""What of an agent counts for who can be served: its languages and skills while staffed."""


def _staffing(agent: AgentPresence | None) -> _Staffing:
    if agent is None or not agent.staffed:
        return None
    return (tuple(agent.languages), tuple(agent.skills))


class AgentRoster:
    """Every agent's newest record, and the free, wrapping-up and staffed ones apart. The
    records are the caller's, never changed in place (a change puts a new record)."""

    def __init__(self) -> None:
        self._agents: dict[str, AgentPresence] = {}
        self._free: dict[str, AgentPresence] = {}
        self._wrapping: dict[str, AgentPresence] = {}
        self._staffed: dict[str, AgentPresence] = {}
        self._kept: dict[Callable[[Mapping[str, AgentPresence]], Any], Any] = {}
        self.staffing = 0
        """Counted up whenever who is staffed, or what a staffed agent speaks or knows, changes."""

    def __len__(self) -> int:
        return len(self._agents)

    def put(self, agent_id: str, agent: AgentPresence | None) -> None:
        """The agent's newest record (``None``: gone)."""
        old = self._agents.pop(agent_id, None) if agent is None else self._agents.get(agent_id)
        if agent is not None:
            self._agents[agent_id] = agent
        _place(self._free, agent_id, agent if agent is not None and agent.routable else None)
        wrapping = agent is not None and agent.wrapup_until is not None
        _place(self._wrapping, agent_id, agent if wrapping else None)
        staffed = agent is not None and agent.staffed
        if _staffing(old) != _staffing(agent):
            # A new mapping: what was worked out from the old one stays consistent with it.
            self._staffed = dict(self._staffed)
            self._kept.clear()
            self.staffing += 1
        _place(self._staffed, agent_id, agent if staffed else None)

    def get(self, agent_id: str) -> AgentPresence | None:
        return self._agents.get(agent_id)

    def agents(self) -> list[AgentPresence]:
        """Every agent."""
        return list(self._agents.values())

    def free(self) -> list[AgentPresence]:
        """The agents who can be rung now (``AgentPresence.routable``)."""
        return list(self._free.values())

    def wrapping(self) -> list[AgentPresence]:
        """The agents wrapping up a session."""
        return list(self._wrapping.values())

    @property
    def staffed(self) -> Mapping[str, AgentPresence]:
        """The staffed agents (``AgentPresence.staffed``), with their newest records."""
        return self._staffed

    def kept(self, make: Callable[[Mapping[str, AgentPresence]], T]) -> T:
        """``make(staffed)``, worked out once and kept until the staffing changes: what ``make``
        reads of the agents must be their languages and skills (and who is staffed) alone."""
        try:
            return self._kept[make]  # type: ignore[no-any-return]
        except KeyError:
            value = self._kept[make] = make(self._staffed)
            return value


def _place(table: dict[str, AgentPresence], key: str, value: AgentPresence | None) -> None:
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value
