"""The agent's marks on the customer's real web page (docs/cobrowse.md, "Drawing").

The widget (customer_web/overlay.js) draws what arrives on the ``annotations`` channel over the
page, in document coordinates: the real widget on the shop page in Chromium, an aiortc agent
(tests/browser_flows/widget.py). Then the real console: the pen over the replay sends points
normalized to the replayed document (the fake widget of tests/browser_flows/test_console_cobrowse.py).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from aiortc import RTCDataChannel

from ..conftest import Desk, DeskFactory
from ..support import Client
from .console import ConsoleFactory
from .test_console_cobrowse import VIEWPORT, WebCustomer, mirror_shows, scroll_to
from .widget import AgentPeer, Customer, Shop, add_site, snapshot_with, step

pytestmark = pytest.mark.timeout(180)

FADE_S = 8.0  # device_agent/overlay.py: AnnotationLayer(fade_s=8.0), fading over its last second

# A tall page with a button far down, placed in document coordinates (the body is not positioned,
# so an absolute element's containing block is the document's).
TALL_PAGE_JS = """() => {
    const tall = document.createElement('div');
    tall.style.height = '2600px';
    document.querySelector('#more').append(tall);
    const button = document.createElement('button');
    button.id = 'under';
    button.textContent = 'Add the lid';
    Object.assign(button.style, {position: 'absolute', left: '300px', top: '1200px',
                                 width: '200px', height: '60px'});
    window.clicks = 0;
    button.addEventListener('click', () => { window.clicks += 1; });
    document.body.append(button);
}"""

DOC_SIZE_JS = """() => {
    const root = document.scrollingElement;
    return [root.scrollWidth, root.scrollHeight];
}"""

# Every mark shown: its id, tool, and its geometry's box in document and viewport pixels.
MARKS_JS = """() => {
    const host = document.querySelector('mayday-marks');
    if (!host) return [];
    return [...host.marks.querySelectorAll('svg > g')].map(g => {
        const shape = g.firstElementChild;
        const r = shape.getBoundingClientRect();
        return {id: g.dataset.id ?? null, tool: g.dataset.tool, opacity: Number(g.getAttribute('opacity')),
                tag: shape.tagName, left: r.left + scrollX, top: r.top + scrollY,
                right: r.right + scrollX, bottom: r.bottom + scrollY, vtop: r.top, vleft: r.left};
    });
}"""


def norm(x: float, y: float, size: list[int]) -> list[float]:
    return [round(x / size[0], 5), round(y / size[1], 5)]


async def marks(customer: Customer) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await customer.page.evaluate(MARKS_JS)
    return result


async def wait_marks(customer: Customer, predicate: Callable[[list[dict[str, Any]]], bool]) -> None:
    deadline = time.monotonic() + 15
    while True:
        shown = await marks(customer)
        if predicate(shown):
            return
        assert time.monotonic() < deadline, f"the overlay shows {shown}"
        await asyncio.sleep(0.05)


def by_id(shown: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {mark["id"]: mark for mark in shown if mark["id"]}


async def test_the_agents_marks_appear_on_the_customers_page(
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

    with step("a session: the page arrives on the cobrowse channel"):
        await page.evaluate(TALL_PAGE_JS)
        await customer.press(".help")
        ring = await agent.next("ring", timeout=15)
        peer = agent_peers(agent)
        await agent.call("ring.accept", {"ring_id": ring["ring_id"]})
        mirror = await peer.answer(await agent.next("rtc.offer", timeout=15))
        await mirror.wait_event(snapshot_with("Add the lid"))
        await customer.phase("active")
        channel: RTCDataChannel = peer.channels["annotations"]

        def send(message: dict[str, Any]) -> None:
            channel.send(json.dumps(message))

    size = await page.evaluate(DOC_SIZE_JS)
    assert size[1] > 2600, size

    with step("a stroke and a pinned circle, at their document positions"):
        pen = [(310.0, 1190.0), (400.0, 1230.0), (520.0, 1215.0)]
        send(
            {
                "type": "stroke",
                "id": "pen1",
                "tool": "pen",
                "color": "#ff3b30",
                "points": [norm(x, y, size) for x, y in pen],
                "done": True,
            }
        )
        sent_pen_at = time.monotonic()
        send(
            {
                "type": "stroke",
                "id": "arrow1",
                "tool": "arrow",
                "color": "#34c759",
                "width": 0.005,
                "points": [norm(700, 1000, size), norm(540, 1200, size)],
            }
        )
        send(
            {
                "type": "stroke",
                "id": "hl0",
                "tool": "highlight",
                "color": "#ffcc00",
                "points": [norm(40, 1330, size), norm(600, 1330, size)],
            }
        )
        send(
            {
                "type": "stroke",
                "id": "ring1",
                "tool": "circle",
                "color": "#0a84ff",
                "width": 0.004,
                "points": [norm(280, 1180, size), norm(520, 1280, size)],
                "pinned": True,
            }
        )
        ids = {"pen1", "ring1", "arrow1", "hl0"}
        await wait_marks(customer, lambda shown: ids <= set(by_id(shown)))
        shown = by_id(await marks(customer))
        arrow = shown["arrow1"]
        assert arrow["tag"] == "line", arrow  # the shaft, from (700, 1000) down to the left
        assert abs(arrow["right"] - 700) < 1.5, arrow
        assert abs(arrow["top"] - 1000) < 1.5, arrow
        line = shown["pen1"]
        assert (line["tool"], line["tag"]) == ("pen", "polyline")
        # The geometry's box (strokes excluded) is the points' box, in document pixels.
        for side, expected in (("left", 310), ("right", 520), ("top", 1190), ("bottom", 1230)):
            assert abs(line[side] - expected) < 1.5, (side, line)
        circle = shown["ring1"]
        lw = max(1, round(0.004 * size[0]))
        assert circle["tag"] == "ellipse"
        # The outline inside the box of the points, as the tablet draws it.
        assert abs(circle["left"] - (280 + lw / 2)) < 1.5, (circle, lw)
        assert abs(circle["right"] - (520 - lw / 2)) < 1.5, (circle, lw)
        assert abs(circle["top"] - (1180 + lw / 2)) < 1.5, (circle, lw)
        assert abs(circle["bottom"] - (1280 - lw / 2)) < 1.5, (circle, lw)

    with step("the customer scrolls: the marks stay on the content"):
        await page.evaluate("() => window.scrollTo(0, 900)")
        await page.wait_for_function("() => scrollY === 900")
        after = by_id(await marks(customer))
        for key in ids:
            assert abs(after[key]["top"] - shown[key]["top"]) < 0.5, (after[key], shown[key])
            assert abs(after[key]["vtop"] - (shown[key]["top"] - 900)) < 0.5, after[key]
        await customer.shot("annotations-1-marks")

    with step("a click on the page under a mark reaches the page"):
        x, y = 400, 1230 - 900  # on the pen line, over the button
        hit = await page.evaluate("([x, y]) => document.elementFromPoint(x, y)?.id", [x, y])
        assert hit == "under"
        await page.mouse.click(x, y)
        assert await page.evaluate("() => window.clicks") == 1

    with step("invalid messages are ignored"):
        invalid: list[dict[str, Any]] = [
            {"type": "stroke", "id": "bad1", "tool": "pen", "points": [[1.5, 0.2]]},
            {"type": "stroke", "id": "bad2", "tool": "pen", "points": [[0.1, 0.2]], "extra": 1},
            {"type": "stroke", "id": "bad3", "tool": "pen", "points": [[0.1, 0.1]] * 2001},
            {"type": "stroke", "id": "bad4", "tool": "spray", "points": [[0.1, 0.2]]},
            {"type": "stroke", "id": "bad 5", "tool": "pen", "points": [[0.1, 0.2]]},
            {"type": "stroke", "id": "bad6", "tool": "pen", "points": [[0.1, 0.2]], "width": 0.2},
            {"type": "stroke", "id": "bad7", "tool": "pen", "points": [], "color": "red"},
            {"type": "laser", "x": -0.1, "y": 0.5},
            {"type": "teleport"},
        ]
        for message in invalid:
            send(message)
        channel.send("not json")
        send(
            {
                "type": "stroke",
                "id": "hl1",
                "tool": "highlight",
                "color": "#ffcc00",
                "points": [norm(40, 1300, size), norm(260, 1300, size)],
                "pinned": True,
            }
        )
        await wait_marks(customer, lambda shown: "hl1" in by_id(shown))
        assert set(by_id(await marks(customer))) == {"pen1", "ring1", "arrow1", "hl0", "hl1"}

    with step("the unpinned stroke fades after the tablet's fade time; pinned marks stay"):
        await wait_marks(customer, lambda shown: not {"pen1", "arrow1", "hl0"} & set(by_id(shown)))
        elapsed = time.monotonic() - sent_pen_at
        assert FADE_S - 1.2 <= elapsed <= FADE_S + 2, elapsed
        assert {"ring1", "hl1"} <= set(by_id(await marks(customer)))

    with step("a resize lays the marks out against the new document width"):
        await page.set_viewport_size({"width": 1000, "height": 768})
        # The overlay must not hold the document at its old width once it has re-laid out.
        await page.wait_for_function("w => document.scrollingElement.scrollWidth < w", arg=size[0])
        new_size = await page.evaluate(DOC_SIZE_JS)
        assert new_size[0] < size[0]

        def relaid(shown: list[dict[str, Any]]) -> bool:
            ring = by_id(shown).get("ring1")
            return ring is not None and abs(ring["left"] - (280 / size[0] * new_size[0])) < 3

        await wait_marks(customer, relaid)
        await page.set_viewport_size({"width": 1366, "height": 768})

    with step("laser, undo and clear"):
        send({"type": "laser", "x": 0.3, "y": 0.45})
        await wait_marks(customer, lambda shown: any(m["tool"] == "laser" for m in shown))
        await wait_marks(customer, lambda shown: all(m["tool"] != "laser" for m in shown))
        send({"type": "undo"})
        await wait_marks(customer, lambda shown: set(by_id(shown)) == {"ring1"})
        send({"type": "pin", "id": "ring1", "pinned": True})
        send({"type": "clear"})
        await wait_marks(customer, lambda shown: shown == [])

    with step("the overlay is never recorded"):
        await page.evaluate("() => { document.querySelector('#more').append('after the marks'); }")
        await mirror.wait_event(lambda e, t: e["type"] == 3 and "after the marks" in t)
        for text in mirror.texts:
            for word in ("polyline", "ellipse", "data-tool", "pen1", "ring1"):
                assert word not in text, f"{word} was recorded"
    customer.assert_clean()


async def test_the_console_draws_on_the_replay_in_document_coordinates(
    desk: Desk, open_console: ConsoleFactory
) -> None:
    await desk.add_agent("alice")
    console = await open_console(desk)
    page = console.page
    await console.sign_in("alice")
    await console.set_presence("available")
    customer = WebCustomer(desk)
    received: list[dict[str, Any]] = []
    try:
        await customer.ask_help()
        await console.wait_ring()
        await page.click(".ring-accept")
        await customer.connect()
        assert customer.pc is not None
        assert customer.pc.sctp is not None
        # The fake widget keeps no handle on its `annotations` channel: found by its label.
        channels = customer.pc.sctp._data_channels.values()
        annotations = next(c for c in channels if c.label == "annotations")
        annotations.on("message", lambda raw: received.append(json.loads(raw)))
        customer.show_page("Example Shop")
        await mirror_shows(console, "Your basket: 3 items")
        await page.wait_for_selector("iframe.replay-host:not([hidden])")
        customer.send_event(scroll_to(400))
        await page.wait_for_function(
            "() => window.mayday.cobrowse.replay.document.defaultView.scrollY === 400"
        )
        geometry = await page.evaluate(
            """viewportWidth => {
                const r = document.querySelector('iframe.replay-host').getBoundingClientRect();
                const root = window.mayday.cobrowse.replay.document.scrollingElement;
                return {left: r.left, top: r.top, scale: r.width / viewportWidth,
                        width: root.scrollWidth, height: root.scrollHeight};
            }""",
            VIEWPORT["width"],
        )

        def client(x: float, y: float) -> tuple[float, float]:
            """A point of the customer's viewport → the console's page."""
            s = geometry["scale"]
            return geometry["left"] + x * s, geometry["top"] + y * s

        await page.mouse.move(*client(200, 300))
        await page.mouse.down()
        for step_x in range(220, 420, 20):
            await page.mouse.move(*client(step_x, 300 + (step_x - 200) / 4))
        await page.mouse.up()

        def done() -> dict[str, Any] | None:
            strokes = [m for m in received if m["type"] == "stroke" and m["done"]]
            return strokes[-1] if strokes else None

        deadline = time.monotonic() + 10
        while done() is None:
            assert time.monotonic() < deadline, received
            await asyncio.sleep(0.05)
        stroke = done()
        assert stroke is not None
        assert stroke["tool"] == "pen"
        first, last = stroke["points"][0], stroke["points"][-1]
        width, height = geometry["width"], geometry["height"]
        tolerance = 2 / geometry["scale"]  # a console pixel, in page pixels
        assert abs(first[0] * width - 200) < tolerance + 1, (first, geometry)
        assert abs(first[1] * height - (300 + 400)) < tolerance + 1, (first, geometry)
        assert abs(last[0] * width - 400) < tolerance + 1, (last, geometry)
        assert abs(last[1] * height - (350 + 400)) < tolerance + 1, (last, geometry)

        # The agent's preview is drawn on the replayed page, and scrolls with it.
        async def preview_at(x: float, y: float) -> int:
            alpha: int = await page.evaluate(
                """([x, y]) => {
                    const c = document.querySelector('#marks');
                    const r = c.getBoundingClientRect();
                    const k = c.width / r.width;
                    const d = c.getContext('2d').getImageData(
                        Math.round((x - r.left) * k) - 2, Math.round((y - r.top) * k) - 2, 5, 5).data;
                    let max = 0;
                    for (let i = 3; i < d.length; i += 4) max = Math.max(max, d[i]);
                    return max;
                }""",
                list(client(x, y)),
            )
            return alpha

        assert await preview_at(300, 325) > 0
        customer.send_event(scroll_to(500))
        await page.wait_for_function(
            "() => window.mayday.cobrowse.replay.document.defaultView.scrollY === 500"
        )
        await asyncio.sleep(0.2)
        assert await preview_at(300, 225) > 0
        assert await preview_at(300, 325) == 0
        await console.shot("cobrowse-drawing")
        console.assert_clean()
    finally:
        await customer.close()
