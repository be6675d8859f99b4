"""Everything a device, a customer or an agent writes is shown as text in the console, never as
markup, and long or right-to-left text does not break the layout (tests/browser_flows/console.py
has the page helpers).

One session carries hostile strings (HTML, script, SVG, ``javascript:`` URLs, newlines, the
right-to-left override, strings far longer than any box) in every field the console shows: the
agent's name, the names of the customers in the ring card and the queue, the session bar, the
co-browsed page's address and title, chat both ways, the notes, the timeline, the wrap-up and an
error toast that echoes the server's message.

The server only accepts a short slug as topic and a BCP 47 tag as locale (signaling/models), so
those two are sent as harmless markers and swapped for hostile text on their way into the page
(on the /agent socket and in REST answers): the console must still show them as text should the
server ever let such a value through. The same goes for the message of one error ack.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Route, WebSocketRoute

from ..conftest import AGENT_PASSWORD, Desk, DeskFactory
from ..support import Client
from .console import SMALL, Console, ConsoleFactory
from .test_console_cobrowse import VIEWPORT, WebCustomer

pytestmark = pytest.mark.timeout(120)

PWN = "document.body.dataset.pwned=1"
IMG = f'<img src=x onerror="{PWN}">'
SCRIPT = f"<script>{PWN}</script>"
SVG = f'"><svg onload="{PWN}">'
JS_URL = f"javascript:{PWN}"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: what follows it is shown mirrored
LRE = "\u202a"  # LEFT-TO-RIGHT EMBEDDING, never closed


def _name(text: str) -> str:
    """A device or agent name as long as the server allows (80), filled with one long word."""
    return text + "W" * (80 - len(text))


AGENT_NAME = f"{SVG}{RLO}ecila"
DEVICE_NAME = _name(f"{IMG}\n{RLO}gnp.exe")
QUEUED_LONG = _name(f'"><svg/onload={PWN}>{LRE}')
QUEUED_RTL = f"{RLO}{SCRIPT}"

TOPIC = f"{SCRIPT}{RLO}" + "t" * 17  # as long as the server lets a topic be (a slug of 64)
LONG_TOPIC = f"{SCRIPT}{IMG}{RLO}" + "topic" * 30
LOCALE = f"en-{IMG}{RLO}"
TOPIC_MARK = "xss-topic-marker"
LOCALE_MARK = "en-xssmark"

AGENT_CHAT = f"{SCRIPT}\nsecond line {JS_URL}\n{RLO}reversed {IMG}"
DEVICE_CHAT = f"{IMG} {SVG}\n" + "L" * 1200 + f"\n{RLO}{JS_URL} {SCRIPT}"
NOTES = f"{IMG}\n{SCRIPT}\n{SVG}\n{JS_URL}\n{RLO}" + "N" * 3000
PAGE_URL = f"{JS_URL}//{SVG}?" + "u" * 2500
PAGE_TITLE = f"{IMG}{RLO}" + "T" * 2500
SHOWN_CHARS = 2000  # cobrowse.js cuts a page's address and title to this many characters
ERROR_TEXT = f"{SVG} {IMG} {RLO}refused " + "E" * 300

# --- what the page must not have --------------------------------------------------------------

MARKUP_FROM_TEXT = """() => {
    const found = [];
    if (document.body.dataset.pwned !== undefined) found.push('document.body.dataset.pwned is set');
    if (document.querySelector('img[src="x"]')) found.push('an img[src=x]');
    for (const script of document.scripts) {
        if (script.textContent.includes('pwned')) found.push('a script: ' + script.textContent);
    }
    for (const el of document.querySelectorAll('*')) {
        for (const attribute of el.attributes) {
            if (/^on/i.test(attribute.name)) found.push(`${el.tagName}[${attribute.name}]`);
            if (/^\\s*javascript:/i.test(attribute.value) && attribute.name !== 'title') {
                found.push(`${el.tagName}[${attribute.name}=javascript:…]`);
            }
        }
    }
    // Every svg of the console is the sprite or an icon that uses it.
    for (const svg of document.querySelectorAll('svg')) {
        if (!svg.classList.contains('sprite') && !svg.querySelector(':scope > use')) {
            found.push('an svg made from text: ' + svg.outerHTML.slice(0, 80));
        }
    }
    return found;
}"""

ESCAPING = """([container, children]) => {
    // Shown elements under `container` that stick out of it sideways: a long word that pushed
    // its box wider instead of wrapping or ending in an ellipsis. Also the page scrolling sideways.
    const box = document.querySelector(container).getBoundingClientRect();
    const out = [];
    for (const el of document.querySelectorAll(`${container} ${children}`)) {
        if (el.getClientRects().length === 0) continue;
        const r = el.getBoundingClientRect();
        if (r.width === 0) continue;
        if (r.left < box.left - 1 || r.right > box.right + 1) {
            out.push(`${el.className || el.tagName}: ${Math.round(r.left)}–${Math.round(r.right)}` +
                     ` outside ${container} ${Math.round(box.left)}–${Math.round(box.right)}`);
        }
    }
    const page = document.scrollingElement;
    if (page.scrollWidth > page.clientWidth) {
        const wide = [...document.querySelectorAll('body *')]
            .filter(el => el.getClientRects().length && el.getBoundingClientRect().right > page.clientWidth + 1)
            .map(el => `${el.tagName}.${el.className}`);
        out.push(`the page scrolls sideways (${page.scrollWidth} px): ${wide.slice(0, 8).join(', ')}`);
    }
    return out;
}"""


async def assert_only_text(console: Console) -> None:
    """No element, attribute or script came out of the hostile strings, and nothing ran."""
    found: list[str] = await console.page.evaluate(MARKUP_FROM_TEXT)
    assert found == [], f"text was turned into markup: {found}"
    console.assert_clean()


async def escaping(page: Page, container: str, children: str = "*") -> list[str]:
    found: list[str] = await page.evaluate(ESCAPING, [container, children])
    return found


async def assert_inside(page: Page, container: str, children: str = "*") -> None:
    found = await escaping(page, container, children)
    assert found == [], f"the layout breaks: {found}"


async def assert_isolated(page: Page, selector: str, text: str) -> None:
    """``text`` is in an element of its own under ``selector`` that isolates it for the bidi
    algorithm: direction overrides in it cannot reorder the console's own words around it."""
    isolated = await page.evaluate(
        """([selector, text]) => [...document.querySelectorAll(selector)].some(root =>
            [root, ...root.querySelectorAll('*')].some(el => el.textContent === text &&
                ['isolate', 'isolate-override', 'plaintext'].includes(getComputedStyle(el).unicodeBidi)))""",
        [selector, text],
    )
    assert isolated, f"{text!r} is not isolated in {selector}"


async def texts(page: Page, selector: str) -> list[str]:
    found: list[str] = await page.eval_on_selector_all(
        selector, "nodes => nodes.map(node => node.textContent)"
    )
    return found


async def wait_text(page: Page, selector: str, text: str) -> None:
    """Until some element matching ``selector`` has exactly ``text`` as its textContent."""
    await page.wait_for_function(
        "([selector, text]) => [...document.querySelectorAll(selector)]"
        ".some(node => node.textContent === text)",
        arg=[selector, text],
    )


# --- hostile values the server would refuse, put in on the way to the page --------------------


ACK = re.compile(r"(43/agent,\d+)(\[.*\])\Z", re.DOTALL)


async def tamper(page: Page, topic: str = TOPIC) -> None:
    """Swap the markers for hostile text in what reaches the page from the server (the socket's
    frames and REST answers), and the message of chat.send's error ack for ERROR_TEXT."""

    def swap(text: str) -> str:
        return text.replace(json.dumps(TOPIC_MARK), json.dumps(topic)).replace(
            json.dumps(LOCALE_MARK), json.dumps(LOCALE)
        )

    def from_server(frame: str | bytes) -> str | bytes:
        if isinstance(frame, bytes):
            return frame
        frame = swap(frame)
        ack = ACK.match(frame)
        if ack is None:
            return frame
        payload: Any = json.loads(ack[2])
        error = payload[0].get("error") if payload and isinstance(payload[0], dict) else None
        if isinstance(error, dict) and str(error.get("message", "")).startswith("chat.send:"):
            error["message"] = ERROR_TEXT
            return ack[1] + json.dumps(payload)
        return frame

    def socket(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        server.on_message(lambda frame: ws.send(from_server(frame)))

    async def rest(route: Route) -> None:
        response = await route.fetch()
        await route.fulfill(response=response, body=swap(await response.text()))

    await page.route_web_socket(re.compile(r"/socket\.io/"), socket)
    await page.route(re.compile(r"/api/"), rest)
    # The socket's route applies to pages loaded from now on.
    await page.reload()
    await page.wait_for_selector("#signin:not([hidden])")


class HostileVisitor(WebCustomer):
    """A web customer whose device name is hostile, asking for help with the markers."""

    def __init__(self, *args: Any, name: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.name = name

    async def ask_help(self) -> None:
        self.client = await ask_help(self.desk, self.name)


async def ask_help(desk: Desk, name: str) -> Client:
    """A customer named ``name`` asks for help, with the markers as topic and locale."""
    client, _ = await desk.device(name)
    # The server itself refuses hostile topics and locales.
    refused = await client.call("help.request", {"topic": TOPIC, "locale": LOCALE})
    assert refused["error"]["code"] == "bad_request"
    ack = await client.call("help.request", {"topic": TOPIC_MARK, "locale": LOCALE_MARK})
    assert ack.get("ok") is True, ack
    return client


# --- the test ---------------------------------------------------------------------------------


async def test_everything_people_write_is_shown_as_text(
    make_desk: DeskFactory, open_console: ConsoleFactory, tmp_path: Path
) -> None:
    assert max(len(name) for name in (AGENT_NAME, DEVICE_NAME, QUEUED_LONG, QUEUED_RTL)) <= 80
    assert len(TOPIC) == 64
    desk = await make_desk(ring_timeout_s=60.0)
    await desk.add_agent(AGENT_NAME)
    console = await open_console(desk, SMALL)
    page = console.page
    await tamper(page)

    async def shot(name: str) -> None:
        await page.screenshot(path=str(tmp_path / f"{name}.png"))

    # The agent's own name, in the top bar.
    await page.fill("#signin-name", AGENT_NAME)
    await page.fill("#signin-password", AGENT_PASSWORD)
    await page.click("#signin-submit")
    await page.wait_for_selector('#conn[data-state="connected"]')
    assert await console.text("#me-name") == AGENT_NAME
    await console.set_presence("available")

    # The ring card and the queue: three customers, the first one ringing.
    visitor = HostileVisitor(desk, name=DEVICE_NAME)
    try:
        await visitor.ask_help()
        await console.wait_ring()
        for name in (QUEUED_LONG, QUEUED_RTL):
            await ask_help(desk, name)
        await page.wait_for_function("() => document.querySelectorAll('.queue-entry').length === 3")
        await wait_text(page, ".queue-device", QUEUED_RTL)
        assert await console.text(".ring-device") == DEVICE_NAME
        assert await console.text(".ring-topic") == TOPIC
        assert LOCALE in await console.text(".ring-locale")
        assert await texts(page, ".queue-device") == [DEVICE_NAME, QUEUED_LONG, QUEUED_RTL]
        titles = await page.eval_on_selector_all(
            ".queue-device", "nodes => nodes.map(node => node.title)"
        )
        assert titles == [DEVICE_NAME, QUEUED_LONG, QUEUED_RTL]
        assert await texts(page, ".queue-entry .tag") == [TOPIC] * 3
        assert await texts(page, ".queue-locale") == [LOCALE] * 3
        await assert_only_text(console)
        await shot("01-ring-and-queue")
        await assert_inside(page, ".ring-card")
        await assert_inside(page, "#queue")

        # The session: the bar, and the co-browsed page's address and title.
        await page.click(".ring-accept")
        await visitor.connect()
        visitor.send(
            {"type": "hello", "v": 1, "url": PAGE_URL, "title": PAGE_TITLE, "viewport": VIEWPORT}
        )
        await page.wait_for_selector(".page-bar:not([hidden])")
        await wait_text(page, ".page-url", PAGE_URL[:SHOWN_CHARS])
        assert await console.text(".page-title") == PAGE_TITLE[:SHOWN_CHARS]
        assert await page.get_attribute(".page-title", "title") == PAGE_TITLE[:SHOWN_CHARS]
        assert await page.locator(".page-bar a").count() == 0
        assert await console.text(".who-device") == DEVICE_NAME
        assert await console.text(".who-topic") == TOPIC
        assert await console.text(".who-locale") == LOCALE

        # Chat both ways.
        await page.fill(".chat-input", AGENT_CHAT)
        await page.press(".chat-input", "Enter")
        await wait_text(page, ".from-agent .chat-text", AGENT_CHAT)
        session_id = visitor.session["session_id"]
        assert visitor.client is not None
        sent = await visitor.client.call(
            "chat.send", {"session_id": session_id, "text": DEVICE_CHAT}
        )
        assert sent.get("ok") is True, sent
        await wait_text(page, ".from-customer .chat-text", DEVICE_CHAT)
        assert await console.text(".from-customer .chat-sender") == f"Customer · {DEVICE_NAME}"

        # An error toast that echoes the server's message (over-long text, refused by the server).
        await page.eval_on_selector(".chat-input", "(input) => { input.value = 'x'.repeat(2001); }")
        await page.press(".chat-input", "Enter")
        await page.wait_for_selector("#toasts .toast-error")
        assert await texts(page, "#toasts .toast-error .toast-body span") == [
            f"{ERROR_TEXT} (bad_request)"
        ]
        await assert_isolated(page, "#toasts .toast-error", ERROR_TEXT)
        await assert_only_text(console)
        await shot("02-session-chat")
        for container in (".session-bar", ".page-bar", "#panel-chat", "#toasts"):
            await assert_inside(page, container)

        # The agent's notes (a textarea: its value, never markup), saved as they are.
        await page.click(".toast-error .toast-close")
        await page.click("#tab-notes")
        await page.fill(".notes-text", NOTES)
        await page.wait_for_selector('.notes-status[data-kind="ok"]')
        assert await page.input_value(".notes-text") == NOTES
        _, record = await desk.get(f"/api/sessions/{session_id}", await desk.token(AGENT_NAME))
        assert record["notes"] == NOTES

        # The timeline: who did what, the chat lines, the topic and the locale.
        await page.click("#tab-timeline")
        await wait_text(page, ".session-timeline .timeline-quote", DEVICE_CHAT)
        timeline = ".session-timeline"
        actors = await texts(page, f"{timeline} .timeline-actor")
        assert f"{DEVICE_NAME} (customer)" in actors
        assert f"{AGENT_NAME} (agent)" in actors
        assert await texts(page, f"{timeline} .timeline-quote") == [AGENT_CHAT, DEVICE_CHAT]
        details = await texts(page, f"{timeline} .timeline-detail")
        assert f"topic: {TOPIC}" in details
        assert f"locale: {LOCALE}" in details
        await assert_isolated(page, f"{timeline} .timeline-actor", DEVICE_NAME)
        await assert_isolated(page, f"{timeline} .timeline-actor", AGENT_NAME)
        await assert_only_text(console)
        await shot("03-session-timeline")
        # (The actors' names: see test_long_words_stay_inside_their_boxes.)
        await assert_inside(page, "#panel-timeline", ".timeline-quote, .timeline-detail")

        # The wrap-up: the summary and the whole timeline.
        await page.click(".end-button")
        await page.click('.end-menu [data-reason="resolved"]')
        await page.wait_for_selector("#wrapup:not([hidden])")
        await wait_text(page, ".wrapup-timeline .timeline-quote", DEVICE_CHAT)
        assert (await console.text(".wrapup-summary")).endswith(f" with {DEVICE_NAME}")
        wrapup = ".wrapup-timeline"
        assert f"{DEVICE_NAME} (customer)" in await texts(page, f"{wrapup} .timeline-actor")
        assert await texts(page, f"{wrapup} .timeline-quote") == [AGENT_CHAT, DEVICE_CHAT]
        assert f"topic: {TOPIC}" in await texts(page, f"{wrapup} .timeline-detail")
        await assert_isolated(page, f"{wrapup} .timeline-actor", DEVICE_NAME)

        # The next customer rings at once: the long name without spaces in the ring card.
        await wait_text(page, ".ring-device", QUEUED_LONG)
        await console.wait_ring()
        assert await console.text(".ring-topic") == TOPIC
        await assert_only_text(console)
        await shot("04-wrapup-and-next-ring")
        for container in ("#wrapup", ".ring-card", "#queue"):
            await assert_inside(page, container)
        # Declined, the next one rings; declined too, nobody is left to ring.
        await page.click(".ring-decline")
        await wait_text(page, ".ring-device", QUEUED_RTL)
        await assert_isolated(page, "#ring", QUEUED_RTL)
        await page.click(".ring-decline")
        await page.wait_for_selector("#ring", state="hidden")
        await assert_only_text(console)
    finally:
        await visitor.close()


async def test_long_words_stay_inside_their_boxes(
    make_desk: DeskFactory, open_console: ConsoleFactory, tmp_path: Path
) -> None:
    """A topic longer than the ring card (not possible with today's server, where a topic is a
    slug of at most 64 characters, but the card should not depend on that) and a device name of
    80 characters without a space, in the session's timeline."""
    desk = await make_desk(ring_timeout_s=60.0)
    await desk.add_agent("alice")
    console = await open_console(desk, SMALL)
    page = console.page
    await tamper(page, topic=LONG_TOPIC)
    await console.sign_in("alice")
    await console.set_presence("available")
    await ask_help(desk, QUEUED_LONG)
    await console.wait_ring()
    assert await console.text(".ring-topic") == LONG_TOPIC
    await page.screenshot(path=str(tmp_path / "ring-long-topic.png"))
    broken = await escaping(page, ".ring-card")

    await page.click(".ring-accept")
    await page.wait_for_selector("#session:not([hidden])")
    await page.click("#tab-timeline")
    await wait_text(page, ".session-timeline .timeline-actor", f"{QUEUED_LONG} (customer)")
    await assert_only_text(console)
    await page.screenshot(path=str(tmp_path / "timeline-long-name.png"))
    broken += await escaping(page, "#panel-timeline")
    assert broken == [], f"the layout breaks: {broken}"
