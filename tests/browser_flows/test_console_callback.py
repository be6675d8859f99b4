"""Callbacks and overflow in the agent console (docs/protocol.md §20, agent_web/callback.js): the
queue marks a callback ("Callback", no Take) and a customer routed past their language
("Overflow — language: de"); while the desk holds the agent for a callback the console says whom
it calls, and Withdraw gives the customer back to the queue without costing them anything. The
flow where the customer answers, in the real widget, is in test_widget_callback.py.

The customers are protocol clients in this process (tests/support.py); slow (a browser), so run
once, in memory, like the other flows (conftest.py). Screenshots go to test-artifacts/console/.
"""

from __future__ import annotations

import pytest

from ..conftest import DeskFactory
from .console import ConsoleFactory
from .widget import DESKTOP, step

pytestmark = pytest.mark.timeout(120)


async def test_the_console_marks_callbacks_and_overflow_and_an_agent_withdraws(
    make_desk: DeskFactory, open_console: ConsoleFactory
) -> None:
    desk = await make_desk(overflow_s=1, decline_hold_s=60)
    await desk.add_agent("alice", languages=("en",))
    console = await open_console(desk, DESKTOP)
    await console.sign_in("alice")  # away for now
    await desk.session("bob")  # signed in and busy all along: English only
    page = console.page

    with step("a callback in the queue: its badge, and no Take"):
        caller, _ = await desk.device("kitchen tablet")
        ticket = (await caller.call("help.request", {"locale": "en-GB"}))["ticket"]
        ack = await caller.call("callback.request", {"ticket_id": ticket["id"]})
        assert ack.get("ok") is True, ack
        row = page.locator(f'.queue-entry[data-ticket="{ticket["id"]}"]')
        await row.locator(".tag-callback").wait_for()
        assert await row.locator(".tag-callback").inner_text() == "Callback"
        assert await row.locator(".queue-take").count() == 0

    with step("a German customer nobody speaks for: widened after the overflow time"):
        german, _ = await desk.device("<b>Küche</b>")
        first = (await german.call("help.request", {"locale": "de-DE"}))["ticket"]
        assert first["matched"] is False
        await german.next_matching("ticket.update", lambda u: u["ticket"]["widened"], timeout=10)
        hint = page.locator(f'.queue-entry[data-ticket="{first["id"]}"] .tag-overflow')
        await hint.wait_for()
        assert await hint.inner_text() == "Overflow — language: de"
        assert await page.locator(".queue-list b").count() == 0, "a device's name is text"
        await console.shot("callback-5-queue-marks")

    with step("available: held for the callback, the console says whom it calls"):
        await console.set_presence("available")
        await page.wait_for_selector("#callback:not([hidden])")
        ring = await caller.next("callback.ring")
        assert await console.text("#callback .callback-title") == "Calling back kitchen tablet…"
        assert "English (en-GB)" in await console.text("#callback .callback-details")
        assert await page.locator("#ring").is_hidden()
        await console.shot("callback-6-calling")

    with step("Withdraw: the customer keeps their place, the next customer rings as usual"):
        await page.click(".callback-withdraw")
        cancelled = await caller.next("callback.cancelled")
        assert cancelled == {"ring_id": ring["ring_id"], "reason": "agent_cancelled"}
        await page.wait_for_selector("#callback", state="hidden")
        # Not rung for the withdrawn callback again (the decline hold): the widened one rings.
        await console.wait_ring()
        marks = await console.text("#ring .ring-marks")
        assert marks == "Overflow — language: de", marks
        assert await console.text("#ring .ring-device") == "<b>Küche</b>"
        await console.shot("callback-7-ring-overflow")
    console.assert_clean()
