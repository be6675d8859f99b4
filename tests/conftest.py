"""Fixtures: a real server on loopback (port chosen by the OS) with agents, and client factories."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.app import create_app
from server.appkeys import DESK, RECORDS
from server.auth import hash_password
from server.desk import HelpDesk
from server.settings import Settings

from .services import flush, redis_server
from .support import Client, agent_auth, device_auth, login, register_device

pytest_plugins = ["tests.pg"]
AGENT_PASSWORD = "correct horse battery"
__all__ = ["AGENT_PASSWORD", "Desk", "DeskFactory", "redis_server"]


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A test that runs ``mayday.cli.main`` in this process configures logging to print to the
    stream of the moment (pytest's captured stderr, closed after that test): put it back."""
    before = structlog.get_config()
    yield
    structlog.configure(**before)


MEMORY_ONLY = pytest.mark.parametrize("live_store", ["memory"], indirect=True)
"""For a server test whose subject is the same on both stores (a refusal, a query's parsing) and
whose main flow runs on both elsewhere in its file: once, in memory and SQLite, to keep the suite
within its time."""


@pytest.fixture(params=["memory", "redis"])
def live_store(request: pytest.FixtureRequest) -> str | None:
    """Every server test runs in both configurations: one process (live state in memory,
    records in SQLite), and the fleet's (a real Redis and a real PostgreSQL)."""
    if request.param == "memory":
        return None
    url: str = request.getfixturevalue("redis_server")
    flush(url)
    return url


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, live_store: str | None) -> Settings:
    database_url = None if live_store is None else str(request.getfixturevalue("postgres_url"))
    return Settings(
        data_dir=tmp_path / "data",
        ring_timeout_s=15,
        grace_period_s=20,
        wrapup_s=0,  # the wrap-up tests turn it on; elsewhere an agent takes the next ring at once
        secret_key="test-signing-key-" + "x" * 32,
        redis_url=live_store,
        database_url=database_url,
    )


@dataclass
class Desk:
    """A running server and ways to talk to it, as devices and agents would."""

    server: TestServer
    http: aiohttp.ClientSession
    clients: list[Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def app(self) -> web.Application:
        return self.server.app

    @property
    def desk(self) -> HelpDesk:
        return self.app[DESK]

    async def add_agent(
        self,
        name: str,
        *,
        languages: tuple[str, ...] = ("en",),
        skills: tuple[str, ...] = (),
        role: str = "agent",
    ) -> None:
        await self.app[RECORDS].add_agent(
            name, hash_password(AGENT_PASSWORD), list(languages), list(skills), role=role
        )

    async def token(self, name: str) -> str:
        body = await login(self.http, self.url, name, AGENT_PASSWORD)
        return str(body["token"])

    def client(self, role: str) -> Client:
        client = Client(self.url, role)
        self.clients.append(client)
        return client

    async def device(self, name: str = "tablet") -> tuple[Client, dict[str, str]]:
        registered = await register_device(self.http, self.url, name)
        client = await self.client("device").connect(device_auth(registered))
        return client, registered

    async def agent(
        self,
        name: str,
        *,
        languages: tuple[str, ...] = ("en",),
        skills: tuple[str, ...] = (),
        available: bool = True,
    ) -> Client:
        await self.add_agent(name, languages=languages, skills=skills)
        client = await self.client("agent").connect(agent_auth(await self.token(name)))
        if available:
            ack = await client.call("presence.set", {"status": "available"})
            assert ack == {"ok": True, "status": "available"}
        return client

    async def session(
        self, agent_name: str = "alice"
    ) -> tuple[Client, Client, dict[str, str], str]:
        """A device asks for help and a new agent accepts: (device, agent, credentials, id)."""
        agent = await self.agent(agent_name)
        device, registered = await self.device()
        ticket = (await device.call("help.request", {}))["ticket"]
        ring = await agent.next("ring")
        await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
        await device.next("session.started")
        await agent.next("session.started")
        return device, agent, registered, ticket["id"]

    async def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.get(f"{self.url}{path}", headers=headers) as response:
            if response.content_type == "application/json":
                return response.status, await response.json()
            return response.status, await response.text()


DeskFactory = Callable[..., Awaitable[Desk]]


@pytest.fixture
async def make_desk(
    aiohttp_server: Callable[..., Awaitable[TestServer]], settings: Settings
) -> AsyncIterator[DeskFactory]:
    desks: list[Desk] = []
    http = aiohttp.ClientSession()

    async def make(**overrides: Any) -> Desk:
        app = create_app(settings.model_copy(update=overrides))
        # Like `mayday server`, close lingering connections after a short wait at the end.
        server = await aiohttp_server(app, host="127.0.0.1", shutdown_timeout=2)
        desk = Desk(server=server, http=http)
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        for client in desk.clients:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 5)
        # Close the server here, before the fixtures it depends on (a per-test PostgreSQL
        # database) are torn down: its writer flushes the last records on the way out. A client
        # that failed to close must not keep the server open.
        await asyncio.wait_for(desk.server.close(), 60)
    await http.close()


@pytest.fixture
async def desk(make_desk: DeskFactory) -> Desk:
    return await make_desk()
