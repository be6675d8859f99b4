"""REST routes of the supervisors' live desk (§19): the wallboard, and the sessions export.

``GET /api/wallboard`` answers the same picture ``wallboard.update`` pushes (``server/desk/wallboard.py``).
``GET /api/reports/sessions`` lists each session (each leg of a customer's chain) created in a
window, as CSV (RFC 4180) or JSON, with the window's figures (``server/figures.py``). The roles
are the operations' (``signaling/openapi_desk.py``): supervisors and admins.
"""

from __future__ import annotations

import csv
import io
import math
import time
from datetime import UTC, date, datetime
from typing import Any

import structlog
from aiohttp import web

from signaling import ErrorCode, ProtocolError
from signaling import models as m

from .appkeys import DESK, RECORDS, SETTINGS, STORE
from .figures import (
    SessionFacts,
    customer_kinds,
    figures,
    load_facts,
    local_midnight,
    next_sessions,
    outcome,
    previous_sessions,
    rating_comments,
)
from .live.records import LiveSession
from .records import SessionRow

__all__ = ["CSV_COLUMNS", "MAX_WINDOW_DAYS", "parse_window", "routes"]

log = structlog.get_logger("mayday.rest")

routes = web.RouteTableDef()

MAX_WINDOW_DAYS = 366
DAY_S = 86400.0
CSV_COLUMNS = tuple(m.SessionExport.model_fields)
"""The CSV's columns, in order: the JSON export's fields."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A text cell starting with one of these gets a leading ``'``: spreadsheets would run it."""
CHAIN_DEPTH = 50
"""How far back a chain of transfers and requeues is followed to count its hand-ons."""
_EARLIEST = datetime(1970, 1, 2, tzinfo=UTC).timestamp()
_LATEST = datetime(9999, 1, 1, tzinfo=UTC).timestamp()


@routes.get("/api/wallboard")
async def wallboard(request: web.Request) -> web.Response:
    board = await request.app[DESK].wallboard.current()
    return web.json_response(board.model_dump(mode="json"))


@routes.get("/api/reports/sessions")
async def sessions_report(request: web.Request) -> web.StreamResponse:
    now = time.time()
    start, end = parse_window(request.query.get("from"), request.query.get("to"), now=now)
    form = request.query.get("format", "json")
    if form not in ("json", "csv"):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "format: csv or json")
    records = request.app[RECORDS]
    live = await request.app[STORE].live_sessions()
    facts = await load_facts(records, live, start, end)
    rows = {row.id: row for row in await records.sessions_created_between(start, end)}
    exported = await _export(request, facts, rows, live_sessions=live)
    window = figures(
        facts, start, end, now=now, service_level_s=request.app[SETTINGS].service_level_s
    )
    if form == "json":
        report = m.SessionsReport.model_validate(
            {"from": start, "to": end, "sessions": exported, "figures": window}
        )
        return web.json_response(report.model_dump(mode="json", by_alias=True))
    name = f"mayday-sessions-{_file_stamp(start)}-{_file_stamp(end)}.csv"
    return web.Response(
        body=_csv(exported).encode(),
        headers={
            "Content-Type": "text/csv; charset=utf-8; header=present",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


# --- the window ---------------------------------------------------------------------------------


def parse_window(
    given_from: str | None, given_to: str | None, *, now: float
) -> tuple[float, float]:
    """``[from, to)`` from the query: each an ISO 8601 date (local midnight; ``to`` a date means
    the end of that day) or date-time (without an offset: local time), or epoch seconds. Default
    today. ``to`` must be after ``from``, at most :data:`MAX_WINDOW_DAYS` days later."""
    today = local_midnight(now)
    start = today if given_from is None else _instant("from", given_from, end_of_day=False)
    end = (
        local_midnight(today + 1.5 * DAY_S)
        if given_to is None
        else _instant("to", given_to, end_of_day=True)
    )
    if end <= start:
        raise ProtocolError(ErrorCode.BAD_REQUEST, "to must be after from")
    if end - start > MAX_WINDOW_DAYS * DAY_S + 3600:  # an hour of slack for a DST change
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, f"the window is at most {MAX_WINDOW_DAYS} days long"
        )
    return start, end


def _instant(name: str, text: str, *, end_of_day: bool) -> float:
    text = text.strip()
    problem = (
        f"{name}: an ISO 8601 date (2025-01-31) or date-time (2025-01-31T08:00:00Z), "
        f"or epoch seconds; got {text[:40]!r}"
    )
    if not text or len(text) > 40:
        raise ProtocolError(ErrorCode.BAD_REQUEST, problem)
    value: float
    try:
        if text.replace(".", "", 1).isdigit():
            value = float(text)
        elif len(text) == 10:
            day = date.fromisoformat(text)
            value = time.mktime((day.year, day.month, day.day, 0, 0, 0, 0, 0, -1))
            if end_of_day:
                value = local_midnight(value + 1.5 * DAY_S)
        else:
            instant = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
            value = instant.timestamp()  # naive: local time
    except (ValueError, OverflowError, OSError):
        raise ProtocolError(ErrorCode.BAD_REQUEST, problem) from None
    if not math.isfinite(value) or not _EARLIEST <= value <= _LATEST:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"{name}: out of range")
    return value


def _file_stamp(at: float) -> str:
    return time.strftime("%Y%m%dT%H%M", time.localtime(at))


# --- the rows -----------------------------------------------------------------------------------


async def _export(
    request: web.Request,
    facts: list[SessionFacts],
    rows: dict[str, SessionRow],
    *,
    live_sessions: list[LiveSession],
) -> list[m.SessionExport]:
    records = request.app[RECORDS]
    ids = [leg.id for leg in facts]
    live = {session.id: session for session in live_sessions}
    following = await next_sessions(records, ids)
    comments = await rating_comments(records, ids)
    kinds = await customer_kinds(
        records, [row.device_id for row in rows.values()] + [s.device_id for s in live.values()]
    )
    previous = {leg.id: leg.previous_session_id for leg in facts}
    depth = await _chain_depths(request, previous)
    exported = []
    for leg in facts:
        row = rows.get(leg.id)
        session = live.get(leg.id)
        source: SessionRow | LiveSession
        if session is not None:
            source = session
        elif row is not None:
            source = row
        else:
            continue
        device_id = source.device_id
        kind = kinds.get(device_id)
        exported.append(
            m.SessionExport(
                id=leg.id,
                previous_session_id=leg.previous_session_id,
                next_session_id=following.get(leg.id),
                created_at=leg.created_at,
                accepted_at=leg.accepted_at,
                ended_at=leg.ended_at,
                customer_id=device_id,
                customer_name=source.device_name,
                customer_kind="web" if kind == "web" else "device" if kind is not None else None,
                topic=source.topic,
                locale=source.locale,
                agent_id=leg.agent_id,
                agent_name=source.agent_name,
                wait_s=_wait(leg),
                handle_s=_handle(leg),
                end_reason=leg.end_reason,
                ended_by=leg.ended_by,
                outcome=outcome(leg),
                rating=leg.rating,
                rating_comment=comments.get(leg.id, ""),
                solved=leg.solved,
                transfers=depth.get(leg.id, 0),
            )
        )
    return exported


def _wait(leg: SessionFacts) -> float | None:
    """Created → accepted; unanswered and ended: created → ended; still waiting: null."""
    until = leg.accepted_at if leg.accepted_at is not None else leg.ended_at
    return None if until is None else round(max(0.0, until - leg.created_at), 3)


def _handle(leg: SessionFacts) -> float | None:
    if leg.accepted_at is None or leg.ended_at is None:
        return None
    return round(max(0.0, leg.ended_at - leg.accepted_at), 3)


async def _chain_depths(request: web.Request, previous: dict[str, str | None]) -> dict[str, int]:
    """How many legs came before each session in its customer's chain (each handed the customer
    on); legs before the window are looked up in the records, at most :data:`CHAIN_DEPTH` back."""
    known = dict(previous)
    for _ in range(CHAIN_DEPTH):
        missing = sorted({p for p in known.values() if p is not None and p not in known})
        if not missing:
            break
        found = await previous_sessions(request.app[RECORDS], missing)
        for session_id in missing:
            known[session_id] = found.get(session_id)
    depths: dict[str, int] = {}
    for session_id in previous:
        count, cursor, seen = 0, known.get(session_id), {session_id}
        while cursor is not None and cursor not in seen and count < CHAIN_DEPTH:
            seen.add(cursor)
            count += 1
            cursor = known.get(cursor)
        depths[session_id] = count
    return depths


# --- CSV ----------------------------------------------------------------------------------------


def _csv(sessions: list[m.SessionExport]) -> str:
    """RFC 4180: a header row, CRLF line ends, fields quoted where they must be; times as ISO 8601
    UTC; every text cell that a spreadsheet would take for a formula neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for session in sessions:
        data = session.model_dump()
        writer.writerow([_cell(column, data[column]) for column in CSV_COLUMNS])
    return out.getvalue()


def _cell(column: str, value: Any) -> str:
    if value is None:
        return ""
    if column.endswith("_at"):
        stamp = datetime.fromtimestamp(float(value), UTC).isoformat(timespec="milliseconds")
        return stamp.replace("+00:00", "Z")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
