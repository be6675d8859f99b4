"""What the customer window shows for one :class:`CustomerView`: its labels and buttons.

:func:`build` fills a fresh frame and returns the buttons by action; the window
(:mod:`.window`) throws the whole frame away and builds anew when the view changes, which is
rare. Every string comes from :mod:`device_agent.i18n`. No button takes keyboard focus, so keys
typed by a remote agent cannot press one. The one text field (a chat line, a rating comment) is
switched off while the agent controls the screen, so the agent's keys cannot write or send as the
customer; what the customer is in the middle of (the text, the End question) lives in
:class:`Local`, which the window keeps across rebuilds.

Runs only in the Tk thread, like everything that touches a widget. ``tkinter`` is imported inside
the functions, so this module imports on a Python without ``_tkinter``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from .. import i18n
from ..customer import ChatLine, CustomerAction, CustomerView
from ..waiting_text import given_up_text, ring_text, waiting_text
from .style import (
    AMBER,
    BIG_FONT,
    BODY_FONT,
    BUTTON_FONT,
    FLAT_BUTTON,
    MUTED,
    OUTLINE,
    PRIMARY,
    PRIMARY_LIGHT,
    RED,
    RED_LIGHT,
    STAR_FONT,
    STYLES,
    SURFACE,
    TEXT,
    TITLE_FONT,
    WIDTH,
)

if TYPE_CHECKING:
    import tkinter as tk

__all__ = ["CHAT_LINES_SHOWN", "Local", "LocalAction", "OnAction", "build"]

LocalAction = Literal["end_ask", "end_no", "comment_open"]
"""Buttons the window answers by itself: End (which asks first), No, and "Add a comment"."""
OnAction = Callable[[CustomerAction | LocalAction, "int | str | None"], None]
"""What a button does when pressed: report the action (and the stars, for ``rate``)."""
CHAT_LINES_SHOWN = 200
"""Lines in the open chat's history (it scrolls)."""
ATTENTION = "#b06000"
"""The waiting title's colour when nobody can help yet or the desk is closed (the tablet's)."""


@dataclass
class Local:
    """What the customer is in the middle of in the window; kept across rebuilds."""

    confirm_end: bool = False
    commenting: bool = False
    draft: str = ""
    entry: tk.Entry | None = None
    """The text field of the last build, if it had one (the window reads the draft from it)."""


def build(
    parent: tk.Frame,
    view: CustomerView,
    rating: int | None,
    on_action: OnAction,
    *,
    local: Local | None = None,
) -> dict[str, tk.Button]:
    """Fill ``parent`` for ``view``; the buttons by action (``"rate:3"`` for the third star)."""
    content = _Content(parent, view, rating, on_action, local or Local())
    content.fill()
    return content.buttons


class _Content:
    """One build: the view it shows, and the buttons made so far."""

    def __init__(
        self,
        parent: tk.Frame,
        view: CustomerView,
        rating: int | None,
        on_action: OnAction,
        local: Local,
    ) -> None:
        self.parent = parent
        self.view = view
        self.rating = rating
        self.on_action = on_action
        self.local = local
        local.entry = None
        self.buttons: dict[str, tk.Button] = {}

    def fill(self) -> None:
        content, view = self.parent, self.view
        locale = view.locale
        agent = view.agent_name or i18n.text(locale, "agent_fallback")
        if view.control_active and view.phase != "ended":
            self._stripe(content, i18n.text(locale, "control_active", agent=agent))
            self._big_button(content, "stop_control", i18n.text(locale, "stop_control"), "stop")
        if view.consent_requested:
            self._consent(content, agent)
        elif view.phase == "idle" or (view.phase == "ended" and not view.rating_requested):
            self._big_button(content, "help", "?  " + i18n.text(locale, "help"), "brand")
            note = given_up_text(view)
            if note is not None:
                self._label(content, note)
        elif view.phase == "queued" and view.callback_ring is not None:
            self._ring(content)
        elif view.phase == "queued":
            self._waiting(content)
        elif view.phase == "connecting":
            self._label(content, i18n.text(locale, "connecting"), TITLE_FONT)
            self._row(content, [("cancel", i18n.text(locale, "cancel"), "outlined")])
        elif view.phase == "ended":
            self._rating_card(content)
        else:
            self._session(content, agent)

    # ---------------------------------------------------------------- the cards

    def _waiting(self, parent: tk.Frame) -> None:
        """The queue's words (:mod:`device_agent.waiting_text`), "Call me back" with its
        explanation while it can be chosen, and Cancel."""
        view = self.view
        words = waiting_text(view)
        self._label(
            parent, words.title, TITLE_FONT, color=ATTENTION if words.tone == "attention" else TEXT
        )
        for line in words.lines:
            self._label(parent, line)
        if view.callback_offered:
            style = "filled" if words.callback_prominent else "tonal"
            self._button(parent, "callback", words.callback_label, style).pack(
                fill="x", pady=(10, 2)
            )
            self._label(parent, words.callback_detail, color=MUTED)
        self._row(parent, [("cancel", i18n.text(view.locale, "cancel"), "outlined")])

    def _ring(self, parent: tk.Frame) -> None:
        """The callback rings: the question, the seconds left (a bare number: nothing to
        translate) and Not now / Connect now; the window also takes Return and Escape."""
        import tkinter

        view = self.view
        ring = view.callback_ring
        assert ring is not None
        self._label(parent, ring_text(view) or "", TITLE_FONT)
        if ring.seconds_left is not None:
            tkinter.Label(
                parent,
                text=str(ring.seconds_left),
                font=BUTTON_FONT,
                foreground=TEXT,
                background=AMBER,
                padx=8,
                pady=2,
            ).pack(anchor="w", pady=(0, 4))
        self._row(
            parent,
            [
                ("callback_decline", i18n.text(view.locale, "callback_not_now"), "outlined"),
                ("callback_accept", i18n.text(view.locale, "callback_connect"), "filled"),
            ],
        )

    def _session(self, parent: tk.Frame, agent: str) -> None:
        view = self.view
        locale = view.locale
        if self.local.confirm_end:
            self._label(parent, i18n.text(locale, "end_confirm", agent=agent), TITLE_FONT)
            self._label(parent, i18n.text(locale, "end_confirm_detail", agent=agent), color=MUTED)
            self._row(
                parent,
                [
                    ("end_no", i18n.text(locale, "no"), "outlined"),
                    ("end", i18n.text(locale, "yes"), "danger"),
                ],
            )
            return
        connected = i18n.text(locale, "connected", agent=agent)
        if view.sharing_paused:
            self._label(parent, i18n.text(locale, "sharing_paused"), TITLE_FONT)
            self._label(
                parent, i18n.text(locale, "sharing_paused_detail", agent=agent), color=MUTED
            )
        else:
            self._label(parent, connected, TITLE_FONT)
            self._label(parent, i18n.text(locale, "agent_sees_screen", agent=agent), color=MUTED)
        watching = i18n.watchers_line(locale, view.watchers)
        if watching is not None:
            self._label(parent, watching, color=MUTED)
        pause: tuple[CustomerAction | LocalAction, str, str] = (
            ("resume", i18n.text(locale, "resume"), "tonal")
            if view.sharing_paused
            else ("pause", i18n.text(locale, "pause"), "tonal")
        )
        chat_label = i18n.text(locale, "chat")
        if view.chat_unread and view.chat_state != "open":
            chat_label = f"{chat_label} ({view.chat_unread})"
        chat: tuple[CustomerAction | LocalAction, str, str] = (
            ("chat_close", chat_label, "filled")
            if view.chat_state == "open"
            else ("chat_open", chat_label, "tonal")
        )
        # The customer's microphone: off until "Talk"; while on, a filled "Mute" says so.
        talk: tuple[CustomerAction | LocalAction, str, str] = (
            ("talk_stop", "\u25cf " + i18n.text(locale, "talk_stop"), "filled")
            if view.talking
            else ("talk", i18n.text(locale, "talk"), "tonal")
        )
        if view.talking:
            self._label(parent, i18n.text(locale, "talking", agent=agent), color=MUTED)
        self._row(parent, [pause, talk, chat, ("end_ask", i18n.text(locale, "end"), "danger")])
        if view.chat_state == "peek":
            self._peek(parent, agent)
        elif view.chat_state == "open":
            self._chat(parent, agent)

    def _peek(self, parent: tk.Frame, agent: str) -> None:
        """The newest line from the agent for a few seconds; pressing it opens the chat."""
        theirs = [line for line in self.view.chat if not line.mine]
        if not theirs:
            return
        title = i18n.text(self.view.locale, "chat_new", agent=theirs[-1].name or agent)
        text = theirs[-1].text
        shown = text if len(text) <= 160 else text[:159] + "…"
        button = self._button(parent, "chat_open", f"{title}\n{shown}", "tonal")
        button.configure(justify="left", anchor="w", wraplength=WIDTH - 80, font=BODY_FONT)
        button.pack(fill="x", pady=(10, 0))
        self.buttons["chat_peek"] = button

    def _chat(self, parent: tk.Frame, agent: str) -> None:
        """The whole chat, scrollable, and a line to type (off while the agent controls)."""
        import tkinter

        view = self.view
        locale = view.locale
        self._label(parent, i18n.text(locale, "chat_title", agent=agent), BUTTON_FONT)
        box = tkinter.Frame(parent, background=SURFACE)
        box.pack(fill="x", pady=(6, 0))
        history = tkinter.Text(
            box,
            height=10,
            width=44,
            wrap="word",
            font=BODY_FONT,
            foreground=TEXT,
            background=SURFACE,
            relief="flat",
            highlightthickness=1,
            highlightbackground=OUTLINE,
            takefocus=0,
            padx=8,
            pady=6,
        )
        bar = tkinter.Scrollbar(box, command=history.yview, takefocus=0)
        history.configure(yscrollcommand=bar.set)
        bar.pack(side="right", fill="y")
        history.pack(side="left", fill="both", expand=True)
        history.tag_configure("name", font=BUTTON_FONT, foreground=MUTED)
        history.tag_configure("mine", foreground=PRIMARY, justify="right")
        if not view.chat:
            history.insert("end", i18n.text(locale, "chat_empty", agent=agent), ("name",))
        for line in view.chat[-CHAT_LINES_SHOWN:]:
            _chat_line(history, line)
        history.configure(state="disabled")  # read-only; the text is never interpreted
        history.see("end")
        if view.control_active:
            text = i18n.text(locale, "chat_paused_for_control", agent=agent)
            self._label(parent, text, color=MUTED)
            return
        self._entry(parent, "chat_send", i18n.text(locale, "chat_send"))

    def _entry(self, parent: tk.Frame, action: CustomerAction, label: str) -> None:
        """A text field and its Send button; Return sends too."""
        import tkinter

        row = tkinter.Frame(parent, background=SURFACE)
        row.pack(fill="x", pady=(8, 0))
        entry = tkinter.Entry(
            row,
            font=BODY_FONT,
            foreground=TEXT,
            background=SURFACE,
            relief="flat",
            highlightthickness=1,
            highlightbackground=OUTLINE,
            highlightcolor=PRIMARY,
        )
        entry.insert(0, self.local.draft)
        entry.bind("<Return>", lambda _event: self.on_action(action, None))
        entry.pack(side="left", fill="x", expand=True, ipady=6, padx=(0, 8))
        self._button(row, action, label, "filled").pack(side="right")
        self.local.entry = entry
        entry.focus_set()

    def _consent(self, parent: tk.Frame, agent: str) -> None:
        view = self.view
        locale = view.locale
        title = i18n.consent_title(locale, agent, view.organisation)
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

        view = self.view
        locale = view.locale
        self._label(parent, i18n.text(locale, "session_ended"), TITLE_FONT)
        if self.rating is None:
            prompt = i18n.text(locale, "rating_prompt")
        elif view.rating_comment_sent:
            prompt = i18n.text(locale, "comment_thanks")
        else:
            prompt = i18n.text(locale, "rating_thanks")
        self._label(parent, prompt)
        stars = tkinter.Frame(parent, background=SURFACE)
        stars.pack(fill="x", pady=(8, 0))
        for n in range(1, 6):
            chosen = self.rating is not None and n <= self.rating
            button = tkinter.Button(
                stars,
                text="★" if chosen else "☆",
                font=STAR_FONT,
                foreground=AMBER if chosen else MUTED,
                activeforeground=AMBER,
                background=SURFACE,
                activebackground=PRIMARY_LIGHT,
                highlightthickness=0,
                command=partial(self.on_action, "rate", n),
                **FLAT_BUTTON,
            )
            button.pack(side="left", expand=True, fill="x")
            self.buttons[f"rate:{n}"] = button
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
        if self.rating is None:
            return
        self._solved_question(parent)
        close: tuple[CustomerAction | LocalAction, str, str] = (
            "rate_done",
            i18n.text(locale, "close"),
            "outlined",
        )
        if view.rating_comment_sent:
            self._row(parent, [close])
        elif self.local.commenting:
            self._label(parent, i18n.text(locale, "comment_prompt"), color=MUTED)
            self._entry(parent, "rate_comment", i18n.text(locale, "comment_send"))
            self._row(parent, [close])
        else:
            self._row(
                parent, [("comment_open", i18n.text(locale, "comment_prompt"), "tonal"), close]
            )

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
        action: CustomerAction | LocalAction,
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
            # Same thickness for all, so outlined and filled buttons in a row are the same height.
            highlightthickness=1,
            highlightbackground=OUTLINE if background == SURFACE else background,
            highlightcolor=OUTLINE if background == SURFACE else background,
            padx=16,
            pady=12 if big else 8,
            command=partial(self.on_action, action, None),
            **FLAT_BUTTON,
        )
        self.buttons[action] = button
        return button

    def _big_button(
        self, parent: tk.Frame, action: CustomerAction | LocalAction, text: str, style: str
    ) -> None:
        self._button(parent, action, text, style, big=True).pack(fill="x", pady=(0, 10))

    def _solved_question(self, parent: tk.Frame) -> None:
        """ "Was your problem solved?" with big Yes / No buttons (``"rate_solved:yes"``, …); the
        answer given shows filled and may be changed. Optional: Close works without it."""
        import tkinter

        locale, solved = self.view.locale, self.view.rating_solved
        tkinter.Frame(parent, height=10, background=SURFACE).pack(fill="x")  # apart from the stars
        self._label(parent, i18n.text(locale, "solved_prompt"), BUTTON_FONT)
        row = tkinter.Frame(parent, background=SURFACE)
        row.pack(fill="x")
        answers: tuple[tuple[str, bool], ...] = (("yes", True), ("no", False))
        for i, (key, answer) in enumerate(answers):
            if i:
                row.columnconfigure(1, minsize=8)
            row.columnconfigure(2 * i, weight=1, uniform="answers")
            style = "filled" if solved is answer else "tonal" if solved is None else "outlined"
            button = self._button(row, "rate_solved", i18n.text(locale, key), style, big=True)
            button.configure(command=partial(self.on_action, "rate_solved", key))
            button.grid(row=0, column=2 * i, sticky="ew")
            self.buttons[f"rate_solved:{key}"] = button
        self.buttons.pop("rate_solved", None)

    def _row(
        self, parent: tk.Frame, buttons: list[tuple[CustomerAction | LocalAction, str, str]]
    ) -> None:
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


def _chat_line(history: tk.Text, line: ChatLine) -> None:
    """One chat line: who wrote it, then the text (inserted as text, never as markup)."""
    tags: tuple[str, ...] = ("mine",) if line.mine else ()
    history.insert("end", line.name + "\n", ("name", *tags))
    history.insert("end", line.text + "\n\n", tags)
