// The page to each supervisor watching the session (docs/cobrowse.md §2.3, docs/protocol.md
// §19.3), as device_agent/watchers.py does it for a device's screen.
//
// The server tells the customer who watches (`session.watchers`, every change, an empty list when
// nobody does any more); this set of connections follows that list. Each watcher gets a peer
// connection of its own (peer.js with `watcherId`), offered by the widget, its `rtc.offer` and
// `rtc.ice` marked with the watcher's id, and the watcher's answers and candidates come back so
// marked. Its `cobrowse` channel joins the page's one recording with a full snapshot of its own
// (recorder.js), with the same masking as the agent's. A watcher who only watches (`watch`) sends
// nothing the page acts on: its marks are dropped; one who joined (`join`) draws into the same
// overlay as the agent. Control is never a watcher's (it comes over the socket, from the session's
// agent alone). Nothing is made ahead here: a watcher appears mid-session, at most a few of them.

import { WidgetPeer } from "./peer.js";
import { closeChannel, openChannel } from "./recorder.js";

const REOFFER_DELAY_MS = 2000; // a watcher's connection that stays disconnected is offered anew
const MAX_WATCHERS = 8; // the server keeps fewer (server/live/watch.py); never more connections

export class WatcherConnections {
  /** `socket`: the DeviceSocket; `draw(message)`: a joined watcher's valid mark, for the overlay. */
  constructor(socket, draw) {
    this.socket = socket;
    this.draw = draw;
    this.session = null;
    this.watchers = new Map(); // id → {name, mode}, as the server said last
    this.peers = new Map(); // id → WidgetPeer
    this._timers = new Map();
  }

  /** `session.watchers` for `session` (the `session.started` payload): connect new, drop gone. */
  update(session, data) {
    if (!session || data?.session_id !== session.session_id) return;
    this.session = session;
    const listed = Array.isArray(data.watchers) ? data.watchers : [];
    const now = new Map();
    for (const watcher of listed.slice(0, MAX_WATCHERS)) {
      if (!watcher || typeof watcher.id !== "string" || !watcher.id) continue;
      now.set(watcher.id, { name: String(watcher.name ?? ""), mode: watcher.mode === "join" ? "join" : "watch" });
    }
    this.watchers = now;
    for (const id of [...this.peers.keys()]) if (!now.has(id)) this._drop(id);
    for (const id of now.keys()) if (!this.peers.has(id)) this._offer(id);
  }

  /** Who watches now: `[{name, mode}]`, for the panel. */
  get list() {
    return [...this.watchers.values()];
  }

  async answer(data) {
    await this._peerFor(data)?.applyAnswer(String(data.sdp ?? ""));
  }

  async ice(data) {
    await this._peerFor(data)?.addCandidate(data.candidate ?? null);
  }

  /** The session is over (or the widget stops): every watcher's connection goes. */
  close() {
    this.session = null;
    this.watchers = new Map();
    for (const id of [...this.peers.keys()]) this._drop(id);
  }

  _peerFor(data) {
    const id = data?.watcher_id;
    if (typeof id !== "string" || !this.session || data.session_id !== this.session.session_id) return null;
    return this.peers.get(id) ?? null;
  }

  async _offer(id) {
    const session = this.session;
    if (!session) return;
    this._drop(id);
    let peer;
    try {
      peer = new WidgetPeer({ watcherId: id });
    } catch (error) {
      console.warn("mayday widget: no connection for a watcher", error.message);
      return;
    }
    peer.bind(session, this.socket, {
      onChannel: (channel) => {
        if (this.peers.get(id) === peer) openChannel(channel, id);
      },
      onState: (state) => this._state(id, peer, state),
      onAnnotation: (message) => {
        // Read at the mark, not at the offer: a watcher may join (or go back to watching) later.
        if (this.peers.get(id) === peer && this.watchers.get(id)?.mode === "join") this.draw(message);
      },
    });
    this.peers.set(id, peer);
    try {
      const sent = await peer.offer();
      if (sent) await sent.delivered;
    } catch (error) {
      // The watcher left meanwhile, or the socket is down: the next session.watchers says.
      console.warn("mayday widget: the offer to a watcher was not delivered", error.message);
    }
  }

  _state(id, peer, state) {
    if (this.peers.get(id) !== peer) return;
    clearTimeout(this._timers.get(id));
    if (state === "failed") {
      this._offer(id);
    } else if (state === "disconnected") {
      this._timers.set(
        id,
        setTimeout(() => {
          if (this.peers.get(id) === peer && peer.state !== "connected") this._offer(id);
        }, REOFFER_DELAY_MS),
      );
    }
  }

  _drop(id) {
    clearTimeout(this._timers.get(id));
    this._timers.delete(id);
    const peer = this.peers.get(id);
    if (!peer) return;
    this.peers.delete(id);
    closeChannel(id); // its part of the recording; the recording stops with its last channel
    peer.close();
  }
}
