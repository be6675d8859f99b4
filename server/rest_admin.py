"""The admin REST API (§19): accounts, sites and devices, as ``mayday agents|sites`` manage them.

Every route needs an admin's token; the error middleware of :mod:`server.rest` checks that from
the operations of ``signaling.openapi_admin``, so no handler here checks a role. What the handlers
do check is that an admin cannot, by accident, leave the desk without itself: it may not remove its
own account nor take the admin role from itself (another admin, or the CLI, can).

A change that takes rights away holds at once: a new role or password, or a removal, kills the
account's tokens (the records raise its token generation, or the account is gone) and closes its
socket. Languages, skills and the display name apply from the account's next sign-in. A removed
device's socket is closed by the periodic credential check (``server/sockets.py``), and a site's
origins reach this process at once and the others within ``MAYDAY_SITES_REFRESH_S``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from signaling import ACCOUNT_ROLES, ErrorCode, ProtocolError
from signaling import models as m
from signaling.openapi_admin import DEVICES_LIMIT, OFFSET_MAX

from .appkeys import ORIGINS, RECORDS
from .auth import hash_password
from .namespaces import drop_agent_sockets
from .origins import normalise_origin
from .records import AgentRow, DeviceRow, Records, SiteRow
from .rest import AGENT, ID_PATTERN, json_response, read_body

__all__ = ["routes"]

log = structlog.get_logger("mayday.admin")

routes = web.RouteTableDef()

DEVICES_PAGE = 100
"""Devices ``GET /api/admin/devices`` answers when no ``limit`` is given."""
NOT_YOURSELF = "ask another admin, or use the CLI on the server"


def _account(row: AgentRow) -> m.AdminAccount:
    return m.AdminAccount(
        id=row.id,
        name=row.name,
        display_name=row.display_name,
        role=row.role if row.role in ACCOUNT_ROLES else "agent",
        languages=list(row.languages),
        skills=list(row.skills),
        created_at=row.created_at,
    )


def _site(row: SiteRow) -> m.AdminSite:
    return m.AdminSite(
        id=row.id, name=row.name, key=row.key, origins=list(row.origins), created_at=row.created_at
    )


def _device(row: DeviceRow) -> m.AdminDevice:
    return m.AdminDevice(
        id=row.id,
        name=row.name,
        kind="web" if row.kind == "web" else "device",
        site_id=row.site_id,
        created_at=row.created_at,
    )


def _ok() -> web.Response:
    return json_response(m.AdminOk(ok=True))


def _path_name(request: web.Request, what: str) -> str:
    """The path's name (aiohttp decoded it): one no record can have is no such ``what``."""
    name = request.match_info["name"]
    if not 1 <= len(name) <= 80 or "\x00" in name:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no {what} {name[:80]!r}")
    return name


async def _existing_agent(request: web.Request) -> AgentRow:
    name = _path_name(request, "agent")
    row = await request.app[RECORDS].agent_by_name(name)
    if row is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no agent {name!r}")
    return row


def _refuse_for_yourself(request: web.Request, target: AgentRow, what: str) -> None:
    """An admin may not do ``what`` to its own account over REST (409 ``conflict``)."""
    if target.id == request[AGENT].id:
        raise ProtocolError(ErrorCode.CONFLICT, f"you cannot {what}; {NOT_YOURSELF}")


def _query_int(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    given = request.query.get(name, str(default))
    if not given.isascii() or not given.isdigit() or not low <= int(given) <= high:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"{name} is a whole number from {low} to {high}")
    return int(given)


async def _refresh_origins(request: web.Request) -> None:
    """This process accepts a new site's origins (and refuses a removed one's) at once."""
    records: Records = request.app[RECORDS]

    async def site_origins() -> set[str]:
        return {origin for site in await records.list_sites() for origin in site.origins}

    await request.app[ORIGINS].refresh(site_origins)


# --- accounts -----------------------------------------------------------------------------------


@routes.get("/api/admin/agents")
async def list_agents(request: web.Request) -> web.Response:
    rows = await request.app[RECORDS].list_agents()
    return json_response(m.AdminAccounts(agents=[_account(row) for row in rows]))


@routes.post("/api/admin/agents")
async def add_agent(request: web.Request) -> web.Response:
    new = await read_body(request, m.AdminAccountCreate)
    records = request.app[RECORDS]
    if await records.agent_by_name(new.name) is not None:
        raise ProtocolError(ErrorCode.CONFLICT, f"agent {new.name!r} exists already")
    password_hash = await asyncio.to_thread(hash_password, new.password)
    try:
        row = await records.add_agent(
            new.name,
            password_hash,
            new.languages,
            new.skills,
            display_name=new.display_name,
            role=new.role,
        )
    except IntegrityError:  # the same name added at the same moment
        raise ProtocolError(ErrorCode.CONFLICT, f"agent {new.name!r} exists already") from None
    log.info("admin.agent_added", by=request[AGENT].id, agent_id=row.id, role=row.role)
    return json_response(_account(row), 201)


@routes.patch("/api/admin/agents/{name}")
async def change_agent(request: web.Request) -> web.Response:
    change = await read_body(request, m.AdminAccountChange)
    target = await _existing_agent(request)
    if change.role is not None and change.role != "admin":
        _refuse_for_yourself(request, target, "take the admin role from yourself")
    changes: dict[str, Any] = {
        field: getattr(change, field)
        for field in change.model_fields_set
        if field in ("role", "display_name", "languages", "skills")
    }
    if change.password is not None:
        changes["password_hash"] = await asyncio.to_thread(hash_password, change.password)
    row = await request.app[RECORDS].update_agent(target.name, **changes)
    if row is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no agent {target.name!r}")
    signed_out = row.token_generation != target.token_generation
    if signed_out:
        await drop_agent_sockets(request.app, row.id)
    log.info(
        "admin.agent_changed",
        by=request[AGENT].id,
        agent_id=row.id,
        fields=sorted(field.replace("password_hash", "password") for field in changes),
        role=row.role,
        signed_out=signed_out,
    )
    return json_response(_account(row))


@routes.delete("/api/admin/agents/{name}")
async def remove_agent(request: web.Request) -> web.Response:
    target = await _existing_agent(request)
    _refuse_for_yourself(request, target, "remove your own account")
    if not await request.app[RECORDS].remove_agent(target.name):
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no agent {target.name!r}")
    await drop_agent_sockets(request.app, target.id)
    log.info("admin.agent_removed", by=request[AGENT].id, agent_id=target.id)
    return _ok()


@routes.post("/api/admin/agents/{name}/unlock")
async def unlock_agent(request: web.Request) -> web.Response:
    name = _path_name(request, "agent")
    row = await request.app[RECORDS].unlock_agent(name)
    if row is None:
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no agent {name!r}")
    log.info("admin.agent_unlocked", by=request[AGENT].id, agent_id=row.id)
    return _ok()


# --- sites --------------------------------------------------------------------------------------


@routes.get("/api/admin/sites")
async def list_sites(request: web.Request) -> web.Response:
    rows = await request.app[RECORDS].list_sites()
    return json_response(m.AdminSites(sites=[_site(row) for row in rows]))


@routes.post("/api/admin/sites")
async def add_site(request: web.Request) -> web.Response:
    new = await read_body(request, m.AdminSiteCreate)
    try:
        # Each origin once, in the order given, as browsers write them (as `mayday sites add`).
        origins = list(dict.fromkeys(normalise_origin(origin) for origin in new.origins))
    except ValueError as error:
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, f"not an origin: {error}; nothing was changed"
        ) from None
    try:
        row = await request.app[RECORDS].add_site(new.name, origins)
    except IntegrityError:
        raise ProtocolError(ErrorCode.CONFLICT, f"site {new.name!r} exists already") from None
    await _refresh_origins(request)
    log.info("admin.site_added", by=request[AGENT].id, site_id=row.id, origins=row.origins)
    return json_response(_site(row), 201)


@routes.delete("/api/admin/sites/{name}")
async def remove_site(request: web.Request) -> web.Response:
    name = _path_name(request, "site")
    if not await request.app[RECORDS].remove_site(name):
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no site {name!r}")
    await _refresh_origins(request)
    log.info("admin.site_removed", by=request[AGENT].id, site=name)
    return _ok()


# --- devices ------------------------------------------------------------------------------------


@routes.get("/api/admin/devices")
async def list_devices(request: web.Request) -> web.Response:
    kind = request.query.get("kind")
    if kind is not None and kind not in ("device", "web"):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "kind is device or web")
    limit = _query_int(request, "limit", DEVICES_PAGE, 1, DEVICES_LIMIT)
    offset = _query_int(request, "offset", 0, 0, OFFSET_MAX)
    rows, total = await request.app[RECORDS].list_devices(kind, limit, offset)
    return json_response(m.AdminDevices(devices=[_device(row) for row in rows], total=total))


@routes.delete("/api/admin/devices/{device_id}")
async def remove_device(request: web.Request) -> web.Response:
    device_id = request.match_info["device_id"]
    if not ID_PATTERN.fullmatch(device_id) or not await request.app[RECORDS].remove_device(
        device_id
    ):
        raise ProtocolError(ErrorCode.NOT_FOUND, f"no device {device_id[:64]!r}")
    log.info("admin.device_removed", by=request[AGENT].id, device_id=device_id)
    return _ok()
