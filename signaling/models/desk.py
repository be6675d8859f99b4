"""The supervisors' live desk (§19): the wallboard, the desk's figures and the sessions export.

The figures are defined once, by the server (``server/figures.py``); these models only carry
them. Every ratio is 0..1, or null when its denominator is 0; every duration is in seconds, or
null when nothing was measured.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..roles import AccountRole
from .base import Inbound, Outbound, Timestamp
from .session import CustomerKind

__all__ = [
    "AgentDeskState",
    "Figures",
    "SessionExport",
    "SessionOutcome",
    "SessionsReport",
    "Wallboard",
    "WallboardAgent",
    "WallboardCustomer",
    "WallboardSubscribe",
    "WallboardTicket",
    "WallboardUnsubscribe",
]

AgentDeskState = Literal["available", "ringing", "in_session", "wrapup", "away", "offline"]
SessionOutcome = Literal[
    "waiting",
    "in_session",
    "abandoned",
    "transferred",
    "requeued",
    "resolved",
    "unresolved",
    "ended",
]


class WallboardSubscribe(Inbound):
    """``wallboard.subscribe`` (supervisors and admins): the ack carries the wallboard, and
    ``wallboard.update`` follows whenever it changes."""


class WallboardUnsubscribe(Inbound):
    """``wallboard.unsubscribe``: no more ``wallboard.update`` on this socket."""


class Figures(Outbound):
    """The desk's figures over the help requests created in ``[start, end)``."""

    start: Timestamp
    end: Timestamp
    help_requests: int = Field(description="Presses of Help (not transfers or requeues).")
    answered: int = Field(description="Help requests an agent accepted.")
    answered_in_time: int = Field(description="Answered within service_level_s of the press.")
    service_level: float | None = Field(
        description="answered_in_time / help requests decided (answered, abandoned, or still "
        "waiting longer than service_level_s)."
    )
    average_speed_of_answer_s: float | None = Field(
        description="Mean press → accept of the answered help requests."
    )
    abandoned: int = Field(description="Help requests that ended before any agent accepted.")
    abandonment_rate: float | None = Field(description="abandoned / (answered + abandoned).")
    average_handle_time_s: float | None = Field(
        description="Mean accept → end of the sessions answered and ended (each leg of a "
        "transferred or requeued customer counts with its own)."
    )
    ratings: int = Field(description="Sessions the customer rated.")
    csat_mean: float | None = Field(description="Mean rating (1–5).")
    csat_share_4_5: float | None = Field(description="Share of the ratings that are 4 or 5.")
    solved_answers: int = Field(description='Answers to "Was your problem solved?".')
    first_contact_resolution: float | None = Field(
        description="Share of those answers that are yes."
    )


class WallboardCustomer(Outbound):
    id: str
    name: str
    kind: CustomerKind


class WallboardTicket(Outbound):
    """A waiting customer, in queue order."""

    ticket_id: str
    position: int
    waiting_since: Timestamp
    locale: str
    language: str
    topic: str
    kind: Literal["live", "callback"]
    state: Literal["queued", "ringing"]
    customer: WallboardCustomer


class WallboardAgent(Outbound):
    """An account and what it is doing now."""

    id: str
    name: str
    role: AccountRole
    state: AgentDeskState
    since: Timestamp | None = Field(
        description="When it entered this state; null when unknown (offline since before the "
        "server started, or a presence recorded before the field existed)."
    )
    session_id: str | None = Field(description="While ringing or in a session.")
    sessions_today: int = Field(description="Sessions it accepted since midnight.")


class Wallboard(Outbound):
    """``wallboard.update``, the ack of ``wallboard.subscribe`` and ``GET /api/wallboard``."""

    at: Timestamp = Field(description="Server time of this picture.")
    service_level_s: float = Field(description="MAYDAY_SERVICE_LEVEL_S.")
    timezone: str = Field(description="The server's time zone; today starts at its midnight.")
    queue: list[WallboardTicket] = Field(description="The first 200 waiting customers.")
    queue_length: int = Field(description="Every waiting customer (the queue may be longer).")
    agents: list[WallboardAgent] = Field(description="Every account, sorted by name.")
    today: Figures
    last_hour: Figures
    hours: list[Figures] = Field(description="Each hour of today from midnight, oldest first.")


class SessionExport(Outbound):
    """One session (one leg of a customer's chain) in ``GET /api/reports/sessions``."""

    id: str
    previous_session_id: str | None
    next_session_id: str | None
    created_at: Timestamp
    accepted_at: Timestamp | None
    ended_at: Timestamp | None
    customer_id: str
    customer_name: str
    customer_kind: CustomerKind | None = Field(description="null: the device record is gone.")
    topic: str
    locale: str
    agent_id: str | None
    agent_name: str | None
    wait_s: float | None
    handle_s: float | None
    end_reason: str | None
    ended_by: str | None
    outcome: SessionOutcome
    rating: int | None
    rating_comment: str
    solved: bool | None
    transfers: int = Field(description="Earlier legs of the customer's chain (each handed on).")


class SessionsReport(Outbound):
    """``GET /api/reports/sessions?format=json``: epoch seconds throughout."""

    from_: Timestamp = Field(alias="from")
    to: Timestamp
    sessions: list[SessionExport]
    figures: Figures
