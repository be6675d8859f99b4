"""Fixtures of the browser flows: Chromium, the agent console, simulated tablets, the built web
widget, a shop on another origin, the customer's page and the agent's WebRTC peers.

pytest applies them to the tests of this directory only. Here ``live_store`` overrides the one of
tests/conftest.py: the browser flows are slow (a browser, WebRTC), so they run once, with the live
state in memory, while every other server test runs once per live store. The helpers they hand
out (pages, tablets, shops, peers) are in console.py and widget.py next to this file.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, ViewportSize, async_playwright

from device_agent import DeviceAgent
from device_agent.screens.tablet import SimulatedTablet

from ..browser import CHROMIUM, CHROMIUM_ARGS
from ..conftest import Desk
from ..devices import registered_device
from ..support import Client
from .console import SMALL, TIMEOUT_MS, Console, ConsoleFactory, Tablet, TabletFactory
from .widget import DESKTOP, ROOT, AgentPeer, Customer, Shop, shop_css

# --- the browser --------------------------------------------------------------------------------


@pytest.fixture
def live_store() -> str | None:
    """The browser is a client of the server; one live store (in memory) is enough here."""
    return None


@pytest.fixture
def chromium() -> str:
    """The system's Chromium: the tests fail (never skip) without it."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"Chromium is needed for the browser tests but {CHROMIUM} is missing: "
            "run `apt-get install -y chromium` (Playwright's own browser download cannot work here)"
        )
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


# --- the agent console and the customer's tablet ------------------------------------------------


@pytest.fixture
async def open_console(browser: Browser) -> ConsoleFactory:
    async def open_(desk: Desk, viewport: ViewportSize | None = None) -> Console:
        context = await browser.new_context(viewport=viewport or SMALL)
        page = await context.new_page()
        console = Console(page=page, desk=desk)
        page.on("dialog", lambda dialog: console.dialogs.append(dialog.message))
        page.on("pageerror", lambda error: console.errors.append(str(error)))
        page.set_default_timeout(TIMEOUT_MS)
        await page.goto(desk.url)
        await page.wait_for_selector("#signin:not([hidden])")
        return console

    return open_


@pytest.fixture
async def tablets() -> AsyncIterator[TabletFactory]:
    started: list[DeviceAgent] = []

    async def start(desk: Desk, name: str = "kitchen tablet", **options: Any) -> Tablet:
        tablet = SimulatedTablet()
        device = await registered_device(desk.http, desk.url, tablet, name=name, **options)
        started.append(device)
        await device.start()
        return Tablet(device, tablet)

    yield start
    for device in started:
        with contextlib.suppress(Exception):
            await device.close()


# --- the web widget, the shop and the customer's browser ----------------------------------------


@pytest.fixture(scope="session")
def built_widget() -> Path:
    """customer_web/dist/widget.js, rebuilt when a source is newer (as `make` does after npm ci)."""
    bundle = ROOT / "customer_web" / "dist" / "widget.js"
    web = ROOT / "customer_web"
    sources = [
        *web.glob("*.js"),
        *web.glob("locales/*/LC_MESSAGES/*.po"),  # compiled in by locales/build.mjs
        web / "locales" / "build.mjs",
    ]
    stale = not bundle.is_file() or max(s.stat().st_mtime for s in sources) > bundle.stat().st_mtime
    if stale:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to build the widget (customer_web/): install Node.js")
        subprocess.run([npm, "run", "build", "--silent"], cwd=ROOT, check=True, timeout=120)
    return bundle


@pytest.fixture
async def make_shop(
    aiohttp_server: Callable[..., Any],
) -> Callable[..., Any]:
    async def make(desk: Desk, *, lang: str = "en", host: str = "127.0.0.1") -> Shop:
        app = web.Application()
        shop = Shop(server=None, lang=lang, support=desk.url)  # type: ignore[arg-type]
        app.router.add_get("/", shop.page)
        app.router.add_get("/shop.css", shop_css)
        shop.server = await aiohttp_server(app, host=host)
        return shop

    return make


@pytest.fixture
async def open_customer(browser: Browser) -> AsyncIterator[Callable[..., Any]]:
    contexts = []

    async def open_(shop: Shop, viewport: ViewportSize = DESKTOP) -> Customer:
        context = await browser.new_context(viewport=viewport)
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        customer = Customer(page)
        page.on("console", lambda message: customer.console.append(message.text))
        page.on("pageerror", lambda error: customer.errors.append(str(error)))
        page.on("websocket", customer._websocket)
        page.on("request", customer._request)
        await page.goto(shop.origin + "/")
        await page.locator("mayday-help .help").wait_for()
        return customer

    yield open_
    for context in contexts:
        with contextlib.suppress(Exception):
            await context.close()


@pytest.fixture
async def agent_peers() -> AsyncIterator[Callable[[Client], AgentPeer]]:
    made: list[AgentPeer] = []

    def make(agent: Client) -> AgentPeer:
        peer = AgentPeer(agent)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        await peer.close()
