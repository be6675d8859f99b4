// Every text the customer reads, per language. Add a language by adding one more table with the
// same keys; a key missing from a table falls back to English, so a half-done table still works.
//
// Values are plain strings with {placeholders}, or functions when the grammar depends on a number.
// The view sets them as textContent only: agent names and other values from outside go in as data.

const en = {
  help: "Help",
  title: "Support",
  minimize: "Minimize",
  starting: "Connecting to support…",
  queued: "You're number {position} in line.",
  waitMinutes: (n) => (n === 1 ? "Estimated wait: about 1 minute." : `Estimated wait: about ${n} minutes.`),
  waitShort: "Estimated wait: less than a minute.",
  waitUnknown: "We can't tell how long the wait will be. Please stay on this page; you keep your place.",
  nobodyAvailable: "Nobody is available right now. Your request stays in line; you can cancel at any time.",
  ringing: "An agent is connecting…",
  connecting: "{agent} is connecting…",
  active: "{agent} is helping you.",
  sharing: "{agent} can see this page. Passwords and payment details stay hidden.",
  agentAway: "The connection to {agent} dropped. Waiting for them to come back…",
  agentLost: "Your agent lost their connection. You are first in line for the next agent.",
  agentLostBehind: "Your agent lost their connection. You're number {position} in line.",
  transferred: "You are being handed to a colleague who can help further. Please stay on this page.",
  supervisorWatching: "{name} (supervisor) is watching",
  supervisorJoined: "{name} (supervisor) has joined",
  reconnecting: "The connection to support dropped. Reconnecting…",
  cancel: "Cancel",
  end: "End session",
  confirmEnd: "End the session? {agent} will no longer see this page.",
  confirmYes: "Yes, end it",
  confirmNo: "Keep going",
  ended: "The session has ended.",
  endedByAgent: "{agent} ended the session.",
  endedLost: "The session ended because the connection was lost.",
  cancelled: "You left the queue.",
  rateQuestion: "How helpful was this?",
  rateStar: (n) => `${n} of 5`,
  thanks: "Thank you for your feedback!",
  close: "Close",
  retry: "Try again",
  forbidden: "Help isn't available on this page.",
  rateLimited: (seconds) => `Too many requests right now. Please try again in ${seconds} seconds.`,
  unreachable: "Support can't be reached right now. Please try again.",
  refused: "Support refused the connection. Please try again later.",
  elsewhere: "Your help session continues in another tab of this site.",
  failed: "Something went wrong: {message}",
  consentTitle: "{agent} from {organisation} wants to control this page",
  consentTitleNoOrg: "{agent} wants to control this page",
  consentBody:
    "{agent} will be able to click, type and scroll on this page. Passwords and payment details stay out of reach. You can stop this at any time.",
  allow: "Allow",
  deny: "Deny",
  controlActive: "{agent} is controlling this page",
  controlPaused: "Control is paused while the connection recovers",
  stopControl: "Stop control",
  shareScreen: "Share my screen instead",
  stopSharing: "Stop sharing",
  screenShared: "{agent} can see your whole screen. Remote control is off while you share it.",
  chat: "Chat with {agent}",
  chatEmpty: "No messages yet. You can write to {agent} here.",
  chatLabel: "Message to {agent}",
  chatSend: "Send",
  chatYou: "You",
  chatFailed: "Your message was not sent. Please try again.",
  chatFull: "This chat is full. Please end the session and ask for help again.",
  chatUnread: (n) => (n === 1 ? "1 unread message" : `${n} unread messages`),
  solvedQuestion: "Was your problem solved?",
  solvedYes: "Yes",
  solvedNo: "No",
  commentLabel: "Add a comment (optional)",
  commentSend: "Send comment",
  commentThanks: "Your comment was sent.",
  commentFailed: "Your comment was not sent. Please try again.",
};

const de = {
  help: "Hilfe",
  title: "Support",
  minimize: "Minimieren",
  starting: "Verbindung zum Support wird hergestellt …",
  queued: "Sie sind Nummer {position} in der Warteschlange.",
  waitMinutes: (n) => (n === 1 ? "Geschätzte Wartezeit: etwa 1 Minute." : `Geschätzte Wartezeit: etwa ${n} Minuten.`),
  waitShort: "Geschätzte Wartezeit: weniger als eine Minute.",
  waitUnknown: "Wie lange es dauert, können wir gerade nicht sagen. Bitte bleiben Sie auf dieser Seite, Ihr Platz bleibt erhalten.",
  nobodyAvailable: "Gerade ist niemand erreichbar. Ihre Anfrage bleibt in der Warteschlange; Sie können jederzeit abbrechen.",
  ringing: "Jemand vom Support wird verbunden …",
  connecting: "{agent} wird verbunden …",
  active: "{agent} hilft Ihnen.",
  sharing: "{agent} sieht diese Seite. Passwörter und Zahlungsdaten bleiben verborgen.",
  agentAway: "Die Verbindung zu {agent} ist unterbrochen. Bitte warten …",
  agentLost: "Die Verbindung zu Ihrer Ansprechperson ist abgebrochen. Sie sind als Nächstes an der Reihe.",
  agentLostBehind:
    "Die Verbindung zu Ihrer Ansprechperson ist abgebrochen. Sie sind Nummer {position} in der Warteschlange.",
  transferred: "Sie werden an eine Kollegin oder einen Kollegen weitergeleitet. Bitte bleiben Sie auf dieser Seite.",
  supervisorWatching: "{name} (Teamleitung) sieht zu",
  supervisorJoined: "{name} (Teamleitung) ist dazugekommen",
  reconnecting: "Die Verbindung zum Support ist unterbrochen. Neuer Versuch …",
  cancel: "Abbrechen",
  end: "Sitzung beenden",
  confirmEnd: "Sitzung beenden? {agent} sieht diese Seite dann nicht mehr.",
  confirmYes: "Ja, beenden",
  confirmNo: "Weitermachen",
  ended: "Die Sitzung ist beendet.",
  endedByAgent: "{agent} hat die Sitzung beendet.",
  endedLost: "Die Sitzung wurde beendet, weil die Verbindung abgebrochen ist.",
  cancelled: "Sie haben die Warteschlange verlassen.",
  rateQuestion: "Wie hilfreich war das?",
  rateStar: (n) => `${n} von 5`,
  thanks: "Danke für Ihre Rückmeldung!",
  close: "Schließen",
  retry: "Erneut versuchen",
  forbidden: "Auf dieser Seite ist keine Hilfe verfügbar.",
  rateLimited: (seconds) => `Gerade zu viele Anfragen. Bitte versuchen Sie es in ${seconds} Sekunden erneut.`,
  unreachable: "Der Support ist gerade nicht erreichbar. Bitte versuchen Sie es erneut.",
  refused: "Der Support hat die Verbindung abgelehnt. Bitte versuchen Sie es später erneut.",
  elsewhere: "Ihre Hilfesitzung läuft in einem anderen Tab dieser Website weiter.",
  failed: "Etwas ist schiefgegangen: {message}",
  consentTitle: "{agent} von {organisation} möchte diese Seite steuern",
  consentTitleNoOrg: "{agent} möchte diese Seite steuern",
  consentBody:
    "{agent} kann dann auf dieser Seite klicken, schreiben und scrollen. Passwörter und Zahlungsdaten bleiben außer Reichweite. Sie können das jederzeit beenden.",
  allow: "Erlauben",
  deny: "Ablehnen",
  controlActive: "{agent} steuert diese Seite",
  controlPaused: "Die Steuerung ist pausiert, bis die Verbindung wieder steht",
  stopControl: "Steuerung beenden",
  shareScreen: "Stattdessen meinen Bildschirm teilen",
  stopSharing: "Teilen beenden",
  screenShared: "{agent} sieht Ihren ganzen Bildschirm. Die Fernsteuerung ist aus, solange Sie ihn teilen.",
  chat: "Chat mit {agent}",
  chatEmpty: "Noch keine Nachrichten. Hier können Sie {agent} schreiben.",
  chatLabel: "Nachricht an {agent}",
  chatSend: "Senden",
  chatYou: "Sie",
  chatFailed: "Ihre Nachricht wurde nicht gesendet. Bitte versuchen Sie es erneut.",
  chatFull: "Dieser Chat ist voll. Bitte beenden Sie die Sitzung und bitten Sie erneut um Hilfe.",
  chatUnread: (n) => (n === 1 ? "1 ungelesene Nachricht" : `${n} ungelesene Nachrichten`),
  solvedQuestion: "Wurde Ihr Problem gelöst?",
  solvedYes: "Ja",
  solvedNo: "Nein",
  commentLabel: "Kommentar hinzufügen (freiwillig)",
  commentSend: "Kommentar senden",
  commentThanks: "Ihr Kommentar wurde gesendet.",
  commentFailed: "Ihr Kommentar wurde nicht gesendet. Bitte versuchen Sie es erneut.",
};

const TABLES = { en, de };

/** The language of `locale` ("de-CH" → "de") if there is a table for it, else English. */
export function language(locale) {
  const primary = String(locale || "").split(/[-_]/)[0].toLowerCase();
  return primary in TABLES ? primary : "en";
}

/**
 * A translator for `locale`: `t("queued", {position: 2})`, `t("waitMinutes", 5)`. A string value
 * gets its {placeholders} replaced from an object argument; a function value is called with the
 * arguments as given.
 */
export function translator(locale) {
  const table = TABLES[language(locale)];
  return (key, ...args) => {
    const value = table[key] ?? en[key];
    if (typeof value === "function") return value(...args);
    if (value === undefined) return key;
    const vars = args[0] ?? {};
    return value.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
  };
}
