// Handing a customer on (session.transfer, docs/protocol.md §19.4): the "Hand on…" dialog of the
// agent who hands the customer on, and what the next agent sees of it (the card in the session
// and the earlier session's timeline).
//
// The handing agent picks a colleague who is available now (GET /api/colleagues, read each time
// the dialog opens: who is free changes by the second) or sends the customer back to the queue
// for a language and topic, and writes a note for the next agent. The server ends the session
// (`transferred`; the wrap-up follows as after any session) and rings the next agent, whose ring
// and session.started carry `handed_on`: who, to whom, the note.
//
// Names, notes, topics and locales come from other people and devices: text only, never HTML
// (dom.js's h() has no way to take any).

import { $, Dialog, clear, formatClock, formatLocale, h } from "./dom.js";
import { TimelinePanel, handOnTarget, languageName } from "./timeline.js";

const NOTE_MAX = 1000;
const STATE_TEXT = {
  available: "Available",
  busy: "With a customer",
  wrapup: "Finishing a session",
  away: "Away",
};

/** The sentence under the ring and the session card: "Handed on by {Alice} · to you". */
export function handedOnNodes(handedOn, myId) {
  const from = handedOn?.from_agent?.name || "a colleague";
  let to;
  if (handedOn?.to === "queue") to = "from the queue";
  else if (handedOn?.to_agent?.id && handedOn.to_agent.id === myId) to = "to you";
  else to = ["for ", h("bdi", { text: handedOn?.to_agent?.name ?? "a colleague" }), ", now from the queue"];
  return ["Handed on by ", h("bdi", { class: "handon-from", text: from }), " · ", to];
}

/** What a refused session.transfer means for the agent, in plain words. */
function refusal(error, request, colleague) {
  const who = colleague?.name ?? "That colleague";
  switch (error?.code) {
    case "conflict":
      return request.to === "agent"
        ? `${who} cannot take a customer right now. Choose someone else, or hand the customer back to the queue.`
        : `This session cannot be handed on any more (${error.message}).`;
    case "not_found":
      return request.to === "agent"
        ? `${who} is no longer signed in. Choose someone else.`
        : "This session is over already.";
    case "bad_request":
      return `Check the language, topic and note: ${error.message}.`;
    case "timeout":
    case "offline":
      return "The server did not answer. Check your connection and try again.";
    default:
      return `Could not hand the customer on: ${error?.message ?? String(error)}${error?.code ? ` (${error.code})` : ""}.`;
  }
}

/**
 * The "Hand on…" dialog. `session()` is the current session.started payload (or null);
 * `send(request, colleague)` sends session.transfer and resolves with its ack or throws the
 * refusal. `host` is where the overlay goes.
 */
export class HandOnDialog {
  constructor({ button, api, host, session, send }) {
    Object.assign(this, { button, api, session, send });
    this.colleagues = [];
    this.busy = false;
    this._draftFor = null; // the session whose note, language and topic the form holds
    this._build(host);
    this.dialog = new Dialog({ root: this.root, initial: null });
    this.dialog.addEventListener("close", () => this._setError(""));
    this.button.addEventListener("click", () => this.open());
  }

  _build(host) {
    const radio = (name, value, label, checked = false) =>
      h("label", { class: "handon-choice" }, h("input", { type: "radio", name, value, checked }), h("span", { text: label }));
    this.toAgent = radio("handon-to", "agent", "To a colleague", true);
    this.toQueue = radio("handon-to", "queue", "Back to the queue");
    this.list = h("ul", { class: "handon-colleagues" });
    this.empty = h("p", { class: "handon-empty muted", text: "Nobody else is available right now.", hidden: true });
    this.listStatus = h("p", { class: "handon-list-status muted", role: "status" });
    this.colleagueBox = h(
      "fieldset",
      { class: "handon-section handon-agent" },
      h("legend", { class: "handon-label", text: "Colleague" }),
      this.listStatus,
      this.empty,
      this.list,
    );
    this.locale = h("input", {
      class: "handon-locale", name: "locale", maxlength: 35, autocomplete: "off", spellcheck: "false",
      "aria-describedby": "handon-locale-name",
    });
    this.localeName = h("span", { class: "handon-hint muted", id: "handon-locale-name" });
    this.topic = h("input", { class: "handon-topic", name: "topic", maxlength: 64, autocomplete: "off", spellcheck: "false" });
    this.queueBox = h(
      "div",
      { class: "handon-section handon-queue", hidden: true },
      h("label", { class: "field" }, h("span", { text: "Language" }), this.locale, this.localeName),
      h("label", { class: "field" }, h("span", { text: "Topic" }), this.topic),
    );
    this.note = h("textarea", {
      class: "handon-note", name: "note", rows: 3, maxlength: NOTE_MAX, "aria-describedby": "handon-note-hint",
    });
    this.error = h("p", { class: "form-error handon-error", role: "alert", hidden: true });
    this.submit = h("button", { class: "btn btn-primary handon-submit", type: "submit", text: "Hand on" });
    this.cancel = h("button", { class: "btn btn-secondary handon-cancel", type: "button", text: "Cancel" });
    this.title = h("h2", { id: "handon-title", text: "Hand the customer on" });
    this.form = h(
      "form",
      { class: "handon-form", novalidate: true },
      h(
        "fieldset",
        { class: "handon-where" },
        h("legend", { class: "handon-label", text: "Where to" }),
        h("div", { class: "handon-choices" }, this.toAgent, this.toQueue),
      ),
      this.colleagueBox,
      this.queueBox,
      h(
        "label",
        { class: "field handon-note-field" },
        h("span", { text: "Note for the next agent" }),
        this.note,
        h("span", { class: "handon-hint muted", id: "handon-note-hint", text: "The customer does not see this note." }),
      ),
      this.error,
      h("div", { class: "dialog-actions" }, this.cancel, this.submit),
    );
    this.root = h(
      "div",
      { class: "overlay handon-overlay", hidden: true },
      h(
        "div",
        { class: "dialog handon-dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "handon-title" },
        h("div", { class: "dialog-head" }, this.title),
        this.form,
      ),
    );
    host.append(this.root);

    for (const input of this.form.querySelectorAll('input[name="handon-to"]')) {
      input.addEventListener("change", () => this._showTarget());
    }
    this.locale.addEventListener("input", () => this._describeLocale());
    this.cancel.addEventListener("click", () => this.close());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this._handOn();
    });
    // Enter on a radio button hands on, as it does in the text fields; Ctrl+Enter in the note.
    this.form.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing) return;
      const radio = event.target instanceof HTMLInputElement && event.target.type === "radio";
      if (radio || (event.target === this.note && (event.ctrlKey || event.metaKey))) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
  }

  /**
   * Open for the current session: the queue's fields prefilled with its language and topic. A
   * note written earlier for the same session is kept (the dialog may be closed and opened again
   * to see who is free now).
   */
  open() {
    const session = this.session();
    if (!session || this.busy) return;
    this.title.textContent = `Hand ${session.device?.name ?? "the customer"} on`;
    if (session.session_id !== this._draftFor) {
      this._draftFor = session.session_id;
      this.locale.value = session.locale ?? "";
      this.topic.value = session.topic ?? "";
      this.note.value = "";
      this.toAgent.querySelector("input").checked = true;
    }
    this._describeLocale();
    this._setError("");
    this._setBusy(false);
    this.colleagues = [];
    this._renderColleagues(null);
    this.dialog.initial = this._checkedTarget();
    this._showTarget();
    this.dialog.show();
    this._loadColleagues();
  }

  close() {
    this.dialog.close();
  }

  async _loadColleagues() {
    this.listStatus.textContent = "Looking who is on…";
    try {
      const body = await this.api.get("/api/colleagues");
      if (!this.dialog.open) return;
      this.colleagues = Array.isArray(body?.colleagues) ? body.colleagues : [];
      this._renderColleagues(this.colleagues);
    } catch (error) {
      if (!this.dialog.open) return;
      this.listStatus.textContent = "";
      this._setError(`Could not read who is on: ${error.message}. You can still hand the customer back to the queue.`);
      this._renderColleagues([]);
    }
  }

  /** `colleagues` null: still loading. The available ones first; only they can be chosen. */
  _renderColleagues(colleagues) {
    const chosen = this.list.querySelector("input:checked")?.value ?? null;
    clear(this.list);
    if (colleagues === null) {
      this.empty.hidden = true;
      return;
    }
    this.listStatus.textContent = "";
    const rank = (c) => (c.state === "available" ? 0 : 1);
    const sorted = [...colleagues].sort((a, b) => rank(a) - rank(b));
    const available = sorted.filter((c) => c.state === "available");
    this.empty.hidden = available.length > 0;
    for (const colleague of sorted) {
      const free = colleague.state === "available";
      const languages = (colleague.languages ?? []).map(languageName).join(", ");
      const input = h("input", {
        type: "radio", name: "handon-colleague", value: colleague.id, disabled: !free,
        checked: free && (colleague.id === chosen || (chosen === null && colleague === available[0])),
      });
      input.addEventListener("change", () => this._setError(""));
      this.list.append(
        h(
          "li",
          { class: `handon-colleague${free ? "" : " is-unavailable"}` },
          h(
            "label",
            {},
            input,
            h("bdi", { class: "handon-name", text: colleague.name }),
            h("span", { class: `handon-state state-${colleague.state}`, text: STATE_TEXT[colleague.state] ?? colleague.state }),
            languages ? h("span", { class: "handon-languages muted", text: languages }) : null,
          ),
        ),
      );
    }
  }

  _checkedTarget() {
    return this.form.querySelector('input[name="handon-to"]:checked');
  }

  _showTarget() {
    const toQueue = this._checkedTarget()?.value === "queue";
    this.colleagueBox.hidden = toQueue;
    this.queueBox.hidden = !toQueue;
    this._setError("");
  }

  _describeLocale() {
    const value = this.locale.value.trim();
    this.localeName.textContent = value ? formatLocale(value) : "Any language";
  }

  _setError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  _setBusy(busy) {
    this.busy = busy;
    this.submit.disabled = busy;
    this.submit.textContent = busy ? "Handing on…" : "Hand on";
    this.button.disabled = busy;
  }

  /** The request the form describes, or null (and the reason shown) if it is not complete. */
  _request() {
    const session = this.session();
    const note = this.note.value.trim();
    if (note.length > NOTE_MAX) {
      this._setError(`The note is too long: at most ${NOTE_MAX} characters.`);
      return null;
    }
    if (this._checkedTarget()?.value === "queue") {
      const locale = this.locale.value.trim();
      const topic = this.topic.value.trim();
      return {
        request: {
          session_id: session.session_id, to: "queue", note,
          ...(locale ? { locale } : {}), ...(topic ? { topic } : {}),
        },
        colleague: null,
      };
    }
    const id = this.list.querySelector("input:checked")?.value;
    const colleague = this.colleagues.find((c) => c.id === id) ?? null;
    if (!colleague) {
      this._setError(
        this.colleagues.some((c) => c.state === "available")
          ? "Choose the colleague who takes over."
          : "Nobody else is available right now: hand the customer back to the queue instead.",
      );
      return null;
    }
    return { request: { session_id: session.session_id, to: "agent", agent_id: colleague.id, note }, colleague };
  }

  async _handOn() {
    if (this.busy || !this.session()) return;
    const wanted = this._request();
    if (!wanted) return;
    this._setError("");
    this._setBusy(true);
    try {
      await this.send(wanted.request, wanted.colleague);
      this.close();
    } catch (error) {
      if (!this.dialog.open) return;
      this._setError(refusal(error, wanted.request, wanted.colleague));
      // Who is free has changed: read it again (the choice stays if it still can be made).
      if (wanted.request.to === "agent") this._loadColleagues();
    } finally {
      this._setBusy(false);
      // The pressed button was disabled meanwhile, which drops the focus: give it back, so that
      // the keys (Escape, Tab) still reach the dialog.
      if (this.dialog.open && !this.root.contains(document.activeElement)) this.submit.focus();
    }
  }
}

/**
 * The card at the top of a session whose customer was handed on to this agent: from whom, the
 * note, and the earlier session (its timeline and notes) one click away.
 */
export class HandedOnCard {
  constructor({ view, api, host }) {
    this.api = api;
    this.handedOn = null;
    this.who = h("p", { class: "handon-card-who" });
    this.note = h("blockquote", { class: "handon-card-note" });
    this.previousButton = h("button", { class: "btn btn-small handon-previous", type: "button", text: "Previous session" });
    this.hideButton = h("button", {
      class: "btn btn-ghost btn-small handon-card-hide", type: "button", text: "Hide", "aria-label": "Hide this note",
    });
    this.root = h(
      "section",
      { class: "handon-card", hidden: true, "aria-label": "Handed on to you" },
      h("div", { class: "handon-card-text" }, this.who, this.note),
      h("div", { class: "handon-card-actions" }, this.previousButton, this.hideButton),
    );
    $(".stage-area", view).before(this.root);
    this.previous = new PreviousSession({ api, host });
    this.previousButton.addEventListener("click", () => this.previous.open(this.handedOn));
    this.hideButton.addEventListener("click", () => {
      this.root.hidden = true;
    });
  }

  /** A session started: `handedOn` from its session.started (null: not a handed-on customer). */
  show(handedOn) {
    this.handedOn = handedOn ?? null;
    this.root.hidden = !handedOn;
    if (!handedOn) return;
    clear(this.who);
    this.who.append(...handedOnNodes(handedOn, this.api.agent?.id), ` · ${formatClock(handedOn.at)}`);
    this.note.textContent = handedOn.note ?? "";
    this.note.hidden = !handedOn.note;
  }

  hide() {
    this.handedOn = null;
    this.root.hidden = true;
    this.previous.close();
  }
}

/** The earlier session of a handed-on customer: who helped, their notes, its timeline. */
class PreviousSession {
  constructor({ api, host }) {
    this.api = api;
    this.title = h("h2", { id: "previous-title", text: "Previous session" });
    this.meta = h("p", { class: "previous-meta muted" });
    this.notes = h("p", { class: "previous-notes" });
    this.notesBox = h("div", { class: "previous-notes-box", hidden: true }, h("h3", { class: "section-title", text: "Their notes" }), this.notes);
    this.status = h("p", { class: "previous-status muted", role: "status" });
    this.list = h("ol", { class: "timeline previous-timeline", "aria-label": "Timeline of the previous session" });
    this.closeButton = h("button", { class: "btn btn-ghost previous-close", type: "button", text: "Close" });
    this.root = h(
      "div",
      { class: "overlay previous-overlay", hidden: true },
      h(
        "div",
        { class: "dialog previous-dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": "previous-title" },
        h("div", { class: "dialog-head" }, this.title, this.closeButton),
        this.meta,
        this.notesBox,
        h("h3", { class: "section-title", text: "Timeline" }),
        this.status,
        this.list,
      ),
    );
    host.append(this.root);
    this.timeline = new TimelinePanel({ list: this.list, status: this.status, api });
    this.dialog = new Dialog({ root: this.root, initial: this.closeButton });
    this.closeButton.addEventListener("click", () => this.close());
  }

  async open(handedOn) {
    const sessionId = handedOn?.previous_session_id;
    if (!sessionId) return;
    const from = handedOn.from_agent?.name || "a colleague";
    this.title.textContent = `Previous session, with ${from}`;
    this.meta.textContent = "";
    this.notesBox.hidden = true;
    this.timeline.setSession(sessionId);
    this.status.textContent = "Loading…";
    this.dialog.show();
    this.timeline.refresh();
    try {
      const record = await this.api.get(`/api/sessions/${encodeURIComponent(sessionId)}`);
      if (this.timeline.sessionId !== sessionId) return;
      const [before, name] = handOnTarget({ to: handedOn.to, agentName: handedOn.to_agent?.name });
      const span = record.accepted_at ? `${formatClock(record.accepted_at)}–${formatClock(record.ended_at ?? handedOn.at)}` : "";
      this.meta.textContent = [
        `${from} helped ${record.device?.name ?? "the customer"}`,
        span,
        `handed ${before}${name ?? ""}`,
      ].filter(Boolean).join(" · ");
      this.notes.textContent = record.notes ?? "";
      this.notesBox.hidden = !record.notes;
    } catch (error) {
      if (this.timeline.sessionId === sessionId) this.meta.textContent = `Could not read the session: ${error.message}`;
    }
  }

  close() {
    this.dialog.close();
  }
}
