// Records the page with rrweb onto one open `cobrowse` channel (docs/cobrowse.md §2.1):
// `hello`, then rrweb's full snapshot and every change after it; `page` when the address, title
// or viewport changes; `leaving` when the page goes away. The agent's `snapshot` asks for a new
// full snapshot.
//
// rrweb's recorder is one per page (its state is module-wide), so a new channel (a new peer
// connection after a reload or a drop) stops the old recording and starts a new one, which
// begins with a new full snapshot on the new channel.
//
// A recording may start before its channel is open (cobrowse.js starts it while the connection
// is being set up): its frames wait in the recording, in memory, and go out in order once the
// channel is attached. A recording whose channel is slow to come and whose waiting frames pass
// MAX_WAITING_CHARS drops them and starts afresh on the channel when it comes.

import { record } from "rrweb";

import { FrameSender } from "./framing.js";
import { privacyOptions } from "./masking.js";
import { OVERLAY_TAG } from "./overlay.js";

const URL_CHECK_MS = 1000;

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
 * the recording until attachRecording() gives it its channel.
 */
export function startRecording(channel = null) {
  stopRecording();
  current = new Recording(channel);
  return current;
}

/** The cobrowse channel opened: the waiting recording goes out on it (or a new one starts). */
export function attachRecording(channel) {
  if (current && !current.attached && !current.sender.overflowed) current.attach(channel);
  else startRecording(channel);
}

export function stopRecording() {
  if (current) current.stop();
  current = null;
}

class Recording {
  constructor(channel) {
    this.channel = null;
    this.sender = new FrameSender();
    this.last = pageState();
    this._cleanups = [];
    this.sender.sendMessage({ type: "hello", v: 1, ...this.last });
    const privacy = privacyOptions();
    // The agent's marks (overlay.js) are the widget's own, like its panel: a blocked, empty 0×0
    // box, whose shadow root rrweb never looks into; the console draws its own copy.
    const blockSelector = `${privacy.blockSelector}, ${OVERLAY_TAG}`;
    this._stopRecord = record({
      emit: (event) => {
        if (!isStyleOfBlocked(event, blockSelector) && !isOfUnrecorded(event)) this.sender.sendEvent(event);
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
    this._onMessage = (event) => this._message(event.data);
    // The agent's side went away: stop observing the page until a new channel opens.
    this._onClose = () => {
      if (current === this) stopRecording();
    };
    this._watchPage();
    if (channel) this.attach(channel);
  }

  get attached() {
    return this.channel !== null;
  }

  /** The open channel: what waited goes out on it, in order, then everything as it comes. */
  attach(channel) {
    this.channel = channel;
    channel.addEventListener("message", this._onMessage);
    channel.addEventListener("close", this._onClose);
    this.sender.attach(channel);
  }

  stop() {
    this._stopRecord?.();
    this._stopRecord = null;
    this.channel?.removeEventListener("message", this._onMessage);
    this.channel?.removeEventListener("close", this._onClose);
    this.sender.detach();
    for (const cleanup of this._cleanups.splice(0)) cleanup();
  }

  /** The page is being unloaded: tell the agent before the channel goes with it. */
  leaving(reason) {
    this.sender.sendFinal({ type: "leaving", reason });
  }

  _message(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return; // not ours to understand; the agent's console speaks JSON only
    }
    if (message?.type === "snapshot" && this._stopRecord) record.takeFullSnapshot();
  }

  _watchPage() {
    const check = () => {
      const now = pageState();
      if (samePage(now, this.last)) return;
      this.last = now;
      this.sender.sendMessage({ type: "page", ...now });
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

/** The recording on the current channel, if any (for `leaving` at pagehide). */
export function currentRecording() {
  return current;
}
