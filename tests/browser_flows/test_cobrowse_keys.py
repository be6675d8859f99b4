"""Keys and the wheel in remote control of a web page: the real widget in Chromium on the shop's
origin, the real console in a second browser context (docs/cobrowse.md "Remote control",
docs/protocol.md §11.1 "On a web page").

With control granted, the agent presses Tab, Shift+Tab, Enter and Escape and turns the wheel over
the replay; the customer's real page reacts as it would to the customer's own keys: the focus
moves on (never into a password field), the page's keydown listener sees Escape, Enter submits
the form, the page scrolls. After Stop control none of it reaches the page.

The shared flow (a shop with its own script, a granted session, clicks on the replay) is in
session_setup below; the drop of the widget's socket is test_cobrowse_drop.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Page

from ..conftest import Desk
from ..support import assert_eventually
from .console import Console, ConsoleFactory
from .widget import DESKTOP, Customer, Shop, add_site, step

pytestmark = pytest.mark.timeout(120)

KEYS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' {support}; \
style-src 'self'; connect-src {support} {support_ws}; img-src 'self' data:">
<title>Kettle shop – delivery</title>
</head>
<body>
<main>
<h1>Delivery details</h1>
<form id="form">
<label>First name <input id="first" autocomplete="given-name"></label>
<label>Password <input id="password" type="password"></label>
<label>Last name <input id="last" autocomplete="family-name"></label>
<button id="save" type="submit">Save address</button>
</form>
<p id="status">Not saved</p>
<div id="tall"></div>
<p id="bottom">The end of the delivery page</p>
</main>
<script src="/shop.js"></script>
<script src="{support}/widget.js" data-site-key="{key}" async></script>
</body>
</html>
"""

# The page's own script: what it sees of the agent's keys is what it would see of the customer's.
SHOP_JS = """
document.querySelector('#tall').style.height = '3000px';  // CSSOM: allowed by style-src 'self'
document.body.dataset.escapes = '0';
document.body.dataset.saves = '0';
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    document.body.dataset.escapes = String(Number(document.body.dataset.escapes) + 1);
  }
});
document.querySelector('#form').addEventListener('submit', (event) => {
  event.preventDefault();
  document.body.dataset.saves = String(Number(document.body.dataset.saves) + 1);
  const name = document.querySelector('#first').value + ' ' + document.querySelector('#last').value;
  document.querySelector('#status').textContent = 'Saved for ' + name;
});
"""

REPLAY_POINT = """sel => {
  const r = window.mayday.cobrowse.replay;
  const el = r.document?.querySelector(sel);
  if (!el || !r.viewport) return null;
  const b = el.getBoundingClientRect();
  const host = r.host.getBoundingClientRect();
  const scale = host.width / r.viewport.width;
  const f = r.replayer.iframe.getBoundingClientRect();
  return [host.left + (f.left + b.left + b.width / 2) * scale,
          host.top + (f.top + b.top + b.height / 2) * scale];
}"""

NODE_ID = """sel => {
  const r = window.mayday.cobrowse.replay;
  return r.replayer.getMirror().getId(r.document.querySelector(sel));
}"""

SEND_INPUT = """async events => {
  const sessionId = window.mayday.stage.control.sessionId;
  try {
    await window.mayday.signaling.request('control.input', {session_id: sessionId, seq: 900, events});
    return 'ok';
  } catch (error) {
    return error.code;
  }
}"""

FOCUSED = "() => document.activeElement?.id ?? ''"


class KeysShop(Shop):
    async def page(self, request: web.Request) -> web.Response:
        html = KEYS_PAGE.format(
            support=self.support, support_ws=self.support.replace("http://", "ws://"), key=self.key
        )
        return web.Response(text=html, content_type="text/html")


async def _shop_js(_request: web.Request) -> web.Response:
    return web.Response(text=SHOP_JS, content_type="text/javascript")


async def open_shop(desk: Desk, aiohttp_server: Callable[..., Any]) -> KeysShop:
    app = web.Application()
    shop = KeysShop(server=None, support=desk.url)  # type: ignore[arg-type]
    app.router.add_get("/", shop.page)
    app.router.add_get("/shop.js", _shop_js)
    shop.server = await aiohttp_server(app, host="127.0.0.1")
    await add_site(desk, shop)
    return shop


@dataclass
class Controlled:
    """A web session in which the customer allowed control: the console and the shop page."""

    console: Console
    customer: Customer
    session_id: str
    token: str

    @property
    def agent(self) -> Page:
        return self.console.page

    @property
    def shop(self) -> Page:
        return self.customer.page

    async def click(self, selector: str) -> None:
        """Click the centre of the replay's element ``selector``, as the agent's mouse would."""
        point = await self.agent.evaluate(REPLAY_POINT, selector)
        assert point is not None, f"{selector} is not in the replay"
        await self.agent.mouse.click(point[0], point[1])

    async def send(self, events: list[dict[str, Any]]) -> str:
        """A control.input sent by the console's socket as it is: 'ok' (relayed) or the error."""
        result: str = await self.agent.evaluate(SEND_INPUT, events)
        return result

    async def node(self, selector: str) -> int:
        node: int = await self.agent.evaluate(NODE_ID, selector)
        assert node > 0, f"{selector} has no node id in the replay"
        return node

    async def focused(self) -> str:
        focused: str = await self.shop.evaluate(FOCUSED)
        return focused

    async def wait_focus(self, element_id: str) -> None:
        await self.shop.wait_for_function(f"() => ({FOCUSED})() === {element_id!r}")

    async def mirror_text(self, text: str) -> None:
        mirror = self.agent.frame_locator("#stage iframe.replay-host").frame_locator("iframe")
        await mirror.get_by_text(text).first.wait_for(state="visible")

    async def ask_and_allow(self) -> None:
        await self.agent.click(".control-button")
        await self.shop.locator('mayday-help [data-control="allow"]').click()
        await self.shop.locator('mayday-help [data-control="stop"]').wait_for(state="visible")
        await self.agent.wait_for_selector('.control-button[data-state="granted"]')
        await self.agent.wait_for_selector("#stage.mode-control")


async def timeline(c: Controlled) -> list[dict[str, Any]]:
    desk = c.console.desk
    status, body = await desk.get(f"/api/sessions/{c.session_id}/events", c.token)
    assert status == 200
    events: list[dict[str, Any]] = body["events"]
    return events


async def wait_timeline(c: Controlled, kind: str, reason: str) -> None:
    """Wait till the session's timeline has an entry of ``kind`` with ``reason``."""

    async def noted() -> bool:
        return any(e["kind"] == kind and e["reason"] == reason for e in await timeline(c))

    await assert_eventually(noted, message=f"no {kind} ({reason}) in the timeline")


async def controlled_session(
    desk: Desk,
    shop: Shop,
    open_customer: Callable[..., Any],
    open_console: ConsoleFactory,
) -> Controlled:
    """alice accepts the shop's customer, sees the page in the replay and is allowed control."""
    await desk.add_agent("alice")
    console = await open_console(desk, DESKTOP)
    await console.sign_in("alice")
    await console.set_presence("available")
    customer: Customer = await open_customer(shop)
    await customer.page.click("mayday-help .help")
    await console.wait_ring()
    await console.page.click(".ring-accept")
    await customer.phase("active")
    session_id: str = await console.page.evaluate("() => window.mayday.stage.control.sessionId")
    controlled = Controlled(console, customer, session_id, await desk.token("alice"))
    await controlled.mirror_text("Delivery details")
    await controlled.ask_and_allow()
    return controlled


async def test_keys_and_the_wheel_reach_the_page_as_the_customers_would(
    desk: Desk,
    aiohttp_server: Callable[..., Any],
    built_widget: Any,
    open_customer: Callable[..., Any],
    open_console: ConsoleFactory,
) -> None:
    shop = await open_shop(desk, aiohttp_server)
    c = await controlled_session(desk, shop, open_customer, open_console)
    agent, page = c.agent, c.shop

    with step("the web session speaks of the customer's page, not a device"):
        badge = await agent.text_content(".control-hint-text") or ""
        assert "page" in badge
        assert "device" not in badge
        title = await agent.get_attribute('[data-mode="control"]', "title") or ""
        assert "device" not in title
        assert await agent.get_attribute("#stage", "aria-label") == "The customer's page"
        told = await agent.evaluate("() => window.mayday.stage.control.describe()")
        assert told == "Your clicks and keys now reach the customer's page."

    with step("Escape before any click: the page's own keydown listener sees it"):
        await agent.keyboard.press("Escape")
        await page.wait_for_function("() => document.body.dataset.escapes === '1'")

    with step("typing, then Tab: the focus skips the password field, typing goes on there"):
        await c.click("#first")
        await c.wait_focus("first")
        await agent.keyboard.type("Erika")
        await page.wait_for_function("() => document.querySelector('#first').value === 'Erika'")
        await agent.keyboard.press("Tab")
        await c.wait_focus("last")
        await agent.keyboard.type("Mustermann")
        await page.wait_for_function("() => document.querySelector('#last').value === 'Mustermann'")
        assert await page.eval_on_selector("#password", "el => el.value") == ""

    with step("Shift+Tab goes back over the password field; Tab forward again"):
        await agent.keyboard.press("Shift+Tab")
        await c.wait_focus("first")
        # Input goes out in order: once this Escape has arrived, the Shift+Tab before it had.
        await agent.keyboard.press("Escape")
        await page.wait_for_function("() => document.body.dataset.escapes === '2'")
        assert await c.focused() == "first"
        await agent.keyboard.press("Tab")
        await c.wait_focus("last")

    with step("Tab onto the button, Enter: the form is submitted"):
        await agent.keyboard.press("Tab")
        await c.wait_focus("save")
        await agent.keyboard.press("Enter")
        await page.wait_for_function(
            "() => document.querySelector('#status').textContent === 'Saved for Erika Mustermann'"
        )
        await c.mirror_text("Saved for Erika Mustermann")

    with step("the wheel over the replay scrolls the customer's page"):
        assert await page.evaluate("() => window.scrollY") == 0
        point = await agent.evaluate(REPLAY_POINT, "h1")
        await agent.mouse.move(point[0], point[1])
        await agent.mouse.wheel(0, 600)
        await page.wait_for_function("() => window.scrollY >= 300")
        # The replay follows the page, and the next turn scrolls on from there.
        await agent.wait_for_function(
            "() => window.mayday.cobrowse.replay.scrollPosition()?.y >= 300"
        )
        await agent.mouse.wheel(0, -600)
        await page.wait_for_function("() => window.scrollY === 0")

    with step("a press into the password field is refused by the widget, and noted"):
        password = await c.node("#password")
        events = [{"type": "press", "node": password, "key": "Enter"}]
        assert await c.send(events) == "ok"  # relayed: the widget is the one to refuse it
        await wait_timeline(c, "control.input_dropped", "masked")
        assert await c.focused() != "password"

    with step("after Stop control no key and no wheel reaches the page"):
        await page.locator('mayday-help [data-control="stop"]').click()
        await agent.wait_for_selector("#stage.mode-annotate")
        await agent.locator("#stage").focus()
        await agent.keyboard.press("Escape")
        await agent.mouse.wheel(0, 600)
        await agent.keyboard.press("Tab")
        first = await c.node("#first")
        assert await c.send([{"type": "press", "node": first, "key": "Escape"}]) == "forbidden"
        await wait_timeline(c, "control.input_refused", "control is none")
        assert await page.evaluate("() => document.body.dataset.escapes") == "2"
        assert await page.evaluate("() => window.scrollY") == 0

    c.customer.assert_clean()
    c.console.assert_clean()
