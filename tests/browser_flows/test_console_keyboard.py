"""The agent console by keyboard, and the session view's zoom and full screen: the shortcuts dialog
keeps the focus and gives it back, the End menu moves with arrow keys, the stage shows a focus
ring, Ctrl+Alt+Esc leaves Control mode without reaching the device, and marks and taps land where
they should at 100% and 150% (tests/browser_flows/console.py has the page helpers).

One sign-in and one session for the whole walk: the browser tests are the slow part of the suite.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from ..conftest import Desk
from ..support import assert_eventually
from .console import Console, ConsoleFactory, TabletFactory, in_session


async def focused(page: Page) -> str:
    """The focused element, as a short description: id, else class, else tag."""
    name: str = await page.evaluate(
        """() => {
            const e = document.activeElement;
            if (!e || e === document.body) return 'body';
            return e.id ? '#' + e.id : (e.dataset.reason ?? e.className ?? e.tagName);
        }"""
    )
    return name


async def focus_inside(page: Page, selector: str) -> bool:
    inside: bool = await page.evaluate(
        "(s) => document.querySelector(s).contains(document.activeElement)", selector
    )
    return inside


async def check_help_dialog(console: Console) -> None:
    """The shortcuts dialog traps Tab, closes on Esc and gives the focus back to its opener."""
    page = console.page
    await page.focus("#help-button")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#help:not([hidden])")
    assert "help-close" in await focused(page)
    listed = await console.text("#help")
    assert "Leave Control mode" in listed, listed
    assert "Ctrl" in listed, listed
    for key in ("Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"):
        await page.keyboard.press(key)
        assert await focus_inside(page, "#help"), f"{key} let the focus out of the dialog"
    await page.keyboard.press("Escape")
    await page.wait_for_selector("#help", state="hidden")
    assert await focused(page) == "#help-button"

    # Opened with "?" from the stage: the focus goes back to the stage, with a visible ring.
    await page.focus("#stage")
    await page.keyboard.press("?")
    await page.wait_for_selector("#help:not([hidden])")
    await page.keyboard.press("Escape")
    await page.wait_for_selector("#help", state="hidden")
    assert await focused(page) == "#stage"
    ring = await page.evaluate(
        """() => {
            const s = document.querySelector('#stage');
            return s.matches(':focus-visible') && getComputedStyle(s).outlineStyle !== 'none';
        }"""
    )
    assert ring, "the focused stage shows no focus ring"


async def check_end_menu(console: Console) -> None:
    """Enter opens the End menu on its first reason; arrows, Home and End move; Esc gives back."""
    page = console.page
    await page.focus(".end-button")
    await page.keyboard.press("Enter")
    await page.wait_for_selector(".end-menu:not([hidden])")
    assert await page.get_attribute(".end-button", "aria-expanded") == "true"
    assert await focused(page) == "resolved"
    for key, expected in (
        ("ArrowDown", "unresolved"),
        ("ArrowDown", "escalated"),
        ("End", "other"),
        ("ArrowDown", "resolved"),
        ("ArrowUp", "other"),
        ("Home", "resolved"),
    ):
        await page.keyboard.press(key)
        assert await focused(page) == expected, key
    await page.keyboard.press("Escape")
    await page.wait_for_selector(".end-menu", state="hidden")
    assert "end-button" in await focused(page)
    assert await page.get_attribute(".end-button", "aria-expanded") == "false"


async def test_keyboard_zoom_and_the_way_out_of_control(
    desk: Desk, open_console: ConsoleFactory, tablets: TabletFactory
) -> None:
    console, customer = await in_session(desk, open_console, tablets)
    page, device, tablet = console.page, customer.device, customer.tablet

    await check_help_dialog(console)
    await check_end_menu(console)

    # 100%: one pixel of the tablet per pixel here, in a box that scrolls; a pen stroke still
    # lands where it was drawn, in the picture's normalized coordinates.
    await page.click('[data-zoom="1"]')
    assert await page.get_attribute('[data-zoom="1"]', "aria-pressed") == "true"
    box = await console.video_box()
    assert (round(box["width"]), round(box["height"])) == (1280, 800)
    scrolls = await page.evaluate(
        "() => { const s = document.querySelector('.stage-scroll');"
        " return s.scrollWidth > s.clientWidth && s.scrollHeight > s.clientHeight; }"
    )
    assert scrolls, "at 100% the picture should scroll in the stage"
    await page.click('[data-tool="pen"]')
    x0, y0 = await console.page_point(600, 380)
    x1, y1 = await console.page_point(700, 420)
    await page.mouse.move(x0, y0)
    await page.mouse.down()
    await page.mouse.move(x1, y1, steps=8)
    await page.mouse.up()

    def stroke_on_device() -> bool:
        marks = device.annotations.visible()
        return bool(marks) and marks[-1].tool == "pen" and marks[-1].done

    await assert_eventually(stroke_on_device, message="the stroke at 100% never arrived")
    stroke = device.annotations.visible()[-1]
    assert stroke.points[0] == pytest.approx((600.5 / 1280, 380.5 / 800), abs=0.002)
    assert stroke.points[-1] == pytest.approx((700.5 / 1280, 420.5 / 800), abs=0.002)
    await console.shot("keyboard-zoom-100")

    # Control at 150%: the hint says how to leave; a tap on the Browser icon opens it.
    await page.click(".control-button")
    await assert_eventually(lambda: "customer.allow" in tablet.elements())
    assert tablet.tap("customer.allow", origin="customer")
    await page.wait_for_selector("#stage.mode-control")
    await page.click('[data-zoom="1.5"]')
    box = await console.video_box()
    assert (round(box["width"]), round(box["height"])) == (1920, 1200)
    hint = page.locator(".control-hint")
    assert await hint.is_visible()
    assert "Ctrl+Alt+Esc to leave control" in " ".join((await hint.inner_text()).split())
    await console.shot("keyboard-control-150")
    await page.focus("#stage")
    await console.click_tablet(tablet.elements()["app.browser"])
    await assert_eventually(lambda: tablet.state()["current_app"] == "browser")
    applied = device.inputs_applied

    # Ctrl+Alt+Esc: back to Annotate mode, the focus stays here and nothing reaches the device.
    await page.keyboard.press("Control+Alt+Escape")
    await page.wait_for_selector("#stage.mode-annotate")
    assert await focused(page) == "#stage"
    assert not await hint.is_visible()
    await page.keyboard.press("Tab")
    assert await focused(page) != "#stage", "Tab should leave the stage in Annotate mode"
    await page.keyboard.press("Shift+Tab")
    assert await focused(page) == "#stage"
    await page.keyboard.press("k")  # and K goes back into Control mode
    await page.wait_for_selector("#stage.mode-control")
    assert device.inputs_applied == applied, "a key of the way out reached the device"
    assert tablet.state()["current_app"] == "browser"

    # Full screen: the stage area fills the screen; the button (or F) leaves it.
    await page.click('[data-zoom="fit"]')
    await page.click(".fullscreen-button")
    await page.wait_for_function(
        "() => document.fullscreenElement === document.querySelector('.stage-area')"
    )
    # The button follows the browser's fullscreenchange event, which may come a moment later.
    await page.wait_for_selector('.fullscreen-button[aria-pressed="true"]')
    await console.shot("keyboard-fullscreen")
    await page.click(".fullscreen-button")
    await page.wait_for_function("() => document.fullscreenElement === null")
    console.assert_clean()
