// Two ways of telling the agent something:
//
// * toasts: short-lived messages in a corner (an error ack, "the customer declined control");
//   errors stay until dismissed, so a refused action is never missed;
// * notices: keyed, persistent states shown in the strip above the customer's screen, never over
//   it ("sharing paused", "customer reconnecting… 12 s", "1 area is hidden for privacy"), that
//   stay exactly as long as the state holds.
//
// Both take plain text only (textContent).

import { h } from "./dom.js";

const TOAST_MS = { info: 5000, success: 4000, warning: 8000, error: 0 };
const MAX_TOASTS = 4;

export class Toasts {
  constructor(root) {
    this.root = root;
  }

  /**
   * `text`: a string, or an array of strings and nodes (see error()).
   * kind: info | success | warning | error. Errors stay until closed. Options: `action`, a
   * {label, run} button; `key`, which replaces an earlier toast with the same key (so "control
   * granted" does not linger next to "control ended"). Returns the element.
   */
  show(text, kind = "info", title = "", { action = null, key = null } = {}) {
    if (key) [...this.root.children].find((toast) => toast.dataset.key === key)?.remove();
    while (this.root.children.length >= MAX_TOASTS) this.root.firstElementChild.remove();
    const close = h("button", { class: "toast-close", type: "button", "aria-label": "Dismiss", text: "×" });
    const button = action ? h("button", { class: "btn btn-small toast-action", type: "button", text: action.label }) : null;
    const toast = h(
      "div",
      { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status", dataset: key ? { key } : {} },
      h("div", { class: "toast-body" }, title ? h("strong", { text: title }) : null, h("span", {}, text), button),
      close,
    );
    close.addEventListener("click", () => toast.remove());
    button?.addEventListener("click", () => {
      toast.remove();
      action.run();
    });
    this.root.append(toast);
    const ms = TOAST_MS[kind] ?? 5000;
    if (ms > 0) setTimeout(() => toast.remove(), ms);
    return toast;
  }

  /**
   * An error from an ack or a REST call, with its code so support staff can report it. The
   * message is isolated (<bdi>): direction overrides in it cannot reorder the code after it.
   */
  error(action, error) {
    const code = error?.code ? ` (${error.code})` : "";
    return this.show([h("bdi", { text: error?.message ?? String(error) }), code], "error", action);
  }

  clear() {
    this.root.replaceChildren();
  }
}

export class Notices {
  constructor(root) {
    this.root = root;
    this._items = new Map();
  }

  /** Show or update the notice `key`. */
  set(key, text, kind = "info") {
    let item = this._items.get(key);
    if (!item) {
      item = h("div", { class: "notice", role: "status", dataset: { key } });
      this._items.set(key, item);
      this.root.append(item);
    }
    item.className = `notice notice-${kind}`;
    item.textContent = text;
  }

  remove(key) {
    this._items.get(key)?.remove();
    this._items.delete(key);
  }

  has(key) {
    return this._items.has(key);
  }

  clear() {
    this._items.clear();
    this.root.replaceChildren();
  }
}
