// One support session in the centre of the console, from session.started to session.ended: its
// lifecycle and state, and nothing else.
//
// The pieces of the session view are panels of their own, built by main.js and handed in here:
// the stage and its mode (stage.js), the picture (screen.js), or a web page's replay instead
// (cobrowse.js), the session bar (sessionbar.js), the control button (consent.js), talk (talk.js),
// the end menu (endmenu.js), the notices about the customer's side (peer.js), chat, notes and the
// timeline. This module starts them when a session starts (or comes back after a reconnect or a
// reload) and stops them when it ends; the peer connection is rtc.js.
//
// The session's kind says what the customer is on: a `device` (its screen, as video) or a `web`
// page (co-browsing). session.started says so when the server knows (device.kind, "web" only when
// it is one); a `cobrowse` data channel says so in any case.
//
// A web customer can share their whole screen instead of the page (docs/cobrowse.md §5.1): the
// widget offers again with a video section, and while it has one the stage shows that video,
// labelled, instead of the replay, with remote control and drawing off; an offer without one is
// the page again.
//
// The agent can hand the customer on (transfer.js: the dialog behind the session bar's "Hand on…");
// a customer handed on to this agent comes with `handed_on` in session.started, shown in a card
// above the stage with the note and the earlier session.
//
// Events: `started` (the session.started payload), `ended` ({...session.ended, session, duration,
// handedOn}: handedOn, for a `transferred` end this console asked for, is where the customer went:
// {to, agentName, locale, topic}).

import { MediaLink } from "./rtc.js";
import { HandOnDialog, HandedOnCard } from "./transfer.js";

const RESUME_CHECK_MS = 3000;
const SCREEN_LABEL = "Customer's screen";
const SCREEN_NO_CONTROL =
  "The customer is sharing their screen instead of the page: remote control works on the page only";
const SCREEN_NO_DRAWING = "Drawing is off while the customer shares their screen instead of the page.";

export class SessionController extends EventTarget {
  constructor({
    view, signaling, api, toasts, notices, media, chat, notes, timeline, timelinePoller,
    annotator, control, stage, screen, cobrowse, bar, consent, talk, endMenu, peerNotices,
  }) {
    super();
    Object.assign(this, {
      view, signaling, api, toasts, notices, media, chat, notes, timeline, timelinePoller,
      annotator, control, stage, screen, cobrowse, bar, consent, talk, endMenu, peerNotices,
    });
    this.session = null; // the session.started payload of the current session
    this.kind = null; // "device" | "web" while in a session
    this.link = null;
    this.startedAt = null; // server time
    this.screenShared = false; // a web customer shares their whole screen instead of the page
    this._resumeCheck = null;
    this._handingOn = null; // where this console is handing the customer on to, till the answer

    this._bindServerEvents();
    endMenu.addEventListener("end", ({ detail }) => this.end(detail.reason));
    const host = view.closest(".console") ?? document.body;
    this.handOn = new HandOnDialog({
      button: bar.handOnButton, api, host,
      session: () => this.session,
      send: (request, colleague) => this.transfer(request, colleague),
    });
    this.handedOnCard = new HandedOnCard({ view, api, host });
  }

  get active() {
    return this.session !== null;
  }

  _bindServerEvents() {
    const s = this.signaling;
    s.on("session.started", (data) => this._started(data));
    s.addEventListener("status", ({ detail }) => {
      if (!this.session) return;
      if (detail.state === "connected") this._checkAfterReconnect();
      else this.control.connectionLost();
    });
    s.on("rtc.offer", (data) => {
      if (this._current(data)) this.link?.handleOffer(data.sdp);
    });
    s.on("rtc.ice", (data) => {
      if (this._current(data)) this.link?.handleIce(data.candidate);
    });
    s.on("session.peer", (data) => {
      if (this._current(data)) this.peerNotices.sessionPeer(data);
    });
    s.on("control.state", (data) => this.control.onState(data));
    s.on("session.ended", (data) => {
      if (this._current(data)) this._ended(data);
    });
  }

  /**
   * Back on the socket while in a session: the server re-sends session.started if the session
   * still runs. If it does not come, the session ended while we were away (e.g. the grace period
   * ran out); ask the server and wrap up instead of showing a frozen picture forever.
   */
  _checkAfterReconnect() {
    const sessionId = this.session.session_id;
    const check = (this._resumeCheck = setTimeout(async () => {
      if (this._resumeCheck !== check || this.session?.session_id !== sessionId) return;
      try {
        const record = await this.api.get(`/api/sessions/${encodeURIComponent(sessionId)}`);
        if (record.state === "ended" && this.session?.session_id === sessionId) {
          this._ended({ session_id: sessionId, reason: record.end_reason ?? "ended", ended_by: record.ended_by ?? "system" });
        }
      } catch {
        // Unknown or unreachable: leave it; the next event will tell.
      }
    }, RESUME_CHECK_MS));
  }

  _current(data) {
    return this.session !== null && data.session_id === this.session.session_id;
  }

  _started(data) {
    if (this._current(data)) {
      // Our socket came back into the running session (docs §9). The device offers again and
      // the link answers that on a fresh connection; until then the old one keeps the picture.
      this.session = data;
      this._resumeCheck = null;
      this.link?.setIceServers(data.ice_servers);
      this.control.afterResume();
      this.cobrowse.resumed(data);
      return;
    }
    if (this.session) this._teardown(); // a different session: should not happen
    this.session = data;
    this._handingOn = null;
    this.dispatchEvent(new CustomEvent("started", { detail: data }));
    this.link = this._newLink(data);

    const sessionId = data.session_id;
    this.startedAt = this.api.now(); // server time, like accepted_at from _restore()
    this.stage.start();
    this.control.setSession(sessionId);
    this.chat.setSession(sessionId);
    this.notes.setSession(sessionId);
    this.timeline.setSession(sessionId);
    this.timelinePoller.start();
    this.notices.clear();
    this.bar.start(data, { since: () => this.startedAt, pc: () => this.link?.pc ?? null });
    this.handedOnCard.show(data.handed_on);
    this.screen.start();
    this.cobrowse.start(data);
    this._setKind(data.device?.kind === "web" ? "web" : "device");
    this.view.hidden = false;
    this._restore(sessionId);
    this.talk.start(sessionId);
  }

  /** After a reload: the session's start time, notes and chat so far come from the server. */
  async _restore(sessionId) {
    try {
      const [session, timeline] = await Promise.all([
        this.api.get(`/api/sessions/${encodeURIComponent(sessionId)}`),
        this.api.get(`/api/sessions/${encodeURIComponent(sessionId)}/events`),
      ]);
      if (!this.session || this.session.session_id !== sessionId) return;
      if (session.accepted_at) this.startedAt = session.accepted_at;
      if (session.notes && !this.notes.textarea.value) this.notes.setSession(sessionId, session.notes);
      for (const event of timeline.events ?? []) {
        if (event.kind !== "chat") continue;
        this.chat.add({
          session_id: sessionId,
          seq: event.seq,
          sender: event.detail?.supervisor ? "supervisor" : event.actor?.kind === "agent" ? "agent" : "device",
          name: event.actor?.name ?? "",
          text: String(event.detail?.text ?? ""),
          at: event.at,
        });
      }
    } catch {
      // Only a convenience; the session works without it.
    }
  }

  _newLink(data) {
    const link = new MediaLink({
      signaling: this.signaling,
      sessionId: data.session_id,
      iceServers: data.ice_servers,
      media: this.media,
      onError: (what, error) => this.toasts.error(what, error),
    });
    link.addEventListener("screen", ({ detail }) => {
      if (this.kind === "web") this._setScreenShared(true);
      this.screen.show(detail.track, (track) => this._receives(track));
    });
    link.addEventListener("offer", ({ detail }) => {
      if (this.kind === "web" && !detail.video) this._setScreenShared(false);
    });
    link.addEventListener("channel", ({ detail }) => this._attachChannel(detail.channel));
    link.addEventListener("cobrowse", ({ detail }) => {
      this._setKind("web");
      this.cobrowse.attach(detail.channel);
    });
    link.addEventListener("state", ({ detail }) => this.peerNotices.mediaState(detail.state));
    return link;
  }

  /** Whether the session's current connection still receives `track`. */
  _receives(track) {
    return this.active && Boolean(this.link?.pc?.getReceivers().some((r) => r.track === track));
  }

  /** Web page or device: what the stage shows, the label in the bar, whether control is offered. */
  _setKind(kind) {
    if (kind === this.kind) return;
    this.kind = kind;
    if (kind) this.view.dataset.kind = kind;
    else delete this.view.dataset.kind;
    this.bar.setKind(kind);
    this.peerNotices.setKind(kind);
    // A web page is controlled through its replay (elements by node id), a device by its video.
    this.control.setPage(kind === "web" ? this.cobrowse.replay : null);
    if (kind === "web" && this.cobrowse.replay.firstPaintAt === null) {
      this.screen.showWait("Connecting to the customer's page…");
    }
  }

  /** A web customer's whole screen (true) or their page's replay (false) on the stage. */
  _setScreenShared(on) {
    if (on === this.screenShared) return;
    this.screenShared = on;
    this.cobrowse.screenShared = on;
    if (on) this.view.dataset.screen = "shared";
    else delete this.view.dataset.screen;
    this.consent.setUnavailable(on ? SCREEN_NO_CONTROL : null);
    this.stage.setControlUnavailable(on ? SCREEN_NO_CONTROL : null);
    this.stage.setDrawingUnavailable(on ? SCREEN_NO_DRAWING : null);
    if (on) {
      this.screen.setLabel(SCREEN_LABEL);
      this.screen.showWait("Connecting to the customer's screen…");
      return;
    }
    this.screen.stop();
    if (!this.session) return;
    if (this.cobrowse.replay.firstPaintAt === null) this.screen.showWait("Loading the customer's page…");
    else this.screen.hideWait();
  }

  /** The data channel carries our drawings out and the device's status in. */
  _attachChannel(channel) {
    this.annotator.setChannel(channel);
    channel.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message?.type !== "status") return;
      this.peerNotices.deviceStatus(message);
      this.dispatchEvent(new CustomEvent("devicestatus", { detail: message }));
    });
  }

  async end(reason) {
    this.endMenu.close();
    if (!this.session) return;
    const sessionId = this.session.session_id;
    this.endMenu.setBusy(true);
    await this.notes.flush();
    try {
      await this.signaling.request("session.end", { session_id: sessionId, reason });
      // session.ended follows and does the rest.
    } catch (error) {
      if (error.code === "not_found" && this._current({ session_id: sessionId })) {
        this._ended({ session_id: sessionId, reason, ended_by: "agent" });
      } else {
        this.toasts.error("Could not end the session", error);
      }
    } finally {
      this.endMenu.setBusy(false);
    }
  }

  /**
   * Hand the customer on (session.transfer; `colleague` is whom `request.agent_id` names). The
   * session.ended that follows may come before the ack: where the customer goes is kept for it.
   */
  async transfer(request, colleague = null) {
    if (!this._current(request)) return null;
    await this.notes.flush();
    const handingOn = {
      to: request.to,
      agentName: colleague?.name ?? "",
      locale: request.locale ?? this.session.locale,
      topic: request.topic ?? this.session.topic,
    };
    this._handingOn = handingOn;
    this.endMenu.setBusy(true);
    try {
      // Kept after the ack too: session.ended may come after it (it is read and cleared there).
      return await this.signaling.request("session.transfer", request);
    } catch (error) {
      if (this._handingOn === handingOn) this._handingOn = null;
      throw error;
    } finally {
      this.endMenu.setBusy(false);
    }
  }

  _ended(data) {
    const session = this.session;
    const now = this.api.now();
    const duration = now - (this.startedAt ?? now);
    const handedOn = data.reason === "transferred" ? this._handingOn : null;
    this._handingOn = null;
    this._teardown();
    this.dispatchEvent(new CustomEvent("ended", { detail: { ...data, session, duration, handedOn } }));
  }

  _teardown() {
    this.session = null;
    this.link?.close();
    this.link = null;
    this.bar.stop();
    this.talk.stop();
    this.stage.stop();
    this.control.setSession(null);
    this.notices.clear();
    this.endMenu.close();
    this.handOn.close();
    this.handedOnCard.hide();
    this.peerNotices.stop();
    this.timelinePoller.stop();
    this.screen.stop();
    this.cobrowse.stop();
    this._setScreenShared(false);
    this._setKind(null);
    this.notes.lock();
    this.chat.setEnabled(false);
    this.view.hidden = true;
  }
}
