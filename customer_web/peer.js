// One WebRTC connection of the widget to the agent of its session (docs/protocol.md §8.1, with
// the page instead of a screen): the widget offers, and its offer carries only data channels,
//
// * `cobrowse` (ordered, reliable): the page, recorded with rrweb (docs/cobrowse.md §2.1);
// * `annotations`: the agent's marks, validated as signaling/annotations.py does and drawn over
//   the page by overlay.js (docs/cobrowse.md, "Drawing"); anything invalid is ignored.
//
// Both are created before createOffer() so that the offer has an application section for them.
// While the customer shares their screen instead (cobrowse.js), the offer also carries one video
// section, send-only, with the captured screen: the console shows it as it shows a device's.
// Candidates are trickled both ways; the agent's may overtake its answer, so they wait for it.

import { parseAnnotation } from "./overlay.js";

export class WidgetPeer {
  /**
   * `session`: the `session.started` payload; `socket`: a DeviceSocket; `onChannel(channel)`:
   * the cobrowse channel opened; `onState(state)`: the connection's state changed;
   * `onAnnotation(message)`: a valid message from the agent's `annotations` channel; `screen`:
   * the customer's captured screen (a video track) to send, or null.
   */
  constructor(session, socket, { onChannel, onState, onAnnotation = () => {}, screen = null }) {
    this.sessionId = session.session_id;
    this.socket = socket;
    this.closed = false;
    this._answered = false;
    this._early = [];
    this.pc = new RTCPeerConnection({
      iceServers: Array.isArray(session.ice_servers) ? session.ice_servers : [],
      iceTransportPolicy: session.ice_transport_policy === "relay" ? "relay" : "all",
    });
    this.cobrowse = this.pc.createDataChannel("cobrowse", { ordered: true });
    this.annotations = this.pc.createDataChannel("annotations");
    if (screen) this.pc.addTransceiver(screen, { direction: "sendonly" });
    this.annotations.addEventListener("message", (event) => {
      const message = parseAnnotation(event.data);
      if (message && !this.closed) onAnnotation(message);
    });
    this.cobrowse.addEventListener("open", () => {
      if (!this.closed) onChannel(this.cobrowse);
    });
    this.pc.addEventListener("icecandidate", (event) => {
      // `null` is the end of our candidates; the server passes it on as a payload without one.
      const candidate = event.candidate ? event.candidate.toJSON() : null;
      this._send("rtc.ice", { session_id: this.sessionId, candidate: candidate && iceInit(candidate) });
    });
    this.pc.addEventListener("connectionstatechange", () => {
      const state = this.pc.connectionState;
      if (this.closed) return;
      if (state === "connected" || state === "disconnected" || state === "failed") {
        this._send("rtc.state", { session_id: this.sessionId, state });
      }
      onState(state);
    });
  }

  get state() {
    return this.pc.connectionState;
  }

  async offer() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    if (this.closed) return;
    await this.socket.request("rtc.offer", { session_id: this.sessionId, sdp: this.pc.localDescription.sdp });
  }

  async applyAnswer(sdp) {
    if (this.closed || this.pc.signalingState !== "have-local-offer") return;
    await this.pc.setRemoteDescription({ type: "answer", sdp });
    this._answered = true;
    for (const candidate of this._early.splice(0)) await this.addCandidate(candidate);
  }

  /** An agent's candidate (`RTCIceCandidateInit`), or none: the end of its candidates. */
  async addCandidate(candidate) {
    if (this.closed) return;
    if (!this._answered) {
      this._early.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate ?? undefined);
    } catch (error) {
      console.warn("mayday widget: a candidate was refused", error);
    }
  }

  close() {
    this.closed = true;
    this.pc.close();
  }

  _send(event, payload) {
    this.socket.request(event, payload).catch((error) => {
      if (!this.closed) console.warn(`mayday widget: ${event}`, error.message);
    });
  }
}

/** Only the fields the server accepts (§6.3 `rtc.ice`): browsers may add more one day. */
function iceInit(candidate) {
  return {
    candidate: candidate.candidate ?? "",
    sdpMid: candidate.sdpMid ?? null,
    sdpMLineIndex: candidate.sdpMLineIndex ?? null,
    usernameFragment: candidate.usernameFragment ?? null,
  };
}
