// The /agent socket: connect with the current token, every emit with an ack, errors as exceptions.
//
// socket.io-client reconnects by itself after transport errors and re-reads `auth` each time; auth
// is a function so a refreshed token is used on the next (re)connect. A refused connection (bad or
// expired token) is not retried: the server would refuse the same credentials again.

import { io } from "/vendor/socket.io.esm.min.js";

export const PROTOCOL_VERSION = 1;
const ACK_TIMEOUT_MS = 10_000;
const INTERNAL_RETRY_MS = [1000, 2000, 5000, 10_000];

/**
 * An error ack `{error: {code, message}}`, or no ack in time (`code` "timeout"). The socket's twin
 * of api.js's ApiError (see there).
 */
export class AckError extends Error {
  constructor(event, code, message) {
    super(message);
    this.name = "AckError";
    this.event = event;
    this.code = code;
  }
}

/**
 * Events (EventTarget): `status` {state: "connecting"|"connected"|"reconnecting"|"offline",
 * reason}, `refused` {code, message} (sign in again), `replaced` (another console took over).
 */
export class Signaling extends EventTarget {
  constructor(getToken, url = "/agent") {
    super();
    this._handlers = new Map();
    this._internalRetries = 0;
    this._unavailableRetries = 0;
    this.socket = io(url, {
      transports: ["websocket"],
      autoConnect: false,
      auth: (send) => send({ protocol: PROTOCOL_VERSION, token: getToken() ?? "" }),
    });
    this.socket.on("connect", () => {
      this._internalRetries = 0;
      this._unavailableRetries = 0;
      this._status("connected");
    });
    this.socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect") {
        // The server only does this when the same agent connected elsewhere (docs §4.4); do not
        // fight over the identity by reconnecting automatically.
        this._status("offline", "signed in elsewhere");
        this.dispatchEvent(new CustomEvent("replaced"));
      } else if (reason === "io client disconnect") {
        this._status("offline", "signed out");
      } else {
        this._status("reconnecting", reason);
      }
    });
    this.socket.on("connect_error", (error) => this._connectError(error));
  }

  connect() {
    this._status("connecting");
    this.socket.connect();
  }

  close() {
    this.socket.disconnect();
  }

  get connected() {
    return this.socket.connected;
  }

  /** Subscribe to a server event; returns an unsubscribe function. */
  on(event, handler) {
    const wrapped = (payload) => {
      try {
        handler(payload ?? {});
      } catch (error) {
        console.error(`handling ${event} failed`, error);
      }
    };
    this.socket.on(event, wrapped);
    return () => this.socket.off(event, wrapped);
  }

  /**
   * Emit with an ack; resolves with the ok ack, throws AckError for an error ack or no ack.
   * `fresh`: refuse at once while disconnected instead of letting socket.io buffer the event for
   * the next connection (remote-control input must never be replayed seconds later).
   */
  async request(event, payload = {}, { timeoutMs = ACK_TIMEOUT_MS, fresh = false } = {}) {
    if (fresh && !this.socket.connected) {
      throw new AckError(event, "offline", `${event}: not connected to the server`);
    }
    let ack;
    try {
      ack = await this.socket.timeout(timeoutMs).emitWithAck(event, payload);
    } catch {
      throw new AckError(
        event,
        "timeout",
        this.socket.connected ? `${event}: the server did not answer` : `${event}: not connected to the server`,
      );
    }
    if (ack && typeof ack === "object" && ack.error) {
      throw new AckError(event, ack.error.code ?? "unknown", ack.error.message ?? `${event} was refused`);
    }
    if (!ack || ack.ok !== true) throw new AckError(event, "bad_ack", `${event}: unexpected answer`);
    return ack;
  }

  _connectError(error) {
    const refusal = error?.data?.error;
    if (!refusal) {
      // Transport trouble (server down, network gone): the manager keeps retrying by itself.
      this._status("reconnecting", error?.message ?? "connection error");
      return;
    }
    if (refusal.code === "unavailable") {
      // The server cannot reach its live state for a moment (docs/protocol.md §5.2): it will
      // again, so keep trying, backing off to every 30 s.
      const delay = Math.min(30_000, 2000 * 2 ** Math.min(this._unavailableRetries++, 4));
      this._status("reconnecting", refusal.message);
      setTimeout(() => this.socket.connect(), delay);
      return;
    }
    if (refusal.code === "internal" && this._internalRetries < INTERNAL_RETRY_MS.length) {
      const delay = INTERNAL_RETRY_MS[this._internalRetries++];
      this._status("reconnecting", refusal.message);
      setTimeout(() => this.socket.connect(), delay);
      return;
    }
    this._status("offline", refusal.message);
    this.dispatchEvent(new CustomEvent("refused", { detail: refusal }));
  }

  _status(state, reason = "") {
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: { state, reason } }));
  }
}
