"""Remote control of a web page with the customer's consent: the real widget in Chromium on the
shop's origin, the real console in a second browser context (docs/cobrowse.md "Remote control",
docs/protocol.md §11 "On a web page").

The agent clicks and types on the replay; the console sends element events by rrweb node id; the
widget applies them only under its own consent, never into masked or blocked elements, and the
page's own scripts react as they would to the customer. Slow (two browsers, WebRTC): one flow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from ..conftest import Desk
from .console import Console, ConsoleFactory
from .widget import DESKTOP, PHONE, Customer, Shop, add_site, step

pytestmark = pytest.mark.timeout(180)

CONTROL_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' {support}; \
style-src 'self'; connect-src {support} {support_ws}; img-src 'self' data:">
<title>Kettle shop – order</title>
</head>
<body>
<main>
<h1>Order your blue kettle</h1>
<label>Name <input id="name" autocomplete="name"></label>
<p id="greeting">Hello, stranger</p>
<label>Password <input id="password" type="password"></label>
<div data-mayday-block><button id="secret" type="button">Blocked button</button></div>
<button id="buy" type="button">Place order</button>
<div id="result"></div>
</main>
<script src="/shop.js"></script>
<script src="{support}/widget.js" data-site-key="{key}" async></script>
</body>
</html>
"""

# The page's own script: the agent's input must reach it as the customer's would.
SHOP_JS = """
document.querySelector('#name').addEventListener('input', (event) => {
  document.querySelector('#greeting').textContent = 'Hello, ' + event.target.value;
});
document.querySelector('#buy').addEventListener('click', () => {
  const done = document.createElement('p');
  done.id = 'done';
  done.textContent = 'Order placed for ' + document.querySelector('#name').value;
  document.querySelector('#result').append(done);
});
document.querySelector('#secret').addEventListener('click', () => {
  document.body.dataset.secretClicked = '1';
});
"""


class ControlShop(Shop):
    async def page(self, request: web.Request) -> web.Response:
        html = CONTROL_PAGE.format(
            support=self.support, support_ws=self.support.replace("http://", "ws://"), key=self.key
        )
        return web.Response(text=html, content_type="text/html")


async def _shop_js(_request: web.Request) -> web.Response:
    return web.Response(text=SHOP_JS, content_type="text/javascript")


async def open_shop(desk: Desk, aiohttp_server: Callable[..., Any]) -> ControlShop:
    app = web.Application()
    shop = ControlShop(server=None, support=desk.url)  # type: ignore[arg-type]
    app.router.add_get("/", shop.page)
    app.router.add_get("/shop.js", _shop_js)
    shop.server = await aiohttp_server(app, host="127.0.0.1")
    await add_site(desk, shop)
    return shop


# --- the console's side -------------------------------------------------------------------------

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
  const session = window.mayday.session;
  const sessionId = window.mayday.stage.control.sessionId;
  try {
    await window.mayday.signaling.request('control.input', {session_id: sessionId, seq: 900, events});
    return 'ok';
  } catch (error) {
    return error.code;
  }
}"""


async def click_replay(console: Console, selector: str) -> None:
    """Click the centre of the replay's element ``selector``, as the agent's mouse would."""
    point = await console.page.evaluate(REPLAY_POINT, selector)
    assert point is not None, f"{selector} is not in the replay"
    await console.page.mouse.click(point[0], point[1])


async def mirror_text(console: Console, text: str) -> None:
    mirror = console.page.frame_locator("#stage iframe.replay-host").frame_locator("iframe")
    await mirror.get_by_text(text).first.wait_for(state="visible", timeout=15_000)


async def value(customer: Customer, selector: str) -> str:
    result: str = await customer.page.eval_on_selector(selector, "el => el.value")
    return result


async def timeline(desk: Desk, session_id: str) -> list[dict[str, Any]]:
    status, body = await desk.get(f"/api/sessions/{session_id}/events", await desk.token("alice"))
    assert status == 200
    events: list[dict[str, Any]] = body["events"]
    return events


async def test_the_agent_controls_the_page_only_with_the_customers_consent(
    desk: Desk,
    aiohttp_server: Callable[..., Any],
    built_widget: Any,
    open_customer: Callable[..., Any],
    open_console: ConsoleFactory,
) -> None:
    shop = await open_shop(desk, aiohttp_server)
    await desk.add_agent("alice")
    console = await open_console(desk, DESKTOP)
    page = console.page
    await console.sign_in("alice")
    await console.set_presence("available")
    customer: Customer = await open_customer(shop)
    shop_page = customer.page

    with step("the session: the customer's page in the console's replay"):
        await shop_page.click("mayday-help .help")
        await console.wait_ring()
        await page.click(".ring-accept")
        await customer.phase("active")
        await mirror_text(console, "Order your blue kettle")
        session_id = await page.evaluate("() => window.mayday.stage.control.sessionId")
        assert not await page.is_disabled(".control-button")

    with step("before consent: the agent's clicks change nothing, the server refuses input"):
        await click_replay(console, "#buy")  # Annotate mode: a click draws, nothing more
        buy = await page.evaluate(NODE_ID, "#buy")
        assert buy > 0
        assert await page.evaluate(SEND_INPUT, [{"type": "click", "node": buy}]) == "forbidden"
        await asyncio.sleep(0.5)
        assert await shop_page.locator("#done").count() == 0

    with step("the agent asks; the customer sees who asks, and allows"):
        await page.click(".control-button")
        allow = shop_page.locator('mayday-help [data-control="allow"]')
        await allow.wait_for(state="visible")
        title = await shop_page.locator("mayday-help .consent-title").inner_text()
        assert "alice" in title
        assert "wants to control this page" in title
        assert await shop_page.locator('mayday-help [data-control="stop"]').is_hidden()
        await customer.shot("30-control-consent")
        await shop_page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
        await customer.shot("31-control-consent-phone")
        await shop_page.set_viewport_size(DESKTOP)
        await allow.click()
        stop = shop_page.locator('mayday-help [data-control="stop"]')
        await stop.wait_for(state="visible")
        assert (
            "alice is controlling this page"
            in await shop_page.locator("mayday-help .controlbar").inner_text()
        )
        await page.wait_for_selector('.control-button[data-state="granted"]')
        await page.wait_for_selector("#stage.mode-control")
        await customer.shot("32-control-on")

    with step("the agent types into a field and presses a button: the page's script reacts"):
        await click_replay(console, "#name")
        await page.keyboard.type("Erika")
        await shop_page.wait_for_function(
            "() => document.querySelector('#greeting').textContent === 'Hello, Erika'"
        )
        assert await value(customer, "#name") == "Erika"
        await page.keyboard.press("Backspace")
        await shop_page.wait_for_function("() => document.querySelector('#name').value === 'Erik'")
        await click_replay(console, "#buy")
        await shop_page.wait_for_selector("#done")
        assert await shop_page.locator("#done").inner_text() == "Order placed for Erik"
        await mirror_text(console, "Order placed for Erik")  # the page's change, in the replay
        await console.shot("33-control-web-page")

    with step("a password field and a blocked element are refused by the widget"):
        await click_replay(console, "#password")
        await page.keyboard.type("abc")
        await asyncio.sleep(0.5)
        assert await value(customer, "#password") == ""
        # The blocked element is an empty box in the replay (the first <div> of <main>), with a
        # node id all the same: input aimed at it is refused by the widget.
        blocked = await page.evaluate(NODE_ID, "main > div")
        assert blocked > 0
        assert await page.evaluate(
            "() => !window.mayday.cobrowse.replay.document.querySelector('main > div').textContent"
        )
        assert await page.evaluate(SEND_INPUT, [{"type": "click", "node": blocked}]) == "ok"
        await asyncio.sleep(0.5)
        assert await shop_page.evaluate("() => document.body.dataset.secretClicked") is None

        async def dropped() -> list[dict[str, Any]]:
            events = await timeline(desk, session_id)
            return [e for e in events if e["kind"] == "control.input_dropped"]

        for _ in range(50):
            if len(await dropped()) >= 2:
                break
            await asyncio.sleep(0.1)
        noted = await dropped()
        assert len(noted) >= 2
        assert all(e["reason"] == "masked" for e in noted), noted

    with step("Stop control: nothing is applied any more"):
        await stop.click()
        await stop.wait_for(state="hidden")
        await page.wait_for_selector('.control-button[data-state="revoked"]')
        await page.wait_for_selector("#stage.mode-annotate")
        name = await page.evaluate(NODE_ID, "#name")
        events = [{"type": "input", "node": name, "value": "Mallory"}]
        assert await page.evaluate(SEND_INPUT, events) == "forbidden"
        await click_replay(console, "#name")
        await page.keyboard.type("zzz")
        await asyncio.sleep(0.5)
        assert await value(customer, "#name") == "Erik"
        kinds = [e["kind"] for e in await timeline(desk, session_id)]
        for kind in ("control.requested", "control.granted", "control.revoked"):
            assert kind in kinds

    customer.assert_clean()
    console.assert_clean()
