// The screenshot button: keeps a still image of the customer's picture, as it is on the stage
// now (without the marks), with the session's record (POST /api/sessions/{id}/screenshots). It
// shows in the session's timeline and in the device's history (the Customer tab).
//
// Only a picture the console has can be kept: a device's screen, or a web customer's shared
// screen; a co-browsed page (a replay, no video) cannot. PNG, or JPEG if the PNG is too large.

const MAX_BYTES = 4 * 1024 * 1024; // the server's limit (server/rest.py SCREENSHOT_MAX_BYTES)

function encode(canvas, type, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

export class SnapshotButton extends EventTarget {
  /** `session()` is the running session's id or null. Event `kept` (detail: the screenshot). */
  constructor({ button, video, api, toasts, session }) {
    super();
    Object.assign(this, { button, video, api, toasts, session });
    this.busy = false;
    button.addEventListener("click", () => this.take());
  }

  /** Whether there is a picture to keep now. */
  available() {
    return Boolean(this.session()) && this.video.videoWidth > 0 && this.video.readyState >= 2;
  }

  async take() {
    const sessionId = this.session();
    if (!sessionId || this.busy) return;
    if (!this.available()) {
      this.toasts.show("There is no picture of the customer's screen to keep yet.", "warning", "No screenshot");
      return;
    }
    this.busy = true;
    this.button.disabled = true;
    try {
      const canvas = document.createElement("canvas");
      canvas.width = this.video.videoWidth;
      canvas.height = this.video.videoHeight;
      canvas.getContext("2d").drawImage(this.video, 0, 0, canvas.width, canvas.height);
      let image = await encode(canvas, "image/png");
      if (!image || image.size > MAX_BYTES) image = await encode(canvas, "image/jpeg", 0.85);
      if (!image) throw new Error("the picture could not be encoded");
      const shot = await this.api.post(`/api/sessions/${encodeURIComponent(sessionId)}/screenshots`, image);
      this.toasts.show("Kept with the session: it is in the timeline and the customer's history.", "info", "Screenshot saved");
      this.dispatchEvent(new CustomEvent("kept", { detail: shot }));
    } catch (error) {
      this.toasts.error("The screenshot was not saved", error);
    } finally {
      this.busy = false;
      this.button.disabled = false;
    }
  }
}
