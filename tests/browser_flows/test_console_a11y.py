"""The agent console against axe-core (npm, node_modules/axe-core): no serious or critical finding
on the sign-in, idle, ring and session screens, at 1366×768 and at a phone's width, nor with the
shortcuts dialog or the End menu open.

axe is injected with ``page.evaluate`` (DevTools evaluation is not subject to the console's
Content-Security-Policy, which rightly refuses inline script). Screenshots of each screen go to
test-artifacts/console/ (``a11y-*.png``) for people to look at.
"""

from __future__ import annotations

import asyncio
from typing import Any

from playwright.async_api import ViewportSize

from ..conftest import Desk
from .console import ROOT, Console, ConsoleFactory, TabletFactory

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
LAPTOP: ViewportSize = {"width": 1366, "height": 768}
PHONE: ViewportSize = {"width": 390, "height": 844}
SEVERE = ("serious", "critical")


async def axe_findings(console: Console) -> list[str]:
    """Serious and critical axe violations of the page as it is now, one line each."""
    page = console.page
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = await page.evaluate(
        """async () => {
            const result = await window.axe.run(document, {resultTypes: ['violations']});
            return result.violations;
        }"""
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:4])
        for v in violations
        if v["impact"] in SEVERE
    ]


async def check_screen(console: Console, name: str) -> list[str]:
    """Severe findings at 1366×768 and at a phone's width; a screenshot of both."""
    page = console.page
    findings: list[str] = []
    for width, viewport in (("", LAPTOP), ("-phone", PHONE)):
        await page.set_viewport_size(viewport)
        await console.shot(f"a11y-{name}{width}")
        findings += [f"{name}{width}: {line}" for line in await axe_findings(console)]
    await page.set_viewport_size(LAPTOP)
    return findings


async def test_no_serious_axe_findings_on_the_console_screens(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    assert AXE.is_file(), "axe-core is missing: run `npm ci`"
    await desk.add_agent("alice")
    console = await open_console(desk)
    page = console.page
    findings = await check_screen(console, "signin")

    await console.sign_in("alice")
    await console.set_presence("available")
    findings += await check_screen(console, "idle")

    customer = await tablets(desk)
    assert customer.tablet.tap("customer.help", origin="customer")
    await console.wait_ring()
    await page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.ring-card')).opacity === '1'"
    )
    findings += await check_screen(console, "ring")

    await console.accept_and_watch()
    await asyncio.wait_for(customer.device.media_connected.wait(), 10)
    findings += await check_screen(console, "session")

    # The shortcuts dialog and the End menu, open.
    await page.focus("#help-button")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#help:not([hidden])")
    findings += [f"help: {line}" for line in await axe_findings(console)]
    await console.shot("a11y-help")
    await page.keyboard.press("Escape")
    await page.focus(".end-button")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".end-menu:not([hidden])")
    findings += [f"end menu: {line}" for line in await axe_findings(console)]
    await page.keyboard.press("Escape")
    assert findings == [], "\n".join(findings)
    console.assert_clean()
