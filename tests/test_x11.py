"""The X11 screen source and the customer's Tk window against a real X server (Xvfb).

Nothing here is mocked: Xvfb is a real X server, ``tests/x11_app.py`` is a real Tk program in
its own process, and every click and key goes through XTest the way it would on a customer's
desktop. The program prints its state after every change, which is how the tests see that
the input arrived; the captured pixels show that the screen followed.

Xvfb is required, not optional: without it these tests fail and say what to install.
"""

from __future__ import annotations

import json
import os
import queue
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from Xlib import display as xdisplay
from Xlib.error import DisplayError

from device_agent.customer import CustomerAction, CustomerView
from device_agent.screens.base import Drag, Frame, Key, Rect, Scroll, Tap, Text
from device_agent.screens.x11 import X11Screen
from device_agent.ui_tk import CustomerWindow

APP = Path(__file__).with_name("x11_app.py")
WIDTH, HEIGHT = 1280, 800
# Where tests/x11_app.py puts its widgets, in root pixels (the window sits at +100+100).
TOGGLE = (200, 145)
ENTRY = (200, 210)
PAD = Rect(120, 250, 360, 150)
PAD_CORNER = (470, 390)
"""A pad pixel away from where the tests point (no cursor in the capture, but to be safe)."""
OFF_COLOUR = (200, 40, 40)
ON_COLOUR = (40, 160, 60)
WHITE = (255, 255, 255)
SENSITIVE = [Rect(600, 100, 200, 40), Rect(0, 0, 64, 32)]
TIMEOUT_S = 5.0


def _require(condition: bool, message: str) -> None:
    if not condition:
        pytest.fail(message, pytrace=False)


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    """A fresh Xvfb at 1280×800×24 on a display number it picks itself (``-displayfd``).

    Xvfb tries the numbers in turn and writes the one it got to the pipe once it accepts
    connections, so parallel test runs never race for a number.
    """
    xvfb = shutil.which("Xvfb")
    _require(
        xvfb is not None,
        "Xvfb is not installed; these tests need a real X server: apt-get install -y xvfb",
    )
    assert xvfb is not None
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [
            xvfb,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{WIDTH}x{HEIGHT}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 10)
        number = os.read(read_fd, 32).decode().strip() if ready else ""
        if not number:
            process.kill()
            _, err = process.communicate(timeout=5)
            pytest.fail(f"Xvfb did not start: {err.decode(errors='replace')}", pytrace=False)
        name = f":{number}"
        deadline = time.monotonic() + 10
        while True:
            try:
                xdisplay.Display(name).close()
                break
            except DisplayError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield name
    finally:
        os.close(read_fd)
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stderr is not None:
            process.stderr.close()


@dataclass
class Probe:
    """tests/x11_app.py running on the display; ``state`` is its latest JSON line."""

    process: subprocess.Popen[str]
    state: dict[str, Any]
    changed: threading.Condition

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.state), TIMEOUT_S):
                pytest.fail(f"the X program never showed {what}; last state {self.state}")
            return self.state

    def snapshot(self) -> dict[str, Any]:
        """The latest state; each line replaces the whole dict, so nothing mutates it later."""
        with self.changed:
            return self.state

    def presses(self, button: str) -> int:
        count: int = self.snapshot()["presses"].get(button, 0)
        return count


@pytest.fixture(scope="module")
def probe(x_display: str) -> Iterator[Probe]:
    has_tk = (
        subprocess.run(
            [sys.executable, "-c", "import tkinter"], capture_output=True, check=False
        ).returncode
        == 0
    )
    _require(
        has_tk,
        f"{sys.executable} has no tkinter; the X test program needs it "
        "(Debian's Python: apt-get install -y python3-tk)",
    )
    process = subprocess.Popen(
        [sys.executable, str(APP)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "DISPLAY": x_display},
    )
    probe = Probe(process, {}, threading.Condition())

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with probe.changed:
                probe.state = json.loads(line)
                probe.changed.notify_all()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        probe.wait_for(lambda s: bool(s.get("ready")), "its window")
        yield probe
    finally:
        process.terminate()
        process.wait(5)
        reader.join(5)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="module")
def screen(x_display: str, probe: Probe) -> Iterator[X11Screen]:
    with X11Screen(x_display, sensitive=SENSITIVE) as source:
        yield source


def pixel(frame: Frame, x: int, y: int) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in frame[y, x])
    return r, g, b


def wait_pixel(source: X11Screen, x: int, y: int, colour: tuple[int, int, int]) -> None:
    """Tk repaints after it reports a change, so give the picture a moment to follow."""
    deadline = time.monotonic() + TIMEOUT_S
    while (seen := pixel(source.capture(), x, y)) != colour:
        if time.monotonic() > deadline:
            pytest.fail(f"pixel ({x}, {y}) is {seen}, expected {colour}")
        time.sleep(0.02)


def pad_colour(toggled: bool) -> tuple[int, int, int]:
    return ON_COLOUR if toggled else OFF_COLOUR


def test_capture_is_rgb_at_screen_size_and_shows_the_app(screen: X11Screen, probe: Probe) -> None:
    assert screen.size == (WIDTH, HEIGHT)
    assert screen.revision is None
    frame = screen.capture()
    assert frame.shape == (HEIGHT, WIDTH, 3)
    assert frame.dtype == np.uint8
    assert frame.flags.c_contiguous
    assert pixel(frame, 490, 110) == WHITE  # the window's background
    assert pixel(frame, *PAD_CORNER) == pad_colour(probe.snapshot()["toggled"])


def test_tap_clicks_a_real_button_and_the_screen_follows(screen: X11Screen, probe: Probe) -> None:
    before = probe.snapshot()["toggled"]
    assert screen.inject(Tap(*TOGGLE))
    probe.wait_for(lambda s: s["toggled"] is not before, "the toggle flipped")
    wait_pixel(screen, *PAD_CORNER, pad_colour(not before))

    assert screen.inject(Tap(*TOGGLE), origin="customer")
    probe.wait_for(lambda s: s["toggled"] is before, "the toggle flipped back")
    wait_pixel(screen, *PAD_CORNER, pad_colour(before))


def test_text_and_keys_reach_the_focused_entry(screen: X11Screen, probe: Probe) -> None:
    assert screen.inject(Tap(*ENTRY))
    assert screen.inject(Key("End"))
    start = probe.snapshot()["text"]
    # Shifted characters, a Latin-1 letter and a character the US keymap lacks (remapped).
    assert screen.inject(Text("Hi Wörld €!"))
    probe.wait_for(lambda s: s["text"] == start + "Hi Wörld €!", "the typed text")
    assert screen.inject(Key("Backspace"))
    assert screen.inject(Key("BackSpace"))
    probe.wait_for(lambda s: s["text"] == start + "Hi Wörld ", "two characters deleted")
    assert screen.inject(Key("A"))
    assert screen.inject(Key("ArrowLeft"))
    assert screen.inject(Key("z"))
    probe.wait_for(lambda s: s["text"] == start + "Hi Wörld zA", "typing before the cursor")


def test_scroll_presses_wheel_buttons_one_per_40_px(screen: X11Screen, probe: Probe) -> None:
    down, up = probe.presses("5"), probe.presses("4")
    right, left = probe.presses("5+shift"), probe.presses("4+shift")
    x, y = PAD.x + 100, PAD.y + 60
    assert screen.inject(Scroll(x, y, dx=0, dy=120))  # 3 clicks of wheel down (5)
    assert screen.inject(Scroll(x, y, dx=0, dy=-40))  # 1 click of wheel up (4)
    assert screen.inject(Scroll(x, y, dx=80, dy=0))  # 2 clicks of wheel right (7)
    assert screen.inject(Scroll(x, y, dx=-10, dy=0))  # less than a step still scrolls once (6)
    assert not screen.inject(Scroll(x, y, dx=0, dy=0))
    probe.wait_for(
        lambda s: (
            s["presses"].get("5", 0) == down + 3
            and s["presses"].get("4", 0) == up + 1
            and s["presses"].get("5+shift", 0) == right + 2
            and s["presses"].get("4+shift", 0) == left + 1
        ),
        "the wheel clicks",
    )


def test_drag_presses_moves_and_releases(screen: X11Screen, probe: Probe) -> None:
    before = probe.snapshot()
    clicks, releases = before["presses"].get("1", 0), before["releases"].get("1", 0)
    assert screen.inject(Drag(PAD.x + 10, PAD.y + 10, PAD.x + 300, PAD.y + 120))
    state = probe.wait_for(
        lambda s: (
            s["presses"].get("1", 0) == clicks + 1 and s["releases"].get("1", 0) == releases + 1
        ),
        "a press and a release",
    )
    assert state["drag_motions"] >= before["drag_motions"] + 5  # moved with the button held
    # Released: a later tap elsewhere adds no drag motion.
    assert screen.inject(Tap(PAD.x + 20, PAD.y + 20))
    after = probe.wait_for(lambda s: s["releases"].get("1", 0) == releases + 2, "the next tap")
    assert after["drag_motions"] == state["drag_motions"]


def test_input_outside_the_screen_or_unknown_keys_is_refused(screen: X11Screen) -> None:
    assert not screen.inject(Tap(-1, 10))
    assert not screen.inject(Tap(10, HEIGHT + 1))
    assert not screen.inject(Drag(10, 10, WIDTH + 50, 10))
    assert not screen.inject(Key("NoSuchKeyName"))
    assert not screen.inject(Text("\x00"))


def test_sensitive_regions_are_the_configured_rectangles(screen: X11Screen) -> None:
    assert screen.sensitive_regions() == SENSITIVE
    frame, regions = screen.capture_private()
    assert frame.shape == (HEIGHT, WIDTH, 3)
    assert regions == SENSITIVE
    regions.clear()  # callers get a copy
    assert screen.sensitive_regions() == SENSITIVE


def test_concurrent_capture_from_two_threads(screen: X11Screen) -> None:
    reference = screen.capture()
    failures: queue.SimpleQueue[BaseException] = queue.SimpleQueue()
    window = np.s_[100:420, 100:500]  # the test program, which nothing changes meanwhile

    def grab() -> None:
        try:
            for _ in range(15):
                frame = screen.capture()
                assert frame.shape == (HEIGHT, WIDTH, 3)
                assert np.array_equal(frame[window], reference[window])
        except BaseException as exc:
            failures.put(exc)

    threads = [threading.Thread(target=grab) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT_S)
    assert failures.empty(), failures.get()


def test_region_capture_and_input_are_relative_to_the_region(x_display: str, probe: Probe) -> None:
    with X11Screen(x_display, region=Rect(100, 100, 400, 320)) as window:
        assert window.size == (400, 320)
        frame = window.capture()
        assert frame.shape == (320, 400, 3)
        toggled = probe.snapshot()["toggled"]
        assert pixel(frame, PAD_CORNER[0] - 100, PAD_CORNER[1] - 100) == pad_colour(toggled)
        assert window.inject(Tap(TOGGLE[0] - 100, TOGGLE[1] - 100))
        probe.wait_for(lambda s: s["toggled"] is not toggled, "the toggle flipped")
        assert window.inject(Tap(TOGGLE[0] - 100, TOGGLE[1] - 100))
        probe.wait_for(lambda s: s["toggled"] is toggled, "the toggle flipped back")
    with pytest.raises(ValueError, match="not inside"):
        X11Screen(x_display, region=Rect(1000, 0, 400, 100))


def test_agent_pointer_input_on_a_protected_rectangle_is_refused(
    x_display: str, probe: Probe
) -> None:
    button = Rect(120, 120, 160, 50)
    with X11Screen(x_display, protected=lambda: [button]) as guarded:
        toggled = probe.snapshot()["toggled"]
        assert not guarded.inject(Tap(*TOGGLE), origin="agent")
        assert not guarded.inject(Drag(PAD.x + 5, PAD.y + 5, *TOGGLE), origin="agent")
        assert guarded.inject(Tap(*TOGGLE), origin="customer")
        probe.wait_for(lambda s: s["toggled"] is not toggled, "the customer's click")
        assert guarded.inject(Tap(*TOGGLE), origin="customer")
        probe.wait_for(lambda s: s["toggled"] is toggled, "the customer's second click")


def test_customer_window_consent_and_rating(x_display: str) -> None:
    actions: queue.SimpleQueue[tuple[CustomerAction, int | str | None]] = queue.SimpleQueue()
    window = CustomerWindow(
        lambda action, value: actions.put((action, value)), "de", display=x_display
    )
    window.start()
    try:
        assert "help" in window.button_rects()
        window.set_view(
            CustomerView(
                locale="de",
                phase="connected",
                agent_name="Anna",
                organisation="Example Support",
                consent_requested=True,
            )
        )
        deadline = time.monotonic() + TIMEOUT_S
        while "allow" not in (rects := window.button_rects()):
            assert time.monotonic() < deadline, f"no Allow button, only {rects}"
            time.sleep(0.02)
        (geometry,) = window.geometry()
        allow = rects["allow"]
        assert geometry.x <= allow.x
        assert allow.x + allow.width <= geometry.x + geometry.width
        target = Tap(allow.x + allow.width // 2, allow.y + allow.height // 2)

        # The agent cannot answer the consent dialog for the customer.
        with X11Screen(x_display, protected=window.geometry) as guarded:
            assert not guarded.inject(target, origin="agent")
            assert guarded.inject(target, origin="customer")
        assert actions.get(timeout=TIMEOUT_S) == ("allow", None)

        assert window.invoke("deny")
        assert actions.get(timeout=TIMEOUT_S) == ("deny", None)
        assert not window.invoke("stop_control")  # not on screen in this view

        window.set_view(CustomerView(locale="de", phase="ended", rating_requested=True))
        deadline = time.monotonic() + TIMEOUT_S
        while "rate:4" not in window.button_rects():
            assert time.monotonic() < deadline, "no rating stars"
            time.sleep(0.02)
        assert window.invoke("rate:4")
        assert actions.get(timeout=TIMEOUT_S) == ("rate", 4)
        # Then "Wurde Ihr Problem gelöst?" with Ja / Nein, optional.
        deadline = time.monotonic() + TIMEOUT_S
        while "rate_solved:yes" not in (rects := window.button_rects()):
            assert time.monotonic() < deadline, f"no Yes / No after the stars, only {rects}"
            time.sleep(0.02)
        assert rects["rate_solved:no"].height >= rects["rate_done"].height, "big targets"
        assert window.invoke("rate_solved:yes")
        assert actions.get(timeout=TIMEOUT_S) == ("rate_solved", "yes")
        assert actions.empty()
    finally:
        window.close()
    assert not window.running
    assert window.geometry() == []
