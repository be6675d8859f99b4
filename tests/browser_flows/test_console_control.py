"""Remote control from the agent console: clicks, keys and the wheel reach the customer's device,
the letterbox does not, and control survives either side's socket dropping
(tests/browser_flows/console.py has the page helpers)."""

from __future__ import annotations

import asyncio

from ..conftest import Desk
from ..support import assert_eventually
from .console import ConsoleFactory, TabletFactory, in_session


async def test_control_keys_wheel_and_letterbox(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    console, customer = await in_session(desk, open_console, tablets)
    page, device, tablet = console.page, customer.device, customer.tablet
    await page.click(".control-button")
    await assert_eventually(lambda: "customer.allow" in tablet.elements())
    assert tablet.tap("customer.allow", origin="customer")
    await page.wait_for_selector("#stage.mode-control")

    # At 1366×768 the picture is letterboxed above and below: a click there is not a tap.
    box = await console.video_box()
    _, top = await console.page_point(0, 0)
    assert top - box["top"] > 20, "expected letterbox bars above the picture"
    await page.mouse.click(box["left"] + box["width"] / 2, box["top"] + 5)
    await asyncio.sleep(0.3)
    assert device.inputs_applied == 0, "a click in the letterbox reached the device"

    # Keys: typed text and named keys go to the focused field on the tablet.
    await console.click_tablet(tablet.elements()["app.signin"])
    await assert_eventually(lambda: "signin.email" in tablet.elements())
    await console.click_tablet(tablet.elements()["signin.email"])
    await assert_eventually(lambda: tablet.state()["focused_field"] == "email")
    await page.wait_for_selector('.notice[data-key="hidden"]')
    assert "hidden for privacy" in await console.text("#notices")
    await page.keyboard.type("bob@example.orgg")
    await page.keyboard.press("Backspace")
    await assert_eventually(
        lambda: tablet.state()["fields"]["email"] == "bob@example.org",
        message="the typed text did not arrive in order",
    )
    await page.keyboard.press("Tab")
    await assert_eventually(lambda: tablet.state()["focused_field"] == "password")
    assert await page.get_attribute('[data-tool="pen"]', "aria-pressed") == "true", (
        "keys typed for the customer must not trigger the console's shortcuts"
    )
    await page.keyboard.press("Escape")
    await assert_eventually(lambda: tablet.state()["current_app"] == "home")

    # The wheel scrolls the customer's list; a press-drag-release drags it back.
    await console.click_tablet(tablet.elements()["app.settings"])
    await assert_eventually(lambda: "settings.bluetooth_toggle" in tablet.elements())
    await console.click_tablet(tablet.elements()["settings.bluetooth_toggle"])
    await assert_eventually(lambda: "settings.bluetooth_list" in tablet.elements())
    devices = tablet.elements()["settings.bluetooth_list"]
    x, y = await console.page_point(devices.x + devices.width / 2, devices.y + devices.height / 2)
    await page.mouse.move(x, y)
    await page.mouse.wheel(0, 120)
    await assert_eventually(lambda: tablet.state()["scroll_offset"] > 0)
    scrolled = tablet.state()["scroll_offset"]
    await page.mouse.move(x, y - 40)
    await page.mouse.down()
    await page.mouse.move(x, y + 40, steps=5)
    await page.mouse.up()
    await assert_eventually(lambda: tablet.state()["scroll_offset"] < scrolled)

    # The device's socket drops: the console shows the reconnect countdown and suspends control;
    # the device is back within the lease, so control resumes without a new dialog.
    await console.record_notices()
    assert device.client.sio.eio.ws is not None
    await device.client.sio.eio.ws.close()
    await page.wait_for_selector('.control-button[data-state="granted"]')
    await page.wait_for_function("() => window.__notices.some(t => t.includes('reconnecting'))")
    await page.wait_for_function("() => !document.querySelector('.notice[data-key=\"peer\"]')")
    seen = await console.notices_seen()
    assert "suspended" in seen, seen
    await page.wait_for_selector("#stage.mode-control")

    # Now the console's own socket drops: it suspends control itself at once, comes back into
    # the session, answers the device's new offer and gets control back within the lease.
    offers = device.peer
    await page.evaluate("() => window.mayday.signaling.socket.io.engine.close()")
    await page.wait_for_selector("#stage.mode-annotate")
    await page.wait_for_selector('.control-button[data-state="granted"]')
    await page.wait_for_selector("#stage.mode-control")
    await assert_eventually(lambda: device.peer is not offers and device.media_connected.is_set())
    await page.wait_for_function("() => document.querySelector('#screen').videoWidth > 0")
    await console.click_tablet(tablet.elements()["back"])
    await assert_eventually(lambda: tablet.state()["current_app"] == "home")
    console.assert_clean()
