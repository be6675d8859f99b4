"""What the customer window shows for one :class:`CustomerView`: its labels and buttons.

:func:`build` fills a fresh frame and returns the buttons by action; the window
(:mod:`.window`) throws the whole frame away and builds anew when the view changes, which is
rare. Every string comes from :mod:`device_agent.i18n`. No button takes keyboard focus, so keys
typed by a remote agent cannot press one.

Runs only in the Tk thread, like everything that touches a widget. ``tkinter`` is imported inside
the functions, so this module imports on a Python without ``_tkinter``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from .. import i18n
from ..customer import CustomerAction, CustomerView
from .style import (
    AMBER,
    BIG_FONT,
    BODY_FONT,
    BUTTON_FONT,
    FLAT_BUTTON,
    MUTED,
    OUTLINE,
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

__all__ = ["OnAction", "build"]

OnAction = Callable[[CustomerAction, "int | None"], None]
"""What a button does when pressed: report the action (and the stars, for ``rate``)."""


def build(
    parent: tk.Frame, view: CustomerView, rating: int | None, on_action: OnAction
) -> dict[str, tk.Button]:
    """Fill ``parent`` for ``view``; the buttons by action (``"rate:3"`` for the third star)."""
    content = _Content(parent, view, rating, on_action)
    content.fill()
    return content.buttons


class _Content:
    """One build: the view it shows, and the buttons made so far."""

    def __init__(
        self, parent: tk.Frame, view: CustomerView, rating: int | None, on_action: OnAction
    ) -> None:
        self.parent = parent
        self.view = view
        self.rating = rating
        self.on_action = on_action
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
        elif view.phase == "queued" and view.requeued:
            self._label(content, i18n.text(locale, "agent_lost"), TITLE_FONT)
            self._label(content, i18n.requeued_status(locale, view.position, view.estimated_wait_s))
            self._row(content, [("cancel", i18n.text(locale, "cancel"), "outlined")])
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

    # ---------------------------------------------------------------- the cards

    def _session(self, parent: tk.Frame, agent: str) -> None:
        view = self.view
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

        locale = self.view.locale
        self._label(parent, i18n.text(locale, "session_ended"), TITLE_FONT)
        prompt = (
            i18n.text(locale, "thanks")
            if self.rating is not None
            else i18n.text(locale, "rating_prompt")
        )
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
