// The callback instead of waiting (docs/protocol.md §20.3), the help flow's side of it: "Call me
// back" (callback.request), the server's callback.ring with its prompt, the customer's answer
// (callback.answer) and callback.cancelled. The facts go into the flow's `state` (help.js), which
// waiting.js turns into what the panel says; this class also keeps the panel's countdowns going.
//
// A callback lives in the ticket (`ticket.callback`), so it survives a reload or another page of
// the site as the ticket does: the server's ticket.update after the reconnect carries it. A ring
// in progress does not (the server rings once; unanswered, it counts as missed and comes again).

import { ticking, WAITING } from "./waiting.js";

const TICK_MS = 1000; // the countdowns show whole seconds

export class Callbacks {
  /** `flow`: the HelpFlow whose state, socket and render this uses. */
  constructor(flow) {
    this.flow = flow;
    this._timer = null;
  }

  /** "Call me back": the ticket keeps its place and gains `callback` (the ack's ticket says so). */
  async request() {
    const { flow } = this;
    const ticket = flow.state.ticket;
    if (!ticket || !flow.socket || ticket.callback) return;
    try {
      const ack = await flow.socket.request("callback.request", { ticket_id: ticket.id });
      // Only if nothing moved on meanwhile (an agent rang, the ticket ended).
      if (ack.ticket && flow.state.ticket?.id === ack.ticket.id && WAITING.has(flow.state.phase)) {
        flow.set({ ticket: { ...flow.state.ticket, ...ack.ticket } });
      }
    } catch (error) {
      // `conflict`: an agent is being rung for the customer right now; they answer in a moment.
      console.warn("mayday widget: callback.request", error.message);
    }
  }

  /** callback.ring: an agent is ready and held; the prompt opens the panel and takes the focus. */
  ring(data) {
    const { flow } = this;
    if (!data?.ring_id || OVER_PHASES.has(flow.state.phase)) return;
    // How many more tries a miss of this ring would leave (the ticket's count before the miss).
    const triesLater = Number(flow.state.ticket?.callback?.tries_left ?? 1);
    const ring = { ...data, shownAt: Date.now(), triesLater };
    const phase = WAITING.has(flow.state.phase) ? flow.state.phase : "ringing";
    flow.set({ phase, callbackRing: ring, callbackMissed: null, open: true }, { takeFocus: true });
  }

  /** "Connect now" (`accept`) or "Not now": session.started follows an accept. */
  async answer(accept) {
    const { flow } = this;
    const ring = flow.state.callbackRing;
    if (!ring || !flow.socket) return;
    if (!accept) flow.set({ callbackRing: null, callbackMissed: { triesLater: ring.triesLater } });
    try {
      await flow.socket.request("callback.answer", { ring_id: ring.ring_id, accept });
    } catch (error) {
      // `not_found`: the ring was over already (timed out a moment ago); callback.cancelled says so.
      console.warn("mayday widget: callback.answer", error.message);
      if (flow.state.callbackRing === ring) flow.set({ callbackRing: null });
    }
  }

  /**
   * callback.cancelled: the prompt goes. A timeout or "not now" was the customer's (a missed
   * callback: say how many more tries come); an agent who withdrew or dropped costs nothing.
   */
  cancelled(data) {
    const { flow } = this;
    const ring = flow.state.callbackRing;
    if (ring && ring.ring_id !== data?.ring_id) return;
    const missed = data?.reason === "timeout" || data?.reason === "declined";
    const triesLater = ring?.triesLater ?? flow.state.callbackMissed?.triesLater ?? 1;
    flow.set({ callbackRing: null, ...(missed ? { callbackMissed: { triesLater } } : {}) });
  }

  /**
   * After each render: a ring or missed note outlives no wait, and a countdown on show re-renders
   * once a second (only then: a waiting page costs nothing otherwise).
   */
  sync() {
    const { state } = this.flow;
    if (!WAITING.has(state.phase) && (state.callbackRing || state.callbackMissed)) {
      Object.assign(state, { callbackRing: null, callbackMissed: null });
    }
    const wanted = ticking(state);
    if (wanted && this._timer === null) {
      this._timer = setInterval(() => this.flow.render(), TICK_MS);
    } else if (!wanted && this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }
}

// Where a late ring has nothing to ask any more (the flow ended or another tab took over).
const OVER_PHASES = new Set(["idle", "ended", "rated", "over", "error", "elsewhere", "connecting", "active"]);
