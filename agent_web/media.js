// The agent's own microphone and (optional) camera.
//
// The device offers a receive-only audio slot and a second receive-only video slot for these, so
// they can be started, muted or stopped at any time with replaceTrack, without a new offer (agents
// never offer). Neither is required: without a microphone the agent still sees, draws and chats.
//
// Events: `change` whenever a track appears, goes or is muted.

export class LocalMedia extends EventTarget {
  constructor() {
    super();
    this.mic = null;
    this.camera = null;
    this.muted = true;
    this.micError = null;
    this._micRequest = null;
    // Bumped by stopAll(): a permission prompt answered after the session ended must not leave
    // a live microphone or camera behind.
    this._generation = 0;
  }

  /** Ask for the microphone once per session; resolves when it is there or has failed. */
  startMic() {
    if (this.mic || this._micRequest) return this._micRequest ?? Promise.resolve(this.mic);
    if (!navigator.mediaDevices) {
      this.micError = describe(null, "microphone");
      this._changed();
      return Promise.resolve(null);
    }
    const generation = this._generation;
    this._micRequest = navigator.mediaDevices
      .getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } })
      .then((stream) => {
        if (generation !== this._generation) {
          for (const track of stream.getTracks()) track.stop();
          return null;
        }
        this.mic = stream.getAudioTracks()[0] ?? null;
        if (this.mic) this.mic.enabled = !this.muted;
        this.micError = null;
        return this.mic;
      })
      .catch((error) => {
        if (generation === this._generation) this.micError = describe(error, "microphone");
        return null;
      })
      .finally(() => {
        if (generation !== this._generation) return;
        this._micRequest = null;
        this._changed();
      });
    return this._micRequest;
  }

  setMuted(muted) {
    this.muted = muted;
    // Muting disables the track rather than removing it: silence is sent at once, and unmuting
    // needs no new permission prompt or sender change.
    if (this.mic) this.mic.enabled = !muted;
    this._changed();
  }

  async toggleCamera() {
    if (this.camera) {
      this.camera.stop();
      this.camera = null;
      this._changed();
      return null;
    }
    if (!navigator.mediaDevices) throw new Error(describe(null, "camera"));
    const generation = this._generation;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 15 } },
      });
      if (generation !== this._generation) {
        for (const track of stream.getTracks()) track.stop();
        return null;
      }
      this.camera = stream.getVideoTracks()[0] ?? null;
      this._changed();
      return this.camera;
    } catch (error) {
      throw new Error(describe(error, "camera"));
    }
  }

  /** Session over: release the devices so the browser's recording indicator goes off. */
  stopAll() {
    this._generation += 1;
    this._micRequest = null;
    this.mic?.stop();
    this.camera?.stop();
    this.mic = null;
    this.camera = null;
    this.micError = null;
    this.muted = true; // every session starts muted: the agent speaks when they choose to (M)
    this._changed();
  }

  _changed() {
    this.dispatchEvent(new CustomEvent("change"));
  }
}

function describe(error, what) {
  if (!navigator.mediaDevices) return `no ${what} access on this page (it needs https or localhost)`;
  switch (error?.name) {
    case "NotAllowedError":
      return `the browser was not allowed to use the ${what}`;
    case "NotFoundError":
      return `no ${what} was found`;
    case "NotReadableError":
      return `the ${what} is in use by another program`;
    default:
      return `the ${what} could not be started (${error?.message ?? error})`;
  }
}
