"""The live records every server process shares through the store: sessions, agents, rings.

They are plain pydantic models so that the in-memory store can keep them as objects and the Redis
store can keep them as JSON, with the same validation on the way back in.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from signaling.models import CustomerKind, HandOn, Watcher

__all__ = [
    "WAITING_STATES",
    "Actor",
    "AgentPresence",
    "AuditEvent",
    "ControlState",
    "LiveSession",
    "RingRecord",
    "SessionState",
    "Stats",
]


class SessionState(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    CONNECTING = "connecting"
    ACTIVE = "active"
    ENDED = "ended"


class ControlState(StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    GRANTED = "granted"
    SUSPENDED = "suspended"
    """Consent was given, but a party dropped off; it comes back without a new dialog if the
    same session resumes before the lease runs out."""


WAITING_STATES = frozenset({SessionState.QUEUED, SessionState.RINGING})
"""States in which the customer holds a place in the queue."""

ActorKind = Literal["device", "agent", "system"]


class Actor(BaseModel):
    """Who caused something: a device, an agent (by id), or the server itself."""

    kind: ActorKind
    id: str | None = None
    name: str | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls(kind="system")

    def label(self) -> str:
        return f"{self.kind}:{self.id}" if self.id else self.kind


class AuditEvent(BaseModel):
    """One line of a session's timeline: who did what, when and why."""

    session_id: str
    seq: int
    at: float
    actor: Actor
    kind: str
    """``transition`` for state changes; otherwise what happened (``ring.declined``, ...)."""
    from_state: SessionState | None = None
    to_state: SessionState | None = None
    reason: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class LiveSession(BaseModel):
    """A customer's request for help, from the press of the button to the end of the session.

    The ticket id and the session id are the same id: one record follows the request through every
    state, so its timeline tells the whole story.
    """

    id: str
    device_id: str
    device_name: str
    device_kind: CustomerKind = "device"
    """What the customer is on; sessions kept in the store before web visitors existed read as
    ``device``."""
    topic: str
    locale: str
    state: SessionState = SessionState.QUEUED
    created_at: float
    queue_score: float
    """Order in the queue; a request that goes back to the queue keeps its place. A ticket
    requeued after its agent was lost is scored ahead of every first request (see
    :func:`server.live.ops.requeue_session`)."""
    waiting_since: float | None = None
    """When the customer first pressed the button, if before ``created_at``: a ticket requeued
    after its agent was lost keeps the press of the ticket it replaces."""
    requeued_from: str | None = None
    """The session this ticket continues: ended because its agent was lost (``agent_lost``) or
    handed the customer on (``transferred``, see ``handed_on``)."""
    handed_on: HandOn | None = None
    """From a transfer: who handed the customer on, to whom, and the note for the next agent."""
    reserved_for: str | None = None
    """A ticket handed on to one agent: only that agent is rung for it, until it declines or lets
    the ring pass, or ``reserved_until``; then whoever matches (``server/routing.py``)."""
    reserved_until: float | None = None
    callback_at: float | None = None
    """When the customer chose "Call me back" (``callback.request``): routing then rings the
    customer, holding the free agent (``server/desk/callbacks.py``); the place is kept."""
    callback_missed: int = 0
    """Callbacks the customer did not answer; past ``MAYDAY_CALLBACK_RETRIES`` the ticket ends."""
    callback_missed_at: float | None = None
    """When the last callback was missed: routing rings the customer again only
    ``MAYDAY_CALLBACK_RETRY_S`` later (``server/routing.py``)."""
    watchers: dict[str, Watcher] = Field(default_factory=dict)
    """Supervisors watching (or joined to) the session, by account id (``server/live/watch.py``)."""
    # What the session gathers on its way, each ``None`` (or empty) until it gets there: plain
    # declarations, alike in shape as a record's fields are.
    rung_at: float | None = None
    accepted_at: float | None = None
    active_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    ended_by: ActorKind | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    ring_id: str | None = None
    declined_at: dict[str, float] = Field(default_factory=dict)
    """Agents who declined this customer, and when: routing leaves them out for the decline
    hold (``MAYDAY_DECLINE_HOLD_S``), then may ring them again, so nobody waits forever."""
    notes: str = ""
    """The agent's own notes on the session."""
    control: ControlState = ControlState.NONE
    """Remote-control consent, a sub-state of a connecting or active session (see ``control.py``)."""
    control_request_id: str | None = None
    control_lease_until: float | None = None
    control_lost_at: float | None = None
    """While ``suspended``: when the party whose loss suspended control was last known connected."""
    device_sid: str | None = None
    device_node: str | None = None
    """The server process holding the device's socket, to notice when that process dies."""
    device_lost_at: float | None = None
    agent_lost_at: float | None = None
    timeline: list[AuditEvent] = Field(default_factory=list)

    @property
    def pressed_at(self) -> float:
        """When the customer pressed the help button for this request (or the one it replaces)."""
        return self.created_at if self.waiting_since is None else self.waiting_since

    @property
    def language(self) -> str:
        return self.locale.replace("_", "-").split("-")[0].lower()

    @property
    def device_connected(self) -> bool:
        return self.device_lost_at is None


class AgentPresence(BaseModel):
    """A signed-in agent as routing sees them."""

    agent_id: str
    name: str
    languages: list[str]
    skills: list[str]
    status: Literal["available", "away"] = "away"
    sid: str | None = None
    node: str | None = None
    lost_at: float | None = None
    idle_since: float
    ring_id: str | None = None
    session_id: str | None = None
    wrapup_until: float | None = None
    """After a session: the agent's after-call work, no rings until they say they are done or
    this time passes (``MAYDAY_WRAPUP_S``)."""
    status_since: float | None = None
    """When the agent last changed what the wallboard shows of it (available, ringing, in a
    session, wrapping up, away, offline): set by every change of those fields. ``None``: a
    presence recorded before the field existed."""
    watching: str | None = None
    """A supervisor's: the session it watches (or joined), one at a time (``live/watch.py``)."""

    @property
    def connected(self) -> bool:
        return self.sid is not None and self.lost_at is None

    @property
    def routable(self) -> bool:
        """Can be rung right now."""
        return (
            self.connected
            and self.status == "available"
            and self.ring_id is None
            and self.session_id is None
            and self.wrapup_until is None
        )

    @property
    def staffed(self) -> bool:
        """Counts as capacity for the wait estimate (available, ringing, in a session or
        wrapping one up)."""
        return self.connected and (self.status == "available" or self.session_id is not None)


class RingRecord(BaseModel):
    ring_id: str
    session_id: str
    agent_id: str
    started_at: float
    expires_at: float
    callback: bool = False
    """A callback: the customer's device is rung while the agent is held (§20.3)."""


class Stats(BaseModel):
    """Observed figures behind the wait estimate, shared by all processes."""

    handling_time_s: float
    """Exponentially weighted mean of accepted → ended durations."""
    handled: int = 0
    arrival_rate: float = 0.0
    """Decayed arrivals per second (time constant ``ARRIVAL_TAU_S``)."""
    arrival_at: float = 0.0
