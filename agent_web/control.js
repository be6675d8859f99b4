// Remote control with the customer's consent: the request button, the consent state, and turning
// clicks, drags, the wheel and keys on the video into control.input.
//
// Consent belongs to the customer: the device shows the dialog, applies input only while its own
// consent holds, and the customer can take control back at any moment. The server relays input
// only while control.state is "granted". So this module never assumes control: it follows
// control.state, and the session switches to Control mode only while it says "granted".
//
// On a web page (setPage: the replay instead of a video) input aims at elements, by the rrweb node
// id the replay's mirror gives the element under the pointer (docs/protocol.md §11 "On a web
// page"): a click is `click`, typing into the clicked field is `input` with the field's whole new
// value, Enter/Tab/Escape are `press`, the wheel scrolls the document (`scroll_to`). Keys go to
// the element the agent clicked or tabbed to last (the page's body before that); after a Tab,
// where the focus went on the page is found the way the widget moves it, in the replay, so typing
// goes on in the next field (Shift+Tab: `press` with `shift`, the previous one).
//
// Events: `state` {state, reason, previous}.

import { pictureRect, round4, toPicture } from "./geometry.js";

// A copy of signaling/keys.py NAMED_KEYS, the one table of named keys: the console cannot import
// Python. tests/test_keys.py checks that the two agree; change both together.
const NAMED_KEYS = new Set([
  "Enter",
  "Backspace",
  "Tab",
  "Escape",
  "ArrowLeft",
  "ArrowRight",
  "ArrowUp",
  "ArrowDown",
  "Home",
  "End",
  "Delete",
  "PageUp",
  "PageDown",
  "Insert",
  "F1",
  "F2",
  "F3",
  "F4",
  "F5",
  "F6",
  "F7",
  "F8",
  "F9",
  "F10",
  "F11",
  "F12",
]);
const DRAG_THRESHOLD_PX = 6; // a press that moves less than this is a tap
const FLUSH_MS = 12; // gather keystrokes typed in one burst into one message
const WHEEL_FLUSH_MS = 50;
const MAX_EVENTS = 50; // signaling/models.py: ControlInput.events max_length
const MAX_TEXT = 256; // TextInput.text max_length
const MAX_VALUE = 2000; // WebValueInput.value max_length
const WEB_KEYS = new Set(["Enter", "Tab", "Escape"]); // WebKeyInput.key
const TEXT_TYPES = new Set(["", "text", "email", "search", "tel", "url", "number", "password"]);
// What the widget's Tab moves the focus to (customer_web/control.js FOCUSABLE), and what it never
// does: the widget itself, masked and blocked elements, secret fields (customer_web/masking.js).
const FOCUSABLE = "a[href], button, input, select, textarea, [tabindex], [contenteditable]";
const NOT_FOCUSED = "[data-mayday-block], [data-mayday-mask], mayday-help";
const SECRET_AUTOCOMPLETE = /(^|\s)(cc-|current-password|new-password|one-time-code)/i;
const LINE_PX = 40;
/** After our socket is back, how long to wait for the server's "resumed" before giving up. */
const RESUME_WAIT_MS = 1500;

/** What the agent is told when control changes, by reason. */
const REASON_TEXT = {
  requested: "Waiting for the customer to allow control…",
  granted: "Your clicks and keys now reach the customer's {target}.",
  resumed: "Control is back after the connection blip.",
  denied: "The customer declined remote control.",
  revoked: "The customer took control back.",
  released: "You released control.",
  suspended: "Control is suspended while the connection recovers.",
  expired: "Control expired; ask the customer again if you still need it.",
  ended: "Control ended with the session.",
};

/** A toast's title for a change of control, in plain words, by reason (see headline()). */
const REASON_HEADLINE = {
  requested: "Control requested",
  granted: "Control granted",
  resumed: "Control is back",
  denied: "The customer declined control",
  revoked: "The customer took control back",
  released: "You released control",
  suspended: "Control paused",
  expired: "Control ran out",
  ended: "Control ended",
};

export const STATUS_TEXT = {
  requested: "pending",
  granted: "granted",
  resumed: "granted",
  denied: "denied",
  revoked: "revoked",
  released: "released",
  suspended: "suspended",
  expired: "expired",
  ended: "ended",
};

export class RemoteControl extends EventTarget {
  constructor({ signaling, stage, video, toasts }) {
    super();
    Object.assign(this, { signaling, stage, video, toasts });
    this._flushTimer = null;
    this._lastErrorAt = 0;
    this._sending = false;
    this.page = null; // a web page's replay, when the session is one (setPage)
    this.setSession(null); // no session yet: state "none", nothing queued
  }

  get granted() {
    return this.state === "granted";
  }

  /** A web page's replay (replay.js) to aim at, or null: the video of a device's screen. */
  setPage(replay) {
    this.page = replay;
    this._field = null;
    this._focus = null;
  }

  /** What the agent acts on, in words: "page" in a co-browsing session, else "device". */
  get target() {
    return this.page ? "page" : "device";
  }

  setSession(sessionId) {
    this.sessionId = sessionId;
    this._field = null; // on a web page: the text field clicked last {node, value}
    this._focus = null; // on a web page: the element clicked or tabbed to last {node, element}
    this._localSuspend = false;
    this._seq = 0;
    this._queue = [];
    this._press = null;
    this._wheel = null;
    this._set({ state: "none", reason: null });
  }

  request() {
    return this._ask("control.request", "Could not ask for control");
  }

  release() {
    return this._ask("control.release", "Could not release control");
  }

  /**
   * Our own socket dropped. Like the device (docs §10.6), suspend at once: nothing we click can
   * reach the customer now, and the server may already have suspended or ended control.
   */
  connectionLost() {
    if (this.state !== "granted") return;
    this._set({ state: "suspended", reason: "suspended" });
    this._localSuspend = true;
  }

  /**
   * Back in the session after a socket drop: the server says "resumed" if the lease still ran,
   * and nothing at all if it ran out (docs §10.6), so no news soon means control is gone.
   */
  afterResume() {
    if (!this._localSuspend) return;
    const sessionId = this.sessionId;
    setTimeout(() => {
      if (this._localSuspend && this.sessionId === sessionId && this.state === "suspended") {
        this._set({ state: "none", reason: "expired" });
      }
    }, RESUME_WAIT_MS);
  }

  /** control.state from the server (or the same object from a request/release ack). */
  onState(data) {
    if (data.session_id !== this.sessionId) return;
    this._localSuspend = false;
    // The ack and the event carry the same state; only react once.
    if (data.state === this.state && data.reason === this.reason) return;
    this._set(data);
  }

  /** A short title for the current reason ("The customer declined control"), for a toast. */
  headline() {
    return REASON_HEADLINE[this.reason] ?? "Remote control";
  }

  describe() {
    const text = (REASON_TEXT[this.reason] ?? "").replace("{target}", this.target);
    if (this.state === "suspended" && this.leaseS !== null) {
      return `${text} It resumes without a new request if the connection is back within ${Math.round(this.leaseS)} s.`;
    }
    return text;
  }

  // --- input, routed here by the session while in Control mode ---------------------------------

  pointerDown(event) {
    if (event.button !== 0 || !this.granted) return false;
    if (this.page) {
      const hit = this.page.hit(event.clientX, event.clientY);
      if (!hit) return false;
      this._press = { clientX: event.clientX, clientY: event.clientY, hit };
      return true;
    }
    const point = toPicture(pictureRect(this.video), event.clientX, event.clientY);
    if (!point) return false; // the letterbox is not the customer's screen
    this._press = { clientX: event.clientX, clientY: event.clientY, point };
    return true;
  }

  pointerUp(event) {
    const press = this._press;
    this._press = null;
    if (!press || !this.granted) return;
    const moved = Math.hypot(event.clientX - press.clientX, event.clientY - press.clientY);
    if (press.hit) {
      if (moved >= DRAG_THRESHOLD_PX) return; // no drags on a page (yet): a press that moved is nothing
      const { node, x, y, element } = press.hit;
      this._push({ type: "click", node, x: Math.round(x), y: Math.round(y) });
      this._focusOn(node, element);
      this._ripple(press.clientX, press.clientY);
      return;
    }
    if (moved < DRAG_THRESHOLD_PX) {
      this._push({ type: "tap", x: round4(press.point.x), y: round4(press.point.y) });
      this._ripple(press.clientX, press.clientY);
      return;
    }
    const end = toPicture(pictureRect(this.video), event.clientX, event.clientY, true);
    if (!end) return;
    this._push({
      type: "drag",
      x0: round4(press.point.x),
      y0: round4(press.point.y),
      x1: round4(end.x),
      y1: round4(end.y),
    });
    this._ripple(event.clientX, event.clientY);
  }

  pointerCancel() {
    this._press = null;
  }

  wheel(event) {
    if (!this.granted) return;
    if (this.page) return this._pageWheel(event);
    const rect = pictureRect(this.video);
    const point = toPicture(rect, event.clientX, event.clientY);
    if (!point) return;
    event.preventDefault();
    const unit = event.deltaMode === 1 ? LINE_PX : event.deltaMode === 2 ? rect.height : 1;
    // Wheel events come in bursts of dozens; send their sum every 50 ms.
    const wheel = (this._wheel ??= { x: point.x, y: point.y, dx: 0, dy: 0, rect });
    wheel.dx += event.deltaX * unit;
    wheel.dy += event.deltaY * unit;
    wheel.rect = rect;
    if (!wheel.timer) wheel.timer = setTimeout(() => this._flushWheel(), WHEEL_FLUSH_MS);
  }

  /** Returns true when the key was sent to the customer (and must not do anything here). */
  keyDown(event) {
    if (!this.granted || event.isComposing || event.keyCode === 229) return false;
    const shortcut = (event.ctrlKey || event.metaKey) && !event.getModifierState?.("AltGraph");
    if (this.page) return this._pageKey(event, shortcut);
    if (NAMED_KEYS.has(event.key) && !shortcut && !event.altKey) {
      this._push({ type: "key", key: event.key });
      return true;
    }
    if ([...event.key].length === 1 && !shortcut) {
      this._pushText(event.key);
      return true;
    }
    return false;
  }

  /** Pasting into the focused video types the clipboard's text on the customer's device. */
  paste(event) {
    if (!this.granted) return;
    const text = event.clipboardData?.getData("text/plain") ?? "";
    if (!text) return;
    event.preventDefault();
    if (this.page) this._type(text);
    else this._pushText(text.slice(0, MAX_TEXT * 8));
  }

  /** Text from an input method (e.g. accented or CJK characters), once composed. */
  compositionEnd(event) {
    if (this.granted && event.data) {
      if (this.page) this._type(event.data);
      else this._pushText(event.data);
    }
  }

  // --- on a web page --------------------------------------------------------------------------

  /** Keys into the field clicked last: its value as `input`, Enter/Tab/Escape as `press`. */
  _pageKey(event, shortcut) {
    const field = this._field;
    if (shortcut || event.altKey) return false;
    if (WEB_KEYS.has(event.key)) {
      // The element clicked or tabbed to last; before any, the page's body (where a key goes
      // on a page with nothing focused).
      const node = this._focus?.node ?? this._bodyNode();
      const press = { type: "press", node, key: event.key };
      if (event.shiftKey) press.shift = true;
      if (node) this._push(press);
      if (event.key === "Tab") this._tabbed(event.shiftKey);
      return true;
    }
    if (event.key === "Backspace") {
      if (field) this._setValue(field, [...field.value].slice(0, -1).join(""));
      return true;
    }
    if ([...event.key].length === 1) {
      this._type(event.key);
      return true;
    }
    return NAMED_KEYS.has(event.key); // other named keys are not sent to a page, nor used here
  }

  _type(text) {
    if (this._field) this._setValue(this._field, (this._field.value + text).slice(0, MAX_VALUE));
  }

  /** The field's whole value; consecutive values for one field travel as the last one. */
  _setValue(field, value) {
    field.value = value;
    const last = this._queue[this._queue.length - 1];
    if (last?.type === "input" && last.node === field.node) last.value = value;
    else this._push({ type: "input", node: field.node, value }, false);
    this._scheduleFlush();
  }

  /** The agent clicked (or tabbed to) `element` of the replay, with rrweb node id `node`. */
  _focusOn(node, element) {
    this._focus = { node, element };
    this._field = textField(element) ? { node, value: fieldValue(element) } : null;
  }

  /** Tab (or Shift+Tab: `back`) went to the page: follow the focus as the widget moves it. */
  _tabbed(back) {
    const doc = this.page?.document;
    const mirror = this.page?.replayer?.getMirror();
    if (!doc || !mirror) return;
    // By node id: a new snapshot of the page rebuilds the replay's elements.
    const focused = this._focus ? mirror.getNode(this._focus.node) : null;
    const from = focused?.ownerDocument === doc ? focused : doc.body;
    const next = from ? nextFocusable(doc, from, back) : null;
    const node = next ? mirror.getId(next) : -1;
    if (next && node > 0) this._focusOn(node, next);
    else this._focus = this._field = null; // off the end of the page: nothing known to be focused
  }

  _bodyNode() {
    const body = this.page?.document?.body;
    const node = body ? this.page.replayer?.getMirror().getId(body) : -1;
    return node > 0 ? node : null;
  }

  _pageWheel(event) {
    event.preventDefault();
    const unit = event.deltaMode === 1 ? LINE_PX : event.deltaMode === 2 ? (this.page.viewport?.height ?? 600) : 1;
    const wheel = (this._wheel ??= { dx: 0, dy: 0, page: true });
    wheel.dx += event.deltaX * unit;
    wheel.dy += event.deltaY * unit;
    if (!wheel.timer) wheel.timer = setTimeout(() => this._flushWheel(), WHEEL_FLUSH_MS);
  }

  // --- internals ------------------------------------------------------------------------------

  /** control.request or control.release; the ack carries the resulting control state. */
  async _ask(event, failure) {
    if (!this.sessionId) return;
    try {
      const ack = await this.signaling.request(event, { session_id: this.sessionId });
      if (ack.control) this.onState(ack.control);
    } catch (error) {
      this.toasts.error(failure, error);
    }
  }

  _set({ state, reason, lease_s: leaseS = null }) {
    const previous = this.state;
    this.state = state;
    this.reason = reason;
    this.leaseS = leaseS;
    if (state !== "granted") {
      // Input typed or clicked before the customer took control back must never go out later.
      this._queue = [];
      this._press = null;
      if (this._wheel?.timer) clearTimeout(this._wheel.timer);
      this._wheel = null;
    }
    this.dispatchEvent(new CustomEvent("state", { detail: { state, reason, previous } }));
  }

  _pushText(text) {
    for (const char of text) {
      const last = this._queue[this._queue.length - 1];
      if (last?.type === "text" && last.text.length < MAX_TEXT) last.text += char;
      else this._push({ type: "text", text: char }, false);
    }
    this._scheduleFlush();
  }

  _push(event, schedule = true) {
    this._queue.push(event);
    if (schedule) this._scheduleFlush();
  }

  _scheduleFlush() {
    if (this._flushTimer === null) this._flushTimer = setTimeout(() => this._flush(), FLUSH_MS);
  }

  _flushWheel() {
    const wheel = this._wheel;
    this._wheel = null;
    if (!wheel || !this.granted) return;
    if (wheel.page) {
      // Where the customer's page is now (the replay follows it), moved by the wheel.
      const at = this.page?.scrollPosition();
      if (!at || (wheel.dx === 0 && wheel.dy === 0)) return;
      const x = Math.max(0, Math.round(at.x + wheel.dx));
      const y = Math.max(0, Math.round(at.y + wheel.dy));
      this._push({ type: "scroll_to", node: 0, x, y });
      return;
    }
    const clamp = (v) => Math.max(-1, Math.min(1, v));
    const dx = round4(clamp(wheel.dx / wheel.rect.width));
    const dy = round4(clamp(wheel.dy / wheel.rect.height));
    if (dx === 0 && dy === 0) return;
    this._push({ type: "scroll", x: round4(wheel.x), y: round4(wheel.y), dx, dy });
  }

  /**
   * Send what is queued, one control.input at a time: the next batch goes only after the ack of
   * the previous one, and everything typed meanwhile travels together in it. That keeps the order
   * of input without relying on the receiving side to serialize messages, and it is natural
   * back-pressure on a slow link.
   */
  async _flush() {
    this._flushTimer = null;
    if (this._sending) return; // the running loop picks the new events up
    this._sending = true;
    try {
      while (this._queue.length > 0 && this.granted) {
        const events = this._queue.splice(0, MAX_EVENTS);
        const payload = { session_id: this.sessionId, seq: ++this._seq, events };
        try {
          await this.signaling.request("control.input", payload, { fresh: true });
        } catch (error) {
          this._queue = [];
          const now = performance.now();
          if (now - this._lastErrorAt > 3000) {
            this._lastErrorAt = now;
            this.toasts.error("Your input did not reach the customer", error);
          }
        }
      }
    } finally {
      this._sending = false;
    }
  }

  /** A short ring where a tap, click or drag landed, so the agent sees what was sent. */
  _ripple(clientX, clientY) {
    const stage = this.stage.getBoundingClientRect();
    const ripple = document.createElement("span");
    ripple.className = "tap-ripple";
    ripple.style.left = `${clientX - stage.left}px`;
    ripple.style.top = `${clientY - stage.top}px`;
    this.stage.append(ripple);
    ripple.addEventListener("animationend", () => ripple.remove());
    setTimeout(() => ripple.remove(), 1000);
  }
}

/** A field of the mirrored page the agent can type into. */
function textField(element) {
  const tag = element?.tagName;
  if (tag === "TEXTAREA") return true;
  return tag === "INPUT" && TEXT_TYPES.has((element.getAttribute("type") || "").toLowerCase());
}

/**
 * The element a Tab moves the focus to from `from`, in the replay's document `doc`: the next one
 * in document order (Shift+Tab, `back`: the previous one) that the widget would focus
 * (customer_web/control.js focusNext), or null.
 */
function nextFocusable(doc, from, back = false) {
  const side = back ? Node.DOCUMENT_POSITION_PRECEDING : Node.DOCUMENT_POSITION_FOLLOWING;
  const candidates = [...doc.querySelectorAll(FOCUSABLE)].filter(
    (node) =>
      node !== from &&
      from.compareDocumentPosition(node) & side &&
      !node.disabled &&
      node.tabIndex >= 0 &&
      node.getClientRects().length > 0 &&
      !node.closest(NOT_FOCUSED) &&
      !secretField(node),
  );
  return (back ? candidates[candidates.length - 1] : candidates[0]) ?? null;
}

function secretField(node) {
  const field = node.closest("input, textarea, select");
  if (!field) return false;
  const type = (field.getAttribute("type") || "").toLowerCase();
  if (type === "password" || field.hasAttribute("data-rr-is-password")) return true;
  return SECRET_AUTOCOMPLETE.test(field.getAttribute("autocomplete") || "");
}

/** The field's value as the replay shows it; a masked one (stars) is not known, so typing replaces it. */
function fieldValue(element) {
  const value = String(element.value ?? "");
  return /^\*+$/.test(value) ? "" : value;
}
