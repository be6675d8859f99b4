// After-call work: the wrap-up view between one customer and the next.
//
// When a session ends the server holds the agent's rings back (presence.update status "wrapup",
// until = when it lets them ring again by itself, MAYDAY_WRAPUP_S) so that notes can be finished.
// This view shows what happened, how long is left, and the customer's rating and comment when
// they come (session.rated). "Back to the queue" tells the server the agent is done
// (presence.set available) and clears the last customer's chat, notes and timeline, so the next
// customer starts on a clean console.
//
// A customer the agent handed on (session.transfer, reason `transferred`) is not an outcome to
// wrap up like a resolved one: the view says where they went ("You handed Kitchen tablet on to
// Bob"), from what this console asked for or, after a reload, from the session's timeline.

import { clear, formatDuration, h, parts } from "./dom.js";
import { handOnTarget } from "./timeline.js";

const STARS = ["", "★☆☆☆☆", "★★☆☆☆", "★★★☆☆", "★★★★☆", "★★★★★"];

export class WrapUp extends EventTarget {
  constructor({ root, signaling, presence, api, toasts, panels }) {
    super();
    Object.assign(this, { root, signaling, presence, api, toasts, panels });
    Object.assign(this, parts(root, {
      title: ".wrapup-head h2", summary: ".wrapup-summary", timer: ".wrapup-timer", done: ".wrapup-done",
      rating: ".wrapup-rating", stars: ".wrapup-stars", comment: ".wrapup-comment",
    }));
    this.sessionId = null;
    this.until = null;
    this._timer = null;
    this.done.addEventListener("click", () => this.finish());
    signaling.on("presence.update", (update) => this._presence(update));
    signaling.on("session.rated", (rated) => this._rated(rated));
  }

  /**
   * The session `sessionId` just ended: show its summary; the rating comes later, if at all.
   * `ended` is the session's `ended` event detail (session.js), if there is one: a customer
   * handed on is summed up by where they went instead.
   */
  open(sessionId, summary, ended = null) {
    this.sessionId = sessionId;
    const handedOn = ended?.reason === "transferred";
    this.title.textContent = handedOn ? "Customer handed on" : "Session ended";
    this.summary.textContent = summary;
    if (handedOn) this._handedOn(sessionId, ended);
    this.rating.hidden = true;
    this.stars.textContent = "";
    this.comment.textContent = "";
    this.comment.hidden = true;
    this._tick();
  }

  /** "You handed {Kitchen tablet} on to {Bob} · 3:12" (names isolated: they are other people's). */
  _handedOn(sessionId, ended) {
    const customer = ended.session?.device?.name || "the customer";
    const show = (target) => {
      const [before, name, after] = handOnTarget(target);
      clear(this.summary);
      this.summary.append(
        "You handed ", h("bdi", { text: customer }), ` ${before}`,
        name === null ? "" : h("bdi", { text: name }), after,
        ` after ${formatDuration(ended.duration ?? 0)}.`,
      );
    };
    if (ended.handedOn) {
      show(ended.handedOn);
      return;
    }
    show({ to: "" });
    // Not asked from this page (a reload in between): the timeline's line says where to.
    this.api
      .get(`/api/sessions/${encodeURIComponent(sessionId)}/events`)
      .then((body) => {
        const line = (body?.events ?? []).find((event) => event.kind === "transferred");
        if (!line || this.sessionId !== sessionId) return;
        const d = line.detail ?? {};
        show({ to: d.to, agentName: d.agent_name ?? "", locale: d.locale ?? "", topic: d.topic ?? "" });
      })
      .catch(() => {});
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
