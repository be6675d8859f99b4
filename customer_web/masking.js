// What never leaves the customer's browser (docs/cobrowse.md §3), as rrweb recording options.
//
// rrweb applies these while it serializes, so a masked value is never in any event: not in the
// full snapshot, not in input events, not in attribute mutations.
//
// * every input, select and textarea value is masked (`maskInputOptions` for every type);
// * passwords, card fields (autocomplete="cc-…"), one-time codes: masked always, even with
//   data-mayday-unmask, and with a fixed number of stars so not even their length is shown;
// * data-mayday-unmask: a harmless field's value is shown as it is;
// * data-mayday-mask: the element's text is masked too (rrweb's maskTextSelector);
// * data-mayday-block: the element becomes an empty box of its size (rrweb's blockSelector).

export const WIDGET_TAG = "mayday-help";

const MASK = "*";
const HIDDEN_SECRET = MASK.repeat(8);

// Input types whose value is masked. `hidden` is ours: rrweb would otherwise send hidden fields'
// values (tokens) along with the page.
const MASKED_TYPES = [
  "color", "date", "datetime-local", "email", "month", "number", "range", "search", "tel",
  "text", "time", "url", "week", "textarea", "select", "password", "hidden", "file",
];

const ALWAYS_SECRET_AUTOCOMPLETE = /(^|\s)(cc-|current-password|new-password|one-time-code)/i;

/** A field that must stay masked whatever the page says: a password, a card field, a code. */
export function isSecretField(element) {
  if (!element || typeof element.getAttribute !== "function") return true;
  const type = (element.getAttribute("type") || "").toLowerCase();
  // rrweb marks a password field it has seen, so one the page switches to type=text ("show
  // password") stays masked.
  if (type === "password" || element.hasAttribute("data-rr-is-password")) return true;
  return ALWAYS_SECRET_AUTOCOMPLETE.test(element.getAttribute("autocomplete") || "");
}

/** rrweb's maskInputFn: called for every value of the types above. */
export function maskInput(text, element) {
  const value = String(text ?? "");
  if (isSecretField(element)) return value ? HIDDEN_SECRET : "";
  if (element.hasAttribute("data-mayday-unmask")) return value;
  return MASK.repeat(value.length);
}

/** The recording options that do the masking and blocking. */
export function privacyOptions() {
  return {
    maskInputOptions: Object.fromEntries(MASKED_TYPES.map((type) => [type, true])),
    maskInputFn: maskInput,
    maskTextSelector: "[data-mayday-mask]",
    // The widget itself is blocked too: the agent needs the page, not the customer's help panel.
    blockSelector: `[data-mayday-block], ${WIDGET_TAG}`,
    // Canvas pixels and inline images could show anything; they are not recorded (cobrowse.md §5).
    recordCanvas: false,
    inlineImages: false,
    collectFonts: false,
  };
}
