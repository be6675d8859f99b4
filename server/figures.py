"""The desk's figures, each defined once: what the wallboard, the sessions export and ``mayday
sim``'s report show about help requests, answers, waits, handling and the customers' verdicts.

The definitions are pure functions over :class:`SessionFacts` (one per session row, or live
session), so they are tested with hand-made rows and no server. A *help request* is a session that
continues no other (``previous_session_id`` is unset): a customer requeued after its agent was
lost, or transferred by its agent, is the same request going on, not a new one. A help request's
outcome is its first leg's: answered when an agent accepted it, abandoned when it ended before
that, else still waiting. The per-leg figures (handle time, ratings, the solved answers) count
every leg, each with its own values. docs/protocol.md §19 says the same in words.

"Today" is since midnight in the server's local time zone (``time.localtime``).

:func:`load_facts` reads the records of a window and lays the live store's sessions over them:
the records writer saves a session as it changes, a few milliseconds behind, so a session still
queued or in progress is in both, and the live store's copy is the newer one.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from signaling import models as m

from .live.records import LiveSession, SessionState
from .records import Records
from .tables import DeviceRow, SessionEventRow, SessionRow

__all__ = [
    "HANDED_ON_REASONS",
    "HOUR_S",
    "SessionFacts",
    "figures",
    "hourly_figures",
    "is_abandoned",
    "is_answered",
    "is_help_request",
    "load_facts",
    "local_midnight",
    "merge_live",
    "outcome",
    "speed_of_answer",
    "timezone_name",
]

log = structlog.get_logger("mayday.figures")

HOUR_S = 3600.0
HANDED_ON_REASONS = frozenset({"agent_lost", "transferred"})
"""End reasons of a leg whose customer went on in a new session (``next_session_id``)."""
_BATCH = 500
"""Ids per ``IN (...)`` query: well below any database's limit of bound parameters."""


@dataclass(frozen=True)
class SessionFacts:
    """What the figures read of one session (one leg of a customer's chain)."""

    id: str
    created_at: float
    accepted_at: float | None = None
    ended_at: float | None = None
    end_reason: str | None = None
    ended_by: str | None = None
    rating: int | None = None
    solved: bool | None = None
    previous_session_id: str | None = None
    agent_id: str | None = None
    stale: bool = False
    """Not ended in the records, yet no longer in the live store: it ended (or its process's
    store was lost) after the records were read. Its outcome is not known yet: not counted as
    waiting, and without a handle time."""

    @classmethod
    def of_row(cls, row: SessionRow) -> SessionFacts:
        return cls(
            id=row.id,
            created_at=float(row.created_at),
            accepted_at=_number(row.accepted_at),
            ended_at=_number(row.ended_at),
            end_reason=row.end_reason,
            ended_by=row.ended_by,
            rating=row.rating if isinstance(row.rating, int) and 1 <= row.rating <= 5 else None,
            solved=row.solved if isinstance(row.solved, bool) else None,
            previous_session_id=row.previous_session_id,
            agent_id=row.agent_id,
        )

    @classmethod
    def of_live(cls, live: LiveSession) -> SessionFacts:
        return cls(
            id=live.id,
            created_at=live.created_at,
            accepted_at=live.accepted_at,
            ended_at=live.ended_at if live.state is SessionState.ENDED else None,
            end_reason=live.end_reason,
            ended_by=live.ended_by,
            previous_session_id=live.requeued_from,
            agent_id=live.agent_id,
        )


def _number(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


# --- the definitions ---------------------------------------------------------------------------


def is_help_request(facts: SessionFacts) -> bool:
    """A press of Help: a session that continues no other (not a transfer, not a requeue)."""
    return facts.previous_session_id is None


def is_answered(facts: SessionFacts) -> bool:
    """An agent accepted it (a ring accepted, or taken from the queue)."""
    return facts.accepted_at is not None


def is_abandoned(facts: SessionFacts) -> bool:
    """It ended before any agent accepted it: the customer cancelled, left or was lost."""
    return facts.accepted_at is None and facts.ended_at is not None


def is_waiting(facts: SessionFacts) -> bool:
    return facts.accepted_at is None and facts.ended_at is None and not facts.stale


def speed_of_answer(facts: SessionFacts) -> float | None:
    """Press → accept, for an answered session."""
    if facts.accepted_at is None:
        return None
    return max(0.0, facts.accepted_at - facts.created_at)


def handle_time(facts: SessionFacts) -> float | None:
    """Accept → end, for a leg answered and ended (each leg of a chain has its own)."""
    if facts.accepted_at is None or facts.ended_at is None:
        return None
    return max(0.0, facts.ended_at - facts.accepted_at)


def outcome(facts: SessionFacts) -> m.SessionOutcome:
    """One word for how a leg went (the export's ``outcome``):

    ``waiting`` (not answered, not ended), ``in_session`` (answered, not ended), ``abandoned``
    (ended unanswered), ``transferred`` / ``requeued`` (its agent handed the customer on / was
    lost: the customer went on in ``next_session_id``), else, for an answered leg that ended,
    ``resolved`` / ``unresolved`` from the customer's answer to "Was your problem solved?", and
    ``ended`` when they gave none.
    """
    if facts.ended_at is None:
        return "waiting" if facts.accepted_at is None else "in_session"
    if facts.end_reason == "transferred":
        return "transferred"
    if facts.end_reason == "agent_lost":
        return "requeued"
    if facts.accepted_at is None:
        return "abandoned"
    if facts.solved is not None:
        return "resolved" if facts.solved else "unresolved"
    return "ended"


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def figures(
    facts: Iterable[SessionFacts],
    start: float,
    end: float,
    *,
    now: float,
    service_level_s: float,
) -> m.Figures:
    """The figures of the sessions created in ``[start, end)`` (the others are left out), as
    they stand at ``now``: a customer still waiting longer than ``service_level_s`` counts
    against the service level already."""
    requests = answered = in_time = abandoned = late_waiting = 0
    answer_speeds: list[float] = []
    handle_times: list[float] = []
    ratings: list[int] = []
    solved_answers = solved_yes = 0
    for leg in facts:
        if not start <= leg.created_at < end:
            continue
        if is_help_request(leg):
            requests += 1
            speed = speed_of_answer(leg)
            if speed is not None:
                answered += 1
                answer_speeds.append(speed)
                in_time += speed <= service_level_s
            elif is_abandoned(leg):
                abandoned += 1
            elif is_waiting(leg) and now - leg.created_at > service_level_s:
                late_waiting += 1
        handled = handle_time(leg)
        if handled is not None and not leg.stale:
            handle_times.append(handled)
        if leg.rating is not None:
            ratings.append(leg.rating)
        if leg.solved is not None:
            solved_answers += 1
            solved_yes += leg.solved
    return m.Figures(
        start=start,
        end=end,
        help_requests=requests,
        answered=answered,
        answered_in_time=in_time,
        service_level=_share(in_time, answered + abandoned + late_waiting),
        average_speed_of_answer_s=_rounded(_mean(answer_speeds)),
        abandoned=abandoned,
        abandonment_rate=_share(abandoned, answered + abandoned),
        average_handle_time_s=_rounded(_mean(handle_times)),
        ratings=len(ratings),
        csat_mean=_mean([float(r) for r in ratings]),
        csat_share_4_5=_share(sum(1 for r in ratings if r >= 4), len(ratings)),
        solved_answers=solved_answers,
        first_contact_resolution=_share(solved_yes, solved_answers),
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def hourly_figures(
    facts: Sequence[SessionFacts],
    midnight: float,
    *,
    now: float,
    service_level_s: float,
) -> list[m.Figures]:
    """The figures of each hour from ``midnight`` to ``now``, oldest first (the last one ends
    at ``now``). Each leg is looked at once per hour it may fall in: sorted into its hour first."""
    hours = max(1, math.ceil((now - midnight) / HOUR_S)) if now > midnight else 1
    buckets: list[list[SessionFacts]] = [[] for _ in range(hours)]
    for leg in facts:
        index = math.floor((leg.created_at - midnight) / HOUR_S)
        if 0 <= index < hours:
            buckets[index].append(leg)
    return [
        figures(
            bucket,
            midnight + index * HOUR_S,
            min(midnight + (index + 1) * HOUR_S, max(now, midnight)),
            now=now,
            service_level_s=service_level_s,
        )
        for index, bucket in enumerate(buckets)
    ]


# --- time ---------------------------------------------------------------------------------------


def local_midnight(at: float) -> float:
    """The start of the local day ``at`` falls in (``time.localtime``; DST-aware)."""
    day = time.localtime(at)
    return time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 0, 0, 0, 0, 0, -1))


def timezone_name() -> str:
    """The server's time zone: its IANA name when it can be told (``TZ``, ``/etc/localtime``),
    else the abbreviation ``time.localtime`` gives (``UTC``, ``CET``)."""
    configured = os.environ.get("TZ", "").lstrip(":")
    if configured and "/" in configured and not configured.startswith("/"):
        return configured
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if not configured and "zoneinfo/" in target:
        return target.split("zoneinfo/", 1)[1]
    return time.localtime().tm_zone or "UTC"


# --- loading ------------------------------------------------------------------------------------


def merge_live(
    recorded: Iterable[SessionFacts],
    live: Iterable[LiveSession],
    start: float,
    end: float,
) -> list[SessionFacts]:
    """The records' sessions of ``[start, end)`` with the live store's laid over them.

    A live session is newer than its row (the writer saves it behind the live traffic) and may
    have no row yet; the row keeps what only the records have (the rating, the solved answer).
    A row not ended whose session is no longer live ended after the records were read (or was
    lost with a store of its own): marked ``stale`` until the records are read again.
    """
    merged = {facts.id: facts for facts in recorded}
    live_ids: set[str] = set()
    for session in live:
        live_ids.add(session.id)
        if not start <= session.created_at < end:
            continue
        fresh = SessionFacts.of_live(session)
        row = merged.get(session.id)
        if row is not None:
            fresh = replace(
                fresh,
                rating=row.rating,
                solved=row.solved,
                previous_session_id=fresh.previous_session_id or row.previous_session_id,
            )
        merged[session.id] = fresh
    for session_id, facts in merged.items():
        if facts.ended_at is None and session_id not in live_ids:
            merged[session_id] = replace(facts, stale=True)
    return sorted(merged.values(), key=lambda facts: (facts.created_at, facts.id))


def facts_of_rows(rows: Iterable[SessionRow]) -> list[SessionFacts]:
    """The rows' facts; a row that cannot be read (a broken record) is logged and left out."""
    facts = []
    for row in rows:
        try:
            facts.append(SessionFacts.of_row(row))
        except (TypeError, ValueError):
            log.warning("figures.bad_row", session_id=getattr(row, "id", None))
    return facts


async def load_facts(
    records: Records, live: Sequence[LiveSession], start: float, end: float
) -> list[SessionFacts]:
    """The sessions created in ``[start, end)``: the records', with ``live`` laid over them."""
    rows = await records.sessions_created_between(start, end)
    return merge_live(facts_of_rows(rows), live, start, end)


# --- what only the export needs -----------------------------------------------------------------


async def next_sessions(records: Records, session_ids: Sequence[str]) -> dict[str, str]:
    """For each of these sessions that another continues: that one's id."""
    found: dict[str, str] = {}
    async with AsyncSession(records.engine) as db:
        for batch in _batches(session_ids):
            result = await db.execute(
                select(SessionRow.previous_session_id, SessionRow.id).where(
                    SessionRow.previous_session_id.in_(batch)
                )
            )
            for previous, following in result:
                if previous is not None:
                    found.setdefault(str(previous), str(following))
    return found


async def previous_sessions(records: Records, session_ids: Sequence[str]) -> dict[str, str | None]:
    """Each of these sessions' ``previous_session_id`` (those that exist)."""
    found: dict[str, str | None] = {}
    async with AsyncSession(records.engine) as db:
        for batch in _batches(session_ids):
            result = await db.execute(
                select(SessionRow.id, SessionRow.previous_session_id).where(
                    SessionRow.id.in_(batch)
                )
            )
            for session_id, previous in result:
                found[str(session_id)] = None if previous is None else str(previous)
    return found


async def rating_comments(records: Records, session_ids: Sequence[str]) -> dict[str, str]:
    """The comment the customer wrote with each session's rating (its ``session.rated``
    timeline event), the last one if they rated twice."""
    comments: dict[str, str] = {}
    async with AsyncSession(records.engine) as db:
        for batch in _batches(session_ids):
            result = await db.execute(
                select(SessionEventRow.session_id, SessionEventRow.detail)
                .where(
                    SessionEventRow.session_id.in_(batch),
                    SessionEventRow.kind == "session.rated",
                )
                .order_by(SessionEventRow.seq)
            )
            for session_id, detail in result:
                comment = detail.get("comment") if isinstance(detail, dict) else None
                if isinstance(comment, str):
                    comments[str(session_id)] = comment
    return comments


async def customer_kinds(records: Records, device_ids: Sequence[str]) -> dict[str, str]:
    """Each existing device's (or web visitor's) kind."""
    kinds: dict[str, str] = {}
    async with AsyncSession(records.engine) as db:
        for batch in _batches(sorted(set(device_ids))):
            result = await db.execute(
                select(DeviceRow.id, DeviceRow.kind).where(DeviceRow.id.in_(batch))
            )
            kinds.update({str(device_id): str(kind) for device_id, kind in result})
    return kinds


def _batches(ids: Sequence[str]) -> Iterable[list[str]]:
    for index in range(0, len(ids), _BATCH):
        yield list(ids[index : index + _BATCH])
