"""``mayday demo`` (the README's run command) starts everything a person needs to try mayday."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp

from mayday.demo import DEMO_AGENT, DEMO_PASSWORD

from .services import free_port
from .support import assert_eventually


async def test_demo_serves_the_console_and_the_customers_tablet(tmp_path: Path) -> None:
    port, preview = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mayday.cli",
        "demo",
        "--port",
        str(port),
        "--preview-port",
        str(preview),
        "--data-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        banner = ""
        while "Ctrl-C" not in banner:
            banner += (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert f"http://127.0.0.1:{port}/" in banner
        assert f"http://127.0.0.1:{preview}/" in banner
        assert DEMO_PASSWORD in banner
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as response:
                assert response.status == 200
            async with http.get(f"http://127.0.0.1:{preview}/") as response:
                assert response.status == 200
            async with http.post(
                f"http://127.0.0.1:{port}/api/agents/login",
                json={"name": DEMO_AGENT, "password": DEMO_PASSWORD},
            ) as response:
                token = (await response.json())["token"]

            async def tablet_connected() -> bool:
                async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                    return 'mayday_connected_sockets{role="device"} 1.0' in await response.text()

            await assert_eventually(tablet_connected, message="the demo tablet never connected")
            assert token
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)
