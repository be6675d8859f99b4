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
//
// A connection can be made ahead of its session (`new WidgetPeer()` while the customer waits):
// a page's first RTCPeerConnection starts the browser's WebRTC machinery and its first offer waits
// for a DTLS certificate, together 30 to 70 ms that would otherwise come after the agent accepts.
// Nothing leaves the page until `bind()` gives it the session and `offer()` sends the offer: ICE
// gathering starts with setLocalDescription, after the session's ICE servers are set.
//
// A supervisor watching the session gets a connection of its own (`watcherId`, docs/cobrowse.md
// §2.3): the same two channels, its offer and candidates marked with the watcher's id. Its state
// is not reported (`rtc.state` is about the session's own connection); what comes on its
// `annotations` channel is handed on with the connection, and cobrowse.js decides (a supervisor
// who only watches draws nothing).

import { parseAnnotation } from "./overlay.js";

export class WidgetPeer {
  /**
   * `screen`: the customer's captured screen (a video track) to send, or null; `watcherId`: the
   * watching supervisor this connection is for, or null (the session's agent).
   */
  constructor({ screen = null, watcherId = null } = {}) {
    this.sessionId = null;
    this.watcherId = watcherId;
    this.socket = null;
    this.closed = false;
    this._handlers = { onChannel() {}, onState() {}, onAnnotation() {} };
    this._answered = false;
    this._early = [];
    this.pc = new RTCPeerConnection();
    this.cobrowse = this.pc.createDataChannel("cobrowse", { ordered: true });
    this.annotations = this.pc.createDataChannel("annotations");
    if (screen) this.pc.addTransceiver(screen, { direction: "sendonly" });
    this._offering = this.pc.createOffer();
    this._offering.catch(() => {}); // a peer closed before its offer was wanted
    this.annotations.addEventListener("message", (event) => {
      const message = parseAnnotation(event.data);
      if (message && !this.closed) this._handlers.onAnnotation(message);
    });
    this.cobrowse.addEventListener("open", () => {
      if (!this.closed) this._handlers.onChannel(this.cobrowse);
    });
    this.pc.addEventListener("icecandidate", (event) => {
      // `null` is the end of our candidates; the server passes it on as a payload without one.
      const candidate = event.candidate ? event.candidate.toJSON() : null;
      this._send("rtc.ice", this._marked({ session_id: this.sessionId, candidate: candidate && iceInit(candidate) }));
    });
    this.pc.addEventListener("connectionstatechange", () => {
      const state = this.pc.connectionState;
      if (this.closed) return;
      if (!this.watcherId && (state === "connected" || state === "disconnected" || state === "failed")) {
        this._send("rtc.state", { session_id: this.sessionId, state });
      }
      this._handlers.onState(state);
    });
  }

  /**
   * Give the connection its session (the `session.started` payload: id and ICE servers), the
   * DeviceSocket, and `onChannel(channel)` (the cobrowse channel opened), `onState(state)` (the
   * connection's state changed), `onAnnotation(message)` (a valid message from the agent).
   */
  bind(session, socket, handlers) {
    this.sessionId = session.session_id;
    this.socket = socket;
    Object.assign(this._handlers, handlers);
    this.pc.setConfiguration({
      iceServers: Array.isArray(session.ice_servers) ? session.ice_servers : [],
      iceTransportPolicy: session.ice_transport_policy === "relay" ? "relay" : "all",
    });
  }

  get state() {
    return this.pc.connectionState;
  }

  /** Whether the connection is still fresh: not bound to a session, no offer sent. */
  get unused() {
    return this.sessionId === null && !this.closed;
  }

  /**
   * Set the offer made ahead and send it. Resolves once it is on the socket, with `delivered`:
   * the server's answer to it (so the caller can do other work while the offer travels).
   */
  async offer() {
    const offer = await this._offering;
    if (this.closed) return null;
    await this.pc.setLocalDescription(offer);
    if (this.closed) return null;
    const message = this._marked({ session_id: this.sessionId, sdp: this.pc.localDescription.sdp });
    return { delivered: this.socket.request("rtc.offer", message) };
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

  /** A payload for the server, with the watcher's id on a watcher's connection. */
  _marked(payload) {
    return this.watcherId ? { ...payload, watcher_id: this.watcherId } : payload;
  }

  _send(event, payload) {
    if (!this.socket) return;
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
