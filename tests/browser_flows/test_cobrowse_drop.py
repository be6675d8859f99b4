"""The widget's socket drops during remote control of a web page (docs/protocol.md §10.6, §10.8
rule 8): the real widget in Chromium, the real console in a second browser context.

The customer's browser goes offline (Chromium closes its websocket at once): control is suspended
on both sides, and nothing the agent does reaches the page. Back within the lease, control
resumes without a new dialog and a click works again; back after the lease, consent is gone
(none, expired) and a click changes nothing until the customer allows control again.

The server's lease is made short here (MAYDAY_CONTROL_LEASE_S) so that running out of it takes
seconds; the widget's own lease (10 s) is longer, so the server's word is what ends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ..conftest import DeskFactory
from .console import ConsoleFactory
from .test_cobrowse_keys import Controlled, controlled_session, open_shop, wait_timeline
from .widget import step

pytestmark = pytest.mark.timeout(120)

LEASE_S = 3.0
"""The server's lease: long enough for socket.io's first reconnect (0.5–1.5 s), short to wait out."""

BAR_TEXT = """() => {
  const bar = document.querySelector('mayday-help').shadowRoot.querySelector('.controlbar');
  return bar && !bar.hidden ? bar.textContent : '';
}"""


async def go_offline(c: Controlled) -> None:
    """The customer's network goes away: both sides see control suspended."""
    await c.customer.page.context.set_offline(True)
    await c.agent.wait_for_selector('.control-button[data-state="suspended"]')
    await c.agent.wait_for_selector("#stage.mode-annotate")
    await c.shop.wait_for_function(f"() => ({BAR_TEXT})().includes('paused')")


async def clicks_change_nothing(c: Controlled, saves: str, reason: str) -> None:
    """The agent clicks Save on the replay, and sends a click itself: neither reaches the page."""
    await c.click("#save")  # not in Control mode: a mark at most
    save = await c.node("#save")
    assert await c.send([{"type": "click", "node": save}]) == "forbidden"
    await wait_timeline(c, "control.input_refused", reason)
    assert await c.shop.evaluate("() => document.body.dataset.saves") == saves


async def test_a_dropped_socket_suspends_control_and_the_lease_decides_what_follows(
    make_desk: DeskFactory,
    aiohttp_server: Callable[..., Any],
    built_widget: Any,
    open_customer: Callable[..., Any],
    open_console: ConsoleFactory,
) -> None:
    desk = await make_desk(control_lease_s=LEASE_S)
    shop = await open_shop(desk, aiohttp_server)
    c = await controlled_session(desk, shop, open_customer, open_console)
    agent, page = c.agent, c.shop

    with step("a click under control works"):
        await c.click("#save")
        await page.wait_for_function("() => document.body.dataset.saves === '1'")

    with step("the customer's socket drops: suspended for both, clicks change nothing"):
        await go_offline(c)
        assert await page.locator('mayday-help [data-control="stop"]').is_visible()
        await clicks_change_nothing(c, "1", "control is suspended")

    with step("back within the lease: control resumes without a dialog, a click works"):
        await page.context.set_offline(False)
        await agent.wait_for_selector('.control-button[data-state="granted"]')
        await agent.wait_for_selector("#stage.mode-control")
        await page.wait_for_function(f"() => ({BAR_TEXT})().includes('alice is controlling')")
        assert await page.locator('mayday-help [data-control="allow"]').is_hidden()
        await wait_timeline(c, "control.resumed", "same session back within the lease")
        await c.click("#save")
        await page.wait_for_function("() => document.body.dataset.saves === '2'")

    with step("dropped longer than the lease: consent is gone, for the agent at once"):
        await go_offline(c)
        await agent.wait_for_selector('.control-button[data-state="expired"]')
        await wait_timeline(c, "control.expired", "the lease ran out; consent must be asked again")

    with step("back after the lease: none for the widget too, and clicks change nothing"):
        await page.context.set_offline(False)
        await page.locator('mayday-help [data-control="stop"]').wait_for(state="hidden")
        await page.wait_for_function(f"() => ({BAR_TEXT})() === ''")
        await clicks_change_nothing(c, "2", "control is none")

    c.customer.assert_clean()
    c.console.assert_clean()
