// Co-browsing: the customer's web page instead of a screen (docs/cobrowse.md §2.1).
//
// The widget on the customer's page opens the `cobrowse` data channel in its offer and sends JSON
// text frames: `hello` and `page` (the page's address, title and viewport), `leaving` (the page is
// being unloaded), and `event`: one rrweb event per `seq`, cut into `parts` frames of at most
// 16 KiB when it is longer. This module joins the parts, hands each event to the replay
// (replay.js), shows the page's address, title and size in the page bar, and asks for a new full
// snapshot (`{"type": "snapshot"}`) when it missed an event or the session came back.
//
// Everything on the channel comes from the customer's page and is untrusted: text goes into the
// console as textContent only, an event that does not parse is dropped, and the page itself is
// rebuilt only inside the replay's sandboxed frames.
//
// Events: `firstpaint` {at} (from the replay), `page` {url, title, viewport}.

import { parts } from "./dom.js";

export const COBROWSE_CHANNEL = "cobrowse";

const PROTOCOL_VERSION = 1;
/** rrweb's event types (EventType in rrweb): the ones this module looks at. */
const FULL_SNAPSHOT = 2;
const INCREMENTAL = 3;
/** One event, joined: a snapshot of a large page is several MB; this is far beyond any. */
const MAX_EVENT_CHARS = 64 * 1024 * 1024;
/** While waiting for a snapshot asked for, ask again this often. */
const SNAPSHOT_RETRY_MS = 5000;
const MAX_TEXT = 2000;
const LEAVING_KEY = "cobrowse-leaving";
const LEAVING_TEXT = "The customer is leaving the page…";

/** Epoch milliseconds, sub-millisecond: comparable with the customer's clock and across processes. */
const now = () => performance.timeOrigin + performance.now();

export class CobrowseView extends EventTarget {
  /** `bar` is the .page-bar above the stage; `replay` the ReplayView; `screen` owns the wait overlay. */
  constructor({ bar, replay, screen, notices }) {
    super();
    Object.assign(this, { replay, screen, notices });
    this.bar = bar;
    Object.assign(this, parts(bar, { title: ".page-title", url: ".page-url", viewport: ".page-viewport" }));
    this.session = null;
    this.page = null; // {url, title, viewport} as the widget last said
    this.reader = null; // the current channel's ChannelReader
    this.stats = emptyStats();
    this.screenShared = false; // the customer shares their screen instead: the stage shows that
    replay.addEventListener("firstpaint", ({ detail }) => {
      this.stats.firstPaintAt = detail.at;
      if (!this.screenShared) this.screen.hideWait();
      this.dispatchEvent(new CustomEvent("firstpaint", { detail }));
    });
    replay.addEventListener("resize", ({ detail }) => this._showViewport(detail));
    replay.addEventListener("error", ({ detail }) => {
      if (this.screenShared) return;
      this.screen.showWait(`The customer's page cannot be shown here: ${detail.error?.message ?? detail.error}`);
    });
  }

  get active() {
    return this.reader !== null;
  }

  /**
   * A session started (its session.started payload); nothing shows until a channel comes, but a
   * web customer's replay is made now, while the connection is being set up.
   */
  start(session) {
    this.stop();
    this.session = session;
    if (session.device?.kind === "web") this.replay.start();
  }

  /** Session.started again for the same session (our socket came back): the next channel asks. */
  resumed(session) {
    this.session = session;
  }

  /** A `cobrowse` channel of the session's current peer connection (a new one after a re-offer). */
  attach(channel) {
    const resumed = this.reader !== null || Boolean(this.session?.resumed);
    this.reader?.close();
    this.reader = new ChannelReader(channel, this, { resumed });
    this.bar.hidden = false;
    this.replay.start();
    if (this.replay.firstPaintAt === null && !this.screenShared) this.screen.showWait("Loading the customer's page…");
  }

  stop() {
    this.reader?.close();
    this.reader = null;
    this.session = null;
    this.page = null;
    this.replay.stop();
    this.notices.remove(LEAVING_KEY);
    this.bar.hidden = true;
    for (const node of [this.title, this.url, this.viewport]) node.textContent = "";
    this.url.removeAttribute("title");
    this.title.removeAttribute("title");
    this.stats = emptyStats();
  }

  // --- messages from the current channel (ChannelReader calls these) --------------------------

  _hello(message) {
    this.stats.helloAt ??= now();
    if (message.v !== PROTOCOL_VERSION) console.warn("co-browsing widget speaks version", message.v);
    this.notices.remove(LEAVING_KEY);
    this._page(message);
  }

  _page(message) {
    const page = {
      url: text(message.url) ?? this.page?.url ?? "",
      title: text(message.title) ?? this.page?.title ?? "",
      viewport: size(message.viewport) ?? this.page?.viewport ?? null,
    };
    this.page = page;
    this.title.textContent = page.title || "Untitled page";
    this.title.title = page.title;
    this.url.textContent = page.url;
    this.url.title = page.url;
    if (page.viewport) this._showViewport(page.viewport);
    this.dispatchEvent(new CustomEvent("page", { detail: page }));
  }

  _leaving() {
    this.notices.set(LEAVING_KEY, LEAVING_TEXT, "warning");
  }

  _event(event) {
    const stats = this.stats;
    stats.events += 1;
    stats.lastEventAt = now();
    stats.firstEventAt ??= stats.lastEventAt;
    if (event.type === FULL_SNAPSHOT) {
      stats.snapshots += 1;
      stats.firstSnapshotAt ??= stats.lastEventAt;
    }
    this.replay.add(event);
  }

  _showViewport({ width, height }) {
    this.viewport.textContent = `${width} × ${height}`;
    this.viewport.title = `The customer's window shows ${width} × ${height} CSS pixels of the page`;
  }
}

/**
 * One `cobrowse` channel: frames in, whole rrweb events out, in order. `seq` counts events from 1
 * on every channel; a missing one (or a part of one) means the page we rebuild is no longer the
 * customer's, so we ask for a full snapshot and drop changes until it comes.
 */
class ChannelReader {
  constructor(channel, view, { resumed }) {
    Object.assign(this, { channel, view, resumed });
    this.expected = 1; // the next seq
    this.pending = null; // {seq, parts, chunks, chars} of an event being joined
    this.resyncing = false; // changes are dropped until a full snapshot
    this._retry = null;
    this._askedAt = -Infinity;
    this._onMessage = (event) => this._message(event.data);
    this._onOpen = () => this._opened();
    channel.addEventListener("message", this._onMessage);
    if (channel.readyState === "open") this._opened();
    else channel.addEventListener("open", this._onOpen, { once: true });
  }

  close() {
    this.channel.removeEventListener("message", this._onMessage);
    this.channel.removeEventListener("open", this._onOpen);
    clearTimeout(this._retry);
    this._retry = null;
  }

  _opened() {
    this.view.stats.channelOpenAt ??= now();
    // A reload or a reconnect: what we show may be stale, and the widget may not know we are new.
    if (this.resumed) this._askSnapshot();
  }

  _message(data) {
    const stats = this.view.stats;
    stats.frames += 1;
    if (typeof data !== "string") return; // text frames only
    stats.chars += data.length;
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!message || typeof message !== "object") return;
    switch (message.type) {
      case "event":
        this._frame(message);
        break;
      case "hello":
        this.view._hello(message);
        break;
      case "page":
        this.view._page(message);
        break;
      case "leaving":
        this.view._leaving(message);
        break;
      default:
      // Unknown: a newer widget; ignore.
    }
  }

  _frame({ seq, part, parts, data }) {
    if (!isCount(seq, 1) || !isCount(parts, 1) || !isCount(part, 0) || part >= parts || typeof data !== "string") return;
    const pending = this.pending;
    if (pending && (seq !== pending.seq || part !== pending.chunks.length || parts !== pending.parts)) {
      this.pending = null; // the rest of that event never came
      this.expected = pending.seq + 1;
      this._gap();
    }
    if (!this.pending) {
      if (seq < this.expected) return; // already had it
      if (seq > this.expected) this._gap();
      this.expected = seq;
      if (part !== 0) {
        // The middle of an event whose start we missed.
        this.expected = seq + 1;
        this._gap();
        return;
      }
      this.pending = { seq, parts, chunks: [], chars: 0 };
    }
    const event = this.pending;
    event.chunks.push(data);
    event.chars += data.length;
    if (event.chars > MAX_EVENT_CHARS) {
      this.pending = null;
      this.expected = seq + 1;
      this._gap();
      return;
    }
    if (event.chunks.length < event.parts) return;
    this.pending = null;
    this.expected = seq + 1;
    this.view.stats.lastSeq = seq;
    let parsed;
    try {
      parsed = JSON.parse(event.chunks.length === 1 ? event.chunks[0] : event.chunks.join(""));
    } catch {
      this._gap(); // a broken event is a missing one
      return;
    }
    if (!parsed || typeof parsed !== "object" || !Number.isInteger(parsed.type) || typeof parsed.data !== "object") {
      this._gap();
      return;
    }
    if (parsed.type === FULL_SNAPSHOT) this._resynced();
    // Changes would apply to a page we do not have; Meta (the size) comes with the snapshot.
    else if (this.resyncing && parsed.type === INCREMENTAL) return;
    this.view._event(parsed);
  }

  /** Events went missing: ask for the whole page again. */
  _gap() {
    this.view.stats.gaps += 1;
    this.resyncing = true;
    this._askSnapshot();
  }

  _resynced() {
    this.resyncing = false;
    clearTimeout(this._retry);
    this._retry = null;
  }

  _askSnapshot() {
    if (this.channel.readyState !== "open") return;
    const at = performance.now();
    if (at - this._askedAt < SNAPSHOT_RETRY_MS && this._retry !== null) return; // asked already
    this._askedAt = at;
    try {
      this.channel.send(JSON.stringify({ type: "snapshot" }));
      this.view.stats.snapshotRequests += 1;
    } catch {
      return; // closing: the next channel starts afresh
    }
    clearTimeout(this._retry);
    // Until a snapshot comes, ask again now and then (a request can cross a page unload).
    this._retry = setTimeout(() => {
      this._retry = null;
      if (this.resyncing && this.view.reader === this) this._askSnapshot();
    }, SNAPSHOT_RETRY_MS);
  }
}

function emptyStats() {
  return {
    channelOpenAt: null, // epoch ms, the first cobrowse channel of the session opened
    helloAt: null,
    firstEventAt: null,
    firstSnapshotAt: null, // the first full snapshot arrived whole
    firstPaintAt: null, // ... and was on screen
    lastEventAt: null,
    lastSeq: 0,
    events: 0,
    snapshots: 0,
    frames: 0,
    chars: 0, // characters of the text frames, JSON and all
    gaps: 0,
    snapshotRequests: 0,
  };
}

function isCount(value, min) {
  return Number.isInteger(value) && value >= min;
}

/** A string from the page for display, cut to a sane length; null if it is not one. */
function text(value) {
  return typeof value === "string" ? value.slice(0, MAX_TEXT) : null;
}

function size(value) {
  const { width, height } = value ?? {};
  return isCount(width, 1) && isCount(height, 1) ? { width, height } : null;
}
