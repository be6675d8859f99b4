"""Path tricks against the server's routes: nothing outside the served folders, no way around auth.

Each request goes out as raw HTTP/1.1 on a socket, byte for byte as written here: an HTTP
client library would normalise ``..``, ``%2e%2e`` and ``//`` before sending them, and the point
is what the server does with them when an attacker does not.

For every path, the answer must not be a success that leaks: no file from outside agent_web/ and
the vendored npm files (the project's sources, the data directory with the records database,
/etc/passwd), and no API data without a valid token, whatever the case, slashes or suffix.
"""

from __future__ import annotations

import asyncio

import pytest
from yarl import URL

from .conftest import Desk

# Texts that only appear in files that must never be served.
LEAKS = (
    "[project]",  # pyproject.toml
    "root:x:0:0",  # /etc/passwd
    "SQLite format",  # the records database in the data directory
    "def create_app",  # server/app.py
    "class Settings",  # server/settings.py
    '"lockfileVersion"',  # package-lock.json
    "[core]",  # .git/config
)

TRAVERSALS = [
    "/../pyproject.toml",
    "/%2e%2e/pyproject.toml",
    "/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/..%2fpyproject.toml",
    "/..%5cpyproject.toml",
    "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/....//....//pyproject.toml",
    "//etc/passwd",
    "///etc/passwd",
    "/vendor/../pyproject.toml",
    "/vendor/..%2f..%2fpyproject.toml",
    "/vendor/%2e%2e%2fpackage-lock.json",
    "/vendor/rrweb.js/../../../pyproject.toml",
    "/widget.js/..%2f..%2fpyproject.toml",
    "/replay.html/../../server/app.py",
    "/agent_web/../server/settings.py",
    "/../server/app.py",
    "/%2e%2e/server/app.py",
    "/.git/config",
    "/%2egit/config",
    "/../.git/config",
    "/../.mayday/mayday.db",
    "/%2e%2e/data/mayday.db",
    "/index.html%00.js",
    "/./../pyproject.toml",
    "/.%2e/pyproject.toml",
    "/%252e%252e/pyproject.toml",
    "/\\..\\pyproject.toml",
]

# API routes that need an agent's token, in the variants a lax router might let through.
PROTECTED = [
    "/api/queue",
    "/api/queue/",
    "//api/queue",
    "/API/queue",
    "/Api/Queue",
    "/api/queue.json",
    "/api/queue%2f",
    "/api//queue",
    "/api/./queue",
    "/api/%71ueue",
    "/api/ice-servers",
    "/api/ice-servers/",
    "/api/sessions/anything",
    "/api/sessions/anything/",
    "/api/sessions/anything/events",
    "/api/sessions/anything/events/",
    "/api/sessions/../queue",
    "/api/sessions/%2e%2e/queue",
    "/api/sessions/anything/screenshots/shot_x",
    "/api/devices/anything/sessions",
    "/api/devices/../canned-replies",
    "/api/canned-replies",
    "/API/canned-replies",
]


async def raw_get(desk: Desk, path: str) -> tuple[int, str]:
    """GET ``path`` exactly as written; (status, body as text)."""
    url = URL(desk.url)
    assert url.host is not None
    assert url.port is not None
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: {url.host}:{url.port}\r\nConnection: close\r\n\r\n"
        writer.write(request.encode("latin-1"))
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode("utf-8", "replace")


@pytest.fixture
def live_store() -> str | None:
    """Routing does not depend on the live store: one configuration is enough."""
    return None


@pytest.mark.parametrize("path", TRAVERSALS)
async def test_no_file_outside_the_served_folders(desk: Desk, path: str) -> None:
    status, body = await raw_get(desk, path)
    assert status in {400, 403, 404, 405}, (path, status, body[:200])
    for leak in LEAKS:
        assert leak not in body, (path, leak)


@pytest.mark.parametrize("path", PROTECTED)
async def test_api_variants_never_answer_without_a_token(desk: Desk, path: str) -> None:
    status, body = await raw_get(desk, path)
    assert status in {400, 401, 403, 404, 405}, (path, status, body[:200])
    for data in ('"entries"', '"ice_servers"', '"replies"', '"sessions"'):
        assert data not in body, (path, body[:200])


async def test_the_served_files_are_still_served(desk: Desk) -> None:
    """The refusals above are not a server that refuses everything."""
    for path in ("/", "/index.html", "/main.js", "/replay.html", "/vendor/rrweb.js", "/widget.js"):
        status, body = await raw_get(desk, path)
        assert status == 200, (path, status)
        assert body, path
