"""Handing a customer on in the agent console (agent_web/transfer.js, docs/protocol.md §19.4): two
agents in two browser contexts, a simulated tablet streaming its screen. Alice helps the customer,
hands them on to Bob with a note through the "Hand on…" dialog using the keyboard alone; Bob's ring
shows who handed the customer on and the note (as text); Bob accepts and the tablet's screen flows
in his console while Alice is in wrap-up. Screenshots at 1366×768 and at a phone's 390×844 go to
test-artifacts/console/ (tests/browser_flows/console.py).
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from playwright.async_api import Page, ViewportSize

from device_agent.screens.base import Rect

from ..conftest import DeskFactory
from ..support import assert_eventually
from .console import SMALL, Console, ConsoleFactory, TabletFactory, mean_error
from .test_console_a11y import axe_findings

pytestmark = pytest.mark.timeout(120)

PHONE: ViewportSize = {"width": 390, "height": 844}
NOTE = "Wi-Fi is fixed; the printer still refuses.\n<b>not bold</b> <img src=x onerror=alert(1)>"


async def focused(page: Page) -> str:
    """What has the keyboard focus: its classes, or for a radio button, radio=<value>."""
    answer: str = await page.evaluate(
        """() => {
            const e = document.activeElement;
            return e?.type === 'radio' ? `radio=${e.value}` : (e?.className ?? '');
        }"""
    )
    return answer


async def shots(console: Console, name: str, findings: list[str]) -> None:
    """Screenshots at 1366×768 and at a phone's width, and axe's serious findings at both."""
    for suffix, viewport in (("", SMALL), ("-phone", PHONE)):
        await console.page.set_viewport_size(viewport)
        await console.shot(f"{name}{suffix}")
        findings += [f"{name}{suffix}: {line}" for line in await axe_findings(console)]
    await console.page.set_viewport_size(SMALL)


async def frames(page: Page) -> int:
    count: int = await page.evaluate(
        "() => document.querySelector('#screen').getVideoPlaybackQuality().totalVideoFrames"
    )
    return count


async def test_a_customer_handed_on_with_a_note_keeps_their_screen_flowing(
    make_desk: DeskFactory, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    desk = await make_desk(wrapup_s=300)
    findings: list[str] = []
    await desk.add_agent("alice")
    await desk.add_agent("bob", languages=("en", "de"))
    await desk.add_agent("carol")  # signed in but away: listed, not to be chosen
    alice = await open_console(desk)
    await alice.sign_in("alice")
    await alice.set_presence("available")
    customer = await tablets(desk)
    device, tablet = customer.device, customer.tablet
    assert tablet.tap("customer.help", origin="customer")
    await alice.wait_ring()
    assert await alice.page.locator(".ring-handon").is_hidden()
    await alice.accept_and_watch()
    await asyncio.wait_for(device.media_connected.wait(), 10)
    first_session = device.session
    assert first_session is not None

    # Bob and Carol sign in only now, so that the customer rang at Alice.
    bob = await open_console(desk)
    await bob.sign_in("bob")
    await bob.set_presence("available")
    carol = await open_console(desk)
    await carol.sign_in("carol")

    # The dialog, by keyboard: Enter on "Hand on…" opens it on "To a colleague"; arrows move
    # between the two ways; Escape closes it and gives the focus back.
    page = alice.page
    await page.focus(".hand-on-button")
    await page.keyboard.press("Enter")
    dialog = page.locator(".handon-overlay")
    await dialog.wait_for()
    assert await focused(page) == "radio=agent"
    await page.keyboard.press("ArrowRight")
    assert await focused(page) == "radio=queue"
    await page.locator(".handon-queue").wait_for()
    assert await page.input_value(".handon-topic") == "general"
    assert await page.input_value(".handon-locale") == "en"
    assert await page.locator(".handon-agent").is_hidden()
    assert "English" in await alice.text(".handon-queue")
    await alice.shot("30-hand-on-to-the-queue")
    await page.keyboard.press("ArrowLeft")
    assert await focused(page) == "radio=agent"
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="hidden")
    assert "hand-on-button" in await focused(page)

    await page.keyboard.press("Enter")
    await dialog.wait_for()
    bob_row = page.locator(".handon-colleague", has_text="bob")
    await bob_row.locator("input:checked").wait_for()
    carol_row = page.locator(".handon-colleague", has_text="carol")
    assert await carol_row.locator("input").is_disabled()
    assert "Away" in (await carol_row.text_content() or "")
    assert "German" in (await bob_row.text_content() or "")
    await page.keyboard.press("Tab")
    assert await focused(page) == f"radio={await bob_row.locator('input').get_attribute('value')}"
    await page.keyboard.press("Tab")
    assert "handon-note" in await focused(page)
    await page.keyboard.type(NOTE)
    await shots(alice, "31-hand-on-dialog", findings)

    # Bob steps away meanwhile: the hand-on is refused, said in the dialog in plain words, and
    # the list, read again, has nobody to offer.
    await bob.set_presence("away")
    await page.keyboard.press("Tab")
    assert "handon-cancel" in await focused(page)
    await page.keyboard.press("Tab")
    assert "handon-submit" in await focused(page)
    await page.keyboard.press("Enter")
    error = page.locator(".handon-error")
    await error.wait_for()
    assert (await error.text_content() or "").startswith("bob cannot take a customer right now.")
    await page.locator(".handon-empty").wait_for()
    assert await alice.text(".handon-empty") == "Nobody else is available right now."
    assert "Away" in (await bob_row.text_content() or "")
    await alice.shot("32-hand-on-refused")
    assert device.session is not None
    assert device.session["session_id"] == first_session["session_id"]

    # Bob is back: Escape, Enter again reads the list anew; the note is still there.
    await bob.set_presence("available")
    await page.keyboard.press("Escape")
    await dialog.wait_for(state="hidden")
    await page.focus(".hand-on-button")
    await page.keyboard.press("Enter")
    await bob_row.locator("input:checked").wait_for()
    assert await page.input_value(".handon-note") == NOTE
    assert await error.is_hidden()
    for _ in range(4):  # to a colleague → bob → the note → Cancel → Hand on
        await page.keyboard.press("Tab")
    assert "handon-submit" in await focused(page)
    await page.keyboard.press("Enter")

    # Alice: wrap-up, saying where the customer went.
    await page.wait_for_selector("#wrapup:not([hidden])")
    await dialog.wait_for(state="hidden")
    assert await alice.text("#wrapup h2") == "Customer handed on"
    assert (await alice.text(".wrapup-summary")).startswith("You handed kitchen tablet on to bob")
    await page.wait_for_function(
        "() => document.querySelector('.wrapup-timeline').textContent.includes('handed the customer')"
    )
    timeline = await alice.text(".wrapup-timeline")
    assert "alice handed the customer on to bob:" in timeline
    assert "<b>not bold</b>" in timeline
    assert "Session ended by the agent: handed on" in timeline

    # Bob is rung with who handed the customer on and the note, as text.
    await bob.wait_ring()
    ring = bob.page.locator(".ring-handon")
    await ring.wait_for()
    assert await bob.text(".ring-handon-who") == "Handed on by alice · to you"
    assert await bob.text(".ring-handon-note") == NOTE
    assert await bob.page.locator("#ring b, #ring img").count() == 0
    assert await bob.text(".queue-entry .tag-handon") == "handed on"
    await bob.page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.ring-card')).opacity === '1'"
    )
    await shots(bob, "33-handed-on-ring", findings)

    # Bob accepts: the same tablet's screen flows in his console.
    await bob.accept_and_watch()
    await asyncio.wait_for(device.media_connected.wait(), 10)
    assert device.session is not None
    assert device.session["session_id"] != first_session["session_id"]
    assert device.session["agent"]["name"] == "bob"
    card = bob.page.locator(".handon-card")
    await card.wait_for()
    assert "Handed on by alice · to you" in await bob.text(".handon-card-who")
    assert await bob.text(".handon-card-note") == NOTE

    before = await frames(bob.page)

    async def frames_advance() -> bool:
        return await frames(bob.page) >= before + 3

    await assert_eventually(frames_advance, timeout=15, message="no new frames in Bob's console")
    # The customer opens Settings: Bob sees it (small regions: reading pixels back is slow).
    assert tablet.tap("app.settings", origin="customer")
    regions = [Rect(100, 100, 32, 32), Rect(200, 500, 32, 32), Rect(1000, 600, 32, 32)]

    async def video_follows() -> bool:
        screen = tablet.capture().astype(np.int16)
        for rect in regions:
            expected = screen[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width]
            if mean_error(await bob.video_pixels(rect), expected) > 12:
                return False
        return True

    await assert_eventually(video_follows, message="Bob's video does not follow the tablet")
    await shots(bob, "34-handed-on-session", findings)

    # The earlier session, one click away: its timeline, read with Bob's account.
    await bob.page.click(".handon-previous")
    previous = bob.page.locator(".previous-overlay")
    await previous.wait_for()
    await bob.page.wait_for_function(
        "() => document.querySelector('.previous-timeline').textContent.includes('handed the customer on to')"
    )
    assert "alice answered; connecting" in await bob.text(".previous-timeline")
    await shots(bob, "35-previous-session", findings)
    await bob.page.keyboard.press("Escape")
    await previous.wait_for(state="hidden")

    # Alice is still in wrap-up (300 s): rings held back, the summary still there.
    assert await page.locator("#wrapup").is_visible()
    assert "No customers ring for" in await alice.text(".wrapup-timer")
    await shots(alice, "36-handed-on-wrap-up", findings)
    assert findings == [], "\n".join(findings)
    for console in (alice, bob, carol):
        console.assert_clean()
