"""Helpers for the web widget's browser tests: the built widget, a shop on another origin, the
customer's page, and an agent that reads the ``cobrowse`` channel.

A shop page is served by a second aiohttp server on another port, so it is another origin than
the support server, as on a real site, and it has a strict Content-Security-Policy (no inline
script or style). The agent is a python-socketio client with an aiortc peer that answers the
widget's offer and reads the ``cobrowse`` channel the way the console does: frames joined into
rrweb events (docs/cobrowse.md §2.1).

The flows are slow (a browser, WebRTC), so they run once, with the live state in memory, like
the console's tests: the fixtures (``built_widget``, ``make_shop``, ``open_customer``,
``agent_peers``, and the ``live_store`` override) are in this directory's conftest.py.
Screenshots go to test-artifacts/widget/ for people to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp
from playwright.async_api import Page, Request, ViewportSize, WebSocket

from server.appkeys import ORIGINS, RECORDS

from ..conftest import Desk
from ..support import Client, assert_eventually

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "widget"
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}
SECRETS = {
    "#card": "4111 1111 1111 1111",
    "#password": "hunter2-Secret",
    "#name": "Erika Mustermann",
}
UNMASKED = ("#coupon", "SAVE10-COUPON")
HIDDEN_TEXTS = ("Loyalty number 7731-5521", "Blocked promo 9921")


# --- the customer's site ------------------------------------------------------------------------

SHOP_CSS = """
body { font: 16px/1.5 Georgia, serif; margin: 0; padding: 24px; background: #fdfaf3; color: #222; }
/* A hostile page: its rules must not reach the widget. */
button { background: hotpink !important; font-size: 9px !important; border-radius: 0 !important; }
* { letter-spacing: 3px; }
main { max-width: 640px; }
label { display: block; margin-top: 12px; }
input { font: inherit; padding: 6px; width: 100%; max-width: 360px; }
"""

SHOP_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src {support}; \
style-src 'self'; connect-src {support} {support_ws}; img-src 'self' data:">
<title>{title}</title>
<link rel="stylesheet" href="/shop.css">
</head>
<body>
<main>
<h1>Blue kettle checkout</h1>
<p>Your basket: one blue kettle with a whistle, 1.7 litres.</p>
<label>Name <input id="name" autocomplete="name"></label>
<label>Card number <input id="card" autocomplete="cc-number"></label>
<label>Password <input id="password" type="password"></label>
<label>Coupon <input id="coupon" data-mayday-unmask></label>
<p data-mayday-mask>Loyalty number 7731-5521</p>
<div data-mayday-block><p>Blocked promo 9921</p></div>
<p><a id="next" href="/?step=2">Continue to delivery</a></p>
<div id="more"></div>
</main>
<script src="{support}/widget.js" data-site-key="{key}" async></script>
</body>
</html>
"""


@dataclass
class Shop:
    """The customer's site: one page embedding the widget, on its own origin."""

    server: TestServer
    key: str = ""
    lang: str = "en"
    support: str = ""

    @property
    def origin(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def page(self, request: web.Request) -> web.Response:
        step = request.query.get("step", "1")
        html = SHOP_PAGE.format(
            lang=self.lang,
            title=f"Kettle shop – step {step}",
            support=self.support,
            support_ws=self.support.replace("http://", "ws://"),
            key=self.key,
        )
        return web.Response(text=html, content_type="text/html")


async def shop_css(_request: web.Request) -> web.Response:
    return web.Response(text=SHOP_CSS, content_type="text/css")


async def add_site(desk: Desk, shop: Shop) -> None:
    """Register the shop's origin as a site (as `mayday sites add` does) and wait till it counts."""
    row = await desk.app[RECORDS].add_site("kettle-shop", [shop.origin])
    shop.key = row.key
    await assert_eventually(
        lambda: desk.app[ORIGINS].site_allows(shop.origin), message="the site never counted"
    )


# --- the customer's browser ---------------------------------------------------------------------


@dataclass
class Customer:
    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    """Everything the page sent to the network outside WebRTC: every websocket frame (the
    signaling socket) and every request body, so a test can prove what never left the page."""

    def _websocket(self, socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: self.sent.append(_text(payload)))

    def _request(self, request: Request) -> None:
        body = request.post_data_buffer
        if body:
            self.sent.append(body.decode("utf-8", "replace"))

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        # caret="initial": hiding the caret would inject a <style> the page's CSP refuses.
        await self.page.screenshot(
            path=str(ARTIFACTS / f"{name}.png"), caret="initial", animations="disabled"
        )

    async def phase(self, *phases: str) -> None:
        await self.page.wait_for_function(
            "phases => phases.includes(document.querySelector('mayday-help')?.dataset.phase)",
            arg=list(phases),
        )

    async def status(self) -> str:
        return await self.page.locator("mayday-help .status").inner_text()

    async def press(self, selector: str) -> None:
        """Activate a widget button from the keyboard: focus it, then Enter."""
        await self.page.locator(f"mayday-help {selector}").focus()
        await self.page.keyboard.press("Enter")

    def assert_clean(self) -> None:
        csp = [line for line in self.console if "Content Security Policy" in line]
        assert csp == [], f"the page's CSP refused something: {csp}"
        assert self.errors == [], f"errors in the page: {self.errors}"


def _text(payload: str | bytes) -> str:
    return payload if isinstance(payload, str) else payload.decode("utf-8", "replace")


# --- the agent's side of the cobrowse channel ---------------------------------------------------


class Mirror:
    """What the console receives on one `cobrowse` channel: frames, messages, joined events."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.texts: list[str] = []
        """Each event's joined JSON text, as sent (the masking checks read these)."""
        self.parts: dict[int, int] = {}
        """How many frames each event came in, by seq."""
        self.channel: RTCDataChannel | None = None
        self._pending: dict[int, list[str | None]] = {}
        self._changed = asyncio.Event()

    def attach(self, channel: RTCDataChannel) -> None:
        self.channel = channel
        channel.on("message", self._receive)

    def send(self, message: dict[str, Any]) -> None:
        assert self.channel is not None
        self.channel.send(json.dumps(message))

    def _receive(self, raw: str | bytes) -> None:
        assert isinstance(raw, str), "cobrowse frames are text"
        self.frames.append(raw)
        message = json.loads(raw)
        if message["type"] == "event":
            parts = self._pending.setdefault(message["seq"], [None] * message["parts"])
            parts[message["part"]] = message["data"]
            if all(part is not None for part in parts):
                del self._pending[message["seq"]]
                text = "".join(part for part in parts if part is not None)
                self.parts[message["seq"]] = len(parts)
                self.texts.append(text)
                self.events.append(json.loads(text))
        else:
            self.messages.append(message)
        self._changed.set()

    async def wait_event(
        self, predicate: Callable[[dict[str, Any], str], bool], timeout: float = 20
    ) -> tuple[dict[str, Any], str]:
        """The first event (with its text) so far or from now on that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        while True:
            for event, text in zip(self.events, self.texts, strict=True):
                if predicate(event, text):
                    return event, text
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), max(0.01, deadline - time.monotonic()))

    async def wait_message(
        self,
        kind: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda _message: True,
        timeout: float = 20,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for message in self.messages:
                if message["type"] == kind and predicate(message):
                    return message
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), max(0.01, deadline - time.monotonic()))


class AgentPeer:
    """The agent's WebRTC side: answers each offer with a new aiortc peer, feeds it the widget's
    trickled candidates (matched to their connection by ICE username fragment)."""

    def __init__(self, agent: Client) -> None:
        self.agent = agent
        self.peers: list[RTCPeerConnection] = []
        self.labels: list[str] = []
        self.channels: dict[str, RTCDataChannel] = {}
        self._stash: list[dict[str, Any]] = []
        self._feeder = asyncio.create_task(self._feed())

    async def answer(self, offer: dict[str, Any]) -> Mirror:
        mirror = Mirror()
        pc = RTCPeerConnection()
        opened = asyncio.Event()

        @pc.on("datachannel")
        def on_channel(channel: RTCDataChannel) -> None:
            self.labels.append(channel.label)
            self.channels[channel.label] = channel
            if channel.label == "cobrowse":
                mirror.attach(channel)
                opened.set()

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        self.peers.append(pc)
        ack = await self.agent.call(
            "rtc.answer", {"session_id": offer["session_id"], "sdp": pc.localDescription.sdp}
        )
        assert ack == {"ok": True}, ack
        stash, self._stash = self._stash, []
        for candidate in stash:
            await self._add(candidate)
        await asyncio.wait_for(opened.wait(), 20)
        return mirror

    async def _feed(self) -> None:
        while True:
            data = await self.agent.next("rtc.ice", timeout=3600)
            if isinstance(data.get("candidate"), dict) and data["candidate"].get("candidate"):
                await self._add(data["candidate"])

    async def _add(self, candidate: dict[str, Any]) -> None:
        ufrag = candidate.get("usernameFragment")
        for pc in self.peers:
            remote = pc.remoteDescription
            if remote is not None and f"a=ice-ufrag:{ufrag}" in remote.sdp:
                ice = candidate_from_sdp(str(candidate["candidate"]).removeprefix("candidate:"))
                ice.sdpMid = candidate.get("sdpMid")
                ice.sdpMLineIndex = candidate.get("sdpMLineIndex")
                await pc.addIceCandidate(ice)
                return
        self._stash.append(candidate)  # its offer has not been answered yet

    async def close(self) -> None:
        self._feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._feeder
        for pc in self.peers:
            await pc.close()


def snapshot_with(marker: str) -> Callable[[dict[str, Any], str], bool]:
    return lambda event, text: event["type"] == 2 and marker in text


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    """Name the step in a failure: a timeout deep in a long flow says little by itself."""
    try:
        yield
    except (TimeoutError, AssertionError) as error:
        raise AssertionError(f"step '{name}' failed: {error!r}") from error


BIG_PAGE_JS = """() => {
    // About 3 MB of text, with what JSON must escape (quotes, backslashes), non-ASCII and
    // characters outside the BMP (surrogate pairs), so that cutting it into frames is tested.
    const line = 'Grüße "Kessel" \\\\ 🫖 <b>not markup</b> ' + 'kettle '.repeat(1430);
    const more = document.querySelector('#more');
    for (let i = 0; i < 300; i++) {
        const p = document.createElement('p');
        p.textContent = i + ' ' + line;
        more.append(p);
    }
    const end = document.createElement('p');
    end.textContent = 'END-OF-BIG';
    more.append(end);
}"""
