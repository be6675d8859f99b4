// Single-key shortcuts for the tools, and the help overlay that lists them.
//
// Shortcuts are plain letters, so they must stay out of the way: they do nothing while the agent
// types in a field (chat, notes, sign-in), and nothing while the customer's screen has the focus
// in Control mode, where every key belongs to the customer's device.

import { h } from "./dom.js";

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
    list.replaceChildren(
      ...[...this.bindings.values()].map(({ key, label }) =>
        h("div", { class: "shortcut" }, h("kbd", { text: key.toUpperCase() }), h("span", { text: label })),
      ),
    );
  }

  _keydown(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if (isTyping(event.target) || this.isBlocked(event)) return;
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
