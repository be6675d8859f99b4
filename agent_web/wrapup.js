// After-call work: the wrap-up view between one customer and the next.
//
// When a session ends the server holds the agent's rings back (presence.update status "wrapup",
// until = when it lets them ring again by itself, MAYDAY_WRAPUP_S) so that notes can be finished.
// This view shows what happened, how long is left, and the customer's rating and comment when
// they come (session.rated). "Back to the queue" tells the server the agent is done
// (presence.set available) and clears the last customer's chat, notes and timeline, so the next
// customer starts on a clean console.

import { formatDuration, parts } from "./dom.js";

const STARS = ["", "★☆☆☆☆", "★★☆☆☆", "★★★☆☆", "★★★★☆", "★★★★★"];

export class WrapUp extends EventTarget {
  constructor({ root, signaling, presence, api, toasts, panels }) {
    super();
    Object.assign(this, { root, signaling, presence, api, toasts, panels });
    Object.assign(this, parts(root, {
      summary: ".wrapup-summary", timer: ".wrapup-timer", done: ".wrapup-done",
      rating: ".wrapup-rating", stars: ".wrapup-stars", comment: ".wrapup-comment",
    }));
    this.sessionId = null;
    this.until = null;
    this._timer = null;
    this.done.addEventListener("click", () => this.finish());
    signaling.on("presence.update", (update) => this._presence(update));
    signaling.on("session.rated", (rated) => this._rated(rated));
  }

  /** The session `sessionId` just ended: show its summary; the rating comes later, if at all. */
  open(sessionId, summary) {
    this.sessionId = sessionId;
    this.summary.textContent = summary;
    this.rating.hidden = true;
    this.stars.textContent = "";
    this.comment.textContent = "";
    this.comment.hidden = true;
    this._tick();
  }

  /** Done: back to the queue (rings may come at once) with a clean console. */
  async finish() {
    this.done.disabled = true;
    try {
      await this.presence.set("available", { force: true });
    } finally {
      this.done.disabled = false;
    }
    this.close();
  }

  /** Leave the wrap-up view (done, timed out, or a new session started, which has set the
   *  panels up for itself already: then `clean` is false). */
  close({ clean = true } = {}) {
    if (this.sessionId === null) return;
    this.sessionId = null;
    this.until = null;
    this._stopTimer();
    if (clean) for (const panel of this.panels) panel.setSession(null);
    this.dispatchEvent(new CustomEvent("closed"));
  }

  _presence({ status, until, reason }) {
    if (status === "wrapup") {
      this.until = Number(until);
      this._startTimer();
    } else if (this.until !== null) {
      this.until = null;
      this._stopTimer();
      if (reason === "wrap-up time is over" && this.sessionId !== null) {
        this.toasts.show("Your wrap-up time is over: customers can ring again.", "info", "Back in the queue");
        this.close();
      }
    }
    this._tick();
  }

  _rated({ session_id: sessionId, rating, comment }) {
    if (sessionId !== this.sessionId) {
      this.toasts.show(`A customer rated an earlier session ${rating} of 5.`, "info", "Rating");
      return;
    }
    this.rating.hidden = false;
    this.stars.textContent = STARS[rating] ?? "";
    this.stars.setAttribute("aria-label", `${rating} of 5 stars`);
    // The customer's own words: text, never HTML.
    this.comment.textContent = comment ? `“${comment}”` : "";
    this.comment.hidden = !comment;
  }

  _startTimer() {
    this._stopTimer();
    this._timer = setInterval(() => this._tick(), 1000);
  }

  _stopTimer() {
    clearInterval(this._timer);
    this._timer = null;
  }

  _tick() {
    if (this.until === null) {
      this.timer.textContent = "";
      return;
    }
    const left = Math.max(0, Math.round(this.until - this.api.now()));
    this.timer.textContent = `No customers ring for ${formatDuration(left)} while you finish your notes.`;
  }
}
