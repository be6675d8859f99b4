// Callbacks and overflow on the agent's side (docs/protocol.md §20).
//
// `callback.calling`: the server holds this agent for a customer who asked to be called back and
// rings the customer ("connect now?"). The agent has nothing to answer; the card says whom the
// desk is calling and offers Withdraw (ring.decline with the ring id: the customer keeps their
// place and the next free agent is held for them). It ends on session.started (the customer
// connected: the normal session view) or ring.cancelled (reason `callback_missed`: the customer
// did not answer, and the agent stays available: it was not the agent who missed).
//
// The queue's and the ring's entries carry `callback` (the customer waits for a callback: a badge,
// and no Take: the server rings the customer instead) and `widened` (routing widened to every
// agent: a hint with the customer's language, who may not share the agent's).
// Every value from the server goes in as text (dom.js), never as HTML.

import { formatLocale, h, parts } from "./dom.js";

const OVER_TEXT = {
  callback_missed: "The customer did not answer; you are available.",
  cancelled: "The customer stopped waiting; you are available.",
  peer_lost: "The customer's connection dropped; they keep their place in the queue.",
};

/** The small marks of a queue or ring entry: "Callback" and "Overflow — language: xx". */
export function entryMarks(entry) {
  const marks = [];
  if (entry?.callback) {
    marks.push(h("span", { class: "tag tag-callback", title: "The customer asked to be called back", text: "Callback" }));
  }
  if (entry?.widened) {
    const language = String(entry.locale ?? "").split(/[-_]/)[0] || "?";
    marks.push(
      h("span", {
        class: "tag tag-overflow",
        title: `Nobody who speaks ${formatLocale(entry.locale)} or knows the topic is signed in: the customer may not speak your language`,
        text: `Overflow — language: ${language}`,
      }),
    );
  }
  return marks;
}

export class CallbackCard extends EventTarget {
  constructor({ root, signaling, toasts }) {
    super();
    Object.assign(this, { root, signaling, toasts });
    Object.assign(this, parts(root, {
      title: ".callback-title", details: ".callback-details", countdown: ".callback-countdown",
      bar: ".callback-bar-fill", withdrawButton: ".callback-withdraw",
    }));
    this.calling = null;
    this._timer = null;
    this.withdrawButton.addEventListener("click", () => this.withdraw());
    signaling.on("callback.calling", (calling) => this.show(calling));
    signaling.on("ring.cancelled", (cancel) => this._cancelled(cancel));
  }

  /** The desk holds this agent and rings the customer: say whom, with the customer's time. */
  show(calling) {
    const ticket = calling.ticket ?? {};
    this.calling = { ...calling, shownAt: performance.now() };
    this.title.textContent = `Calling back ${ticket.device_name || "the customer"}…`;
    this.details.replaceChildren(
      ticket.topic ? h("span", { class: "tag", text: ticket.topic }) : "",
      h("span", { class: "callback-locale", text: formatLocale(ticket.locale) }),
      ...entryMarks({ ...ticket, callback: false }),
    );
    this.withdrawButton.disabled = false;
    this.root.hidden = false;
    this._tick();
    clearInterval(this._timer);
    this._timer = setInterval(() => this._tick(), 250);
    this.dispatchEvent(new CustomEvent("calling", { detail: calling }));
  }

  /** Withdraw: ring.decline with the callback's ring id (the customer keeps their place). */
  async withdraw() {
    const calling = this.calling;
    if (!calling) return;
    this.withdrawButton.disabled = true;
    try {
      await this.signaling.request("ring.decline", { ring_id: calling.ring_id });
    } catch (error) {
      if (error.code !== "not_found") this.toasts.error("Could not withdraw", error);
    }
    this._hide(calling);
  }

  /** The customer connected: the session view takes over. */
  dismiss() {
    if (this.calling) this._hide(this.calling);
  }

  _cancelled({ ring_id: ringId, reason }) {
    if (!this.calling || this.calling.ring_id !== ringId) return;
    this._hide(this.calling);
    const text = OVER_TEXT[reason];
    if (text) this.toasts.show(text, "info", "Callback over");
  }

  _hide(calling) {
    if (this.calling !== calling) return;
    this.calling = null;
    clearInterval(this._timer);
    this._timer = null;
    this.root.hidden = true;
    this.dispatchEvent(new CustomEvent("over"));
  }

  _tick() {
    const calling = this.calling;
    if (!calling) return;
    const total = Number(calling.timeout_s) || 30;
    const left = Math.max(0, total - (performance.now() - calling.shownAt) / 1000);
    this.countdown.textContent = `${Math.ceil(left)} s`;
    this.bar.style.transform = `scaleX(${left / total})`;
  }
}
