"""The customer's web widget (customer_web/, served as /widget.js) on a real page in Chromium.

A shop page is served by a second aiohttp server on another port, so it is another origin than
the support server, as on a real site, and it has a strict Content-Security-Policy (no inline
script or style). The agent is a python-socketio client with an aiortc peer that answers the
widget's offer and reads the ``cobrowse`` channel the way the console does: frames joined into
rrweb events (docs/cobrowse.md §2.1).

The flows are slow (a browser, WebRTC), so they run once, with the live state in memory, like
the console's tests (``memory_live_store`` overrides conftest's ``live_store``). Screenshots go
to test-artifacts/widget/ for people to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp
from playwright.async_api import Browser, Page, ViewportSize

import tests.conftest as conftest_module
from server.app import create_app
from server.appkeys import ORIGINS, RECORDS
from server.settings import Settings
from server.widget import add_widget_routes

from .conftest import Desk, DeskFactory
from .console import chromium_browser, chromium_path, memory_live_store
from .support import Client, assert_eventually

__all__ = ["chromium_browser", "chromium_path", "memory_live_store"]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "widget"
DESKTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000
SECRETS = {
    "#card": "4111 1111 1111 1111",
    "#password": "hunter2-Secret",
    "#name": "Erika Mustermann",
}
UNMASKED = ("#coupon", "SAVE10-COUPON")
HIDDEN_TEXTS = ("Loyalty number 7731-5521", "Blocked promo 9921")

pytestmark = pytest.mark.timeout(180)


# --- the widget, built and served ---------------------------------------------------------------


@pytest.fixture(scope="session")
def built_widget() -> Path:
    """customer_web/dist/widget.js, rebuilt when a source is newer (as `make` does after npm ci)."""
    bundle = ROOT / "customer_web" / "dist" / "widget.js"
    sources = list((ROOT / "customer_web").glob("*.js"))
    stale = not bundle.is_file() or max(s.stat().st_mtime for s in sources) > bundle.stat().st_mtime
    if stale:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to build the widget (customer_web/): install Node.js")
        subprocess.run([npm, "run", "build", "--silent"], cwd=ROOT, check=True, timeout=120)
    return bundle


@pytest.fixture(autouse=True)
def widget_routes(monkeypatch: pytest.MonkeyPatch, built_widget: Path) -> None:
    """Every test server serves /widget.js: through create_app once app.py wires it, else here."""

    def create_with_widget(settings: Settings | None = None) -> web.Application:
        app = create_app(settings)
        if not any(resource.canonical == "/widget.js" for resource in app.router.resources()):
            add_widget_routes(app)
        return app

    monkeypatch.setattr(conftest_module, "create_app", create_with_widget)


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


async def _shop_css(_request: web.Request) -> web.Response:
    return web.Response(text=SHOP_CSS, content_type="text/css")


@pytest.fixture
async def make_shop(
    aiohttp_server: Callable[..., Any],
) -> Callable[..., Any]:
    async def make(desk: Desk, *, lang: str = "en", host: str = "127.0.0.1") -> Shop:
        app = web.Application()
        shop = Shop(server=None, lang=lang, support=desk.url)  # type: ignore[arg-type]
        app.router.add_get("/", shop.page)
        app.router.add_get("/shop.css", _shop_css)
        shop.server = await aiohttp_server(app, host=host)
        return shop

    return make


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


@pytest.fixture
async def open_customer(browser: Browser) -> AsyncIterator[Callable[..., Any]]:
    contexts = []

    async def open_(shop: Shop, viewport: ViewportSize = DESKTOP) -> Customer:
        context = await browser.new_context(viewport=viewport)
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        customer = Customer(page)
        page.on("console", lambda message: customer.console.append(message.text))
        page.on("pageerror", lambda error: customer.errors.append(str(error)))
        await page.goto(shop.origin + "/")
        await page.locator("mayday-help .help").wait_for()
        return customer

    yield open_
    for context in contexts:
        with contextlib.suppress(Exception):
            await context.close()


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


@pytest.fixture
async def agent_peers() -> AsyncIterator[Callable[[Client], AgentPeer]]:
    made: list[AgentPeer] = []

    def make(agent: Client) -> AgentPeer:
        peer = AgentPeer(agent)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        await peer.close()


def _snapshot_with(marker: str) -> Callable[[dict[str, Any], str], bool]:
    return lambda event, text: event["type"] == 2 and marker in text


def _strings(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


@contextlib.contextmanager
def _step(name: str) -> Iterator[None]:
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


async def test_the_widget_is_served_as_a_classic_script(desk: Desk, built_widget: Path) -> None:
    async with desk.http.get(f"{desk.url}/widget.js") as response:
        body = await response.read()
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert response.headers["Cache-Control"] == "no-cache"
        assert "Access-Control-Allow-Origin" not in response.headers
        assert body == await asyncio.to_thread(built_widget.read_bytes)
        etag = response.headers["ETag"]
    async with desk.http.get(f"{desk.url}/widget.js", headers={"If-None-Match": etag}) as response:
        assert response.status == 304  # every page load revalidates, cheaply
    async with desk.http.get(f"{desk.url}/widget.js.map") as response:
        assert response.status == 200
        assert "../help.js" in (await response.json())["sources"]


async def test_a_customer_gets_help_and_the_agent_sees_the_page(
    make_desk: DeskFactory,
    make_shop: Callable[..., Any],
    open_customer: Callable[..., Any],
    agent_peers: Callable[[Client], AgentPeer],
) -> None:
    desk = await make_desk(sites_refresh_s=0.1)
    shop: Shop = await make_shop(desk)
    await add_site(desk, shop)
    agent = await desk.agent("alice")
    customer: Customer = await open_customer(shop)
    page = customer.page
    await customer.shot("desktop-1-button")

    with _step("Help is reached with the keyboard, focus visible, the page's CSS kept out"):
        for _ in range(20):
            await page.keyboard.press("Tab")
            if await page.evaluate("() => document.activeElement?.tagName === 'MAYDAY-HELP'"):
                break
        button = await page.evaluate(
            """() => {
                const b = document.querySelector('mayday-help').shadowRoot.activeElement;
                const r = b.getBoundingClientRect();
                const s = getComputedStyle(b);
                return {cls: b.className, focusVisible: b.matches(':focus-visible'),
                        outline: s.outlineStyle, width: r.width, height: r.height,
                        right: r.right, bottom: r.bottom, text: b.textContent,
                        background: s.backgroundColor, fontSize: s.fontSize};
            }"""
        )
        assert button["cls"] == "help", button
        assert button["text"].endswith("Help"), button
        assert button["focusVisible"], button
        assert button["outline"] == "solid", button
        assert button["width"] >= 44, button
        assert button["height"] >= 44, button
        assert button["right"] <= DESKTOP["width"]
        assert button["bottom"] <= DESKTOP["height"]
        assert button["background"] != "rgb(255, 105, 180)", "the page's CSS reached the widget"
        assert button["fontSize"] == "17px", button
        await customer.shot("desktop-2-focus")
        await page.keyboard.press("Enter")

    with _step("the agent is rung for this visitor"):
        ring = await agent.next("ring", timeout=15)
        entry = ring["ticket"]
        assert entry["kind"] == "web", entry
        assert entry["device_name"] == f"Web visitor · {shop.origin.partition('://')[2]}"
        assert entry["locale"] == "en"
        await customer.phase("queued", "ringing")
        await customer.shot("desktop-3-waiting")

    peer = agent_peers(agent)
    with _step("accept: the widget offers data channels only, and the page arrives"):
        ack = await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
        session_id = ack["session_id"]
        assert session_id == entry["ticket_id"]
        offer = await agent.next("rtc.offer", timeout=15)
        assert offer["session_id"] == session_id
        assert "m=application" in offer["sdp"]
        assert "m=video" not in offer["sdp"]
        mirror = await peer.answer(offer)
        await assert_eventually(lambda: {"cobrowse", "annotations"} <= set(peer.labels))
        hello = await mirror.wait_message("hello")
        assert json.loads(mirror.frames[0])["type"] == "hello", "hello comes first"
        assert hello["v"] == 1, hello
        assert hello["url"] == shop.origin + "/", hello
        assert hello["title"] == "Kettle shop – step 1"
        assert hello["viewport"] == DESKTOP
        _, snapshot = await mirror.wait_event(_snapshot_with("one blue kettle with a whistle"))
        await customer.phase("active")
        assert "alice" in await customer.status()
        await customer.shot("desktop-4-session")

    with _step("a DOM change arrives as an incremental mutation"):
        await page.evaluate(
            """() => {
                const p = document.createElement('p');
                p.textContent = 'Freshly added: a matching lid';
                document.querySelector('#more').append(p);
            }"""
        )
        await mirror.wait_event(
            lambda e, t: e["type"] == 3 and e["data"]["source"] == 0 and "matching lid" in t
        )

    with _step("the page's title and viewport changes are reported"):
        await page.set_viewport_size({"width": 1200, "height": 700})
        await mirror.wait_message("page", lambda m: m["viewport"] == {"width": 1200, "height": 700})
        await page.evaluate("() => { document.title = 'Kettle shop – delivery'; }")
        await mirror.wait_message("page", lambda m: m["title"] == "Kettle shop – delivery")
        await page.set_viewport_size(DESKTOP)

    with _step("the agent's marks are received and, for now, ignored"):
        peer.channels["annotations"].send(json.dumps({"type": "laser", "x": 0.5, "y": 0.5}))

    with _step("masked fields and texts never leave the page"):
        for selector, value in SECRETS.items():
            await page.locator(selector).press_sequentially(value)
        await page.locator(UNMASKED[0]).press_sequentially(UNMASKED[1])
        # The unmasked field was typed last: once its value is here, so is everything before it.
        await mirror.wait_event(
            lambda e, t: e["type"] == 3 and e["data"]["source"] == 5 and UNMASKED[1] in t
        )
        masked = [
            e["data"]["text"]
            for e in mirror.events
            if e["type"] == 3 and e["data"]["source"] == 5 and e["data"]["text"].startswith("*")
        ]
        assert masked, "the masked fields' input events were not sent at all"
        sent = "\n".join(mirror.frames + mirror.texts)
        for value in [*SECRETS.values(), "4111", "hunter2", "Mustermann", *HIDDEN_TEXTS]:
            assert value not in sent, f"{value!r} left the page"
        assert "Loyalty" not in snapshot
        assert "Blocked promo" not in snapshot

    with _step("a 3 MB page arrives whole, as a mutation and as a new full snapshot"):
        await page.evaluate(BIG_PAGE_JS)
        await mirror.wait_event(lambda e, t: e["type"] == 3 and "END-OF-BIG" in t, timeout=90)
        mirror.send({"type": "snapshot"})
        event, text = await mirror.wait_event(
            lambda e, t: e["type"] == 2 and "END-OF-BIG" in t, timeout=90
        )
        assert len(text.encode()) > 3_000_000
        line = 'Grüße "Kessel" \\ 🫖 <b>not markup</b> kettle'
        assert any(line in text for text in _strings(event)), "the text came back changed"
        assert max(len(frame.encode()) for frame in mirror.frames) <= 16 * 1024
        assert max(mirror.parts.values()) > 150
        assert sorted(mirror.parts) == list(range(1, len(mirror.parts) + 1)), "a seq is missing"

    with _step("a same-origin navigation resumes the session with a new offer and snapshot"):
        await page.locator("#next").click()
        await page.wait_for_url("**/?step=2")
        offer = await agent.next("rtc.offer", timeout=20)
        # `leaving` is best effort (the page is going away as it is sent): not asserted.
        mirror = await peer.answer(offer)
        hello = await mirror.wait_message("hello")
        assert hello["url"] == shop.origin + "/?step=2"
        assert hello["title"].endswith("step 2")
        await mirror.wait_event(_snapshot_with("one blue kettle with a whistle"))
        await customer.phase("active")

    with _step("the customer ends the session after confirming, and rates it"):
        await customer.press(".danger")
        assert "End the session?" in await customer.status()
        await customer.shot("desktop-5-confirm")
        await customer.press(".danger")
        ended = await agent.next("session.ended", timeout=10)
        assert (ended["ended_by"], ended["reason"]) == ("device", "customer_ended")
        await customer.phase("ended")
        await customer.shot("desktop-6-rating")
        await customer.press(".star:nth-child(4)")
        await customer.phase("rated")
        await customer.shot("desktop-7-thanks")
        token = await desk.token("alice")

        async def rated() -> bool:
            status, body = await desk.get(f"/api/sessions/{session_id}", token)
            return status == 200 and body.get("rating") == 4

        await assert_eventually(rated, timeout=15, message="the rating was never stored")
    customer.assert_clean()


async def test_on_a_phone_in_german_waiting_cancelling_and_a_session(
    make_desk: DeskFactory, make_shop: Callable[..., Any], open_customer: Callable[..., Any]
) -> None:
    desk = await make_desk(sites_refresh_s=0.1)
    shop: Shop = await make_shop(desk, lang="de-DE")
    await add_site(desk, shop)
    await desk.add_agent("bob", languages=("de",))
    customer: Customer = await open_customer(shop, PHONE)
    await customer.shot("phone-1-button")

    with _step("waiting with nobody staffed, then leaving the queue"):
        await customer.press(".help")
        await customer.phase("queued")
        assert "Nummer 1 in der Warteschlange" in await customer.status()
        detail = await customer.page.locator("mayday-help .detail").inner_text()
        assert "niemand erreichbar" in detail
        box = await customer.page.locator("mayday-help .panel").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
        await customer.shot("phone-2-queued")
        await customer.press(".secondary")  # Abbrechen
        await customer.phase("over")
        assert await customer.status() == "Sie haben die Warteschlange verlassen."
        await customer.shot("phone-3-cancelled")
        await customer.press(".secondary")  # Schließen
        await customer.phase("idle")

    with _step("Help again: the same visitor is rung to a German-speaking agent"):
        agent = await desk.agent("carla", languages=("de",))
        await customer.press(".help")
        ring = await agent.next("ring", timeout=15)
        assert ring["ticket"]["locale"] == "de-DE"
        await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
        await customer.phase("connecting", "active")
        assert "carla" in await customer.status()
        await customer.shot("phone-4-session")

    with _step("ending from the phone"):
        await customer.press(".danger")
        assert (await customer.status()).startswith("Sitzung beenden?")
        await customer.shot("phone-5-confirm")
        await customer.press(".danger")
        await customer.phase("ended")
        await customer.shot("phone-6-rating")
        await customer.press(".star:nth-child(5)")
        await customer.phase("rated")
        assert await customer.status() == "Danke für Ihre Rückmeldung!"
    customer.assert_clean()


async def test_a_page_whose_origin_is_not_listed_is_told_clearly(
    make_desk: DeskFactory, make_shop: Callable[..., Any], open_customer: Callable[..., Any]
) -> None:
    desk = await make_desk(sites_refresh_s=0.1)
    shop: Shop = await make_shop(desk)
    row = await desk.app[RECORDS].add_site("elsewhere", ["https://shop.example"])
    shop.key = row.key  # a real key, used from a page the site did not list
    customer: Customer = await open_customer(shop)
    await customer.press(".help")
    await customer.phase("error")
    assert await customer.status() == "Help isn't available on this page."
    await customer.shot("desktop-refused")
    # Nothing to retry: the page is not allowed, trying again would not change that.
    assert await customer.page.locator("mayday-help .actions button").all_inner_texts() == ["Close"]
