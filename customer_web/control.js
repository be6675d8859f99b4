// Remote control of this page, with the customer's consent (docs/protocol.md §10 and §11 "On a
// web page"). The widget is the enforcement point: the server relays `control.input` only while
// its record says granted, but this page applies input only while its own Consent (consent.js)
// says so, and never to what the agent cannot see.
//
// The agent aims at elements by their rrweb node id: the id the recorder's mirror gave the
// element in the snapshot the agent's replay was built from. Input into masked or blocked
// elements (passwords, card fields, data-mayday-mask, data-mayday-block and everything inside,
// the widget itself) is refused and reported with `control.dropped`.
//
// While the customer shares their whole screen instead of the page (`screenShared`), there is no
// control at all: the agent sees the screen, not the page its input would aim at. Sharing ends
// any control on the way in (help.js); input is dropped (reason `screen_shared`), and a request
// is denied at once without a dialog, so the agent gets a clear answer.

import { record } from "rrweb";

import { Consent } from "./consent.js";
import { WIDGET_TAG, isSecretField } from "./masking.js";

const REFUSED = `[data-mayday-block], [data-mayday-mask], ${WIDGET_TAG}`;
const VALUE_TYPES = new Set(["", "text", "email", "search", "tel", "url", "number"]);
const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex], [contenteditable]";

export class PageControl {
  /**
   * `socket`: the DeviceSocket; `sessionId()`: the current session's id or null; `onChange()`:
   * consent moved (the panel shows it); `onAsk()`: a request came (open the panel).
   */
  constructor({ socket, sessionId, onChange, onAsk }) {
    Object.assign(this, { socket, sessionId, onChange, onAsk });
    this.consent = new Consent();
    this._leaseTimer = null;
    this._revokeWhenBack = false;
    this.applied = 0;
    this.dropped = 0;
    this.screenShared = false;
  }

  /** What the panel shows: {state, agent, organisation}. */
  get view() {
    const request = this.consent.request;
    return {
      state: this.consent.state,
      agent: request?.agentName ?? "",
      organisation: request?.organisation ?? "",
    };
  }

  // --- the customer -----------------------------------------------------------------------------

  async allow() {
    const request = this.consent.allow();
    this.onChange();
    if (!request) return;
    try {
      await this.socket.request("control.grant", { session_id: request.sessionId, request_id: request.requestId });
    } catch (error) {
      // Refused (the request lapsed meanwhile): control was not granted.
      console.warn("mayday widget: control.grant", error.message);
      if (this.consent.state === "granted") this.consent.reset();
      this.onChange();
    }
  }

  deny() {
    const request = this.consent.deny();
    this.onChange();
    if (request) this._send("control.deny", { session_id: request.sessionId, request_id: request.requestId });
  }

  /** Stop control: locally first, at once; then the server, without waiting for it. */
  stop() {
    const sessionId = this.consent.sessionId ?? this.consent.request?.sessionId ?? this.sessionId();
    this.consent.reset();
    clearTimeout(this._leaseTimer);
    this.onChange();
    if (sessionId) this._send("control.revoke", { session_id: sessionId });
  }

  // --- the socket and the server ---------------------------------------------------------------

  /** The socket's status: suspend at once when it drops; after an expired lease, revoke once back. */
  status(state) {
    if (state === "connected") {
      if (this._revokeWhenBack && this.sessionId()) this._send("control.revoke", { session_id: this.sessionId() });
      this._revokeWhenBack = false;
      return;
    }
    const was = this.consent.state;
    this.consent.suspend();
    if (was === "granted") {
      clearTimeout(this._leaseTimer);
      this._leaseTimer = setTimeout(() => {
        if (this.consent.leaseOver()) {
          this._revokeWhenBack = true; // in case the server never noticed the drop
          this.onChange();
        }
      }, this.consent.leaseMs + 50);
    }
    if (was !== this.consent.state) this.onChange();
  }

  /** `control.request`: show the dialog naming the agent and organisation the server verified. */
  request(data) {
    if (data.session_id !== this.sessionId()) return;
    if (this.screenShared) {
      this._send("control.deny", { session_id: data.session_id, request_id: data.request_id });
      return;
    }
    this.consent.ask(data.session_id, data.request_id, String(data.agent?.name ?? ""), String(data.organisation ?? ""));
    this.onChange();
    if (this.consent.state === "asked") this.onAsk();
  }

  /** `control.state`: it can take consent away, resume it within the lease, never create it. */
  state(data) {
    const ours = this.consent.sessionId ?? this.consent.request?.sessionId;
    if (!ours || data.session_id !== ours) return;
    if (data.state === "none") {
      this.consent.reset();
    } else if (data.state === "suspended") {
      this.consent.suspend();
    } else if (data.state === "granted" && data.reason === "resumed") {
      if (this.consent.resume(data.session_id)) clearTimeout(this._leaseTimer);
      else this._send("control.revoke", { session_id: data.session_id });
    }
    this.onChange();
  }

  /** The customer shares their screen (true) or the page again: no control while they share. */
  setScreenShared(on) {
    this.screenShared = on;
    if (!on) return;
    if (this.consent.state === "asked") this.deny();
    else if (this.consent.controlVisible) this.stop();
  }

  /** The session ended, or the page is leaving it: consent goes with it. */
  reset() {
    clearTimeout(this._leaseTimer);
    this._revokeWhenBack = false;
    if (this.consent.state === "none") return;
    this.consent.reset();
    this.onChange();
  }

  // --- the agent's input ------------------------------------------------------------------------

  /** `control.input`: applied in order, each event only while consent holds. */
  input(data) {
    const sessionId = String(data.session_id ?? "");
    const events = Array.isArray(data.events) ? data.events : [];
    const seq = Number.isInteger(data.seq) ? data.seq : 0;
    if (events.length === 0) return;
    if (this.screenShared) {
      this._drop(sessionId, seq, events.length, "screen_shared");
      return;
    }
    if (!this.consent.allows(sessionId) || sessionId !== this.sessionId()) {
      this._drop(sessionId, seq, events.length, "no_consent");
      return;
    }
    let done = 0;
    let refused = 0;
    for (const event of events) {
      if (!this.consent.allows(sessionId)) {
        this._drop(sessionId, seq, events.length - done, "revoked");
        break;
      }
      done += 1;
      try {
        if (this._apply(event) === false) refused += 1;
        else this.applied += 1;
      } catch (error) {
        console.warn("mayday widget: input not applied", error);
      }
    }
    if (refused) this._drop(sessionId, seq, refused, "masked");
  }

  /** One event; false if it was refused (a masked or blocked target). */
  _apply(event) {
    if (event?.type === "scroll_to") return this._scroll(event);
    const target = record.mirror.getNode(event?.node);
    if (!(target instanceof Element)) return true; // landed on nothing: not an error (§11)
    if (refused(target)) return false;
    switch (event.type) {
      case "click":
        focus(target);
        target.click();
        return true;
      case "input":
        return setValue(target, String(event.value ?? ""));
      case "press":
        press(target, event.key, event.shift === true);
        return true;
      default:
        return true; // a screen's event (tap, text …): nothing to aim at on a page
    }
  }

  _scroll({ node, x, y }) {
    const left = Number(x) || 0;
    const top = Number(y) || 0;
    if (node === 0) {
      window.scrollTo({ left, top, behavior: "instant" });
      return true;
    }
    const target = record.mirror.getNode(node);
    if (!(target instanceof Element)) return true;
    if (refused(target)) return false;
    target.scrollTo({ left, top, behavior: "instant" });
    return true;
  }

  _drop(sessionId, seq, count, reason) {
    this.dropped += count;
    if (!sessionId) return;
    this._send("control.dropped", { session_id: sessionId, seq, count: Math.min(count, 50), reason });
  }

  _send(event, payload) {
    this.socket.request(event, payload).catch((error) => console.warn(`mayday widget: ${event}`, error.message));
  }
}

/** Masked or blocked, a secret field, or the widget: the agent may not act on it. */
function refused(element) {
  if (element.closest(REFUSED)) return true;
  if (element.getRootNode() !== document) return true; // inside a shadow root: not the page's
  const field = element.closest("input, textarea, select");
  return field !== null && isSecretField(field);
}

function focus(element) {
  if (typeof element.focus === "function") element.focus({ preventScroll: true });
}

/** Set a field's value as typing would: through the native setter, then `input` and `change`. */
function setValue(element, value) {
  const kind = element instanceof HTMLInputElement ? "input" : element instanceof HTMLTextAreaElement ? "textarea" : null;
  if (kind === "input" && !VALUE_TYPES.has((element.getAttribute("type") || "").toLowerCase())) return true;
  if (kind === null) {
    if (!element.isContentEditable) return true;
    focus(element);
    element.textContent = value;
  } else {
    if (element.disabled || element.readOnly) return true;
    focus(element);
    const prototype = kind === "input" ? HTMLInputElement.prototype : HTMLTextAreaElement.prototype;
    // The prototype's setter, so that frameworks tracking the value (React) see the change.
    Object.getOwnPropertyDescriptor(prototype, "value").set.call(element, value);
  }
  element.dispatchEvent(new Event("input", { bubbles: true }));
  element.dispatchEvent(new Event("change", { bubbles: true }));
  return true;
}

/** Enter, Tab, Escape (with Shift or not): the key events, then what a real key would do. */
function press(element, key, shiftKey) {
  if (!["Enter", "Tab", "Escape"].includes(key)) return;
  focus(element);
  const init = { key, code: key, shiftKey, bubbles: true, cancelable: true, composed: true };
  const down = element.dispatchEvent(new KeyboardEvent("keydown", init));
  if (key === "Enter") element.dispatchEvent(new KeyboardEvent("keypress", init));
  element.dispatchEvent(new KeyboardEvent("keyup", init));
  if (!down) return; // the page handled the key itself
  // Synthetic key events have no default action: do the usual one.
  if (key === "Enter" && element instanceof HTMLInputElement && element.form) element.form.requestSubmit();
  else if (key === "Enter" && (element instanceof HTMLButtonElement || element instanceof HTMLAnchorElement)) element.click();
  else if (key === "Tab") focusNext(element, shiftKey);
}

/**
 * Tab: the focus moves to the next element in document order that a Tab would reach and the agent
 * may act on (never a secret, masked or blocked one, nor the widget); from an element that takes
 * no focus (the body, a paragraph clicked), to the first one after it. Past the last, it stays.
 * Shift+Tab (`back`): the same, to the nearest one before it. The console follows the same rule
 * in its replay (agent_web/control.js nextFocusable).
 */
function focusNext(element, back = false) {
  const side = back ? Node.DOCUMENT_POSITION_PRECEDING : Node.DOCUMENT_POSITION_FOLLOWING;
  const reachable = [...document.querySelectorAll(FOCUSABLE)].filter(
    (node) =>
      node !== element &&
      element.compareDocumentPosition(node) & side &&
      !node.disabled &&
      node.tabIndex >= 0 &&
      node.getClientRects().length > 0 &&
      !refused(node),
  );
  const next = back ? reachable[reachable.length - 1] : reachable[0];
  // Scrolled into view, as a real Tab does (a click's focus does not move the page).
  if (next) next.focus();
}
