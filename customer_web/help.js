// The customer's help flow: Help → a visitor identity → the /device socket → help.request → the
// ticket → the session → its end and a rating (docs/protocol.md §3–§9, as the Python device in
// device_agent/agent.py does it), with remote control under the customer's consent (control.js).
// It keeps the facts in `state`; present.js turns them into what the panel shows, and cobrowse.js
// carries the page once an agent has accepted. "Call me back" and its ring are callback.js's,
// the rating after a session feedback.js's.
//
// A reload or same-origin navigation during a ticket or session loses this page's JavaScript,
// not the visit: the credentials and an `active` mark stay in sessionStorage, the next page
// reconnects with them, and the server answers with `ticket.update` or a resumed
// `session.started` (§4.2), on which the page is offered and recorded afresh.

import { Callbacks } from "./callback.js";
import { Cobrowse } from "./cobrowse.js";
import { PageControl } from "./control.js";
import { answerSolved, rate, sendComment } from "./feedback.js";
import { present } from "./present.js";
import { DeviceSocket } from "./signaling.js";
import { createVisitor, VisitorError } from "./visitor.js";

// After a reload the server speaks first if the ticket or session is still open; silence this
// long means it ended while the page was loading (its session.ended went to the old page).
const RESUME_SILENCE_MS = 5000;
const OVER = new Set(["idle", "ended", "rated", "over", "error", "elsewhere"]);
// The chat lines kept for the tab (sessionStorage), so that a reload still shows the history.
const CHAT_KEPT = 200;
const CHAT_MAX = 2000; // characters in one line (chat.send, docs/protocol.md §6.3)

export class HelpFlow {
  /** `config` {server, siteKey}; `store`: a VisitorStore; `render(model, options)`: the view's. */
  constructor({ config, locale, t, store, render }) {
    this.config = config;
    this.locale = locale;
    this.t = t;
    this.store = store;
    this._render = render;
    this.socket = null;
    this.cobrowse = null;
    this.control = null;
    this.state = { phase: "idle", open: false, canShareScreen: canCaptureScreen(), chat: [], unread: 0, watchers: [] };
    this._resumeTimer = null;
    this._fresh = false; // the credentials in use were created by this Help press
    this.callbacks = new Callbacks(this); // "Call me back" and its ring (callback.js)
  }

  /** On page load: resume an open ticket or session of this tab, if there is one. */
  boot() {
    const saved = this.store.load();
    if (!saved?.active) return this.render();
    this.set({ phase: "resuming", open: Boolean(saved.open) });
    this._connect(saved, { resume: true });
  }

  /** The customer pressed a button of the widget (see view.js). */
  async action(id, value) {
    switch (id) {
      case "help":
        // The button toggles the panel; closing a finished flow's panel closes the flow, and
        // pressing Help with none running asks for help.
        if (this.state.open) return OVER.has(this.state.phase) ? this._close() : this.set({ open: false });
        if (OVER.has(this.state.phase)) return this._start();
        return this.set({ open: true }, { takeFocus: true });
      case "minimize":
        return this.set({ open: false });
      case "retry":
        return this._start();
      case "cancel":
        return this._cancel();
      case "callback":
        return this.callbacks.request();
      case "callbackConnect":
        return this.callbacks.answer(true);
      case "callbackNotNow":
        return this.callbacks.answer(false);
      case "end":
        return this.set({ confirming: true });
      case "keepGoing":
        return this.set({ confirming: false });
      case "confirmEnd":
        return this._end();
      case "rate":
        return rate(this, value);
      case "solved":
        return answerSolved(this, value);
      case "comment":
        return sendComment(this, value);
      case "chatSend":
        return this._chatSend(value);
      case "close":
        return this._close();
      case "allow":
        return this.control?.allow();
      case "deny":
        return this.control?.deny();
      case "stopControl":
        return this.control?.stop();
      case "shareScreen":
        return this._shareScreen();
      case "stopSharing":
        return this.cobrowse?.stopScreen();
    }
  }

  /** pagehide: the agent is told, the panel's state kept for the next page. */
  pageHidden() {
    this.cobrowse?.leaving("unload");
    this.store.update({ open: this.state.open });
  }

  /** pageshow from the back/forward cache: reconnect as a fresh page load would. */
  pageShown() {
    if (this.socket?.connected) return;
    this._disconnect();
    this.boot();
  }

  set(changes, options) {
    Object.assign(this.state, changes);
    if (this.state.open) this.state.unread = 0; // the customer sees the chat now
    this.render(options);
  }

  render(options) {
    this.callbacks.sync();
    this._render({ ...present(this.state, this.t), ...this._requeuedModel(), control: this._controlModel() }, options);
  }

  /**
   * Waiting again after the agent was lost (`agent_lost`, §9) or handed the customer on to a
   * colleague (`transferred`, §19.4): say which in plain words.
   */
  _requeuedModel() {
    if (!this.state.requeued || this.state.phase !== "queued") return {};
    const position = this.state.ticket?.position ?? 1;
    if (this.state.endReason === "transferred") return { status: this.t("transferred") };
    return { status: position > 1 ? this.t("agentLostBehind", { position }) : this.t("agentLost") };
  }

  /** The consent dialog or the Stop control bar, or null while control is not asked or on. */
  _controlModel() {
    const view = this.control?.view;
    if (!view || view.state === "none") return null;
    const agent = view.agent || this.state.session?.agent?.name || this.t("title");
    const organisation = view.organisation;
    return {
      state: view.state,
      title: organisation ? this.t("consentTitle", { agent, organisation }) : this.t("consentTitleNoOrg", { agent }),
      body: this.t("consentBody", { agent }),
      bar: view.state === "suspended" ? this.t("controlPaused") : this.t("controlActive", { agent }),
    };
  }

  // --- customer actions ----------------------------------------------------------------------

  async _start() {
    if (this.state.phase === "starting") return; // a second press while the first is on its way
    this._disconnect();
    this.set(
      { phase: "starting", open: true, confirming: false, agentAway: false, requeued: false, error: null },
      { takeFocus: true },
    );
    let credentials = this.store.load();
    this._fresh = !credentials;
    if (!credentials) {
      credentials = await this._newVisitor();
      if (!credentials) return;
    }
    this.store.save({ ...credentials, active: true, open: true });
    this._connect(credentials, { resume: false });
  }

  async _newVisitor() {
    try {
      const visitor = await createVisitor(this.config.server, this.config.siteKey, this.locale);
      return { device_id: visitor.device_id, device_secret: visitor.device_secret, site: visitor.site?.name ?? "" };
    } catch (error) {
      if (!(error instanceof VisitorError)) throw error;
      const text =
        error.kind === "forbidden"
          ? this.t("forbidden")
          : error.kind === "rate_limited"
            ? this.t("rateLimited", error.retryAfter)
            : this.t("unreachable");
      this.set({ phase: "error", error: text, retryable: error.kind !== "forbidden" });
      return null;
    }
  }

  async _cancel() {
    if (!this.state.ticket) return this._close();
    try {
      await this.socket.request("help.cancel", { ticket_id: this.state.ticket.id });
    } catch (error) {
      // `conflict`: an agent accepted a moment ago; session.started is on its way.
      console.warn("mayday widget: help.cancel", error.message);
    }
  }

  async _end() {
    this.set({ confirming: false });
    const session = this.state.session;
    if (!session) return;
    try {
      await this.socket.request("session.end", { session_id: session.session_id, reason: "customer_ended" });
    } catch (error) {
      console.warn("mayday widget: session.end", error.message);
    }
  }

  /** The customer's chat line; it shows when the server's chat.message comes back (§6.3). */
  async _chatSend(text) {
    const line = String(text ?? "").trim().slice(0, CHAT_MAX);
    const session = this.state.session;
    if (!line || !session || !this.socket || !["connecting", "active"].includes(this.state.phase)) return false;
    try {
      await this.socket.request("chat.send", { session_id: session.session_id, text: line });
    } catch (error) {
      console.warn("mayday widget: chat.send", error.message);
      this.set({ chatError: this.t(error.code === "rate_limited" ? "chatFull" : "chatFailed") });
      return false;
    }
    if (this.state.chatError) this.set({ chatError: "" });
    return true;
  }

  /** Close offers itself only once the flow is over (present.js); minimize hides a live panel. */
  _close() {
    this._disconnect();
    this.store.update({ active: false, open: false, chat: null });
    this.set({ phase: "idle", open: false, requeued: false, chat: [], unread: 0, comment: null, solved: null });
  }

  /** "Share my screen instead": the browser asks which screen; a refusal changes nothing. */
  async _shareScreen() {
    const cobrowse = this.cobrowse;
    if (!cobrowse?.session || cobrowse.sharingScreen) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (error) {
      console.warn("mayday widget: the screen was not shared", error.message);
      return;
    }
    const [track] = stream.getVideoTracks();
    if (!track) return;
    if (this.cobrowse !== cobrowse || this.state.phase !== "active") {
      track.stop(); // the session ended while the browser asked
      return;
    }
    await cobrowse.shareScreen(track);
  }

  _screenShared(on) {
    this.control?.setScreenShared(on);
    this.set({ screenShared: on });
  }

  // --- the socket ----------------------------------------------------------------------------

  _connect(credentials, { resume }) {
    const socket = new DeviceSocket(this.config.server, credentials);
    this.socket = socket;
    this.cobrowse = new Cobrowse(
      socket,
      (state) => this._mediaState(state),
      (on) => this._screenShared(on),
    );
    this.cobrowse.prepare(); // the connection is made while the customer waits
    this.control = new PageControl({
      socket,
      sessionId: () => this.state.session?.session_id ?? null,
      onChange: () => this.render(),
      onAsk: () => this.set({ open: true, confirming: false }, { takeFocus: true }),
    });
    let requested = false;
    socket.addEventListener("status", (event) => {
      if (socket !== this.socket) return;
      const { state } = event.detail;
      this.control.status(state); // the enforcement point suspends on its own, at once
      this.set({ reconnecting: state === "reconnecting" });
      if (state !== "connected") return;
      if (resume) {
        // Only the first connect of a resumed page waits for the server to speak.
        clearTimeout(this._resumeTimer);
        this._resumeTimer = setTimeout(() => this._resumeSilent(), RESUME_SILENCE_MS);
        resume = false;
      } else if (!requested) {
        requested = true;
        this._request();
      }
    });
    socket.addEventListener("refused", (event) => this._refused(socket, event.detail, resume));
    socket.addEventListener("replaced", () => {
      if (socket !== this.socket) return;
      this.control.reset();
      this.cobrowse.stop();
      this.set({ phase: "elsewhere" });
    });
    const handlers = {
      "ticket.update": (data) => this._ticket(data.ticket),
      "session.started": (data) => this._started(data),
      "session.ended": (data) => this._ended(data),
      "session.peer": (data) => this._peer(data),
      "callback.ring": (data) => this.callbacks.ring(data),
      "callback.cancelled": (data) => this.callbacks.cancelled(data),
      "chat.message": (data) => this._chat(data),
      "session.watchers": (data) => this._watchers(data),
      "rtc.answer": (data) => this.cobrowse.answer(data),
      "rtc.ice": (data) => this.cobrowse.ice(data),
      // Control is the session agent's alone: never from a watcher's side (§19.3).
      "control.request": (data) => (data.watcher_id ? undefined : this.control.request(data)),
      "control.state": (data) => this.control.state(data),
      "control.input": (data) => (data.watcher_id ? undefined : this.control.input(data)),
    };
    for (const [event, handler] of Object.entries(handlers)) {
      socket.on(event, (data) => (socket === this.socket ? handler(data) : undefined));
    }
    socket.connect();
  }

  _disconnect() {
    clearTimeout(this._resumeTimer);
    const control = this.control;
    this.control = null;
    control?.reset();
    this.cobrowse?.stop();
    this.socket?.close();
    this.socket = null;
    this.cobrowse = null;
  }

  async _request() {
    try {
      const ack = await this.socket.request("help.request", { locale: this.locale });
      // The first ring can beat the ack (§6.1): never go back from a later state.
      if (this.state.phase === "starting") this._ticket(ack.ticket);
    } catch (error) {
      // `conflict`: this visitor is already in a session, which the server resumes by itself.
      if (error.code !== "conflict") this.set({ phase: "error", error: this.t("unreachable"), retryable: true });
    }
  }

  async _refused(socket, refusal, resumed) {
    if (socket !== this.socket) return;
    this._disconnect();
    if (refusal.code === "unauthorized") {
      // The visitor identity is gone (its site was removed, or it expired): start afresh, once;
      // a new identity refused as well is the server's final word.
      this.store.forget();
      if (resumed) return this.set({ phase: "idle", open: false });
      if (!this._fresh) {
        this.state.phase = "idle";
        return this._start();
      }
    }
    this.store.update({ active: false });
    this.set({ phase: "error", error: this.t("refused"), retryable: true });
  }

  _resumeSilent() {
    if (this.state.phase !== "resuming") return;
    this._disconnect();
    this.store.update({ active: false });
    this.set({ phase: "idle", open: false });
  }

  // --- server events -------------------------------------------------------------------------

  _ticket(ticket) {
    if (!ticket) return;
    clearTimeout(this._resumeTimer);
    const phase = ticket.state === "ringing" ? "ringing" : "queued";
    this.cobrowse?.ringing(phase === "ringing");
    this.set({ phase, ticket });
  }

  async _started(session) {
    clearTimeout(this._resumeTimer);
    const media = this.cobrowse.peer?.state === "connected" && this.state.session?.session_id === session.session_id;
    // A new session starts without consent; a resumed one waits for control.state (§10.6).
    if (this.state.session?.session_id !== session.session_id) this.control.reset();
    if (this.state.chatSessionId !== session.session_id) this._loadChat(session.session_id);
    const watchers = this.state.session?.session_id === session.session_id ? this.state.watchers : [];
    this.set({
      phase: media ? "active" : "connecting",
      session,
      ticket: null,
      requeued: false,
      lastSessionId: session.session_id,
      watchers,
    });
    this.store.update({ active: true });
    await this.cobrowse.start(session);
  }

  _ended(data) {
    clearTimeout(this._resumeTimer);
    if (data.reason === "agent_lost" || data.reason === "transferred") return this._requeued(data);
    const ours = [this.state.session?.session_id, this.state.lastSessionId];
    const hadSession = ours.includes(data.session_id);
    this.control?.reset();
    this.cobrowse?.stop();
    this.store.update({ active: false });
    this.set({
      phase: hadSession && data.reason !== "cancelled" ? "ended" : "over",
      endReason: data.reason,
      endedBy: data.ended_by,
      lastSessionId: data.session_id,
      ticket: null,
      confirming: false,
      agentAway: false,
      requeued: false,
      watchers: [],
      open: true,
    });
    if (!hadSession || data.reason === "cancelled") this._disconnect();
  }

  /**
   * The agent did not come back, or handed the customer on: the session is over, and the server
   * has put the customer back in line, first for the next agent, with a new ticket whose `ticket.update` follows (or came
   * first, from another server process). No rating: nobody finished helping. The socket stays, and
   * so does the `active` mark, so that a reload resumes the new ticket.
   */
  _requeued(data) {
    this.control?.reset();
    this.cobrowse?.stop();
    this.cobrowse?.prepare(); // the next agent's connection, made while the customer waits
    const ticket = this.state.ticket && this.state.ticket.id !== data.session_id ? this.state.ticket : null;
    this.set({
      phase: ticket?.state === "ringing" ? "ringing" : "queued",
      requeued: true,
      session: null,
      ticket,
      endReason: data.reason,
      endedBy: data.ended_by,
      lastSessionId: data.session_id,
      confirming: false,
      agentAway: false,
      watchers: [],
      open: true,
    });
  }

  _peer(data) {
    if (data.session_id !== this.state.session?.session_id || data.peer !== "agent") return;
    this.set({ agentAway: !data.connected });
    // The agent's new socket has no connection to this page (a reloaded console): offer anew.
    if (data.connected) this.cobrowse.offer();
  }

  /**
   * Who watches the session besides the agent (`session.watchers`, §19.3): the customer is always
   * told (the panel names each one), and each gets a connection of its own (watchers.js).
   */
  _watchers(data) {
    const sessionId = this.state.session?.session_id;
    if (!sessionId || data?.session_id !== sessionId || !this.cobrowse) return;
    const before = new Set(this.state.watchers.map(({ name, mode }) => `${mode}:${name}`));
    this.cobrowse.watchersChanged(data);
    const watchers = this.cobrowse.watchers.list;
    // Someone new sees the page (or a watcher joined): the panel opens to say so, without
    // taking focus from the page; someone leaving needs no such attention.
    const news = watchers.some(({ name, mode }) => !before.has(`${mode}:${name}`));
    this.set(news ? { watchers, open: true } : { watchers });
  }

  /** A chat line of this session, from the agent or the customer's own coming back. */
  _chat(data) {
    const sessionId = this.state.session?.session_id;
    if (!sessionId || data?.session_id !== sessionId || typeof data.text !== "string") return;
    if (this.state.chatSessionId !== sessionId) this._loadChat(sessionId);
    if (this.state.chat.some((line) => line.seq === data.seq)) return; // already shown
    const line = { seq: data.seq, mine: data.sender === "device", name: String(data.name ?? ""), text: data.text };
    const chat = [...this.state.chat, line].sort((a, b) => a.seq - b.seq).slice(-CHAT_KEPT);
    const unread = this.state.unread + (line.mine || this.state.open ? 0 : 1);
    this.store.update({ chat: { session_id: sessionId, lines: chat } });
    this.set({ chat, unread });
  }

  /** A new session starts with an empty chat; a resumed one (a reload) with what this tab kept. */
  _loadChat(sessionId) {
    const kept = this.store.load()?.chat;
    const lines = kept?.session_id === sessionId && Array.isArray(kept.lines) ? kept.lines : [];
    Object.assign(this.state, { chat: lines, chatSessionId: sessionId, unread: 0, chatError: "" });
  }

  _mediaState(state) {
    if (state === "connected" && this.state.phase === "connecting") this.set({ phase: "active" });
  }
}

/** Whether this browser can capture a screen for a page (not on phones, nor without HTTPS). */
function canCaptureScreen() {
  return typeof navigator.mediaDevices?.getDisplayMedia === "function";
}
