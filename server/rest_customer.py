"""REST routes about the customer beyond one session's record: the device's earlier sessions
(the console's Customer tab), the desk's canned replies, and screenshots kept with a session.

Built on :mod:`server.rest` (its authentication middleware, error shape and id checks), which
serves the session's own record and lists its screenshots through :func:`screenshot_info`.
"""

from __future__ import annotations

import time

import structlog
from aiohttp import web

from signaling import ErrorCode, ProtocolError, at_least
from signaling import models as m
from signaling.models import rest as r

from .access import ensure_reads_session, serves_device
from .appkeys import DESK, RECORDS, WRITER
from .live.records import Actor, SessionState
from .records import ScreenshotRow, SessionRow
from .rest import AGENT, ID_PATTERN, json_response, screenshot_info, session_id_of

__all__ = ["routes", "screenshot_info"]

log = structlog.get_logger("mayday.rest")

routes = web.RouteTableDef()

HISTORY_LIMIT = 20
"""Sessions ``GET /api/devices/{device_id}/sessions`` answers when no ``limit`` is given."""
HISTORY_MAX = 100
"""The largest ``limit`` it takes."""
SCREENSHOT_MAX_BYTES = 4 * 1024 * 1024
"""The largest screenshot (a full-HD PNG of a busy screen is about 2 MB)."""
SCREENSHOTS_PER_SESSION = 30
"""How many screenshots one session keeps at most."""
IMAGE_MAGIC = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
"""The image types a screenshot may have, and the bytes each file starts with."""


def _path_id(request: web.Request, key: str, what: str) -> str:
    """A path id (as :func:`_session_id`): one that cannot be ours is no such ``what``."""
    value = request.match_info[key]
    if not ID_PATTERN.fullmatch(value):
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no {what} {value[:64]!r}")
    return value


def _past_session(row: SessionRow, screenshots: list[ScreenshotRow]) -> r.PastSession:
    ended_by = row.ended_by if row.ended_by in ("device", "agent", "system") else None
    return r.PastSession(
        id=row.id,
        state=row.state,
        topic=row.topic,
        locale=row.locale,
        agent=m.AgentInfo(id=row.agent_id, name=row.agent_name or "") if row.agent_id else None,
        created_at=row.created_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
        ended_by=ended_by,  # type: ignore[arg-type]  # narrowed by the test above
        rating=row.rating,
        notes=row.notes,
        screenshots=[screenshot_info(shot) for shot in screenshots],
    )


@routes.get("/api/devices/{device_id}/sessions")
async def device_sessions(request: web.Request) -> web.Response:
    """What the server knows of a customer: the device, and its sessions, newest first.

    Supervisors and admins read every customer's history; an agent the history of the customer
    it is helping now, else only the sessions it took part in (§19, ``server/access.py``).
    ``limit`` (1 to :data:`HISTORY_MAX`, default :data:`HISTORY_LIMIT`) caps the sessions.
    """
    device_id = _path_id(request, "device_id", "device")
    given = request.query.get("limit", str(HISTORY_LIMIT))
    if not given.isdigit() or not 1 <= int(given) <= HISTORY_MAX:
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, f"limit is a whole number from 1 to {HISTORY_MAX}"
        )
    records = request.app[RECORDS]
    agent = request[AGENT]
    device = await records.device(device_id)
    everything = at_least(agent.role, "supervisor") or await serves_device(
        request, agent, device_id
    )
    rows = await records.device_sessions(
        device_id, int(given), agent_id=None if everything else agent.id
    )
    if (device is None or not everything) and not rows:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no device {device_id}")
    screenshots = await records.screenshots([row.id for row in rows])
    summary = None
    if device is not None:
        summary = r.DeviceSummary(
            id=device.id,
            name=device.name,
            kind="web" if device.kind == "web" else "device",
            created_at=device.created_at,
        )
    return json_response(
        r.DeviceHistory(
            device=summary,
            sessions=[_past_session(row, screenshots[row.id]) for row in rows],
        )
    )


@routes.get("/api/canned-replies")
async def canned_replies(request: web.Request) -> web.Response:
    """The desk's canned replies (``mayday canned add|list|remove``), for the chat's picker."""
    rows = await request.app[RECORDS].canned_replies()
    return json_response(
        r.CannedReplies(replies=[r.CannedReply(id=row.id, text=row.text) for row in rows])
    )


@routes.post("/api/sessions/{session_id}/screenshots")
async def add_screenshot(request: web.Request) -> web.Response:
    """Keep a still image of the customer's picture with the session's record.

    Only the session's agent, while the session is live; the body is the PNG or JPEG itself,
    its ``Content-Type`` saying which, at most :data:`SCREENSHOT_MAX_BYTES`. The timeline gets a
    ``screenshot`` line, so the record shows when it was taken.
    """
    session_id = session_id_of(request)
    agent = request[AGENT]
    live = await request.app[DESK].session(session_id)
    if live is None:
        if await request.app[RECORDS].session(session_id) is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no session {session_id}")
        raise ProtocolError(ErrorCode.CONFLICT, "the session is over; take screenshots during it")
    if live.agent_id != agent.id:
        raise ProtocolError(ErrorCode.NOT_PARTY, f"you are not the agent of session {session_id}")
    if live.state not in (SessionState.CONNECTING, SessionState.ACTIVE):
        raise ProtocolError(ErrorCode.CONFLICT, "the session is over; take screenshots during it")
    content_type = request.content_type
    magic = IMAGE_MAGIC.get(content_type)
    if magic is None:
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, "send the image itself as image/png or image/jpeg"
        )
    data = await _read_image(request)
    if not data.startswith(magic):
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"the body is not a {content_type} image")
    writer = request.app[WRITER]
    await writer.save_and_wait(live)  # the session's row, which the screenshot belongs to
    now = time.time()
    row = await request.app[RECORDS].add_screenshot(
        session_id, agent.id, content_type, data, at=now, limit=SCREENSHOTS_PER_SESSION
    )
    if row is None:
        raise ProtocolError(
            ErrorCode.CONFLICT,
            f"this session keeps {SCREENSHOTS_PER_SESSION} screenshots at most",
        )
    info = screenshot_info(row)

    detail = {"screenshot_id": row.id, "content_type": content_type, "size": row.size}
    actor = Actor(kind="agent", id=agent.id, name=agent.shown_name)
    await request.app[DESK].note_screenshot(session_id, actor=actor, at=now, detail=detail)
    log.info("screenshot.kept", session_id=session_id, screenshot_id=row.id, size=row.size)
    return json_response(info, 201)


async def _read_image(request: web.Request) -> bytes:
    """The body, at most :data:`SCREENSHOT_MAX_BYTES` (more: 413), not empty (400).

    Read from the stream, not with ``request.read()``: that stops at the JSON bodies' cap.
    """
    if (request.content_length or 0) > SCREENSHOT_MAX_BYTES:
        raise web.HTTPRequestEntityTooLarge(
            max_size=SCREENSHOT_MAX_BYTES, actual_size=request.content_length or 0
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > SCREENSHOT_MAX_BYTES:
            raise web.HTTPRequestEntityTooLarge(max_size=SCREENSHOT_MAX_BYTES, actual_size=size)
        chunks.append(chunk)
    if not size:
        raise ProtocolError(ErrorCode.BAD_REQUEST, "the body is empty; send the image")
    return b"".join(chunks)


@routes.get("/api/sessions/{session_id}/screenshots/{screenshot_id}")
async def screenshot(request: web.Request) -> web.Response:
    """One screenshot's image; whoever reads the session's record (``server/access.py``)."""
    session_id = session_id_of(request)
    await ensure_reads_session(request, request[AGENT], session_id)
    screenshot_id = _path_id(request, "screenshot_id", "screenshot")
    row = await request.app[RECORDS].screenshot(session_id, screenshot_id)
    if row is None:
        raise ProtocolError(
            ErrorCode.NOT_FOUND, f"no screenshot {screenshot_id} of session {session_id}"
        )
    return web.Response(
        body=row.data,
        content_type=row.content_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{row.id}.{row.content_type[6:]}"',
        },
    )
