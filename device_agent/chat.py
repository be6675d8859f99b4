"""The customer's side of the session's chat: its lines, whether it is open, peeking or folded
into its button, and how many lines the customer has not read.

A new line from the desk (the agent, or a supervisor who joined) *peeks*: it shows by itself for
:data:`CHAT_PEEK_S`, then the chat folds into its button with an unread count, so lines never pile
up over the customer's apps. Opening the chat reads them. The device agent owns one and tells it
what arrives; the customer's view reads its state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from . import i18n
from .customer import ChatLine, ChatState

__all__ = ["CHAT_KEPT", "CHAT_PEEK_S", "CustomerChat"]

CHAT_KEPT = 200
"""Chat lines the customer can scroll back through (a session keeps at most 500)."""
CHAT_PEEK_S = 6.0
"""How long a new line from the agent shows by itself before the chat folds into its button."""


class CustomerChat:
    def __init__(self, *, peek_s: float, show: Callable[[], None]) -> None:
        self.lines: tuple[ChatLine, ...] = ()
        self.state: ChatState = "closed"
        self.unread = 0
        self.peek_s = peek_s
        self._show = show
        self._fold_timer: asyncio.TimerHandle | None = None

    def receive(self, data: dict[str, Any], locale: str) -> None:
        """A ``chat.message`` of the current session: the customer's own, or one from the desk."""
        mine = data.get("sender") == "device"
        who = i18n.text(locale, "you") if mine else str(data.get("name", ""))
        line = ChatLine(mine=mine, name=who, text=str(data.get("text", "")))
        self.lines = (*self.lines, line)[-CHAT_KEPT:]
        if not mine and self.state != "open":
            self.unread += 1
            self._peek()
        self._show()

    def set_state(self, state: ChatState) -> None:
        """The customer opens the chat (its lines are read then) or hides it."""
        self._cancel_fold()
        self.state = state
        if state == "open":
            self.unread = 0
        self._show()

    def reset(self) -> None:
        """The session is over: its chat goes with it."""
        self._cancel_fold()
        self.lines = ()
        self.state = "closed"
        self.unread = 0

    def _peek(self) -> None:
        self._cancel_fold()
        self.state = "peek"
        self._fold_timer = asyncio.get_running_loop().call_later(self.peek_s, self._fold)

    def _fold(self) -> None:
        self._fold_timer = None
        if self.state == "peek":
            self.state = "closed"
            self._show()

    def _cancel_fold(self) -> None:
        if self._fold_timer is not None:
            self._fold_timer.cancel()
            self._fold_timer = None
