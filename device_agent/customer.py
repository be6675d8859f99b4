"""What the customer sees of a support session, whatever draws it (the simulated tablet's overlay,
the Tk window next to a real X desktop), and the actions the customer can take.

The device (:class:`~device_agent.agent.DeviceAgent`) owns what the session *is* (phase, chat
lines, unread count, whether the chat is open); each surface owns only what the customer is in the
middle of doing with it (the text being typed, the End confirmation, the stars just tapped), and
reports finished actions through a :data:`CustomerActionCallback`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CallbackPrompt",
    "ChatLine",
    "ChatState",
    "CustomerAction",
    "CustomerActionCallback",
    "CustomerView",
    "Phase",
]

Phase = Literal["idle", "queued", "connecting", "connected", "ended"]
CustomerAction = Literal[
    "help",
    "cancel",
    "allow",
    "deny",
    "stop_control",
    "pause",
    "resume",
    "end",
    "rate",
    "rate_solved",
    "rate_comment",
    "rate_done",
    "chat_open",
    "chat_close",
    "chat_send",
    "talk",
    "talk_stop",
    "callback",
    "callback_accept",
    "callback_decline",
]
"""What the customer did. ``end`` comes only after the customer confirmed it; ``rate`` carries the
stars (an ``int``), ``rate_solved`` the answer to "Was your problem solved?" (``"yes"`` or
``"no"``), ``rate_comment`` and ``chat_send`` the text (a ``str``); ``rate_done`` closes the
rating card; ``talk`` turns the customer's microphone on, ``talk_stop`` off again; ``callback`` is "Call me
back" while waiting, ``callback_accept`` / ``callback_decline`` the answer to the callback's ring
("Connect now" / "Not now")."""
CustomerActionCallback = Callable[[CustomerAction, "int | str | None"], None]

ChatState = Literal["closed", "peek", "open"]
"""``closed``: only the Chat button (with the unread count); ``peek``: the newest lines for a few
seconds after they arrive, then ``closed``; ``open``: the whole history, scrollable, with a place to
type, until the customer hides it."""


@dataclass(frozen=True)
class ChatLine:
    """One line of the session's chat as the customer reads it (the text is untrusted: drawn as
    text, never interpreted)."""

    mine: bool
    """Written by the customer (shown as "You")."""
    name: str
    text: str


@dataclass(frozen=True)
class CallbackPrompt:
    """The callback rings (``callback.ring``): "Anna is ready to help you: connect now?", with
    *Connect now* and *Not now*, drawn over everything until answered or over."""

    agent_name: str | None
    """Who is ready (``agent.name``); ``None``: an agent, unnamed."""
    seconds_left: int | None
    """Whole seconds until the ring is over unanswered (counts down); ``None``: not told."""
    attempt: int = 1


@dataclass(frozen=True)
class CustomerView:
    """What the customer's support controls show; set by the device, drawn over everything."""

    locale: str = "en"
    phase: Phase = "idle"
    position: int | None = None
    estimated_wait_s: float | None = None
    agents_online: int | None = None
    """Agents who could serve this customer (``ticket.update``); ``0``: nobody is available, said
    in plain words instead of a wait. ``None``: not told (an older server)."""
    agent_name: str | None = None
    """The agent's display name (``session.started``'s ``agent.name``), never an id."""
    organisation: str | None = None
    consent_requested: bool = False
    """The modal "X wants to control your screen" dialog with Allow / Deny."""
    control_active: bool = False
    """The agent controls the screen: a red Stop control button, a banner and a red frame."""
    sharing_paused: bool = False
    rating_requested: bool = False
    """The rating card shows (after a session), until the customer closes it or asks for help."""
    rating: int | None = None
    """The stars the customer gave on the card, once given: the card thanks them."""
    rating_solved: bool | None = None
    """The customer's Yes / No to "Was your problem solved?" (asked once the stars are given;
    optional); ``None``: not answered."""
    rating_comment_sent: bool = False
    requeued: bool = False
    """The agent lost their connection, or handed the customer on (``transferred``), and the
    customer is waiting again, first in line: said in plain words while waiting (no rating is
    asked for that session)."""
    transferred: bool = False
    """Waiting again because the agent handed the customer on, not because it was lost."""
    watchers: tuple[tuple[str, str], ...] = ()
    """Supervisors who see the screen besides the agent, ``(name, mode)`` each: always shown."""
    chat: tuple[ChatLine, ...] = ()
    """The session's chat lines, oldest first."""
    chat_state: ChatState = "closed"
    chat_unread: int = 0
    """The agent's lines the customer has not seen with the chat open."""
    talking: bool = False
    """The customer's microphone is on ("Talk" tapped): the agent hears them. Off by default, and
    at the end of every session."""
    matched: bool = True
    """``False``: no agent signed in speaks the customer's language or knows the topic; said at
    once, with the countdown to :attr:`widens_in_s` (docs/protocol.md §20.1)."""
    widens_in_s: int | None = None
    """Whole seconds until any free agent may answer (counts down); ``None``: not waiting for it."""
    widened: bool = False
    """Any free agent may answer now: they may not speak the customer's language."""
    opens_at: float | None = None
    """Outside opening hours, with nobody to serve: when the desk opens (epoch seconds); the
    callback is offered prominently."""
    callback_offered: bool = False
    """The "Call me back" button shows: waiting, not chosen yet, no agent being rung."""
    callback: bool = False
    """The customer chose "Call me back": the waiting card says a callback comes, and when."""
    callback_missed: int | None = None
    """A callback went unanswered: "We missed you", with the rings still to come (``0``: none,
    the callback is over); ``None``: nothing missed lately."""
    callback_given_up: bool = False
    """The callback ended unanswered (``session.ended`` ``callback_missed``): said beside Help."""
    callback_ring: CallbackPrompt | None = None
