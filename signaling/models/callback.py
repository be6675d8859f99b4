"""Callback instead of waiting (§20.3): the customer leaves the line but keeps their place, and
the server rings them when an agent is free.

The server holds the free agent while it rings the customer (``callback.calling`` tells the
agent), so an answer connects at once: the customer never answers into a second wait.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Id, Inbound, Outbound
from .session import AgentInfo, QueueEntry

__all__ = [
    "CallbackAnswer",
    "CallbackCalling",
    "CallbackCancelled",
    "CallbackRequest",
    "CallbackRing",
]


class CallbackRequest(Inbound):
    """Device → server: "Call me back" for the customer's waiting ticket."""

    ticket_id: Id


class CallbackRing(Outbound):
    """Server → device: an agent is free and held for this customer: connect now?"""

    ring_id: Id
    ticket_id: Id
    agent: AgentInfo
    timeout_s: float = Field(description="Unanswered after this long, the callback is missed.")
    attempt: int = Field(ge=1, description="1 for the first callback, 2 after one was missed...")


class CallbackAnswer(Inbound):
    """Device → server: the customer's answer to ``callback.ring``."""

    ring_id: Id
    accept: bool = Field(
        description="``true``: connect now (``session.started`` follows); ``false``: not now, "
        "counted as a missed callback."
    )


class CallbackCancelled(Outbound):
    """Server → device: a ``callback.ring`` is over without a connection."""

    ring_id: Id
    reason: Literal["timeout", "declined", "agent_cancelled", "agent_lost"] = Field(
        description="``timeout``/``declined``: the customer let it pass or said not now (a missed "
        "callback); ``agent_cancelled``/``agent_lost``: the held agent withdrew or dropped (not "
        "counted as missed: the customer keeps the place and is rung again)."
    )


class CallbackCalling(Outbound):
    """Server → agent: the server holds this agent for a callback and is ringing the customer.

    No answer is needed: ``session.started`` follows when the customer connects, or
    ``ring.cancelled`` (``callback_missed``) when they do not. ``ring.decline`` with the ring id
    withdraws the agent (the customer keeps their place)."""

    ring_id: Id
    ticket: QueueEntry
    timeout_s: float
