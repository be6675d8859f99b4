"""An embedded server for ``mayday sim``: a real ``mayday server`` process on a free loopback port.

It runs as its own process, not inside the simulator, for two reasons: ``GET /metrics`` then
reports the server's CPU and memory alone (not the simulated devices' video encoding), and the
server gets a core of its own as it would in production. Its SQLite database lives in a
temporary directory with the simulation's agents (and supervisors, ``supervisor`` accounts)
already in it, and is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import aiohttp

from .pool import SimSetupError

__all__ = ["EmbeddedServer"]

ROOT = Path(__file__).resolve().parent.parent.parent
SHARED = ("DATABASE_URL", "REDIS_URL", "MAYDAY_DATABASE_URL", "MAYDAY_REDIS_URL")
"""Not passed on: the embedded server keeps its state in memory and a temporary SQLite file."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    def __init__(
        self,
        agents: list[str],
        password: str,
        settings: dict[str, str] | None = None,
        supervisors: list[str] | None = None,
        languages: list[str] | None = None,
    ) -> None:
        self.agents = agents
        self.languages = languages or ["en"]
        """What the agents speak: the languages of the run's scenarios (``agent_languages``)."""
        self.supervisors = supervisors or []
        self.password = password
        self.settings = settings or {}
        self.url = ""
        self.data_dir: Path | None = None
        self.process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> EmbeddedServer:
        self.data_dir = Path(tempfile.mkdtemp(prefix="mayday-sim-"))
        try:
            await self._create_agents()
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _create_agents(self) -> None:
        from server.auth import hash_password
        from server.records import Records

        assert self.data_dir is not None
        records = Records(f"sqlite+aiosqlite:///{self.data_dir / 'mayday.db'}")
        try:
            await records.create_schema()
            hashed = await asyncio.to_thread(hash_password, self.password)
            for name in self.agents:
                await records.add_agent(name, hashed, self.languages, [])
            for name in self.supervisors:
                await records.add_agent(name, hashed, self.languages, [], role="supervisor")
        finally:
            await records.close()

    async def _start(self) -> None:
        assert self.data_dir is not None
        port = _free_port()
        env = {key: value for key, value in os.environ.items() if key not in SHARED}
        env.update(
            MAYDAY_DATA_DIR=str(self.data_dir),
            MAYDAY_LOG_LEVEL="warning",
            MAYDAY_SECRET_KEY=secrets.token_urlsafe(32),
        )
        for key, value in self.settings.items():
            env[f"MAYDAY_{key.upper()}"] = value
        log = open(self.data_dir / "server.log", "wb")  # noqa: SIM115, ASYNC230
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "mayday.cli",
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                env=env,
                cwd=ROOT,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        finally:
            log.close()
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession() as http:
            while True:
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                if self.process.returncode is not None or time.monotonic() > deadline:
                    raise SimSetupError(f"the embedded server did not start:\n{self.log_tail()}")
                await asyncio.sleep(0.1)

    def log_tail(self, lines: int = 20) -> str:
        if self.data_dir is None:
            return ""
        with contextlib.suppress(OSError):
            text = (self.data_dir / "server.log").read_text(errors="replace")
            return "\n".join(text.splitlines()[-lines:])
        return ""

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None
