// The session's audit timeline (GET /api/sessions/{id}/events), written out for people.
//
// Actor names, reasons and details come from devices and are untrusted: every piece is set as
// text. Unknown kinds are still shown (kind, reason and details), never dropped, since the
// timeline is an audit record and new kinds may be added on the server. While a session runs, its
// timeline tab polls for new events.

import { clear, formatClock, h } from "./dom.js";

const POLL_MS = 5000; // the session timeline, while its tab shows

const STATE_NAMES = {
  queued: "waiting",
  ringing: "ringing",
  connecting: "connecting",
  active: "active",
  ended: "ended",
};

const KIND_TEXT = {
  "help.requested": "asked for help",
  "ring.declined": "declined the ring",
  "ring.timeout": "ring not answered in time",
  "ring.peer_lost": "ring ended: a party disconnected",
  "ring.cancelled": "ring cancelled",
  "peer.lost": "lost the connection",
  "peer.back": "reconnected",
  "rtc.connected": "media connected",
  "rtc.disconnected": "media connection interrupted",
  "rtc.failed": "media connection failed",
  "control.requested": "asked for remote control",
  "control.granted": "allowed remote control",
  "control.denied": "declined remote control",
  "control.revoked": "took control back",
  "control.released": "released remote control",
  "control.suspended": "control suspended",
  "control.resumed": "control resumed",
  "control.expired": "control expired",
  "control.ended": "control ended",
  "control.input_refused": "input refused by the server",
  "control.input_dropped": "input dropped by the device",
  "session.rated": "rated the session",
  requeued: "back in the queue, first in line (the agent lost the connection)",
  chat: "wrote",
};

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

/** One line of text describing the event (without time and actor). */
export function describe(event) {
  if (event.kind === "transition") {
    const from = STATE_NAMES[event.from_state] ?? event.from_state ?? "–";
    const to = STATE_NAMES[event.to_state] ?? event.to_state ?? "–";
    return `session ${from} → ${to}`;
  }
  return KIND_TEXT[event.kind] ?? event.kind;
}

/** Secondary details: the reason and any detail fields, as "key: value" text. */
export function details(event) {
  const parts = [];
  if (event.kind === "chat") return [];
  if (event.reason) parts.push(event.reason);
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
    list.append(
      h(
        "li",
        { class: `timeline-item kind-${cssKind(event.kind)} actor-${event.actor?.kind ?? "system"}` },
        h("time", { class: "timeline-time", text: formatClock(event.at, true) }),
        h(
          "div",
          { class: "timeline-body" },
          h(
            "div",
            { class: "timeline-what" },
            h("span", { class: "timeline-actor" }, actorNodes(event.actor)),
            " ",
            h("span", { text: describe(event) }),
          ),
          chat ? h("q", { class: "timeline-quote", text: String(event.detail?.text ?? "") }) : null,
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
