// The End session button and its menu of wrap-up reasons (resolved, unresolved, …).
//
// Picking a reason fires `end` {reason}; the session lifecycle (session.js) ends the session,
// closes the menu and keeps the button disabled while the server answers. A click elsewhere or
// Escape closes the menu.

import { parts } from "./dom.js";

export class EndMenu extends EventTarget {
  /** `root` is the .end-wrap holding the .end-button and the .end-menu. */
  constructor({ root }) {
    super();
    Object.assign(this, parts(root, { button: ".end-button", menu: ".end-menu" }));
    this.button.addEventListener("click", (event) => {
      event.stopPropagation();
      if (this.menu.hidden) this.open();
      else this.close();
    });
    for (const item of this.menu.querySelectorAll("[data-reason]")) {
      item.addEventListener("click", () => {
        this.dispatchEvent(new CustomEvent("end", { detail: { reason: item.dataset.reason } }));
      });
    }
    document.addEventListener("click", (event) => {
      if (!this.menu.hidden && !this.menu.contains(event.target)) this.close();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.menu.hidden) this.close();
    });
  }

  open() {
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.menu.querySelector("[data-reason]")?.focus();
  }

  close() {
    this.menu.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
  }

  /** While the session is being ended, the button cannot be pressed again. */
  setBusy(busy) {
    this.button.disabled = busy;
  }
}
