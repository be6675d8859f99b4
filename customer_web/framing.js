// The `cobrowse` channel's wire format (docs/cobrowse.md §2.1): JSON text frames of at most
// 16 KiB, rrweb events cut into parts, sent no faster than the channel drains.
//
// 16 KiB is the message size every WebRTC stack accepts. A full snapshot of a large page is
// several MB, so it goes out as hundreds of frames; pushing them all at once would overflow the
// browser's send buffer (Chromium closes the channel when it passes 16 MB), hence the wait on
// `bufferedAmount` between frames.

export const MAX_FRAME_BYTES = 16 * 1024;
const HIGH_WATER_BYTES = 1024 * 1024; // stop handing frames to the channel above this…
const LOW_WATER_BYTES = 256 * 1024; // …and go on once it has drained below this

const encoder = new TextEncoder();

function utf8Length(text) {
  return encoder.encode(text).length;
}

function isHighSurrogate(code) {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * The frames of one event: `{type: "event", seq, part, parts, data}` as JSON texts of at most
 * `maxBytes` UTF-8 bytes, whose `data` pieces joined in order are `text`. A piece is measured
 * as JSON (quotes and backslashes double) and never ends inside a surrogate pair, so each piece
 * is a well-formed string on its own.
 */
export function eventFrames(seq, text, maxBytes = MAX_FRAME_BYTES) {
  // The envelope with the longest numbers the parts can have: what a frame costs besides its piece.
  const envelope = utf8Length(JSON.stringify({ type: "event", seq, part: 1e9, parts: 1e9, data: "" }));
  const budget = maxBytes - envelope;
  const pieces = [];
  let start = 0;
  while (start < text.length || pieces.length === 0) {
    let length = Math.min(budget, text.length - start);
    for (;;) {
      let end = start + length;
      if (end < text.length && end > start + 1 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
      const piece = text.slice(start, end);
      const size = utf8Length(JSON.stringify(piece)) - 2; // the quotes are in the envelope
      if (size <= budget) {
        pieces.push(piece);
        start = end;
        break;
      }
      // Too long once escaped or encoded: shrink in proportion and try again.
      length = Math.max(1, Math.floor((length * budget) / size) - 16);
    }
  }
  return pieces.map((data, part) => JSON.stringify({ type: "event", seq, part, parts: pieces.length, data }));
}

/**
 * What a sender keeps for a channel that is not open yet (recorder.js): a large page's snapshot
 * and the changes of a few seconds; past this the frames are dropped and the recording restarts.
 */
export const MAX_WAITING_CHARS = 32 * 1024 * 1024;

/**
 * Sends messages and rrweb events on one `cobrowse` channel, in order, with back-pressure (a
 * recording has one per channel: the agent's and each watcher's, recorder.js).
 * `seq` counts this channel's events from 1 (a new channel, a new count). Until `attach()` gives
 * it the channel, frames wait in its queue (at most MAX_WAITING_CHARS, else `overflowed`).
 */
export class FrameSender {
  constructor(channel = null) {
    this.channel = null;
    this.seq = 0;
    this.overflowed = false;
    this._stopped = false;
    this._queue = [];
    this._waitingChars = 0;
    this._pumping = false;
    if (channel) this.attach(channel);
  }

  get open() {
    return this.channel?.readyState === "open";
  }

  /** The channel to send on (open): what waited goes first. */
  attach(channel) {
    this.channel = channel;
    channel.bufferedAmountLowThreshold = LOW_WATER_BYTES;
    this._waitingChars = 0;
    if (!this._pumping) this._pump();
  }

  /** Nothing more to send: the recording stopped. */
  detach() {
    this._queue.length = 0;
    this._stopped = true;
  }

  /** A control message (`hello`, `page`, `leaving`): one frame. */
  sendMessage(message) {
    this._enqueue([JSON.stringify(message)]);
  }

  /** One rrweb event, in as many frames as it takes. */
  sendEvent(event) {
    this.sendEventText(JSON.stringify(event));
  }

  /** One rrweb event as its JSON text (a recording with several channels encodes it once). */
  sendEventText(text) {
    if (this.overflowed || this._stopped) return;
    this.seq += 1;
    this._enqueue(eventFrames(this.seq, text));
  }

  /**
   * For `pagehide`: hand the message to the channel now, since the page will not live through
   * another turn of the event loop. Only when nothing is queued, so no event is overtaken.
   */
  sendFinal(message) {
    if (!this.open) return;
    if (this._queue.length === 0) this.channel.send(JSON.stringify(message));
    else this._queue.push(JSON.stringify(message));
  }

  _enqueue(frames) {
    if (this.overflowed || this._stopped) return;
    if (this.channel === null) {
      for (const frame of frames) this._waitingChars += frame.length;
      if (this._waitingChars > MAX_WAITING_CHARS) {
        this._queue.length = 0;
        this.overflowed = true;
        return;
      }
      this._queue.push(...frames);
      return;
    }
    if (!this.open) return;
    this._queue.push(...frames);
    if (!this._pumping) this._pump();
  }

  async _pump() {
    this._pumping = true;
    try {
      while (this._queue.length > 0) {
        if (!this.open) {
          this._queue.length = 0; // the channel is gone; a new one starts with a new snapshot
          return;
        }
        if (this.channel.bufferedAmount > HIGH_WATER_BYTES) {
          await this._drained();
          continue;
        }
        this.channel.send(this._queue.shift());
      }
    } catch (error) {
      console.warn("mayday widget: the cobrowse channel failed", error);
      this._queue.length = 0;
    } finally {
      this._pumping = false;
    }
  }

  _drained() {
    return new Promise((resolve) => {
      const done = () => {
        this.channel.removeEventListener("bufferedamountlow", done);
        this.channel.removeEventListener("close", done);
        resolve();
      };
      this.channel.addEventListener("bufferedamountlow", done);
      this.channel.addEventListener("close", done);
    });
  }
}
