// The customer's live screen on the stage: the <video> showing the track rtc.js receives, and the
// "Connecting…" overlay until its first frame is there.
//
// A web customer's page is a replay instead (cobrowse.js), unless they share their whole screen
// instead: then the <video> shows it as it would a device's, with a label saying whose screen it is.
//
// Events: `firstframe` once per session, when the picture first shows.

import { parts } from "./dom.js";

/** After a re-offer, how long to keep the old picture if the new track never unmutes. */
const SWAP_FALLBACK_MS = 3000;

export class ScreenView extends EventTarget {
  /** `root` is the #stage holding the .stage-wait overlay; `video` the #screen element. */
  constructor({ root, video, annotator }) {
    super();
    Object.assign(this, { video, annotator });
    Object.assign(this, parts(root, { wait: ".stage-wait", waitText: ".stage-wait-text" }));
    this._firstFrame = false;
    this.label = document.createElement("div");
    this.label.className = "screen-label";
    this.label.hidden = true;
    root.append(this.label);
  }

  /** A label over the picture (e.g. "Customer's screen"), or none with null. */
  setLabel(text) {
    this.label.textContent = text ?? "";
    this.label.hidden = !text;
  }

  /** A session started: wait for its picture. */
  start() {
    this._firstFrame = false;
    this.showWait("Connecting to the customer's screen…");
  }

  stop() {
    this.video.srcObject = null;
    this.setLabel(null);
  }

  showWait(text) {
    this.waitText.textContent = text;
    this.wait.hidden = false;
  }

  /** The picture is there by other means (a web page's replay). */
  hideWait() {
    this.wait.hidden = true;
  }

  /**
   * Show the screen track. `stillReceived(track)` says whether the session still receives it,
   * for a track that is only shown later.
   */
  show(track, stillReceived) {
    if (this.video.srcObject && track.muted) {
      // A re-offer: keep the last picture of the old connection until the new one has media,
      // rather than blanking the screen while ICE and DTLS run again.
      const swap = () => {
        clearTimeout(fallback);
        track.removeEventListener("unmute", swap);
        if (stillReceived(track)) this._attach(track);
      };
      const fallback = setTimeout(swap, SWAP_FALLBACK_MS);
      track.addEventListener("unmute", swap);
      return;
    }
    this._attach(track);
  }

  _attach(track) {
    const video = this.video;
    video.srcObject = new MediaStream([track]);
    const shown = () => {
      if (video.srcObject?.getVideoTracks()[0] !== track) return;
      if (!this._firstFrame) {
        this._firstFrame = true;
        this.dispatchEvent(new CustomEvent("firstframe"));
      }
      this.wait.hidden = true;
      this.annotator.requestRender();
    };
    if (typeof video.requestVideoFrameCallback === "function") {
      video.requestVideoFrameCallback(shown);
    } else {
      video.addEventListener("loadeddata", shown, { once: true });
    }
    video.play().catch(() => {
      // Autoplay of a muted video is always allowed; a failure here means no frames yet.
    });
  }
}
