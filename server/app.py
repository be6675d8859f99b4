"""Assembles one server process: aiohttp for REST and static files, python-socketio for sockets.

Resources (database, live store, writer, desk) are opened in a cleanup context and closed on
shutdown, in reverse order, under typed app keys (see :mod:`server.appkeys`).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path

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
from .origins import Origins
from .records import Records, open_records
from .rest import error_middleware, routes
from .settings import Settings
from .sockets import AgentNamespace, DeviceNamespace
from .throttle import LoginThrottle
from .web_files import VENDOR, WEB_ROOT
from .web_visitors import cors_headers
from .web_visitors import routes as visitor_routes
from .widget import add_widget_routes
from .writer import RecordWriter

__all__ = ["WEB_ROOT", "create_app"]

log = structlog.get_logger("mayday.app")

CLOSE_TIMEOUT_S = 5.0
PING_INTERVAL_S = 10
PING_TIMEOUT_S = 10


def create_app(settings: Settings | None = None) -> web.Application:
    settings = settings or Settings()
    app = web.Application(
        middlewares=[error_middleware], client_max_size=settings.max_message_bytes
    )
    app[SETTINGS] = settings
    app[METRICS] = Metrics()
    node = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    app[NODE] = node
    # Browsers may open a socket from the console's origins or a site's; never '*'.
    app[ORIGINS] = Origins(settings.allowed_origins)
    # Emits reach sockets held by any process of the system, through Redis pub/sub; the manager
    # notices when it stops hearing the channel and subscribes again (server/fanout.py).
    manager = FanoutManager(settings.redis_url) if settings.redis_url else None
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
        ping_interval=PING_INTERVAL_S,
        ping_timeout=PING_TIMEOUT_S,
        logger=False,
        engineio_logger=False,
    )
    sio.register_namespace(DeviceNamespace(app))
    sio.register_namespace(AgentNamespace(app))
    sio.attach(app)
    app[SIO] = sio
    app.cleanup_ctx.append(_resources)
    app.add_routes(routes)
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
        emitter=Emitter(app[SIO], app[NODE]),
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
