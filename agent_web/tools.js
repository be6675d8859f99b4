// The drawing tools under the stage: pen, arrow, circle, highlight and laser, the colour
// swatches, Undo, Clear and Pin. The buttons show what the annotator holds (annotate.js fires
// `change`), so a shortcut and a click look the same.

import { COLORS, TOOLS } from "./annotate.js";
import { $, h } from "./dom.js";

export class ToolBar {
  /** `root` is the .toolbar; `stage` owns the mode (a tool means Annotate) and says if a session runs. */
  constructor({ root, annotator, stage }) {
    Object.assign(this, { root, annotator, stage });
    for (const button of root.querySelectorAll("[data-tool]")) {
      button.addEventListener("click", () => this.select(button.dataset.tool));
    }
    const swatches = $(".swatches", root);
    (annotator.colors ?? COLORS).forEach(({ value, name }, index) => {
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
    this.pinButton = $(".pin-button", root);
    $(".undo-button", root).addEventListener("click", () => this.undo());
    $(".clear-button", root).addEventListener("click", () => this.clear());
    this.pinButton.addEventListener("click", () => this.togglePin());
    annotator.addEventListener("change", () => this._render());
    this._render();
  }

  select(tool) {
    if (!TOOLS.includes(tool)) return;
    this.annotator.setTool(tool);
    if (this.stage.mode !== "annotate") this.stage.setMode("annotate");
  }

  selectColor(color) {
    this.annotator.setColor(color);
  }

  undo() {
    if (this.stage.active) this.annotator.undo();
  }

  clear() {
    if (this.stage.active) this.annotator.clear();
  }

  togglePin() {
    this.annotator.setPinned(!this.annotator.pinned);
  }

  _render() {
    const { tool, color, pinned } = this.annotator;
    for (const button of this.root.querySelectorAll("[data-tool]")) {
      const on = button.dataset.tool === tool;
      button.classList.toggle("is-on", on);
      button.setAttribute("aria-pressed", String(on));
    }
    this.pinButton.classList.toggle("is-on", pinned);
    this.pinButton.setAttribute("aria-pressed", String(pinned));
    for (const swatch of this.root.querySelectorAll("[data-color]")) {
      const on = swatch.dataset.color === color;
      swatch.classList.toggle("is-on", on);
      swatch.setAttribute("aria-pressed", String(on));
    }
    const stage = this.stage.root;
    stage.className = stage.className.replace(/\btool-\S+/g, "").trim() + ` tool-${tool}`;
  }
}
