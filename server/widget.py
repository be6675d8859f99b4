"""Serves the customer's web widget: ``GET /widget.js`` (and its source map) for sites to embed.

A site embeds ``<script src="https://support.example/widget.js" data-site-key="…" async>``
(docs/cobrowse.md). It is a classic script, so it needs no CORS header; what the widget may do
from the site's origin is decided by the site's origin allow-list at ``POST /api/web/visitors``
and at the socket's connect, not here.

``Cache-Control: no-cache``: every page load revalidates (a cheap 304 through the file's ETag and
Last-Modified), so a new widget reaches every site as soon as the server has it, and a site
never runs an old widget against a newer server.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from .web_files import WIDGET

__all__ = ["add_widget_routes"]

log = structlog.get_logger("mayday.widget")

CONTENT_TYPES = {
    "widget.js": "text/javascript; charset=utf-8",
    "widget.js.map": "application/json; charset=utf-8",
}


def add_widget_routes(app: web.Application) -> None:
    """``GET /widget.js`` and ``GET /widget.js.map``: register before any catch-all file route."""
    for name in WIDGET:
        app.router.add_get(f"/{name}", _serve(name), name=f"widget:{name}")


def _serve(name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(_request: web.Request) -> web.StreamResponse:
        path = WIDGET[name]
        if not path.is_file():
            log.warning("widget.missing", path=str(path))
            raise web.HTTPNotFound(text="the widget is not built: run `npm run build`")
        return web.FileResponse(
            path,
            headers={"Content-Type": CONTENT_TYPES[name], "Cache-Control": "no-cache"},
        )

    return handler
