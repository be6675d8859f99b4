// The control button in the session bar: where the customer's consent to remote control stands
// (pending, granted, denied, …), what a click does (request, withdraw, release), and what follows
// when consent changes: Control mode only while it is granted, and a word to the agent.
//
// control.js follows control.state; this module only shows it and reacts to it.

import { STATUS_TEXT } from "./control.js";
import { parts } from "./dom.js";

const ACTIONS = { none: "Request control", requested: "Cancel", granted: "Release", suspended: "Release" };
const TIPS = {
  none: "Ask the customer to allow remote control",
  requested: "Waiting for the customer to allow control; click to withdraw the request",
  granted: "Remote control is on; click to give control back to the customer",
  suspended: "Control is suspended while the connection recovers; click to give it back",
};

export class ControlButton {
  /** `button` is the .control-button; `stage` owns the mode and says if a session runs. */
  constructor({ button, control, stage, toasts, notices }) {
    Object.assign(this, { button, control, stage, toasts, notices });
    Object.assign(this, parts(button, { status: ".control-status", action: ".control-action" }));
    this.unavailable = null; // why this session offers no control (a web page, for now)
    button.addEventListener("click", () => {
      if (this.unavailable) return;
      if (control.state === "none") control.request();
      else control.release();
    });
    control.addEventListener("state", (event) => this._changed(event.detail));
    this._render();
  }

  _changed({ state, reason, previous }) {
    const granted = state === "granted";
    this._render();
    if (!this.stage.active) return;
    const key = { key: "control" };
    if (granted && previous !== "granted") {
      this.stage.forceMode("control");
      this.toasts.show(this.control.describe(), "success", "Control granted", key);
    } else if (!granted && previous === "granted") {
      // The customer took it back (or the connection dropped): stop sending input at once.
      this.stage.forceMode("annotate");
      const kind = reason === "released" ? "info" : "warning";
      this.toasts.show(`${this.control.describe()} Back in Annotate mode.`, kind, "Control ended", key);
    } else if (reason === "denied" || reason === "expired") {
      this.toasts.show(this.control.describe(), "warning", this.control.headline(), key);
    }
    if (state === "suspended") this.notices.set("control", this.control.describe(), "warning");
    else this.notices.remove("control");
  }

  /** Text saying why control is not offered in this session (the button stays, disabled), or null. */
  setUnavailable(reason) {
    this.unavailable = reason;
    this._render();
  }

  /** The button says where consent stands and what a click does. */
  _render() {
    this.button.disabled = Boolean(this.unavailable);
    if (this.unavailable) {
      this.action.textContent = "Request control";
      this.status.textContent = "";
      this.status.hidden = true;
      this.button.dataset.state = "unavailable";
      this.button.title = this.unavailable;
      return;
    }
    const { state, reason } = this.control;
    const status = state === "none" ? (reason === "released" || reason === "ended" ? null : STATUS_TEXT[reason]) : STATUS_TEXT[state];
    this.action.textContent = state === "none" && status ? "Ask again" : (ACTIONS[state] ?? "Request control");
    this.status.textContent = status ?? "";
    this.status.hidden = !status;
    this.button.dataset.state = state === "none" ? (status ? reason : "none") : state;
    this.button.title = `Remote control${status ? ` ${status}` : ""}. ${TIPS[state] ?? TIPS.none}`;
  }
}
