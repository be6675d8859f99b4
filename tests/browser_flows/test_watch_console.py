"""A supervisor watches and joins a colleague's session from the wallboard, in the real console
(agent_web/watch.js, docs/protocol.md §19.3), against a real server and a simulated tablet
streaming its screen; the session's agent is a headless one (sim.HeadlessAgent).

Sue (a supervisor) opens the wallboard and reaches the Watch button on Alice's row with Tab, then
Enter: the tablet's screen plays in the watch view and the customer's own screen lists Sue as
watching. Watching only, she can neither draw nor write. She joins: her stroke reaches the tablet's
annotation layer in her purple, and her chat line reaches the device as the supervisor's. She
leaves: the customer no longer lists her, and the focus is back on the Watch button. She watches
again and the agent ends the session: the view says so and closes. Names and chat lines are
markup that must stay text. axe-core checks the view at 1366×768 and at a phone's 390×844, and
screenshots go to test-artifacts/console/ (``watch-*.png``).

Slow (a browser, WebRTC): one flow, run once (the browser flows' in-memory live store).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from signaling import Event
from signaling import models as m
from sim import HeadlessAgent

from ..conftest import Desk
from ..support import assert_eventually
from .console import XSS, Console, ConsoleFactory, TabletFactory
from .test_console_a11y import LAPTOP, PHONE, axe_findings

pytestmark = pytest.mark.timeout(180)

SUPERVISOR_PURPLE = "#8e24aa"
VIEW = '.console[data-view="wallboard"][data-watching="true"] #watch'
FRAMES = "() => document.querySelector('#watch video.stage-video').getVideoPlaybackQuality().totalVideoFrames"


async def tab_to(page: Page, selector: str, most: int = 80) -> None:
    """Press Tab until `selector` has the focus, with a visible focus ring; fail if it never does."""
    for _ in range(most):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"() => document.activeElement?.matches({selector!r}) ?? false"):
            ring = await page.evaluate(
                "() => [getComputedStyle(document.activeElement).outlineStyle,"
                " document.activeElement.matches(':focus-visible')]"
            )
            assert ring == ["solid", True], f"no visible focus on {selector}: {ring}"
            return
    raise AssertionError(f"Tab never reached {selector}")


async def looks(console: Console, name: str) -> list[str]:
    """Screenshots at 1366×768 and 390×844, no sideways scrolling, axe's severe findings."""
    page = console.page
    findings: list[str] = []
    for suffix, viewport in (("", LAPTOP), ("-phone", PHONE)):
        await page.set_viewport_size(viewport)
        await page.wait_for_function(
            "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        await console.shot(f"watch-{name}{suffix}")
        findings += [f"{name}{suffix}: {line}" for line in await axe_findings(console)]
    await page.set_viewport_size(LAPTOP)
    return findings


async def test_a_supervisor_watches_joins_and_leaves_from_the_wallboard(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    await desk.add_agent("alice")
    await desk.add_agent("sue", role="supervisor")
    agent = HeadlessAgent(desk.url, await desk.token("alice"))
    try:
        await agent.start()
        customer = await tablets(desk, name=XSS)
        device, tablet = customer.device, customer.tablet
        # What the device hears in its chat, sender and all (then it shows it as always).
        heard: list[dict[str, Any]] = []
        show_chat = device._on_chat

        async def hear_chat(data: dict[str, Any]) -> None:
            heard.append(data)
            await show_chat(data)

        device.client.on(Event.CHAT_MESSAGE, hear_chat)
        assert tablet.tap("customer.help", origin="customer")
        session_id = await agent.accept((await agent.next_ring())["ring_id"])
        await agent.wait_first_frame(timeout=20)
        await device.send_chat("My printer says <b>offline</b>")

        console = await open_console(desk)
        page = console.page
        await console.sign_in("sue")
        await page.click('#view-switch button[data-view="wallboard"]')
        alice_row = '#wallboard .wb-agent:has(.wb-name:text-is("alice"))'
        watch_button = f'{alice_row}[data-state="in_session"] .wb-watch'
        await page.wait_for_selector(watch_button)
        assert await page.get_attribute(watch_button, "aria-label") == "Watch alice's session"
        assert await page.locator("#wallboard .wb-watch").count() == 1, "only Alice is in a session"
        findings = await looks(console, "wallboard")

        # Watch, with the keyboard alone: the customer's screen plays, the customer is told.
        await page.focus('#view-switch button[data-view="wallboard"]')
        await tab_to(page, ".wb-watch")
        await page.keyboard.press("Enter")
        await page.wait_for_selector(VIEW)
        await page.wait_for_function(f"() => ({FRAMES})() > 0", timeout=20_000)
        seen = await page.evaluate(FRAMES)
        await page.wait_for_function(f"() => ({FRAMES})() > {seen}", timeout=20_000)
        assert await console.text("#watch .watch-agent") == "alice"
        assert await console.text("#watch .watch-customer") == XSS
        assert await page.locator("#watch img").count() == 0
        await assert_eventually(lambda: tablet.customer_view.watchers == (("sue", "watch"),))
        await page.wait_for_selector('#watch .watch-person.is-me[data-mode="watch"]')
        await page.wait_for_selector('#watch .chat-line:has-text("My printer says <b>offline</b>")')
        assert await console.text("#watch .chat-line .chat-sender") == f"Customer · {XSS}"

        # Watching only: no tools, no chat input, and a stroke on the picture goes nowhere.
        assert await page.is_hidden("#watch .watch-toolbar")
        assert await page.is_disabled("#watch .chat-input")
        box = await page.eval_on_selector(
            "#watch video.stage-video",
            "v => { const r = v.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }",
        )
        x, y, width, height = box
        await page.mouse.move(x + width * 0.3, y + height * 0.3)
        await page.mouse.down()
        await page.mouse.move(x + width * 0.6, y + height * 0.6, steps=8)
        await page.mouse.up()
        assert await page.evaluate("() => window.mayday.watch.annotator.marks.length") == 0
        findings += await looks(console, "watching")

        # Join (Tab, Enter): the tools and the chat open; the customer is told.
        await page.focus("#watch .watch-title")
        await tab_to(page, "#watch .watch-join")
        await page.keyboard.press("Enter")
        await page.wait_for_selector('#watch[data-watch-mode="join"]')
        await assert_eventually(lambda: tablet.customer_view.watchers == (("sue", "join"),))
        assert await page.evaluate(
            "() => document.activeElement.classList.contains('watch-unjoin')"
        )
        assert await page.is_visible("#watch .watch-toolbar")
        await page.wait_for_function("() => window.mayday.watch.annotator.ready")

        # A stroke in her own colour reaches the device's annotation layer.
        box = await page.eval_on_selector(
            "#watch video.stage-video",
            "v => { const r = v.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }",
        )
        x, y, width, height = box
        await page.mouse.move(x + width * 0.3, y + height * 0.3)
        await page.mouse.down()
        await page.mouse.move(x + width * 0.6, y + height * 0.5, steps=8)
        await page.mouse.up()
        await assert_eventually(
            lambda: any(
                mark.color.lower() == SUPERVISOR_PURPLE for mark in device.annotations.visible()
            ),
            message="the supervisor's stroke never reached the device",
        )

        # A chat line reaches the device as the supervisor's; the agent's line is labelled so.
        await page.fill("#watch .chat-input", f"Sue here {XSS}")
        await page.keyboard.press("Enter")
        await assert_eventually(
            lambda: any(line.get("text") == f"Sue here {XSS}" for line in heard),
            message="the device never got the supervisor's chat line",
        )
        line = next(line for line in heard if line.get("text") == f"Sue here {XSS}")
        assert (line["sender"], line["name"]) == ("supervisor", "sue")
        assert tablet.customer_view.chat[-1].name == "sue"
        await agent.client.call(
            Event.CHAT_SEND, m.ChatSend(session_id=session_id, text="Thanks, Sue")
        )
        await page.wait_for_selector('#watch .chat-line.from-agent:has-text("Sue here")')
        await page.wait_for_selector('#watch .chat-line:has-text("Thanks, Sue")')
        senders = await page.eval_on_selector_all(
            "#watch .chat-sender", "nodes => nodes.map(n => n.textContent)"
        )
        assert senders == [f"Customer · {XSS}", "You", "Agent · alice"], senders
        findings += await looks(console, "joined")

        # Leave (Tab, Enter): the customer no longer lists her; the focus is back on Watch.
        await tab_to(page, "#watch .watch-leave")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#watch", state="hidden")
        await page.wait_for_selector("#wallboard:not([hidden])")
        await assert_eventually(lambda: tablet.customer_view.watchers == ())
        await assert_eventually(lambda: not device.watchers.names)
        assert await page.evaluate("() => document.activeElement.classList.contains('wb-watch')")

        # Watching again; the agent ends the session: the view says so and offers Close.
        await page.keyboard.press("Enter")
        await page.wait_for_selector(VIEW)
        await assert_eventually(lambda: tablet.customer_view.watchers == (("sue", "watch"),))
        await agent.end_session("resolved")
        await page.wait_for_selector("#watch .watch-ended:not([hidden])")
        assert "has ended (resolved, by the agent)" in await console.text(
            "#watch .watch-ended-text"
        )
        assert await page.is_hidden("#watch .watch-join")
        assert await page.is_hidden("#watch .watch-leave")
        assert await page.evaluate("() => document.activeElement.classList.contains('watch-close')")
        findings += await looks(console, "ended")
        await page.keyboard.press("Enter")
        await page.wait_for_selector("#watch", state="hidden")
        assert findings == [], "\n".join(findings)
        console.assert_clean()
    finally:
        await agent.close()
