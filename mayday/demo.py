"""``mayday demo``: the whole system on one machine, to try it as an agent and as a customer.

One process runs a server with the embedded defaults (SQLite under ``.mayday/``), a demo agent
account, and a simulated tablet connected to it whose screen a person can use in the browser (the
customer's preview). It prints the two URLs and the agent's credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from aiohttp import web

from server.app import create_app
from server.appkeys import RECORDS
from server.auth import hash_password
from server.settings import Settings

__all__ = ["DEMO_AGENT", "DEMO_PASSWORD", "run_demo"]

DEMO_AGENT = "demo"
DEMO_PASSWORD = "mayday-demo"  # noqa: S105 (printed on purpose: a local demo account)


async def _ensure_agent(app: web.Application) -> None:
    records = app[RECORDS]
    if await records.agent_by_name(DEMO_AGENT) is None:
        await records.add_agent(DEMO_AGENT, hash_password(DEMO_PASSWORD), ["en", "de"], [])


async def _register_device(url: str, config: Path) -> tuple[str, str]:
    from device_agent.config import load_or_register

    credentials = await load_or_register(url, config, name="Demo tablet")
    return credentials.device_id, credentials.device_secret


async def run_demo(host: str, port: int, preview_port: int, data_dir: Path, locale: str) -> int:
    from device_agent.agent import DeviceAgent
    from device_agent.preview import PreviewServer
    from device_agent.screens.tablet import SimulatedTablet

    settings = Settings(host=host, port=port, data_dir=data_dir)
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    url = f"http://{host}:{port}"
    await _ensure_agent(app)
    device_id, secret = await _register_device(url, data_dir / "demo-device.json")
    tablet = SimulatedTablet()
    device = DeviceAgent(
        url, device_id=device_id, device_secret=secret, source=tablet, locale=locale
    )
    await device.start()

    preview = PreviewServer.of_device(device, tablet, "mayday demo: the customer's tablet")
    preview_url = await preview.start(host="127.0.0.1", port=preview_port)
    print(
        "\n  mayday demo is running\n\n"
        f"  agent console      {url}/   (sign in as {DEMO_AGENT} / {DEMO_PASSWORD})\n"
        f"  customer's tablet  {preview_url}   (tap Help, then Allow when asked)\n\n"
        "  Ctrl-C stops it.\n",
        flush=True,
    )
    # Wait for Ctrl-C or SIGTERM. device_agent/cli.py waits the same way, written inline in its
    # own main: the device agent offers no helper for this command to import.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await preview.stop()
        await device.close()
        await runner.cleanup()
    return 0
