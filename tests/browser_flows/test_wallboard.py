"""The supervisors' wallboard in the real console (agent_web/wallboard.js) against a real server.

A supervisor signs in and opens the wallboard with the keyboard alone; a customer presses Help and
shows up in its queue without a reload; a headless agent accepts, the row goes and the agent shows
in session; the session ends and today's figures count one answered help request. The socket drops
and comes back, and the tab is reloaded: the wallboard subscribes again and goes on showing
changes. Leaving the view unsubscribes. An agent account has no wallboard. axe-core checks the view at 1366×768 and at a
phone's width, and screenshots of each step go to test-artifacts/console/ (``wallboard-*.png``).

Slow (a browser): one flow, run once (the browser flows' in-memory live store, conftest.py).
"""

from __future__ import annotations

import pytest

from ..conftest import Desk
from ..support import assert_eventually
from .console import XSS, Console, ConsoleFactory
from .test_console_a11y import LAPTOP, PHONE, axe_findings

pytestmark = pytest.mark.timeout(180)

NO_PAGE_SCROLLING_SIDEWAYS = (
    "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
)


async def wallboard_shows(console: Console, script: str) -> None:
    """Wait until `script` (a function of the wallboard's root) is true in the page."""
    await console.page.wait_for_function(
        f"() => {{ const root = document.querySelector('#wallboard'); return ({script})(root); }}"
    )


async def check_looks(console: Console, name: str) -> list[str]:
    """axe at a laptop's and a phone's size, no sideways scrolling, a screenshot of each."""
    page = console.page
    findings: list[str] = []
    for suffix, viewport in (("", LAPTOP), ("-phone", PHONE)):
        await page.set_viewport_size(viewport)
        await page.wait_for_function(NO_PAGE_SCROLLING_SIDEWAYS)
        await console.shot(f"wallboard-{name}{suffix}")
        findings += [f"{name}{suffix}: {line}" for line in await axe_findings(console)]
    await page.set_viewport_size(LAPTOP)
    return findings


async def test_a_supervisor_watches_a_help_request_on_the_wallboard(
    desk: Desk, open_console: ConsoleFactory
) -> None:
    await desk.add_agent("sue", role="supervisor")
    await desk.add_agent("bob")  # an agent account, signed in at the end
    console = await open_console(desk)
    page = console.page
    await console.sign_in("sue")

    # The switch in the top bar, with the keyboard alone: Tab from "My work" to "Wallboard", Enter.
    await page.focus('#view-switch button[data-view="work"]')
    await page.keyboard.press("Tab")
    focused = await page.evaluate(
        """() => {
            const node = document.activeElement;
            return {view: node.dataset.view, ring: getComputedStyle(node).outlineStyle,
                    visible: node.matches(':focus-visible')};
        }"""
    )
    assert focused == {"view": "wallboard", "ring": "solid", "visible": True}
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#wallboard:not([hidden])")
    assert await page.is_hidden(".layout")
    await wallboard_shows(
        console, "r => r.querySelector('.wb-updated').textContent.startsWith('Live')"
    )
    assert (
        await page.get_attribute('#view-switch button[data-view="wallboard"]', "aria-pressed")
        == "true"
    )
    await assert_eventually(lambda: desk.desk.wallboard.subscribers == 1)
    assert await console.text("#wallboard .wb-queue-count") == "0"
    findings = await check_looks(console, "empty")

    # A customer (its name is markup, which must stay text) presses Help: it appears, live.
    alice = await desk.agent("alice")
    device, _ = await desk.device(XSS)
    ticket = (await device.call("help.request", {}))["ticket"]
    row = f'#wallboard .wb-queue-row[data-ticket="{ticket["id"]}"]'
    await page.wait_for_selector(row)
    assert await console.text(f"{row} .wb-name") == XSS
    assert await page.locator("#wallboard .wb-queue-list img").count() == 0
    assert await console.text(f"{row} .wb-pos") == "#1"
    findings += await check_looks(console, "queue")

    # The agent accepts: the row goes, the agent is in session (in words, not colour alone).
    ring = await alice.next("ring")
    await alice.call("ring.accept", {"ring_id": ring["ring_id"]})
    started = await alice.next("session.started")
    await page.wait_for_selector(row, state="detached")
    alice_row = '#wallboard .wb-agent:has(.wb-name:text-is("alice"))'
    await page.wait_for_selector(f'{alice_row}[data-state="in_session"]')
    assert await console.text(f"{alice_row} .wb-state") == "In session"
    findings += await check_looks(console, "in-session")

    # The session ends: today counts one help request, answered; alice took one session today.
    await alice.call("session.end", {"session_id": started["session_id"], "reason": "resolved"})
    tile = "#wallboard [data-tile='help_requests']"
    await page.wait_for_function(
        f"""() => document.querySelector("{tile} .wb-num").textContent === '1'
                && document.querySelector("{tile} .wb-tile-detail").textContent === '1 answered'"""
    )
    await page.wait_for_selector(f'{alice_row}:not([data-state="in_session"])')
    assert await console.text(f"{alice_row} .wb-today") == "1 today"
    hours = await page.eval_on_selector_all(
        "#wallboard .wb-hours tbody tr",
        "rows => rows.map(r => [...r.cells].map(c => c.textContent))",
    )
    assert sum(int(cells[1]) for cells in hours) == 1, hours
    assert sum(int(cells[2]) for cells in hours) == 1, hours
    findings += await check_looks(console, "answered")

    # The socket drops and comes back: the wallboard subscribes again and shows the next customer.
    await page.evaluate("() => window.mayday.signaling.socket.io.engine.close()")
    await page.wait_for_selector('#conn[data-state="connected"]')
    second, _ = await desk.device("second tablet")
    ticket = (await second.call("help.request", {}))["ticket"]
    second_row = f'#wallboard .wb-queue-row[data-ticket="{ticket["id"]}"]'
    await page.wait_for_selector(second_row)
    await assert_eventually(lambda: desk.desk.wallboard.subscribers == 1)

    # A reload of the tab comes back to the wallboard, subscribed again.
    await page.reload()
    await page.wait_for_selector('#conn[data-state="connected"]')
    await page.wait_for_selector(second_row)
    await assert_eventually(lambda: desk.desk.wallboard.subscribers == 1)

    # Back to "My work": the pushes stop.
    await page.click('#view-switch button[data-view="work"]')
    await page.wait_for_selector("#wallboard", state="hidden")
    assert await page.is_visible(".layout")
    await assert_eventually(lambda: desk.desk.wallboard.subscribers == 0)
    assert findings == [], "\n".join(findings)
    console.assert_clean()

    # An agent account never sees the wallboard.
    agent = await open_console(desk)
    await agent.sign_in("bob")
    assert await agent.page.is_hidden("#view-switch")
    assert await agent.page.is_hidden("#wallboard")
    agent.assert_clean()
