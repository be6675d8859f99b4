"""The records' tables: agents, the sites of web visitors, devices, sessions and their timeline,
canned replies, screenshots, and the server's own secrets.

SQLAlchemy 2 declarative models, the truth the Alembic revisions in :mod:`server.migrations` must
match (a test compares the two); :mod:`server.records` reads and writes them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AgentRow",
    "Base",
    "CannedReplyRow",
    "DeviceRow",
    "ScreenshotRow",
    "SecretRow",
    "SessionEventRow",
    "SessionRow",
    "SiteRow",
]


class Base(DeclarativeBase):
    pass


class AgentRow(Base):
    __tablename__ = "agents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[float] = mapped_column(Float)
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Signed into every token; raised by sign-out and a password change, which so revokes all
    the agent's tokens at once, in every process (each checks it on every use)."""
    display_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    """What customers see (``Anna K.``); none: the login name."""
    role: Mapped[str] = mapped_column(String(16), default="agent", server_default="agent")
    """``agent``, ``supervisor`` or ``admin`` (``signaling.roles``): what the account may do."""
    unlock_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Part of the key failed sign-ins are counted under (``server/throttle.py``): an admin's
    unlock raises it, so the name starts afresh from every address."""

    @property
    def shown_name(self) -> str:
        """The name customers and the timeline see: the display name, else the login name."""
        return self.display_name or self.name


class SiteRow(Base):
    """A web site whose pages embed the widget: its public key and the origins it may be used on."""

    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[float] = mapped_column(Float)


class DeviceRow(Base):
    """A registered device, or a web visitor (``kind`` ``web``) of one site. Visitors go with
    their site: removed, they can no longer connect, rather than become devices without a site."""

    __tablename__ = "devices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    secret_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16), default="device", server_default="device")
    site_id: Mapped[str | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), index=True, nullable=True
    )


class SessionRow(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    device_name: Mapped[str] = mapped_column(String(80), default="")
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    agent_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    topic: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(35))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float, index=True)
    rung_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    accepted_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    active_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    previous_session_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The session this one continues: transferred by its agent, or requeued when it was lost.
    Such a session is not a new help request in the desk's figures (``server/figures.py``)."""
    solved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    """The customer's answer to "Was your problem solved?"; none: not asked or not answered."""


class SessionEventRow(Base):
    __tablename__ = "session_events"
    __table_args__ = (UniqueConstraint("session_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[dict[str, Any]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CannedReplyRow(Base):
    """A short reply of the desk (every agent of this server) that agents put into the chat."""

    __tablename__ = "canned_replies"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)


class ScreenshotRow(Base):
    """A still image of the customer's picture an agent kept with the session's record."""

    __tablename__ = "session_screenshots"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    agent_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[float] = mapped_column(Float)
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SecretRow(Base):
    __tablename__ = "server_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
