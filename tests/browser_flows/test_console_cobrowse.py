"""Co-browsing in the agent console: a web page's widget, faked here in Python, sends the page as
rrweb events over the ``cobrowse`` data channel (docs/cobrowse.md §2.1) and the console rebuilds it
in a sandboxed replay instead of a video (tests/browser_flows/console.py has the page helpers).

The fake customer is a device registered like the others, with an aiortc peer connection that
opens ``cobrowse`` and ``annotations`` in its offer, as the widget does, and sends hand-made but
valid rrweb events: a Meta and a FullSnapshot event of a small page, then changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from typing import Any

from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from ..conftest import Desk
from ..support import Client
from .console import XSS, Console, ConsoleFactory

FRAME_LIMIT = 16 * 1024
"""docs/cobrowse.md §2.1: frames are at most 16 KiB; longer events are cut into parts."""
CHUNK_CHARS = 6000
"""Characters of an event's JSON text per frame: once escaped again in the frame, well below 16 KiB."""

SHOP_URL = "https://shop.example/checkout?step=2"
SHOP_TITLE = "Checkout · Example Shop"
VIEWPORT = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
DOCUMENT_ID = 1
BODY_ID = 10
SHOP_CSS = (
    "body { margin: 0; font-family: sans-serif; background: rgb(255, 250, 240); color: #222; }"
    " header { background: rgb(15, 107, 92); color: #fff; padding: 18px 32px; }"
    " header h1 { margin: 0; font-size: 28px; color: rgb(255, 255, 255); }"
    " main { padding: 24px 32px; } .basket { font-size: 22px; }"
    " .tall { height: 3000px; background: linear-gradient(#fff, #cde); }"
)

# --- rrweb events, built as rrweb-snapshot serializes a page ---------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


def _text(node_id: int, text: str) -> dict[str, Any]:
    return {"type": 3, "textContent": text, "id": node_id}


def _element(
    node_id: int, tag: str, attributes: dict[str, Any] | None = None, *children: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": 2,
        "tagName": tag,
        "attributes": attributes or {},
        "childNodes": list(children),
        "id": node_id,
    }


def meta_event(viewport: dict[str, int] = VIEWPORT) -> dict[str, Any]:
    return {"type": 4, "data": {"href": SHOP_URL, **viewport}, "timestamp": now_ms()}


def full_snapshot(heading: str) -> dict[str, Any]:
    """A small checkout page: styles (a <style> and a style attribute), a script, an inline
    handler and a refresh that must never run, and a tall block so that it scrolls."""
    ids = itertools.count(100)
    head = _element(
        3,
        "head",
        {},
        _element(4, "title", {}, _text(5, SHOP_TITLE)),
        _element(6, "style", {"_cssText": SHOP_CSS}),
        _element(7, "script", {}, _text(8, "document.title = 'pwned'; alert('script ran')")),
        # A page that reloads itself must not take the replay away with it.
        _element(20, "meta", {"http-equiv": "refresh", "content": "0; url=/replay.html"}),
    )
    body = _element(
        BODY_ID,
        "body",
        {},
        _element(11, "header", {}, _element(12, "h1", {}, _text(13, heading))),
        _element(
            14,
            "main",
            {},
            _element(15, "p", {"class": "basket"}, _text(16, "Your basket: 3 items, 42.50 EUR")),
            _element(17, "p", {"style": "color: rgb(200, 30, 30)"}, _text(18, "Delivery: Tuesday")),
            _element(
                19,
                "img",
                {"src": "/missing.png", "alt": "", "onerror": "document.body.dataset.pwned = 1"},
            ),
            _element(next(ids), "div", {"class": "tall"}),
        ),
    )
    html = _element(2, "html", {"lang": "en"}, head, body)
    doctype = {"type": 1, "name": "html", "publicId": "", "systemId": "", "id": 9}
    return {
        "type": 2,
        "data": {
            "node": {"type": 0, "childNodes": [doctype, html], "id": DOCUMENT_ID},
            "initialOffset": {"left": 0, "top": 0},
        },
        "timestamp": now_ms(),
    }


def add_paragraph(node_id: int, text: str) -> dict[str, Any]:
    """An incremental snapshot (type 3) of source 0, Mutation: a <p> and its text node added."""
    return {
        "type": 3,
        "data": {
            "source": 0,
            "texts": [],
            "attributes": [],
            "removes": [],
            "adds": [
                {
                    "parentId": 14,
                    "nextId": None,
                    "node": _element(node_id, "p", {"class": "added"}),
                },
                {"parentId": node_id, "nextId": None, "node": _text(node_id + 1, text)},
            ],
        },
        "timestamp": now_ms(),
    }


def scroll_to(y: int) -> dict[str, Any]:
    """Source 3, Scroll, of the document."""
    return {
        "type": 3,
        "data": {"source": 3, "id": DOCUMENT_ID, "x": 0, "y": y},
        "timestamp": now_ms(),
    }


def mouse_at(x: int, y: int) -> dict[str, Any]:
    """Source 1, MouseMove: the customer's pointer."""
    positions = [{"x": x, "y": y, "id": BODY_ID, "timeOffset": 0}]
    return {"type": 3, "data": {"source": 1, "positions": positions}, "timestamp": now_ms()}


# --- the fake widget ---------------------------------------------------------------------------


class WebCustomer:
    """A customer on a web page: the widget's side of the session and its cobrowse channel."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.client: Client | None = None
        self.session: dict[str, Any] = {}
        self.pc: RTCPeerConnection | None = None
        self.cobrowse: RTCDataChannel | None = None
        self.opened = asyncio.Event()
        self.requests: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.frames_sent = 0
        self.seq = 0
        self._answered = False
        self._early: list[dict[str, Any]] = []
        self._ice: asyncio.Task[None] | None = None

    async def ask_help(self) -> None:
        self.client, _ = await self.desk.device("shop.example visitor")
        await self.client.call("help.request", {"topic": "checkout"})

    async def connect(self) -> None:
        """After the agent accepted: offer, as the widget does, and wait for the channel."""
        assert self.client is not None
        self.session = await self.client.next("session.started")
        self._ice = asyncio.ensure_future(self._relay_ice())
        await self.offer()

    async def offer(self) -> None:
        """A new peer connection (a first offer, or the page came back after a reload)."""
        assert self.client is not None
        if self.pc is not None:
            await self.pc.close()
        self.opened.clear()
        self._answered = False
        self._early = []
        self.seq = 0
        pc = RTCPeerConnection()
        self.pc = pc
        cobrowse = pc.createDataChannel("cobrowse")
        pc.createDataChannel("annotations")
        pc.addTransceiver("audio", direction="recvonly")  # for the agent's voice
        self.cobrowse = cobrowse
        cobrowse.on("open", self.opened.set)
        cobrowse.on("message", self._on_message)
        await pc.setLocalDescription(await pc.createOffer())
        session_id = self.session["session_id"]
        await self.client.call(
            "rtc.offer", {"session_id": session_id, "sdp": pc.localDescription.sdp}
        )
        answer = await self.client.next("rtc.answer")
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
        self._answered = True
        for candidate in self._early:
            await self._add_candidate(candidate)
        await asyncio.wait_for(self.opened.wait(), 15)

    def _on_message(self, message: str | bytes) -> None:
        self.requests.put_nowait(json.loads(message))

    async def _relay_ice(self) -> None:
        assert self.client is not None
        while True:
            data = await self.client.next("rtc.ice", timeout=3600)
            candidate = data.get("candidate")
            if not isinstance(candidate, dict):
                continue
            if self._answered:
                await self._add_candidate(candidate)
            else:
                self._early.append(candidate)

    async def _add_candidate(self, candidate: dict[str, Any]) -> None:
        line = str(candidate.get("candidate") or "")
        if not line or self.pc is None:
            return
        ice = candidate_from_sdp(line.removeprefix("candidate:"))
        ice.sdpMid = candidate.get("sdpMid")
        ice.sdpMLineIndex = candidate.get("sdpMLineIndex")
        with contextlib.suppress(Exception):
            await self.pc.addIceCandidate(ice)

    def send(self, message: dict[str, Any]) -> None:
        assert self.cobrowse is not None
        assert self.cobrowse.readyState == "open"
        frame = json.dumps(message)
        assert len(frame.encode()) <= FRAME_LIMIT, "a frame over 16 KiB"
        self.cobrowse.send(frame)
        self.frames_sent += 1

    def send_event(self, event: dict[str, Any], *, skip: int = 0) -> int:
        """One rrweb event, in parts if long; ``skip`` loses that many seq numbers first.
        Returns the number of frames it took."""
        self.seq += 1 + skip
        data = json.dumps(event)
        chunks = [data[i : i + CHUNK_CHARS] for i in range(0, len(data), CHUNK_CHARS)]
        for part, chunk in enumerate(chunks):
            self.send(
                {
                    "type": "event",
                    "seq": self.seq,
                    "part": part,
                    "parts": len(chunks),
                    "data": chunk,
                }
            )
        return len(chunks)

    def hello(self, viewport: dict[str, int]) -> None:
        self.send(
            {"type": "hello", "v": 1, "url": SHOP_URL, "title": SHOP_TITLE, "viewport": viewport}
        )

    def show_page(self, heading: str, viewport: dict[str, int] = VIEWPORT) -> None:
        """What the widget sends when its channel opens: hello, then a full snapshot."""
        self.hello(viewport)
        self.send_event(meta_event(viewport))
        self.send_event(full_snapshot(heading))

    async def next_request(self, timeout: float = 10) -> dict[str, Any]:
        return await asyncio.wait_for(self.requests.get(), timeout)

    async def close(self) -> None:
        if self._ice is not None:
            self._ice.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ice
        if self.pc is not None:
            await self.pc.close()


# --- the console's side -----------------------------------------------------------------------

MIRROR_TEXT = "() => window.mayday.cobrowse.replay.document?.body?.textContent ?? ''"


async def mirror_shows(console: Console, text: str, timeout: float = 10) -> None:
    """The replay (rrweb's iframe in the host frame on the stage) shows ``text``."""
    mirror = console.page.frame_locator("#stage iframe.replay-host").frame_locator("iframe")
    await mirror.get_by_text(text).first.wait_for(state="visible", timeout=timeout * 1000)


async def mirror_eval(console: Console, script: str) -> Any:
    """Run ``script`` (a function of the mirrored document) from the console's own page: nothing
    can run inside the sandboxed replay itself."""
    return await console.page.evaluate(f"() => ({script})(window.mayday.cobrowse.replay.document)")


async def test_a_web_page_is_mirrored_live_in_a_sandboxed_replay(
    desk: Desk, open_console: ConsoleFactory
) -> None:
    await desk.add_agent("alice")
    console = await open_console(desk)
    page = console.page
    await console.sign_in("alice")
    await console.set_presence("available")

    customer = WebCustomer(desk)
    try:
        await customer.ask_help()
        await console.wait_ring()
        await page.click(".ring-accept")
        await customer.connect()

        # The channel is open: hello and the page's first snapshot.
        customer.show_page("Example Shop")
        customer.send_event(mouse_at(640, 330))
        await mirror_shows(console, "Your basket: 3 items")
        await page.wait_for_selector(".stage-wait", state="hidden")
        await page.wait_for_selector("iframe.replay-host:not([hidden])")

        # What it is, where the customer is, at which size: text in the bar.
        assert await console.text(".who-kind") == "Web page"
        assert await console.text(".page-title") == SHOP_TITLE
        assert await console.text(".page-url") == SHOP_URL
        assert await console.text(".page-viewport") == "1280 × 720"
        assert await page.get_attribute("#session", "data-kind") == "web"
        assert await page.is_hidden("#screen") or await page.evaluate(
            "() => getComputedStyle(document.querySelector('#screen')).visibility === 'hidden'"
        )
        # A web page can be controlled too, with the customer's consent (test_cobrowse_control.py).
        assert not await page.is_disabled(".control-button")
        assert "coming" not in (await page.get_attribute(".control-button", "title") or "")

        # The page's own styles apply in the replay: its <style> and its style attribute.
        colours = await mirror_eval(
            console,
            """doc => [getComputedStyle(doc.querySelector('header')).backgroundColor,
                       getComputedStyle(doc.querySelectorAll('main p')[1]).color]""",
        )
        assert colours == ["rgb(15, 107, 92)", "rgb(200, 30, 30)"]

        # Sandboxed, both the host frame and rrweb's: no allow-scripts, and nothing ran.
        sandboxes = await page.evaluate(
            """() => {
                const host = document.querySelector('#stage iframe.replay-host');
                const inner = host.contentDocument.querySelector('iframe');
                return [host.getAttribute('sandbox'), inner.getAttribute('sandbox'),
                        inner === window.mayday.cobrowse.replay.replayer.iframe];
            }"""
        )
        assert sandboxes == ["allow-same-origin", "allow-same-origin", True]
        ran = await mirror_eval(
            console,
            "doc => [doc.title, doc.body.dataset.pwned ?? null, doc.querySelectorAll('script').length]",
        )
        assert ran == [SHOP_TITLE, None, 0]
        # The mirror has the host's policy (replay.html), not the console's: its styles loaded
        # above; a frame of its own is refused (frame-src 'none').
        violated = await mirror_eval(
            console,
            """doc => new Promise(resolve => {
                const frame = doc.createElement('iframe');
                const done = directive => { frame.remove(); resolve(directive); };
                doc.addEventListener('securitypolicyviolation',
                                     e => done(e.effectiveDirective), {once: true});
                setTimeout(() => done(null), 3000);
                frame.src = '/replay.html';
                doc.body.append(frame);
            })""",
        )
        assert violated == "frame-src"

        # Letterboxed like the video: the page's 16:9 is scaled to the stage's width, centred.
        fit = await page.evaluate(
            """() => {
                const s = document.querySelector('#stage').getBoundingClientRect();
                const r = document.querySelector('iframe.replay-host').getBoundingClientRect();
                return {sw: s.width, sh: s.height, left: r.left - s.left, top: r.top - s.top,
                        width: r.width, height: r.height};
            }"""
        )
        assert abs(fit["width"] - fit["sw"]) < 1
        assert abs(fit["height"] - fit["sw"] * 720 / 1280) < 1
        assert abs(fit["top"] - (fit["sh"] - fit["height"]) / 2) < 1
        assert fit["left"] == 0
        await console.shot("18-cobrowse-page")

        # A change: a paragraph added.
        customer.send_event(add_paragraph(200, "Coupon SPRING applied"))
        await mirror_shows(console, "Coupon SPRING applied")

        # An event over 16 KiB arrives in parts and still applies.
        long_text = "Terms of sale. " + "Every order is shipped within two days. " * 800
        assert customer.send_event(add_paragraph(210, long_text)) > 2
        await mirror_shows(console, "Every order is shipped within two days. " * 3)

        # The customer scrolls: so does the replay.
        customer.send_event(scroll_to(400))
        await console.page.wait_for_function(
            "() => window.mayday.cobrowse.replay.document.defaultView.scrollY === 400"
        )

        # An event goes missing: the console asks for a snapshot and ignores changes until then.
        assert customer.requests.empty()
        customer.send_event(add_paragraph(220, "Lost change"), skip=1)
        assert await customer.next_request() == {"type": "snapshot"}
        customer.send_event(meta_event())
        customer.send_event(full_snapshot("Example Shop, again"))
        await mirror_shows(console, "Example Shop, again")
        assert "Lost change" not in await page.evaluate(MIRROR_TEXT)

        # The page's title changes (text only, never markup); then the customer leaves the page.
        customer.send(
            {"type": "page", "url": SHOP_URL + "&paid=1", "title": XSS, "viewport": VIEWPORT}
        )
        await page.wait_for_function(
            "xss => document.querySelector('.page-title').textContent === xss", arg=XSS
        )
        assert await page.locator(".page-bar img").count() == 0
        customer.send({"type": "leaving", "reason": "navigation"})
        await page.wait_for_function(
            "() => document.querySelector('#notices').textContent"
            ".includes('The customer is leaving the page')"
        )
        await console.shot("19-cobrowse-leaving")

        # The next page resumes the session on a new connection: the console asks for a snapshot.
        # This time the customer is on a phone: the page is as tall as the stage, bars beside it.
        await customer.offer()
        assert await customer.next_request() == {"type": "snapshot"}
        customer.show_page("Thank you for your order", PHONE)
        await mirror_shows(console, "Thank you for your order")
        await page.wait_for_function(
            "() => !document.querySelector('#notices').textContent.includes('leaving')"
        )
        assert await console.text(".page-title") == SHOP_TITLE
        assert await console.text(".page-viewport") == "390 × 844"
        await page.wait_for_function(
            """() => {
                const s = document.querySelector('#stage').getBoundingClientRect();
                const r = document.querySelector('iframe.replay-host').getBoundingClientRect();
                return Math.abs(r.height - s.height) < 1 && Math.abs(r.width - s.height * 390 / 844) < 1
                    && Math.abs((r.left - s.left) - (s.width - r.width) / 2) < 1;
            }"""
        )
        await console.shot("20-cobrowse-phone")

        # The bar's readout: what arrives over the data channels, and the round trip.
        await page.wait_for_function(
            "() => /page · [\\d.]+ kbit\\/s/.test(document.querySelector('.quality-rate').textContent)"
        )

        # What a benchmark reads.
        stats = await page.evaluate("() => window.mayday.cobrowse.stats")
        assert stats["firstPaintAt"] >= stats["firstSnapshotAt"] >= stats["channelOpenAt"] > 0
        assert stats["gaps"] >= 1
        assert stats["snapshotRequests"] >= 2
        assert stats["snapshots"] == 3

        # The end: the replay goes with the session.
        await page.click(".end-button")
        await page.click('.end-menu [data-reason="resolved"]')
        await page.wait_for_selector("#wrapup:not([hidden])")
        assert await page.locator("iframe.replay-host").count() == 0
        assert await page.get_attribute("#session", "data-kind") is None
        assert not await page.is_disabled(".control-button")
        console.assert_clean()
    finally:
        await customer.close()
