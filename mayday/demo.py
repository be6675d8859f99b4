"""``mayday demo``: the whole system on one machine, to try it as an agent and as a customer.

One process runs a server with the embedded defaults (SQLite under ``.mayday/``), a demo agent
account, a simulated tablet connected to it whose screen a person can use in the browser (the
customer's preview), and a small web shop on a port of its own (another origin, as a real site is)
whose pages embed the co-browsing widget for the site ``demo-shop``. It prints the three URLs and
the agent's credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from server.app import create_app
from server.appkeys import ORIGINS, RECORDS
from server.auth import hash_password
from server.settings import Settings

__all__ = ["DEMO_AGENT", "DEMO_PASSWORD", "DEMO_SITE", "run_demo"]

DEMO_AGENT = "demo"
DEMO_PASSWORD = "mayday-demo"  # noqa: S105 (printed on purpose: a local demo account)
DEMO_SITE = "demo-shop"
SHOP_FILES = Path(__file__).resolve().parent / "demo_shop"
SHOP_CSP = (
    "default-src 'self'; script-src 'self' {support}; style-src 'self'; img-src 'self' data:; "
    "connect-src {support} {support_ws}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
"""The shop's Content-Security-Policy: strict (no inline script or style), as a real shop's might
be, allowing the support server for the widget's script and connections (docs/cobrowse.md §4)."""


async def _ensure_agent(app: web.Application) -> None:
    records = app[RECORDS]
    if await records.agent_by_name(DEMO_AGENT) is None:
        await records.add_agent(DEMO_AGENT, hash_password(DEMO_PASSWORD), ["en", "de"], [])


async def _ensure_site(app: web.Application, origin: str) -> str:
    """The key of the site ``demo-shop`` for ``origin``: the one in the records, or a new one.

    A site of that name with other origins (the shop moved to another port) is registered anew.
    """
    records = app[RECORDS]
    existing = next((s for s in await records.list_sites() if s.name == DEMO_SITE), None)
    if existing is not None and list(existing.origins) != [origin]:
        await records.remove_site(DEMO_SITE)
        existing = None
    row = existing or await records.add_site(DEMO_SITE, [origin])

    async def site_origins() -> set[str]:
        return {o for site in await records.list_sites() for o in site.origins}

    # Count the site's origin now rather than at the server's next refresh of the sites.
    await app[ORIGINS].refresh(site_origins)
    return row.key


def shop_app(support: str, key: str) -> web.Application:
    """The demo shop: mayday/demo_shop/ served as it is, its page with the widget's tag filled in."""
    page = (
        (SHOP_FILES / "index.html")
        .read_text(encoding="utf-8")
        .replace("__SUPPORT__", html.escape(support))
        .replace("__SITE_KEY__", html.escape(key))
    )
    csp = SHOP_CSP.format(support=support, support_ws=support.replace("http", "ws", 1))

    @web.middleware
    async def headers(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        response.headers["Content-Security-Policy"] = csp
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-cache"
        return response

    async def index(_request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    shop = web.Application(middlewares=[headers])
    shop.router.add_get("/", index)
    shop.router.add_get("/index.html", index)
    for name, kind in (("shop.css", "text/css"), ("shop.js", "text/javascript")):
        body = (SHOP_FILES / name).read_bytes()

        async def file(_request: web.Request, body: bytes = body, kind: str = kind) -> web.Response:
            return web.Response(body=body, content_type=kind, charset="utf-8")

        shop.router.add_get(f"/{name}", file)
    return shop


async def _register_device(url: str, config: Path) -> tuple[str, str]:
    from device_agent.config import load_or_register

    credentials = await load_or_register(url, config, name="Demo tablet")
    return credentials.device_id, credentials.device_secret


async def run_demo(
    host: str, port: int, preview_port: int, shop_port: int, data_dir: Path, locale: str
) -> int:
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
    shop_url = f"http://127.0.0.1:{shop_port}"
    key = await _ensure_site(app, shop_url)
    shop_runner = web.AppRunner(shop_app(url, key))
    await shop_runner.setup()
    await web.TCPSite(shop_runner, "127.0.0.1", shop_port).start()
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
        f"  agent console        {url}/   (sign in as {DEMO_AGENT} / {DEMO_PASSWORD})\n"
        f"  customer's tablet    {preview_url}   (tap Help, then Allow when asked)\n"
        f"  customer's web shop  {shop_url}/   (press Help)\n\n"
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
        await shop_runner.cleanup()
        await device.close()
        await runner.cleanup()
    return 0
