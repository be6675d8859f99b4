"""``mayday demo`` (the README's run command) starts everything a person needs to try mayday."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import aiohttp

from mayday.demo import DEMO_AGENT, DEMO_PASSWORD, DEMO_SITE

from .services import free_port
from .support import assert_eventually


async def test_demo_serves_the_console_the_customers_tablet_and_a_shop(tmp_path: Path) -> None:
    port, preview, shop = free_port(), free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mayday.cli",
        "demo",
        "--port",
        str(port),
        "--preview-port",
        str(preview),
        "--shop-port",
        str(shop),
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
        assert f"http://127.0.0.1:{shop}/" in banner
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
            key = await _check_shop(http, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{shop}")
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)
    # The site is in the records, for the shop's origin, as `mayday sites` shows it.
    listing = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mayday.cli", "sites", "list", "--json", "--data-dir", str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    sites = json.loads((await asyncio.wait_for(listing.communicate(), 30))[0])
    assert [(s["name"], s["key"], s["origins"]) for s in sites] == [
        (DEMO_SITE, key, [f"http://127.0.0.1:{shop}"])
    ]


async def _check_shop(http: aiohttp.ClientSession, support: str, shop: str) -> str:
    """The shop is its own origin, embeds the widget with the demo site's key, and that origin
    may create web visitors (docs/protocol.md §18.3) while another may not."""
    async with http.get(f"{shop}/") as response:
        assert response.status == 200
        page = await response.text()
        csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "<style" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "the shop has an inline script"
    tag = re.search(
        rf'<script src="{re.escape(support)}/widget.js" data-site-key="([^"]+)" async>', page
    )
    assert tag, page
    key = tag.group(1)
    async with http.get(f"{shop}/shop.js") as response:
        assert response.status == 200
        assert "Place order" in page
        assert "placeOrder" in await response.text()
    async with http.get(f"{shop}/shop.css") as response:
        assert response.status == 200

    async with http.post(
        f"{support}/api/web/visitors", json={"site_key": key}, headers={"Origin": shop}
    ) as response:
        assert response.status == 201, await response.text()
        assert response.headers["Access-Control-Allow-Origin"] == shop
        assert (await response.json())["site"] == {"name": DEMO_SITE}
    async with http.post(
        f"{support}/api/web/visitors",
        json={"site_key": key},
        headers={"Origin": "http://127.0.0.1:1"},
    ) as response:
        assert response.status == 403
    return key
