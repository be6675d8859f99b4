// The session's audit timeline (GET /api/sessions/{id}/events), written out for people.
//
// Actor names, reasons and details come from devices and are untrusted: every piece is set as
// text. Unknown kinds are still shown (kind, reason and details), never dropped, since the
// timeline is an audit record and new kinds may be added on the server. While a session runs, its
// timeline tab polls for new events.
//
// A customer handed on (session.transfer) has a `transferred` line in both sessions' timelines:
// who handed them on, to whom (a colleague, or back to the queue for a language and topic) and the
// note. The phrases for it live here, next to the other audit words, and the ring card, the queue
// and the wrap-up (transfer.js, wrapup.js) use the same ones.

import { clear, formatClock, h } from "./dom.js";

const POLL_MS = 5000; // the session timeline, while its tab shows

/** Events as people say them: the verb after who did it ("kitchen tablet (customer) asked for help"). */
const KIND_TEXT = {
  "help.requested": "asked for help",
  "ring.declined": "declined the call",
  "ring.timeout": "The call was not answered in time",
  "ring.peer_lost": "The call stopped: someone lost the connection",
  "ring.cancelled": "The call was cancelled",
  "peer.lost": "lost the connection",
  "peer.back": "is back",
  "rtc.connected": "Video connected",
  "rtc.disconnected": "Video interrupted",
  "rtc.failed": "Video could not connect",
  "control.requested": "asked to control the customer's screen",
  "control.granted": "allowed remote control",
  "control.denied": "did not allow remote control",
  "control.revoked": "took control back",
  "control.released": "gave control back",
  "control.suspended": "Remote control paused while the connection recovers",
  "control.resumed": "Remote control is back",
  "control.expired": "Remote control ran out",
  "control.ended": "Remote control ended",
  "control.input_refused": "The server did not pass on some input",
  "control.input_dropped": "The device ignored some input",
  "session.rated": "rated the session",
  requeued: "Back in the queue, first in line: the agent lost the connection",
  chat: "wrote",
};

/** How a session ended (its wrap-up or end reason), in words. */
const END_REASONS = {
  resolved: "resolved",
  unresolved: "not resolved",
  escalated: "escalated",
  other: "other reason",
  peer_lost: "the connection was lost",
  agent_lost: "the agent lost the connection",
  cancelled: "the customer cancelled",
  transferred: "handed on",
};

/** Why a ring stopped, as the reason of the session's way back to the queue ("ring declined"). */
const BACK_TO_QUEUE = {
  "ring declined": "Back in the queue: the agent declined",
  "ring timeout": "Back in the queue: nobody answered",
  "ring peer_lost": "Back in the queue: the call stopped",
  "ring cancelled": "Back in the queue: the call was cancelled",
};

const languageNames =
  typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "language" }) : null;

/** "de-AT" → "German"; an unknown or odd tag is given back as it came. */
export function languageName(locale) {
  const text = String(locale ?? "");
  try {
    const name = languageNames?.of(text.split(/[-_]/)[0]);
    if (name) return name;
  } catch {
    // Not a language tag: show it verbatim (as text).
  }
  return text;
}

/** Where a customer went back to the queue for: "German, printers" (either may be missing). */
export function queueFor(locale, topic) {
  return [locale ? languageName(locale) : "", topic ?? ""].filter(Boolean).join(", ");
}

/**
 * Where a customer was handed on to, after "handed the customer": [text before the name, the name
 * (untrusted; null when there is none), text after it]. "on to {Bob}", "back to the queue
 * (German, printers)"; just "on" when `to` (agent or queue) is not known.
 */
export function handOnTarget({ to, agentName, locale, topic }) {
  if (to === "agent") return ["on to ", agentName || "a colleague", ""];
  if (to !== "queue") return ["on", null, ""];
  const what = queueFor(locale, topic);
  return [`back to the queue${what ? ` (${what})` : ""}`, null, ""];
}

/** A `transferred` line's target, from its detail ({to, agent_name, topic, locale}). */
function transferTarget(event) {
  const detail = event.detail ?? {};
  return handOnTarget({
    to: detail.to,
    agentName: detail.agent_name ? String(detail.agent_name) : "",
    locale: detail.locale ? String(detail.locale) : "",
    topic: detail.topic ? String(detail.topic) : "",
  });
}

/** Who did it, for people: "alice (agent)", "kitchen tablet (customer)", "system". */
export function actorName(actor) {
  if (!actor || actor.kind === "system") return "system";
  const role = roleOf(actor);
  return actor.name ? `${actor.name} (${role})` : role;
}

/**
 * actorName() as nodes for the page: the name in a <bdi> of its own, so that right-to-left or
 * override characters in it cannot reorder the role and the description after it.
 */
function actorNodes(actor) {
  if (!actor || actor.kind === "system" || !actor.name) return [actorName(actor)];
  return [h("bdi", { text: actor.name }), ` (${roleOf(actor)})`];
}

function roleOf(actor) {
  return actor.kind === "device" ? "customer" : actor.kind;
}

/**
 * A session's move from one state to the next as a sentence: "Waiting for an agent", "Ringing
 * Anna", "Video connected". Returns [text, name]: `name` (untrusted, from a reason) goes into the
 * sentence where `{name}` stands, so that the page can isolate it.
 */
function transitionText(event) {
  const reason = String(event.reason ?? "");
  const named = (pattern, text) => {
    const match = reason.match(pattern);
    return match ? [text, match[1], true] : null;
  };
  switch (event.to_state) {
    case "queued":
      if (BACK_TO_QUEUE[reason]) return [BACK_TO_QUEUE[reason], null, true];
      return [event.from_state ? "Back in the queue" : "Waiting for an agent", null, false];
    case "ringing":
      return (
        named(/^taken from the queue by (.+)$/s, "{name} took the customer from the queue") ??
        named(/^ringing (.+)$/s, "Ringing {name}") ?? ["Ringing an agent", null, false]
      );
    case "connecting": {
      const usual = reason === "ring accepted" || reason.startsWith("taken from the queue");
      if (event.actor?.kind === "agent" && event.actor.name) return ["{name} answered; connecting", event.actor.name, usual];
      return ["Connecting the agent and the customer", null, usual];
    }
    case "active":
      if (reason === "media connected") return ["Video connected: the session is on", null, true];
      return ["The session is on", null, false];
    case "ended": {
      const by = { agent: " by the agent", device: " by the customer" }[event.actor?.kind] ?? "";
      if (END_REASONS[reason]) return [`Session ended${by}: ${END_REASONS[reason]}`, null, true];
      return [`Session ended${by}`, null, false];
    }
    default:
      return [`The session is now ${event.to_state ?? "in an unknown state"}`, null, false];
  }
}

/** Whether the line is a sentence of its own (no "who" in front of it). */
function standsAlone(event) {
  if (event.kind === "transition" || !event.actor || event.actor.kind === "system") return true;
  const text = KIND_TEXT[event.kind];
  return Boolean(text) && /^[A-Z]/.test(text);
}

/** One line of text describing the event (without time), as read: a sentence, or what the actor did. */
export function describe(event) {
  if (event.kind === "transition") {
    const [text, name] = transitionText(event);
    return text.replace("{name}", name ?? "");
  }
  if (event.kind === "transferred") {
    const [before, name, after] = transferTarget(event);
    const note = event.detail?.note ? `: ${event.detail.note}` : "";
    return `handed the customer ${before}${name ?? ""}${after}${note}`;
  }
  return KIND_TEXT[event.kind] ?? event.kind;
}

/** The whole line as read, with who did it where that is not in the sentence already. */
export function sentence(event) {
  const text = describe(event);
  if (event.kind === "transition") return text; // a sentence already; a name in front keeps its case
  if (event.kind === "transferred") return `${event.actor?.name || "An agent"} ${text}`;
  if (standsAlone(event)) return capitalize(text);
  return `${actorName(event.actor)} ${text}`;
}

function capitalize(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The line for the page: names (untrusted) in <bdi> elements of their own. */
function lineNodes(event) {
  if (event.kind === "transition") {
    const [text, name] = transitionText(event);
    const [before, after] = text.split("{name}");
    return after === undefined ? [text] : [before, h("bdi", { class: "timeline-name", text: name ?? "" }), after];
  }
  if (event.kind === "transferred") {
    const [before, name, after] = transferTarget(event);
    const target = name === null ? [before] : [before, h("bdi", { class: "timeline-name", text: name }), after];
    const who = event.actor?.name ? h("bdi", { class: "timeline-actor", text: event.actor.name }) : "An agent";
    return [who, " handed the customer ", ...target, event.detail?.note ? ":" : ""];
  }
  const text = KIND_TEXT[event.kind] ?? event.kind;
  if (standsAlone(event)) return [capitalize(text)];
  return [h("span", { class: "timeline-actor" }, actorNodes(event.actor)), " ", text];
}

/** Secondary details: the reason and any detail fields, as "key: value" text. */
export function details(event) {
  const parts = [];
  if (event.kind === "chat") return [];
  // A hand-on line says everything in its sentence and its note (quoted); ids mean nothing here.
  if (event.kind === "transferred") return [];
  // A transition's reason is in its sentence already, unless the sentence could not say it.
  const said = event.kind === "transition" && transitionText(event)[2];
  if (event.reason && !said) parts.push(event.reason);
  for (const [key, value] of Object.entries(event.detail ?? {})) {
    if (key === "agent_id" || key === "request_id") continue; // ids mean nothing to people
    parts.push(`${key.replace(/_/g, " ")}: ${typeof value === "object" ? JSON.stringify(value) : value}`);
  }
  return parts;
}

/** Render events into `list` (an <ol>). */
export function renderTimeline(list, events) {
  clear(list);
  for (const event of events) {
    const chat = event.kind === "chat";
    const quote = chat ? event.detail?.text : event.kind === "transferred" ? event.detail?.note : null;
    list.append(
      h(
        "li",
        { class: `timeline-item kind-${cssKind(event.kind)} actor-${event.actor?.kind ?? "system"}` },
        h("time", { class: "timeline-time", text: formatClock(event.at, true) }),
        h(
          "div",
          { class: "timeline-body" },
          h("div", { class: "timeline-what" }, lineNodes(event)),
          chat || quote ? h("q", { class: "timeline-quote", text: String(quote ?? "") }) : null,
          ...details(event).map((text) => h("div", { class: "timeline-detail", text })),
        ),
      ),
    );
  }
}

function cssKind(kind) {
  return String(kind).replace(/[^a-z0-9_-]/gi, "-").slice(0, 40);
}

/** A timeline view that loads itself; `refresh()` re-reads it from the server. */
export class TimelinePanel {
  constructor({ list, status, api }) {
    Object.assign(this, { list, status, api });
    this.sessionId = null;
    this.events = [];
    this._loading = null;
  }

  setSession(sessionId) {
    this.sessionId = sessionId;
    this.events = [];
    clear(this.list);
    this.status.textContent = sessionId ? "" : "The timeline opens during a session.";
  }

  async refresh() {
    const sessionId = this.sessionId;
    if (!sessionId) return [];
    if (this._loading) return this._loading;
    this._loading = (async () => {
      try {
        const body = await this.api.get(`/api/sessions/${encodeURIComponent(sessionId)}/events`);
        if (sessionId !== this.sessionId) return [];
        this.events = body.events ?? [];
        renderTimeline(this.list, this.events);
        this.status.textContent = `${this.events.length} events · updated ${formatClock(Date.now() / 1000, true)}`;
        return this.events;
      } catch (error) {
        if (sessionId === this.sessionId) this.status.textContent = `Could not load the timeline: ${error.message}`;
        return [];
      } finally {
        this._loading = null;
      }
    })();
    return this._loading;
  }
}

/**
 * Keeps the session's timeline fresh while the Timeline tab shows: read once when the tab
 * opens, then every few seconds while the session runs (`start()` / `stop()`). `tabs` fires
 * `change` and names the `current` tab.
 */
export class TimelinePoller {
  constructor({ timeline, tabs }) {
    Object.assign(this, { timeline, tabs });
    this.active = false;
    this._timer = null;
    tabs.addEventListener("change", () => this._follow());
  }

  start() {
    this.active = true;
  }

  stop() {
    this.active = false;
    this._clear();
  }

  _follow() {
    this._clear();
    if (this.tabs.current !== "timeline" || !this.timeline.sessionId) return;
    this.timeline.refresh();
    if (this.active) this._timer = setInterval(() => this.timeline.refresh(), POLL_MS);
  }

  _clear() {
    clearInterval(this._timer);
    this._timer = null;
  }
}
