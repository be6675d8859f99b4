"""REST API. Open: ``/healthz``, ``/metrics``, device registration, agent login and web visitors
(``server/web_visitors.py``). Everything else under ``/api`` needs ``Authorization: Bearer <agent
token>``, of an agent that still exists and has not revoked it (``server/auth.py``): checked
against the records on every call, so a removal, sign-out or password change holds at once in
every process.

Errors have the same body as socket acks, ``{"error": {"code", "message"}}``, with the HTTP status
that matches the code; one middleware does the conversion, so no handler formats an error itself.
The same middleware admits socket connections (``server/throttle.py``): it is the one place every
request passes, and a refused connection gets the same error body, as ``429``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from signaling import ACCOUNT_ROLES, ErrorCode, ProtocolError, error_body
from signaling import models as m
from signaling.codec import describe_validation_error
from signaling.models import rest as r
from signaling.openapi import HTTP_STATUS

from .access import ensure_reads_session, ensure_role, is_open
from .appkeys import DESK, METRICS, RECORDS, SETTINGS, SIGNER, STORE, THROTTLE
from .auth import (
    AgentClaims,
    current_agent,
    hash_device_secret,
    hash_password,
    new_device_secret,
    verify_password,
)
from .framing import MAX_JSON_DEPTH, json_depth_exceeds
from .ice import ice_servers
from .live.records import LiveSession
from .metrics import CONTENT_TYPE_LATEST
from .namespaces import drop_agent_sockets
from .outage import UNAVAILABLE_ERRORS, UNAVAILABLE_MESSAGE
from .records import AgentRow, ScreenshotRow
from .throttle import SOCKET_CONNECTION, SOCKET_GUARD, client_address

__all__ = ["AGENT", "CLAIMS", "SOCKET_PATH", "error_middleware", "read_body", "routes"]

log = structlog.get_logger("mayday.rest")

CLAIMS = web.RequestKey("claims", AgentClaims)
AGENT = web.RequestKey("agent", AgentRow)
"""The agent the bearer token speaks for, as the records have it now."""
SOCKET_PATH = "/socket.io/"

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What an id the server gives out looks like (signaling's ``Id``)."""

_STATUS = HTTP_STATUS
"""The HTTP status of each error code: one table, the OpenAPI document's."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)
routes = web.RouteTableDef()


def _error_response(
    code: ErrorCode, message: str, *, retry_after_s: float | None = None
) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if _STATUS[code] == 401 else {}
    if retry_after_s is not None:
        headers["Retry-After"] = str(math.ceil(retry_after_s))
    return web.json_response(error_body(code, message), status=_STATUS[code], headers=headers)


@web.middleware
def error_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    """Admit sockets, authenticate ``/api`` and turn every failure into the one error body.

    Not a coroutine itself: it hands back the coroutine that answers the request, so a websocket,
    which stays in its handler for as long as it is open, holds no frame of this function (at
    tens of thousands of idle devices every frame kept per connection counts).
    """
    if request.path == SOCKET_PATH:
        return _socket(request, handler)
    return _request(request, handler)


async def _request(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if request.path.startswith("/api/") and not is_open(request):
            claims = _bearer_claims(request)
            agent = await current_agent(request.app[RECORDS], claims)
            ensure_role(request, agent)
            request[AGENT] = agent
            request[CLAIMS] = claims
        return await handler(request)
    except Exception as exc:
        return _failure(request, exc)


async def _socket(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Hold the connection's place per address for as long as its websocket is open (the
    handler returns when it closes); refused over the limit with ``rate_limited``.

    The one frame the middlewares keep per open websocket: admission is synchronous
    (:meth:`SocketGuard.admit`), so no context manager's generator lives alongside.
    """
    guard = request.app.get(SOCKET_GUARD)
    connection = None
    try:
        if guard is not None:
            connection = guard.admit(client_address(request), request.transport)
            request[SOCKET_CONNECTION] = connection
        return await handler(request)
    except ValueError as exc:
        if connection is None:
            return _failure(request, exc)
        # python-engineio raises out of its websocket handler for a frame that is no Engine.IO
        # packet (empty, or not starting with a digit): the client's garbage, not a server
        # failure. The websocket is open already, so no HTTP answer can follow: close.
        log.warning("socket.bad_frame", address=connection.address[:64], error=str(exc)[:120])
        connection.close()
        return web.Response(status=400)
    except Exception as exc:
        return _failure(request, exc)
    finally:
        if guard is not None and connection is not None:
            guard.release(connection)


def _failure(request: web.Request, exc: Exception) -> web.StreamResponse:
    """The answer to a request whose handling raised ``exc``; raises it again if aiohttp should
    answer it itself (an HTTP error outside ``/api/``, such as a static file's 404)."""
    if isinstance(exc, ProtocolError):
        return _error_response(exc.code, exc.message, retry_after_s=exc.retry_after_s)
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return _error_response(ErrorCode.PAYLOAD_TOO_LARGE, "the request body is too large")
    if isinstance(exc, web.HTTPException):
        if exc.status >= 400 and request.path.startswith("/api/"):
            code = ErrorCode.NOT_FOUND if exc.status == 404 else ErrorCode.BAD_REQUEST
            response = web.json_response(
                error_body(code, f"{request.method} {request.path}: {exc.reason}"),
                status=exc.status,
            )
            if "Allow" in exc.headers:
                response.headers["Allow"] = exc.headers["Allow"]
            return response
        raise exc
    if isinstance(exc, UNAVAILABLE_ERRORS):
        log.warning("rest.unavailable", method=request.method, path=request.path, error=repr(exc))
        return _error_response(ErrorCode.UNAVAILABLE, UNAVAILABLE_MESSAGE, retry_after_s=2)
    log.exception("rest.failed", method=request.method, path=request.path, exc_info=exc)
    return _error_response(ErrorCode.INTERNAL, "the server failed; nothing was changed")


def _bearer_claims(request: web.Request) -> AgentClaims:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ProtocolError(
            ErrorCode.UNAUTHORIZED,
            "send 'Authorization: Bearer <token>'; get a token from POST /api/agents/login",
        )
    return request.app[SIGNER].verify(token.strip())


async def read_body(request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model``; an empty body, ``{}`` and ``null`` all mean "no fields"."""
    body = await request.read()  # at most client_max_size (MAYDAY_MAX_MESSAGE_BYTES), else 413
    if not body:
        data: Any = {}
    else:
        try:
            text = body.decode()
            if json_depth_exceeds(text):  # json.loads would recurse ~1000 levels, then raise
                raise ProtocolError(
                    ErrorCode.BAD_REQUEST,
                    f"the body is nested deeper than {MAX_JSON_DEPTH} levels",
                )
            data = json.loads(text)
        except (ValueError, RecursionError):  # not UTF-8, not JSON
            raise ProtocolError(ErrorCode.BAD_REQUEST, "the body must be a JSON object") from None
    try:
        return model.model_validate({} if data is None else data)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, describe_validation_error(exc)) from None


def json_response(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    token = request.app[SETTINGS].metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            raise ProtocolError(
                ErrorCode.UNAUTHORIZED, "/metrics needs the metrics token (MAYDAY_METRICS_TOKEN)"
            )
    await request.app[DESK].queue.refresh_gauges()
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@routes.post("/api/devices")
async def register_device(request: web.Request) -> web.Response:
    registration = await read_body(request, m.DeviceRegistration)
    expected = request.app[SETTINGS].enrollment_key
    if expected is not None and not hmac.compare_digest(
        (registration.enrollment_key or "").encode(), expected.encode()
    ):
        raise ProtocolError(
            ErrorCode.FORBIDDEN, "this server needs the enrollment key your operator gave you"
        )
    secret = new_device_secret()
    row = await request.app[RECORDS].add_device(registration.name, hash_device_secret(secret))
    log.info("device.registered", device_id=row.id, name=row.name)
    return json_response(m.DeviceRegistrationResponse(device_id=row.id, device_secret=secret), 201)


@routes.post("/api/agents/login")
async def login(request: web.Request) -> web.Response:
    creds = await read_body(request, m.AgentLoginRequest)
    row = await request.app[RECORDS].agent_by_name(creds.name)
    unlocks = row.unlock_generation if row is not None else 0
    async with request.app[THROTTLE].attempt(
        creds.name, client_address(request), unlocks
    ) as attempt:
        valid = await verify_password(row.password_hash if row else None, creds.password)
        if row is None or not valid:
            log.warning("agent.login_failed", name=creds.name[:80], known=row is not None)
            await attempt.failed()
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "wrong name or password")
        await attempt.succeeded()
    log.info("agent.login", agent_id=row.id)
    return _token_response(request, row)


@routes.post("/api/agents/refresh")
async def refresh(request: web.Request) -> web.Response:
    return _token_response(request, request[AGENT])


@routes.post("/api/agents/logout")
async def logout(request: web.Request) -> web.Response:
    """Sign the agent out everywhere: all its tokens die, its socket is closed."""
    agent = request[AGENT]
    await request.app[RECORDS].revoke_agent_tokens(agent.id)
    await drop_agent_sockets(request.app, agent.id)
    log.info("agent.logout", agent_id=agent.id)
    return web.json_response({"ok": True})


@routes.post("/api/agents/password")
async def change_password(request: web.Request) -> web.Response:
    """Set a new password: every token of the agent dies (its socket is closed) and this answer
    carries a fresh one. A wrong current password counts as a failed sign-in of the name."""
    change = await read_body(request, m.PasswordChange)
    agent = request[AGENT]
    async with request.app[THROTTLE].attempt(
        agent.name, client_address(request), agent.unlock_generation
    ) as attempt:
        if not await verify_password(agent.password_hash, change.password):
            log.warning("agent.password_change_refused", agent_id=agent.id)
            await attempt.failed()
            raise ProtocolError(ErrorCode.FORBIDDEN, "wrong password; nothing was changed")
        await attempt.succeeded()
    new_hash = await asyncio.to_thread(hash_password, change.new_password)
    row = await request.app[RECORDS].revoke_agent_tokens(agent.id, password_hash=new_hash)
    if row is None:
        raise ProtocolError(ErrorCode.UNAUTHORIZED, "this agent account no longer exists")
    await drop_agent_sockets(request.app, agent.id)
    log.info("agent.password_changed", agent_id=agent.id)
    return _token_response(request, row)


def _token_response(request: web.Request, row: AgentRow) -> web.Response:
    """A fresh token for ``row``: the answer of login, refresh and a password change."""
    token, expires = request.app[SIGNER].issue(row.id, row.name, generation=row.token_generation)
    return json_response(
        m.AgentLoginResponse(
            token=token,
            expires_at=expires,
            agent=m.AgentInfo(id=row.id, name=row.shown_name),
            languages=list(row.languages),
            skills=list(row.skills),
            role=row.role if row.role in ACCOUNT_ROLES else "agent",
        )
    )


@routes.get("/api/queue")
async def queue(request: web.Request) -> web.Response:
    return json_response(await request.app[DESK].queue.snapshot())


@routes.get("/api/ice-servers")
async def ice(request: web.Request) -> web.Response:
    claims: AgentClaims = request[CLAIMS]
    # TURN credentials only for an agent in a live session (as session.started hands them out).
    presence = await request.app[STORE].get_agent(claims.agent_id)
    in_session = presence is not None and presence.session_id is not None
    servers = ice_servers(request.app[SETTINGS], f"agent-{claims.agent_id}", turn=in_session)
    return web.json_response({"ice_servers": [s.model_dump(exclude_none=True) for s in servers]})


def session_id_of(request: web.Request) -> str:
    """The path's session id, if it can be one at all: anything else is no session of ours (and
    never reaches the database, which may refuse odd characters such as NUL with an error)."""
    session_id = request.match_info["session_id"]
    if not ID_PATTERN.fullmatch(session_id):
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no session {session_id[:64]!r}")
    return session_id


@routes.get("/api/sessions/{session_id}")
async def session(request: web.Request) -> web.Response:
    session_id = session_id_of(request)
    await ensure_reads_session(request, request[AGENT], session_id)
    live = await request.app[DESK].session(session_id)
    shots = (await request.app[RECORDS].screenshots([session_id]))[session_id]
    screenshots = [screenshot_info(shot).model_dump(mode="json") for shot in shots]
    if live is not None:
        return web.json_response(_live_session_body(live) | {"screenshots": screenshots})
    row = await request.app[RECORDS].session(session_id)
    if row is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no session {session_id[:64]}")
    return web.json_response(
        {
            "id": row.id,
            "state": row.state,
            "topic": row.topic,
            "locale": row.locale,
            "device": {"id": row.device_id, "name": row.device_name, "connected": False},
            "agent": {"id": row.agent_id, "name": row.agent_name} if row.agent_id else None,
            "created_at": row.created_at,
            "rung_at": row.rung_at,
            "accepted_at": row.accepted_at,
            "active_at": row.active_at,
            "ended_at": row.ended_at,
            "end_reason": row.end_reason,
            "ended_by": row.ended_by,
            "rating": row.rating,
            "solved": row.solved,
            "notes": row.notes,
            "screenshots": screenshots,
        }
    )


@routes.get("/api/sessions/{session_id}/events")
async def session_events(request: web.Request) -> web.Response:
    session_id = session_id_of(request)
    await ensure_reads_session(request, request[AGENT], session_id)
    live = await request.app[DESK].session(session_id)
    if live is not None:
        events = live.timeline
    else:
        events = await request.app[RECORDS].session_events(session_id)
        if not events and await request.app[RECORDS].session(session_id) is None:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no session {session_id[:64]}")
    return web.json_response(
        {"session_id": session_id, "events": [e.model_dump(mode="json") for e in events]}
    )


def _live_session_body(live: LiveSession) -> dict[str, Any]:
    return {
        "id": live.id,
        "state": live.state.value,
        "topic": live.topic,
        "locale": live.locale,
        "device": {
            "id": live.device_id,
            "name": live.device_name,
            "connected": live.device_connected,
        },
        "agent": {"id": live.agent_id, "name": live.agent_name} if live.agent_id else None,
        "created_at": live.created_at,
        "rung_at": live.rung_at,
        "accepted_at": live.accepted_at,
        "active_at": live.active_at,
        "ended_at": live.ended_at,
        "end_reason": live.end_reason,
        "ended_by": live.ended_by,
        "rating": None,
        "solved": None,
        "notes": live.notes,
    }


def screenshot_info(row: ScreenshotRow) -> r.ScreenshotInfo:
    """A screenshot as the session's record and the device's history list it."""
    return r.ScreenshotInfo(
        id=row.id,
        session_id=row.session_id,
        at=row.at,
        content_type="image/jpeg" if row.content_type == "image/jpeg" else "image/png",
        size=row.size,
    )
