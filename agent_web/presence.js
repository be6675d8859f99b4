// The agent's presence: Available (rung for customers) or Away.
//
// The server is the source of truth: it says where we stand on every connect and changes it by
// itself (an unanswered ring sets Away), so the switch only ever shows what presence.update or an
// ok ack said, never what was clicked.

export class Presence extends EventTarget {
  constructor({ root, signaling, toasts }) {
    super();
    Object.assign(this, { root, signaling, toasts });
    this.status = "away";
    this.buttons = [...root.querySelectorAll("button[data-status]")];
    this.hint = root.querySelector(".presence-hint");
    for (const button of this.buttons) {
      button.addEventListener("click", () => this.set(button.dataset.status));
    }
    signaling.on("presence.update", (update) => this._update(update));
    this._render();
  }

  /** Ask the server for `status`; `force` sends it even if already there (it also ends a wrap-up). */
  async set(status, { force = false } = {}) {
    if (status === this.status && !force) return;
    for (const button of this.buttons) button.disabled = true;
    try {
      const ack = await this.signaling.request("presence.set", { status });
      this._apply(ack.status ?? status);
    } catch (error) {
      this.toasts.error("Could not change your status", error);
    } finally {
      for (const button of this.buttons) button.disabled = false;
    }
  }

  toggle() {
    return this.set(this.status === "available" ? "away" : "available");
  }

  _update({ status, reason }) {
    this._apply(status);
    if (reason === "ring not answered") {
      this.toasts.show(
        "A customer rang and was not answered, so you are now Away. Switch to Available when you are ready.",
        "warning",
        "Set to Away",
      );
    }
  }

  _apply(status) {
    if (status !== "available" && status !== "away") return;
    this.status = status;
    this._render();
    this.dispatchEvent(new CustomEvent("change", { detail: { status } }));
  }

  _render() {
    this.root.dataset.status = this.status;
    for (const button of this.buttons) {
      const on = button.dataset.status === this.status;
      button.setAttribute("aria-pressed", String(on));
      button.classList.toggle("is-on", on);
    }
    if (this.hint) {
      this.hint.textContent =
        this.status === "available"
          ? "You will be rung for matching customers."
          : "You will not be rung while Away.";
    }
  }
}
