"""The customer window itself: its Tk thread, its queue, its place on screen.

What it shows is built by :mod:`.content` from the current view; this module owns everything
about threads and the window's life.

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
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar, cast

from .. import i18n
from ..customer import CustomerAction, CustomerActionCallback, CustomerView
from ..screens.base import Rect
from .content import Local, LocalAction, build
from .style import OUTLINE, SURFACE, WIDTH

if TYPE_CHECKING:
    import tkinter as tk

__all__ = ["CustomerWindow"]

log = logging.getLogger("mayday.device.ui")

T = TypeVar("T")

POLL_MS = 40
"""How often the Tk thread looks at its queue: fast enough that a view change feels immediate."""
MARGIN = 24
"""Distance of the window's first placement from the screen's bottom-right corner."""


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
        self._local = Local()
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
        self._local.entry = None  # a widget, to be freed in this thread like the rest
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
        for kind, payload in self._drain():
            if kind == "call":
                _, future = payload
                if future.set_running_or_notify_cancel():
                    future.set_exception(RuntimeError("the customer window was closed"))

    def _drain(self) -> Iterator[tuple[str, Any]]:
        """The messages waiting in the inbox, oldest first; a caller that stops leaves the rest."""
        while True:
            try:
                yield self._inbox.get_nowait()
            except queue.Empty:
                return

    def _poll(self) -> None:
        root = self._root
        if root is None:
            return
        view: CustomerView | None = None
        for kind, payload in self._drain():
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
            self._keep_draft()
            if view.phase != self._view.phase:
                self._local.draft = ""
            if view.phase != "connected":
                self._local.confirm_end = False
            if not view.rating_requested:
                self._rating = None
                self._local.commenting = False
            elif view.rating is not None:
                self._rating = view.rating
            if view.callback_ring is not None and self._view.callback_ring is None:
                root.bell()  # the callback rings: the one sound Tk makes by itself
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

    def _action(self, action: CustomerAction | LocalAction, value: int | str | None = None) -> None:
        local = self._local
        if action in ("end_ask", "end_no", "comment_open"):
            local.confirm_end = action == "end_ask"
            local.commenting = local.commenting or action == "comment_open"
            self._keep_draft()
            self._render()
            return
        if action in ("chat_send", "rate_comment"):
            self._keep_draft()
            text, local.draft = local.draft.strip(), ""
            if action == "rate_comment":
                local.commenting = False
            self._render()
            if not text or (action == "chat_send" and self._view.control_active):
                return
            value = text
        elif action == "end":
            local.confirm_end = False
            self._render()
        elif action == "rate" and isinstance(value, int):
            self._rating = value
            self._render()
        self._on_action(cast(CustomerAction, action), value)

    def _keep_draft(self) -> None:
        """Read the text being typed out of the field before the content is built anew."""
        entry = self._local.entry
        if entry is not None:
            try:
                self._local.draft = entry.get()
            except Exception:  # the widget is gone already
                log.debug("reading the draft failed", exc_info=True)

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
        root.title(i18n.text(self._view.locale, "help"))
        self._buttons = build(content, self._view, self._rating, self._action, local=self._local)
        self._ring_keys(root)
        root.update_idletasks()
        self._place(root)

    def _ring_keys(self, root: tk.Tk) -> None:
        """While the callback rings, Return connects and Escape says "Not now" (when the window
        has the keyboard). Only then: no session runs, so no agent's keys can reach it."""
        if self._view.phase == "queued" and self._view.callback_ring is not None:
            root.bind("<Return>", lambda _event: self._action("callback_accept"))
            root.bind("<Escape>", lambda _event: self._action("callback_decline"))
        else:
            root.unbind("<Return>")
            root.unbind("<Escape>")

    def _place(self, root: tk.Tk) -> None:
        """Keep the bottom-right corner where it was (first: near the screen's corner)."""
        width = max(WIDTH, root.winfo_reqwidth())
        height = root.winfo_reqheight()
        if self._anchor is None:
            self._anchor = (root.winfo_screenwidth() - MARGIN, root.winfo_screenheight() - MARGIN)
        right, bottom = self._anchor
        root.geometry(f"{width}x{height}+{max(0, right - width)}+{max(0, bottom - height)}")
