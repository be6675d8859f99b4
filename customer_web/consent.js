// The widget's own record of the customer's consent to remote control (docs/protocol.md §10.8):
// the one place that decides whether the agent's input is applied to this page. A port of
// device_agent/consent.py.
//
// It moves only on what happens here: the customer's Allow, Deny and Stop control, the socket
// dropping, the lease running out. The server's `control.state` can take consent away but never
// create it: a `granted` from the server is only accepted as the resume of a grant given here,
// within this page's own lease, counted from when it suspended.

export const LEASE_MS = 10_000;

export class Consent {
  constructor({ leaseMs = LEASE_MS, clock = () => performance.now() } = {}) {
    this.leaseMs = leaseMs;
    this.clock = clock;
    this.reset();
  }

  /** The server forwards the agent's request: show the dialog (unless control is on already). */
  ask(sessionId, requestId, agentName, organisation) {
    if (this.state === "granted" || this.state === "suspended") return;
    this.state = "asked";
    this.request = { sessionId, requestId, agentName, organisation };
  }

  /** The customer pressed Allow: the request to answer, if one is open. */
  allow() {
    if (this.state !== "asked" || !this.request) return null;
    this.state = "granted";
    this.sessionId = this.request.sessionId;
    return this.request;
  }

  /** The customer pressed Deny (or closed the dialog): the request to answer, if one was open. */
  deny() {
    const request = this.state === "asked" ? this.request : null;
    this.reset();
    return request;
  }

  /** No consent: Stop control, a denial, the agent's release, the session's end, expiry. */
  reset() {
    this.state = "none";
    this.request = null;
    this.sessionId = null;
    this.suspendedAt = null;
  }

  /** The socket dropped: apply nothing, keep the grant for the lease; an open dialog lapses. */
  suspend() {
    if (this.state === "granted") {
      this.state = "suspended";
      this.suspendedAt = this.clock();
    } else if (this.state === "asked") {
      this.reset();
    }
  }

  /** The server says `resumed`: accepted only for this session, within this page's own lease. */
  resume(sessionId) {
    if (
      this.state === "suspended" &&
      this.sessionId === sessionId &&
      this.suspendedAt !== null &&
      this.clock() - this.suspendedAt <= this.leaseMs
    ) {
      this.state = "granted";
      this.suspendedAt = null;
      return true;
    }
    if (this.state === "suspended") this.reset();
    return false;
  }

  /** Expire a suspension whose lease ran out; true if consent was dropped now. */
  leaseOver() {
    if (this.state === "suspended" && this.suspendedAt !== null && this.clock() - this.suspendedAt > this.leaseMs) {
      this.reset();
      return true;
    }
    return false;
  }

  /** Apply the agent's input for `sessionId` now? */
  allows(sessionId) {
    return this.state === "granted" && this.sessionId === sessionId;
  }

  /** Whether "Stop control" shows: granted, or suspended within the lease. */
  get controlVisible() {
    return this.state === "granted" || this.state === "suspended";
  }
}
