"""Web visitors: a customer on a page that embeds the co-browsing widget becomes a device of kind
``web`` with one ``POST /api/web/visitors``, then asks for help like any device.

The site key in the page is public (anyone can read it from the HTML), so it proves nothing about
who calls. What protects a site is, first, its origin allow-list: a browser always sends the
page's ``Origin`` with a cross-origin request and a page cannot forge it, so another site's pages
can neither create visitors with this key nor (CORS headers are only ever sent to an allowed
origin, never ``*``) read the answer. A script outside a browser can write any ``Origin``; for it
there are the rate limits, per client address and per site, counted in the live store so that they
hold across every process of the system.
"""

from __future__ import annotations

import math

import structlog
from aiohttp import web

from signaling import ErrorCode, ProtocolError
from signaling import models as m

from .appkeys import ORIGINS, RECORDS, SETTINGS, STORE
from .auth import hash_device_secret, new_device_secret
from .live.store import LiveStore
from .rest import read_body
from .settings import Settings
from .throttle import client_address

__all__ = ["RATE_WINDOW_S", "VISITORS_PATH", "cors_headers", "routes"]

log = structlog.get_logger("mayday.web")

VISITORS_PATH = "/api/web/visitors"
RATE_WINDOW_S = 60.0
"""The rate limits' window: ``MAYDAY_WEB_VISITORS_PER_IP`` and ``…_PER_SITE`` are per minute."""
PREFLIGHT_MAX_AGE_S = 600

CORS_ORIGIN = web.RequestKey("cors_origin", str)
"""Set once the request's Origin is known to be allowed: only then do CORS headers go out."""

routes = web.RouteTableDef()


@routes.post(VISITORS_PATH)
async def create_visitor(request: web.Request) -> web.Response:
    origin = request.headers.get("Origin")
    visitor = await read_body(request, m.WebVisitorRequest)
    records = request.app[RECORDS]
    site = await records.site(key=visitor.site_key)
    if site is None:
        raise ProtocolError(
            ErrorCode.NOT_FOUND, "no site has this key; check the widget's data-site-key"
        )
    if origin is None:
        raise ProtocolError(
            ErrorCode.FORBIDDEN,
            "this request has no Origin header; web visitors come from the site's own pages",
        )
    if origin not in site.origins:
        raise ProtocolError(
            ErrorCode.FORBIDDEN, f"this page's origin {origin[:200]} is not allowed for this site"
        )
    request[CORS_ORIGIN] = origin
    await _admit(request.app[STORE], request.app[SETTINGS], client_address(request), site.id)
    secret = new_device_secret()
    row = await records.add_device(
        visitor_name(origin), hash_device_secret(secret), site_id=site.id
    )
    log.info(
        "web_visitor.created",
        device_id=row.id,
        site=site.name,
        origin=origin,
        locale=visitor.locale,
    )
    response = m.WebVisitorResponse(
        device_id=row.id, device_secret=secret, site=m.WebSite(name=site.name)
    )
    return web.json_response(response.model_dump(mode="json"), status=201)


@routes.route("OPTIONS", VISITORS_PATH)
async def preflight(request: web.Request) -> web.Response:
    """The browser's CORS preflight. It carries no body, so no site key: the origin has to be
    some site's, as of this process's last refresh (``server/origins.py``); the POST then checks
    it against the key's own site."""
    origin = request.headers.get("Origin")
    if origin is None or not request.app[ORIGINS].site_allows(origin):
        raise ProtocolError(
            ErrorCode.FORBIDDEN,
            f"this page's origin {str(origin)[:200]} is not allowed for any site",
        )
    request[CORS_ORIGIN] = origin
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
        },
    )


async def cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: CORS headers on every answer of the visitors' route to an allowed
    origin, errors included (the widget must be able to read a 429's ``Retry-After``), and on
    no other. A signal, not the handler, because the error middleware builds the error answers."""
    if request.path != VISITORS_PATH:
        return
    response.headers["Vary"] = "Origin"
    origin = request.get(CORS_ORIGIN)
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"


def visitor_name(origin: str) -> str:
    """The visitor's device name, as agents see it: ``Web visitor · shop.example``."""
    return f"Web visitor · {origin.partition('://')[2]}"[:80]


async def _admit(store: LiveStore, settings: Settings, address: str, site_id: str) -> None:
    """Count one new visitor against its address, then (if admitted) against its site.

    A request refused for its address does not count against the site, so one flooding address
    cannot use up a site's allowance for everybody else. The counters are the store's windowed
    ``count_failure`` (as the sign-in throttle's), whose window runs from the first count.
    """
    await _within(
        store,
        f"web-ip:{address}",
        settings.web_visitors_per_ip,
        "too many new web visitors from your address",
    )
    await _within(
        store,
        f"web-site:{site_id}",
        settings.web_visitors_per_site,
        "too many new web visitors for this site",
    )


async def _within(store: LiveStore, key: str, limit: int, what: str) -> None:
    if await store.count_failure(key, RATE_WINDOW_S) <= limit:
        return
    _count, remaining_s = await store.failures(key)
    wait_s = max(1, math.ceil(remaining_s))
    log.warning("web_visitor.rate_limited", key=key[:120], limit=limit, retry_after_s=wait_s)
    raise ProtocolError(
        ErrorCode.RATE_LIMITED, f"{what}: try again in {wait_s} s", retry_after_s=wait_s
    )
