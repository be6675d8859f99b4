// What the agent is told about the customer's side of the session, as notices over the stage:
// screen sharing paused, areas hidden for privacy, the media connection interrupted, and the
// countdown while the customer's device (or page) reconnects.

const SECOND_MS = 1000;

export class PeerNotices {
  constructor({ notices, toasts }) {
    Object.assign(this, { notices, toasts });
    this._countdown = null;
    this.kind = "device"; // the session's kind: what the customer is on, for the wording
  }

  /** "device" or "web": the notices speak of the customer's device or of their page. */
  setKind(kind) {
    this.kind = kind === "web" ? "web" : "device";
  }

  get _side() {
    return this.kind === "web" ? "page" : "device";
  }

  /** Session over: no countdown runs on (the session clears the notices themselves). */
  stop() {
    clearInterval(this._countdown);
    this._countdown = null;
  }

  /** A status message from the device's data channel. */
  deviceStatus({ sharing_paused: paused, hidden_regions: hidden }) {
    if (paused) {
      this.notices.set("paused", "The customer paused screen sharing. The picture comes back when they resume.", "warning");
    } else {
      this.notices.remove("paused");
    }
    const count = Number(hidden) || 0;
    if (count > 0) {
      const areas = count === 1 ? "1 area is" : `${count} areas are`;
      this.notices.set("hidden", `${areas} hidden for privacy (e.g. a password field).`, "info");
    } else {
      this.notices.remove("hidden");
    }
  }

  /** The peer connection's state (rtc.js `state`). */
  mediaState(state) {
    if (state === "connected") {
      this.notices.remove("media");
    } else if (state === "disconnected") {
      this.notices.set("media", "The picture is interrupted; waiting for the connection to recover…", "warning");
    } else if (state === "failed") {
      this.notices.set("media", `The media connection failed; the customer's ${this._side} is reconnecting…`, "error");
    }
  }

  /** session.peer: the device lost its socket (with the grace period left) or is back. */
  sessionPeer({ peer, connected, grace_s: grace }) {
    if (peer !== "device") return;
    this.stop();
    if (connected) {
      this.notices.remove("peer");
      this.toasts.show(`The customer's ${this._side} is back.`, "success");
      return;
    }
    const until = performance.now() + (Number(grace) || 0) * SECOND_MS;
    const tick = () => {
      const left = Math.max(0, Math.ceil((until - performance.now()) / SECOND_MS));
      this.notices.set(
        "peer",
        left > 0
          ? `The customer is reconnecting… the session ends in ${left} s if they do not come back.`
          : "The customer did not come back; the session is ending.",
        "warning",
      );
    };
    tick();
    this._countdown = setInterval(tick, SECOND_MS);
  }
}
