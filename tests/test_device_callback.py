"""Nobody waits in vain, on the device (docs/protocol.md §20): the customer of a real device,
against a real server, is told at once when nobody can serve them and counted down to any free
agent; is told when a closed desk opens; chooses "Call me back", is rung with a chime and
connects with a tap or Enter; and, missing the callback, is told so and finally asked to press
Help again. The tablet, the preview page (in Chromium) and the Tk window (on Xvfb) say it in
English and German without cutting a word.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from PIL import Image

from device_agent import DeviceAgent, i18n
from device_agent.customer import CallbackPrompt, CustomerView
from device_agent.preview import PreviewServer
from device_agent.screens.base import Key, Text
from device_agent.screens.tablet import SimulatedTablet
from device_agent.screens.tablet.text import fit
from device_agent.voice import Pcm
from device_agent.waiting import ring_tone
from device_agent.waiting_text import given_up_text, ring_text, waiting_text

from .browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from .conftest import MEMORY_ONLY, Desk, DeskFactory
from .devices import registered_device
from .support import assert_eventually
from .test_x11 import x_display as x_display

FRAMES_AFTER = "(n) => window.__preview !== undefined && window.__preview.frames > n"
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "callback"
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


@dataclass
class Tablet:
    """A real device showing a simulated tablet, every view it was shown, and its chimes."""

    device: DeviceAgent
    tablet: SimulatedTablet
    views: list[CustomerView] = field(default_factory=list)
    sound: list[Pcm] = field(default_factory=list)

    def tap(self, name: str) -> None:
        assert self.tablet.tap(name, origin="customer"), f"{name} did not take the tap"

    @property
    def view(self) -> CustomerView:
        return self.tablet.customer_view

    async def until(self, what: str, check: Any) -> CustomerView:
        await assert_eventually(lambda: check(self.view), message=f"never {what}: {self.view}")
        return self.view


@pytest.fixture
async def start_tablet() -> AsyncIterator[Any]:
    started: list[DeviceAgent] = []

    async def start(desk: Desk, locale: str = "en-GB", topic: str = "general") -> Tablet:
        tablet = SimulatedTablet()
        views: list[CustomerView] = []

        def surface(view: CustomerView) -> None:
            views.append(view)
            tablet.set_customer_view(view)

        device = await registered_device(
            desk.http, desk.url, tablet, locale=locale, topic=topic, customer_surface=surface
        )
        started.append(device)
        live = Tablet(device, tablet, views)
        device.voice.listeners.append(live.sound.append)
        await device.start()
        return live

    yield start
    for device in started:
        await device.close()


def _closed_today(zone: ZoneInfo) -> tuple[str, float]:
    """Opening hours that are closed all of today in ``zone``, and when they open next."""
    tomorrow = datetime.now(UTC).astimezone(zone) + timedelta(days=1)
    opens = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 8, 0, tzinfo=zone)
    return f"{OSM_DAYS[tomorrow.weekday()]} 08:00-20:00", opens.timestamp()


# --- end to end: a real device against a real server ----------------------------------------------


@MEMORY_ONLY
async def test_a_customer_who_chooses_a_callback_is_rung_and_connects(
    make_desk: DeskFactory, start_tablet: Any
) -> None:
    desk = await make_desk(callback_retries=2)
    live: Tablet = await start_tablet(desk, "de-DE")
    live.tap("customer.help")
    await live.until("offered a callback", lambda v: v.callback_offered)
    assert "customer.callback" in live.tablet.elements()

    live.tap("customer.callback")
    view = await live.until("waiting for the callback", lambda v: v.callback)
    assert not view.callback_offered
    assert "customer.callback" not in live.tablet.elements(), "asked once"
    assert "customer.cancel" in live.tablet.elements(), "and may still cancel"
    # Nobody is signed in: no estimate, so "as soon as someone is free".
    assert waiting_text(view).title == "Wir rufen Sie zurück. Sobald jemand frei ist."
    assert live.device.ticket is not None
    assert live.device.ticket["callback"]["missed"] == 0

    alice = await desk.agent("alice", languages=("de",))
    calling = await alice.next("callback.calling")
    view = await live.until("rung", lambda v: v.callback_ring is not None)
    assert view.callback_ring is not None
    assert view.callback_ring.agent_name == "alice"
    assert view.callback_ring.seconds_left is not None
    assert view.callback_ring.seconds_left <= 30
    assert ring_text(view) == "alice ist bereit, Ihnen zu helfen: jetzt verbinden?"
    elements = live.tablet.elements()
    assert {"customer.callback_accept", "customer.callback_decline"} <= set(elements)
    assert "customer.cancel" not in elements, "only the ring's own buttons take taps"
    # The chime went to whatever plays the customer's sound.
    assert len(live.sound) == len(ring_tone())
    # The customer's Enter connects (the preview page's keyboard).
    assert live.tablet.inject(Key("Enter"), "customer") is True
    await asyncio.wait_for(live.device.started.wait(), 10)
    started = await alice.next("session.started")
    assert started["session_id"] == calling["ticket"]["ticket_id"]
    view = await live.until("connected", lambda v: v.phase in ("connecting", "connected"))
    assert view.callback_ring is None
    assert not view.callback


@MEMORY_ONLY
async def test_a_missed_callback_is_said_and_the_last_one_asks_for_help_again(
    make_desk: DeskFactory, start_tablet: Any
) -> None:
    desk = await make_desk(callback_ring_s=0.5, callback_retries=1, callback_retry_s=0.5)
    live: Tablet = await start_tablet(desk)
    live.tap("customer.help")
    await live.until("offered a callback", lambda v: v.callback_offered)
    live.tap("customer.callback")
    await live.until("waiting for the callback", lambda v: v.callback)

    alice = await desk.agent("alice")
    first = await live.until("rung", lambda v: v.callback_ring is not None)
    assert first.callback_ring is not None
    assert first.callback_ring.attempt == 1
    # Unanswered: the server rings again at once (alice is still free), attempt 2.
    again = await live.until(
        "rung again",
        lambda v: v.callback_ring is not None and v.callback_ring.attempt == 2,
    )
    missed = [v for v in live.views if v.callback_missed is not None and v.callback_ring is None]
    assert missed, "the miss was never said"
    # retries=1: one miss survived, so one more ring comes: "we'll try 1 more time".
    assert {v.callback_missed for v in missed} == {1}
    assert waiting_text(missed[-1]).title == (
        "We missed you. You keep your place; we'll try 1 more time."
    )
    assert again.callback_missed is None, "the ring's dialog says what matters now"

    # "Not now" on the last try: the callback is over and the customer is told to press Help.
    live.tap("customer.callback_decline")
    view = await live.until("given up", lambda v: v.phase == "idle" and v.callback_given_up)
    assert given_up_text(view) == (
        "We couldn't reach you, so your callback was closed. Press Help to ask again."
    )
    assert "customer.help" in live.tablet.elements()
    assert (await alice.next("ring.cancelled"))["reason"] == "callback_missed"

    live.tap("customer.help")  # asking again forgets the old callback
    view = await live.until("waiting again", lambda v: v.phase == "queued")
    assert not view.callback_given_up
    assert view.callback_missed is None


@MEMORY_ONLY
async def test_an_unmatched_customer_is_told_at_once_and_counted_down(
    make_desk: DeskFactory, start_tablet: Any
) -> None:
    desk = await make_desk(overflow_s=2.5)
    alice = await desk.agent("alice", languages=("en",))
    live: Tablet = await start_tablet(desk, "de-DE")
    live.tap("customer.help")
    view = await live.until("told nobody matches", lambda v: not v.matched)
    assert view.widens_in_s is not None
    assert 1 <= view.widens_in_s <= 3
    words = waiting_text(view)
    assert words.title == i18n.no_match("de")
    assert words.lines[0].startswith("In ")
    assert "Sekunde" in words.lines[0]
    assert view.callback_offered, "a callback is offered while waiting"

    ring = await alice.next("ring", timeout=10)
    assert ring["ticket"]["widened"] is True
    view = await live.until("widened", lambda v: v.widened)
    assert i18n.widened("de") in waiting_text(view).lines
    counted = [v.widens_in_s for v in live.views if v.widens_in_s is not None]
    assert counted == sorted(counted, reverse=True), counted
    assert len(set(counted)) >= 2, f"the countdown never moved: {counted}"
    await alice.call("ring.accept", {"ring_id": ring["ring_id"]})
    await asyncio.wait_for(live.device.started.wait(), 10)


@MEMORY_ONLY
async def test_a_closed_desk_says_when_it_opens_and_offers_the_callback_first(
    make_desk: DeskFactory, start_tablet: Any
) -> None:
    zone = ZoneInfo("Pacific/Auckland")
    hours, opens_at = _closed_today(zone)
    desk = await make_desk(opening_hours=hours, time_zone="Pacific/Auckland")
    live: Tablet = await start_tablet(desk, "de-DE")
    live.tap("customer.help")
    view = await live.until("told it is closed", lambda v: v.opens_at is not None)
    assert view.opens_at == opens_at
    words = waiting_text(view)
    assert words.title == i18n.closed_status("de", opens_at)
    assert words.title.startswith("Wir haben gerade geschlossen. Wieder für Sie da: ")
    assert words.callback_prominent
    assert view.callback_offered
    live.tap("customer.callback")
    view = await live.until("waiting for the callback", lambda v: v.callback)
    assert i18n.closed_status("de", opens_at) in waiting_text(view).lines


# --- the surfaces: every state drawn whole, in English and German ---------------------------------

OPENS = time.mktime((2026, 11, 30, 6, 0, 0, 0, 0, -1))
STATES: dict[str, CustomerView] = {
    "no-match": CustomerView(
        phase="queued", position=1, agents_online=0, matched=False, widens_in_s=27,
        callback_offered=True,
    ),
    "widened": CustomerView(
        phase="queued", position=2, estimated_wait_s=200, agents_online=3, widened=True,
        callback_offered=True,
    ),
    "closed": CustomerView(phase="queued", position=1, agents_online=0, opens_at=OPENS,
                           callback_offered=True),
    "callback": CustomerView(phase="queued", position=1, estimated_wait_s=250, callback=True),
    "callback-closed": CustomerView(phase="queued", callback=True, opens_at=OPENS),
    "missed": CustomerView(phase="queued", estimated_wait_s=30, callback=True, callback_missed=2),
    "ring": CustomerView(
        phase="queued", callback=True, callback_ring=CallbackPrompt("Anna-Katharina", 27, 1)
    ),
    "given-up": CustomerView(phase="idle", callback_given_up=True),
}  # fmt: skip


def _fixed_clock() -> time.struct_time:
    return time.struct_time((2026, 11, 24, 10, 42, 0, 1, 328, 0))


@pytest.mark.parametrize("locale", ["en", "de"])
@pytest.mark.parametrize("state", sorted(STATES))
def test_the_tablet_draws_every_state_whole(state: str, locale: str) -> None:
    view = replace(STATES[state], locale=locale)
    tablet = SimulatedTablet(clock=_fixed_clock)
    tablet.set_customer_view(view)
    frame = tablet.capture()
    SHOTS.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).save(SHOTS / f"tablet-{state}-{locale}.png")
    elements = tablet.elements()
    words = waiting_text(view) if view.phase == "queued" else None
    # Nothing is cut with an ellipsis: every text wraps (fit() would cut it).
    if words is not None:
        for line in (words.title, *words.lines):
            assert "…" not in line
    for name, rect in elements.items():
        if name.startswith("customer."):
            assert 0 <= rect.x <= 1280 - rect.width, name
            assert 0 <= rect.y <= 800 - rect.height, name
    if view.callback_ring is not None:
        assert {n for n in elements if n.startswith("customer.")} == {
            "customer.callback_accept",
            "customer.callback_decline",
        }
    elif view.phase == "queued":
        assert ("customer.callback" in elements) == view.callback_offered
        assert "customer.cancel" in elements
    # Every button's label fits its button.
    labels = {
        "customer.callback": i18n.text(locale, "callback_button"),
        "customer.callback_accept": i18n.text(locale, "callback_connect"),
        "customer.callback_decline": i18n.text(locale, "callback_not_now"),
    }
    for name, label in labels.items():
        if name in elements:
            assert fit(label, 17, elements[name].width - 16) == label, (name, label)


def test_the_ring_takes_the_customers_keys_and_taps_only() -> None:
    answered: list[tuple[str, object]] = []
    tablet = SimulatedTablet(on_customer_action=lambda a, v: answered.append((a, v)))
    tablet.set_customer_view(STATES["ring"])
    frame = tablet.capture().copy()
    assert not tablet.tap("customer.callback_accept", origin="agent")
    assert not tablet.tap("customer.callback_decline", origin="agent")
    assert np.array_equal(tablet.capture(), frame)
    tablet.inject(Key("Enter"), "agent")  # the agent's keys go to the apps, never to the ring
    tablet.inject(Key("Escape"), "agent")
    assert not tablet.inject(Text("x"), "customer")  # nothing to type into
    assert answered == []
    assert tablet.inject(Key("Escape"), "customer")
    assert tablet.tap("customer.callback_accept", origin="customer")
    assert answered == [("callback_decline", None), ("callback_accept", None)]


def test_the_tk_window_says_it_in_english_and_german(x_display: str) -> None:
    # Tk in a thread of its own, as the window runs it: Tk keeps a display open for the thread
    # that used it until the thread ends, and one left open in the main thread after its Xvfb
    # stopped ends the process at the next Tk test's first event.
    with ThreadPoolExecutor(max_workers=1) as pool:
        said = pool.submit(_tk_says, x_display).result(timeout=30)
    assert said[("no-match", "en")] == (
        [
            "No agent who speaks your language or knows this topic is online right now.",
            "In 27 seconds we'll connect you with any free agent, in your language if we can.",
            "Leave the line and keep your place. We'll ring you when an agent is free.",
        ],
        ["callback", "cancel"],
    )
    assert said[("closed", "de")][1] == ["callback", "cancel"]
    assert said[("closed", "de")][0][0].startswith("Wir haben gerade geschlossen.")
    assert said[("missed", "en")][0][0] == (
        "We missed you. You keep your place; we'll try 2 more times."
    )
    assert said[("ring", "de")] == (
        ["Anna-Katharina ist bereit, Ihnen zu helfen: jetzt verbinden?", "27"],
        ["callback_accept", "callback_decline"],
    )
    assert said[("given-up", "en")] == (
        ["We couldn't reach you, so your callback was closed. Press Help to ask again."],
        ["help"],
    )


def _tk_says(display: str) -> dict[tuple[str, str], tuple[list[str], list[str]]]:
    """What the Tk window's content says for some states (its labels, its buttons' actions)."""
    import tkinter

    from device_agent.ui_tk.content import build

    from .test_requeue import _descendants

    root = tkinter.Tk(screenName=display)
    said: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    try:
        for locale in ("en", "de"):
            for state in ("no-match", "closed", "missed", "ring", "given-up"):
                frame = tkinter.Frame(root)
                buttons = build(frame, replace(STATES[state], locale=locale), None, _ignore)
                texts = [
                    str(child.cget("text"))
                    for child in _descendants(frame)
                    if isinstance(child, tkinter.Label)
                ]
                said[(state, locale)] = (texts, sorted(buttons))
                frame.destroy()
    finally:
        root.destroy()
        del root
        gc.collect()  # the interpreter is freed in the thread that made it (Tcl_AsyncDelete)
    return said


def _ignore(_action: object, _value: object) -> None:
    return None


# --- the preview page in Chromium: the customer's view as a person uses it -----------------------


@pytest.fixture
def chromium_path() -> str:
    require_chromium()
    return CHROMIUM


@MEMORY_ONLY
@pytest.mark.parametrize("locale", ["en-GB", "de-DE"])
async def test_the_preview_page_rings_chimes_and_connects_with_enter(
    make_desk: DeskFactory, start_tablet: Any, chromium_path: str, locale: str
) -> None:
    from playwright.async_api import async_playwright

    desk = await make_desk(overflow_s=60)
    await desk.agent("alice", languages=("nl",))  # signed in, but speaks no English or German
    live: Tablet = await start_tablet(desk, locale)
    preview = PreviewServer.of_device(live.device, live.tablet, "kitchen tablet")
    url = await preview.start()
    lang = locale[:2]
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1366, "height": 900})
                await page.goto(url)
                await page.wait_for_function(FRAMES_AFTER, arg=0)

                async def click(name: str) -> None:
                    box = await page.locator("#screen").bounding_box()
                    assert box is not None
                    rect = live.tablet.elements()[name]
                    scale = box["width"] / 1280
                    await page.mouse.click(
                        box["x"] + (rect.x + rect.width / 2) * scale,
                        box["y"] + (rect.y + rect.height / 2) * scale,
                    )

                async def shot(name: str) -> None:
                    frames = await page.evaluate("window.__preview.frames")
                    await page.wait_for_function(FRAMES_AFTER, arg=frames)
                    await page.screenshot(path=str(SHOTS / f"preview-{name}-{lang}.png"))

                await click("customer.help")
                await live.until("told nobody matches", lambda v: not v.matched)
                await shot("no-match")
                await click("customer.callback")
                await live.until("waiting for the callback", lambda v: v.callback)
                await shot("callback")

                bob = await desk.agent("bob", languages=("en", "de"))
                await live.until("rung", lambda v: v.callback_ring is not None)
                # The chime reached the page (its sound went on with the first click).
                await page.wait_for_function("() => window.__preview.audioChunks > 0")
                await shot("ring")
                await page.keyboard.press("Enter")
                await asyncio.wait_for(live.device.started.wait(), 10)
                assert (await bob.next("session.started"))["agent"]["name"] == "bob"
            finally:
                await browser.close()
    finally:
        await preview.stop()
