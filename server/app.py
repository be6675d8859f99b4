"""Assembles one server process: aiohttp for REST and static files, python-socketio for sockets.

Resources (database, live store, writer, desk) are opened in a cleanup context and closed on
shutdown, in reverse order, under typed app keys (see :mod:`server.appkeys`).

A graceful stop (SIGTERM, ``mayday server``) first **drains** the process (:func:`drain`): it
refuses new Engine.IO connections and answers ``/readyz`` 503 at once, lets the events it is
handling be answered, then closes every client's transport *without* a Socket.IO or Engine.IO
"close" (clients take that for a deliberate disconnect and stay away) so that each client
reconnects by itself, through the load balancer, to another process, which resumes it
(``docs/protocol.md`` §9). Then it flushes the record writer; only then are the resources closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import socketio
import structlog
from aiohttp import web

from .appkeys import (
    DESK,
    METRICS,
    NODE,
    ORIGINS,
    RECORDS,
    SETTINGS,
    SIGNER,
    SIO,
    STORE,
    THROTTLE,
    WRITER,
)
from .auth import TokenSigner
from .desk import HelpDesk
from .emitter import Emitter
from .fanout import FanoutManager
from .health import READINESS, Probe, Readiness, readyz
from .live.memory import MemoryStore
from .live.records import LiveSession, SessionState
from .live.redis import RedisStore
from .live.store import LiveStore
from .metrics import Metrics
from .namespaces import AgentNamespace, DeviceNamespace
from .origins import Origins
from .records import Records, open_records
from .rest import error_middleware, routes
from .rest_admin import routes as admin_routes
from .rest_customer import routes as customer_routes
from .rest_desk import routes as desk_routes
from .rest_team import routes as team_routes
from .rooms import LocalManager
from .settings import Settings
from .throttle import LoginThrottle
from .web_files import VENDOR, WEB_ROOT
from .web_visitors import cors_headers
from .web_visitors import routes as visitor_routes
from .widget import add_widget_routes
from .writer import RecordWriter

__all__ = ["DRAIN", "DRAIN_ACKS_S", "DRAIN_SOCKETS_S", "WEB_ROOT", "Drain", "create_app", "drain"]

log = structlog.get_logger("mayday.app")

CLOSE_TIMEOUT_S = 5.0
DRAIN_ACKS_S = 2.0
"""A graceful stop waits this long at most for the events a socket is being handled to be answered
before it closes that socket's transport."""
DRAIN_SOCKETS_S = 5.0
"""A graceful stop waits this long at most for every socket's transport to be closed."""
DRAIN_FLUSH_S = 5.0
"""A graceful stop waits this long at most for the record writer to store what it holds."""


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings()
    app = web.Application(
        middlewares=[_refuse_sockets_while_draining, error_middleware],
        client_max_size=settings.max_message_bytes,
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    node = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    app[NODE] = node
    # Browsers may open a socket from the console's origins or a site's; never '*'.
    app[ORIGINS] = Origins(settings.allowed_origins)
    # Emits reach sockets held by any process of the system, through Redis pub/sub; the manager
    # notices when it stops hearing the channel and subscribes again (server/fanout.py).
    manager = FanoutManager(settings.redis_url) if settings.redis_url else LocalManager()
    sio = socketio.AsyncServer(
        client_manager=manager,
        async_mode="aiohttp",
        cors_allowed_origins=app[ORIGINS].engineio_check,
        transports=["websocket"],
        # Hard cap enforced by engine.io (closes the socket); the softer per-event cap in
        # sockets.py answers with a payload_too_large error instead.
        max_http_buffer_size=settings.max_message_bytes * 2,
        async_handlers=False,
        namespaces=[],  # only /device and /agent; no unauthenticated default namespace
        ping_interval=settings.ping_interval_s,
        ping_timeout=settings.ping_timeout_s,
        logger=False,
        engineio_logger=False,
    )
    sio.register_namespace(DeviceNamespace(app))
    sio.register_namespace(AgentNamespace(app))
    sio.attach(app)
    app[SIO] = sio
    app[DRAIN] = Drain(sio)
    app.cleanup_ctx.append(_resources)
    # Also when the process is stopped some other way than `mayday server` (aiohttp's run_app,
    # a test server): the drain then happens after the listener closed. Idempotent.
    app.on_shutdown.append(drain)
    app.add_routes(routes)
    app.add_routes(customer_routes)
    app.add_routes(desk_routes)
    app.add_routes(team_routes)
    app.add_routes(admin_routes)
    app.add_routes(visitor_routes)
    add_widget_routes(app)
    app.on_response_prepare.append(cors_headers)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/vendor/{name}", _vendor)
    app.router.add_get("/", _index)
    # The console's files; never /api/, /vendor/ or /socket.io/, so an API path with the wrong
    # method still answers 405 with an error body instead of falling through to a file lookup.
    app.router.add_get(r"/{path:(?!api/|vendor/|socket\.io/)[A-Za-z0-9_./-]+}", _asset)
    return app


@dataclass(eq=False)
class Drain:
    """A graceful stop of this process's sockets (see the module's docstring).

    Tracks the Engine.IO messages being handled on each connection (python-socketio handles one
    connection's events one after the other, ``async_handlers=False``), so that a stop lets each
    be answered before the connection's transport closes. Once a connection is being closed, the
    messages it still sends are dropped *unhandled*: every event this process handled was
    answered, and one that was not answered was not handled, so a client may send it again once
    it has reconnected (elsewhere).
    """

    sio: socketio.AsyncServer
    draining: bool = False
    """Set when the stop begins: new Engine.IO connections are refused from then on."""
    _busy: dict[str, int] = field(default_factory=dict, init=False)
    _idle: dict[str, asyncio.Event] = field(default_factory=dict, init=False)
    _closing: set[str] = field(default_factory=set, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def abandon(self) -> None:
        """Cut a drain under way short (a second signal): the stop goes on without it."""
        if self._task is not None:
            self._task.cancel()

    def __post_init__(self) -> None:
        # python-engineio calls one handler per event; wrap python-socketio's own.
        self.sio.eio.on("message", self._tracked(self.sio.eio.handlers["message"]))

    def _tracked(
        self, handler: Callable[[str, Any], Awaitable[Any]]
    ) -> Callable[[str, Any], Awaitable[Any]]:
        async def message(eio_sid: str, data: Any) -> Any:
            if eio_sid in self._closing:
                return None  # not handled, so not answered: the client may send it again
            self._busy[eio_sid] = self._busy.get(eio_sid, 0) + 1
            try:
                return await handler(eio_sid, data)
            finally:
                left = self._busy.pop(eio_sid) - 1
                if left:
                    self._busy[eio_sid] = left
                else:
                    idle = self._idle.pop(eio_sid, None)
                    if idle is not None:
                        idle.set()

        return message

    async def _until_idle(self, eio_sid: str, timeout_s: float) -> None:
        if eio_sid not in self._busy:
            return
        idle = self._idle.setdefault(eio_sid, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(idle.wait(), timeout_s)

    async def _close_transport(self, eio_sid: str, eio_socket: Any) -> None:
        """Answer what this connection is being handled for, then close its transport.

        ``close(abort=True)`` runs the disconnect handlers (the desk counts the party as lost,
        exactly as for a dropped network) without sending Engine.IO's CLOSE packet; ``None`` on
        the send queue then ends the writer, which sends what is queued (the acks) and closes the
        WebSocket. A client that sees its transport close reconnects by itself; one that receives
        CLOSE (or a Socket.IO DISCONNECT) would not.
        """
        self._closing.add(eio_sid)
        await self._until_idle(eio_sid, DRAIN_ACKS_S)
        reason = self.sio.eio.reason.TRANSPORT_CLOSE
        try:
            await eio_socket.close(wait=False, abort=True, reason=reason)
        finally:
            eio_socket.queue.put_nowait(None)

    async def close_transports(self, deadline: float) -> int:
        """Close every open connection's transport; new ones may still be finishing a handshake
        that began before the stop, so look again until none is left or ``deadline`` passes."""
        closed = 0
        while time.monotonic() < deadline:
            open_now = [(sid, s) for sid, s in list(self.sio.eio.sockets.items()) if not s.closing]
            if not open_now:
                break
            closed += len(open_now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(
                        *(self._close_transport(sid, s) for sid, s in open_now),
                        return_exceptions=True,
                    ),
                    max(0.01, deadline - time.monotonic()),
                )
        return closed


DRAIN = web.AppKey("drain", Drain)


async def drain(app: web.Application) -> None:
    """Stop taking sockets, send the connected clients elsewhere, store the records. Idempotent;
    bounded by :data:`DRAIN_ACKS_S`, :data:`DRAIN_SOCKETS_S` and :data:`DRAIN_FLUSH_S`."""
    state = app[DRAIN]
    if state._task is None:
        state._task = asyncio.create_task(_drain(app, state), name="drain")
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.shield(state._task)


async def _drain(app: web.Application, state: Drain) -> None:
    started = time.monotonic()
    state.draining = True
    readiness = app.get(READINESS)
    if readiness is not None:
        readiness.draining = True
    log.info("server.draining", node=app[NODE], sockets=len(state.sio.eio.sockets))
    try:
        closed = await state.close_transports(started + DRAIN_SOCKETS_S)
    except Exception:
        closed = -1
        log.exception("server.drain_failed", step="sockets")
    writer = app.get(WRITER)
    if writer is not None:
        try:
            await asyncio.wait_for(writer.flush(), DRAIN_FLUSH_S)
        except Exception:
            log.exception("server.drain_failed", step="records")
    log.info(
        "server.drained",
        node=app[NODE],
        sockets=closed,
        took_s=round(time.monotonic() - started, 3),
    )


@web.middleware
def _refuse_sockets_while_draining(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> Awaitable[web.StreamResponse]:
    """New Engine.IO connections go to another process once this one is stopping.

    Not a coroutine: it decides before the handler runs and hands back the handler's coroutine,
    so an open websocket keeps no frame of it (see ``server/rest.py``'s ``error_middleware``).
    """
    if request.app[DRAIN].draining and request.path.startswith("/socket.io"):
        raise web.HTTPServiceUnavailable(
            text="this server process is stopping; connect again", headers={"Retry-After": "1"}
        )
    return handler(request)


async def _vendor(request: web.Request) -> web.FileResponse:
    path = VENDOR.get(request.match_info["name"])
    if path is None or not path.exists():
        raise web.HTTPNotFound(text="not a vendored file; did `npm ci` run?")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


async def _index(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(WEB_ROOT / "index.html", headers={"Cache-Control": "no-cache"})


async def _asset(request: web.Request) -> web.FileResponse:
    relative = request.match_info["path"]
    path = (WEB_ROOT / relative).resolve()
    hidden = any(part.startswith(".") for part in Path(relative).parts)
    if hidden or not path.is_relative_to(WEB_ROOT) or not path.is_file():
        raise web.HTTPNotFound(text="no such file")
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


def _open_store(settings: Settings) -> LiveStore:
    if settings.redis_url:
        return RedisStore(
            settings.redis_url, default_handling_time_s=settings.default_handling_time_s
        )
    return MemoryStore(default_handling_time_s=settings.default_handling_time_s)


def _readiness(records: Records, store: LiveStore, fanout: FanoutManager | None) -> Readiness:
    """What ``/readyz`` checks: the records database; with Redis, Redis and the fan-out."""

    async def select_one() -> None:
        async with records.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")

    probes: dict[str, Probe] = {"records": select_one}
    if isinstance(store, RedisStore):
        probes["redis"] = store.ping
    flags = {"fanout": lambda: fanout.subscribed} if fanout is not None else {}
    return Readiness(probes=probes, flags=flags)


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    sio = app[SIO]
    records = await open_records(settings)
    app[RECORDS] = records

    async def site_origins() -> set[str]:
        return {origin for site in await records.list_sites() for origin in site.origins}

    await app[ORIGINS].refresh(site_origins)
    key = settings.secret_key or await records.secret("token_key")
    app[SIGNER] = TokenSigner(key, settings.token_ttl_s)
    store = _open_store(settings)
    app[STORE] = store
    app[THROTTLE] = LoginThrottle(
        store, max_failures=settings.login_max_failures, window_s=settings.login_window_s
    )

    async def forget_ended(saved: list[LiveSession]) -> None:
        for session in saved:
            if session.state is SessionState.ENDED:
                await store.forget_session(session.id)

    writer = RecordWriter(records, on_saved=forget_ended)
    writer.start()
    app[WRITER] = writer
    app[DESK] = HelpDesk(
        store=store,
        records=records,
        writer=writer,
        emitter=Emitter(app[SIO]),
        settings=settings,
        metrics=app[METRICS],
        node=app[NODE],
    )
    app[DESK].start()
    fanout = sio.manager if isinstance(sio.manager, FanoutManager) else None
    if fanout is not None:
        fanout.start()
    app[READINESS] = _readiness(records, store, fanout)
    refresher = asyncio.create_task(
        app[ORIGINS].keep_fresh(site_origins, settings.sites_refresh_s), name="origins"
    )
    log.info(
        "server.started",
        database=records.engine.dialect.name,
        store=type(store).__name__,
        node=app[NODE],
    )
    try:
        yield
    finally:
        # Each resource gets a bounded time to close: one that hangs (a database or Redis gone
        # away) must not keep the process, or the next resource's cleanup, waiting for ever.
        refresher.cancel()
        await asyncio.wait([refresher], timeout=CLOSE_TIMEOUT_S)
        for name, closing in (
            ("desk", app[DESK].close()),
            ("sockets", sio.shutdown()),
            ("fanout", fanout.close() if fanout is not None else asyncio.sleep(0)),
            ("writer", writer.close()),
            ("store", store.close()),
            ("records", records.close()),
        ):
            try:
                await asyncio.wait_for(closing, CLOSE_TIMEOUT_S)
            except Exception:
                log.exception("server.close_failed", resource=name)
        log.info("server.stopped")
