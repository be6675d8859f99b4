// Single-key shortcuts for the tools, and the help overlay that lists them.
//
// Shortcuts are plain letters, so they must stay out of the way: they do nothing while the agent
// types in a field (chat, notes, sign-in), nothing while a modal dialog is open, and nothing while
// the customer's screen has the focus in Control mode, where every key belongs to the customer's
// device, except Ctrl+Alt+Esc, which leaves Control mode (stage.js).

import { h } from "./dom.js";

/** Keys that are not single-key shortcuts but belong in the help (one source: this list). */
const KEYS = [
  [["Ctrl", "Alt", "Esc"], "Leave Control mode: keys stay in the console"],
  [["Esc"], "Close a dialog or menu; leave full screen"],
  [["Tab"], "Next control (Shift+Tab: the previous one)"],
  [["↑", "↓"], "Move in a menu (Home, End: first, last)"],
];

export class Shortcuts {
  /** `isBlocked()`: true while keys belong to the customer's device. */
  constructor({ isBlocked }) {
    this.isBlocked = isBlocked;
    this.bindings = new Map(); // key → {label, run, when}
    document.addEventListener("keydown", (event) => this._keydown(event));
  }

  /** `when()` (optional) tells whether the shortcut applies now (e.g. only in a session). */
  bind(key, label, run, when = () => true) {
    this.bindings.set(key.toLowerCase(), { key, label, run, when });
  }

  /** Fill the help overlay's list from the bindings (one source of truth). */
  renderHelp(list) {
    const row = (keys, label, wide = false) =>
      h(
        "div",
        { class: wide ? "shortcut shortcut-wide" : "shortcut" },
        h("span", { class: "shortcut-keys" }, ...keys.map((key) => h("kbd", { text: key }))),
        h("span", { text: label }),
      );
    list.replaceChildren(
      ...KEYS.map(([keys, label]) => row(keys, label, true)),
      ...[...this.bindings.values()].map(({ key, label }) => row([key.toUpperCase()], label)),
    );
  }

  _keydown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (isTyping(event.target) || this.isBlocked(event)) return;
    if (event.target instanceof Element && event.target.closest('[aria-modal="true"], [role="menu"]')) return;
    const binding = this.bindings.get(event.key.toLowerCase());
    if (!binding || !binding.when()) return;
    event.preventDefault();
    binding.run(event);
  }
}

function isTyping(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return true;
  if (target.tagName !== "INPUT") return false;
  return !["button", "checkbox", "radio", "range", "submit", "reset"].includes(target.type);
}
