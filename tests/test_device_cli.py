"""``mayday device`` as a person runs it: registers once, keeps its credentials, streams."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from pathlib import Path

from sim import HeadlessAgent

from .conftest import MEMORY_ONLY, Desk


async def _run_device(desk: Desk, config: Path, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mayday.cli",
        "device",
        "--server",
        desk.url,
        "--config",
        str(config),
        "--name",
        "test tablet",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


@MEMORY_ONLY  # store-independent: once, for the suite's time
async def test_device_registers_once_and_streams_to_the_agent(desk: Desk, tmp_path: Path) -> None:
    config = tmp_path / "device.json"
    await desk.add_agent("alice", languages=("de", "en"))
    agent = HeadlessAgent(desk.url, await desk.token("alice"))
    await agent.start()
    process = await _run_device(desk, config, "--help-now", "--locale", "de")
    try:
        ring = await agent.next_ring(timeout=30)
        assert ring["ticket"]["device_name"] == "test tablet"
        assert ring["ticket"]["locale"] == "de"
        await agent.accept(ring["ring_id"])
        _, frame = await agent.wait_first_frame(timeout=20)
        assert (frame.width, frame.height) == (1280, 800)
    finally:
        await _stop(process)
        await agent.close()
    saved = json.loads(config.read_text())
    assert saved["server"] == desk.url
    assert stat.S_IMODE(config.stat().st_mode) == 0o600, "the device secret must be private"

    again = await _run_device(desk, config)
    try:
        assert again.stdout is not None
        line = await asyncio.wait_for(again.stdout.readline(), 30)
        assert saved["device_id"] in line.decode(), "a second run must reuse the credentials"
    finally:
        await _stop(again)
