"""Sites and web visitors: a page on a registered site becomes a customer of kind ``web``.

Against real servers in both configurations (memory + SQLite, Redis + PostgreSQL): the CLI, the
``POST /api/web/visitors`` route with its origin allow-list, CORS and rate limits, and the
``/device`` socket of a web visitor, which must come from its own site's pages. The schema
migration that adds sites is checked on both databases too.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import socketio
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import Connection

from server.appkeys import ORIGINS, RECORDS, SETTINGS
from server.migrations import alembic_config
from server.origins import normalise_origin
from server.records import DeviceRow, Records, SiteRow
from server.settings import Settings

from .conftest import Desk, DeskFactory
from .support import Client, agent_auth, assert_eventually, device_auth

SHOP = "https://shop.example"
OTHER = "https://other.example"
EVIL = "https://evil.example"
KEY = re.compile(r"^site_[A-Za-z0-9_-]{24}$")

pytestmark = pytest.mark.timeout(90)


# --- helpers ------------------------------------------------------------------------------------


async def _desk(make_desk: DeskFactory, **overrides: Any) -> Desk:
    """A server that re-reads the sites' origins often, so a test need not wait 5 s."""
    desk: Desk = await make_desk(sites_refresh_s=0.1, **overrides)
    return desk


async def _site(desk: Desk, name: str = "shop", origins: tuple[str, ...] = (SHOP,)) -> SiteRow:
    """A site added to the records (as the CLI does), once this process accepts its origins."""
    row = await desk.app[RECORDS].add_site(name, list(origins))
    await assert_eventually(
        lambda: all(desk.app[ORIGINS].site_allows(origin) for origin in origins),
        message="the site's origins were never loaded",
    )
    return row


async def _post(
    desk: Desk, body: Any, origin: str | None = SHOP, **headers: str
) -> tuple[int, Any, Mapping[str, str]]:
    sent = {**headers, **({"Origin": origin} if origin else {})}
    data = body if isinstance(body, str) else json.dumps(body)
    async with desk.http.post(
        f"{desk.url}/api/web/visitors",
        data=data,
        headers={"Content-Type": "application/json", **sent},
    ) as response:
        return response.status, await response.json(), response.headers


async def _visitor(desk: Desk, site: SiteRow, origin: str = SHOP) -> dict[str, Any]:
    status, body, _ = await _post(desk, {"site_key": site.key}, origin)
    assert status == 201, body
    return dict(body)


async def _devices(desk: Desk) -> int:
    records: Records = desk.app[RECORDS]
    async with records.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(DeviceRow))).scalar_one())


async def _connect(
    desk: Desk, creds: dict[str, Any], origin: str | None, *, role: str = "device"
) -> Client:
    """A socket sent with a browser's ``Origin`` header (or none); ``creds``: a visitor's or
    device's credentials, or ``{"token": …}`` for an agent."""
    client = desk.client(role)
    auth = agent_auth(creds["token"]) if role == "agent" else device_auth(creds)
    await client.sio.connect(
        desk.url,
        namespaces=[f"/{role}"],
        auth=auth,
        transports=["websocket"],
        headers={"Origin": origin} if origin else {},
        wait_timeout=10,
    )
    return client


async def _refused(
    desk: Desk, creds: dict[str, Any], origin: str | None, *, role: str = "device"
) -> Any:
    """The connect error of a refused socket (``None`` if Engine.IO refused it already)."""
    with pytest.raises(socketio.exceptions.ConnectionError):
        await _connect(desk, creds, origin, role=role)
    return desk.clients[-1].connect_error


# --- the CLI ------------------------------------------------------------------------------------


def _env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The CLI's environment: the server's SQLite folder, or its PostgreSQL database."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["MAYDAY_DATA_DIR"] = str(data_dir)
    return env | ({"DATABASE_URL": database_url} if database_url else {})


def _mayday(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mayday.cli", *args],
        text=True,
        capture_output=True,
        env=_env(data_dir),
        timeout=60,
        check=False,
    )


def test_sites_add_list_remove(tmp_path: Path) -> None:
    added = _mayday(
        tmp_path, "sites", "add", "shop", "--origin", "HTTPS://Shop.Example:443/",
        "--origin", "http://localhost:8000",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    key = added.stdout.splitlines()[-1]
    assert KEY.match(key), added.stdout
    assert "https://shop.example,http://localhost:8000" in added.stdout

    as_json = _mayday(tmp_path, "sites", "add", "blog", "--origin", OTHER, "--json")
    assert as_json.returncode == 0, as_json.stderr
    blog = json.loads(as_json.stdout)
    assert blog["name"] == "blog"
    assert blog["origins"] == [OTHER]
    assert KEY.match(blog["key"])
    assert len(as_json.stdout.splitlines()) == 1, "one JSON object, nothing else"

    listed = _mayday(tmp_path, "sites", "list")
    assert listed.stdout.splitlines() == [
        f"blog\t{blog['key']}\torigins={OTHER}",
        f"shop\t{key}\torigins=https://shop.example,http://localhost:8000",
    ]
    listed_json = json.loads(_mayday(tmp_path, "sites", "list", "--json").stdout)
    assert [site["name"] for site in listed_json] == ["blog", "shop"]
    assert listed_json[1] == {
        "name": "shop",
        "key": key,
        "origins": ["https://shop.example", "http://localhost:8000"],
    }

    again = _mayday(tmp_path, "sites", "add", "shop", "--origin", EVIL)
    assert again.returncode == 1
    assert "exists" in again.stderr
    # One refusal through the CLI; every kind of bad origin is refused by normalise_origin below.
    refused = _mayday(tmp_path, "sites", "add", "bad", "--origin", "https://*.example")
    assert refused.returncode == 1
    assert "not an origin" in refused.stderr

    assert _mayday(tmp_path, "sites", "remove", "shop").returncode == 0
    left = _mayday(tmp_path, "sites", "list").stdout
    assert "shop" not in left
    assert "bad" not in left
    gone = _mayday(tmp_path, "sites", "remove", "shop")
    assert gone.returncode == 1
    assert "no site 'shop'" in gone.stderr


def test_origins_are_normalised_as_browsers_write_them() -> None:
    assert normalise_origin("HTTPS://Shop.Example:443/") == "https://shop.example"
    assert normalise_origin("http://shop.example:80") == "http://shop.example"
    assert normalise_origin("http://localhost:8000") == "http://localhost:8000"
    assert normalise_origin("https://bücher.example") == "https://xn--bcher-kva.example"
    assert normalise_origin("http://[::1]:8080") == "http://[::1]:8080"
    for bad in (
        "*",
        "null",
        "shop.example",
        "https://",
        "https://shop.example/a",
        "https://shop.example?x=1",
        "https://shop.example#top",
        "https://user@shop.example",
        "https://shop.example:99999",
        "wss://shop.example",
        "ftp://shop.example",
        "https://*.example",
        "https://shop..example",
    ):
        with pytest.raises(ValueError):  # noqa: PT011 (each bad origin has its own message)
            normalise_origin(bad)


async def test_a_site_added_with_the_cli_is_accepted_within_the_refresh(
    make_desk: DeskFactory,
) -> None:
    """The CLI writes only the database; the running server picks the site up by itself."""
    desk = await make_desk(sites_refresh_s=0.3)
    settings: Settings = desk.app[SETTINGS]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mayday.cli",
        "sites",
        "add",
        "shop",
        "--origin",
        SHOP,
        env=_env(settings.data_dir, settings.database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    key = out.decode().splitlines()[-1]
    status, visitor, _ = await _post(desk, {"site_key": key})
    assert status == 201, visitor
    await assert_eventually(lambda: desk.app[ORIGINS].site_allows(SHOP), timeout=5)
    client = await _connect(desk, visitor, SHOP)
    assert client.sio.connected


# --- POST /api/web/visitors ---------------------------------------------------------------------


async def test_a_visitor_from_an_allowed_origin(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk)
    site = await _site(desk, origins=(SHOP, OTHER))
    status, body, headers = await _post(desk, {"site_key": site.key, "locale": "de-DE"}, OTHER)
    assert status == 201, body
    assert set(body) == {"device_id", "device_secret", "site"}
    assert body["site"] == {"name": "shop"}
    assert headers["Access-Control-Allow-Origin"] == OTHER
    assert headers["Vary"] == "Origin"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]
    row = await desk.app[RECORDS].device(body["device_id"])
    assert row is not None
    assert (row.kind, row.site_id, row.name) == ("web", site.id, "Web visitor · other.example")


async def test_a_visitor_from_another_origin_is_refused(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk)
    site = await _site(desk)
    await _site(desk, "other", (OTHER,))
    before = await _devices(desk)
    # Another registered site's page may not use this site's key, nor may any other page.
    for origin in (OTHER, EVIL):
        status, body, headers = await _post(desk, {"site_key": site.key}, origin)
        assert status == 403
        assert body["error"]["code"] == "forbidden"
        assert body["error"]["message"] == (
            f"this page's origin {origin} is not allowed for this site"
        )
        assert "Access-Control-Allow-Origin" not in headers
        assert headers["Vary"] == "Origin"
    status, body, headers = await _post(desk, {"site_key": site.key}, origin=None)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert "Origin" in body["error"]["message"]
    assert "Access-Control-Allow-Origin" not in headers
    assert await _devices(desk) == before, "no device was created"


async def test_unknown_key_and_bad_bodies(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk)
    await _site(desk)
    status, body, headers = await _post(desk, {"site_key": "site_" + "x" * 24})
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert "Access-Control-Allow-Origin" not in headers
    for bad in ({}, {"site_key": "shop"}, {"site_key": "site_x", "extra": 1}, "not json", "[1]"):
        status, body, _ = await _post(desk, bad)
        assert (status, body["error"]["code"]) == (400, "bad_request"), bad
    assert await _devices(desk) == 0


async def test_preflight(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk)
    await _site(desk)
    asks = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    url = f"{desk.url}/api/web/visitors"
    async with desk.http.options(url, headers={"Origin": SHOP, **asks}) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == SHOP
        assert response.headers["Access-Control-Allow-Methods"] == "POST"
        assert response.headers["Access-Control-Allow-Headers"].lower() == "content-type"
        assert response.headers["Vary"] == "Origin"
    async with desk.http.options(url, headers={"Origin": EVIL, **asks}) as response:
        assert response.status == 403
        assert (await response.json())["error"]["code"] == "forbidden"
        assert "Access-Control-Allow-Origin" not in response.headers
    async with desk.http.options(url, headers=asks) as response:
        assert response.status == 403


async def test_rate_limit_per_address(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk, web_visitors_per_ip=2)
    site = await _site(desk)
    body = {"site_key": site.key}
    for _ in range(2):
        assert (await _post(desk, body))[0] == 201
    status, refused, headers = await _post(desk, body)
    assert (status, refused["error"]["code"]) == (429, "rate_limited")
    assert "your address" in refused["error"]["message"]
    assert 1 <= int(headers["Retry-After"]) <= 60
    # The widget can read the refusal: it comes from an allowed origin.
    assert headers["Access-Control-Allow-Origin"] == SHOP
    assert await _devices(desk) == 2
    # Another address (as a proxy reports it) has its own count.
    assert (await _post(desk, body, **{"X-Forwarded-For": "203.0.113.9"}))[0] == 201
    # Only the entry the proxy appended counts; what the client wrote before it does not.
    spoofed = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    assert (await _post(desk, body, **spoofed))[0] == 201
    assert (await _post(desk, body, **spoofed))[0] == 429


async def test_rate_limit_per_site(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk, web_visitors_per_site=3)
    site = await _site(desk)
    other = await _site(desk, "other", (OTHER,))
    for n in range(3):
        address = {"X-Forwarded-For": f"203.0.113.{n}"}
        assert (await _post(desk, {"site_key": site.key}, **address))[0] == 201
    status, refused, _ = await _post(desk, {"site_key": site.key}, **{"X-Forwarded-For": "::1"})
    assert (status, refused["error"]["code"]) == (429, "rate_limited")
    assert "this site" in refused["error"]["message"]
    assert (await _post(desk, {"site_key": other.key}, OTHER))[0] == 201


# --- sockets ------------------------------------------------------------------------------------


async def test_a_web_visitor_gets_help_like_a_device(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk)
    site = await _site(desk)
    visitor = await _visitor(desk, site)
    agent = await desk.agent("alice")
    web = await _connect(desk, visitor, SHOP)
    ticket = (await web.call("help.request", {"topic": "kindle", "locale": "en-GB"}))["ticket"]
    ring = await agent.next("ring")
    assert ring["ticket"]["ticket_id"] == ticket["id"]
    assert ring["ticket"]["kind"] == "web"
    assert ring["ticket"]["device_name"] == "Web visitor · shop.example"
    queued = await agent.next_matching("queue.update", lambda q: q["length"] == 1)
    assert queued["entries"][0]["kind"] == "web"
    await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
    for party in (web, agent):
        started = await party.next("session.started")
        assert started["device"] == {
            "id": visitor["device_id"],
            "name": "Web visitor · shop.example",
            "kind": "web",
        }
    status, session = await desk.get(f"/api/sessions/{ticket['id']}", await desk.token("alice"))
    assert (status, session["device"]["id"]) == (200, visitor["device_id"])


async def test_a_device_reads_as_before(desk: Desk) -> None:
    """A device's messages have no ``kind``: the default, left out, as before sites existed."""
    device, agent, _, _ = await desk.session()
    for party in (device, agent):
        started = [data for event, data in party.received if event == "session.started"]
        assert started
        assert "kind" not in started[0]["device"]
    rings = [data for event, data in agent.received if event == "ring"]
    assert rings
    assert "kind" not in rings[0]["ticket"]


async def test_a_web_visitor_connects_only_from_its_own_site(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk)
    site = await _site(desk)
    await _site(desk, "other", (OTHER,))
    visitor = await _visitor(desk, site)
    # Another site's page passes Engine.IO's check (any site's origin), not the visitor's own.
    error = await _refused(desk, visitor, OTHER)
    assert error["data"]["error"]["code"] == "forbidden"
    assert f"origin {OTHER} is not allowed for its site" in error["data"]["error"]["message"]
    # No Origin: not a page at all.
    error = await _refused(desk, visitor, None)
    assert error["data"]["error"]["code"] == "forbidden"
    # An origin of no site and not the console's: Engine.IO refuses the handshake itself.
    await _refused(desk, visitor, EVIL)
    client = await _connect(desk, visitor, SHOP)
    assert client.sio.connected


async def test_devices_and_agents_are_unaffected_by_sites(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk)
    await _site(desk)
    device, registered = await desk.device("tablet")  # no Origin, as before
    assert device.sio.connected
    await device.close()
    assert (await _connect(desk, registered, SHOP)).sio.connected
    # An agent comes from the console's origins only, not from the sites' pages.
    await desk.add_agent("alice")
    token = {"token": await desk.token("alice")}
    error = await _refused(desk, token, SHOP, role="agent")
    assert error["data"]["error"]["code"] == "forbidden"
    assert (await _connect(desk, token, desk.url, role="agent")).sio.connected


async def test_a_removed_sites_visitors_cannot_connect(make_desk: DeskFactory) -> None:
    desk = await _desk(make_desk)
    site = await _site(desk)
    await _site(desk, "other", (OTHER, SHOP))  # SHOP stays some site's origin
    visitor = await _visitor(desk, site)
    assert await desk.app[RECORDS].remove_site("shop") is True
    assert await desk.app[RECORDS].device(visitor["device_id"]) is None
    error = await _refused(desk, visitor, SHOP)
    assert error["data"]["error"]["code"] == "unauthorized"


# --- the migration ------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'mayday.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def records(database_url: str) -> AsyncIterator[Records]:
    records = Records(database_url)
    yield records
    await records.close()


def _to_revision(revision: str, *, down: bool = False) -> Any:
    def run(conn: Connection) -> None:
        config = alembic_config(connection=conn)
        (command.downgrade if down else command.upgrade)(config, revision)

    return run


async def test_devices_from_before_sites_stay_devices(records: Records) -> None:
    async with records.engine.begin() as conn:
        await conn.run_sync(_to_revision("0001"))
        await conn.execute(
            text(
                "INSERT INTO devices (id, name, secret_hash, created_at) "
                "VALUES ('dev_old', 'old tablet', 'hash', 1.0)"
            )
        )
    await records.create_schema()
    old = await records.device("dev_old")
    assert old is not None
    assert (old.kind, old.site_id) == ("device", None)
    site = await records.add_site("shop", [SHOP])
    web = await records.add_device("Web visitor · shop.example", "hash", site_id=site.id)
    assert await records.site(key=site.key) is not None
    # And back: the revision downgrades cleanly on both databases.
    async with records.engine.begin() as conn:
        await conn.execute(text("DELETE FROM devices WHERE id = :id"), {"id": web.id})
        await conn.run_sync(_to_revision("0001", down=True))
        columns = await conn.run_sync(
            lambda sync: {column["name"] for column in inspect(sync).get_columns("devices")}
        )
    assert columns == {"id", "name", "secret_hash", "created_at"}
