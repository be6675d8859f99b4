"""The customer's support controls as a small Tk window, for real desktops (the X11 source).

The simulated tablet draws these controls into its own picture; on a real X desktop nothing does,
so this window shows the same things: the Help button, the queue position and estimated wait,
"Connected to <agent>", the consent dialog (Allow / Deny), Pause / Resume sharing, a prominent
Stop control, End, and the 1–5 rating when the session is over. Every string comes from
:mod:`device_agent.i18n`, in the language of :attr:`CustomerView.locale`.

Threading: Tk must live in one thread. :meth:`CustomerWindow.start` runs it in a daemon thread of
its own (or :meth:`CustomerWindow.run` in the caller's); :meth:`CustomerWindow.set_view` may be
called from any thread and only puts the view on a queue that the Tk thread polls with
``after``. ``on_action`` runs in the Tk thread: it must not block, and may call ``set_view``.
All Tk objects are created and dropped in that thread, because a Tcl interpreter freed from
another thread aborts the process (``Tcl_AsyncDelete``).

Safety: the window stays on top, does not close from the window manager (the controls must stay
reachable while someone sees the screen), and none of its buttons takes keyboard focus, so keys
typed by a remote agent cannot press them. Pass :meth:`CustomerWindow.geometry` to
:class:`~device_agent.screens.x11.X11Screen` as ``protected`` so agent clicks on it are refused.

``tkinter`` is imported only when the window starts: Python builds without ``_tkinter`` can still
import this module and the rest of ``device_agent`` (Debian: ``apt-get install python3-tk``).
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from . import i18n
from .customer import CustomerAction, CustomerActionCallback, CustomerView
from .screens.base import Rect

if TYPE_CHECKING:
    import tkinter as tk

__all__ = ["CustomerWindow"]

log = logging.getLogger("mayday.device.ui")

T = TypeVar("T")

POLL_MS = 40
"""How often the Tk thread looks at its queue: fast enough that a view change feels immediate."""
WIDTH = 400
MARGIN = 24
"""Distance of the window's first placement from the screen's bottom-right corner."""

SURFACE = "#ffffff"
TEXT = "#1f2126"
MUTED = "#5e636c"
OUTLINE = "#c4c8d0"
PRIMARY = "#1967d2"
PRIMARY_DARK = "#1453a8"
PRIMARY_LIGHT = "#e4eefd"
BRAND = "#d84315"
BRAND_DARK = "#b2360f"
RED = "#cc2828"
RED_DARK = "#a61f1f"
RED_LIGHT = "#fce8e6"
AMBER = "#f9ab00"

FAMILY = "DejaVu Sans"
"""Has every glyph the catalogues use (umlauts, ß, “·”, “…”, ★); Tk falls back if it is missing."""
TITLE_FONT = (FAMILY, 13, "bold")
BODY_FONT = (FAMILY, 11)
BUTTON_FONT = (FAMILY, 11, "bold")
BIG_FONT = (FAMILY, 14, "bold")
STAR_FONT = (FAMILY, 22)

STYLES: dict[str, tuple[str, str, str]] = {
    # background, background while pressed, text
    "brand": (BRAND, BRAND_DARK, SURFACE),
    "stop": (RED, RED_DARK, SURFACE),
    "filled": (PRIMARY, PRIMARY_DARK, SURFACE),
    "tonal": (PRIMARY_LIGHT, "#d2e3fc", PRIMARY),
    "outlined": (SURFACE, PRIMARY_LIGHT, PRIMARY),
    "danger": (SURFACE, RED_LIGHT, RED),
}


def _require_tkinter() -> None:
    """Fail with an install hint when this Python was built without ``_tkinter``."""
    try:
        import tkinter  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the Python build
        raise RuntimeError(
            "this Python has no tkinter (_tkinter); the customer window needs it. "
            "On Debian/Ubuntu: apt-get install -y python3-tk"
        ) from exc


class CustomerWindow:
    """The customer's controls in an always-on-top window; see the module docstring for threads.

    ``locale`` is the language until the first :meth:`set_view`; from then on the view's
    ``locale`` decides, as it does for the simulated tablet's overlay.
    """

    def __init__(
        self,
        on_action: CustomerActionCallback,
        locale: str = "en",
        *,
        display: str | None = None,
    ) -> None:
        self._on_action = on_action
        self._view = CustomerView(locale=locale)
        self._display = display
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._tk_thread_id: int | None = None
        self._ready = threading.Event()
        self._stopped = threading.Event()
        self._failure: BaseException | None = None
        self._geometry_lock = threading.Lock()
        self._geometry: Rect | None = None
        self._rating: int | None = None
        # Tk objects; touched only in the Tk thread.
        self._root: tk.Tk | None = None
        self._content: tk.Frame | None = None
        self._buttons: dict[str, tk.Button] = {}
        self._anchor: tuple[int, int] | None = None
        """Where the window's bottom-right corner stays while its height changes."""

    # ---------------------------------------------------------------- any thread

    def start(self, timeout: float = 10.0) -> None:
        """Run the window in a daemon thread; return once it is on screen."""
        if self._thread is not None:
            raise RuntimeError("the customer window was already started")
        self._thread = threading.Thread(target=self.run, name="mayday-customer-window", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the customer window did not appear")
        if self._failure is not None:
            raise RuntimeError("the customer window could not start") from self._failure

    def set_view(self, view: CustomerView) -> None:
        """Show ``view``; thread-safe, returns at once."""
        self._inbox.put(("view", view))

    def close(self, timeout: float = 5.0) -> None:
        """Close the window and wait for its thread."""
        self._inbox.put(("stop", None))
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._ready.is_set() and not self._stopped.is_set()

    def geometry(self) -> list[Rect]:
        """Where the window is, in root pixels (empty before it shows); cheap, any thread.

        Shaped for :class:`~device_agent.screens.x11.X11Screen`'s ``protected`` argument.
        """
        with self._geometry_lock:
            return [self._geometry] if self._geometry is not None else []

    def button_rects(self, timeout: float = 5.0) -> dict[str, Rect]:
        """The visible buttons in root pixels, by action (``"rate:3"`` for the third star)."""
        return self._call(self._button_rects, timeout)

    def invoke(self, action: str, timeout: float = 5.0) -> bool:
        """Press a visible button as the customer would (tests, accessibility tools)."""
        return self._call(lambda: self._invoke(action), timeout)

    # ---------------------------------------------------------------- Tk thread

    def run(self) -> None:
        """Create the window and run Tk's loop in the calling thread until :meth:`close`."""
        self._tk_thread_id = threading.get_ident()
        try:
            _require_tkinter()
            import tkinter

            root = tkinter.Tk(screenName=self._display, className="MaydaySupport")
            self._root = root
            root.report_callback_exception = self._report_callback_exception
            # A hairline border: without a window manager nothing else frames the window.
            root.configure(background=SURFACE, highlightthickness=1, highlightbackground=OUTLINE)
            root.resizable(False, False)
            root.attributes("-topmost", True)
            root.protocol("WM_DELETE_WINDOW", lambda: None)
            root.bind("<Configure>", lambda _event: self._store_geometry(), add="+")
            self._render()
            root.update()
            self._store_geometry()
        except BaseException as exc:
            self._failure = exc
            self._teardown()
            self._ready.set()
            if threading.current_thread() is self._thread:
                return  # start() raises it in the caller's thread
            raise
        self._ready.set()
        try:
            root.after(POLL_MS, self._poll)
            root.mainloop()
        finally:
            self._teardown()

    def _teardown(self) -> None:
        root, self._root = self._root, None
        self._content = None
        self._buttons = {}
        if root is not None:
            try:
                root.destroy()
            except Exception:  # the display may be gone already
                log.debug("destroying the customer window failed", exc_info=True)
        del root
        # Widgets and the interpreter form cycles: free them here, not in another thread.
        gc.collect()
        with self._geometry_lock:
            self._geometry = None
        self._stopped.set()
        # Nobody will answer questions queued after the last poll; don't let callers wait.
        while True:
            try:
                kind, payload = self._inbox.get_nowait()
            except queue.Empty:
                break
            if kind == "call":
                _, future = payload
                if future.set_running_or_notify_cancel():
                    future.set_exception(RuntimeError("the customer window was closed"))

    def _poll(self) -> None:
        root = self._root
        if root is None:
            return
        view: CustomerView | None = None
        while True:
            try:
                kind, payload = self._inbox.get_nowait()
            except queue.Empty:
                break
            if kind == "stop":
                root.quit()
                return
            if kind == "view":
                view = payload
            elif kind == "call":
                fn, future = payload
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(fn())
                    except BaseException as exc:
                        future.set_exception(exc)
        if view is not None and view != self._view:
            if not view.rating_requested:
                self._rating = None
            self._view = view
            self._render()
        root.after(POLL_MS, self._poll)

    def _call(self, fn: Callable[[], T], timeout: float) -> T:
        if threading.get_ident() == self._tk_thread_id:
            return fn()
        if not self.running:
            raise RuntimeError("the customer window is not running")
        future: Future[T] = Future()
        self._inbox.put(("call", (fn, future)))
        return future.result(timeout)

    def _report_callback_exception(
        self, exc: type[BaseException], value: BaseException, tb: Any
    ) -> None:
        log.error("customer window callback failed", exc_info=(exc, value, tb))

    def _action(self, action: CustomerAction, value: int | None = None) -> None:
        if action == "rate":
            self._rating = value
            self._render()
        self._on_action(action, value)

    def _store_geometry(self) -> None:
        root = self._root
        if root is None:
            return
        rect = Rect(root.winfo_rootx(), root.winfo_rooty(), root.winfo_width(), root.winfo_height())
        with self._geometry_lock:
            self._geometry = rect

    def _button_rects(self) -> dict[str, Rect]:
        if self._root is not None:
            self._root.update_idletasks()
        return {
            name: Rect(b.winfo_rootx(), b.winfo_rooty(), b.winfo_width(), b.winfo_height())
            for name, b in self._buttons.items()
            if b.winfo_ismapped()
        }

    def _invoke(self, action: str) -> bool:
        button = self._buttons.get(action)
        if button is None or not button.winfo_ismapped():
            return False
        button.invoke()
        return True

    # ---------------------------------------------------------------- drawing

    def _render(self) -> None:
        """Rebuild the window's content for the current view (views change rarely)."""
        root = self._root
        assert root is not None
        import tkinter

        if self._content is not None:
            self._content.destroy()
        self._buttons = {}
        content = tkinter.Frame(root, background=SURFACE, padx=18, pady=16)
        content.pack(fill="both", expand=True)
        self._content = content

        view = self._view
        locale = view.locale
        agent = view.agent_name or i18n.text(locale, "agent_fallback")
        root.title(i18n.text(locale, "help"))

        if view.control_active and view.phase != "ended":
            self._stripe(content, i18n.text(locale, "control_active", agent=agent))
            self._big_button(content, "stop_control", i18n.text(locale, "stop_control"), "stop")
        if view.consent_requested:
            self._consent(content, agent)
        elif view.phase == "idle" or (view.phase == "ended" and not view.rating_requested):
            self._big_button(content, "help", "?  " + i18n.text(locale, "help"), "brand")
        elif view.phase == "queued":
            self._label(content, i18n.text(locale, "help_requested"), TITLE_FONT)
            self._label(content, i18n.queue_status(locale, view.position, view.estimated_wait_s))
            self._row(content, [("cancel", i18n.text(locale, "cancel"), "outlined")])
        elif view.phase == "connecting":
            self._label(content, i18n.text(locale, "connecting"), TITLE_FONT)
            self._row(content, [("cancel", i18n.text(locale, "cancel"), "outlined")])
        elif view.phase == "ended":
            self._rating_card(content)
        else:
            self._session(content, agent)

        root.update_idletasks()
        self._place(root)

    def _session(self, parent: tk.Frame, agent: str) -> None:
        view = self._view
        locale = view.locale
        connected = i18n.text(locale, "connected", agent=agent)
        if view.sharing_paused:
            self._label(parent, i18n.text(locale, "sharing_paused"), TITLE_FONT)
            self._label(
                parent, i18n.text(locale, "sharing_paused_detail", agent=agent), color=MUTED
            )
        else:
            self._label(parent, connected, TITLE_FONT)
            self._label(parent, i18n.text(locale, "agent_sees_screen", agent=agent), color=MUTED)
        pause: tuple[CustomerAction, str, str] = (
            ("resume", i18n.text(locale, "resume"), "tonal")
            if view.sharing_paused
            else ("pause", i18n.text(locale, "pause"), "tonal")
        )
        self._row(parent, [pause, ("end", i18n.text(locale, "end"), "danger")])

    def _consent(self, parent: tk.Frame, agent: str) -> None:
        view = self._view
        locale = view.locale
        if view.organisation:
            title = i18n.text(locale, "consent_title", agent=agent, organisation=view.organisation)
        else:
            title = i18n.text(locale, "consent_title_no_org", agent=agent)
        self._label(parent, title, TITLE_FONT)
        body = i18n.text(locale, "consent_body", agent=agent)
        self._label(parent, body, color=MUTED)
        self._row(
            parent,
            [
                ("deny", i18n.text(locale, "deny"), "outlined"),
                ("allow", i18n.text(locale, "allow"), "filled"),
            ],
        )

    def _rating_card(self, parent: tk.Frame) -> None:
        import tkinter

        locale = self._view.locale
        self._label(parent, i18n.text(locale, "session_ended"), TITLE_FONT)
        prompt = (
            i18n.text(locale, "thanks")
            if self._rating is not None
            else i18n.text(locale, "rating_prompt")
        )
        self._label(parent, prompt)
        stars = tkinter.Frame(parent, background=SURFACE)
        stars.pack(fill="x", pady=(8, 0))
        for n in range(1, 6):
            chosen = self._rating is not None and n <= self._rating
            button = tkinter.Button(
                stars,
                text="★" if chosen else "☆",
                font=STAR_FONT,
                foreground=AMBER if chosen else MUTED,
                activeforeground=AMBER,
                background=SURFACE,
                activebackground=PRIMARY_LIGHT,
                relief="flat",
                borderwidth=0,
                highlightthickness=0,
                takefocus=0,
                cursor="hand2",
                command=partial(self._action, "rate", n),
            )
            button.pack(side="left", expand=True, fill="x")
            self._buttons[f"rate:{n}"] = button
        scale = tkinter.Frame(parent, background=SURFACE)
        scale.pack(fill="x")
        sides: tuple[tuple[Literal["left", "right"], str], ...] = (
            ("left", "rating_low"),
            ("right", "rating_high"),
        )
        for side, key in sides:
            tkinter.Label(
                scale,
                text=i18n.text(locale, key),
                font=BODY_FONT,
                foreground=MUTED,
                background=SURFACE,
            ).pack(side=side)

    # ---------------------------------------------------------------- widgets

    def _label(
        self, parent: tk.Frame, text: str, font: tuple[Any, ...] = BODY_FONT, color: str = TEXT
    ) -> None:
        import tkinter

        tkinter.Label(
            parent,
            text=text,
            font=font,
            foreground=color,
            background=SURFACE,
            wraplength=WIDTH - 44,  # content padding, label padding and the border
            justify="left",
            anchor="w",
        ).pack(fill="x", pady=(0, 4))

    def _stripe(self, parent: tk.Frame, text: str) -> None:
        """A red banner saying that someone controls the screen."""
        import tkinter

        tkinter.Label(
            parent,
            text=text,
            font=BUTTON_FONT,
            foreground=RED,
            background=RED_LIGHT,
            wraplength=WIDTH - 64,
            padx=10,
            pady=6,
        ).pack(fill="x", pady=(0, 8))

    def _button(
        self,
        parent: tk.Misc,
        action: CustomerAction,
        text: str,
        style: str,
        *,
        big: bool = False,
    ) -> tk.Button:
        """An unplaced button that reports ``action``; the caller packs or grids it."""
        import tkinter

        background, active, foreground = STYLES[style]
        button = tkinter.Button(
            parent,
            text=text,
            font=BIG_FONT if big else BUTTON_FONT,
            foreground=foreground,
            background=background,
            activeforeground=foreground,
            activebackground=active,
            relief="flat",
            borderwidth=0,
            # Same thickness for all, so outlined and filled buttons in a row are the same height.
            highlightthickness=1,
            highlightbackground=OUTLINE if background == SURFACE else background,
            highlightcolor=OUTLINE if background == SURFACE else background,
            padx=16,
            pady=12 if big else 8,
            takefocus=0,
            cursor="hand2",
            command=lambda: self._action(action),
        )
        self._buttons[action] = button
        return button

    def _big_button(self, parent: tk.Frame, action: CustomerAction, text: str, style: str) -> None:
        self._button(parent, action, text, style, big=True).pack(fill="x", pady=(0, 10))

    def _row(self, parent: tk.Frame, buttons: list[tuple[CustomerAction, str, str]]) -> None:
        """Buttons side by side, all the same width."""
        import tkinter

        row = tkinter.Frame(parent, background=SURFACE)
        row.pack(fill="x", pady=(10, 0))
        for i, (action, text, style) in enumerate(buttons):
            if i:
                row.columnconfigure(2 * i - 1, minsize=8)  # a gap that is not part of a cell
            row.columnconfigure(2 * i, weight=1, uniform="buttons")
            button = self._button(row, action, text, style)
            button.grid(row=0, column=2 * i, sticky="ew")

    def _place(self, root: tk.Tk) -> None:
        """Keep the bottom-right corner where it was (first: near the screen's corner)."""
        width = max(WIDTH, root.winfo_reqwidth())
        height = root.winfo_reqheight()
        if self._anchor is None:
            self._anchor = (root.winfo_screenwidth() - MARGIN, root.winfo_screenheight() - MARGIN)
        right, bottom = self._anchor
        root.geometry(f"{width}x{height}+{max(0, right - width)}+{max(0, bottom - height)}")
