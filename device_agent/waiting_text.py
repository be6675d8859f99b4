"""What the waiting customer reads, whatever draws it (the tablet's card, the Tk window).

One pure function of the :class:`~device_agent.customer.CustomerView` per thing said, so the
tablet and the Tk window cannot tell the customer different stories; every string comes from
:mod:`device_agent.i18n`. Which state wins when several hold (docs/protocol.md §20): a chosen
callback says when it comes (and, first, if one was just missed); outside opening hours the
desk says when it opens and offers the callback prominently; an agent lost or a hand-on is said
as before; no matching agent is said with the countdown to widening, and once widened, that the
next agent may not speak the customer's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import i18n
from .customer import CustomerView

__all__ = ["Tone", "WaitingText", "given_up_text", "ring_text", "waiting_text"]

Tone = Literal["plain", "attention", "callback"]
"""How the card looks: ``attention`` (amber) when nobody can help yet or the desk is closed,
``callback`` when a callback is chosen."""


@dataclass(frozen=True)
class WaitingText:
    """The waiting card: a title, lines under it, and how the "Call me back" offer looks."""

    title: str
    lines: tuple[str, ...]
    tone: Tone
    callback_prominent: bool
    """The desk is closed: "Call me back" is the main thing offered (a filled button)."""
    callback_label: str
    callback_detail: str
    """The offer's one-line explanation, beside or under the button."""


def waiting_text(view: CustomerView) -> WaitingText:
    """The waiting card's words for ``view`` (phase ``queued``)."""
    locale = view.locale
    lines: list[str] = []
    tone: Tone = "plain"
    if view.callback:
        tone = "callback"
        status = i18n.callback_status(locale, view.estimated_wait_s)
        if view.callback_missed is not None:
            title = i18n.callback_missed(locale, view.callback_missed)
            lines.append(status)
        else:
            title = status
        if view.opens_at is not None:
            lines.append(i18n.closed_status(locale, view.opens_at))
    elif view.opens_at is not None:
        tone = "attention"
        title = i18n.closed_status(locale, view.opens_at)
        lines.append(i18n.text(locale, "closed_callback_hint"))
    elif view.requeued:
        title = i18n.requeued_title(locale, view.transferred)
        lines.append(
            i18n.requeued_status(locale, view.position, view.estimated_wait_s, view.agents_online)
        )
    elif not view.matched and not view.widened:
        tone = "attention"
        title = i18n.no_match(locale)
        if view.widens_in_s is not None:
            lines.append(i18n.widens_status(locale, view.widens_in_s))
    else:
        if view.agents_online == 0:
            tone = "attention"
        title = i18n.queue_title(locale, view.agents_online)
        if view.widened:
            lines.append(i18n.widened(locale))
        lines.append(
            i18n.queue_status(locale, view.position, view.estimated_wait_s, view.agents_online)
        )
    return WaitingText(
        title=title,
        lines=tuple(lines),
        tone=tone,
        callback_prominent=view.opens_at is not None,
        callback_label=i18n.text(locale, "callback_button"),
        callback_detail=i18n.text(locale, "callback_button_detail"),
    )


def ring_text(view: CustomerView) -> str | None:
    """The callback's question ("Anna is ready to help you: connect now?"), while it rings."""
    ring = view.callback_ring
    if ring is None:
        return None
    return i18n.callback_ring(view.locale, ring.agent_name)


def given_up_text(view: CustomerView) -> str | None:
    """After the callback ended unanswered: that we could not reach them, and Help asks again."""
    if not view.callback_given_up:
        return None
    return i18n.callback_missed(view.locale, 0)
