"""The durable records on SQLite and on a real PostgreSQL server: the same code, the same answers.

The schema comes from the Alembic migrations (``Records.create_schema`` upgrades to head); a check
compares the migrated schema with the models so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from aiohttp.test_utils import TestClient
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from server.app import create_app
from server.appkeys import RECORDS
from server.live.records import Actor, AuditEvent, LiveSession, SessionState
from server.migrations import SchemaMismatch, alembic_config
from server.records import Base, Records, sqlite_setup
from server.settings import Settings

TABLES = {
    "agents",
    "devices",
    "sessions",
    "session_events",
    "server_secrets",
    "sites",
    "canned_replies",
    "session_screenshots",
}

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind (sync on purpose: it may set up the async PG fixture)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'mayday.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
async def open_records(database_url: str) -> AsyncIterator[Callable[[], Records]]:
    """Records instances on the one database, as separate server processes would have them."""
    opened: list[Records] = []

    def make() -> Records:
        opened.append(Records(database_url))
        return opened[-1]

    yield make
    for records in opened:
        await records.close()


@pytest.fixture
async def records(open_records: Callable[[], Records]) -> Records:
    records = open_records()
    await records.create_schema()
    return records


async def _sync(records: Records, fn: Callable[[Connection], Any]) -> Any:
    async with records.engine.connect() as conn:
        return await conn.run_sync(fn)


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def _version(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _drift(conn: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _session(session_id: str = "ses_1", device_id: str = "dev_1", **changes: Any) -> LiveSession:
    values: dict[str, Any] = {
        "id": session_id,
        "device_id": device_id,
        "device_name": "kitchen tablet",
        "topic": "kindle",
        "locale": "de-DE",
        "created_at": 1000.0,
        "queue_score": 1000.0,
    }
    return LiveSession.model_validate({**values, **changes})


def _event(session_id: str, seq: int, kind: str = "transition", **changes: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "session_id": session_id,
        "seq": seq,
        "at": 1000.0 + seq,
        "actor": Actor.system(),
        "kind": kind,
    }
    return AuditEvent.model_validate({**values, **changes})


def _ended_session(session_id: str = "ses_1", device_id: str = "dev_1") -> LiveSession:
    return _session(
        session_id,
        device_id,
        state=SessionState.ENDED,
        agent_id="agt_1",
        agent_name="alice",
        accepted_at=1002.0,
        active_at=1003.0,
        ended_at=1010.0,
        end_reason="agent_hung_up",
        ended_by="agent",
        notes="replaced the battery",
        timeline=[
            _event(session_id, 1, from_state=SessionState.QUEUED, to_state=SessionState.RINGING),
            _event(session_id, 2, from_state=SessionState.RINGING, to_state=SessionState.ACTIVE),
            _event(
                session_id,
                3,
                actor=Actor(kind="agent", id="agt_1", name="alice"),
                from_state=SessionState.ACTIVE,
                to_state=SessionState.ENDED,
                reason="agent_hung_up",
                detail={"note": "ünïcode ✓", "n": [1, 2]},
            ),
        ],
    )


# --- migrations -------------------------------------------------------------------------------


async def test_migrations_create_the_schema_from_empty(
    open_records: Callable[[], Records],
) -> None:
    records = open_records()
    assert not (await _sync(records, _tables)) & TABLES
    await records.create_schema()
    assert await _sync(records, _tables) == TABLES | {"alembic_version"}
    assert await _sync(records, _version) == HEAD
    assert await _sync(records, _drift) == [], "the migrations and the models differ"


async def test_second_upgrade_is_a_no_op(records: Records) -> None:
    await records.add_agent("alice", "hash", ["en"], [])
    await records.create_schema()
    assert await _sync(records, _version) == HEAD
    assert [row.name for row in await records.list_agents()] == ["alice"]


UPGRADE_PROCESS = """
import asyncio, sys
import server.migrations  # imported before the start signal, as in a running server
from server.records import Records

async def main() -> None:
    records = Records(sys.argv[1])
    await records.engine.dispose()  # imports done, engine made: now wait for the start signal
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        await records.create_schema()
    finally:
        await records.close()

asyncio.run(main())
"""


async def test_concurrent_upgrades_do_not_fail(
    database_url: str, open_records: Callable[[], Records]
) -> None:
    """Several server processes starting at once on one database: one migrates, the rest wait."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            UPGRADE_PROCESS,
            database_url,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    for process in processes:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 30) == b"ready\n"
    in_process = [open_records() for _ in range(2)]
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(b"go\n")
    outputs, _ = await asyncio.gather(
        asyncio.gather(*(asyncio.wait_for(process.communicate(), 30) for process in processes)),
        asyncio.gather(*(records.create_schema() for records in in_process)),
    )
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
    assert await _sync(in_process[0], _tables) == TABLES | {"alembic_version"}
    versions = await _sync(
        in_process[0],
        lambda conn: conn.execute(text("SELECT version_num FROM alembic_version")).all(),
    )
    assert [tuple(row) for row in versions] == [(HEAD,)]


async def test_first_connections_to_a_new_sqlite_file_all_succeed(tmp_path: Path) -> None:
    """Switching a new file to WAL races: SQLite refuses the losers at once, busy timeout or not.

    Each round runs the pool's connection set-up on one fresh file from several connections at
    the same moment, as processes starting together do. Before the switch was retried, 0.3-2 %
    of such first connections failed with "database is locked" (0.7 % chance this test misses it).
    """
    for round_ in range(200):
        path = tmp_path / f"race{round_}.db"
        connections = [await aiosqlite.connect(path) for _ in range(8)]
        try:
            results = await asyncio.gather(
                *(sqlite_setup(connection) for connection in connections), return_exceptions=True
            )
            modes = [await _journal_mode(connection) for connection in connections]
        finally:
            for connection in connections:
                await connection.close()
        assert results == [None] * len(connections), f"round {round_}: {results}"
        assert modes == ["wal"] * len(connections)


async def _journal_mode(connection: aiosqlite.Connection) -> str:
    async with connection.execute("PRAGMA journal_mode") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return str(row[0])


async def test_mayday_db_upgrade(database_url: str, open_records: Callable[[], Records]) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mayday.cli",
        "db",
        "upgrade",
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert b"newest schema" in out
    assert await _sync(open_records(), _version) == HEAD


async def test_a_create_all_database_is_stamped(open_records: Callable[[], Records]) -> None:
    """A database from before the migrations (``create_all``, no alembic_version) keeps working."""
    records = open_records()
    async with records.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await records.add_agent("alice", "hash", ["en"], [])
    await records.create_schema()
    assert await _sync(records, _version) == HEAD
    assert [row.name for row in await records.list_agents()] == ["alice"]


async def test_a_create_all_database_without_notes_gets_the_column(
    open_records: Callable[[], Records],
) -> None:
    records = open_records()
    async with records.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        await conn.execute(text("ALTER TABLE sessions DROP COLUMN notes"))
        await conn.execute(
            text(
                "INSERT INTO sessions (id, device_id, device_name, topic, locale, state, "
                "created_at) VALUES ('ses_old', 'dev_1', 'tablet', 'kindle', 'en', 'ended', 1.0)"
            )
        )
    await records.create_schema()
    assert await _sync(records, _version) == HEAD
    old = await records.session("ses_old")
    assert old is not None
    assert old.notes == ""
    await records.save_sessions([_ended_session()])
    saved = await records.session("ses_1")
    assert saved is not None
    assert saved.notes == "replaced the battery"


async def test_foreign_tables_with_our_names_are_refused(
    open_records: Callable[[], Records],
) -> None:
    records = open_records()
    async with records.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE agents (id VARCHAR(10) PRIMARY KEY, colour TEXT)"))
    with pytest.raises(SchemaMismatch, match=r"unexpected column agents\.colour"):
        await records.create_schema()
    assert await _sync(records, _tables) == {"agents"}, "a refused upgrade changes nothing"


# --- agents and devices -----------------------------------------------------------------------


async def test_agents_add_list_remove(records: Records) -> None:
    bob = await records.add_agent("bob", "hash-b", ["de", "en"], ["kindle"])
    await records.add_agent("alice", "hash-a", ["en"], [])
    assert [row.name for row in await records.list_agents()] == ["alice", "bob"]
    found = await records.agent_by_name("bob")
    assert found is not None
    assert (found.id, found.languages, found.skills) == (bob.id, ["de", "en"], ["kindle"])
    by_id = await records.agent_by_id(bob.id)
    assert by_id is not None
    assert by_id.name == "bob"
    with pytest.raises(IntegrityError):
        await records.add_agent("bob", "other", ["en"], [])
    assert await records.remove_agent("bob") is True
    assert await records.remove_agent("bob") is False
    assert await records.agent_by_name("bob") is None
    assert [row.name for row in await records.list_agents()] == ["alice"]


async def test_add_device(records: Records) -> None:
    row = await records.add_device("kitchen tablet", "secret-hash")
    found = await records.device(row.id)
    assert found is not None
    assert (found.name, found.secret_hash) == ("kitchen tablet", "secret-hash")
    assert found.created_at == pytest.approx(row.created_at)
    assert await records.device("dev_missing") is None


# --- sessions ---------------------------------------------------------------------------------


async def test_save_sessions_upserts_and_stores_each_event_once(records: Records) -> None:
    queued = _session(timeline=[_event("ses_1", 1)])
    await records.save_sessions([queued])
    await records.save_sessions([queued])  # the same snapshot again: nothing new
    row = await records.session("ses_1")
    assert row is not None
    assert (row.state, row.agent_id, row.notes) == ("queued", None, "")
    assert [e.seq for e in await records.session_events("ses_1")] == [1]

    ended = _ended_session()
    await records.save_sessions([ended, _session("ses_2", "dev_2")])
    await records.save_sessions([ended])
    row = await records.session("ses_1")
    assert row is not None
    assert (row.state, row.agent_name, row.ended_at, row.end_reason, row.ended_by) == (
        "ended",
        "alice",
        1010.0,
        "agent_hung_up",
        "agent",
    )
    assert row.notes == "replaced the battery"
    events = await records.session_events("ses_1")
    assert [e.seq for e in events] == [1, 2, 3]
    # The first snapshot's event 1 was kept, not overwritten by the later snapshot's.
    assert events[0].to_state is None
    assert events[2] == ended.timeline[2]
    assert await records.session("ses_2") is not None
    assert await records.session("ses_missing") is None
    await records.save_sessions([])


async def test_session_events_come_in_seq_order(records: Records) -> None:
    timeline = [_event("ses_1", seq, kind=f"k{seq}") for seq in (3, 1, 4, 2)]
    await records.save_sessions([_session(timeline=timeline)])
    events = await records.session_events("ses_1")
    assert [(e.seq, e.kind) for e in events] == [(1, "k1"), (2, "k2"), (3, "k3"), (4, "k4")]
    assert await records.session_events("ses_missing") == []


async def test_rate_session(records: Records) -> None:
    await records.save_sessions([_session("ses_open"), _ended_session()])
    assert await records.rate_session("ses_1", "dev_other", 5, at=2000.0) is False
    assert await records.rate_session("ses_open", "dev_1", 5, at=2000.0) is False
    assert await records.rate_session("ses_missing", "dev_1", 5, at=2000.0) is False
    assert await records.rate_session("ses_1", "dev_1", 4, at=2000.0) is True
    row = await records.session("ses_1")
    assert row is not None
    assert row.rating == 4
    events = await records.session_events("ses_1")
    assert [e.seq for e in events] == [1, 2, 3, 4]
    rated = events[-1]
    assert (rated.kind, rated.at, rated.detail) == ("session.rated", 2000.0, {"rating": 4})
    assert rated.actor == Actor(kind="device", id="dev_1", name=None)
    # A later snapshot of the session keeps the rating (the upsert does not touch it).
    await records.save_sessions([_ended_session()])
    row = await records.session("ses_1")
    assert row is not None
    assert row.rating == 4


async def test_latest_session_of_device(records: Records) -> None:
    assert await records.latest_session_of_device("dev_1") is None
    await records.save_sessions(
        [
            _session("ses_a", created_at=1000.0),
            _session("ses_c", created_at=3000.0),
            _session("ses_b", created_at=2000.0),
            _session("ses_x", "dev_2", created_at=9000.0),
        ]
    )
    latest = await records.latest_session_of_device("dev_1")
    assert latest is not None
    assert latest.id == "ses_c"


# --- secrets ----------------------------------------------------------------------------------


async def test_secret_is_created_once_and_shared(open_records: Callable[[], Records]) -> None:
    first, second = open_records(), open_records()
    await first.create_schema()
    await second.create_schema()
    a, b = await asyncio.gather(first.secret("token_key"), second.secret("token_key"))
    assert a == b
    assert len(a) >= 32
    assert await second.secret("token_key") == a
    assert await first.secret("other") != a


# --- a whole server on PostgreSQL -------------------------------------------------------------


async def test_server_starts_on_postgresql(
    postgres_url: str,
    tmp_path: Path,
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
) -> None:
    app = create_app(Settings(database_url=postgres_url, data_dir=tmp_path / "data"))
    client = await aiohttp_client(app)
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"ok": True}
    records = app[RECORDS]
    assert records.engine.dialect.name == "postgresql"
    registered = await client.post("/api/devices", json={"name": "tablet"})
    assert registered.status == 201
    device_id = (await registered.json())["device_id"]
    assert await records.device(device_id) is not None
    assert await _sync(records, _version) == HEAD
    assert not (tmp_path / "data").exists(), "no SQLite file when DATABASE_URL is set"
