// The End session button and its menu of wrap-up reasons (resolved, unresolved, …).
//
// Picking a reason fires `end` {reason}; the session lifecycle (session.js) ends the session,
// closes the menu and keeps the button disabled while the server answers.
//
// A menu as the WAI-ARIA menu button pattern has it: opening puts the focus on the first reason
// (ArrowUp opens on the last), ArrowUp / ArrowDown move between reasons (wrapping), Home / End go
// to the first / last, Enter or Space picks one; Escape closes the menu and gives the focus back to
// the End button, and Tab or a click elsewhere closes it.

import { parts } from "./dom.js";

export class EndMenu extends EventTarget {
  /** `root` is the .end-wrap holding the .end-button and the .end-menu. */
  constructor({ root }) {
    super();
    Object.assign(this, parts(root, { button: ".end-button", menu: ".end-menu" }));
    this.items = [...this.menu.querySelectorAll("[data-reason]")];
    this.button.addEventListener("click", (event) => {
      event.stopPropagation();
      if (this.menu.hidden) this.open();
      else this.close();
    });
    this.button.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
      event.preventDefault();
      this.open(event.key === "ArrowUp" ? this.items.length - 1 : 0);
    });
    for (const item of this.items) {
      item.addEventListener("click", () => {
        this.dispatchEvent(new CustomEvent("end", { detail: { reason: item.dataset.reason } }));
      });
    }
    this.menu.addEventListener("keydown", (event) => this._keydown(event));
    document.addEventListener("click", (event) => {
      if (!this.menu.hidden && !this.menu.contains(event.target)) this.close();
    });
  }

  /** Open with the focus on reason number `index` (the first by default). */
  open(index = 0) {
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this._focus(index);
  }

  /** Close; `refocus` gives the focus back to the End button (after Escape). */
  close(refocus = false) {
    if (this.menu.hidden) return;
    const hadFocus = this.menu.contains(document.activeElement);
    this.menu.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (refocus || hadFocus) this.button.focus();
  }

  /** While the session is being ended, the button cannot be pressed again. */
  setBusy(busy) {
    this.button.disabled = busy;
  }

  _keydown(event) {
    const at = this.items.indexOf(document.activeElement);
    const last = this.items.length - 1;
    const move = {
      ArrowDown: at < 0 || at === last ? 0 : at + 1,
      ArrowUp: at <= 0 ? last : at - 1,
      Home: 0,
      End: last,
    }[event.key];
    if (move !== undefined) {
      event.preventDefault();
      this._focus(move);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close(true);
    } else if (event.key === "Tab") {
      // Tab leaves a menu: close it, and let the focus move on from the End button.
      this.menu.hidden = true;
      this.button.setAttribute("aria-expanded", "false");
      this.button.focus();
    }
  }

  /** Roving focus: the focused reason is the menu's one tab stop. */
  _focus(index) {
    this.items.forEach((item, i) => item.setAttribute("tabindex", i === index ? "0" : "-1"));
    this.items[index]?.focus();
  }
}
