// What the panel says while the customer waits (docs/protocol.md §20): a pure function of the
// flow's facts, as present.js is for the rest, so that the overflow, opening-hours and callback
// rules live in one place and the view only draws.
//
// The order of what counts: a callback ringing now is all the panel asks; a callback asked for
// says when it comes; a closed desk says when it opens and offers the callback prominently;
// widened routing warns about the language; nobody who matches says so at once and counts down
// to the widening; otherwise the place in line and the wait, as before.
//
// Texts come only from strings.js (its catalogues); a countdown's seconds are formatted by Intl
// in the widget's language, so no catalogue needs a unit.

import { callbackMissed, callbackRing, callbackStatus, closedStatus, noMatch, widened, widensStatus } from "./strings.js";

/** Phases in which the customer waits (for an agent or a callback). */
export const WAITING = new Set(["queued", "ringing"]);

/**
 * The waiting part of the view model, `{status, detail, offer, ring}`, for `queued`/`ringing`.
 * `offer`: the "Call me back" button with its explanation, `{prominent}`, or null;
 * `ring`: the callback prompt, `{ringId, title, left, fraction}`, or null. `now`: epoch ms.
 */
export function presentWaiting(state, t, waitText, now) {
  const ticket = state.ticket ?? null;
  const model = { status: "", detail: "", offer: null, ring: null };
  const queued = t("queued", { position: ticket?.position ?? 1 });
  if (state.callbackRing) {
    model.ring = ringModel(state.callbackRing, t, now); // its question is the prompt's own alert
    return model;
  }
  if (ticket?.callback) {
    model.status = callbackStatus(t, ticket.estimated_wait_s);
    if (state.callbackMissed) model.detail = callbackMissed(t, state.callbackMissed.triesLater);
    else if (ticket.opens_at) model.detail = closedStatus(t, ticket.opens_at);
    return model;
  }
  if (state.phase === "ringing") {
    // An agent is being rung for the customer: no callback now (the server would refuse it).
    model.status = t("ringing");
    return model;
  }
  model.offer = { prominent: Boolean(ticket?.opens_at) };
  if (ticket?.opens_at) {
    model.status = closedStatus(t, ticket.opens_at);
    model.detail = t("closedCallbackHint");
  } else if (ticket?.widened || widensPassed(ticket, now)) {
    // Past widens_at the server has widened, whether or not its ticket.update came yet.
    model.status = queued;
    model.detail = `${widened(t)} ${waitText(t, ticket)}`;
  } else if (ticket?.matched === false) {
    // The status is said once (it is a live region); the countdown is in the detail, which is not.
    model.status = `${queued} ${noMatch(t)}`;
    const widensAt = widensAtS(ticket);
    if (widensAt !== null) model.detail = widensStatus(t, widensAt - now / 1000);
  } else {
    model.status = queued;
    model.detail = waitText(t, ticket);
  }
  return model;
}

/** Whether the model changes by itself as time passes (a countdown is showing). */
export function ticking(state) {
  const ticket = state.ticket;
  if (!WAITING.has(state.phase)) return false;
  if (state.callbackRing) return true;
  if (!ticket || ticket.callback || ticket.widened || ticket.matched !== false) return false;
  const at = widensAtS(ticket);
  return at !== null && Date.now() / 1000 < at + 1; // until the countdown has run out
}

/** The ticket's `widens_at` in epoch seconds, or null. */
function widensAtS(ticket) {
  const at = ticket?.widens_at;
  return at === null || at === undefined || !Number.isFinite(Number(at)) ? null : Number(at);
}

function widensPassed(ticket, now) {
  const at = widensAtS(ticket);
  return ticket?.matched === false && at !== null && now / 1000 >= at;
}

function ringModel(ring, t, now) {
  const total = Math.max(1, Number(ring.timeout_s) || 30);
  const left = Math.max(0, total - (now - ring.shownAt) / 1000);
  return {
    ringId: ring.ring_id,
    title: callbackRing(t, ring.agent?.name ?? ""),
    left: seconds(t.language, Math.ceil(left)),
    fraction: left / total,
  };
}

const secondFormats = new Map();

/** "23 s", "23 Sek." …: a number of seconds in the language, by Intl (no catalogue text). */
function seconds(lang, n) {
  if (!secondFormats.has(lang)) {
    secondFormats.set(lang, new Intl.NumberFormat(lang, { style: "unit", unit: "second", unitDisplay: "short" }));
  }
  return secondFormats.get(lang).format(n);
}
