"""Callback instead of waiting, overflow and opening hours in the web widget (docs/protocol.md §20),
the real widget in Chromium beside the real agent console in a second browser context.

A web visitor whom nobody can serve yet is told so at once, asks to be called back (keyboard
only), keeps the callback across a page change of the shop, and is rung when the agent becomes
available: the prompt takes the focus, "Not now" is a missed callback (the customer keeps the
place and is told how many tries are left, the console says the agent stays available), and
"Connect now" on the next ring opens the session in both. In German on a phone: the overflow
countdown and the widened warning, the closed desk with its opening time, and a callback given up.

Slow (two browsers, WebRTC): run once, in memory, like the other flows (conftest.py). Screenshots
go to test-artifacts/widget/ and test-artifacts/console/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ..conftest import DeskFactory
from .console import ConsoleFactory
from .widget import DESKTOP, PHONE, Customer, Shop, add_site, step

pytestmark = pytest.mark.timeout(180)

FOCUSED = """() => {
  const active = document.querySelector('mayday-help').shadowRoot.activeElement;
  return active ? active.className : '';
}"""
GERMAN_DAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


async def _text(customer: Customer, part: str) -> str:
    locator = customer.page.locator(f"mayday-help {part}")
    return await locator.inner_text() if await locator.is_visible() else ""


async def _wait_text(customer: Customer, part: str, text: str) -> None:
    await customer.page.wait_for_function(
        """([part, text]) => {
            const node = document.querySelector('mayday-help').shadowRoot.querySelector(part);
            return Boolean(node && !node.hidden && node.textContent.includes(text));
        }""",
        arg=[part, text],
    )


async def test_a_web_visitor_is_called_back_and_connects_from_the_keyboard(
    make_desk: DeskFactory,
    make_shop: Callable[..., Any],
    open_customer: Callable[..., Any],
    open_console: ConsoleFactory,
    built_widget: Path,
) -> None:
    desk = await make_desk(
        sites_refresh_s=0.1, callback_retries=1, callback_ring_s=60, callback_retry_s=3
    )
    shop: Shop = await make_shop(desk)
    await add_site(desk, shop)
    await desk.add_agent("alice")
    console = await open_console(desk, DESKTOP)
    await console.sign_in("alice")  # away: nobody who could serve the customer is available
    customer: Customer = await open_customer(shop)
    page = customer.page

    with step("nobody available: said at once, and the callback offered"):
        await customer.press(".help")
        await customer.phase("queued")
        status = await customer.status()
        assert "You're number 1 in line." in status, status
        assert "Nobody is available right now" in await _text(customer, ".detail")
        offer = page.locator("mayday-help .cb-offer-button")
        assert await offer.inner_text() == "Call me back"
        explanation = await page.locator("mayday-help .cb-offer-detail").inner_text()
        assert explanation == (
            "Leave the line and keep your place. We'll ring you when an agent is free."
        )
        assert await offer.get_attribute("aria-describedby") == "cb-offer-detail"
        await customer.shot("callback-1-nobody")

    with step("Call me back, from the keyboard: told it comes, Cancel still there"):
        await customer.press(".cb-offer-button")
        await _wait_text(customer, ".status", "We'll call you back.")
        assert "As soon as an agent is free." in await customer.status()
        assert await page.locator("mayday-help .cb-offer").is_hidden()
        assert await page.locator("mayday-help .actions button").all_inner_texts() == ["Cancel"]
        await customer.shot("callback-2-waiting")
        await console.page.wait_for_selector(".queue-entry .tag-callback")
        row = console.page.locator(".queue-entry").first
        assert "Callback" in (await row.inner_text())
        assert await row.locator(".queue-take").count() == 0, "a callback is not taken by hand"
        await console.shot("callback-1-queue")

    with step("another page of the shop: the callback is still there"):
        await page.goto(shop.origin + "/?step=2")
        await customer.phase("queued")
        await _wait_text(customer, ".status", "We'll call you back.")

    with step("the agent becomes available: held, the customer is rung and focus goes there"):
        await console.set_presence("available")
        await console.page.wait_for_selector("#callback:not([hidden])")
        title = await console.text("#callback .callback-title")
        assert title == f"Calling back Web visitor · {shop.origin.partition('://')[2]}…"
        assert "The customer is asked to connect" in await console.text("#callback")
        await console.shot("callback-2-calling")
        await _wait_text(customer, ".cb-ring-title", "alice is ready to help you: connect now?")
        assert await page.locator("mayday-help .cb-ring-title").get_attribute("role") == "alert"
        await page.wait_for_function(f"() => ({FOCUSED})() === 'cb-connect'")
        assert await page.locator("mayday-help .cb-connect").inner_text() == "Connect now"
        assert await page.locator("mayday-help .actions").is_hidden()
        await customer.shot("callback-3-ring")

    with step("Not now, from the keyboard: missed, the place kept, the agent stays available"):
        await page.keyboard.press("Tab")
        assert await page.evaluate(FOCUSED) == "cb-not-now"
        await page.keyboard.press("Enter")
        await _wait_text(
            customer, ".detail", "We missed you. You keep your place; we'll try 1 more time."
        )
        toast = console.page.locator(
            ".toast", has_text="The customer did not answer; you are available."
        )
        await toast.wait_for()
        await console.shot("callback-3-missed")

    with step("rung again after the retry pause: Connect now with Enter opens the session"):
        await console.page.wait_for_selector("#callback:not([hidden])")
        await page.wait_for_function(f"() => ({FOCUSED})() === 'cb-connect'")
        await page.set_viewport_size(PHONE)
        await customer.shot("callback-4-ring-phone")
        await page.set_viewport_size(DESKTOP)
        await page.keyboard.press("Enter")
        await customer.phase("connecting", "active")
        assert "alice" in await customer.status()
        await console.page.wait_for_selector("#callback", state="hidden")
        await console.page.wait_for_selector("#session:not([hidden])")
        await customer.phase("active")
        await customer.shot("callback-5-session")
        await console.shot("callback-4-session")
    customer.assert_clean()
    console.assert_clean()


def _closed_today() -> tuple[str, datetime]:
    """Opening hours (UTC) closed for the rest of today, and when they open next."""
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    opens = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 8, 0, tzinfo=UTC)
    return f"{OSM_DAYS[tomorrow.weekday()]} 08:00-20:00", opens


async def test_in_german_on_a_phone_nobody_who_speaks_it_then_any_free_agent(
    make_desk: DeskFactory,
    make_shop: Callable[..., Any],
    open_customer: Callable[..., Any],
    built_widget: Path,
) -> None:
    desk = await make_desk(sites_refresh_s=0.1, overflow_s=4, callback_retries=0)
    shop: Shop = await make_shop(desk, lang="de-DE")
    await add_site(desk, shop)
    # Alice speaks English only, and is busy with a tablet: nobody free for a German customer.
    alice = await desk.agent("alice", languages=("en",))
    tablet, _ = await desk.device("tablet")
    await tablet.call("help.request", {"locale": "en"})
    ring = await alice.next("ring")
    await alice.call("ring.accept", {"ring_id": ring["ring_id"]})
    customer: Customer = await open_customer(shop, PHONE)

    with step("no German speaker: said at once, counting down to any free agent"):
        await customer.press(".help")
        await customer.phase("queued")
        status = await customer.status()
        assert "Gerade ist niemand online, der Ihre Sprache spricht" in status, status
        detail = await _text(customer, ".detail")
        assert re.search(r"In \d Sekunden? verbinden wir Sie", detail), detail
        await customer.shot("overflow-1-de-phone")

    with step("widened: the next free agent, who may not speak German"):
        await _wait_text(customer, ".detail", "nicht Ihre Sprache")
        await customer.shot("overflow-2-widened-de-phone")
        await customer.press(".secondary")  # Abbrechen
        await customer.phase("over")
        await customer.press(".secondary")  # Schließen
        await customer.phase("idle")
    customer.assert_clean()


async def test_in_german_on_a_phone_closed_then_a_callback_given_up(
    make_desk: DeskFactory,
    make_shop: Callable[..., Any],
    open_customer: Callable[..., Any],
    built_widget: Path,
) -> None:
    hours, opens = _closed_today()
    desk = await make_desk(sites_refresh_s=0.1, opening_hours=hours, callback_retries=0)
    shop: Shop = await make_shop(desk, lang="de-DE")
    await add_site(desk, shop)
    customer: Customer = await open_customer(shop, PHONE)
    page = customer.page

    with step("closed: when the desk opens, in German, and the callback offered prominently"):
        await customer.press(".help")
        await customer.phase("queued")
        zone = await page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone")
        local = opens.astimezone(ZoneInfo(zone))
        status = await customer.status()
        assert status.startswith("Wir haben gerade geschlossen. Wieder für Sie da: "), status
        assert GERMAN_DAYS[local.weekday()] in status, (local, status)
        assert f"{local.hour}:{local:%M}" in status, (local, status)
        assert await page.locator("mayday-help .cb-offer.prominent").is_visible()
        await page.wait_for_function(f"() => ({FOCUSED})() === 'cb-offer-button'")
        await customer.shot("closed-1-de-phone")
        await page.keyboard.press("Enter")
        await customer.page.locator("mayday-help .cb-offer").wait_for(state="hidden")
        await customer.shot("closed-2-callback-de-phone")

    with step("an agent working late: rung, Not now on the last try ends the callback"):
        await desk.agent("bob", languages=("de",))
        await page.wait_for_function(f"() => ({FOCUSED})() === 'cb-connect'")
        assert "bob" in await _text(customer, ".cb-ring-title")
        await customer.shot("closed-3-ring-de-phone")
        await customer.press(".cb-not-now")
        await customer.phase("over")
        assert (await customer.status()).startswith("Wir konnten Sie nicht erreichen")
        await customer.shot("closed-4-given-up-de-phone")
    customer.assert_clean()
