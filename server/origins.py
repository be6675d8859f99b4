"""Which browser origins may reach the server: the console's, and the pages of registered sites.

Two lists, for two kinds of page:

* the **console's origins**: the server's own origin (as the browser sees it, through a proxy's
  ``X-Forwarded-Proto`` and ``X-Forwarded-Host``) and ``MAYDAY_ALLOWED_ORIGINS``. Agents come
  from there, and only from there.
* the **sites' origins** (``mayday sites add``): pages that embed the co-browsing widget. A web
  visitor's socket comes from one of them, and at connect it must be one of *its own* site's
  (``server/namespaces.py``), so one site's visitors cannot be driven from another site's pages.

Engine.IO checks the ``Origin`` of every websocket before any namespace sees it, through a
synchronous callable, so the sites' origins are kept in memory, in each process, and re-read from
the records every ``MAYDAY_SITES_REFRESH_S`` (default 5 s): a site added with the CLI, which writes
only the database, is accepted within that time, and a removed one refused within it (at once in
the ``/device`` namespace, which reads the visitor's own site at every connect).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import structlog

__all__ = ["Origins", "normalise_origin", "own_origin"]

log = structlog.get_logger("mayday.origins")

_HOST = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(text: str) -> str:
    """``text`` as a browser writes it in ``Origin``: ``scheme://host[:port]``, lower case, the
    host in ASCII (IDNA), without the scheme's default port. A lone trailing ``/`` is dropped.

    Anything else raises :class:`ValueError` saying why: a path, query, fragment or user info,
    a scheme other than http or https, a wildcard, ``null``.
    """
    raw = text.strip()
    if "*" in raw:
        raise ValueError(f"{raw!r}: wildcards are not allowed; list each origin")
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not raw.lower().startswith(f"{scheme}://"):
        raise ValueError(f"{raw!r}: an origin is http:// or https:// and a host")
    if parts.path not in ("", "/") or "?" in raw or "#" in raw:
        raise ValueError(f"{raw!r}: an origin has no path, query or fragment: scheme://host[:port]")
    if "@" in parts.netloc:
        raise ValueError(f"{raw!r}: an origin has no user name or password")
    try:
        port = parts.port
        host = _ascii_host(parts.hostname or "")
    except (ValueError, UnicodeError) as error:
        raise ValueError(f"{raw!r}: {error or 'not a host name'}") from None
    suffix = "" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}"
    return f"{scheme}://{host}{suffix}"


def _ascii_host(host: str) -> str:
    if not host:
        raise ValueError("no host")
    if ":" in host:
        return f"[{ipaddress.IPv6Address(host).compressed}]"
    ascii_host = host.encode("idna").decode("ascii").lower()
    if not _HOST.match(ascii_host):
        raise ValueError(f"{host!r} is not a host name")
    return ascii_host


def own_origin(environ: dict[str, Any]) -> str | None:
    """The server's origin as the browser sees it, from a request's WSGI-style environ.

    Behind a reverse proxy that terminates TLS, the browser's origin is the proxy's: take its
    forwarded scheme and host (the first hop's, when proxies are chained).
    """
    scheme = _first(environ.get("HTTP_X_FORWARDED_PROTO")) or environ.get("wsgi.url_scheme", "http")
    host = _first(environ.get("HTTP_X_FORWARDED_HOST")) or environ.get("HTTP_HOST", "")
    return f"{scheme}://{host}" if host else None


def _first(header: str | None) -> str:
    return header.split(",")[0].strip() if header else ""


class Origins:
    """The origins one process accepts: the console's (fixed) and the sites' (refreshed)."""

    def __init__(self, console: Iterable[str]) -> None:
        self._console = frozenset(console)
        self._sites: frozenset[str] = frozenset()

    def console_allows(self, origin: str, environ: dict[str, Any]) -> bool:
        return origin in self._console or origin == own_origin(environ)

    def site_allows(self, origin: str) -> bool:
        """``origin`` is some site's (as of the last refresh)."""
        return origin in self._sites

    def engineio_check(self, origin: str, environ: dict[str, Any]) -> bool:
        """Engine.IO's ``cors_allowed_origins``: the console's origins or any site's; never '*'.

        Requests without an Origin header (devices, not browsers) never reach this check; they
        are let through to the connect handler, which authenticates them like everyone else.
        """
        return self.site_allows(origin) or self.console_allows(origin, environ)

    async def refresh(self, load: Callable[[], Awaitable[Iterable[str]]]) -> None:
        sites = frozenset(await load())
        if sites != self._sites:
            log.info("origins.sites_changed", origins=len(sites))
        self._sites = sites

    async def keep_fresh(
        self, load: Callable[[], Awaitable[Iterable[str]]], every_s: float
    ) -> None:
        """Refresh every ``every_s`` until cancelled; a failed read keeps the last known set."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.refresh(load)
            except Exception:
                log.exception("origins.refresh_failed")
