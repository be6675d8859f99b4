"""The local customer's-view page: live JPEG frames, customer input, untrusted messages, a real browser."""

from __future__ import annotations

import asyncio
import html
import io
import json
import re
import statistics
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import numpy as np
import pytest
from PIL import Image

from device_agent import i18n
from device_agent.preview import MAX_MESSAGE_BYTES, PreviewServer
from device_agent.preview.page import SCRIPT, SCRIPT_HASH
from device_agent.screens.base import InputEvent, Key, Rect, Tap
from device_agent.screens.tablet import CustomerAction, SimulatedTablet
from device_agent.voice import Voice

from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

FRAMES_AFTER = "(n) => window.__preview !== undefined && window.__preview.frames > n"
"""A predicate for Playwright; a function, since the page's CSP forbids eval of strings."""
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def fixed_clock() -> time.struct_time:
    return time.struct_time((2026, 11, 24, 10, 42, 0, 1, 328, 0))


class Customer:
    """The tablet, what reached it through the preview, and what its customer controls reported."""

    def __init__(self) -> None:
        self.actions: list[tuple[CustomerAction, int | str | None]] = []
        self.events: list[InputEvent] = []
        self.tablet = SimulatedTablet(on_customer_action=self._on_action, clock=fixed_clock)

    def _on_action(self, action: CustomerAction, value: int | str | None) -> None:
        self.actions.append((action, value))

    def inject(self, event: InputEvent) -> None:
        self.events.append(event)
        self.tablet.inject(event, origin="customer")


@pytest.fixture
def customer() -> Customer:
    return Customer()


@pytest.fixture
async def preview(customer: Customer) -> AsyncIterator[PreviewServer]:
    tablet = customer.tablet
    server = PreviewServer(
        render=tablet.capture,
        inject=customer.inject,
        revision=lambda: tablet.revision,
        size=tablet.size,
        title="Test tablet",
    )
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def url_of(server: PreviewServer) -> str:
    assert server.url is not None
    return server.url


def origin_of(server: PreviewServer) -> str:
    return url_of(server).rstrip("/")


async def next_frame(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> bytes:
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.BINARY:
                data: bytes = message.data
                return data
            assert message.type is aiohttp.WSMsgType.TEXT, message


@pytest.fixture
async def ws(
    preview: PreviewServer, http: aiohttp.ClientSession
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """The preview's socket, opened from the page's own origin, once its first frame is in."""
    async with http.ws_connect(url_of(preview) + "ws", origin=origin_of(preview)) as socket:
        await next_frame(socket)
        yield socket


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def centre(rect: Rect) -> tuple[int, int]:
    return rect.x + rect.width // 2, rect.y + rect.height // 2


async def test_socket_sends_hello_then_jpeg_frames_of_the_screen(
    preview: PreviewServer, customer: Customer, http: aiohttp.ClientSession
) -> None:
    async with http.ws_connect(url_of(preview) + "ws", origin=origin_of(preview)) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello == {"type": "hello", "width": 1280, "height": 800, "title": "Test tablet"}
        jpeg = await next_frame(ws)
    assert jpeg[:3] == b"\xff\xd8\xff"
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG"
    assert image.size == customer.tablet.size
    shown = np.asarray(image.convert("RGB"), dtype=np.int16)
    truth = customer.tablet.capture().astype(np.int16)
    assert np.abs(shown - truth).mean() < 4.0  # JPEG at quality 80: close, not exact


async def test_page_is_self_contained_and_locked_down(
    preview: PreviewServer, http: aiohttp.ClientSession
) -> None:
    async with http.get(url_of(preview)) as response:
        assert response.status == 200
        page = await response.text()
        csp = response.headers["Content-Security-Policy"]
    assert "<canvas" in page
    assert "Test tablet" in page
    assert "http://" not in page  # nothing fetched from elsewhere
    assert "https://" not in page
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


def lang_preview(
    customer: Customer, locale: str | None, title: str = "Test tablet"
) -> PreviewServer:
    tablet = customer.tablet
    return PreviewServer(
        render=tablet.capture,
        inject=customer.inject,
        revision=lambda: tablet.revision,
        size=tablet.size,
        title=title,
        voice=Voice(),
        locale=locale,
    )


async def test_page_speaks_the_devices_language(
    customer: Customer, http: aiohttp.ClientSession
) -> None:
    """``<html lang>``, the page's words and the script's later words in the device's language,
    all escaped, the script untouched (its CSP hash is the one the server sends); an unknown
    locale falls back to English."""
    title = 'Küche <b>&"1"</b>'
    for locale, lang in [("de-DE", "de"), ("tr", "tr"), ("fr-FR", "en"), (None, "en")]:
        server = lang_preview(customer, locale, title)
        url = await server.start()
        try:
            async with http.get(url) as response:
                page = await response.text()
                csp = response.headers["Content-Security-Policy"]
        finally:
            await server.stop()
        assert f'<html lang="{lang}">' in page
        assert f"'{SCRIPT_HASH}'" in csp
        assert f"<script>{SCRIPT}</script>" in page
        assert "<b>&" not in page  # the title is text, not markup
        wanted = i18n.text(lang, "preview_title", title=title)
        assert f"<title>{html.escape(wanted)}</title>" in page
        for key in ("preview_caption", "preview_sound_ask", "preview_mic_off", "connecting"):
            assert f">{html.escape(i18n.text(lang, key))}<" in page, (lang, key)
        label = html.escape(i18n.text(lang, "preview_screen_label"))
        assert f'aria-label="{label}"' in page
        found = re.search(r'data-texts="([^"]*)"', page)
        assert found is not None
        texts = json.loads(html.unescape(found.group(1)))
        assert texts["live"] == i18n.text(lang, "preview_live")
        assert texts["micOn"] == i18n.text(lang, "preview_mic_on")
        assert texts["micUnavailable"] == i18n.text(
            lang, "preview_mic_unavailable", error="{error}"
        )
        assert "{error}" in texts["micUnavailable"]
        if lang != "en":  # no English words outside the script (its comments quote some)
            words = page.replace(SCRIPT, "")
            assert "customer's view" not in words
            assert "Tap to hear the agent" not in words
            assert "Microphone" not in words


async def test_tap_on_help_reaches_the_customer_controls(
    customer: Customer, ws: aiohttp.ClientWebSocketResponse
) -> None:
    x, y = centre(customer.tablet.elements()["customer.help"])
    await ws.send_json({"type": "tap", "x": x, "y": y})
    await eventually(lambda: bool(customer.actions))
    assert customer.actions == [("help", None)]
    assert customer.events == [Tap(x, y)]


BAD_MESSAGES: list[str | bytes] = [
    "not json",
    "",
    "[1, 2]",
    "null",
    '{"type": "warp"}',
    '{"x": 10, "y": 10}',
    '{"type": "tap", "x": "10", "y": 10}',
    '{"type": "tap", "x": 10.5, "y": 10}',
    '{"type": "tap", "x": true, "y": 10}',
    '{"type": "tap", "x": -1, "y": 10}',
    '{"type": "tap", "x": 1280, "y": 10}',
    '{"type": "tap", "x": 10, "y": 800}',
    '{"type": "tap", "x": 10, "y": 1e400}',
    '{"type": "tap", "x": 10, "y": 10, "extra": 1}',
    '{"type": "tap", "x": 10}',
    '{"type": "drag", "x0": 0, "y0": 0, "x1": 99999, "y1": 0}',
    '{"type": "scroll", "x": 600, "y": 500, "dx": 0, "dy": 1000000000}',
    '{"type": "scroll", "x": 600, "y": 500, "dx": 0, "dy": 0}',
    '{"type": "key", "key": "F13"}',
    '{"type": "key", "key": ["Enter"]}',
    '{"type": "text", "text": ""}',
    '{"type": "text", "text": 42}',
    '{"type": "text", "text": "a\\u0000b"}',
    '{"type": "text", "text": "\\ud800"}',
    json.dumps({"type": "text", "text": "x" * 20_000}),  # huge, but under the message limit
    "[" * 40_000,  # deep nesting: a RecursionError inside json, not a crash
    b"\x00\x01binary",
]


async def test_malformed_messages_are_ignored_and_the_socket_stays_usable(
    preview: PreviewServer, customer: Customer, ws: aiohttp.ClientWebSocketResponse
) -> None:
    x, y = centre(customer.tablet.elements()["app.settings"])
    for message in BAD_MESSAGES:
        if isinstance(message, bytes):
            await ws.send_bytes(message)
        else:
            await ws.send_str(message)
    await ws.send_json({"type": "tap", "x": x, "y": y})
    await next_frame(ws, timeout=1.0)  # the tap's result, well before any keep-alive
    assert not ws.closed
    assert customer.events == [Tap(x, y)]  # nothing bad reached the tablet
    assert customer.tablet.state()["current_app"] == "settings"
    assert preview.bad_messages == len(BAD_MESSAGES)


async def test_frames_are_encoded_once_per_change_and_shared(
    preview: PreviewServer, customer: Customer, http: aiohttp.ClientSession
) -> None:
    url, origin = url_of(preview) + "ws", origin_of(preview)
    async with (
        http.ws_connect(url, origin=origin) as first,
        http.ws_connect(url, origin=origin) as second,
    ):
        one, two = await next_frame(first), await next_frame(second)
        assert one == two
        assert preview.frames_encoded == 1
        with pytest.raises(TimeoutError):  # nothing changed: nothing sent
            await next_frame(first, timeout=0.3)
        await asyncio.to_thread(customer.tablet.tap, "app.mail", "customer")
        one, two = await next_frame(first), await next_frame(second)
        assert one == two
        assert preview.frames_encoded == 2


async def test_oversized_message_closes_only_that_socket(
    preview: PreviewServer, customer: Customer, http: aiohttp.ClientSession
) -> None:
    url, origin = url_of(preview) + "ws", origin_of(preview)
    async with http.ws_connect(url, origin=origin) as ws:
        await next_frame(ws)
        await ws.send_str(json.dumps({"type": "text", "text": "x" * MAX_MESSAGE_BYTES}))
        async with asyncio.timeout(5):
            while (await ws.receive()).type not in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
            ):
                pass
        assert ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
    async with http.ws_connect(url, origin=origin) as ws:
        await next_frame(ws)
        await ws.send_json({"type": "key", "key": "Escape"})
        await eventually(lambda: customer.events == [Key("Escape")])


async def test_foreign_origin_and_foreign_host_are_refused(
    preview: PreviewServer, http: aiohttp.ClientSession
) -> None:
    url = url_of(preview)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await http.ws_connect(url + "ws", origin="http://evil.example")
    assert refused.value.status == 403
    port = url.rstrip("/").rsplit(":", 1)[1]
    with pytest.raises(aiohttp.WSServerHandshakeError) as wrong_port:
        await http.ws_connect(url + "ws", origin="http://127.0.0.1:1")
    assert wrong_port.value.status == 403
    # DNS rebinding: a page from a name that resolves to 127.0.0.1 names itself in Host.
    rebound = {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"}
    with pytest.raises(aiohttp.WSServerHandshakeError) as rebinding:
        await http.ws_connect(url + "ws", headers=rebound)
    assert rebinding.value.status == 421
    async with http.get(url, headers={"Host": f"evil.example:{port}"}) as response:
        assert response.status == 421
    async with http.get(url, headers={"Host": f"localhost:{port}"}) as response:
        assert response.status == 200


async def test_listens_on_loopback_by_default(preview: PreviewServer) -> None:
    assert url_of(preview).startswith("http://127.0.0.1:")


async def test_real_browser_shows_the_screen_and_clicks_as_the_customer(
    preview: PreviewServer, customer: Customer
) -> None:
    require_chromium()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("Playwright is missing: `.venv/bin/pip install -e '.[dev]'` installs it.")

    tablet = customer.tablet
    width, height = tablet.size
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1366, "height": 768})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on(
                "console",
                lambda msg: errors.append(msg.text) if msg.type == "error" else None,
            )
            await page.goto(url_of(preview))
            await page.wait_for_function(FRAMES_AFTER, arg=0)

            # Letterboxed: undistorted, centred, as large as the window allows.
            box = await page.locator("#screen").bounding_box()
            assert box is not None
            scale = box["width"] / width
            assert box["height"] / height == pytest.approx(scale, rel=0.01)
            assert box["x"] == pytest.approx((1366 - box["width"]) / 2, abs=1)
            assert box["x"] > 50  # bars left and right at 1366×768 (wider than 16:10)
            assert box["y"] >= 0
            assert box["y"] + box["height"] <= 768

            def page_point(x: float, y: float) -> tuple[float, float]:
                return box["x"] + (x + 0.5) * scale, box["y"] + (y + 0.5) * scale

            # Latency: a change on the device until the page has drawn the new frame.
            latencies = []
            for step in range(8):
                before = await page.evaluate("window.__preview.frames")
                if step % 2 == 0:
                    await asyncio.to_thread(tablet.tap, "app.books", "customer")
                else:
                    await asyncio.to_thread(tablet.inject, Key("Escape"), "customer")
                changed_at = time.time()
                await page.wait_for_function(FRAMES_AFTER, arg=before)
                shown_at = await page.evaluate("window.__preview.shownAt") / 1000
                latencies.append(shown_at - changed_at)
            median_ms = statistics.median(latencies) * 1000
            print(f"\npreview latency, revision change to frame drawn: median {median_ms:.0f} ms")
            assert tablet.state()["current_app"] == "home"
            assert median_ms < 500

            # A click on the letterbox bar is not a tap.
            applied = preview.inputs_applied
            await page.mouse.click(box["x"] / 2, box["y"] + box["height"] / 2)
            await asyncio.sleep(0.2)
            assert preview.inputs_applied == applied

            frames = await page.evaluate("window.__preview.frames")
            x, y = centre(tablet.elements()["app.settings"])
            await page.mouse.click(*page_point(x, y))
            await eventually(lambda: tablet.state()["current_app"] == "settings")
            assert customer.events[-1] == Tap(x, y)
            await page.wait_for_function(FRAMES_AFTER, arg=frames)
            await page.wait_for_timeout(50)

            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "preview.png"))

            # Press, move, release: a drag (the brightness slider, from 90 % down to the left).
            slider = tablet.elements()["settings.brightness_slider"]
            await page.mouse.move(*page_point(slider.x + slider.width * 0.9, centre(slider)[1]))
            await page.mouse.down()
            await page.mouse.move(*page_point(slider.x + 100, centre(slider)[1]), steps=5)
            await page.mouse.up()
            await eventually(lambda: tablet.state()["brightness"] < 50)

            # The wheel scrolls the Bluetooth list under the pointer.
            await page.mouse.click(
                *page_point(*centre(tablet.elements()["settings.bluetooth_toggle"]))
            )
            await eventually(lambda: "settings.bluetooth_list" in tablet.elements())
            await page.mouse.move(
                *page_point(*centre(tablet.elements()["settings.bluetooth_list"]))
            )
            await page.mouse.wheel(0, 120)
            await eventually(lambda: tablet.state()["scroll_offset"] > 0)

            # Named keys and typed text: Escape goes home, then sign in with the keyboard.
            await page.keyboard.press("Escape")
            await eventually(lambda: tablet.state()["current_app"] == "home")
            await page.mouse.click(*page_point(*centre(tablet.elements()["app.signin"])))
            await eventually(lambda: "signin.email" in tablet.elements())
            await page.mouse.click(*page_point(*centre(tablet.elements()["signin.email"])))
            await eventually(lambda: tablet.state()["focused_field"] == "email")
            await page.keyboard.type("ana@example.org")
            await page.keyboard.press("Backspace")
            await page.keyboard.press("Tab")
            await page.keyboard.type("pw 1")
            await page.keyboard.press("Enter")
            await eventually(lambda: tablet.state()["signed_in_as"] == "ana@example.or")
            assert errors == []
        finally:
            await browser.close()


LIVE = "(text) => document.getElementById('status').textContent === text"
SHOWN = "() => !document.getElementById('voice').hidden"


async def test_real_browser_shows_the_page_in_the_devices_language(customer: Customer) -> None:
    """Polish: the words the script writes once connected (live, the voice row, Sound on) are the
    catalogue's, and the document says which language it is in."""
    require_chromium()
    from playwright.async_api import async_playwright

    server = lang_preview(customer, "pl-PL", "Tablet w kuchni")
    assert server.voice is not None
    server.voice.set_in_session(True)
    url = await server.start()
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1366, "height": 768})
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                await page.goto(url)
                await page.wait_for_function(LIVE, arg=i18n.text("pl", "preview_live"))
                await page.wait_for_function(SHOWN)
                assert await page.get_attribute("html", "lang") == "pl"
                assert await page.title() == "Tablet w kuchni – widok klienta"
                assert await page.inner_text("#mic") == i18n.text("pl", "preview_mic_off")
                assert await page.inner_text("#sound") == i18n.text("pl", "preview_sound_ask")
                await page.click("#sound")
                assert await page.inner_text("#sound") == i18n.text("pl", "preview_sound_on")
                label = await page.get_attribute("#screen", "aria-label")
                assert label == i18n.text("pl", "preview_screen_label")
                assert errors == []
            finally:
                await browser.close()
    finally:
        await server.stop()


def test_voice_messages_are_checked_like_input() -> None:
    """The page's voice messages: ``listen`` with exactly a boolean, microphone PCM of whole
    16-bit samples up to 250 ms; anything else is a bad message."""
    from device_agent.preview import MAX_MIC_SAMPLES, BadMessage
    from device_agent.preview.messages import Listen, parse_microphone, parse_page_message

    assert parse_page_message('{"type": "listen", "on": true}', (10, 10)) == Listen(True)
    assert parse_page_message('{"type": "tap", "x": 1, "y": 2}', (10, 10)) == Tap(1, 2)
    for bad in (
        '{"type": "listen", "on": 1}',
        '{"type": "listen"}',
        '{"type": "listen", "on": true, "x": 1}',
    ):
        with pytest.raises(BadMessage):
            parse_page_message(bad, (10, 10))
    assert parse_microphone(b"\x01\x00\xff\xff").tolist() == [1, -1]
    for raw in (b"", b"\x00", bytes(2 * MAX_MIC_SAMPLES + 2)):
        with pytest.raises(BadMessage):
            parse_microphone(raw)
