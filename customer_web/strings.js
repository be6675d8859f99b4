// Every text the customer reads, per language, from gettext catalogues:
// customer_web/locales/<lang>/LC_MESSAGES/widget.po, each entry's msgctxt the key asked for here and
// its msgid the English text. `npm run build` compiles them (customer_web/locales/build.mjs) into
// dist/catalogues.js before bundling. Add a language by adding one more catalogue with the same
// keys; a message a catalogue lacks falls back to English, so a half-done catalogue still works.
//
// A message whose grammar depends on a number has plural forms; the catalogue's Plural-Forms header
// (evaluated by @tannin/plural-forms) picks one for `n`. The view sets texts as textContent only:
// agent names and other values from outside go in as data.

import pluralForms from "@tannin/plural-forms";
import CATALOGUES from "./dist/catalogues.js";

const ENGLISH = "en";
const pickers = new Map();

/** The plural form index for `n` in a catalogue (its Plural-Forms expression, compiled once). */
function pluralIndex(lang, n) {
  if (!pickers.has(lang)) pickers.set(lang, pluralForms(CATALOGUES[lang].plural));
  return pickers.get(lang)(n);
}

/** The language of `locale` ("de-CH" → "de") if there is a catalogue for it, else English. */
export function language(locale) {
  const primary = String(locale || "").split(/[-_]/)[0].toLowerCase();
  return Object.hasOwn(CATALOGUES, primary) ? primary : ENGLISH;
}

/** The languages with a catalogue, English (the fallback) first. */
export const LANGUAGES = [ENGLISH, ...Object.keys(CATALOGUES).filter((l) => l !== ENGLISH).sort()];

/**
 * A moment as weekday and time in the language ("Monday 06:00", "pondělí 6:00"), in the browser's
 * time zone. `when`: a Date, or epoch seconds as the server sends them.
 */
export function formatWhen(lang, when) {
  const date = when instanceof Date ? when : new Date(Number(when) * 1000);
  const format = new Intl.DateTimeFormat(language(lang), {
    weekday: "long",
    hour: "numeric",
    minute: "2-digit",
    hourCycle: "h23",
  });
  return format.format(date);
}

/**
 * A translator for `locale`: `t("queued", {position: 2})`, `t("waitMinutes", 5)`. An object
 * argument fills the {placeholders} (a Date as weekday and time); a number argument is `n`, which
 * picks the plural form of a message that has them and fills {n}. An unknown key comes back as is.
 * `t.language` is the catalogue's language.
 */
export function translator(locale) {
  const lang = language(locale);
  const t = (key, ...args) => {
    const first = args[0];
    const vars = first !== null && typeof first === "object" ? first : first === undefined ? {} : { n: first };
    let from = lang;
    let forms = CATALOGUES[lang].messages[key];
    if (forms === undefined) {
      from = ENGLISH;
      forms = CATALOGUES[ENGLISH].messages[key];
    }
    if (forms === undefined) return key;
    const template = forms.length > 1 ? forms[pluralIndex(from, Number(vars.n))] ?? forms[forms.length - 1] : forms[0];
    return template.replace(/\{(\w+)\}/g, (match, name) => {
      if (!(name in vars)) return match;
      const value = vars[name];
      return value instanceof Date ? formatWhen(lang, value) : String(value);
    });
  };
  t.language = lang;
  return t;
}

// --- overflow, opening hours, callback (issue 16): the lines as device_agent/i18n.py says them ---

/** Said at once when no online agent speaks the customer's language or knows the topic. */
export function noMatch(t) {
  return t("noMatch");
}

/** How long until routing widens to any free agent, in whole seconds (rounded up, at least 1). */
export function widensStatus(t, seconds) {
  const n = Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds)) : 1;
  return t("widensIn", n);
}

/** Routing has widened: the next free agent, who may not speak the customer's language. */
export function widened(t) {
  return t("widened");
}

/** Outside opening hours: closed, and when it opens again if known (`opensAt`: epoch seconds). */
export function closedStatus(t, opensAt) {
  if (opensAt === null || opensAt === undefined || !Number.isFinite(Number(opensAt))) return t("closed");
  return `${t("closed")} ${t("closedOpens", { when: new Date(Number(opensAt) * 1000) })}`;
}

/** While waiting for a callback: that one comes, and roughly when (minutes rounded up). */
export function callbackStatus(t, estimatedWaitS) {
  const waiting = t("callbackWaiting");
  if (estimatedWaitS === null || estimatedWaitS === undefined || !(estimatedWaitS >= 0)) {
    return `${waiting} ${t("callbackEtaUnknown")}`;
  }
  if (estimatedWaitS < 60) return `${waiting} ${t("callbackEtaSoon")}`;
  return `${waiting} ${t("callbackEta", Math.ceil(estimatedWaitS / 60))}`;
}

/** The question when the callback comes: an agent (by name when known) is ready. */
export function callbackRing(t, agent) {
  return agent ? t("callbackRingAgent", { agent }) : t("callbackRing");
}

/** A missed callback: the place is kept and how many tries are left; none left: closed. */
export function callbackMissed(t, triesLeft) {
  return triesLeft > 0 ? t("callbackMissed", triesLeft) : t("callbackGivenUp");
}
