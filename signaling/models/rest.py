"""Bodies of the REST endpoints (§3, §14, §18)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from ..roles import AccountRole
from .base import Id, Inbound, Locale, Name, Outbound, Timestamp
from .session import AgentInfo, CustomerKind

# --- REST --------------------------------------------------------------------------------------


class DeviceRegistration(Inbound):
    """``POST /api/devices``"""

    name: Name = "tablet"
    enrollment_key: Annotated[str, StringConstraints(max_length=256)] | None = None


class DeviceRegistrationResponse(Outbound):
    device_id: Id
    device_secret: str


class AgentLoginRequest(Inbound):
    """``POST /api/agents/login``"""

    name: Name
    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class PasswordChange(Inbound):
    """``POST /api/agents/password``: the current password, and the new one (as the CLI's rule)."""

    password: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    new_password: Annotated[str, StringConstraints(min_length=8, max_length=1024)]


class AgentLoginResponse(Outbound):
    token: str
    expires_at: Timestamp
    agent: AgentInfo
    languages: list[str]
    skills: list[str]
    role: AccountRole = Field(
        description="What the account may do (``agent``, ``supervisor``, ``admin``), §19."
    )


SiteKey = Annotated[str, StringConstraints(pattern=r"^site_[A-Za-z0-9_-]{1,64}$")]
"""A site's public key, as in the widget's ``data-site-key``."""


class WebVisitorRequest(Inbound):
    """``POST /api/web/visitors``, sent by the widget from the customer's page."""

    site_key: SiteKey
    locale: Locale | None = None


class WebSite(Outbound):
    name: str


class WebVisitorResponse(Outbound):
    device_id: Id
    device_secret: str
    site: WebSite


# --- the agent's read-outs: a customer's history, canned replies, screenshots -------------------


class ScreenshotInfo(Outbound):
    """A still image an agent kept with a session (``POST /api/sessions/{id}/screenshots``); the
    image itself is at ``GET /api/sessions/{session_id}/screenshots/{id}``."""

    id: Id
    session_id: Id
    at: Timestamp
    content_type: Literal["image/png", "image/jpeg"]
    size: int = Field(ge=1, description="Bytes.")


class DeviceSummary(Outbound):
    """What the server knows of a customer's device (or web visitor) itself."""

    id: Id
    name: str
    kind: CustomerKind
    created_at: Timestamp = Field(description="When it registered.")


class PastSession(Outbound):
    """One of a device's sessions, as its record has it."""

    id: Id
    state: str = Field(description="``ended`` once over; a live session's state as last stored.")
    topic: str
    locale: str
    agent: AgentInfo | None = Field(description="The agent as the customer saw them; null if none.")
    created_at: Timestamp
    ended_at: Timestamp | None
    end_reason: str | None
    ended_by: Literal["device", "agent", "system"] | None
    rating: int | None = Field(description="The customer's 1–5 rating, after the end.")
    notes: str
    screenshots: list[ScreenshotInfo]


class DeviceHistory(Outbound):
    """``GET /api/devices/{device_id}/sessions``: the device and its sessions, newest first."""

    device: DeviceSummary | None = Field(
        description="null when the device's own record is gone (its site was removed)."
    )
    sessions: list[PastSession]


class CannedReply(Outbound):
    id: Id
    text: str


class CannedReplies(Outbound):
    """``GET /api/canned-replies``: the desk's short replies, in their order (``mayday canned``)."""

    replies: list[CannedReply]


ColleagueState = Literal["available", "busy", "wrapup", "away"]


class Colleague(Outbound):
    """A signed-in colleague, as ``GET /api/colleagues`` lists them for a transfer (§19.4)."""

    id: Id
    name: str
    state: ColleagueState = Field(
        description="``available``: takes a transfer now; ``busy``: in a session or being rung; "
        "``wrapup``: finishing a session; ``away``: signed in but not taking customers."
    )
    languages: list[str]
    skills: list[str]


class Colleagues(Outbound):
    """``GET /api/colleagues``: every other signed-in account, by name."""

    colleagues: list[Colleague]
