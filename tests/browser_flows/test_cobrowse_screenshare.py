"""Share my screen instead: a web customer's whole screen instead of the page, for problems
outside it (docs/cobrowse.md §5.1). The real widget in Chromium on the shop's origin, the real
console in a second browser context.

The customer presses the button, the browser's picker is answered by the test flags
(``--use-fake-ui-for-media-stream`` in tests/browser.py gives a fake screen), the widget offers
again with the screen as video and the console shows it instead of the replay, labelled, with
remote control off; Stop sharing brings the replay back. Slow (two browsers, WebRTC): one flow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ..conftest import Desk
from .console import Console, ConsoleFactory
from .widget import DESKTOP, Customer, add_site, step

pytestmark = pytest.mark.timeout(180)

SHARING = """() => {
  const view = document.querySelector('#session');
  const video = document.querySelector('#screen');
  return view.dataset.screen === 'shared' && video.videoWidth > 0
    && document.querySelector('.stage-wait').hidden;
}"""

REPLAY_SHOWN = """() => {
  const view = document.querySelector('#session');
  const host = document.querySelector('#stage iframe.replay-host');
  return view.dataset.screen === undefined && host !== null
    && getComputedStyle(host).visibility === 'visible'
    && getComputedStyle(document.querySelector('#screen')).visibility === 'hidden'
    && document.querySelector('.stage-wait').hidden;
}"""

ASK_CONTROL = """async () => {
  const sessionId = window.mayday.stage.control.sessionId;
  try {
    await window.mayday.signaling.request('control.request', {session_id: sessionId});
    return 'ok';
  } catch (error) {
    return error.code;
  }
}"""


# Keeps the captured stream where the test can reach it, to end it as the browser's own "Stop
# sharing" does (an init script: not subject to the page's CSP).
KEEP_CAPTURE = """(() => {
  const devices = navigator.mediaDevices;
  const original = devices.getDisplayMedia.bind(devices);
  devices.getDisplayMedia = async (options) => (window.__capture = await original(options));
})()"""

# What the browser does when the customer stops sharing from its own UI: the track ends.
BROWSER_STOPS = """() => {
  const track = window.__capture.getVideoTracks()[0];
  track.stop();
  track.dispatchEvent(new Event('ended'));
}"""


async def mirror_text(console: Console, text: str) -> None:
    mirror = console.page.frame_locator("#stage iframe.replay-host").frame_locator("iframe")
    await mirror.get_by_text(text).first.wait_for(state="visible", timeout=15_000)


async def timeline_kinds(desk: Desk, session_id: str) -> list[str]:
    status, body = await desk.get(f"/api/sessions/{session_id}/events", await desk.token("alice"))
    assert status == 200
    return [event["kind"] for event in body["events"]]


async def test_the_customer_shares_their_screen_instead_of_the_page(
    desk: Desk,
    make_shop: Callable[..., Any],
    built_widget: Any,
    open_customer: Callable[..., Any],
    open_console: ConsoleFactory,
) -> None:
    shop = await make_shop(desk)
    await add_site(desk, shop)
    await desk.add_agent("alice")
    console = await open_console(desk, DESKTOP)
    page = console.page
    await console.sign_in("alice")
    await console.set_presence("available")
    customer: Customer = await open_customer(shop)
    shop_page = customer.page
    await shop_page.add_init_script(KEEP_CAPTURE)
    await shop_page.reload()
    share = shop_page.locator("mayday-help button", has_text="Share my screen instead")
    stop = shop_page.locator("mayday-help button", has_text="Stop sharing")

    with step("the session: the customer's page in the console's replay"):
        await shop_page.click("mayday-help .help")
        await console.wait_ring()
        await page.click(".ring-accept")
        await customer.phase("active")
        await mirror_text(console, "Blue kettle checkout")
        await page.wait_for_function(REPLAY_SHOWN)
        session_id = await page.evaluate("() => window.mayday.stage.control.sessionId")
        assert not await page.is_disabled(".control-button")
        await share.wait_for(state="visible")
        await customer.shot("40-share-screen-offered")

    with step("the customer allows control, then shares the screen: control ends"):
        await page.click(".control-button")
        await shop_page.locator('mayday-help [data-control="allow"]').click()
        await page.wait_for_selector('.control-button[data-state="granted"]')

    with step("Share my screen instead: the console shows the screen, control is off"):
        await share.click()
        await stop.wait_for(state="visible")
        await shop_page.locator('mayday-help [data-control="stop"]').wait_for(state="hidden")
        assert "whole screen" in await shop_page.locator("mayday-help .detail").inner_text()
        await page.wait_for_function(SHARING, timeout=20_000)
        assert (
            await page.evaluate(
                "() => getComputedStyle(document.querySelector('#stage iframe.replay-host'))"
                ".visibility"
            )
            == "hidden"
        )
        assert await page.locator(".screen-label").inner_text() == "Customer's screen"
        assert await page.is_disabled(".control-button")
        title = await page.get_attribute(".control-button", "title")
        assert title is not None
        assert "sharing their screen" in title
        assert await page.is_disabled('[data-mode="control"]')
        assert await page.evaluate(
            "() => document.querySelector('#stage').matches('.mode-annotate')"
        )
        assert "control.revoked" in await timeline_kinds(desk, session_id)
        # Letterboxed like a tablet's screen: the whole picture inside the stage.
        box = await console.video_box()
        assert box["vw"] > 0
        assert box["vh"] > 0
        await customer.shot("41-sharing-screen")
        await console.shot("40-web-customer-screen")

    with step("while sharing, a request for control is denied by the widget, no dialog"):
        assert await page.evaluate(ASK_CONTROL) == "ok"
        for _ in range(50):
            if "control.denied" in await timeline_kinds(desk, session_id):
                break
            await asyncio.sleep(0.1)
        assert "control.denied" in await timeline_kinds(desk, session_id)
        assert await shop_page.locator('mayday-help [data-control="allow"]').is_hidden()
        assert await page.is_disabled(".control-button")

    with step("Stop sharing: back to the page's replay, control offered again"):
        await stop.click()
        await share.wait_for(state="visible")
        assert "can see this page" in await shop_page.locator("mayday-help .detail").inner_text()
        await page.wait_for_function(REPLAY_SHOWN, timeout=20_000)
        await mirror_text(console, "Blue kettle checkout")
        assert await page.locator(".screen-label").is_hidden()
        assert not await page.is_disabled(".control-button")
        await customer.shot("42-sharing-stopped")
        await console.shot("41-web-customer-page-again")

    with step("the browser's own Stop sharing ends it too"):
        await share.click()
        await stop.wait_for(state="visible")
        await page.wait_for_function(SHARING, timeout=20_000)
        await shop_page.evaluate(BROWSER_STOPS)
        await share.wait_for(state="visible")
        await page.wait_for_function(REPLAY_SHOWN, timeout=20_000)
        assert not await page.is_disabled(".control-button")

    customer.assert_clean()
    console.assert_clean()
