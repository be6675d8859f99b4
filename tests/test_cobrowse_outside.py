"""Co-browsing as an outsider does it: only what docs/cobrowse.md and docs/protocol.md say.

A site owner embeds the widget in a page of their own (the script tag, ``data-site-key``, the
three ``data-mayday-*`` attributes), registers the page's origin with ``mayday sites add --json``
and runs a real ``mayday server`` process; an agent written with python-socketio and aiortc signs
in (``mayday agents add``, ``POST /api/agents/login``), accepts the ring, answers the widget's
offer and reads the ``cobrowse`` channel (protocol.md §12a): the page arrives, masked as
cobrowse.md §3 promises. Nothing of the server's or the widget's code is imported, only the
Chromium launch flags and ``free_port`` of the tests: a wrong or missing sentence in the
documents fails this test.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import socketio
from aiohttp import web
from aiortc import RTCDataChannel, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp
from playwright.async_api import Page, ViewportSize, async_playwright

from .browser import CHROMIUM, CHROMIUM_ARGS
from .outside import mayday, mayday_server, outside_env
from .services import free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "outsider-pass-1"
TIMEOUT_S = 20.0
PLAIN_TEXT = "Green tea from the outsider's own garden, 250 grams."
MASKED_TEXT = "LN-7731-5521"
BLOCKED_TEXT = "ZX-9921-QQ"
TYPED_BEFORE = {"#email": "before.help@example.org", "#password": "Hunter2-Before"}
TYPED_AFTER = {
    "#email": "erika.outsider@example.org",
    "#password": "Hunter2-Outsider",
    "#promo-code": "PROMO-SECRET-42",
}
UNMASKED = ("#reference", "ORDER-55123")
CHANGE = "Fresh harvest arrived today"
MARK_ID = "outsider-mark"
T = TypeVar("T")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outsider tea shop</title></head>
<body>
<h1>Outsider tea shop</h1>
<p id="intro">{plain}</p>
<p id="loyalty" data-mayday-mask>Loyalty number {masked}</p>
<div id="promo" class="promo" data-mayday-block>Blocked promo code {blocked}
  <input id="promo-code"></div>
<form id="order">
  <label>Email <input id="email" name="email"></label>
  <label>Password <input id="password" type="password" name="password"></label>
  <label>Order reference <input id="reference" name="reference" data-mayday-unmask></label>
</form>
<section id="news"></section>
<p id="notes">{notes}</p>
<script src="{server}/widget.js" data-site-key="{key}" async></script>
</body></html>
"""


async def until(check: Callable[[], T | None], what: str, timeout: float = TIMEOUT_S) -> T:
    """Wait for ``check()`` to give something truthy; fail naming ``what`` after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of an rrweb serialized tree, the root first."""
    yield node
    for child in node.get("childNodes", []):
        yield from nodes(child)


def by_id(snapshot: dict[str, Any], element_id: str) -> dict[str, Any]:
    """The element with this ``id`` attribute in a full snapshot."""
    for node in nodes(snapshot["data"]["node"]):
        if node.get("attributes", {}).get("id") == element_id:
            return node
    raise AssertionError(f"no #{element_id} in the full snapshot")


def text_of(snapshot: dict[str, Any]) -> str:
    return " ".join(str(n.get("textContent", "")) for n in nodes(snapshot["data"]["node"]))


# --- the site owner's side: server, site, agent account, the page -------------------------------


@pytest.fixture
def widget_bundle() -> Path:
    """The widget the server serves as /widget.js, built by `npm run build` (cobrowse.md §4.1)."""
    bundle = ROOT / "customer_web" / "dist" / "widget.js"
    web = ROOT / "customer_web"
    sources = [*web.glob("*.js"), *web.glob("locales/*/LC_MESSAGES/*.po")]
    newest = max(p.stat().st_mtime for p in sources)
    if not bundle.is_file() or bundle.stat().st_mtime < newest:
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("the widget needs `npm run build` and npm is missing")
        subprocess.run([npm, "run", "build", "--silent"], cwd=ROOT, check=True, timeout=120)
    return bundle


@dataclass
class Deployment:
    url: str  # the support server
    shop: str  # the origin the site lists
    key: str  # the site's key, for data-site-key


@pytest.fixture
async def deployment(tmp_path: Path, widget_bundle: Path) -> AsyncIterator[Deployment]:
    """`mayday server` on SQLite in a directory of its own, live state in memory (deploy.md §2),
    with a site and an agent account."""
    env = outside_env(tmp_path / "data")
    shop = f"http://127.0.0.1:{free_port()}"
    # Before the server starts: a running one accepts a new site's origin only after its next
    # refresh of the sites (protocol.md §18.1).
    added = json.loads(await mayday(env, "sites", "add", "outsider", "--origin", shop, "--json"))
    assert added == {"name": "outsider", "key": added["key"], "origins": [shop]}

    async def olga() -> None:
        await mayday(env, "agents", "add", "olga", "--languages", "en", stdin=PASSWORD + "\n")

    async with mayday_server(env, tmp_path / "server.log", before_ready=olga) as url:
        yield Deployment(url, shop, added["key"])


@contextlib.asynccontextmanager
async def serve_page(origin: str, html: str) -> AsyncIterator[str]:
    """A page of the site, on an origin of its own (another port is another origin)."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(origin.rpartition(":")[2])).start()
    try:
        yield origin
    finally:
        await runner.cleanup()


# --- the agent: python-socketio and aiortc --------------------------------------------------------


@dataclass
class Channel:
    """What the agent received on the `cobrowse` channel: raw frames and joined rrweb events."""

    frames: list[str] = field(default_factory=list)
    events: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    parts_seen: int = 1
    problems: list[str] = field(
        default_factory=list
    )  # what broke §12a.2, seen in aiortc's callback
    _pending: list[str] = field(default_factory=list)

    def receive(self, frame: str | bytes) -> None:
        if not isinstance(frame, str) or len(frame.encode()) > 16 * 1024:
            self.problems.append(f"not a text frame of at most 16 KiB: {frame[:80]!r}")
            return
        self.frames.append(frame)
        message = json.loads(frame)
        if message["type"] != "event":
            return
        seq, part, parts = message["seq"], message["part"], message["parts"]
        expected = self.events[-1][0] + 1 if self.events else 1
        if (seq, part) != (expected, len(self._pending)):
            self.problems.append(f"frame out of order: {frame[:80]}")
        self._pending.append(message["data"])
        self.parts_seen = max(self.parts_seen, parts)
        if part == parts - 1:
            self.events.append((seq, json.loads("".join(self._pending))))
            self._pending.clear()

    def full_snapshots(self) -> list[dict[str, Any]]:
        assert not self.problems, self.problems
        return [event for _, event in self.events if event["type"] == 2]

    def incremental(self, source: int) -> list[dict[str, Any]]:
        assert not self.problems, self.problems
        return [e for _, e in self.events if e["type"] == 3 and e["data"]["source"] == source]


class Agent:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient()
        self.inbox: defaultdict[str, asyncio.Queue[dict[str, Any]]] = defaultdict(asyncio.Queue)
        for event in ("presence.update", "ring", "session.started", "session.ended"):
            self.sio.on(event, self._inbox(event), namespace="/agent")
        for event in ("rtc.offer", "rtc.ice"):
            self.sio.on(event, self._inbox(event), namespace="/agent")
        self.pc: RTCPeerConnection | None = None
        self.channels: dict[str, RTCDataChannel] = {}
        self.cobrowse = Channel()
        self.offer = ""
        self._ice: asyncio.Task[None] | None = None

    def _inbox(self, event: str) -> Callable[[dict[str, Any]], None]:
        return lambda payload: self.inbox[event].put_nowait(payload)

    async def next(self, event: str) -> dict[str, Any]:
        return await asyncio.wait_for(self.inbox[event].get(), TIMEOUT_S)

    async def call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        ack: dict[str, Any] = await self.sio.call(event, payload, namespace="/agent", timeout=10)
        assert "error" not in ack, f"{event}: {ack}"
        return ack

    async def sign_in(self, name: str) -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{self.url}/api/agents/login", json={"name": name, "password": PASSWORD}
            ) as response,
        ):
            assert response.status == 200, await response.text()
            token = (await response.json())["token"]
        await self.sio.connect(
            self.url,
            namespaces=["/agent"],
            transports=["websocket"],
            auth={"protocol": 1, "token": token},
        )
        assert await self.next("presence.update") == {"status": "away", "reason": "connected"}
        assert await self.call("presence.set", {"status": "available"}) == {
            "ok": True,
            "status": "available",
        }

    async def answer(self, session_id: str) -> None:
        """Answer the widget's offer (§8.2); its trickled candidates follow (§6.3 `rtc.ice`)."""
        offer = await self.next("rtc.offer")
        assert offer["session_id"] == session_id
        self.offer = offer["sdp"]
        self.pc = pc = RTCPeerConnection()

        @pc.on("datachannel")
        def on_channel(channel: RTCDataChannel) -> None:
            self.channels[channel.label] = channel
            if channel.label == "cobrowse":
                channel.on("message", self.cobrowse.receive)

        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.call("rtc.answer", {"session_id": session_id, "sdp": pc.localDescription.sdp})
        await self.call("rtc.ice", {"session_id": session_id, "candidate": None})
        self._ice = asyncio.create_task(self._candidates(pc))

    async def _candidates(self, pc: RTCPeerConnection) -> None:
        while True:
            init = (await self.inbox["rtc.ice"].get()).get("candidate") or {}
            line = str(init.get("candidate") or "")
            if not line:
                continue  # the end of the widget's candidates
            ice = candidate_from_sdp(line.removeprefix("candidate:"))
            ice.sdpMid = init.get("sdpMid")
            ice.sdpMLineIndex = init.get("sdpMLineIndex")
            await pc.addIceCandidate(ice)

    def send(self, label: str, message: dict[str, Any]) -> None:
        self.channels[label].send(json.dumps(message))

    async def close(self) -> None:
        if self._ice is not None:
            self._ice.cancel()
        if self.pc is not None:
            await self.pc.close()
        await self.sio.disconnect()


# --- the check ------------------------------------------------------------------------------------


async def press_help(page: Page) -> None:
    await page.get_by_role("button", name="Help", exact=True).click()  # cobrowse.md §1


async def test_an_outsider_embeds_the_widget_and_watches_the_page(
    deployment: Deployment,
) -> None:
    html = PAGE.format(
        plain=PLAIN_TEXT,
        masked=MASKED_TEXT,
        blocked=BLOCKED_TEXT,
        notes="Tasting notes: grassy, sweet, calm. " * 900,  # a snapshot of several frames
        server=deployment.url,
        key=deployment.key,
    )
    agent = Agent(deployment.url)
    async with (
        serve_page(deployment.shop, html) as shop,
        serve_page(f"http://127.0.0.1:{free_port()}", html) as elsewhere,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            viewport: ViewportSize = {"width": 1200, "height": 800}
            page = await (await browser.new_context(viewport=viewport)).new_page()
            page.set_default_timeout(TIMEOUT_S * 1000)
            await page.goto(shop + "/")
            for selector, value in TYPED_BEFORE.items():
                await page.fill(selector, value)
            await agent.sign_in("olga")
            await press_help(page)

            # The ring, the accept, the offer (§6.5, §6.2, §8.2, §18.5).
            ring = await agent.next("ring")
            assert ring["ticket"]["kind"] == "web"
            assert (ring["ticket"]["topic"], ring["ticket"]["locale"]) == ("general", "en")
            assert ring["ticket"]["device_name"] == f"Web visitor · {shop.partition('://')[2]}"
            accepted = await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
            session_id = accepted["session_id"]
            started = await agent.next("session.started")
            assert started["session_id"] == session_id
            assert started["device"]["kind"] == "web"
            await agent.answer(session_id)
            media = [line for line in agent.offer.splitlines() if line.startswith("m=")]
            assert len(media) == 1, media
            assert media[0].startswith("m=application"), media
            await until(lambda: "cobrowse" in agent.channels, "the cobrowse channel")
            channel = agent.cobrowse
            await until(lambda: channel.full_snapshots(), "the first full snapshot")
            await agent.call("rtc.state", {"session_id": session_id, "state": "connected"})

            # `hello` first, then the events from seq 1: a Meta event, then the full snapshot.
            hello = json.loads(channel.frames[0])
            assert hello == {
                "type": "hello",
                "v": 1,
                "url": shop + "/",
                "title": "Outsider tea shop",
                "viewport": viewport,
            }
            assert channel.events[0][1]["type"] == 4
            assert channel.parts_seen > 1, "the full snapshot was expected in several parts"
            snapshot = channel.full_snapshots()[0]
            assert PLAIN_TEXT in text_of(snapshot)
            assert "Tasting notes" in text_of(snapshot)
            loyalty = "".join(
                str(n["textContent"]) for n in by_id(snapshot, "loyalty")["childNodes"]
            )
            assert loyalty == re.sub(r"\S", "*", f"Loyalty number {MASKED_TEXT}")
            assert by_id(snapshot, "email")["attributes"]["value"] == "*" * len(
                TYPED_BEFORE["#email"]
            )
            assert by_id(snapshot, "password")["attributes"]["value"] == "********"
            tree = nodes(snapshot["data"]["node"])
            blocked = [n for n in tree if n.get("attributes", {}).get("class") == "promo"]
            assert len(blocked) == 1, "the blocked div should be an empty box of its size"
            assert "rr_width" in blocked[0]["attributes"]
            assert blocked[0]["childNodes"] == []

            # Typing: masked fields as stars, the password as eight; the unmasked field as typed.
            ids = {s: by_id(snapshot, s[1:])["id"] for s in ("#email", "#password", UNMASKED[0])}
            for selector, value in [*TYPED_AFTER.items(), UNMASKED]:
                await page.fill(selector, value)

            def typed(selector: str) -> list[str]:
                return [
                    e["data"]["text"]
                    for e in channel.incremental(5)
                    if e["data"]["id"] == ids[selector]
                ]

            await until(lambda: UNMASKED[1] in typed(UNMASKED[0]), "the unmasked value")
            assert "*" * len(TYPED_AFTER["#email"]) in typed("#email")
            assert typed("#password")
            assert set(typed("#password")) == {"********"}

            # A change of the DOM arrives as an incremental Mutation event.
            await page.evaluate(f"document.getElementById('news').textContent = {CHANGE!r}")
            await until(
                lambda: [e for e in channel.incremental(0) if CHANGE in json.dumps(e)],
                "the page's change as a mutation",
            )

            # The agent asks for a new full snapshot: it comes, with the page as it is now.
            seen = len(channel.full_snapshots())
            agent.send("cobrowse", {"type": "snapshot"})
            fresh = (await until(lambda: channel.full_snapshots()[seen:], "a new snapshot"))[0]
            assert CHANGE in text_of(fresh)
            assert by_id(fresh, "reference")["attributes"]["value"] == UNMASKED[1]
            assert by_id(fresh, "password")["attributes"]["value"] == "********"

            # The agent's mark (protocol.md §12.2), drawn over the page, never recorded.
            agent.send(
                "annotations",
                {
                    "type": "stroke",
                    "id": MARK_ID,
                    "tool": "circle",
                    "points": [[0.1, 0.1], [0.4, 0.3]],
                    "pinned": True,
                },
            )
            await page.wait_for_function(
                "id => document.querySelector('mayday-marks')"
                "?.marks?.querySelector(`[data-id='${id}']`) != null",
                arg=MARK_ID,
            )

            # Nothing secret in any frame, joined or not.
            everything = "\n".join(channel.frames) + json.dumps([e for _, e in channel.events])
            secrets = [MASKED_TEXT, BLOCKED_TEXT, *TYPED_BEFORE.values(), *TYPED_AFTER.values()]
            for secret in secrets:
                assert secret not in everything, f"{secret!r} left the customer's browser"
            assert MARK_ID not in everything, "the overlay was recorded"

            # A page on an origin the site does not list is refused (cobrowse.md §1.1, §18.3).
            other = await (await browser.new_context()).new_page()
            other.set_default_timeout(TIMEOUT_S * 1000)
            await other.goto(elsewhere + "/")
            await press_help(other)
            await other.get_by_text("Help isn't available on this page").wait_for()
            assert await other.get_by_role("button", name="Try again").count() == 0
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{deployment.url}/api/web/visitors",
                    json={"site_key": deployment.key},
                    headers={"Origin": elsewhere},
                ) as refused,
            ):
                assert refused.status == 403
                assert (await refused.json())["error"]["code"] == "forbidden"
                assert "Access-Control-Allow-Origin" not in refused.headers

            await agent.call("session.end", {"session_id": session_id, "reason": "resolved"})
            ended = await agent.next("session.ended")
            assert ended == {"session_id": session_id, "reason": "resolved", "ended_by": "agent"}
        finally:
            await agent.close()
            await browser.close()
