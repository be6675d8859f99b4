"""The console's Customer tab, canned replies and screenshot button in a real Chromium: the tab
shows the device and its earlier session (agent, reason, rating, notes), a canned reply goes into
the chat input without being sent, and the screenshot button keeps the picture with the session."""

from __future__ import annotations

import pytest

from server.appkeys import RECORDS, WRITER
from server.live.records import LiveSession, SessionState

from ..conftest import Desk
from .console import ConsoleFactory, TabletFactory

pytestmark = pytest.mark.timeout(90)


async def test_customer_tab_canned_replies_and_screenshot(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    records = desk.app[RECORDS]
    await desk.add_agent("alice")
    await records.add_canned_reply("Could you restart the tablet, please?")
    console = await open_console(desk)
    page = console.page
    await console.sign_in("alice")
    await console.set_presence("available")
    customer = await tablets(desk)
    earlier = LiveSession.model_validate(
        {
            "id": "ses_earlier",
            "device_id": customer.device.device_id,
            "device_name": "kitchen tablet",
            "topic": "general",
            "locale": "de-DE",
            "created_at": 1_780_000_000.0,
            "queue_score": 0.0,
            "state": SessionState.ENDED,
            "agent_id": "agt_other",
            "agent_name": "Bernd M.",
            "ended_at": 1_780_000_600.0,
            "end_reason": "unresolved",
            "ended_by": "agent",
            "notes": "Wi-Fi drops every evening; call back.",
        }
    )
    await records.save_sessions([earlier])
    await records.rate_session("ses_earlier", customer.device.device_id, 2, at=1_780_000_700.0)
    customer.tablet.tap("customer.help", origin="customer")
    await console.wait_ring()
    await console.accept_and_watch()

    await page.click("#tab-customer")
    past = page.locator(".customer-history .past")
    await past.wait_for()
    text = await past.inner_text()
    assert "Bernd M." in text
    assert "Unresolved" in text
    assert "Wi-Fi drops every evening" in text
    assert "★★☆☆☆" in text
    # What the tablet says about itself arrives on the annotations channel (status.device).
    await page.wait_for_selector(".customer-facts dd:has-text('mayday simulated tablet')")
    facts = await page.inner_text(".customer-facts")
    for fact in ("kitchen tablet", "mayday Tablet OS 1", "1280 × 800", "78%, on battery", "Wi-Fi"):
        assert fact in facts, fact

    await page.click(".snapshot-button")
    await page.wait_for_selector(".toast:has-text('Screenshot saved')")
    await desk.app[WRITER].flush()
    live = next(iter(await records.device_sessions(customer.device.device_id, 1)))
    shots = (await records.screenshots([live.id]))[live.id]
    assert len(shots) == 1
    shot = await records.screenshot(live.id, shots[0].id)
    assert shot is not None
    assert shot.data.startswith(b"\x89PNG")
    await page.wait_for_selector(".customer-facts dd:has-text('1 saved in this session')")
    await console.shot("customer-tab")

    await page.click("#tab-chat")
    await page.fill(".chat-input", "Hello! ")
    await page.click(".canned-button")
    await page.wait_for_selector(".canned-menu [role=menuitem]:focus")  # the first reply
    await page.keyboard.press("Enter")
    value = await page.input_value(".chat-input")
    assert value == "Hello! Could you restart the tablet, please?"
    assert await page.locator(".canned-menu").is_hidden()
    # Nothing was sent: the chat list is still empty.
    assert await page.locator(".chat-list li").count() == 0
    await page.click(".canned-button")
    await page.wait_for_selector(".canned-menu [role=menuitem]:focus")
    await console.shot("canned-replies")
    console.assert_clean()
