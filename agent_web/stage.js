// The stage: the customer's screen in the centre, where pointer and keys go, and the mode that
// decides where to. In Annotate mode they draw (annotate.js); in Control mode they reach the
// customer's device (control.js). One mode at a time, so drawing and control never fight over
// the pointer.
//
// The session lifecycle (session.js) starts and stops the stage; `active` says whether a session
// is on it, for the panels that only act during one. What the customer is on (the view's
// data-kind: "web" for a web page, else a device) decides how the stage's labels name it.

import { $ } from "./dom.js";

/** The stage's labels, by what the customer is on: a web page (co-browsing) or a device. */
const LABELS = {
  web: {
    stage: "The customer's page",
    badge: "Control: your clicks and keys go to the customer's page",
    annotate: "Annotate: draw on the customer's page (K toggles)",
    control: "Control: clicks and keys go to the customer's page; needs the customer's permission (K toggles)",
    ask: "Request control first; the customer has to allow it on their page.",
  },
  device: {
    stage: "The customer's screen",
    badge: "Control: your clicks and keys go to the customer's device",
    annotate: "Annotate: draw on the customer's screen (K toggles)",
    control: "Control: clicks and keys go to the device; needs the customer's permission (K toggles)",
    ask: "Request control first; the customer has to allow it on their device.",
  },
};

export class Stage {
  /**
   * `root` is the #stage element, `view` the session view that holds the mode buttons
   * ([data-mode]) and shows the mode as data-mode.
   */
  constructor({ root, view, annotator, control, toasts }) {
    Object.assign(this, { root, view, annotator, control, toasts });
    this.active = false;
    this.mode = "annotate";
    this.controlUnavailable = null; // why Control mode is not offered in this session at all
    this.drawingUnavailable = null; // why drawing is off for now (a web customer's shared screen)
    this.modeButtons = [...view.querySelectorAll("[data-mode]")];
    this._labels = LABELS.device;
    this._showKind();
    // session.js sets the kind on the view when it knows (session.started, or a cobrowse channel).
    new MutationObserver(() => this._showKind()).observe(view, { attributeFilter: ["data-kind"] });
    for (const button of this.modeButtons) {
      button.addEventListener("click", () => this.setMode(button.dataset.mode));
    }
    // Control mode can only be chosen while the customer allows control.
    control.addEventListener("state", ({ detail }) => {
      $('[data-mode="control"]', view).disabled = detail.state !== "granted";
    });
    this._bindInput();
  }

  /** A session is on the stage: it starts in Annotate mode. */
  start() {
    this.active = true;
    this.forceMode("annotate");
  }

  /** The session is over: forget its marks and leave Control mode. */
  stop() {
    this.active = false;
    this.annotator.reset();
    this.forceMode("annotate");
  }

  /** Shortcuts must not fire while keys belong to the customer's device or page. */
  keysBelongToDevice() {
    return this.active && this.mode === "control" && document.activeElement === this.root;
  }

  /** Annotate or Control. Control needs the customer's permission (control.state granted). */
  setMode(mode) {
    if (mode === "control" && this.controlUnavailable) {
      this.toasts.show(this.controlUnavailable, "info", "Control mode", { key: "control" });
      return;
    }
    if (mode === "control" && !this.control.granted) {
      this.toasts.show(
        this.control.state === "requested"
          ? "Waiting for the customer to allow control."
          : this._labels.ask,
        "info",
        "Control mode",
      );
      return;
    }
    this.forceMode(mode);
  }

  /** `reason` (text) when this session offers no Control mode (a web page, for now), else null. */
  setControlUnavailable(reason) {
    this.controlUnavailable = reason;
    $('[data-mode="control"]', this.view).title = reason ?? this._labels.control;
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
    $(".mode-badge", this.root).textContent = this._labels.badge;
    $('[data-mode="annotate"]', this.view).title = this._labels.annotate;
    $('[data-mode="control"]', this.view).title = this.controlUnavailable ?? this._labels.control;
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

  // --- pointer and keys, routed by mode ---------------------------------------------------------

  _bindInput() {
    const stage = this.root;
    stage.addEventListener("pointerdown", (event) => {
      if (!this.active) return;
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
}
