"""Bodies of the REST endpoints (§3, §14, §18)."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from .base import Id, Inbound, Locale, Name, Outbound, Timestamp
from .session import AgentInfo

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
