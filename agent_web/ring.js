// An incoming customer: a prominent card with Accept / Decline and a countdown.
//
// The server decides when a ring is over (ring.cancelled: timeout, declined, the customer gave up,
// the device dropped off); the countdown is only a guide, so the card waits for that event rather
// than hiding itself when the bar runs out.
//
// A customer a colleague handed on (ticket.handed_on) says so on the card: by whom, to this agent
// or from the queue, and the colleague's note (text, never HTML). A customer whom nobody with
// their language or topic could serve (`widened`, docs §20.1) is marked so (callback.js).

import { entryMarks } from "./callback.js";
import { $, clear, formatDuration, formatLocale, h, parts } from "./dom.js";
import { handedOnNodes } from "./transfer.js";

const CANCEL_TEXT = {
  timeout: null, // presence.update follows ("set to Away") and explains it
  cancelled: "The customer stopped waiting.",
  peer_lost: "The customer's device lost its connection; they keep their place in the queue.",
  declined: null, // the agent did it; nothing to explain
};

export class RingCard extends EventTarget {
  constructor({ root, signaling, api, toasts }) {
    super();
    Object.assign(this, { root, api, signaling, toasts });
    this.ring = null;
    Object.assign(this, parts(root, {
      acceptButton: ".ring-accept", declineButton: ".ring-decline",
      device: ".ring-device", topic: ".ring-topic", locale: ".ring-locale",
      waited: ".ring-waited", countdown: ".ring-countdown", bar: ".ring-bar-fill",
    }));
    this._timer = null;
    this.handedOnWho = h("p", { class: "ring-handon-who" });
    this.handedOnNote = h("blockquote", { class: "ring-handon-note" });
    this.handedOn = h("div", { class: "ring-handon", hidden: true }, this.handedOnWho, this.handedOnNote);
    this.marks = h("div", { class: "ring-marks" });
    $(".ring-details", root).after(this.marks, this.handedOn);
    this.acceptButton.addEventListener("click", () => this.accept());
    this.declineButton.addEventListener("click", () => this.decline());
    signaling.on("ring", (ring) => this.show(ring));
    signaling.on("ring.cancelled", (cancel) => this._cancelled(cancel));
  }

  show(ring) {
    this.ring = { ...ring, shownAt: performance.now() };
    const ticket = ring.ticket ?? {};
    this.device.textContent = ticket.device_name ?? "A customer";
    this.topic.textContent = ticket.topic ?? "";
    this.locale.textContent = formatLocale(ticket.locale);
    this.marks.replaceChildren(...entryMarks(ticket));
    this._showHandedOn(ticket.handed_on);
    this._busy(false);
    this.root.hidden = false;
    this._tick();
    clearInterval(this._timer);
    this._timer = setInterval(() => this._tick(), 250);
    chime();
    this.acceptButton.focus({ preventScroll: true });
    this.dispatchEvent(new CustomEvent("ringing", { detail: ring }));
  }

  async accept() {
    const ring = this.ring;
    if (!ring) return;
    this._busy(true);
    try {
      const ack = await this.signaling.request("ring.accept", { ring_id: ring.ring_id });
      this._hide(ring);
      this.dispatchEvent(new CustomEvent("accepted", { detail: { sessionId: ack.session_id } }));
    } catch (error) {
      this._hide(ring);
      this.toasts.error("Could not take this customer", error);
    }
  }

  async decline() {
    const ring = this.ring;
    if (!ring) return;
    this._busy(true);
    try {
      await this.signaling.request("ring.decline", { ring_id: ring.ring_id });
      this._hide(ring);
    } catch (error) {
      this._hide(ring);
      if (error.code !== "not_found") this.toasts.error("Could not decline", error);
    }
  }

  _showHandedOn(handedOn) {
    this.handedOn.hidden = !handedOn;
    clear(this.handedOnWho);
    if (!handedOn) return;
    this.handedOnWho.append(...handedOnNodes(handedOn, this.api.agent?.id));
    this.handedOnNote.textContent = handedOn.note ?? "";
    this.handedOnNote.hidden = !handedOn.note;
  }

  /** The session started (possibly before our accept ack): the card has done its job. */
  dismiss() {
    if (this.ring) this._hide(this.ring);
  }

  _cancelled({ ring_id: ringId, reason }) {
    if (!this.ring || this.ring.ring_id !== ringId) return;
    this._hide(this.ring);
    const text = CANCEL_TEXT[reason];
    if (text) this.toasts.show(text, "info", "Ring over");
  }

  _hide(ring) {
    if (this.ring !== ring) return;
    this.ring = null;
    clearInterval(this._timer);
    this._timer = null;
    this.root.hidden = true;
    this.dispatchEvent(new CustomEvent("over"));
  }

  _busy(busy) {
    this.acceptButton.disabled = busy;
    this.declineButton.disabled = busy;
  }

  _tick() {
    const ring = this.ring;
    if (!ring) return;
    const total = Number(ring.timeout_s) || 15;
    const left = Math.max(0, total - (performance.now() - ring.shownAt) / 1000);
    this.countdown.textContent = `${Math.ceil(left)} s`;
    this.bar.style.transform = `scaleX(${left / total})`;
    const since = Number(ring.ticket?.waiting_since);
    this.waited.textContent = Number.isFinite(since) ? `waiting ${formatDuration(this.api.now() - since)}` : "";
  }
}

/** A soft two-note chime (WebAudio, no sound file to fetch). Silently skipped if not allowed. */
function chime() {
  try {
    const context = (chime.context ??= new AudioContext());
    if (context.state === "suspended") context.resume();
    const start = context.currentTime + 0.02;
    for (const [offset, frequency] of [
      [0, 660],
      [0.18, 880],
    ]) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.12, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.35);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start + offset);
      oscillator.stop(start + offset + 0.4);
    }
  } catch {
    // No audio output or not allowed yet: the card itself is the signal.
  }
}
