"""What the customer reads on the device, in English and German.

The language comes from a BCP 47 locale (``"de-DE"``, ``"de"``, ``"de_AT"``, ``"en-GB"``): its
primary language subtag picks the catalogue, and anything unknown or missing falls back to
English. Placeholders use :meth:`str.format` names, for example ``{agent}``.

    >>> text("de-DE", "connected", agent="Anna")
    'Verbunden mit Anna'
"""

from __future__ import annotations

import math
import string

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "consent_title",
    "keys",
    "language",
    "placeholders",
    "queue_status",
    "queue_title",
    "requeued_status",
    "text",
]

DEFAULT_LANGUAGE = "en"

_EN: dict[str, str] = {
    # The floating button and the request that follows it.
    "help": "Help",
    "help_requested": "Help requested",
    # Waiting in line.
    "queue_position": "You are number {position} in line · about {minutes} min",
    "queue_position_unknown_wait": "You are number {position} in line · wait time unknown",
    "queue_waiting": "You are in line. Someone will be with you shortly.",
    # Nobody online who could help: said at once, never a wait.
    "nobody_available": "Nobody is available right now",
    "nobody_available_detail": "Your request stays in line. You can cancel at any time.",
    # The agent's connection was lost mid-session: back in line, first.
    "agent_lost": "Your agent lost their connection.",
    "agent_lost_first": "You are first in line for the next agent.",
    # The agent handed the customer on to a colleague or back to the queue (session.transfer).
    "transferred": "You are being handed to a colleague.",
    # A supervisor watches the session, or joined it (session.watchers): always said.
    "supervisor_watching": "{name} (supervisor) is watching",
    "supervisor_joined": "{name} (supervisor) has joined",
    "cancel": "Cancel",
    # Connecting and connected.
    "connecting": "Connecting…",
    "connected": "Connected to {agent}",
    "agent_sees_screen": "{agent} can see your screen",
    "agent_fallback": "Support",
    "sharing_paused": "Sharing paused",
    "sharing_paused_detail": "{agent} can’t see your screen right now",
    "pause": "Pause sharing",
    "resume": "Resume sharing",
    "end": "End",
    "end_confirm": "End the session with {agent}?",
    "end_confirm_detail": "{agent} will no longer see your screen.",
    "yes": "Yes",
    "no": "No",
    # The chat with the agent.
    "chat": "Chat",
    "chat_title": "Chat with {agent}",
    "chat_hide": "Hide",
    "chat_empty": "Write to {agent} here.",
    "chat_placeholder": "Type a message",
    "chat_send": "Send",
    "chat_new": "New message from {agent}",
    "chat_paused_for_control": "Typing here is off while {agent} controls your screen.",
    # Voice: the agent is heard; the customer's microphone is off until they tap Talk.
    "talk": "Talk",
    "talk_stop": "Mute",
    "talking": "{agent} can hear you",
    # Remote control.
    "consent_title": "{agent} from {organisation} wants to control your screen",
    "consent_title_no_org": "{agent} wants to control your screen",
    "consent_body": "{agent} will be able to tap and type on your screen. You can stop this at any time.",
    "allow": "Allow",
    "you": "You",
    "deny": "Deny",
    "control_active": "{agent} is controlling your screen",
    "stop_control": "Stop control",
    # After the session.
    "session_ended": "Session ended",
    "rating_prompt": "How was your help?",
    "rating_low": "Poor",
    "rating_high": "Excellent",
    "rating_star": "{stars} of 5 stars",
    "thanks": "Thanks!",
    "rating_thanks": "Thank you for your rating!",
    "solved_prompt": "Was your problem solved?",
    "comment_prompt": "Add a comment (optional)",
    "comment_send": "Send",
    "comment_thanks": "Thank you! Your comment was sent.",
    "close": "Close",
}

_DE: dict[str, str] = {
    "help": "Hilfe",
    "help_requested": "Hilfe angefordert",
    "queue_position": "Sie sind Nummer {position} in der Warteschlange · etwa {minutes} Min.",
    "queue_position_unknown_wait": "Sie sind Nummer {position} in der Warteschlange · Wartezeit unbekannt",
    "queue_waiting": "Sie sind in der Warteschlange. Gleich ist jemand für Sie da.",
    "nobody_available": "Gerade ist niemand erreichbar",
    "nobody_available_detail": "Ihre Anfrage bleibt in der Warteschlange. Sie können jederzeit abbrechen.",
    "agent_lost": "Die Verbindung zu Ihrer Ansprechperson ist abgebrochen.",
    "agent_lost_first": "Sie sind als Nächstes an der Reihe.",
    "transferred": "Sie werden an eine Kollegin oder einen Kollegen weitergeleitet.",
    "supervisor_watching": "{name} (Teamleitung) sieht zu",
    "supervisor_joined": "{name} (Teamleitung) ist dazugekommen",
    "cancel": "Abbrechen",
    "connecting": "Verbindung wird hergestellt …",
    "connected": "Verbunden mit {agent}",
    "agent_sees_screen": "{agent} sieht Ihren Bildschirm",
    "agent_fallback": "Support",
    "sharing_paused": "Freigabe pausiert",
    "sharing_paused_detail": "{agent} sieht Ihren Bildschirm gerade nicht",
    "pause": "Freigabe pausieren",
    "resume": "Freigabe fortsetzen",
    "end": "Beenden",
    "end_confirm": "Sitzung mit {agent} beenden?",
    "end_confirm_detail": "{agent} sieht Ihren Bildschirm dann nicht mehr.",
    "yes": "Ja",
    "no": "Nein",
    "chat": "Chat",
    "chat_title": "Chat mit {agent}",
    "chat_hide": "Ausblenden",
    "chat_empty": "Schreiben Sie {agent} hier.",
    "chat_placeholder": "Nachricht eingeben",
    "chat_send": "Senden",
    "chat_new": "Neue Nachricht von {agent}",
    "chat_paused_for_control": "Schreiben ist hier aus, solange {agent} Ihren Bildschirm steuert.",
    "talk": "Sprechen",
    "talk_stop": "Stumm",
    "talking": "{agent} hört Sie",
    "consent_title": "{agent} von {organisation} möchte Ihren Bildschirm steuern",
    "consent_title_no_org": "{agent} möchte Ihren Bildschirm steuern",
    "consent_body": "{agent} kann dann auf Ihrem Bildschirm tippen und schreiben. Sie können das jederzeit beenden.",
    "allow": "Erlauben",
    "you": "Sie",
    "deny": "Ablehnen",
    "control_active": "{agent} steuert Ihren Bildschirm",
    "stop_control": "Steuerung beenden",
    "session_ended": "Sitzung beendet",
    "rating_prompt": "Wie zufrieden waren Sie mit der Hilfe?",
    "rating_low": "Schlecht",
    "rating_high": "Sehr gut",
    "rating_star": "{stars} von 5 Sternen",
    "thanks": "Vielen Dank!",
    "rating_thanks": "Vielen Dank für Ihre Bewertung!",
    "solved_prompt": "Wurde Ihr Problem gelöst?",
    "comment_prompt": "Kommentar hinzufügen (freiwillig)",
    "comment_send": "Senden",
    "comment_thanks": "Vielen Dank! Ihr Kommentar wurde gesendet.",
    "close": "Schließen",
}

_CATALOGUES: dict[str, dict[str, str]] = {"en": _EN, "de": _DE}

LANGUAGES: tuple[str, ...] = tuple(_CATALOGUES)
"""The languages with a catalogue, as primary language subtags."""


def language(locale: str | None) -> str:
    """The catalogue for a BCP 47 locale: ``"de-DE"`` → ``"de"``; unknown or empty → ``"en"``."""
    if not locale:
        return DEFAULT_LANGUAGE
    primary = locale.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in _CATALOGUES else DEFAULT_LANGUAGE


def text(locale: str | None, key: str, **params: object) -> str:
    """The string ``key`` in the locale's language, with ``params`` filled in.

    An unknown key or a missing parameter is a programming error and raises ``KeyError``.
    """
    template = _CATALOGUES[language(locale)][key]
    return template.format(**params)


def queue_title(locale: str | None, agents_online: int | None) -> str:
    """The first line while waiting: that help was asked for, or that nobody is there to give it."""
    if agents_online == 0:
        return text(locale, "nobody_available")
    return text(locale, "help_requested")


def queue_status(
    locale: str | None,
    position: int | None,
    estimated_wait_s: float | None,
    agents_online: int | None = None,
) -> str:
    """The line the customer reads while waiting: position and, when known, the wait in minutes.

    The wait is rounded up to whole minutes and never shown as less than one; a wait the server
    cannot tell (``None``) is said to be unknown. With nobody online who could help
    (``agents_online == 0``) no wait is shown at all: the request stays in line and can be
    cancelled.
    """
    if agents_online == 0:
        return text(locale, "nobody_available_detail")
    if position is None:
        return text(locale, "queue_waiting")
    if estimated_wait_s is None or estimated_wait_s < 0 or math.isnan(estimated_wait_s):
        return text(locale, "queue_position_unknown_wait", position=position)
    minutes = max(1, math.ceil(estimated_wait_s / 60))
    return text(locale, "queue_position", position=position, minutes=minutes)


def watchers_line(locale: str | None, watchers: tuple[tuple[str, str], ...]) -> str | None:
    """Who besides the agent sees the screen (``(name, mode)`` each), or ``None`` if nobody."""
    if not watchers:
        return None
    return " · ".join(
        text(locale, "supervisor_joined" if mode == "join" else "supervisor_watching", name=name)
        for name, mode in watchers
    )


def requeued_title(locale: str | None, transferred: bool) -> str:
    """What happened, when the customer waits again mid-help: handed on, or the agent was lost."""
    return text(locale, "transferred" if transferred else "agent_lost")


def requeued_status(
    locale: str | None,
    position: int | None,
    estimated_wait_s: float | None,
    agents_online: int | None = None,
) -> str:
    """The second line after the agent was lost: first in line, or (behind others whose agent
    was lost too) the usual queue status; that nobody is available, when nobody is."""
    if agents_online == 0:
        return text(locale, "nobody_available_detail")
    if position is None or position == 1:
        return text(locale, "agent_lost_first")
    return queue_status(locale, position, estimated_wait_s)


def consent_title(locale: str | None, agent: str, organisation: str | None) -> str:
    """The consent dialog's question: who wants control, and for whom they work when known."""
    if organisation:
        return text(locale, "consent_title", agent=agent, organisation=organisation)
    return text(locale, "consent_title_no_org", agent=agent)


def keys(language_code: str) -> frozenset[str]:
    """The string keys a language has (for tests that compare catalogues)."""
    return frozenset(_CATALOGUES[language_code])


def placeholders(language_code: str, key: str) -> frozenset[str]:
    """The parameter names a string expects (for tests that compare catalogues)."""
    template = _CATALOGUES[language_code][key]
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
