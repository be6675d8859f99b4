"""The customer-side gettext catalogues (device and widget) against the English one, and the code
against the catalogues.

Every catalogue must have every English message (by key, ``msgctxt``, with the same English
``msgid``), nothing more, the same ``{placeholders}``, a ``Plural-Forms`` header as CLDR (through
Babel) has it, and every plural form filled; and every key the device code and the widget code ask
for must exist. The plural forms are checked where they are used: gettext on the device, the
widget's translator under Node.js.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import string
import subprocess
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from device_agent import i18n

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {"en", "de", "nl", "pl", "tr", "cs"}
"""The six languages of the customer side (issue 16); a further one is a folder more."""
LANGUAGES = i18n.LANGUAGES
DOMAINS = {
    "device": ROOT / "device_agent" / "locales",
    "widget": ROOT / "customer_web" / "locales",
}


def catalogue(domain: str, lang: str) -> Catalog:
    with (DOMAINS[domain] / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as po:
        return read_po(po, domain=domain)


def messages(cat: Catalog) -> dict[str, Message]:
    found: dict[str, Message] = {}
    for message in cat:
        if not message.id:
            continue  # the header
        assert message.context, f"{cat.locale}: {message.id!r} has no key (msgctxt)"
        assert message.context not in found, f"{cat.locale}: key {message.context} twice"
        found[message.context] = message
    return found


def forms(message: Message) -> tuple[str, ...]:
    value = message.string
    return tuple(value) if isinstance(value, tuple | list) else (value or "",)


def names(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


@pytest.mark.parametrize("domain", DOMAINS)
def test_both_sides_have_the_same_languages_six_at_least(domain: str) -> None:
    found = {p.parent.parent.name for p in DOMAINS[domain].glob(f"*/LC_MESSAGES/{domain}.po")}
    assert found == set(LANGUAGES)
    assert found >= REQUIRED
    assert i18n.LANGUAGES[0] == "en", "English, the fallback, comes first"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_catalogue_matches_the_english_one(domain: str, lang: str) -> None:
    english = messages(catalogue(domain, "en"))
    cat = catalogue(domain, lang)
    own = messages(cat)
    assert str(cat.locale) == lang
    # The Plural-Forms header as CLDR has it (Babel's table), so gettext and the widget agree.
    expected = get_plural(lang)
    assert cat.num_plurals == expected.num_plurals, lang
    assert cat.plural_expr.replace(" ", "").strip("()") == expected.plural_expr.replace(
        " ", ""
    ).strip("()")
    assert own.keys() - english.keys() == set(), f"{lang} has messages English lacks"
    assert english.keys() - own.keys() == set(), f"{lang} lacks messages"
    for key, source in english.items():
        message = own[key]
        where = f"{domain}/{lang}: {key}"
        assert message.id == source.id, f"{where}: msgid differs from the English one"
        assert not message.fuzzy, f"{where}: fuzzy"
        wanted = names(source.id if isinstance(source.id, str) else " ".join(source.id))
        got = forms(message)
        assert all(f.strip() for f in got), f"{where}: an empty form"
        if source.pluralizable:
            assert len(got) == cat.num_plurals, f"{where}: {len(got)} forms, not {cat.num_plurals}"
            # The first form may spell a lone "1" out ("noch einmal"); the last (the general
            # case) must say every placeholder; none may invent one.
            assert names(got[-1]) == wanted, f"{where}: placeholders of the last form"
            assert all(names(f) <= wanted for f in got), f"{where}: an unknown placeholder"
        else:
            assert len(got) == 1
            assert names(got[0]) == wanted, f"{where}: placeholders {names(got[0])} ≠ {wanted}"


def test_english_translates_to_itself() -> None:
    for domain in DOMAINS:
        for key, message in messages(catalogue(domain, "en")).items():
            source = (message.id,) if isinstance(message.id, str) else tuple(message.id)
            assert forms(message) == source, f"{domain}: {key}"


def test_the_new_customer_messages_are_in_both_domains() -> None:
    """The overflow, opening-hours and callback messages (issue 16), device key and widget key."""
    device, widget = messages(catalogue("device", "en")), messages(catalogue("widget", "en"))
    for snake in [
        "no_match",
        "widens_in",
        "widened",
        "closed",
        "closed_opens",
        "closed_callback_hint",
        "callback_button",
        "callback_button_detail",
        "callback_waiting",
        "callback_eta",
        "callback_eta_soon",
        "callback_eta_unknown",
        "callback_ring",
        "callback_ring_agent",
        "callback_connect",
        "callback_not_now",
        "callback_missed",
        "callback_given_up",
    ]:
        camel = re.sub(r"_(\w)", lambda m: m.group(1).upper(), snake)
        assert snake in device, snake
        assert camel in widget, camel
        assert device[snake].id == widget[camel].id, snake
    assert all(device[k].pluralizable for k in ("widens_in", "callback_eta", "callback_missed"))


# --- the device: what i18n.py makes of the catalogues ------------------------------------------


def test_device_plural_forms_follow_each_language() -> None:
    assert i18n.plural_text("en", "callback_eta", 1) == "In about 1 minute."
    assert i18n.plural_text("en", "callback_eta", 2) == "In about 2 minutes."
    polish = {n: i18n.plural_text("pl", "callback_eta", n) for n in (1, 2, 5, 12, 22, 25)}
    assert polish[1].endswith(" 1 minutę.")
    assert polish[2].endswith(" 2 minuty.")
    assert polish[22].endswith(" 22 minuty.")
    assert polish[5].endswith(" 5 minut.")
    assert polish[12].endswith(" 12 minut.")
    assert polish[25].endswith(" 25 minut.")
    czech = {n: i18n.plural_text("cs", "callback_eta", n) for n in (1, 3, 5, 22)}
    assert czech[1].endswith("minutu.")
    assert czech[3].endswith("minuty.")
    assert czech[5].endswith("minut.")
    assert czech[22].endswith("minut.")
    assert i18n.plural_text("de-AT", "widens_in", 1).startswith("In 1 Sekunde ")
    assert i18n.text("de", "widens_in", n=30).startswith("In 30 Sekunden ")
    with pytest.raises(KeyError):
        i18n.text("de", "widens_in")  # a plural message needs its number
    with pytest.raises(KeyError):
        i18n.text("de", "no_such_key")


def test_device_falls_back_to_english() -> None:
    assert i18n.language("fr-FR") == "en"
    assert i18n.language("cs_CZ") == "cs"
    assert i18n.language("TR") == "tr"
    assert i18n.text("fr", "callback_button") == "Call me back"
    assert i18n.text("nl-BE", "callback_button") == "Bel mij terug"


def test_device_status_lines() -> None:
    assert i18n.callback_status("en", 150) == "We'll call you back. In about 3 minutes."
    assert i18n.callback_status("en", 20) == "We'll call you back. In less than a minute."
    assert i18n.callback_status("en", None) == "We'll call you back. As soon as an agent is free."
    assert i18n.callback_status("de", 61) == "Wir rufen Sie zurück. In etwa 2 Minuten."
    assert i18n.widens_status("en", 29.2).startswith("In 30 seconds ")
    assert i18n.widens_status("en", 0.4).startswith("In 1 second ")
    assert i18n.callback_missed("en", 2).endswith("we'll try 2 more times.")
    assert i18n.callback_missed("en", 1).endswith("we'll try 1 more time.")
    assert i18n.callback_missed("en", 0) == i18n.text("en", "callback_given_up")
    assert i18n.callback_ring("en", "Ana") == "Ana is ready to help you: connect now?"
    assert i18n.callback_ring("en", None) == "An agent is ready: connect now?"
    assert i18n.no_match("tr") == i18n.text("tr", "no_match")
    assert i18n.widened("cs") == i18n.text("cs", "widened")
    assert i18n.closed_status("en", None) == "We're closed right now."


def test_closed_status_names_weekday_and_time_in_the_customers_language() -> None:
    import datetime

    # A Monday, 06:00 in the device's local time zone.
    monday = datetime.datetime(2027, 1, 18, 6, 0).astimezone().timestamp()
    assert i18n.closed_status("en", monday) == "We're closed right now. We open again Monday 06:00."
    assert i18n.format_when("de", monday) == "Montag, 06:00"
    assert i18n.format_when("nl", monday) == "maandag 06:00"
    assert i18n.format_when("pl", monday) == "poniedziałek, 06:00"
    assert i18n.format_when("tr", monday) == "Pazartesi 06:00"
    assert i18n.format_when("cs", monday) == "pondělí 6:00"


def _asked_device_keys() -> dict[str, set[str]]:
    """Every literal key device code passes to i18n.text / i18n.plural_text (both branches of a
    conditional too); a key held in a variable is not seen."""
    asked: dict[str, set[str]] = {}
    for path in (ROOT / "device_agent").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        local = path.name == "i18n.py"
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            func = node.func
            if isinstance(func, ast.Attribute):
                called = func.attr
                ours = isinstance(func.value, ast.Name) and func.value.id == "i18n"
            elif isinstance(func, ast.Name):
                called, ours = func.id, local
            else:
                continue
            if not ours or called not in ("text", "plural_text"):
                continue
            for key in _literal_keys(node.args[1]):
                asked.setdefault(key, set()).add(f"{path.relative_to(ROOT)}:{node.lineno}")
    return asked


def _literal_keys(expr: ast.expr) -> set[str]:
    """The keys a key expression can be: a string, or either branch of ``a if cond else b``."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return _literal_keys(expr.body) | _literal_keys(expr.orelse)
    return set()


def test_device_code_asks_only_for_keys_that_exist() -> None:
    asked = _asked_device_keys()
    assert {"help", "consent_title", "callback_given_up"} <= asked.keys(), "the scan finds calls"
    known = i18n.keys("en")
    missing = {key: sorted(where) for key, where in asked.items() if key not in known}
    assert missing == {}


_T_CALL = re.compile(r"(?<![\w.$])t\(")
_LITERAL = re.compile(r"\"([A-Za-z]\w*)\"(?!\s*\?)")  # not a condition's comparand
# Keys present.js asks for through a variable: the live phases it names `t(state.phase)`.
_DYNAMIC_WIDGET_KEYS = {"connecting", "active"}


def _asked_widget_keys() -> dict[str, set[str]]:
    """Every literal key the widget's modules pass to their translator `t(...)`, both branches of
    a conditional too (the call's text up to its closing parenthesis)."""
    asked: dict[str, set[str]] = {}
    for path in sorted((ROOT / "customer_web").glob("*.js")):
        source = path.read_text(encoding="utf-8")
        for match in _T_CALL.finditer(source):
            depth, end = 1, match.end()
            while depth and end < len(source):
                depth += {"(": 1, ")": -1}.get(source[end], 0)
                end += 1
            call = source[match.end() : end - 1]
            head = call.split("{", 1)[0]  # the key expression, not the placeholder values
            for key in _LITERAL.findall(head):
                line = source.count("\n", 0, match.start()) + 1
                asked.setdefault(key, set()).add(f"{path.name}:{line}")
    return asked


def test_widget_code_asks_only_for_keys_that_exist() -> None:
    asked = _asked_widget_keys()
    assert {"help", "supervisorJoined", "supervisorWatching", "callbackGivenUp"} <= asked.keys()
    known = set(messages(catalogue("widget", "en")))
    missing = {key: sorted(where) for key, where in asked.items() if key not in known}
    assert missing == {}
    assert known >= _DYNAMIC_WIDGET_KEYS


# --- the widget: strings.js as the page runs it (Node.js) ----------------------------------------


@pytest.fixture(scope="module")
def widget_says() -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "Node.js builds the widget and runs this check"
    subprocess.run(
        [node, "customer_web/locales/build.mjs"], cwd=ROOT, check=True, timeout=60
    )  # dist/catalogues.js, as `npm run build` makes it
    script = """
import * as s from "./customer_web/strings.js";
const out = {languages: s.LANGUAGES};
for (const lang of ["en", "de-DE", "nl", "pl-PL", "tr", "cs_CZ", "fr-FR"]) {
  const t = s.translator(lang);
  out[lang] = {
    language: t.language,
    unread: [1, 2, 5, 12, 22].map((n) => t("chatUnread", n)),
    queued: t("queued", {position: 3}),
    star: t("rateStar", 4),
    closed: s.closedStatus(t, Date.UTC(2027, 0, 18, 6, 0) / 1000),
    callback: [s.callbackStatus(t, 150), s.callbackStatus(t, 10), s.callbackStatus(t, null)],
    missed: [s.callbackMissed(t, 2), s.callbackMissed(t, 0)],
    widens: s.widensStatus(t, 29.5),
    ring: [s.callbackRing(t, "Ana"), s.callbackRing(t, "")],
    unknown: t("noSuchKey"),
    keep: t("failed", {message: "{agent}"}),
  };
}
console.log(JSON.stringify(out));
"""
    result = subprocess.run(
        [node, "--no-warnings", "--input-type=module", "-e", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"TZ": "UTC", "PATH": str(Path(node).parent)},
    )
    said: dict[str, Any] = json.loads(result.stdout)
    return said


def test_widget_languages_and_fallback(widget_says: dict[str, Any]) -> None:
    assert widget_says["languages"] == list(i18n.LANGUAGES)
    said = {lang: widget_says[lang] for lang in ("en", "de-DE", "pl-PL", "cs_CZ", "fr-FR")}
    assert [s["language"] for s in said.values()] == ["en", "de", "pl", "cs", "en"]
    assert said["fr-FR"] == {**said["en"]}


def test_widget_plural_forms_follow_each_language(widget_says: dict[str, Any]) -> None:
    unread = {lang: widget_says[lang]["unread"] for lang in ("en", "pl-PL", "cs_CZ")}
    assert unread["en"] == [
        "1 unread message",
        "2 unread messages",
        "5 unread messages",
        "12 unread messages",
        "22 unread messages",
    ]
    assert unread["pl-PL"] == [
        "1 nieprzeczytana wiadomość",
        "2 nieprzeczytane wiadomości",
        "5 nieprzeczytanych wiadomości",
        "12 nieprzeczytanych wiadomości",
        "22 nieprzeczytane wiadomości",
    ]
    assert unread["cs_CZ"] == [
        "1 nepřečtená zpráva",
        "2 nepřečtené zprávy",
        "5 nepřečtených zpráv",
        "12 nepřečtených zpráv",
        "22 nepřečtených zpráv",
    ]


def test_widget_says_what_the_device_says(widget_says: dict[str, Any]) -> None:
    """The same new lines, word for word, from strings.js and from i18n.py."""
    en: dict[str, Any] = widget_says["en"]
    assert en["queued"] == "You're number 3 in line."
    assert en["star"] == "4 of 5"
    assert en["unknown"] == "noSuchKey"
    assert en["keep"] == "Something went wrong: {agent}", "a value is never filled in again"
    for lang in ("en", "de-DE", "nl", "pl-PL", "tr", "cs_CZ"):
        said: dict[str, Any] = widget_says[lang]
        assert said["callback"] == [
            i18n.callback_status(lang, 150),
            i18n.callback_status(lang, 10),
            i18n.callback_status(lang, None),
        ]
        assert said["missed"] == [i18n.callback_missed(lang, 2), i18n.callback_missed(lang, 0)]
        assert said["widens"] == i18n.widens_status(lang, 29.5)
        assert said["ring"] == [i18n.callback_ring(lang, "Ana"), i18n.callback_ring(lang, "")]
    closed = {lang: widget_says[lang]["closed"] for lang in ("en", "de-DE", "cs_CZ")}
    assert closed == {
        "en": "We're closed right now. We open again Monday 06:00.",
        "de-DE": "Wir haben gerade geschlossen. Wieder für Sie da: Montag, 06:00.",
        "cs_CZ": "Momentálně máme zavřeno. Znovu otevíráme: pondělí 6:00.",
    }
