// Records the page with rrweb onto every open `cobrowse` channel (docs/cobrowse.md §2.1): the
// session agent's and each watching supervisor's (docs/cobrowse.md §2.3). Each channel gets
// `hello`, then a full snapshot and every change after it; `page` when the address, title or
// viewport changes; `leaving` when the page goes away. A channel's `snapshot` asks for a new full
// snapshot, for that channel alone.
//
// rrweb's recorder is one per page (its state is module-wide), so there is one recording, fanned
// out: a sender per channel (framing.js), each with its own `seq` and its own back-pressure, so a
// slow watcher never holds up the agent. A channel that opens while the recording runs gets its
// own `hello` and a full snapshot taken for it alone (`record.takeFullSnapshot()`, whose Meta and
// FullSnapshot events go to that channel only; the channels already open go on with the changes,
// and rrweb keeps every node's id, so their replays stay valid). When the last channel is gone the
// recording stops, until a channel opens again.
//
// A recording may start before its channel is open (cobrowse.js starts it for the agent's while
// the connection is being set up): its frames wait in that channel's sender, in memory, and go out
// in order once the channel is attached. A sender whose channel is slow to come and whose waiting
// frames pass MAX_WAITING_CHARS drops them; the channel, when it comes, gets a full snapshot of
// its own (or a new recording, if it is the only one).

import { record } from "rrweb";

import { FrameSender } from "./framing.js";
import { privacyOptions } from "./masking.js";
import { OVERLAY_TAG } from "./overlay.js";

const URL_CHECK_MS = 1000;

/** The key of the session agent's channel; a watcher's is its id. */
export const AGENT = "agent";

function pageState() {
  return {
    url: location.href,
    title: document.title,
    viewport: { width: window.innerWidth, height: window.innerHeight },
  };
}

function samePage(a, b) {
  return (
    a.url === b.url &&
    a.title === b.title &&
    a.viewport.width === b.viewport.width &&
    a.viewport.height === b.viewport.height
  );
}

let current = null;

/**
 * Start recording, replacing any earlier recording, onto `channel` (open) or, without one, into
 * a sender for `key` that waits until openChannel() gives it its channel.
 */
export function startRecording(channel = null, key = AGENT) {
  stopRecording();
  current = new Recording(key, channel);
  return current;
}

/**
 * The cobrowse channel of `key` (the agent's, or a watcher's id) opened: what waited for it goes
 * out on it, or it joins the running recording with a snapshot of its own, or a recording starts.
 */
export function openChannel(channel, key = AGENT) {
  if (current?.join(key, channel)) return;
  startRecording(channel, key);
}

/** The agent's cobrowse channel opened (the recording started at the ring goes out on it). */
export function attachRecording(channel) {
  openChannel(channel, AGENT);
}

/** `key`'s channel is gone (or being replaced): its sender goes; the recording with the last. */
export function closeChannel(key) {
  if (current && !current.drop(key)) stopRecording();
}

export function stopRecording() {
  if (current) current.stop();
  current = null;
}

class Recording {
  constructor(key, channel) {
    this.senders = new Map(); // key → {sender, channel, onMessage, onClose}
    this.last = pageState();
    this._snapshotFor = null; // the sender a full snapshot being taken is for, else all
    this._cleanups = [];
    const first = this._add(key, channel).sender;
    const privacy = privacyOptions();
    // The agent's marks (overlay.js) are the widget's own, like its panel: a blocked, empty 0×0
    // box, whose shadow root rrweb never looks into; the console draws its own copy.
    const blockSelector = `${privacy.blockSelector}, ${OVERLAY_TAG}`;
    this._snapshotFor = first; // rrweb's first full snapshot, taken in record()
    this._stopRecord = record({
      emit: (event) => {
        if (!isStyleOfBlocked(event, blockSelector) && !isOfUnrecorded(event)) this._emit(event);
      },
      ...privacy,
      blockSelector,
      // Fewer, coarser events for what the agent only needs roughly: the pointer, scrolling.
      // Input is not sampled: rrweb's "last" waits for `change` (the field losing focus), and
      // the agent should see the customer type.
      sampling: { mousemove: 50, scroll: 100 },
      errorHandler: (error) => {
        console.warn("mayday widget: recording", error);
        return true; // handled: keep recording the rest of the page
      },
    });
    this._snapshotFor = null;
    this._watchPage();
  }

  /** Whether any sender has its channel (a recording only waiting for one has none). */
  get attached() {
    for (const entry of this.senders.values()) if (entry.channel) return true;
    return false;
  }

  /** The keys of the channels this recording goes to (or waits for). */
  get keys() {
    return [...this.senders.keys()];
  }

  /**
   * `key`'s channel opened: its waiting sender goes out on it, or (another channel is open
   * already) it gets a sender and a full snapshot of its own. False: nothing to join (a new
   * recording is the way, as for a first channel whose waiting frames overflowed).
   */
  join(key, channel) {
    const waiting = this.senders.get(key);
    if (waiting && !waiting.channel && !waiting.sender.overflowed) {
      this._attach(waiting, channel);
      return true;
    }
    this.drop(key);
    const live = [...this.senders.values()].some((entry) => !entry.sender.overflowed);
    if (!live || !this._stopRecord) return false;
    this._snapshot(this._add(key, channel).sender);
    return true;
  }

  /** `key`'s sender goes; false when no sender is left (the recording has nobody to go to). */
  drop(key) {
    const entry = this.senders.get(key);
    if (entry) {
      this.senders.delete(key);
      this._release(entry);
    }
    return this.senders.size > 0;
  }

  stop() {
    this._stopRecord?.();
    this._stopRecord = null;
    for (const entry of this.senders.values()) this._release(entry);
    this.senders.clear();
    for (const cleanup of this._cleanups.splice(0)) cleanup();
  }

  /** The page is being unloaded: tell everyone watching before the channels go with it. */
  leaving(reason) {
    for (const { sender } of this.senders.values()) sender.sendFinal({ type: "leaving", reason });
  }

  _add(key, channel) {
    const entry = { key, sender: new FrameSender(), channel: null, onMessage: null, onClose: null };
    this.senders.set(key, entry);
    entry.sender.sendMessage({ type: "hello", v: 1, ...pageState() });
    if (channel) this._attach(entry, channel);
    return entry;
  }

  /** The open channel: what waited goes out on it, in order, then everything as it comes. */
  _attach(entry, channel) {
    entry.channel = channel;
    entry.onMessage = (event) => this._message(entry, event.data);
    // That side went away: its sender goes; with the last, the page is no longer observed.
    entry.onClose = () => {
      if (current === this && this.senders.get(entry.key) === entry) closeChannel(entry.key);
    };
    channel.addEventListener("message", entry.onMessage);
    channel.addEventListener("close", entry.onClose);
    entry.sender.attach(channel);
  }

  _release(entry) {
    entry.channel?.removeEventListener("message", entry.onMessage);
    entry.channel?.removeEventListener("close", entry.onClose);
    entry.sender.detach();
  }

  /** One rrweb event: to every sender, but a full snapshot only to the one it is taken for. */
  _emit(event) {
    const text = JSON.stringify(event);
    const only = this._snapshotFor && (event.type === FULL_SNAPSHOT || event.type === META);
    if (only) {
      this._snapshotFor.sendEventText(text);
      return;
    }
    for (const { sender } of this.senders.values()) sender.sendEventText(text);
  }

  /** A full snapshot of the page for `sender` alone (the others have theirs). */
  _snapshot(sender) {
    if (!this._stopRecord) return;
    this._snapshotFor = sender;
    try {
      record.takeFullSnapshot();
    } catch (error) {
      // rrweb has not started yet (a page still loading): its first snapshot goes to everyone.
      console.warn("mayday widget: no snapshot for the new channel yet", error.message);
    } finally {
      this._snapshotFor = null;
    }
  }

  _message(entry, data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return; // not ours to understand; the consoles speak JSON only
    }
    if (message?.type === "snapshot" && this.senders.get(entry.key) === entry) this._snapshot(entry.sender);
  }

  _watchPage() {
    const check = () => {
      const now = pageState();
      if (samePage(now, this.last)) return;
      this.last = now;
      for (const { sender } of this.senders.values()) sender.sendMessage({ type: "page", ...now });
    };
    // Resizes and history moves have events; a title change is a DOM change in <head>. A
    // pushState() has no event at all, and patching history would meddle with the page's own
    // router, so the address is also compared once a second (a string comparison).
    for (const name of ["resize", "popstate", "hashchange"]) {
      window.addEventListener(name, check);
      this._cleanups.push(() => window.removeEventListener(name, check));
    }
    if (document.head) {
      const titles = new MutationObserver(check);
      titles.observe(document.head, { childList: true, subtree: true, characterData: true });
      this._cleanups.push(() => titles.disconnect());
    }
    const timer = setInterval(check, URL_CHECK_MS);
    this._cleanups.push(() => clearInterval(timer));
  }
}

const FULL_SNAPSHOT = 2; // rrweb's EventType.FullSnapshot
const META = 4; // rrweb's EventType.Meta
const INCREMENTAL = 3; // rrweb's EventType.IncrementalSnapshot
const ADOPTED_STYLE_SHEET = 15; // rrweb's IncrementalSource.AdoptedStyleSheet

/**
 * Whether `event` carries the style sheets adopted by the shadow root of a blocked element. rrweb
 * sends those although it shows nothing of what they style: for the widget's own panel, 6 kB of
 * its CSS with every snapshot, for nothing.
 */
function isStyleOfBlocked(event, blockSelector) {
  if (event.type !== INCREMENTAL || event.data?.source !== ADOPTED_STYLE_SHEET) return false;
  const host = record.mirror.getNode(event.data.id);
  return host?.nodeType === Node.ELEMENT_NODE && host.closest(blockSelector) !== null;
}

/**
 * Whether `event` is about a node the recording does not have (id -1): the widget's own fields
 * and buttons, in its shadow root. rrweb's blockSelector does not reach into a shadow root from
 * an event's target, so it reports what the customer types into the widget's chat (masked, but
 * counted) and clicks there, for an element the replay cannot show: dropped here.
 */
function isOfUnrecorded(event) {
  return event.type === INCREMENTAL && event.data?.id === -1;
}

/** The recording, if any (for `leaving` at pagehide). */
export function currentRecording() {
  return current;
}
