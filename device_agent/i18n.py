"""What the customer reads on the device (tablet, preview page, Tk window), in six languages.

The texts live in gettext catalogues, one per language: ``locales/<lang>/LC_MESSAGES/device.po``
next to this module, each entry's ``msgctxt`` the key the code asks for and its ``msgid`` the
English text. Babel compiles them in memory on first use (no ``.mo`` file is committed or built),
and :class:`gettext.GNUTranslations` reads the result, so a catalogue's ``Plural-Forms`` header
picks the plural form. A language is a folder: adding one needs no code change.

The language comes from a BCP 47 locale (``"de-DE"``, ``"de"``, ``"de_AT"``, ``"en-GB"``): its
primary language subtag picks the catalogue, and anything unknown or missing falls back to
English, as does a message a catalogue lacks. Placeholders use :meth:`str.format` names, for
example ``{agent}``; a message whose grammar depends on a number has plural forms chosen by ``n``.

    >>> text("de-DE", "connected", agent="Anna")
    'Verbunden mit Anna'
    >>> plural_text("pl", "callback_eta", 3)
    'Mniej więcej za 3 minuty.'
"""

from __future__ import annotations

import datetime
import functools
import gettext
import io
import math
import re
import string
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime, match_skeleton
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "LOCALES",
    "callback_missed",
    "callback_ring",
    "callback_status",
    "closed_status",
    "consent_title",
    "format_when",
    "keys",
    "language",
    "no_match",
    "placeholders",
    "plural_text",
    "queue_status",
    "queue_title",
    "requeued_status",
    "requeued_title",
    "text",
    "watchers_line",
    "widened",
    "widens_status",
]

DEFAULT_LANGUAGE = "en"
DOMAIN = "device"
LOCALES = Path(__file__).with_name("locales")
"""The catalogues: ``LOCALES / <lang> / "LC_MESSAGES" / "device.po"``."""


def _discover() -> tuple[str, ...]:
    """The languages with a catalogue, English first (the fallback), then alphabetically."""
    found = {p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return (DEFAULT_LANGUAGE, *sorted(found - {DEFAULT_LANGUAGE}))


LANGUAGES: tuple[str, ...] = _discover()
"""The languages with a catalogue, as primary language subtags."""


@dataclass(frozen=True)
class _English:
    """A message as the code asks for it: the English ``msgid`` (and ``msgid_plural``)."""

    singular: str
    plural: str | None


def _path(language_code: str) -> Path:
    return LOCALES / language_code / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _catalog(language_code: str) -> Catalog:
    """The parsed ``.po`` file (for the comparisons :func:`keys` and :func:`placeholders` do)."""
    if language_code not in LANGUAGES:
        raise KeyError(language_code)
    with _path(language_code).open("rb") as po:
        return read_po(po, locale=language_code, domain=DOMAIN)


@functools.cache
def _translations(language_code: str) -> gettext.GNUTranslations:
    """The catalogue compiled by Babel in memory and read by :mod:`gettext`, which evaluates
    ``Plural-Forms``: the same lookups as an installed ``.mo`` file, without a build step."""
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(language_code), use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@functools.cache
def _english() -> dict[str, _English]:
    """Every key, with its English wording: what the code can ask for."""
    found: dict[str, _English] = {}
    for message in _catalog(DEFAULT_LANGUAGE):
        if not message.id or message.context is None:
            continue
        if isinstance(message.id, str):
            found[message.context] = _English(message.id, None)
        else:
            found[message.context] = _English(str(message.id[0]), str(message.id[1]))
    return found


def language(locale: str | None) -> str:
    """The catalogue for a BCP 47 locale: ``"de-DE"`` → ``"de"``; unknown or empty → ``"en"``."""
    if not locale:
        return DEFAULT_LANGUAGE
    primary = locale.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def _template(locale: str | None, key: str, n: int | None) -> str:
    english = _english()[key]  # an unknown key is a programming error: KeyError
    found = _translations(language(locale))
    if english.plural is None:
        return found.pgettext(key, english.singular)
    if n is None:
        raise KeyError(f"{key} has plural forms: give n")
    return found.npgettext(key, english.singular, english.plural, n)


def text(locale: str | None, key: str, **params: object) -> str:
    """The string ``key`` in the locale's language, with ``params`` filled in.

    A message with plural forms takes its number as ``n`` (see :func:`plural_text`). An unknown
    key or a missing parameter is a programming error and raises ``KeyError``.
    """
    n = params.get("n")
    count = int(n) if isinstance(n, int | float) and not isinstance(n, bool) else None
    return _template(locale, key, count).format(**params)


def plural_text(locale: str | None, key: str, n: int, **params: object) -> str:
    """The plural form of ``key`` that ``n`` calls for in the locale's language, ``{n}`` filled
    in with ``n`` and the rest from ``params``: ``plural_text("cs", "callback_eta", 3)``."""
    return _template(locale, key, n).format(n=n, **params)


def queue_title(locale: str | None, agents_online: int | None) -> str:
    """The first line while waiting: that help was asked for, or that nobody is there to give it."""
    if agents_online == 0:
        return text(locale, "nobody_available")
    return text(locale, "help_requested")


def _unknown(seconds: float | None) -> bool:
    return seconds is None or seconds < 0 or math.isnan(seconds)


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
    if estimated_wait_s is None or _unknown(estimated_wait_s):
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


# --- overflow, opening hours, callback (issue 16) ---------------------------------------------


def no_match(locale: str | None) -> str:
    """Said at once when no online agent speaks the customer's language or knows the topic."""
    return text(locale, "no_match")


def widens_status(locale: str | None, seconds: float) -> str:
    """How long until routing widens to any free agent, in whole seconds (rounded up, at least 1)."""
    n = max(1, math.ceil(seconds)) if not _unknown(seconds) else 1
    return plural_text(locale, "widens_in", n)


def widened(locale: str | None) -> str:
    """Routing has widened: the next free agent, who may not speak the customer's language."""
    return text(locale, "widened")


def format_when(locale: str | None, epoch_s: float) -> str:
    """A moment as weekday and time in the locale's language and the device's local time zone
    ("Monday 06:00", "pondělí 6:00"): the locale's own pattern for the CLDR skeleton ``EHm``
    with the weekday spelt out, as ICU widens a skeleton's fields."""
    lang = language(locale)
    moment = datetime.datetime.fromtimestamp(epoch_s).astimezone()
    patterns = Locale.parse(lang).datetime_skeletons
    skeleton = match_skeleton("EHm", patterns) or "EHm"
    pattern = re.sub(r"(?<!E)E(?!E)", "EEEE", patterns[skeleton].pattern)
    return format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=lang)


def closed_status(locale: str | None, opens_at: float | None) -> str:
    """Outside opening hours: closed, and when it opens again if known (``opens_at`` in epoch
    seconds, shown as weekday and time in the device's local time)."""
    closed = text(locale, "closed")
    if opens_at is None or _unknown(opens_at):
        return closed
    return f"{closed} {text(locale, 'closed_opens', when=format_when(locale, opens_at))}"


def callback_status(locale: str | None, estimated_wait_s: float | None) -> str:
    """While waiting for a callback: that one comes, and roughly when ("In about 3 minutes.",
    rounded up to whole minutes; under a minute said so; unknown: as soon as an agent is free)."""
    waiting = text(locale, "callback_waiting")
    if estimated_wait_s is None or _unknown(estimated_wait_s):
        return f"{waiting} {text(locale, 'callback_eta_unknown')}"
    if estimated_wait_s < 60:
        return f"{waiting} {text(locale, 'callback_eta_soon')}"
    minutes = math.ceil(estimated_wait_s / 60)
    return f"{waiting} {plural_text(locale, 'callback_eta', minutes)}"


def callback_ring(locale: str | None, agent: str | None) -> str:
    """The question when the callback comes: an agent (by name when known) is ready."""
    if agent:
        return text(locale, "callback_ring_agent", agent=agent)
    return text(locale, "callback_ring")


def callback_missed(locale: str | None, tries_left: int) -> str:
    """A missed callback: the place is kept and how many more tries come; with none left, that
    the callback was closed and Help asks again."""
    if tries_left <= 0:
        return text(locale, "callback_given_up")
    return plural_text(locale, "callback_missed", tries_left)


# --- for tests that compare catalogues --------------------------------------------------------


@functools.cache
def _by_key(language_code: str) -> dict[str, tuple[str, ...]]:
    """A catalogue's translations by key, each as its plural forms (one for a plain message)."""
    return {
        m.context: _forms(m.string)
        for m in _catalog(language_code)
        if m.id and m.context is not None
    }


def _forms(value: object) -> tuple[str, ...]:
    if isinstance(value, tuple | list):
        return tuple(str(v or "") for v in value)
    return (str(value or ""),)


def keys(language_code: str) -> frozenset[str]:
    """The string keys a language translates (an empty translation does not count)."""
    return frozenset(key for key, forms in _by_key(language_code).items() if all(forms))


def placeholders(language_code: str, key: str) -> frozenset[str]:
    """The parameter names a string expects, over all its plural forms."""
    return frozenset(
        name
        for form in _by_key(language_code)[key]
        for _, name, _, _ in string.Formatter().parse(form)
        if name
    )
