// One support session in the centre of the console: the customer's live screen, the tools,
// control, talk, and the end with its wrap-up.
//
// This module only coordinates: the peer connection is rtc.js, drawing annotate.js, control
// control.js, chat/notes/timeline their own panels. What lives here is the session's lifecycle
// (started → offers → ended), the Annotate/Control mode (so drawing and control never fight over
// the pointer), and what the agent is told about the customer's side (paused, hidden regions,
// reconnecting).

import { Annotator, COLORS, TOOLS } from "./annotate.js";
import { STATUS_TEXT, RemoteControl } from "./control.js";
import { $, formatDuration, formatLocale, h } from "./dom.js";
import { MediaLink } from "./rtc.js";
import { QualityMeter, describeQuality } from "./stats.js";
import { TimelinePanel } from "./timeline.js";

const TIMELINE_REFRESH_MS = 5000;
const MIC_FALLBACK_MS = 3000;
const RESUME_CHECK_MS = 3000;

export class SessionController extends EventTarget {
  constructor({ signaling, api, toasts, notices, media, chat, notes, tabs }) {
    super();
    Object.assign(this, { signaling, api, toasts, notices, media, chat, notes, tabs });
    this.session = null; // the session.started payload of the current session
    this.link = null;
    this.mode = "annotate";
    this._peerTimer = null;
    this._clockTimer = null;
    this._timelineTimer = null;
    this._startedAt = null;
    this._firstFrame = false;
    this._resumeCheck = null;

    this.view = $("#session");
    this.stage = $("#stage");
    this.video = $("#screen");
    this.selfview = $("#selfview");
    this.wait = $(".stage-wait", this.stage);
    this.waitText = $(".stage-wait-text", this.stage);
    this.quality = $(".quality", this.view);
    this.controlButton = $(".control-button", this.view);
    this.controlStatus = $(".control-status", this.view);
    this.controlAction = $(".control-action", this.view);
    this.micButton = $(".mic-button", this.view);
    this.camButton = $(".cam-button", this.view);
    this.endButton = $(".end-button", this.view);
    this.endMenu = $(".end-menu", this.view);

    this.annotator = new Annotator({ stage: this.stage, video: this.video, canvas: $("#marks"), toasts });
    this.control = new RemoteControl({ signaling, stage: this.stage, video: this.video, toasts });
    this.meter = new QualityMeter(
      () => this.link?.pc ?? null,
      (quality) => this._showQuality(quality),
    );
    this.timeline = new TimelinePanel({
      list: $(".session-timeline"),
      status: $(".timeline-status"),
      api,
    });

    this._bindServerEvents();
    this._bindStage();
    this._bindToolbar();
    this._bindSessionBar();
    media.addEventListener("change", () => this._renderTalk());
    this.control.addEventListener("state", (event) => this._controlChanged(event.detail));
    tabs.addEventListener("change", () => this._timelineVisibility());
  }

  get active() {
    return this.session !== null;
  }

  /** Shortcuts must not fire while keys belong to the customer's device. */
  keysBelongToDevice() {
    return this.active && this.mode === "control" && document.activeElement === this.stage;
  }

  // --- lifecycle ------------------------------------------------------------------------------

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
      if (this._current(data)) this._peer(data);
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
      return;
    }
    if (this.session) this._teardown(); // a different session: should not happen
    this.session = data;
    this.dispatchEvent(new CustomEvent("started", { detail: data }));
    this.link = this._newLink(data);

    this._firstFrame = false;
    this._startedAt = this.api.now(); // server time, like accepted_at from _restore()
    this.control.setSession(data.session_id);
    this.chat.setSession(data.session_id);
    this.notes.setSession(data.session_id);
    this.timeline.setSession(data.session_id);
    this.notices.clear();
    this._setMode("annotate");
    $(".who-device", this.view).textContent = data.device?.name ?? "Customer";
    $(".who-topic", this.view).textContent = data.topic ?? "";
    const locale = $(".who-locale", this.view);
    locale.textContent = data.locale ?? "";
    locale.title = `Language: ${formatLocale(data.locale)}`;
    this._showWait("Connecting to the customer's screen…");
    this.view.hidden = false;
    this._clockTimer = setInterval(() => this._tickClock(), 1000);
    this._tickClock();
    this.meter.start();
    this._restore(data.session_id);
    // If the picture takes long (or never comes), talking should not wait for it.
    const sessionId = data.session_id;
    setTimeout(() => {
      if (this.session?.session_id === sessionId) this._startMic();
    }, MIC_FALLBACK_MS);
  }

  /** The microphone starts once the picture is there: the first frame must not wait for it. */
  _startMic() {
    this.media.startMic().then(() => {
      if (this.media.micError && this.active) {
        this.toasts.show(`Talking is off: ${this.media.micError}.`, "warning", "Microphone", { key: "mic" });
      }
    });
  }

  /** After a reload: the session's start time, notes and chat so far come from the server. */
  async _restore(sessionId) {
    try {
      const [session, timeline] = await Promise.all([
        this.api.get(`/api/sessions/${encodeURIComponent(sessionId)}`),
        this.api.get(`/api/sessions/${encodeURIComponent(sessionId)}/events`),
      ]);
      if (!this.session || this.session.session_id !== sessionId) return;
      if (session.accepted_at) this._startedAt = session.accepted_at;
      if (session.notes && !this.notes.textarea.value) this.notes.setSession(sessionId, session.notes);
      for (const event of timeline.events ?? []) {
        if (event.kind !== "chat") continue;
        this.chat.add({
          session_id: sessionId,
          seq: event.seq,
          sender: event.actor?.kind === "agent" ? "agent" : "device",
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
    link.addEventListener("screen", ({ detail }) => this._showScreen(detail.track));
    link.addEventListener("channel", ({ detail }) => this._attachChannel(detail.channel));
    link.addEventListener("state", ({ detail }) => this._mediaState(detail.state));
    return link;
  }

  async end(reason) {
    this._closeEndMenu();
    if (!this.session) return;
    const sessionId = this.session.session_id;
    this.endButton.disabled = true;
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
      this.endButton.disabled = false;
    }
  }

  _ended(data) {
    const session = this.session;
    const now = this.api.now();
    const duration = now - (this._startedAt ?? now);
    this._teardown();
    this.dispatchEvent(new CustomEvent("ended", { detail: { ...data, session, duration } }));
  }

  _teardown() {
    this.session = null;
    this.link?.close();
    this.link = null;
    this.meter.stop();
    this.media.stopAll();
    this.annotator.reset();
    this.control.setSession(null);
    this.notices.clear();
    this._closeEndMenu();
    clearInterval(this._peerTimer);
    clearInterval(this._clockTimer);
    clearInterval(this._timelineTimer);
    this._peerTimer = this._clockTimer = this._timelineTimer = null;
    this.video.srcObject = null;
    this.selfview.srcObject = null;
    this.selfview.hidden = true;
    this.notes.lock();
    this.chat.setEnabled(false);
    this._setMode("annotate");
    this.view.hidden = true;
  }

  // --- media ----------------------------------------------------------------------------------

  _showScreen(track, waited = false) {
    if (this.video.srcObject && track.muted && !waited) {
      // A re-offer: keep the last picture of the old connection until the new one has media,
      // rather than blanking the screen while ICE and DTLS run again.
      const swap = () => {
        clearTimeout(fallback);
        track.removeEventListener("unmute", swap);
        if (this.active && this.link?.pc?.getReceivers().some((r) => r.track === track)) {
          this._showScreen(track, true);
        }
      };
      const fallback = setTimeout(swap, 3000);
      track.addEventListener("unmute", swap);
      return;
    }
    this.video.srcObject = new MediaStream([track]);
    const shown = () => {
      if (this.video.srcObject?.getVideoTracks()[0] !== track) return;
      if (!this._firstFrame) this._startMic();
      this._firstFrame = true;
      this.wait.hidden = true;
      this.annotator.requestRender();
    };
    if (typeof this.video.requestVideoFrameCallback === "function") {
      this.video.requestVideoFrameCallback(shown);
    } else {
      this.video.addEventListener("loadeddata", shown, { once: true });
    }
    this.video.play().catch(() => {
      // Autoplay of a muted video is always allowed; a failure here means no frames yet.
    });
  }

  _attachChannel(channel) {
    this.annotator.setChannel(channel);
    channel.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message?.type === "status") this._deviceStatus(message);
    });
  }

  _deviceStatus({ sharing_paused: paused, hidden_regions: hidden }) {
    if (paused) {
      this.notices.set("paused", "The customer paused screen sharing. The picture comes back when they resume.", "warning");
    } else {
      this.notices.remove("paused");
    }
    const count = Number(hidden) || 0;
    if (count > 0) {
      const areas = count === 1 ? "1 area is" : `${count} areas are`;
      this.notices.set("hidden", `${areas} hidden for privacy (e.g. a password field).`, "info");
    } else {
      this.notices.remove("hidden");
    }
  }

  _mediaState(state) {
    if (state === "connected") {
      this.notices.remove("media");
    } else if (state === "disconnected") {
      this.notices.set("media", "The picture is interrupted; waiting for the connection to recover…", "warning");
    } else if (state === "failed") {
      this.notices.set("media", "The media connection failed; the customer's device is reconnecting…", "error");
    }
  }

  _showWait(text) {
    this.waitText.textContent = text;
    this.wait.hidden = false;
  }

  _showQuality(quality) {
    const { rate, rtt, level } = describeQuality(quality);
    $(".quality-rate", this.quality).textContent = rate;
    $(".quality-rtt", this.quality).textContent = rtt;
    this.quality.dataset.level = level;
  }

  _peer({ peer, connected, grace_s: grace }) {
    if (peer !== "device") return;
    clearInterval(this._peerTimer);
    this._peerTimer = null;
    if (connected) {
      this.notices.remove("peer");
      this.toasts.show("The customer's device is back.", "success");
      return;
    }
    const until = performance.now() + (Number(grace) || 0) * 1000;
    const tick = () => {
      const left = Math.max(0, Math.ceil((until - performance.now()) / 1000));
      this.notices.set(
        "peer",
        left > 0
          ? `The customer is reconnecting… the session ends in ${left} s if they do not come back.`
          : "The customer did not come back; the session is ending.",
        "warning",
      );
    };
    tick();
    this._peerTimer = setInterval(tick, 1000);
  }

  _tickClock() {
    if (this._startedAt === null) return;
    $(".who-duration", this.view).textContent = formatDuration(this.api.now() - this._startedAt);
  }

  // --- the stage: pointer and keys, routed by mode ---------------------------------------------

  _bindStage() {
    const stage = this.stage;
    stage.addEventListener("pointerdown", (event) => {
      if (!this.active) return;
      stage.focus({ preventScroll: true });
      const handled = this.mode === "control" ? this.control.pointerDown(event) : this.annotator.pointerDown(event);
      if (handled) {
        stage.setPointerCapture(event.pointerId);
        event.preventDefault();
      }
    });
    stage.addEventListener("pointermove", (event) => {
      if (this.mode === "annotate") this.annotator.pointerMove(event);
    });
    stage.addEventListener("pointerup", (event) => {
      if (this.mode === "control") this.control.pointerUp(event);
      else this.annotator.pointerUp(event);
    });
    stage.addEventListener("pointercancel", () => {
      this.control.pointerCancel();
      this.annotator.finishDrawing();
    });
    stage.addEventListener("pointerleave", () => this.annotator.pointerLeave());
    stage.addEventListener(
      "wheel",
      (event) => {
        if (this.mode === "control") this.control.wheel(event);
      },
      { passive: false },
    );
    stage.addEventListener("keydown", (event) => {
      if (this.mode !== "control") return;
      if (this.control.keyDown(event)) {
        event.preventDefault();
        event.stopPropagation();
      }
    });
    stage.addEventListener("paste", (event) => {
      if (this.mode === "control") this.control.paste(event);
    });
    stage.addEventListener("compositionend", (event) => {
      if (this.mode === "control") this.control.compositionEnd(event);
    });
    stage.addEventListener("contextmenu", (event) => event.preventDefault());
  }

  // --- toolbar ----------------------------------------------------------------------------------

  _bindToolbar() {
    for (const button of this.view.querySelectorAll("[data-mode]")) {
      button.addEventListener("click", () => this.setMode(button.dataset.mode));
    }
    for (const button of this.view.querySelectorAll("[data-tool]")) {
      button.addEventListener("click", () => this.selectTool(button.dataset.tool));
    }
    const swatches = $(".swatches", this.view);
    COLORS.forEach(({ value, name }, index) => {
      const swatch = h("button", {
        class: "swatch",
        type: "button",
        title: `${name} (${index + 1})`,
        "aria-label": name,
        "aria-pressed": "false",
        dataset: { color: value },
      });
      swatch.style.setProperty("--swatch", value);
      swatch.addEventListener("click", () => this.selectColor(value));
      swatches.append(swatch);
    });
    $(".undo-button", this.view).addEventListener("click", () => this.undo());
    $(".clear-button", this.view).addEventListener("click", () => this.clearMarks());
    $(".pin-button", this.view).addEventListener("click", () => this.togglePin());
    this.annotator.addEventListener("change", () => this._renderTools());
    this._renderTools();
  }

  selectTool(tool) {
    if (!TOOLS.includes(tool)) return;
    this.annotator.setTool(tool);
    if (this.mode !== "annotate") this.setMode("annotate");
  }

  selectColor(color) {
    this.annotator.setColor(color);
  }

  undo() {
    if (this.active) this.annotator.undo();
  }

  togglePin() {
    this.annotator.setPinned(!this.annotator.pinned);
  }

  clearMarks() {
    if (this.active) this.annotator.clear();
  }

  _renderTools() {
    for (const button of this.view.querySelectorAll("[data-tool]")) {
      const on = button.dataset.tool === this.annotator.tool;
      button.classList.toggle("is-on", on);
      button.setAttribute("aria-pressed", String(on));
    }
    const pin = $(".pin-button", this.view);
    pin.classList.toggle("is-on", this.annotator.pinned);
    pin.setAttribute("aria-pressed", String(this.annotator.pinned));
    for (const swatch of this.view.querySelectorAll("[data-color]")) {
      const on = swatch.dataset.color === this.annotator.color;
      swatch.classList.toggle("is-on", on);
      swatch.setAttribute("aria-pressed", String(on));
    }
    this.stage.className = this.stage.className.replace(/\btool-\S+/g, "").trim() + ` tool-${this.annotator.tool}`;
  }

  /** Annotate or Control. Control needs the customer's permission (control.state granted). */
  setMode(mode) {
    if (mode === "control" && !this.control.granted) {
      this.toasts.show(
        this.control.state === "requested"
          ? "Waiting for the customer to allow control."
          : "Request control first; the customer has to allow it on their device.",
        "info",
        "Control mode",
      );
      return;
    }
    this._setMode(mode);
  }

  toggleMode() {
    this.setMode(this.mode === "control" ? "annotate" : "control");
  }

  _setMode(mode) {
    if (mode === this.mode && this.stage.classList.contains(`mode-${mode}`)) return;
    this.annotator.finishDrawing();
    this.control.pointerCancel();
    this.mode = mode;
    this.stage.classList.toggle("mode-control", mode === "control");
    this.stage.classList.toggle("mode-annotate", mode === "annotate");
    for (const button of this.view.querySelectorAll("[data-mode]")) {
      const on = button.dataset.mode === mode;
      button.classList.toggle("is-on", on);
      button.setAttribute("aria-pressed", String(on));
    }
    this.view.dataset.mode = mode;
    if (mode === "control") this.stage.focus({ preventScroll: true });
  }

  // --- control ----------------------------------------------------------------------------------

  _controlChanged({ state, reason, previous }) {
    const granted = state === "granted";
    $('[data-mode="control"]', this.view).disabled = !granted;
    this._renderControl();
    if (!this.active) return;
    const key = { key: "control" };
    if (granted && previous !== "granted") {
      this._setMode("control");
      this.toasts.show(this.control.describe(), "success", "Control granted", key);
    } else if (!granted && previous === "granted") {
      // The customer took it back (or the connection dropped): stop sending input at once.
      this._setMode("annotate");
      const kind = reason === "released" ? "info" : "warning";
      this.toasts.show(`${this.control.describe()} Back in Annotate mode.`, kind, "Control ended", key);
    } else if (reason === "denied" || reason === "expired") {
      this.toasts.show(this.control.describe(), "warning", "Control", key);
    }
    if (state === "suspended") this.notices.set("control", this.control.describe(), "warning");
    else this.notices.remove("control");
  }

  /** The button says where consent stands (pending, granted, denied, …) and what a click does. */
  _renderControl() {
    const { state, reason } = this.control;
    const actions = { none: "Request control", requested: "Cancel", granted: "Release", suspended: "Release" };
    const status = state === "none" ? (reason === "released" || reason === "ended" ? null : STATUS_TEXT[reason]) : STATUS_TEXT[state];
    this.controlAction.textContent =
      state === "none" && status ? "Ask again" : (actions[state] ?? "Request control");
    this.controlStatus.textContent = status ?? "";
    this.controlStatus.hidden = !status;
    this.controlButton.dataset.state = state === "none" ? (status ? reason : "none") : state;
    const tips = {
      none: "Ask the customer to allow remote control",
      requested: "Waiting for the customer to allow control; click to withdraw the request",
      granted: "Remote control is on; click to give control back to the customer",
      suspended: "Control is suspended while the connection recovers; click to give it back",
    };
    this.controlButton.title = `Remote control${status ? ` ${status}` : ""}. ${tips[state] ?? tips.none}`;
  }

  // --- talk, end --------------------------------------------------------------------------------

  _bindSessionBar() {
    this.controlButton.addEventListener("click", () => {
      if (this.control.state === "none") this.control.request();
      else this.control.release();
    });
    this.micButton.addEventListener("click", () => this.toggleMute());
    this.camButton.addEventListener("click", () => this.toggleCamera());
    this.endButton.addEventListener("click", (event) => {
      event.stopPropagation();
      if (this.endMenu.hidden) this._openEndMenu();
      else this._closeEndMenu();
    });
    for (const item of this.endMenu.querySelectorAll("[data-reason]")) {
      item.addEventListener("click", () => this.end(item.dataset.reason));
    }
    document.addEventListener("click", (event) => {
      if (!this.endMenu.hidden && !this.endMenu.contains(event.target)) this._closeEndMenu();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.endMenu.hidden) this._closeEndMenu();
    });
    this._renderTalk();
    this._renderControl();
  }

  _openEndMenu() {
    this.endMenu.hidden = false;
    this.endButton.setAttribute("aria-expanded", "true");
    this.endMenu.querySelector("[data-reason]")?.focus();
  }

  _closeEndMenu() {
    this.endMenu.hidden = true;
    this.endButton.setAttribute("aria-expanded", "false");
  }

  toggleMute() {
    if (!this.active) return;
    if (!this.media.mic) {
      this.media.startMic().then(() => {
        if (this.media.micError) this.toasts.show(this.media.micError, "warning", "Microphone");
      });
      return;
    }
    this.media.setMuted(!this.media.muted);
  }

  async toggleCamera() {
    if (!this.active) return;
    try {
      await this.media.toggleCamera();
    } catch (error) {
      this.toasts.error("Camera", error);
    }
  }

  _renderTalk() {
    const { mic, muted, micError, camera } = this.media;
    const off = !mic || muted;
    this.micButton.classList.toggle("is-off", off);
    this.micButton.classList.toggle("is-warning", Boolean(micError));
    this.micButton.setAttribute("aria-pressed", String(muted));
    $("use", this.micButton).setAttribute("href", off ? "#i-mic-off" : "#i-mic");
    this.micButton.title = micError
      ? `Microphone unavailable: ${micError} (M to retry)`
      : !mic
        ? "Microphone starting…"
        : muted
          ? "Unmute your microphone (M)"
          : "Mute your microphone (M)";
    this.micButton.setAttribute("aria-label", muted ? "Unmute microphone" : "Mute microphone");
    this.camButton.classList.toggle("is-on", Boolean(camera));
    this.camButton.setAttribute("aria-pressed", String(Boolean(camera)));
    this.camButton.title = camera ? "Stop showing your camera (V)" : "Show your camera to the customer (V)";
    this.selfview.hidden = !camera;
    if ((this.selfview.srcObject?.getVideoTracks()[0] ?? null) !== camera) {
      this.selfview.srcObject = camera ? new MediaStream([camera]) : null;
    }
  }

  // --- the timeline tab -------------------------------------------------------------------------

  _timelineVisibility() {
    clearInterval(this._timelineTimer);
    this._timelineTimer = null;
    if (this.tabs.current !== "timeline" || !this.timeline.sessionId) return;
    this.timeline.refresh();
    if (this.active) this._timelineTimer = setInterval(() => this.timeline.refresh(), TIMELINE_REFRESH_MS);
  }
}
