// The customer's web page on the stage: rrweb's Replayer in live mode, rebuilding the page from the
// events the co-browsing widget sends (cobrowse.js reads them off the data channel).
//
// Where it runs, and why (see replay.html): the player lives in a host frame, /replay.html, framed
// with sandbox="allow-same-origin"; rrweb puts the page in an about:blank iframe inside it, also
// sandboxed with exactly allow-same-origin (rrweb 2.2.2 refuses to rebuild into anything else).
// Both documents take replay.html's Content-Security-Policy, which lets the page's own styles and
// pictures load but no script at all, while the console keeps its strict policy. The console's
// code drives the player from outside (same origin); nothing runs inside.
//
// The host frame is the customer's viewport size and is scaled with a CSS transform to fit the
// stage, centred with bars like the video. The page follows the customer's scroll (rrweb applies
// their scroll events); the agent cannot scroll or click it (pointer events go to the stage). In
// Control mode, `hit()` finds the mirrored element under the agent's pointer and its rrweb node
// id, which is the id the widget's recorder gave the real element (control.js sends it).
//
// rrweb (about 500 kB) is loaded with the first web customer, not with the console: most sessions
// are devices, and a console without it still works for them. `preload()`, when a web customer
// rings, loads it and the host frame ahead, so that accepting does not wait for them: the host
// made ahead is kept (hidden) until the session starts, and the next one is made at the next ring.
//
// Events: `firstpaint` {at} once per session, when the first snapshot is on screen; `resize`
// {width, height} when the customer's viewport changes; `error` {error} if the player cannot start.

import { h } from "./dom.js";
import { containRect } from "./geometry.js";

const RRWEB_URL = "/vendor/rrweb.js";
const HOST_URL = "/replay.html";
const SANDBOX = "allow-same-origin";
/**
 * Live mode keeps every event it was given (for a timeline we never seek in). Past this many, the
 * ones already applied are let go, so a long session does not hold every change of the page.
 */
const KEEP_EVENTS = 2000;

export class ReplayView extends EventTarget {
  /** `stage` is the #stage element; the host frame goes right above `below` (the video). */
  constructor({ stage, below }) {
    super();
    Object.assign(this, { stage, below });
    this.host = null; // the host <iframe>
    this.replayer = null;
    this.viewport = null; // {width, height} of the customer's page
    this.firstPaintAt = null; // epoch ms
    this._ready = null; // resolves with the replayer once rrweb and the host are loaded (or null)
    this._rrweb = null; // import(RRWEB_URL), once
    this._spare = null; // {host, loaded}: a host frame made ahead by preload()
    this._clock = 0; // the last timestamp given to an event (console clock, ms)
    this._session = 0;
    new ResizeObserver(() => this._fit()).observe(stage);
  }

  get active() {
    return this.host !== null;
  }

  /** The mirrored page's document, or null (for tests and debugging). */
  get document() {
    return this.replayer?.iframe?.contentDocument ?? null;
  }

  /**
   * The element of the mirrored page under a point of the console's window, as
   * `{node, x, y, element}` (`node`: its rrweb id; `x`/`y`: CSS px from its top left corner), or
   * null off the page.
   */
  hit(clientX, clientY) {
    const { replayer, host, viewport } = this;
    const frame = replayer?.iframe;
    const doc = frame?.contentDocument;
    if (!host || host.hidden || !viewport || !doc) return null;
    // Undo the host frame's transform (translate and scale): console px → the customer's px.
    const box = host.getBoundingClientRect();
    const scale = box.width / viewport.width;
    if (!(scale > 0)) return null;
    const offset = frame.getBoundingClientRect(); // rrweb's frame inside the host document
    const x = (clientX - box.left) / scale - offset.left;
    const y = (clientY - box.top) / scale - offset.top;
    if (x < 0 || y < 0 || x >= viewport.width || y >= viewport.height) return null;
    // The host is inert (never focused or clicked by the agent), and inert content is not hit
    // tested: lift it for this one synchronous look-up.
    host.inert = false;
    let element;
    try {
      element = doc.elementFromPoint(x, y);
    } finally {
      host.inert = true;
    }
    const mirror = replayer.getMirror();
    for (let node = element; node; node = node.parentElement) {
      const id = mirror.getId(node);
      if (id > 0) {
        const rect = node.getBoundingClientRect();
        return { node: id, x: Math.max(0, x - rect.left), y: Math.max(0, y - rect.top), element: node };
      }
    }
    return null;
  }

  /** The mirrored page's scroll position (the customer's, as rrweb last applied it), or null. */
  scrollPosition() {
    const scroller = this.document?.scrollingElement;
    return scroller ? { x: scroller.scrollLeft, y: scroller.scrollTop } : null;
  }

  /** A web customer is ringing: load rrweb and a host frame now, for the session to come. */
  preload() {
    this._loadRrweb().catch(() => {}); // start() reports a failure
    if (!this._spare && !this.host) this._spare = this._makeHost();
  }

  /** Show the replay on the stage (once per session; later calls keep the page as it is). */
  start() {
    if (this.host) return this._ready;
    const session = ++this._session;
    const { host, loaded } = this._spare ?? this._makeHost();
    this._spare = null;
    this.host = host;
    this.firstPaintAt = null;
    this._ready = Promise.all([this._loadRrweb(), loaded])
      .then(([rrweb]) => (this._session === session ? this._createReplayer(rrweb, host.contentDocument) : null))
      .catch((error) => {
        console.error("co-browsing replay could not start", error);
        if (this._session === session) this.dispatchEvent(new CustomEvent("error", { detail: { error } }));
        return null;
      });
    this._fit();
    return this._ready;
  }

  /** One rrweb event from the customer's page, applied as soon as the player is ready. */
  add(event) {
    if (!this._ready) return;
    this._ready.then((replayer) => {
      if (!replayer || replayer !== this.replayer) return;
      // Live mode plays an event when the console's clock reaches its timestamp. The customer's
      // clock is not ours: restamp on arrival (in order), so every event plays on the next frame
      // instead of waiting for a clock that runs ahead, or being replayed "in the past".
      this._clock = Math.max(this._clock, Date.now());
      replayer.addEvent({ ...event, timestamp: this._clock });
    });
  }

  stop() {
    this._session++;
    try {
      this.replayer?.destroy();
    } catch {
      // Already half gone with its frame: nothing to release.
    }
    this.replayer = null;
    this.host?.remove();
    this.host = null;
    this._ready = null;
    this.viewport = null;
  }

  // --- internals ------------------------------------------------------------------------------

  _loadRrweb() {
    this._rrweb ??= import(RRWEB_URL).catch((error) => {
      this._rrweb = null; // the next session tries again
      throw error;
    });
    return this._rrweb;
  }

  /** A hidden host frame on the stage, loading replay.html: `{host, loaded}`. */
  _makeHost() {
    const host = h("iframe", {
      class: "replay-host",
      src: HOST_URL,
      sandbox: SANDBOX,
      title: "The customer's web page",
      // Never focused or tabbed into, never clicked: the agent's keys and pointer stay with the
      // console (the replay only shows; rrweb moves nothing but its scroll position).
      inert: true,
      hidden: true,
    });
    const loaded = new Promise((resolve) => host.addEventListener("load", resolve, { once: true }));
    this.below.after(host);
    return { host, loaded };
  }

  _createReplayer({ Replayer, ReplayerEvents }, doc) {
    const replayer = new Replayer([], {
      root: doc.body,
      liveMode: true,
      UNSAFE_replayCanvas: false, // would add allow-scripts to the sandbox
      insertStyleRules: [], // rrweb's own rules only (hide <noscript>, blocked elements' boxes)
      triggerFocus: false, // never move the focus into the page (it would take it from the chat)
      pauseAnimation: false, // live mode is not "playing": rrweb would freeze the page's animations
      mouseTail: false,
      showWarning: false,
    });
    replayer.on(ReplayerEvents.Resize, ({ width, height }) => {
      if (!(width > 0 && height > 0)) return;
      this.viewport = { width, height };
      this._fit();
      this.dispatchEvent(new CustomEvent("resize", { detail: { width, height } }));
    });
    replayer.on(ReplayerEvents.FullsnapshotRebuilded, () => {
      if (this.firstPaintAt !== null) return;
      // Rebuilt in the DOM now; painted after the next frame.
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          if (this.replayer !== replayer || this.firstPaintAt !== null) return;
          this.firstPaintAt = performance.timeOrigin + performance.now();
          this.dispatchEvent(new CustomEvent("firstpaint", { detail: { at: this.firstPaintAt } }));
        }),
      );
    });
    replayer.on(ReplayerEvents.EventCast, (event) => {
      // rrweb's own list (the replayer's service context), trimmed in place, keeping the first
      // event (rrweb measures times from it) and those not applied yet.
      const events = replayer.service.state.context.events;
      if (events.length <= KEEP_EVENTS) return;
      const index = events.lastIndexOf(event);
      if (index > 1) events.splice(1, index - 1);
    });
    replayer.startLive();
    this.replayer = replayer;
    return replayer;
  }

  /** The host frame at the viewport's size, scaled and centred in the stage (object-fit: contain). */
  _fit() {
    const host = this.host;
    if (!host) return;
    const { width, height } = this.viewport ?? { width: 0, height: 0 };
    const box = { left: 0, top: 0, width: this.stage.clientWidth, height: this.stage.clientHeight };
    host.hidden = !(width && height && box.width && box.height);
    if (host.hidden) return;
    const rect = containRect(box, width, height);
    host.style.width = `${width}px`;
    host.style.height = `${height}px`;
    host.style.transform = `translate(${rect.left}px, ${rect.top}px) scale(${rect.scale})`;
  }
}
