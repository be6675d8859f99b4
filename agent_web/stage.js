// The stage: the customer's screen in the centre, where pointer and keys go, and the mode that
// decides where to. In Annotate mode they draw (annotate.js); in Control mode they reach the
// customer's device (control.js). One mode at a time, so drawing and control never fight over
// the pointer.
//
// The session lifecycle (session.js) starts and stops the stage; `active` says whether a session
// is on it, for the panels that only act during one. What the customer is on (the view's
// data-kind: "web" for a web page, else a device) decides how the stage's labels name it.
//
// The way out of Control mode by keyboard is Ctrl+Alt+Esc (LEAVE_CONTROL): in Control mode every
// other key, Tab, Shift+Tab and Esc included, belongs to the customer's device, so this one chord
// is kept here, never sent, and named in the hint above the picture while controlling.
//
// The view: the picture fits the free space (object-fit: contain), or shows at 100% or 150% of the
// customer's pixels in a scrolling box (.stage-scroll); the stage area (the strip above the picture
// and the stage) can go full screen. Input stays correct at every zoom: geometry.js maps through the
// video element's box, which at a zoom is exactly the picture.

import { $ } from "./dom.js";

/** The picture's zoom: "fit", or a number of display pixels per pixel of the customer's screen. */
export const ZOOMS = ["fit", "1", "1.5"];

/** The stage's labels, by what the customer is on: a web page (co-browsing) or a device. */
const LABELS = {
  web: {
    stage: "The customer's page",
    badge: "You are controlling the customer's page",
    annotate: "Annotate: draw on the customer's page (K toggles)",
    control: "Control: clicks and keys go to the customer's page; needs the customer's permission (K toggles, Ctrl+Alt+Esc leaves)",
    ask: "The customer has not allowed control of their page yet: press Request control first.",
  },
  device: {
    stage: "The customer's screen",
    badge: "You are controlling the customer's device",
    annotate: "Annotate: draw on the customer's screen (K toggles)",
    control: "Control: clicks and keys go to the device; needs the customer's permission (K toggles, Ctrl+Alt+Esc leaves)",
    ask: "The customer has not allowed control of their device yet: press Request control first.",
  },
};

export class Stage {
  /**
   * `root` is the #stage element, `view` the session view that holds the mode buttons
   * ([data-mode]) and shows the mode as data-mode; `video` the picture (default: #screen). A view
   * without mode buttons or a Control hint (a supervisor's watch view, watch.js) has no Control.
   */
  constructor({ root, view, annotator, control, toasts, video = null }) {
    Object.assign(this, { root, view, annotator, control, toasts });
    this.active = false;
    this.mode = "annotate";
    this.controlUnavailable = null; // why Control mode is not offered in this session at all
    this.drawingUnavailable = null; // why drawing is off for now (a web customer's shared screen)
    this.modeButtons = [...view.querySelectorAll("[data-mode]")];
    this.video = video ?? $("#screen", root);
    this.scroller = $(".stage-scroll", root);
    this.area = root.closest(".stage-area") ?? root;
    this.zoom = "fit";
    this.zoomButtons = [...view.querySelectorAll("[data-zoom]")];
    this.fullscreenButton = $(".fullscreen-button", view);
    this._labels = LABELS.device;
    this._showKind();
    // session.js sets the kind on the view when it knows (session.started, or a cobrowse channel).
    new MutationObserver(() => this._showKind()).observe(view, { attributeFilter: ["data-kind", "data-screen"] });
    for (const button of this.modeButtons) {
      button.addEventListener("click", () => this.setMode(button.dataset.mode));
    }
    // Control mode can only be chosen while the customer allows control.
    control.addEventListener("state", ({ detail }) => {
      const button = view.querySelector('[data-mode="control"]');
      if (button) button.disabled = detail.state !== "granted";
    });
    this._bindInput();
    this._bindView();
  }

  /** A session is on the stage: it starts in Annotate mode. */
  start() {
    this.active = true;
    this.forceMode("annotate");
  }

  /** The session is over: forget its marks, leave Control mode, full screen and the zoom. */
  stop() {
    this.active = false;
    this.annotator.reset();
    this.forceMode("annotate");
    this.setZoom("fit");
    if (this.fullscreen) document.exitFullscreen().catch(() => {});
  }

  /** Shortcuts must not fire while keys belong to the customer's device or page. */
  keysBelongToDevice() {
    return this.active && this.mode === "control" && document.activeElement === this.root;
  }

  /** Annotate or Control. Control needs the customer's permission (control.state granted). */
  setMode(mode) {
    if (mode === "control" && this.controlUnavailable) {
      this.toasts.show(this.controlUnavailable, "info", "Control is not available here", { key: "control" });
      return;
    }
    if (mode === "control" && !this.control.granted) {
      const waiting = this.control.state === "requested";
      this.toasts.show(
        waiting ? "You can take control once the customer taps Allow." : this._labels.ask,
        "info",
        waiting ? "Waiting for the customer" : "You cannot control yet",
        { key: "control" },
      );
      return;
    }
    this.forceMode(mode);
  }

  /** `reason` (text) when this session offers no Control mode (a web page, for now), else null. */
  setControlUnavailable(reason) {
    this.controlUnavailable = reason;
    const button = this.view.querySelector('[data-mode="control"]');
    if (button) button.title = reason ?? this._labels.control;
    if (reason) this.forceMode("annotate");
  }

  /** `reason` (text) while the agent cannot draw on what the stage shows, else null. */
  setDrawingUnavailable(reason) {
    this.drawingUnavailable = reason;
    this.annotator.finishDrawing();
    this.root.classList.toggle("no-drawing", Boolean(reason));
  }

  /** Name what the customer is on, a web page or a device, in the stage's labels. */
  _showKind() {
    this._labels = this.view.dataset.kind === "web" ? LABELS.web : LABELS.device;
    this.root.setAttribute("aria-label", this._labels.stage);
    // A web page's replay always fits (replay.js scales it); the zoom is for a screen's picture.
    if (this._zoomable() === false && this.zoom !== "fit") this.setZoom("fit");
    const [hint, annotate, control] = [".control-hint-text", '[data-mode="annotate"]', '[data-mode="control"]'].map(
      (selector) => this.view.querySelector(selector),
    );
    if (hint) hint.textContent = this._labels.badge;
    if (annotate) annotate.title = this._labels.annotate;
    if (control) control.title = this.controlUnavailable ?? this._labels.control;
  }

  toggleMode() {
    this.setMode(this.mode === "control" ? "annotate" : "control");
  }

  /** Switch without asking: for the session's start and end, and when consent changes. */
  forceMode(mode) {
    const stage = this.root;
    if (mode === this.mode && stage.classList.contains(`mode-${mode}`)) return;
    this.annotator.finishDrawing();
    this.control.pointerCancel();
    this.mode = mode;
    stage.classList.toggle("mode-control", mode === "control");
    stage.classList.toggle("mode-annotate", mode === "annotate");
    for (const button of this.modeButtons) {
      const on = button.dataset.mode === mode;
      button.classList.toggle("is-on", on);
      button.setAttribute("aria-pressed", String(on));
    }
    this.view.dataset.mode = mode;
    if (mode === "control") stage.focus({ preventScroll: true });
  }

  // --- zoom and full screen -----------------------------------------------------------------------

  get fullscreen() {
    return document.fullscreenElement === this.area;
  }

  /** "fit", "1" (100%) or "1.5" (150%). The centre of what shows stays in the centre. */
  setZoom(zoom) {
    zoom = String(zoom);
    if (!ZOOMS.includes(zoom) || (zoom !== "fit" && !this._zoomable())) zoom = "fit";
    const scroller = this.scroller;
    const centre = {
      x: (scroller.scrollLeft + scroller.clientWidth / 2) / Math.max(1, scroller.scrollWidth),
      y: (scroller.scrollTop + scroller.clientHeight / 2) / Math.max(1, scroller.scrollHeight),
    };
    this.zoom = zoom;
    for (const button of this.zoomButtons) {
      const on = button.dataset.zoom === zoom;
      button.classList.toggle("is-on", on);
      button.setAttribute("aria-pressed", String(on));
    }
    this._applyZoom();
    if (zoom !== "fit") {
      scroller.scrollLeft = centre.x * scroller.scrollWidth - scroller.clientWidth / 2;
      scroller.scrollTop = centre.y * scroller.scrollHeight - scroller.clientHeight / 2;
    }
    this.annotator.requestRender();
  }

  toggleFullscreen() {
    if (this.fullscreen) return document.exitFullscreen().catch(() => {});
    if (!this.area.requestFullscreen) {
      this.toasts.show("This browser cannot show the customer's screen in full screen.", "info", "No full screen");
      return Promise.resolve();
    }
    return this.area.requestFullscreen().catch((error) => {
      this.toasts.show(`The browser did not allow full screen: ${error.message}`, "warning", "No full screen");
    });
  }

  /** Whether the picture can zoom: a screen's video (not a web page's replay, which always fits). */
  _zoomable() {
    return this.view.dataset.kind !== "web" || this.view.dataset.screen === "shared";
  }

  /** The video at the zoom's size in the scrolling box (or filling it, letterboxed, at "fit"). */
  _applyZoom() {
    const { video, scroller } = this;
    const factor = Number(this.zoom);
    const zoomed = this.zoom !== "fit" && video.videoWidth > 0 && video.videoHeight > 0;
    scroller.classList.toggle("is-zoomed", zoomed);
    this.root.classList.toggle("is-zoomed", zoomed);
    if (zoomed) {
      video.style.setProperty("width", `${Math.round(video.videoWidth * factor)}px`);
      video.style.setProperty("height", `${Math.round(video.videoHeight * factor)}px`);
    } else {
      video.style.removeProperty("width");
      video.style.removeProperty("height");
    }
  }

  /** In Annotate mode, arrow keys, Page Up / Down and Home / End move a zoomed picture around. */
  _panKey(event) {
    const scroller = this.scroller;
    if (!scroller.classList.contains("is-zoomed") || event.ctrlKey || event.altKey || event.metaKey) return;
    const step = 60;
    const page = scroller.clientHeight * 0.9;
    const move = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
      PageUp: [0, -page],
      PageDown: [0, page],
      Home: [-scroller.scrollWidth, -scroller.scrollHeight],
      End: [scroller.scrollWidth, scroller.scrollHeight],
    }[event.key];
    if (!move) return;
    event.preventDefault();
    scroller.scrollBy(move[0], move[1]);
  }

  /** A press on the scrolling box's own scrollbars pans the view: not a mark, not a tap. */
  _onScrollbar(event) {
    const scroller = this.scroller;
    if (!scroller.classList.contains("is-zoomed")) return false;
    const box = scroller.getBoundingClientRect();
    return event.clientX - box.left >= scroller.clientWidth || event.clientY - box.top >= scroller.clientHeight;
  }

  _bindView() {
    for (const button of this.zoomButtons) {
      button.addEventListener("click", () => this.setZoom(button.dataset.zoom));
    }
    this.fullscreenButton.addEventListener("click", () => this.toggleFullscreen());
    document.addEventListener("fullscreenchange", () => {
      const on = this.fullscreen;
      this.fullscreenButton.setAttribute("aria-pressed", String(on));
      this.fullscreenButton.setAttribute("aria-label", on ? "Leave full screen" : "Full screen");
      this.fullscreenButton.title = on ? "Leave full screen (F or Esc)" : "Full screen (F; Esc leaves)";
      this.area.classList.toggle("is-fullscreen", on);
      this.annotator.requestRender();
    });
    // The customer's screen can change size (rotation, another monitor): keep the zoom's size.
    this.video.addEventListener("resize", () => this._applyZoom());
    this.scroller.addEventListener("scroll", () => this.annotator.requestRender(), { passive: true });
  }

  // --- pointer and keys, routed by mode ---------------------------------------------------------

  _bindInput() {
    const stage = this.root;
    stage.addEventListener("pointerdown", (event) => {
      if (!this.active || this._onScrollbar(event)) return;
      stage.focus({ preventScroll: true });
      if (this.mode === "annotate" && this.drawingUnavailable) {
        this.toasts.show(this.drawingUnavailable, "info", "Annotate", { key: "drawing" });
        return;
      }
      const handled = this.mode === "control" ? this.control.pointerDown(event) : this.annotator.pointerDown(event);
      if (handled) {
        stage.setPointerCapture(event.pointerId);
        event.preventDefault();
      }
    });
    stage.addEventListener("pointermove", (event) => {
      if (this.mode === "annotate" && !this.drawingUnavailable) this.annotator.pointerMove(event);
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
      if (this.mode !== "control") return this._panKey(event);
      if (isLeaveControl(event)) {
        // The one chord that stays here: back to Annotate mode, the focus stays on the stage.
        event.preventDefault();
        event.stopPropagation();
        this.forceMode("annotate");
        return;
      }
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
}

/** Ctrl+Alt+Esc: leaves Control mode (see the top of this file). */
export function isLeaveControl(event) {
  return event.key === "Escape" && event.ctrlKey && event.altKey && !event.metaKey;
}
