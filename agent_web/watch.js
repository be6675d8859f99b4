// A supervisor watching a colleague's live session, and joining it (docs/protocol.md §19.3).
//
// Opened from the wallboard's "Watch" button (wallboard.js), it is shown in place of the wallboard.
// It is a second, independent session view: its own peer connection (rtc.js), stage (stage.js),
// picture (screen.js), page replay for a web visitor (cobrowse.js, replay.js), drawing (annotate.js,
// tools.js) and chat (chat.js), beside whatever session the supervisor serves as an agent itself
// (session.js), which this module never touches.
//
// The flow: `session.watch` {mode: "watch"}; the customer's device (or widget) then offers this
// console a connection of its own (`rtc.offer` with `watcher_id`), which can come before the ack:
// the handlers are in place from the start and an offer for the session being asked for waits
// until the ack has brought the ICE servers. "Join" sends `session.watch` {mode: "join"}: the
// drawing tools appear (marks in the supervisor's own colour, SUPERVISOR_COLOR, over the
// connection's `annotations` channel) and the chat input opens. "Back to watching" goes back to
// mode "watch"; "Leave" sends `session.leave` and closes the view. Remote control is never a
// watcher's: there is no Control here at all. `session.watchers` says who watches (shown, this
// console included); `session.ended` turns the view into a notice with a Close button. After a
// reconnect the console asks to watch again (the server forgets a watcher whose socket dropped).
//
// Everything the customer, the device or the agent reports (names, topic, chat) is text only.
//
// Events: `closed` {agentId} once the view is closed (the wallboard gives the focus back).

import { Annotator } from "./annotate.js";
import { ChatPanel } from "./chat.js";
import { CobrowseView } from "./cobrowse.js";
import { $, formatLocale, h, parts } from "./dom.js";
import { Notices } from "./notices.js";
import { PeerNotices } from "./peer.js";
import { ReplayView } from "./replay.js";
import { MediaLink } from "./rtc.js";
import { ScreenView } from "./screen.js";
import { Stage } from "./stage.js";
import { ToolBar } from "./tools.js";

/** The supervisor's marks: one colour, none of the agent's palette (annotate.js COLORS). */
export const SUPERVISOR_COLOR = { value: "#8e24aa", name: "Supervisor purple" };

const WATCH_ONLY = "You are watching only: press Join to draw on the customer's screen.";
const NO_CONTROL = "Remote control stays with the session's agent.";
const MODE_TEXT = { watch: "Watching · read-only", join: "Joined · you can draw and write" };
const MODE_LABEL = { watch: "watching", join: "joined" };
const REASON_LABEL = {
  resolved: "resolved",
  unresolved: "unresolved",
  escalated: "escalated",
  other: "ended",
  peer_lost: "the customer's connection was lost",
  agent_lost: "the agent's connection was lost",
  transferred: "handed on to a colleague",
  cancelled: "cancelled",
  ended: "ended",
};
const ENDED_BY = { agent: "by the agent", device: "by the customer", system: "by the server" };

/** A watcher sends no microphone or camera: rtc.js's local media, always empty. */
class NoLocalMedia extends EventTarget {
  mic = null;
  camera = null;
}

/** Stage.js's remote control, for a view that never has any. */
class NoControl extends EventTarget {
  granted = false;
  state = "none";
  pointerCancel() {}
  pointerDown() {
    return false;
  }
  pointerUp() {}
  wheel() {}
  keyDown() {
    return false;
  }
  paste() {}
  compositionEnd() {}
}

export class WatchView extends EventTarget {
  /** `root` is #watch; `host` the .console element (its data-watching shows the view). */
  constructor({ root, host, signaling, api, toasts }) {
    super();
    Object.assign(this, { root, host, signaling, api, toasts });
    Object.assign(this, parts(root, {
      title: ".watch-title", agentName: ".watch-agent", customerName: ".watch-customer",
      kindTag: ".watch-kind", topic: ".watch-topic", locale: ".watch-locale",
      badge: ".watch-badge-text", joinButton: ".watch-join", unjoinButton: ".watch-unjoin",
      leaveButton: ".watch-leave", people: ".watch-people-list", endedBox: ".watch-ended",
      endedText: ".watch-ended-text", closeButton: ".watch-close", toolbar: ".watch-toolbar",
      hint: ".watch-hint", stageRoot: ".watch-stage", video: ".stage-video",
    }));
    this.sessionId = null; // the session this view watches (or is asking to)
    this.session = null; // the session.watch ack's `session`
    this.mode = "watch";
    this.ended = false;
    this.link = null;
    this.kind = null;
    this.agentId = null;
    this._early = []; // rtc.offer / rtc.ice that came before the ack
    this._lost = false; // the socket dropped while watching: ask again once back
    this._busy = false;

    this.replay = new ReplayView({ stage: this.stageRoot, below: this.video });
    this.annotator = new Annotator({
      stage: this.stageRoot, video: this.video, canvas: $(".stage-marks", root), toasts,
      replay: this.replay, colors: [SUPERVISOR_COLOR],
    });
    this.stage = new Stage({
      root: this.stageRoot, view: root, annotator: this.annotator, control: new NoControl(), toasts, video: this.video,
    });
    this.stage.setControlUnavailable(NO_CONTROL);
    this.tools = new ToolBar({ root: this.toolbar, annotator: this.annotator, stage: this.stage });
    this.screen = new ScreenView({ root: this.stageRoot, video: this.video, annotator: this.annotator });
    this.notices = new Notices($(".watch-notices", root));
    this.peerNotices = new PeerNotices({ notices: this.notices, toasts });
    this.cobrowse = new CobrowseView({ bar: $(".page-bar", root), replay: this.replay, screen: this.screen, notices: this.notices });
    this.chat = new ChatPanel({
      root: $(".watch-chat", root), signaling, toasts,
      isMine: (message) => message.sender === "supervisor" && message.name === (api.agent?.name ?? ""),
      closedText: "Join to write in the chat",
    });
    this.chat.setSession(null);

    this.joinButton.addEventListener("click", () => this.setMode("join"));
    this.unjoinButton.addEventListener("click", () => this.setMode("watch"));
    this.leaveButton.addEventListener("click", () => this.leave());
    this.closeButton.addEventListener("click", () => this.close());
    this._bindServerEvents();
    this._renderMode();
  }

  get isOpen() {
    return this.sessionId !== null;
  }

  _bindServerEvents() {
    const s = this.signaling;
    s.on("rtc.offer", (data) => {
      if (!this._ours(data) || !data.watcher_id) return;
      if (this.link) this.link.handleOffer(data.sdp);
      else this._early.push(["offer", data]);
    });
    s.on("rtc.ice", (data) => {
      if (!this._ours(data) || !data.watcher_id) return;
      if (this.link) this.link.handleIce(data.candidate);
      else this._early.push(["ice", data]);
    });
    s.on("session.watchers", (data) => {
      if (this._ours(data)) this._renderPeople(data.watchers);
    });
    s.on("session.ended", (data) => {
      if (this._ours(data)) this._ended(data);
    });
    s.addEventListener("status", ({ detail }) => {
      if (!this.isOpen || this.ended) return;
      if (detail.state !== "connected") {
        this._lost = true;
        this.notices.set("socket", "Connection to the server lost; watching again once it is back…", "warning");
        return;
      }
      if (!this._lost) return;
      this._lost = false;
      this.notices.remove("socket");
      this._watch(this.mode); // the server let go of us when the socket dropped
    });
  }

  _ours(data) {
    return this.sessionId !== null && !this.ended && data.session_id === this.sessionId;
  }

  /** Watch `sessionId` (from the wallboard's Watch button): the view opens at once. */
  async open({ sessionId, agentId = null, agentName = "" }) {
    if (this.sessionId === sessionId && !this.ended) {
      this._show();
      return;
    }
    if (this.isOpen) this._teardown(); // the server leaves the first session by itself
    Object.assign(this, { sessionId, agentId, session: null, mode: "watch", ended: false, _early: [], _lost: false });
    this.agentName.textContent = agentName || "an agent";
    this.customerName.textContent = "the customer";
    this.kindTag.textContent = "";
    this.kindTag.hidden = true;
    this.topic.hidden = true;
    this.locale.textContent = "";
    this.people.replaceChildren();
    this.endedBox.hidden = true;
    this.stage.start();
    this.screen.start();
    this.chat.setSession(sessionId);
    this._renderMode();
    this._show();
    this.title.focus({ preventScroll: true });
    await this._watch("watch");
  }

  /** "join" (draw and write) or "watch" (read-only). */
  async setMode(mode) {
    if (!this.isOpen || this.ended || mode === this.mode) return;
    const button = mode === "join" ? this.joinButton : this.unjoinButton;
    if (await this._watch(mode)) (mode === "join" ? this.unjoinButton : this.joinButton).focus();
    else button.focus();
  }

  /** session.leave, then close the view. */
  async leave() {
    const sessionId = this.sessionId;
    if (!sessionId) return;
    if (!this.ended) {
      try {
        await this.signaling.request("session.leave", { session_id: sessionId }, { fresh: true });
      } catch (error) {
        // Offline: the server let go of us already. Anything else is worth saying, but we close.
        if (error.code !== "offline") this.toasts.error("Could not leave the session cleanly", error);
      }
    }
    this.close();
  }

  /** Close the view (after Leave, or once the session ended). */
  close() {
    const agentId = this.agentId;
    if (this.isOpen) this._teardown();
    this.host.dataset.watching = "false";
    this.dispatchEvent(new CustomEvent("closed", { detail: { agentId } }));
  }

  _show() {
    this.host.dataset.watching = "true";
    this.annotator.requestRender();
  }

  // --- talking to the server ----------------------------------------------------------------------

  /** session.watch in `mode`; true once the server agreed. */
  async _watch(mode) {
    const sessionId = this.sessionId;
    this._setBusy(true);
    try {
      const ack = await this.signaling.request("session.watch", { session_id: sessionId, mode });
      if (this.sessionId !== sessionId || this.ended) return false;
      this._started(ack.session ?? {}, mode);
      return true;
    } catch (error) {
      if (this.sessionId !== sessionId || this.ended) return false;
      if (!this.session) this._failed(error);
      else if (error.code !== "offline" && error.code !== "timeout") this.toasts.error("The session did not switch", error);
      return false;
    } finally {
      this._setBusy(false);
    }
  }

  _started(session, mode) {
    const first = !this.session;
    this.session = session;
    this.mode = session.mode === "join" ? "join" : session.mode === "watch" ? "watch" : mode;
    this._renderHeader(session);
    this._renderPeople(session.watchers);
    this._renderMode();
    if (!first) {
      this.link?.setIceServers(session.ice_servers);
      return;
    }
    this._setKind(session.device?.kind === "web" ? "web" : "device");
    this.cobrowse.start(session);
    this.link = this._newLink(session);
    for (const [what, data] of this._early.splice(0)) {
      if (what === "offer") this.link.handleOffer(data.sdp);
      else this.link.handleIce(data.candidate);
    }
    this._loadChat(this.sessionId);
  }

  _failed(error) {
    const why = error.code === "conflict" || error.code === "not_found"
      ? "The session is over or cannot be watched now"
      : error.code === "forbidden"
        ? "Your account may not watch sessions"
        : "The server did not let this console watch";
    this._showEnded(`${why}: ${error.message}${error.code ? ` (${error.code})` : ""}.`);
  }

  _newLink(session) {
    const link = new MediaLink({
      signaling: this.signaling,
      sessionId: session.session_id ?? this.sessionId,
      iceServers: session.ice_servers,
      media: new NoLocalMedia(),
      onError: (what, error) => this.toasts.error(what, error),
    });
    link.addEventListener("screen", ({ detail }) => {
      this._setScreenShared(this.kind === "web");
      this.screen.show(detail.track, (track) => Boolean(this.link?.pc?.getReceivers().some((r) => r.track === track)));
    });
    link.addEventListener("offer", ({ detail }) => {
      if (this.kind === "web" && !detail.video) this._setScreenShared(false);
    });
    link.addEventListener("channel", ({ detail }) => this.annotator.setChannel(detail.channel));
    link.addEventListener("cobrowse", ({ detail }) => {
      this._setKind("web");
      this.cobrowse.attach(detail.channel);
    });
    link.addEventListener("state", ({ detail }) => this.peerNotices.mediaState(detail.state));
    return link;
  }

  /** The chat so far (a supervisor reads any session's timeline, §19.2). */
  async _loadChat(sessionId) {
    try {
      const timeline = await this.api.get(`/api/sessions/${encodeURIComponent(sessionId)}/events`);
      if (this.sessionId !== sessionId) return;
      for (const event of timeline.events ?? []) {
        if (event.kind !== "chat") continue;
        this.chat.add({
          session_id: sessionId,
          seq: event.seq,
          sender: event.detail?.supervisor ? "supervisor" : event.actor?.kind === "agent" ? "agent" : "device",
          name: String(event.actor?.name ?? ""),
          text: String(event.detail?.text ?? ""),
          at: event.at,
        });
      }
    } catch {
      // Only the lines before this console came; the new ones arrive anyway.
    }
  }

  _ended(data) {
    const reason = REASON_LABEL[data.reason] ?? "ended";
    const by = ENDED_BY[data.ended_by] ?? "";
    this._showEnded(`This session has ended (${reason}${by ? `, ${by}` : ""}).`);
  }

  /** The session is over (or could not be watched): say so, stop the media, offer Close. */
  _showEnded(text) {
    const hadFocus = this.root.contains(document.activeElement) || document.activeElement === document.body;
    this.ended = true;
    this._stopMedia();
    this.screen.showWait("The session is over.");
    this.chat.setEnabled(false);
    this.endedText.textContent = text;
    this.endedBox.hidden = false;
    this._renderMode();
    if (hadFocus) this.closeButton.focus();
  }

  _stopMedia() {
    this.link?.close();
    this.link = null;
    this.stage.stop();
    this.screen.stop();
    this.cobrowse.stop();
    this.peerNotices.stop();
    this.notices.clear();
  }

  _teardown() {
    this._stopMedia();
    this._setScreenShared(false);
    this._setKind(null);
    this.chat.setSession(null);
    Object.assign(this, { sessionId: null, session: null, mode: "watch", ended: false, _early: [], _lost: false });
    this.endedBox.hidden = true;
    this._renderMode();
  }

  // --- what shows -----------------------------------------------------------------------------------

  _renderHeader(session) {
    this.agentName.textContent = String(session.agent?.name ?? "") || this.agentName.textContent;
    this.customerName.textContent = String(session.device?.name ?? "") || "the customer";
    const web = session.device?.kind === "web";
    this.kindTag.textContent = web ? "Web page" : "Device";
    this.kindTag.hidden = false;
    const topic = String(session.topic ?? "");
    this.topic.textContent = topic;
    this.topic.title = `Topic: ${topic}`;
    this.topic.hidden = !topic;
    this.locale.textContent = session.locale ? formatLocale(session.locale) : "";
  }

  _renderPeople(watchers) {
    const list = Array.isArray(watchers) ? watchers : [];
    const me = this.api.agent?.id;
    this.people.replaceChildren(
      ...list.map((watcher) => {
        const mine = watcher.id === me;
        const mode = watcher.mode === "join" ? "join" : "watch";
        return h(
          "li",
          { class: `watch-person${mine ? " is-me" : ""}`, dataset: { mode } },
          h("bdi", { class: "watch-person-name", text: mine ? "You" : String(watcher.name ?? "") }),
          h("span", { class: "watch-person-mode", text: ` · ${MODE_LABEL[mode]}` }),
        );
      }),
    );
    if (list.length === 0) this.people.append(h("li", { class: "watch-person is-none", text: "Nobody" }));
  }

  _renderMode() {
    const joined = this.mode === "join" && !this.ended;
    const live = this.isOpen && !this.ended;
    this.root.dataset.watchMode = joined ? "join" : "watch";
    this.root.dataset.ended = String(this.ended);
    this.badge.textContent = this.ended ? "Session over" : MODE_TEXT[joined ? "join" : "watch"];
    this.joinButton.hidden = !live || joined;
    this.unjoinButton.hidden = !live || !joined;
    this.leaveButton.hidden = !live;
    this.toolbar.hidden = !joined;
    this.hint.hidden = joined || !live;
    this.stage.setDrawingUnavailable(joined ? null : WATCH_ONLY);
    this.chat.setEnabled(joined && Boolean(this.sessionId));
    if (joined) this.chat.input.placeholder = "Message the customer and the agent…";
    else if (this.ended) this.chat.input.placeholder = "The session is over";
  }

  _setBusy(busy) {
    this._busy = busy;
    for (const button of [this.joinButton, this.unjoinButton]) button.disabled = busy;
  }

  _setKind(kind) {
    if (kind === this.kind) return;
    this.kind = kind;
    if (kind) this.root.dataset.kind = kind;
    else delete this.root.dataset.kind;
    this.peerNotices.setKind(kind);
    if (kind === "web" && this.replay.firstPaintAt === null) this.screen.showWait("Connecting to the customer's page…");
  }

  /** A web visitor sharing their whole screen instead of the page: the video shows, not the replay. */
  _setScreenShared(on) {
    this.cobrowse.screenShared = on;
    if (on) this.root.dataset.screen = "shared";
    else delete this.root.dataset.screen;
    this.screen.setLabel(on ? "Customer's screen" : null);
  }
}
