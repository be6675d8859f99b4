"""What the checks outside the project share: `mayday` run as a user runs it, and `mayday server`
in a process of its own, from the README and docs/deploy.md alone (no server code imported)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp

from .services import free_port

__all__ = ["MAYDAY", "TIMEOUT_S", "mayday", "mayday_server", "outside_env"]

MAYDAY = Path(sys.executable).parent / "mayday"
TIMEOUT_S = 20.0


async def mayday(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run a `mayday` subcommand (README, protocol.md §3.2, §18.1); its standard output."""
    process = await asyncio.create_subprocess_exec(
        MAYDAY,
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(None if stdin is None else stdin.encode())
    assert process.returncode == 0, f"mayday {' '.join(args)}: {err.decode()}"
    return out.decode()


def outside_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a `mayday` of its own: SQLite in ``data_dir``, live state in memory
    (deploy.md §2), whatever database or Redis the tests around it use left out."""
    env = {k: v for k, v in os.environ.items() if "DATABASE_URL" not in k and "REDIS_URL" not in k}
    env.update(MAYDAY_DATA_DIR=str(data_dir), MAYDAY_LOG_LEVEL="warning", **settings)
    return env


@contextlib.asynccontextmanager
async def mayday_server(
    env: dict[str, str], log: Path, *, before_ready: Callable[[], Any] | None = None
) -> AsyncIterator[str]:
    """`mayday server` on a free port, as a process; its URL once `GET /healthz` answers
    (protocol.md §14). ``before_ready`` runs while it starts (accounts made meanwhile)."""
    url = f"http://127.0.0.1:{free_port()}"
    with log.open("w") as stderr:
        process = await asyncio.create_subprocess_exec(
            MAYDAY, "server", "--port", url.rpartition(":")[2], env=env, stderr=stderr
        )
    try:
        if before_ready is not None:
            await before_ready()
        deadline = asyncio.get_running_loop().time() + TIMEOUT_S
        async with aiohttp.ClientSession() as http:
            while True:
                if process.returncode is not None:
                    raise AssertionError(await asyncio.to_thread(log.read_text))
                assert asyncio.get_running_loop().time() < deadline, "the server did not start"
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.05)
        yield url
    finally:
        process.terminate()
        await process.wait()
