// The WebRTC side of one session: answer the device's offers, trickle ICE, report the state.
//
// The device is always the offerer (docs §8): it offers its screen (video, sent by the device), a
// send-and-receive audio slot (our microphone out, the customer's voice in once they tap "Talk";
// an older device offers it receive-only), a receive-only video slot (our camera) and opens the
// `annotations` data channel. A web page's widget (docs/cobrowse.md) is the offerer too and
// opens the `cobrowse` channel beside `annotations`, with the page instead of a screen. A new
// rtc.offer can arrive at any time (the device reconnected, its connection failed, our socket was
// replaced): each one is answered on a fresh RTCPeerConnection and the old one is closed, which is
// simpler and more robust than trying to apply a new offer to a connection in an unknown state.
//
// A widget's offer carries a video section only while the customer shares their screen instead
// of the page (docs/cobrowse.md §5.1): `offer` says, for every offer answered, whether it has one.
//
// Events: `screen` {track}, `channel` {channel} (annotations), `cobrowse` {channel}, `state` {state},
// `offer` {video}.

import { COBROWSE_CHANNEL } from "./cobrowse.js";

const ANNOTATION_CHANNEL = "annotations";
const REPORTED_STATES = new Set(["connected", "disconnected", "failed"]);

export class MediaLink extends EventTarget {
  constructor({ signaling, sessionId, iceServers, media, onError }) {
    super();
    this.signaling = signaling;
    this.sessionId = sessionId;
    this.iceServers = cleanIceServers(iceServers);
    this.media = media;
    this.onError = onError ?? ((what, error) => console.error(what, error));
    this.pc = null;
    this._queue = Promise.resolve();
    this._pendingIce = [];
    this._remoteSet = false;
    this._generation = 0;
    this._senders = { mic: null, camera: null };
    this._onMedia = () => this._syncLocalTracks();
    media.addEventListener("change", this._onMedia);
  }

  /** rtc.offer for this session. Offers are answered strictly one after another. */
  handleOffer(sdp) {
    // From now on, remote candidates belong to the connection this offer creates.
    const generation = ++this._generation;
    this._pendingIce = [];
    this._remoteSet = false;
    this._queue = this._queue
      .then(() => (generation === this._generation ? this._answer(sdp, generation) : undefined))
      .catch((error) => this.onError("Could not answer the customer's device", error));
    return this._queue;
  }

  /** A resumed session.started carries fresh TURN credentials; the next connection uses them. */
  setIceServers(servers) {
    this.iceServers = cleanIceServers(servers);
  }

  /** rtc.ice from the device (most devices gather everything into the offer and send none). */
  handleIce(candidate) {
    if (!candidate || !candidate.candidate) return; // end of candidates: nothing to do
    if (!this.pc || !this._remoteSet) {
      this._pendingIce.push(candidate);
      return;
    }
    this.pc.addIceCandidate(candidate).catch((error) => console.warn("remote candidate refused", error));
  }

  close() {
    this.media.removeEventListener("change", this._onMedia);
    this._generation++;
    this._pendingIce = [];
    this._closePc();
  }

  // --- internals ------------------------------------------------------------------------------

  async _answer(sdp, generation) {
    this._closePc();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: "max-bundle" });
    this.pc = pc;
    // Superseded by a newer offer (or the session ended): ignore everything this pc does.
    const current = () => this.pc === pc && this._generation === generation;

    pc.addEventListener("track", (event) => {
      if (!current()) return;
      if (event.track.kind === "audio") {
        this._playCustomer(event.track);
        return;
      }
      if (event.track.kind !== "video") return;
      // The screen is the first video m-line; the second is the slot for our own camera.
      const firstVideo = pc.getTransceivers().find((t) => t.receiver.track.kind === "video");
      if (event.transceiver === firstVideo) {
        this.dispatchEvent(new CustomEvent("screen", { detail: { track: event.track } }));
      }
    });
    pc.addEventListener("datachannel", ({ channel }) => {
      if (!current()) return;
      if (channel.label === ANNOTATION_CHANNEL) this.dispatchEvent(new CustomEvent("channel", { detail: { channel } }));
      else if (channel.label === COBROWSE_CHANNEL) this.dispatchEvent(new CustomEvent("cobrowse", { detail: { channel } }));
    });
    // Our candidates must not overtake the answer on the socket (the device applies them to it).
    let answered = false;
    const early = [];
    const sendCandidate = (candidate) =>
      this._send("rtc.ice", { session_id: this.sessionId, candidate: candidateInit(candidate) });
    pc.addEventListener("icecandidate", (event) => {
      if (!current()) return;
      if (answered) sendCandidate(event.candidate);
      else early.push(event.candidate);
    });
    pc.addEventListener("connectionstatechange", () => {
      if (!current()) return;
      const state = pc.connectionState;
      this.dispatchEvent(new CustomEvent("state", { detail: { state } }));
      if (REPORTED_STATES.has(state)) this._send("rtc.state", { session_id: this.sessionId, state });
    });

    await pc.setRemoteDescription({ type: "offer", sdp });
    if (!current()) return;
    this._remoteSet = true;
    this.dispatchEvent(new CustomEvent("offer", { detail: { video: /^m=video /m.test(sdp) } }));
    this._bindLocalSlots(pc);
    await pc.setLocalDescription(await pc.createAnswer());
    if (!current()) return;
    for (const candidate of this._pendingIce.splice(0)) {
      pc.addIceCandidate(candidate).catch((error) => console.warn("remote candidate refused", error));
    }
    // Answer first, microphone later: the first frame must not wait for a permission prompt.
    const acked = this.signaling.request("rtc.answer", { session_id: this.sessionId, sdp: pc.localDescription.sdp });
    answered = true;
    for (const candidate of early.splice(0)) sendCandidate(candidate);
    await acked;
  }

  /**
   * Turn the device's receive-only slots into our send slots. They are made sendonly even without
   * a track yet, so the microphone or camera can be attached later with replaceTrack alone.
   */
  _bindLocalSlots(pc) {
    const transceivers = pc.getTransceivers();
    const audio = transceivers.find((t) => t.receiver.track.kind === "audio");
    const videos = transceivers.filter((t) => t.receiver.track.kind === "video");
    const camera = videos[1];
    this._senders = { mic: audio?.sender ?? null, camera: camera?.sender ?? null };
    // sendrecv: the answer narrows it to sendonly for a device that offered receive-only.
    if (audio) audio.direction = "sendrecv";
    if (camera) camera.direction = "sendonly";
    this._syncLocalTracks();
  }

  /** The customer's voice: silent until they tap "Talk" on their side. One element, reused. */
  _playCustomer(track) {
    if (!this._customerAudio) {
      this._customerAudio = new Audio();
      this._customerAudio.autoplay = true;
    }
    this._customerAudio.srcObject = new MediaStream([track]);
    this._customerAudio.play().catch((error) => console.warn("customer audio not playing", error));
  }

  _syncLocalTracks() {
    const pairs = [
      [this._senders.mic, this.media.mic],
      [this._senders.camera, this.media.camera],
    ];
    for (const [sender, track] of pairs) {
      if (sender && sender.track !== track) {
        sender.replaceTrack(track).catch((error) => console.warn("replaceTrack failed", error));
      }
    }
  }

  _send(event, payload) {
    this.signaling.request(event, payload).catch((error) => {
      // A stale session (ended meanwhile) is not worth a toast; anything else is.
      if (error.code !== "not_found") this.onError(`${event} was refused`, error);
    });
  }

  _closePc() {
    const pc = this.pc;
    this.pc = null;
    this._senders = { mic: null, camera: null };
    if (this._customerAudio) this._customerAudio.srcObject = null;
    if (pc) pc.close();
  }
}

/** RTCIceCandidate → the RTCIceCandidateInit the server accepts (no other fields), or null. */
function candidateInit(candidate) {
  if (!candidate) return null;
  const init = candidate.toJSON();
  return {
    candidate: init.candidate ?? "",
    sdpMid: init.sdpMid ?? null,
    sdpMLineIndex: init.sdpMLineIndex ?? null,
    usernameFragment: init.usernameFragment ?? null,
  };
}

/** Drop null members: a browser would turn `credential: null` into the string "null". */
function cleanIceServers(servers) {
  return (servers ?? []).map((server) =>
    Object.fromEntries(Object.entries(server).filter(([, value]) => value !== null && value !== undefined)),
  );
}
