"""The agent console (agent_web/) in a real Chromium, against a real server and a real device.

The device is a :class:`DeviceAgent` with a :class:`SimulatedTablet` in this process, so what the
console shows can be compared with what the tablet really shows, and what the agent does in the
browser (draw, click, type) can be checked on the tablet itself.

A screenshot of every step goes to test-artifacts/console/ (1366×768, plus the session at
1920×1080) for people to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from playwright.async_api import Browser, Page, ViewportSize, async_playwright

from device_agent import DeviceAgent
from device_agent.screens.base import Rect
from device_agent.screens.tablet import SimulatedTablet
from signaling import Event

from .browser import CHROMIUM, CHROMIUM_ARGS
from .conftest import AGENT_PASSWORD, Desk, DeskFactory
from .devices import registered_device
from .support import assert_eventually

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "console"
SMALL: ViewportSize = {"width": 1366, "height": 768}
LARGE: ViewportSize = {"width": 1920, "height": 1080}
TIMEOUT_MS = 15_000
XSS = "<img src=x onerror=alert(1)>"

Pixels = npt.NDArray[np.int16]


@pytest.fixture
def live_store() -> str | None:
    """The console is a client of the server; one live store (in memory) is enough here."""
    return None


@pytest.fixture
def chromium() -> str:
    """The system's Chromium: the tests fail (never skip) without it."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"Chromium is needed for the console tests but {CHROMIUM} is missing: "
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


@dataclass
class Console:
    """One agent's console page, with the few steps every test needs."""

    page: Page
    desk: Desk
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    async def sign_in(self, name: str) -> None:
        await self.page.fill("#signin-name", name)
        await self.page.fill("#signin-password", AGENT_PASSWORD)
        await self.page.click("#signin-submit")
        await self.page.wait_for_selector('#conn[data-state="connected"]', timeout=TIMEOUT_MS)

    async def set_presence(self, status: str) -> None:
        await self.page.click(f'#presence button[data-status="{status}"]')
        await self.page.wait_for_selector(f'#presence[data-status="{status}"]')

    async def wait_ring(self) -> None:
        await self.page.wait_for_selector("#ring:not([hidden])", timeout=TIMEOUT_MS)

    async def accept_and_watch(self) -> None:
        await self.page.click(".ring-accept")
        await self.page.wait_for_function(
            "() => document.querySelector('#screen').videoWidth > 0"
            " && document.querySelector('.stage-wait').hidden",
            timeout=20_000,
        )

    async def video_box(self) -> dict[str, float]:
        """The video element's box and the size of the picture it shows (once it shows one)."""
        await self.page.wait_for_function(
            "() => document.querySelector('#screen').videoWidth > 0", timeout=20_000
        )
        box: dict[str, float] = await self.page.evaluate(
            """() => {
                const v = document.querySelector('#screen');
                const r = v.getBoundingClientRect();
                return {left: r.left, top: r.top, width: r.width, height: r.height,
                        vw: v.videoWidth, vh: v.videoHeight};
            }"""
        )
        return box

    async def page_point(self, x: float, y: float) -> tuple[float, float]:
        """Tablet pixel → page coordinates, through the video's box and its letterbox bars.

        Deliberately computed here from scratch rather than with the console's own geometry, so
        the console's mapping is what is under test.
        """
        box = await self.video_box()
        scale = min(box["width"] / box["vw"], box["height"] / box["vh"])
        shown_w, shown_h = box["vw"] * scale, box["vh"] * scale
        left = box["left"] + (box["width"] - shown_w) / 2
        top = box["top"] + (box["height"] - shown_h) / 2
        return left + (x + 0.5) / box["vw"] * shown_w, top + (y + 0.5) / box["vh"] * shown_h

    async def click_tablet(self, rect: Rect) -> None:
        x, y = await self.page_point(rect.x + rect.width / 2, rect.y + rect.height / 2)
        await self.page.mouse.click(x, y)

    async def video_pixels(self, rect: Rect) -> Pixels:
        """What the <video> shows in a region of the tablet, drawn into a canvas in the page."""
        data: list[int] = await self.page.evaluate(
            """([x, y, w, h]) => {
                const v = document.querySelector('#screen');
                const c = document.createElement('canvas');
                c.width = v.videoWidth; c.height = v.videoHeight;
                const ctx = c.getContext('2d');
                ctx.drawImage(v, 0, 0);
                return Array.from(ctx.getImageData(x, y, w, h).data);
            }""",
            [rect.x, rect.y, rect.width, rect.height],
        )
        rgba = np.array(data, dtype=np.int16).reshape(rect.height, rect.width, 4)
        return rgba[..., :3]

    def assert_clean(self) -> None:
        """Nothing device-controlled ran as script, and the page threw no error."""
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.errors == [], f"errors in the page: {self.errors}"

    async def text(self, selector: str) -> str:
        return (await self.page.text_content(selector)) or ""

    async def record_notices(self) -> None:
        """Keep every notice shown over the video, even short-lived ones, in window.__notices."""
        await self.page.evaluate(
            """() => {
                window.__notices = [];
                const root = document.querySelector('#notices');
                new MutationObserver(() => {
                    for (const n of root.children) window.__notices.push(n.textContent);
                }).observe(root, {childList: true, subtree: true, characterData: true});
            }"""
        )

    async def notices_seen(self) -> str:
        seen: list[str] = await self.page.evaluate("() => window.__notices")
        return " | ".join(seen)


@dataclass
class Tablet:
    device: DeviceAgent
    tablet: SimulatedTablet


ConsoleFactory = Callable[..., Awaitable[Console]]
TabletFactory = Callable[..., Awaitable[Tablet]]


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


async def in_session(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory, name: str = "alice"
) -> tuple[Console, Tablet]:
    await desk.add_agent(name)
    console = await open_console(desk)
    await console.sign_in(name)
    await console.set_presence("available")
    customer = await tablets(desk)
    customer.tablet.tap("customer.help", origin="customer")
    await console.wait_ring()
    await console.accept_and_watch()
    await asyncio.wait_for(customer.device.media_connected.wait(), 10)
    return console, customer


def mean_error(a: Pixels, b: Pixels) -> float:
    return float(np.abs(a - b).mean())


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
    status, session = await desk.get(f"/api/sessions/{ticket['id']}", await desk.token("alice"))
    assert (status, session["state"]) == (200, "queued")
    await asyncio.sleep(0.3)
    assert await page.locator("#ring").is_hidden(), "a declined customer must not ring again"
    assert console.dialogs == [], "device text was run as markup"
    assert console.errors == []


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
    assert await console.text(".from-customer .chat-sender") == "kitchen tablet"
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

    # Talk: the microphone reaches the device; M mutes; V shows the camera as a tile there.
    await assert_eventually(
        lambda: device.peer is not None and device.peer.audio_frames > 10,
        message="the agent's microphone never reached the device",
    )
    await page.click(".who")  # focus out of the notes: shortcuts work again
    await page.keyboard.press("m")
    await page.wait_for_selector('.mic-button[aria-pressed="true"]')
    assert await page.evaluate("() => window.mayday.session.media.mic.enabled") is False
    await page.keyboard.press("m")
    await page.wait_for_selector('.mic-button[aria-pressed="false"]')
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


async def test_ending_a_session_shows_its_timeline(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
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
        "() => document.querySelector('.wrapup-timeline').textContent.includes('→ ended')"
    )
    timeline = await console.text(".wrapup-timeline")
    for expected in ("asked for help", "accepted", "Glad it works now.", "active → ended"):
        if expected == "accepted":
            expected = "ringing → connecting"
        assert expected in timeline, expected
    assert (await console.text(".wrapup-summary")).startswith("Resolved")
    _, record = await desk.get(f"/api/sessions/{session['session_id']}", await desk.token("alice"))
    assert record["end_reason"] == "resolved"
    await console.shot("17-wrap-up")
    await page.click(".wrapup-done")
    await page.wait_for_selector("#idle:not([hidden])")
    console.assert_clean()
