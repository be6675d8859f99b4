"""The agent console before a session: signing in and out, presence, the ring and the queue,
device names shown as text, the shortcut help and the letterbox geometry
(tests/browser_flows/console.py has the page helpers)."""

from __future__ import annotations

import asyncio

from ..conftest import Desk, DeskFactory
from .console import XSS, ConsoleFactory, TabletFactory


async def test_device_names_are_text_and_a_declined_ring_stays_queued(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    await desk.add_agent("alice")
    console = await open_console(desk)
    await console.sign_in("alice")
    await console.set_presence("available")
    customer = await tablets(desk, name=XSS)
    customer.tablet.tap("customer.help", origin="customer")
    await console.wait_ring()
    page = console.page
    assert await console.text(".ring-device") == XSS
    await page.wait_for_selector(".queue-entry")
    assert await console.text(".queue-device") == XSS
    assert await page.locator("#ring img, #queue img").count() == 0
    await console.shot("11-untrusted-name")

    await page.click(".ring-decline")
    await page.wait_for_selector("#ring", state="hidden")
    await page.wait_for_selector(".queue-entry .state-queued")
    ticket = customer.device.ticket
    assert ticket is not None
    # A supervisor reads any session; alice, who only declined it, does not (§19.1).
    await desk.add_agent("sue", role="supervisor")
    status, session = await desk.get(f"/api/sessions/{ticket['id']}", await desk.token("sue"))
    assert (status, session["state"]) == (200, "queued")
    status, _ = await desk.get(f"/api/sessions/{ticket['id']}", await desk.token("alice"))
    assert status == 404
    await asyncio.sleep(0.3)
    assert await page.locator("#ring").is_hidden(), "a declined customer must not ring again"
    assert console.dialogs == [], "device text was run as markup"
    assert console.errors == []


async def test_presence_toggle_and_a_missed_ring_sets_away(
    make_desk: DeskFactory, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    desk = await make_desk(ring_timeout_s=1.0)
    await desk.add_agent("alice")
    console = await open_console(desk)
    page = console.page
    await console.sign_in("alice")
    assert await page.get_attribute("#presence", "data-status") == "away"

    await console.set_presence("available")
    customer = await tablets(desk)
    customer.tablet.tap("customer.help", origin="customer")
    await console.wait_ring()
    # Not answered: the server ends the ring and sets the agent away, and the console says so.
    await page.wait_for_selector("#ring", state="hidden", timeout=10_000)
    await page.wait_for_selector('#presence[data-status="away"]')
    assert "Away" in await console.text("#toasts")
    assert await page.get_attribute('button[data-status="away"]', "aria-pressed") == "true"
    await console.shot("14-missed-ring-away")

    await console.set_presence("available")
    await console.wait_ring()  # the same customer rings again once the agent is back
    await page.click(".ring-decline")
    await console.set_presence("away")
    assert await console.text(".idle-title") == "You are away"

    # The letterbox mapping itself (geometry.js), for a picture wider and one taller than its box.
    mapped = await page.evaluate(
        """async () => {
            const g = await import('/geometry.js');
            const wide = g.containRect({left: 0, top: 0, width: 800, height: 800}, 1280, 800);
            const tall = g.containRect({left: 10, top: 0, width: 800, height: 400}, 1280, 800);
            return {
                wide: [wide.left, wide.top, wide.width, wide.height],
                tall: [tall.left, tall.top, tall.width, tall.height],
                inBar: g.toPicture(wide, 400, 100),
                centre: g.toPicture(wide, 400, 400),
                clamped: g.toPicture(wide, 900, 100, true),
            };
        }"""
    )
    assert mapped["wide"] == [0, 150, 800, 500]
    assert mapped["tall"] == [90, 0, 640, 400]
    assert mapped["inBar"] is None
    assert mapped["centre"] == {"x": 0.5, "y": 0.5}
    assert mapped["clamped"] == {"x": 1, "y": 0}

    # The help overlay lists the shortcuts.
    await page.keyboard.press("?")
    await page.wait_for_selector("#help:not([hidden])")
    assert "Laser pointer" in await console.text("#help")
    await console.shot("15-shortcuts")
    await page.keyboard.press("Escape")
    await page.wait_for_selector("#help", state="hidden")

    # Refreshing the token replaces the stored one.
    before = await page.evaluate("() => sessionStorage.getItem('mayday.agent.auth')")
    await asyncio.sleep(1.1)  # a token issued in the same second would be identical
    await page.evaluate("() => window.mayday.api.refresh()")
    after = await page.evaluate("() => sessionStorage.getItem('mayday.agent.auth')")
    assert after != before

    # A stored token the server no longer accepts leads back to the sign-in form.
    await page.evaluate(
        """() => {
            const auth = JSON.parse(sessionStorage.getItem('mayday.agent.auth'));
            auth.token = 'not-a-valid-token';
            sessionStorage.setItem('mayday.agent.auth', JSON.stringify(auth));
        }"""
    )
    await page.reload()
    await page.wait_for_selector("#signin:not([hidden])")
    assert "sign in again" in await console.text("#signin-error")
