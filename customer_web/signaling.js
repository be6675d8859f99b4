// The visitor's /device socket (docs/protocol.md §2–§5): websocket only, the visitor's credentials
// as the connect auth, every emit with an ack and error acks as exceptions.
//
// socket.io-client reconnects by itself after transport errors, with the same auth. A refusal by
// the server (bad credentials, protocol) is not retried: the same credentials would be refused
// again; only `internal` is worth a few more tries, and `unavailable` (the server cannot reach
// its live state for a moment) is retried until it is back.
//
// AckError and the emit-with-ack shape follow the console's agent_web/socket.js on purpose, but
// are not shared with it: the widget is bundled and served into other sites' pages and must
// depend on none of the console's files.

import { io } from "socket.io-client";

export const PROTOCOL_VERSION = 1;
const ACK_TIMEOUT_MS = 10_000;
const INTERNAL_RETRY_MS = [1000, 3000, 10_000];

/** An error ack `{error: {code, message}}`, or no ack in time (`code` "timeout"). */
export class AckError extends Error {
  constructor(event, code, message) {
    super(message);
    this.name = "AckError";
    this.event = event;
    this.code = code;
  }
}

/**
 * Events (EventTarget): `status` {state: "connected"|"reconnecting"|"offline"}, `refused`
 * {code, message}: the credentials were refused; `replaced`: this identity connected elsewhere.
 */
export class DeviceSocket extends EventTarget {
  constructor(server, credentials) {
    super();
    this._internalRetries = 0;
    this._unavailableRetries = 0;
    this.socket = io(`${server}/device`, {
      transports: ["websocket"],
      autoConnect: false,
      // A socket of its own, never shared with anything else on the page that uses socket.io.
      forceNew: true,
      auth: {
        protocol: PROTOCOL_VERSION,
        device_id: credentials.device_id,
        device_secret: credentials.device_secret,
      },
    });
    this.socket.on("connect", () => {
      this._internalRetries = 0;
      this._unavailableRetries = 0;
      this._status("connected");
    });
    this.socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect") {
        // The server only does this when the same visitor connected elsewhere (§4.4): a tab
        // duplicated with its sessionStorage. Do not fight over the identity.
        this._status("offline");
        this.dispatchEvent(new CustomEvent("replaced"));
      } else if (reason !== "io client disconnect") {
        this._status("reconnecting");
      }
    });
    this.socket.on("connect_error", (error) => this._connectError(error));
  }

  connect() {
    this.socket.connect();
  }

  close() {
    this.socket.disconnect();
  }

  get connected() {
    return this.socket.connected;
  }

  /** Subscribe to a server event; a throwing handler is logged, never breaks the socket. */
  on(event, handler) {
    this.socket.on(event, (payload) => {
      Promise.resolve()
        .then(() => handler(payload ?? {}))
        .catch((error) => console.error(`mayday widget: handling ${event} failed`, error));
    });
  }

  /** Emit with an ack: the ok ack, or an AckError for an error ack or none in time. */
  async request(event, payload = {}) {
    let ack;
    try {
      ack = await this.socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
    } catch {
      throw new AckError(event, "timeout", `${event}: the server did not answer`);
    }
    if (ack && typeof ack === "object" && ack.error) {
      throw new AckError(event, ack.error.code ?? "unknown", ack.error.message ?? `${event} refused`);
    }
    if (!ack || ack.ok !== true) throw new AckError(event, "bad_ack", `${event}: unexpected answer`);
    return ack;
  }

  _connectError(error) {
    const refusal = error?.data?.error;
    if (!refusal) {
      // The server is unreachable or refused the origin: the manager keeps retrying by itself.
      this._status("reconnecting");
      return;
    }
    if (refusal.code === "unavailable") {
      // The server cannot reach its live state for a moment (docs/protocol.md §5.2): it will
      // again, so keep trying, backing off to every 30 s.
      const delay = Math.min(30_000, 2000 * 2 ** Math.min(this._unavailableRetries++, 4));
      this._status("reconnecting");
      setTimeout(() => this.socket.connect(), delay);
      return;
    }
    if (refusal.code === "internal" && this._internalRetries < INTERNAL_RETRY_MS.length) {
      setTimeout(() => this.socket.connect(), INTERNAL_RETRY_MS[this._internalRetries++]);
      this._status("reconnecting");
      return;
    }
    this._status("offline");
    this.dispatchEvent(new CustomEvent("refused", { detail: refusal }));
  }

  _status(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("status", { detail: { state } }));
  }
}
