"""Bodies of REST answers that no socket event carries (the session read-outs, ``/readyz``, the
error body, ``{"ok": true}``): the documentation's own models, for the OpenAPI document
(``signaling.openapi``), held equal to the server's answers by ``tests/test_fuzz_rest.py`` and
``tests/test_openapi.py``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from . import models as m
from .errors import ErrorCode
from .models import Outbound
from .models.rest import ScreenshotInfo

__all__ = [
    "ActorKind",
    "ErrorBody",
    "ErrorDetail",
    "IceServers",
    "Ok",
    "Probe",
    "Readiness",
    "SessionDevice",
    "SessionStateName",
    "SessionTimeline",
    "SessionView",
    "TimelineActor",
    "TimelineEvent",
]


SessionStateName = Literal["queued", "ringing", "connecting", "active", "ended"]
ActorKind = Literal["device", "agent", "system"]


class ErrorDetail(Outbound):
    code: ErrorCode
    message: Annotated[str, StringConstraints(min_length=1)] = Field(
        description="For people: says what is wrong and what to do next; may change."
    )


class ErrorBody(Outbound):
    """Every error answer: a stable machine-readable ``code`` and a message (§5)."""

    error: ErrorDetail


class Ok(Outbound):
    ok: Literal[True]


class Probe(Outbound):
    ok: bool
    error: str | None = Field(default=None, description="Left out while ``ok``.")


class Readiness(Outbound):
    """``GET /readyz``: may a load balancer send this process new work?"""

    ready: bool
    checks: dict[str, Probe] = Field(description="``records``; with Redis, ``redis``, ``fanout``.")


class IceServers(Outbound):
    ice_servers: list[m.IceServer]


class SessionDevice(Outbound):
    id: str
    name: str
    connected: bool = Field(description="Always false once the session is over and stored.")


class SessionView(Outbound):
    """``GET /api/sessions/{session_id}``: a live or a recorded session."""

    id: str
    state: SessionStateName
    topic: str
    locale: str
    device: SessionDevice
    agent: m.AgentInfo | None = Field(description="null until a ring was accepted.")
    created_at: float
    rung_at: float | None
    accepted_at: float | None
    active_at: float | None
    ended_at: float | None
    end_reason: str | None
    ended_by: ActorKind | None
    rating: int | None = Field(description="The customer's 1–5 rating, after the end.")
    solved: bool | None = Field(
        description='The customer\'s answer to "Was your problem solved?"; null: not answered.'
    )
    notes: str
    screenshots: list[ScreenshotInfo] = Field(
        description="The still images the agent kept with the session, oldest first."
    )


class TimelineActor(Outbound):
    kind: ActorKind
    id: str | None
    name: str | None


class TimelineEvent(Outbound):
    """One line of a session's audit timeline (§10.7, §14)."""

    session_id: str
    seq: int
    at: float
    actor: TimelineActor
    kind: str = Field(description="``transition`` for state changes, else what happened.")
    from_state: SessionStateName | None
    to_state: SessionStateName | None
    reason: str
    detail: dict[str, Any]


class SessionTimeline(Outbound):
    """``GET /api/sessions/{session_id}/events``: the audit timeline, oldest first."""

    session_id: str
    events: list[TimelineEvent]
