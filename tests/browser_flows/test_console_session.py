"""The agent console in a session: the customer's picture, drawing on it, control granted and
taken back, chat, talk and notes, and the end with its timeline (tests/browser_flows/console.py
has the page helpers)."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from device_agent.screens.base import Rect
from signaling import Event

from ..conftest import Desk, DeskFactory
from ..support import assert_eventually
from .console import LARGE, ConsoleFactory, TabletFactory, in_session, mean_error


async def test_the_whole_flow_sign_in_help_annotate_control_and_stop(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    await desk.add_agent("alice")
    console = await open_console(desk)
    page = console.page
    await console.shot("01-signin")
    await console.sign_in("alice")
    await console.set_presence("available")
    await console.shot("02-available")

    customer = await tablets(desk)
    device, tablet = customer.device, customer.tablet
    assert tablet.tap("customer.help", origin="customer")
    await console.wait_ring()
    assert await console.text(".ring-device") == "kitchen tablet"
    await console.shot("03-ring")

    # Accept: the video shows the tablet, pixel for pixel within codec error.
    await console.accept_and_watch()
    await asyncio.wait_for(device.media_connected.wait(), 10)
    regions = {
        "status bar": Rect(0, 0, 1280, 40),
        "settings icon": tablet.elements()["app.settings"],
        "books icon": tablet.elements()["app.books"],
        "wallpaper": Rect(80, 640, 200, 100),
    }

    async def video_matches() -> bool:
        screen = tablet.capture().astype(np.int16)
        for rect in regions.values():
            shown = await console.video_pixels(rect)
            expected = screen[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width]
            if mean_error(shown, expected) > 12:
                return False
        return True

    await assert_eventually(video_matches, message="the video does not show the tablet's screen")
    box = await console.video_box()
    assert (box["vw"], box["vh"]) == (1280, 800)
    await page.wait_for_function(
        "() => /\\d+ fps/.test(document.querySelector('.quality-rate').textContent)"
    )
    await console.shot("04-session")

    # Draw an arrow in the video: the device shows it to the customer.
    await page.click('[data-tool="arrow"]')
    start_x, start_y = await console.page_point(300, 600)
    end_x, _ = await console.page_point(900, 600)
    await page.mouse.move(start_x, start_y)
    await page.mouse.down()
    for step in range(1, 11):
        await page.mouse.move(start_x + (end_x - start_x) * step / 10, start_y)
        await asyncio.sleep(0.02)
    await page.mouse.up()

    def arrow_on_device() -> bool:
        marks = device.annotations.visible()
        if not marks or marks[-1].tool != "arrow" or not marks[-1].done:
            return False
        r, g, b = device.render_for_customer()[600, 500].astype(int)
        return bool(r > 200 and g < 110 and b < 110)

    await assert_eventually(
        arrow_on_device, message="the arrow never reached the customer's screen"
    )
    # Normalized to the picture (letterbox excluded): the pixel centres the mouse went to.
    arrow = device.annotations.visible()[-1]
    assert arrow.points[0] == pytest.approx((300.5 / 1280, 600.5 / 800), abs=0.002)
    assert arrow.points[-1] == pytest.approx((900.5 / 1280, 600.5 / 800), abs=0.002)

    async def video_shows_arrow() -> bool:
        r, g, b = (await console.video_pixels(Rect(498, 598, 4, 4))).mean(axis=(0, 1))
        return bool(r > 180 and g < 120 and b < 120)

    await assert_eventually(video_shows_arrow, message="the arrow never came back in the video")
    await console.shot("05-arrow")

    async def preview_dropped() -> bool:
        # The local preview goes as soon as the video shows the mark (long before the 8 s fade).
        alpha: int = await page.evaluate(
            """([x, y]) => {
                const c = document.querySelector('#marks');
                const r = c.getBoundingClientRect();
                const k = c.width / r.width;
                return c.getContext('2d').getImageData((x - r.left) * k, (y - r.top) * k, 1, 1).data[3];
            }""",
            list(await console.page_point(500, 600)),
        )
        return alpha == 0

    await assert_eventually(preview_dropped, timeout=5, message="the local preview stayed")

    # Request control; the customer allows it on the tablet.
    await page.click(".control-button")
    await assert_eventually(lambda: "customer.allow" in tablet.elements())
    await page.wait_for_selector('.control-button[data-state="requested"]')
    await console.shot("06-control-requested")
    assert tablet.tap("customer.allow", origin="customer")
    await page.wait_for_selector('.control-button[data-state="granted"]')
    await page.wait_for_selector("#stage.mode-control")
    await console.shot("07-control-granted")

    # Click the Settings app, then the Bluetooth toggle, in the video.
    assert tablet.state()["current_app"] == "home"
    await console.click_tablet(tablet.elements()["app.settings"])
    await assert_eventually(lambda: tablet.state()["current_app"] == "settings")
    await assert_eventually(lambda: "settings.bluetooth_toggle" in tablet.elements())
    toggle = tablet.elements()["settings.bluetooth_toggle"]
    assert tablet.state()["bluetooth"] is False
    await console.click_tablet(toggle)
    await assert_eventually(lambda: tablet.state()["bluetooth"] is True)

    async def video_shows_settings() -> bool:
        shown = await console.video_pixels(toggle)
        expected = tablet.capture()[
            toggle.y : toggle.y + toggle.height, toggle.x : toggle.x + toggle.width
        ]
        return mean_error(shown, expected.astype(np.int16)) < 15

    await assert_eventually(video_shows_settings)
    await console.shot("08-bluetooth-on")

    # The customer stops control: the console leaves Control mode at once and says so.
    assert tablet.tap("customer.stop_control", origin="customer")
    await page.wait_for_selector('.control-button[data-state="revoked"]')
    await page.wait_for_selector("#stage.mode-annotate")
    assert "revoked" in (await console.text(".control-status")).lower()
    assert "took control back" in await console.text("#toasts")
    await console.shot("09-control-ended")
    applied = device.inputs_applied
    await console.click_tablet(toggle)
    await asyncio.sleep(0.5)
    assert tablet.state()["bluetooth"] is True, "a click after Stop control changed the device"
    assert device.inputs_applied == applied

    # The same session at 1920×1080: the picture grows with the window.
    small = await console.video_box()
    await page.set_viewport_size(LARGE)
    await page.wait_for_function(
        f"() => document.querySelector('#screen').getBoundingClientRect().width > {small['width']}"
    )
    await asyncio.sleep(0.3)
    await console.shot("10-session-1920")
    console.assert_clean()


async def test_chat_talk_and_notes(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    console, customer = await in_session(desk, open_console, tablets)
    page, device = console.page, customer.device
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def on_chat(data: dict[str, Any]) -> None:
        received.put_nowait(data)

    device.client.on(Event.CHAT_MESSAGE, on_chat)
    await page.fill(".chat-input", "Hello! Open Settings, please.")
    await page.press(".chat-input", "Enter")
    line = await asyncio.wait_for(received.get(), 10)
    assert (line["sender"], line["name"], line["text"]) == (
        "agent",
        "alice",
        "Hello! Open Settings, please.",
    )
    await page.wait_for_selector(".chat-line.from-agent")

    session = device.session
    assert session is not None
    reply = "<b>ok</b> <script>alert(2)</script>"
    await device.client.call(Event.CHAT_SEND, {"session_id": session["session_id"], "text": reply})
    await page.wait_for_selector(".chat-line.from-customer")
    assert await console.text(".from-customer .chat-text") == reply
    assert await console.text(".from-customer .chat-sender") == "Customer · kitchen tablet"
    assert await page.locator(".chat-list b, .chat-list script").count() == 0
    await console.shot("12-chat")

    await page.click("#tab-notes")
    await page.fill(".notes-text", "Customer could not find Bluetooth.")
    await page.wait_for_selector('.notes-status[data-kind="ok"]')

    async def notes_saved() -> bool:
        _, body = await desk.get(
            f"/api/sessions/{session['session_id']}", await desk.token("alice")
        )
        return bool(body.get("notes") == "Customer could not find Bluetooth.")

    await assert_eventually(notes_saved)

    # Talk: the microphone reaches the device, muted until the agent unmutes it (M); V shows
    # the camera as a tile there.
    await assert_eventually(
        lambda: device.peer is not None and device.peer.audio_frames > 10,
        message="the agent's microphone never reached the device",
    )
    await page.wait_for_selector('.mic-button[aria-pressed="true"]')
    assert await page.evaluate("() => window.mayday.session.media.mic.enabled") is False
    await page.click(".who")  # focus out of the notes: shortcuts work again
    await page.keyboard.press("m")
    await page.wait_for_selector('.mic-button[aria-pressed="false"]')
    assert await page.evaluate("() => window.mayday.session.media.mic.enabled") is True
    await page.keyboard.press("m")
    await page.wait_for_selector('.mic-button[aria-pressed="true"]')
    await page.keyboard.press("v")
    await page.wait_for_selector("#selfview:not([hidden])")
    await assert_eventually(
        lambda: device.peer is not None and device.peer.camera_frames > 3,
        message="the agent's camera never reached the device",
    )
    await console.shot("13-talk-camera")
    assert customer.tablet.tap("customer.pause", origin="customer")
    await page.wait_for_selector('.notice[data-key="paused"]')
    assert "paused screen sharing" in await console.text("#notices")
    assert customer.tablet.tap("customer.resume", origin="customer")
    await page.wait_for_selector('.notice[data-key="paused"]', state="detached")
    await page.keyboard.press("v")
    await page.wait_for_selector("#selfview", state="hidden")
    console.assert_clean()


async def test_ending_a_session_shows_its_timeline_then_the_wrap_up(
    make_desk: DeskFactory, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    desk = await make_desk(wrapup_s=300)
    console, customer = await in_session(desk, open_console, tablets)
    page, device = console.page, customer.device
    await page.fill(".chat-input", "Glad it works now.")
    await page.press(".chat-input", "Enter")
    await page.wait_for_selector(".chat-line.from-agent")

    # A reload in the middle of the session comes straight back into it, chat included.
    await page.reload()
    await page.wait_for_function(
        "() => document.querySelector('#screen').videoWidth > 0"
        " && document.querySelector('.stage-wait').hidden",
        timeout=20_000,
    )
    await page.wait_for_selector(".chat-line.from-agent")

    await page.click("#tab-timeline")
    await page.wait_for_selector(".session-timeline .timeline-item")
    assert "asked for help" in await console.text(".session-timeline")

    session = device.session
    assert session is not None
    await page.click(".end-button")
    await page.wait_for_selector(".end-menu:not([hidden])")
    await console.shot("16-end-menu")
    await page.click('.end-menu [data-reason="resolved"]')
    await asyncio.wait_for(device.ended.wait(), 10)
    await page.wait_for_selector("#wrapup:not([hidden])")
    await page.wait_for_function(
        "() => document.querySelector('.wrapup-timeline').textContent.includes('Session ended')"
    )
    timeline = await console.text(".wrapup-timeline")
    for expected in (
        "asked for help",
        "Ringing alice",
        "alice answered; connecting",
        "Video connected",
        "Glad it works now.",
        "Session ended by the agent: resolved",
    ):
        assert expected in timeline, expected
    assert (await console.text(".wrapup-summary")).startswith("Resolved")
    _, record = await desk.get(f"/api/sessions/{session['session_id']}", await desk.token("alice"))
    assert record["end_reason"] == "resolved"
    # Wrap-up: rings are held back (a customer who presses help now waits in the queue, no ring
    # card), the time left is shown, and the customer's rating and comment arrive as text.
    assert "No customers ring for" in await console.text(".wrapup-timer")
    rate = {"session_id": session["session_id"], "rating": 4, "comment": "<i>Quick</i> and kind"}
    assert await device.client.call(Event.SESSION_RATE, rate) == {"ok": True}
    await page.wait_for_selector(".wrapup-rating:not([hidden])")
    assert await page.get_attribute(".wrapup-stars", "aria-label") == "4 of 5 stars"
    assert await console.text(".wrapup-comment") == "“<i>Quick</i> and kind”"
    second = await tablets(desk, name="second tablet")
    second.tablet.tap("customer.help", origin="customer")
    take = page.locator(".queue-entry .queue-take")
    await take.wait_for()
    assert await page.locator("#ring").is_hidden(), "rung during the wrap-up"
    await console.shot("17-wrap-up")

    # The agent takes the waiting customer by hand: the wrap-up ends, the console is clean.
    await take.click()
    await page.wait_for_selector("#session:not([hidden])")
    await asyncio.wait_for(second.device.media_connected.wait(), 10)
    assert await page.locator(".chat-line").count() == 0, "the last customer's chat is still shown"
    assert await page.input_value(".notes-text") == ""
    console.assert_clean()
