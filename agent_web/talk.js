// Talking to the customer: the microphone and camera buttons in the session bar and the
// self-view over the stage. The buttons show what media.js holds (it fires `change`).
//
// The microphone starts once the customer's picture is there (the first frame must not wait for
// a permission prompt), or after a few seconds without one, so talking never waits for video.

import { $, parts } from "./dom.js";

const MIC_FALLBACK_MS = 3000;

export class TalkBar {
  /** `root` holds the .mic-button and .cam-button; `selfview` is the agent's own camera tile. */
  constructor({ root, selfview, media, toasts }) {
    Object.assign(this, { selfview, media, toasts });
    Object.assign(this, parts(root, { micButton: ".mic-button", camButton: ".cam-button" }));
    this.sessionId = null;
    this._fallback = null;
    this.micButton.addEventListener("click", () => this.toggleMute());
    this.camButton.addEventListener("click", () => this.toggleCamera());
    media.addEventListener("change", () => this._render());
    this._render();
  }

  get active() {
    return this.sessionId !== null;
  }

  /** A session started: if the picture takes long (or never comes), start the microphone anyway. */
  start(sessionId) {
    this.sessionId = sessionId;
    clearTimeout(this._fallback);
    this._fallback = setTimeout(() => {
      this._fallback = null;
      if (this.sessionId === sessionId) this.startMic();
    }, MIC_FALLBACK_MS);
  }

  /** Session over: release the microphone and camera. */
  stop() {
    this.sessionId = null;
    clearTimeout(this._fallback);
    this._fallback = null;
    this.media.stopAll();
    this.selfview.srcObject = null;
    this.selfview.hidden = true;
  }

  startMic() {
    this.media.startMic().then(() => {
      if (this.media.micError && this.active) {
        this.toasts.show(`Talking is off: ${this.media.micError}.`, "warning", "Microphone", { key: "mic" });
      }
    });
  }

  toggleMute() {
    if (!this.active) return;
    if (!this.media.mic) {
      this.media.startMic().then(() => {
        if (this.media.micError) this.toasts.show(this.media.micError, "warning", "Microphone");
      });
      return;
    }
    this.media.setMuted(!this.media.muted);
  }

  async toggleCamera() {
    if (!this.active) return;
    try {
      await this.media.toggleCamera();
    } catch (error) {
      this.toasts.error("Camera", error);
    }
  }

  _render() {
    const { mic, muted, micError, camera } = this.media;
    const off = !mic || muted;
    this.micButton.classList.toggle("is-off", off);
    this.micButton.classList.toggle("is-warning", Boolean(micError));
    this.micButton.setAttribute("aria-pressed", String(muted));
    $("use", this.micButton).setAttribute("href", off ? "#i-mic-off" : "#i-mic");
    this.micButton.title = micError
      ? `Microphone unavailable: ${micError} (M to retry)`
      : !mic
        ? "Microphone starting…"
        : muted
          ? "Unmute your microphone (M)"
          : "Mute your microphone (M)";
    this.micButton.setAttribute("aria-label", muted ? "Unmute microphone" : "Mute microphone");
    this.camButton.classList.toggle("is-on", Boolean(camera));
    this.camButton.setAttribute("aria-pressed", String(Boolean(camera)));
    this.camButton.title = camera ? "Stop showing your camera (V)" : "Show your camera to the customer (V)";
    this.selfview.hidden = !camera;
    if ((this.selfview.srcObject?.getVideoTracks()[0] ?? null) !== camera) {
      this.selfview.srcObject = camera ? new MediaStream([camera]) : null;
    }
  }
}
