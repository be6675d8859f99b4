// Canned replies: the desk's short replies (GET /api/canned-replies, edited with
// `mayday canned add|list|remove`) in a small menu beside the chat input. Picking one puts its
// text into the input at the caret; it is not sent: the agent reads it, may change it, and sends.
//
// Keyboard: the "Canned replies" button (Tab to it, or Alt+R in the chat input) opens the menu; the arrow
// keys, Home and End move, Enter picks, Escape closes and gives the focus back.
//
// The texts come from the records, not from customers, but are set as text like everything else.

import { h } from "./dom.js";

export class CannedPicker {
  /** `form` is the chat's .chat-form, `input` its textarea; the button goes before Send. */
  constructor({ form, input, api, toasts }) {
    Object.assign(this, { form, input, api, toasts });
    this.button = h("button", {
      class: "btn btn-ghost canned-button", type: "button", text: "Canned replies ▾",
      title: "Insert a canned reply into the message (Alt+R)",
      "aria-haspopup": "menu", "aria-expanded": "false",
    });
    this.menu = h("div", { class: "menu canned-menu", role: "menu", "aria-label": "Canned replies", hidden: true });
    this.wrap = h("div", { class: "canned-wrap" }, this.button, this.menu);
    const send = form.querySelector(".chat-send");
    form.insertBefore(this.wrap, send);
    this.button.addEventListener("click", () => (this.menu.hidden ? this.open() : this.close()));
    this.button.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        this.open(event.key === "ArrowUp" ? -1 : 0);
      }
    });
    this.menu.addEventListener("keydown", (event) => this._keydown(event));
    input.addEventListener("keydown", (event) => {
      if (event.altKey && !event.ctrlKey && !event.metaKey && event.key.toLowerCase() === "r") {
        event.preventDefault();
        this.open();
      }
    });
    document.addEventListener("pointerdown", (event) => {
      if (!this.menu.hidden && !this.wrap.contains(event.target)) this.close(false);
    });
  }

  /** Load the replies and show them; `focusIndex` (-1: the last) gets the focus. */
  async open(focusIndex = 0) {
    let replies;
    try {
      replies = (await this.api.get("/api/canned-replies")).replies;
    } catch (error) {
      this.toasts.error("The canned replies could not be loaded", error);
      return;
    }
    this.menu.replaceChildren(h("p", { class: "menu-title", text: "Canned replies" }));
    if (!replies.length) {
      this.menu.append(h("p", { class: "canned-none muted", text: "None yet. An administrator adds them with mayday canned add." }));
    }
    for (const reply of replies) {
      const item = h("button", { type: "button", role: "menuitem", tabindex: "-1", title: reply.text, text: reply.text });
      item.addEventListener("click", () => this.pick(reply.text));
      this.menu.append(item);
    }
    this.menu.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    const items = this._items();
    (items.at(focusIndex) ?? this.button).focus();
  }

  close(refocus = true) {
    this.menu.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (refocus) this.button.focus();
  }

  /** Put `text` into the chat input at the caret (replacing a selection); nothing is sent. */
  pick(text) {
    const { input } = this;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? start;
    const room = input.maxLength > 0 ? input.maxLength - (input.value.length - (end - start)) : text.length;
    const inserted = text.slice(0, Math.max(0, room));
    input.setRangeText(inserted, start, end, "end");
    input.dispatchEvent(new Event("input", { bubbles: true }));
    this.close(false);
    input.focus();
  }

  _items() {
    return [...this.menu.querySelectorAll('[role="menuitem"]')];
  }

  _keydown(event) {
    const items = this._items();
    const index = items.indexOf(document.activeElement);
    const move = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: items.length - 1 }[event.key];
    if (move !== undefined && items.length) {
      event.preventDefault();
      items[(move + items.length) % items.length].focus();
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    } else if (event.key === "Tab") {
      this.close(false);
    }
  }
}
