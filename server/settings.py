"""Server settings: embedded defaults that run out of the box, overridden by ``MAYDAY_*`` variables.

``REDIS_URL`` and ``DATABASE_URL`` are read without the prefix, the way hosting platforms set them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opening_hours import OpeningHours
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAYDAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".mayday")
    """Where the SQLite file lives when ``DATABASE_URL`` is not set."""
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "MAYDAY_DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "MAYDAY_REDIS_URL")
    )
    secret_key: str | None = None
    """Signs agent tokens. Unset: a random key is created once and kept in the database."""
    token_ttl_s: int = Field(default=3600, ge=60)
    login_max_failures: int = Field(default=20, ge=1)
    """Failed sign-ins one agent name may have per window before its attempts are refused."""
    login_window_s: float = Field(default=900.0, gt=0)
    """How long failed sign-ins are counted, from the first; a lock-out lasts the rest of it."""
    credential_check_s: float = Field(default=2.0, gt=0)
    """How often each process re-checks the credentials of the sockets it holds against the
    records: an agent removed (``mayday agents remove``) or a web visitor whose site was removed
    loses its socket within this time. Sign-out and a password change close it at once."""
    device_cache_size: int = Field(default=100_000, ge=1)
    """Devices whose verified credentials each process keeps, so that their reconnects read no
    device record (``server/credentials.py``); when full it is emptied and fills again. About
    0.2 KB each. A removed device or a new secret is refused at once whatever this is."""
    metrics_token: str | None = None
    """When set, ``GET /metrics`` needs ``Authorization: Bearer <this>`` (Prometheus'
    ``authorization`` setting); unset, it is open and must be kept off the public proxy."""
    enrollment_key: str | None = None
    """When set, ``POST /api/devices`` requires it: only your own devices can register."""
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Browser origins allowed to open a websocket; empty means the server's own origin only."""
    sites_refresh_s: float = Field(default=5.0, gt=0)
    """How often each process re-reads the sites' origins: a site added (``mayday sites add``)
    is accepted for websockets and preflights within this time."""
    web_visitors_per_ip: int = Field(default=20, ge=1)
    """New web visitors one client address may create per minute (``POST /api/web/visitors``)."""
    web_visitors_per_site: int = Field(default=600, ge=1)
    """New web visitors one site may get per minute, from all addresses together."""
    socket_auth_timeout_s: float = Field(default=5.0, gt=0)
    """An Engine.IO connection without a signed-in namespace (``/device``, ``/agent``) for this
    long is closed: at the start, and again after its last namespace left."""
    max_connections_per_address: int = Field(default=200, ge=1)
    """Concurrent Engine.IO connections one client address may hold on one process (the
    address as the web visitors' limit reads it, ``X-Forwarded-For`` honoured). More are
    refused with ``429 rate_limited``."""
    ping_interval_s: float = Field(default=10.0, gt=0)
    """Engine.IO's heartbeat: the server pings every socket this often..."""
    ping_timeout_s: float = Field(default=10.0, gt=0)
    """...and takes it for dead when no pong came within this long: a silently dead connection
    (the network cut, not closed) is noticed after at most the sum of the two."""
    max_message_bytes: int = Field(default=64 * 1024, ge=4096)
    event_rate_per_s: float = Field(default=100.0, gt=0)
    """Inbound socket events one device or agent may send per second, sustained (per process);
    more are answered ``rate_limited`` and not processed (``server/ratelimit.py``)."""
    event_burst: int = Field(default=200, ge=10)
    """Events one device or agent may send at once before the sustained rate applies."""
    event_flood_events: int = Field(default=200, ge=1)
    """Refused events (``rate_limited``), counted down at ``event_rate_per_s``, beyond which the
    socket is disconnected from its namespace: a client sending over twice the rate, sustained."""
    ring_timeout_s: float = Field(default=15.0, gt=0)
    decline_hold_s: float = Field(default=60.0, ge=0)
    """How long an agent who declined a customer is not rung for them again."""
    wrapup_s: float = Field(default=60.0, ge=0)
    """After-call work: after a session the agent gets no rings until they are done (``presence.set
    available``) or this many seconds pass; 0 turns wrap-up off."""
    grace_period_s: float = Field(default=20.0, ge=0)
    control_lease_s: float = Field(default=10.0, ge=0)
    """After a disconnect, how long granted control may resume without a new consent dialog."""
    service_level_s: float = Field(default=15.0, gt=0)
    """The desk's service level target: a help request counts as answered in time when an agent
    accepted it within this many seconds of the press (``server/figures.py``, the wallboard)."""
    overflow_s: float = Field(default=30.0, ge=0)
    """A customer whom no signed-in agent matches (language or topic) is told so at once; this
    long after the press, routing widens to any free agent, one who speaks the customer's
    language first (``server/routing.py``, protocol §20.1)."""
    opening_hours: str | None = None
    """When the desk is open, in OpenStreetMap's ``opening_hours`` syntax (``Mo-Fr 08:00-20:00;
    Sa 09:00-14:00``), in ``time_zone``. Outside them a customer is told at once when the desk
    opens and may ask for a callback (§20.2). Unset: always open."""
    time_zone: str = "UTC"
    """The desk's time zone (an IANA name such as ``Europe/Berlin``): of the opening hours, and of
    the hours in the wallboard's chart and the staffing forecast."""
    callback_ring_s: float = Field(default=30.0, gt=0)
    """How long the server rings a customer who asked for a callback (holding a free agent)."""
    callback_retry_s: float = Field(default=60.0, ge=0)
    """After a missed callback, how long before the customer is rung again: they said "not now"
    (or were away), and a prompt straight back would be the same answer. Meanwhile the free agent
    serves whoever is next."""
    callback_retries: int = Field(default=2, ge=0)
    """Missed callbacks a ticket survives: each goes back to the queue with its place; the next
    miss ends the ticket (``callback_missed``) and the customer is told."""
    default_handling_time_s: float = Field(default=300.0, gt=0)
    """Prior for the wait estimate until the first sessions have been handled."""
    organisation: str = "Mayday Support"
    """Shown to the customer so they know who is asking to see and control their screen."""
    stun_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    turn_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    turn_secret: str | None = None
    turn_ttl_s: int = Field(default=3600, ge=60)
    ice_transport_policy: Literal["all", "relay"] = "all"
    """``relay`` makes every peer use TURN only (no direct paths): hides addresses, costs relay."""
    log_format: Literal["console", "json"] = "console"
    log_level: str = "info"

    @field_validator("allowed_origins", "stun_urls", "turn_urls", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _no_wildcard(cls, value: list[str]) -> list[str]:
        if "*" in value:
            raise ValueError("'*' is not allowed: list the console's origins explicitly")
        return value

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name: Europe/Berlin)"
            ) from error
        return value

    @field_validator("opening_hours")
    @classmethod
    def _parsable_hours(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            try:
                OpeningHours(value)
            except Exception as error:  # opening_hours.ParserError, missing from its stubs
                raise ValueError(f"opening hours {value!r} do not parse: {error}") from error
            return value.strip()
        return None

    def resolved_database_url(self) -> str:
        """The SQLAlchemy async URL: SQLite in ``data_dir`` unless ``DATABASE_URL`` says otherwise."""
        url = self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'mayday.db'}"
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite:///", "sqlite+aiosqlite:///"),
        ):
            if url.startswith(plain):
                return driver + url[len(plain) :]
        return url
