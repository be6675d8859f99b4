"""A real PostgreSQL server for the tests, started once per test run on a free loopback port.

Fixtures (register with ``pytest_plugins = ["tests.pg"]`` in ``tests/conftest.py``, or import them):

* ``postgres_server`` (session): the URL (``postgresql://…``) of a database on a server of our
  own: ``initdb`` into a temporary directory, ``postgres`` listening on 127.0.0.1 only (no Unix
  socket), trust authentication, no fsync; stopped and deleted at the end of the run. With
  ``MAYDAY_TEST_DATABASE_URL`` set, that database is used instead and nothing is started.
* ``postgres_url`` (function): the SQLAlchemy URL (``postgresql+asyncpg://…``) of a new, empty
  database on that server, dropped after the test (the role needs ``CREATEDB``).

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` account (Debian's
package creates it); otherwise as the current user. The binaries are taken from ``PATH`` or from
Debian's ``/usr/lib/postgresql/<version>/bin``, the newest version. Missing binaries fail the tests
rather than skip them, so a CI without the ``postgresql`` package cannot pass silently.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

__all__ = ["ENV_URL", "PostgresServer", "postgres_server", "postgres_url", "start_postgres"]

ENV_URL = "MAYDAY_TEST_DATABASE_URL"
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
ROLE = "mayday"
DATABASE = "mayday_test"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


def postgres_binaries() -> Path:
    """The directory with ``initdb``, ``postgres`` and ``pg_isready``."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("postgres"):
        return Path(on_path).resolve().parent

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.parent.name.split(".") if part.isdigit())

    candidates = sorted(DEBIAN_BINARIES.glob("*/bin"), key=version, reverse=True)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "postgres").exists():
            return directory
    pytest.fail(
        f"no PostgreSQL binaries (initdb, postgres) on PATH or under {DEBIAN_BINARIES}: "
        f"install Debian's postgresql package, or set {ENV_URL} to a database to test against"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: stop (fast shutdown) if the test run is killed without cleaning up."""
    with contextlib.suppress(OSError, AttributeError):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGINT)


@dataclass
class PostgresServer:
    """A ``postgres`` process of our own and the directory it lives in."""

    process: subprocess.Popen[bytes]
    root: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{DATABASE}"

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb into a new temporary directory and start ``postgres`` on a free loopback port."""
    binaries = postgres_binaries()
    run_as: dict[str, Any] = {}
    root = Path(tempfile.mkdtemp(prefix="mayday-pg-"))
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(root, ignore_errors=True)
            pytest.fail(
                "the tests run as root and PostgreSQL refuses to: there is no 'postgres' account "
                f"to run it as (install Debian's postgresql package, or set {ENV_URL})"
            )
        os.chown(root, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
    data = root / "data"
    initdb = subprocess.run(
        [
            str(binaries / "initdb"),
            "--pgdata",
            str(data),
            "--username",
            ROLE,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **run_as,
    )
    if initdb.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed ({initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}")
    last_error = ""
    for _attempt in range(3):  # another process may take the free port before postgres binds it
        server = _launch(binaries, root, data, env, run_as)
        problem = _wait_ready(server, binaries)
        if problem is None:
            createdb = [str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(server.port)]
            created = subprocess.run(
                [*createdb, "-U", ROLE, DATABASE],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if created.returncode == 0:
                return server
            problem = f"createdb failed: {created.stderr}"
        last_error = f"{problem}\n{server.log_tail()}"
        server.process.kill()
        server.process.wait()
    shutil.rmtree(root, ignore_errors=True)
    pytest.fail(f"PostgreSQL did not start:\n{last_error}")


def _launch(
    binaries: Path, root: Path, data: Path, env: dict[str, str], run_as: dict[str, Any]
) -> PostgresServer:
    port = _free_port()
    log = root / f"postgres-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(binaries / "postgres"),
                "-D",
                str(data),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-k",
                "",  # no Unix socket
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=200",
            ],
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            **run_as,
        )
    return PostgresServer(process=process, root=root, port=port, log=log)


def _wait_ready(server: PostgresServer, binaries: Path) -> str | None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return f"postgres exited with {server.process.returncode}"
        ready = subprocess.run(
            [str(binaries / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(server.port)],
            check=False,
        )
        if ready.returncode == 0:
            return None
        time.sleep(0.05)
    return f"postgres was not ready after {START_TIMEOUT_S:.0f} s"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a PostgreSQL database: ``MAYDAY_TEST_DATABASE_URL``, or a server started here."""
    given = os.environ.get(ENV_URL)
    if given:
        yield given
        return
    server = start_postgres()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """SQLAlchemy URL of a new empty database on the test server, dropped afterwards."""
    base = make_url(postgres_server).set(drivername="postgresql+asyncpg")
    name = f"mayday_t_{uuid.uuid4().hex[:12]}"
    await _admin(base, f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(url: URL, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(statement)
    finally:
        await engine.dispose()
