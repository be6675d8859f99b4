// The media side of a session: one peer connection to the agent at a time (and one to each
// watching supervisor, below), the agent's offered again whenever the old one
// cannot carry the page any more (docs/protocol.md §8.1 step 8 and §9):
//
// * a new or resumed session whose connection is not up (after a reload there is none);
// * the agent came back or reloaded its console (`session.peer` connected): it has no connection;
// * the connection failed, or stayed disconnected for 2 s;
// * it has not come up 10 s after its offer while the socket is up: the offer or the answer was
//   lost while a socket moved to another server process (such a connection never fails), or the
//   answer applied is that of a connection the agent closed since (the offer reached it twice).
//
// Each new connection's `cobrowse` channel starts with a new full snapshot: a new recording, or
// one taken for it alone in the running recording while watchers' channels are open. The
// agent's marks (overlay.js) belong to the session, not to one connection: they stay over the page
// through a re-offer, as they do on a device, and go when the session ends.
//
// The first connection of a session is made while the customer waits (peer.js says why), and
// the page's recording starts when an agent is being rung for the customer (`ringing`), or else
// once the offer has reached the server, not when the channel opens: rrweb's full snapshot of a
// large page takes tens of milliseconds of the page's main thread, which then pass while the
// agent decides, or while the agent's console answers. Its frames wait in the recording until the
// channel opens (recorder.js): nothing leaves the page before. Nothing is recorded while the
// customer only waits in the queue.
//
// "Share my screen instead" (docs/cobrowse.md §5.1): the customer's captured screen goes out as
// the connection's video, on a fresh connection offered with it (the console answers every offer
// on a fresh connection, as it does for a device's restart). Stopping it, from the panel or from
// the browser's own "Stop sharing", offers once more without it: back to the page alone. The
// page's recording goes on meanwhile, so the console has the page again the moment it ends.
//
// Supervisors watching the session (`session.watchers`, docs/cobrowse.md §2.3) get connections of
// their own (watchers.js), fed from the same recording: a re-offer of the agent's connection
// replaces only the agent's channel in it, and a joined watcher's marks go into the same overlay.
// They see the page, never the shared screen, and they never get control.

import { PageOverlay } from "./overlay.js";
import { WidgetPeer } from "./peer.js";
import { AGENT, attachRecording, closeChannel, currentRecording, startRecording, stopRecording } from "./recorder.js";
import { WatcherConnections } from "./watchers.js";

const RECONNECT_OFFER_DELAY_MS = 2000;
const OFFER_ANSWER_TIMEOUT_MS = 10000;

export class Cobrowse {
  /**
   * `socket`: the DeviceSocket; `onState(state)`: the current connection's state changed;
   * `onScreen(sharing)`: the customer's screen started or stopped going out.
   */
  constructor(socket, onState, onScreen = () => {}) {
    this.socket = socket;
    this.onState = onState;
    this.onScreen = onScreen;
    this.screen = null; // the captured screen's video track while it is shared
    this.session = null;
    this.peer = null;
    this._timer = null;
    this._unanswered = null; // offers again if the current connection does not come up
    this.overlay = null; // the agent's marks over the page, made with the first one
    this._spare = null; // a connection made ahead for the next offer (peer.js)
    this.watchers = new WatcherConnections(socket, (message) => this._draw(message));
  }

  /**
   * An agent is being rung for the customer (true), or the ring is over without a session
   * (false): the page's recording starts ahead, or a recording that never got its channel stops.
   */
  ringing(on) {
    if (this.session) return; // in a session, the connection's recording is the one
    const waiting = currentRecording();
    if (on && !waiting) startRecording();
    else if (!on && waiting && !waiting.attached) stopRecording();
  }

  /** Make the next connection ahead, while the customer waits for an agent. */
  prepare() {
    if (this._spare?.unused || this.screen) return;
    try {
      this._spare = new WidgetPeer();
    } catch (error) {
      this._spare = null; // made when needed instead, and failing there with a message
      console.warn("mayday widget: no connection made ahead", error.message);
    }
  }

  /** `session.started` (new or resumed): keep a connection that is still up, else offer. */
  async start(session) {
    const same = this.session?.session_id === session.session_id;
    if (!same) {
      this.overlay?.destroy(); // another session's marks
      this.overlay = null;
      this.watchers.close(); // and its watchers
    }
    this.session = session;
    if (same && this.peer?.state === "connected") return;
    await this.offer();
  }

  async offer() {
    if (!this.session) return;
    this._stopMedia();
    const spare = this._spare;
    this._spare = null;
    const peer = !this.screen && spare?.unused ? spare : new WidgetPeer({ screen: this.screen });
    if (spare && spare !== peer) spare.close();
    peer.bind(this.session, this.socket, {
      onChannel: (channel) => {
        if (this.peer === peer) attachRecording(channel);
      },
      onState: (state) => this._state(peer, state),
      onAnnotation: (message) => {
        if (this.peer === peer) this._draw(message);
      },
    });
    this.peer = peer;
    try {
      const sent = await peer.offer();
      if (!sent) return;
      clearTimeout(this._unanswered);
      this._unanswered = setTimeout(() => {
        const up = peer.state !== "new" && peer.state !== "connecting";
        if (this.peer === peer && !up && this.socket.connected) this.offer();
      }, OFFER_ANSWER_TIMEOUT_MS);
      await sent.delivered;
      // The agent's console answers now: the snapshot is taken meanwhile (if not at the ring).
      if (this.peer === peer && !currentRecording()) startRecording();
    } catch (error) {
      // A session that ended meanwhile, or the socket is down: the resume offers again.
      console.warn("mayday widget: the offer was not delivered", error.message);
    }
  }

  async answer(data) {
    if (data.watcher_id != null) await this.watchers.answer(data);
    else if (this._current(data)) await this.peer.applyAnswer(String(data.sdp ?? ""));
  }

  async ice(data) {
    if (data.watcher_id != null) await this.watchers.ice(data);
    else if (this._current(data)) await this.peer.addCandidate(data.candidate ?? null);
  }

  /** `session.watchers`: who watches this session now (an empty list: nobody any more). */
  watchersChanged(data) {
    this.watchers.update(this.session, data);
  }

  get sharingScreen() {
    return this.screen !== null;
  }

  /** Send `track` (from getDisplayMedia) instead of the page: offered on a fresh connection. */
  async shareScreen(track) {
    if (!this.session) {
      track.stop();
      return;
    }
    this._dropScreen();
    this.screen = track;
    if ("contentHint" in track) track.contentHint = "detail";
    // The browser's own "Stop sharing" (or the screen went away): as if the customer stopped.
    track.addEventListener("ended", () => {
      if (this.screen === track) this.stopScreen();
    });
    this.onScreen(true);
    await this.offer();
  }

  /** Back to the page alone. */
  async stopScreen() {
    if (!this._dropScreen()) return;
    if (this.session) await this.offer();
  }

  /** The page is being unloaded (pagehide): tell the agent, if it is watching. */
  leaving(reason) {
    currentRecording()?.leaving(reason);
  }

  stop() {
    this.session = null;
    this.watchers.close();
    this._spare?.close();
    this._spare = null;
    this._dropScreen();
    this._stopMedia();
    this.overlay?.destroy();
    this.overlay = null;
  }

  /** A valid mark of the agent or of a joined watcher, over the page. */
  _draw(message) {
    if (!this.session) return;
    this.overlay ??= new PageOverlay(document);
    this.overlay.apply(message);
  }

  _current(data) {
    return this.peer !== null && this.session !== null && data.session_id === this.session.session_id;
  }

  _state(peer, state) {
    if (peer !== this.peer) return;
    this.onState(state);
    clearTimeout(this._timer);
    if (state === "failed") {
      this.offer();
    } else if (state === "disconnected") {
      // Networks hiccup: give the connection a moment to recover before starting over.
      this._timer = setTimeout(() => {
        if (this.peer === peer && peer.state !== "connected") this.offer();
      }, RECONNECT_OFFER_DELAY_MS);
    }
  }

  /** Stop capturing; true if a screen was shared. */
  _dropScreen() {
    const track = this.screen;
    if (!track) return false;
    this.screen = null;
    track.stop();
    this.onScreen(false);
    return true;
  }

  _stopMedia() {
    clearTimeout(this._timer);
    clearTimeout(this._unanswered);
    const peer = this.peer;
    // The old connection's channel leaves the recording (which goes on for watchers, if any);
    // one started at the ring waits for the first connection.
    if (!this.session) stopRecording();
    else if (peer) closeChannel(AGENT);
    this.peer = null;
    peer?.close();
  }
}
