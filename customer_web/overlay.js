// The agent's marks on the customer's real page (docs/cobrowse.md, "Drawing"): the same messages
// as on a device's `annotations` channel (signaling/annotations.py), drawn the way the device
// draws them (device_agent/overlay.py), but in **document** coordinates: a point (x, y) is at
// x·scrollWidth, y·scrollHeight of the page as laid out now, so a mark stays on the content it
// points at when the customer scrolls, and follows it when the page is resized.
//
// The overlay is an SVG in the shadow root of its own element, <mayday-marks>, absolutely placed
// at the document's origin. It never takes a click (`pointer-events: none` everywhere), the
// page's CSS cannot reach inside it, and rrweb does not record it (recorder.js blocks the tag:
// the host is a 0×0 box; its shadow root is closed, so rrweb never looks into it).

export const OVERLAY_TAG = "mayday-marks";

// device_agent/overlay.py: marks fade out over the last second of 8 s; the laser dot goes 1.5 s
// after the last message; a highlight is a pen 5× as wide at 35 % opacity.
export const FADE_S = 8;
const FADE_DURATION_S = 1;
const LASER_LIFETIME_MS = 1500;
const LASER_FADE_MS = 500;
const HIGHLIGHT_ALPHA = 0.35;
const TICK_MS = 50;
const SVG = "http://www.w3.org/2000/svg";

// --- validation: signaling/annotations.py, rule for rule -------------------------------------

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const COLOR = /^#[0-9a-fA-F]{6}$/;
const TOOLS = ["pen", "arrow", "circle", "highlight"];
const MAX_POINTS = 2000;
const FIELDS = {
  stroke: ["type", "id", "tool", "color", "width", "points", "pinned", "done"],
  laser: ["type", "x", "y", "color"],
  undo: ["type"],
  clear: ["type"],
  pin: ["type", "id", "pinned"],
};

const isUnit = (v) => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;
const optional = (value, check, fallback) => (value === undefined ? fallback : check(value) ? value : null);
const isBool = (v) => typeof v === "boolean";
const isColor = (v) => typeof v === "string" && COLOR.test(v);

/** One `annotations` frame → a message with its defaults filled in, or null (ignore it). */
export function parseAnnotation(raw) {
  if (typeof raw !== "string") return null;
  let m;
  try {
    m = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!m || typeof m !== "object" || Array.isArray(m)) return null;
  const fields = FIELDS[m.type];
  if (!fields || !Object.keys(m).every((key) => fields.includes(key))) return null; // extra="forbid"
  if (m.type === "undo" || m.type === "clear") return { type: m.type };
  if (m.type === "pin") {
    const pinned = optional(m.pinned, isBool, true);
    return typeof m.id === "string" && ID.test(m.id) && pinned !== null ? { type: "pin", id: m.id, pinned } : null;
  }
  if (m.type === "laser") {
    const color = optional(m.color, isColor, "#ff2d55");
    return isUnit(m.x) && isUnit(m.y) && color ? { type: "laser", x: m.x, y: m.y, color } : null;
  }
  const color = optional(m.color, isColor, "#ff3b30");
  const width = optional(m.width, (v) => typeof v === "number" && v > 0 && v <= 0.05, 0.004);
  const pinned = optional(m.pinned, isBool, false);
  const done = optional(m.done, isBool, true);
  const points = m.points;
  const pointsOk =
    Array.isArray(points) &&
    points.length >= 1 &&
    points.length <= MAX_POINTS &&
    points.every((p) => Array.isArray(p) && p.length === 2 && isUnit(p[0]) && isUnit(p[1]));
  if (typeof m.id !== "string" || !ID.test(m.id) || !TOOLS.includes(m.tool)) return null;
  if (!color || width === null || pinned === null || done === null || !pointsOk) return null;
  return { type: "stroke", id: m.id, tool: m.tool, color, width, points, pinned, done };
}

// --- the overlay --------------------------------------------------------------------------------

export class PageOverlay {
  constructor(doc = document) {
    this.doc = doc;
    this.marks = new Map(); // id → {stroke, updatedAt}, oldest first
    this.laser = null; // {message, at}
    this.size = { width: 0, height: 0 };
    this._timer = null;
    this.host = doc.createElement(OVERLAY_TAG);
    // CSSOM, not a style attribute the page's CSP could refuse; 0×0, so rrweb's blocked box for
    // it (and any layout it could take part in) has no size.
    Object.assign(this.host.style, {
      position: "absolute",
      left: "0",
      top: "0",
      width: "0",
      height: "0",
      margin: "0",
      padding: "0",
      border: "0",
      overflow: "visible",
      display: "block",
      pointerEvents: "none",
      zIndex: "2147483646",
    });
    this.host.setAttribute("aria-hidden", "true");
    // Closed: rrweb sees no shadow root on the host, so it neither records nor even observes
    // what happens inside (an open one would get rrweb's MutationObserver, blocked host or not).
    // Tests and QA reach it through the host's `marks` property.
    const root = this.host.attachShadow({ mode: "closed" });
    Object.defineProperty(this.host, "marks", { value: root });
    this.svg = doc.createElementNS(SVG, "svg");
    this.svg.setAttribute("part", "marks");
    Object.assign(this.svg.style, {
      position: "absolute",
      left: "0",
      top: "0",
      overflow: "visible",
      pointerEvents: "none",
      display: "block",
    });
    root.append(this.svg);
    doc.documentElement.append(this.host);
    this._relayout = () => this.layout();
    this._observer = new ResizeObserver(this._relayout);
    this._observer.observe(doc.documentElement);
    if (doc.body) this._observer.observe(doc.body);
    doc.defaultView?.addEventListener("resize", this._relayout);
    this.layout();
  }

  /** One validated message (parseAnnotation). */
  apply(message) {
    const now = performance.now();
    if (message.type === "stroke") {
      this.marks.delete(message.id); // re-insert: newest last
      this.marks.set(message.id, { stroke: message, updatedAt: now });
    } else if (message.type === "laser") {
      this.laser = { message, at: now };
    } else if (message.type === "undo") {
      this._prune(now);
      const newest = [...this.marks.keys()].pop();
      if (newest !== undefined) this.marks.delete(newest);
    } else if (message.type === "clear") {
      this.marks.clear();
      this.laser = null;
    } else if (message.type === "pin") {
      const mark = this.marks.get(message.id);
      if (!mark) return;
      mark.stroke = { ...mark.stroke, pinned: message.pinned };
      mark.updatedAt = now;
    }
    this.render();
  }

  /** The document's size without the overlay in it (it must never hold the page open). */
  measure() {
    this.svg.style.display = "none";
    const root = this.doc.scrollingElement ?? this.doc.documentElement;
    const size = { width: root.scrollWidth, height: root.scrollHeight };
    this.svg.style.display = "block";
    return size;
  }

  layout() {
    const size = this.measure();
    const changed = size.width !== this.size.width || size.height !== this.size.height;
    this.size = size;
    // Where the host really is (a transformed or positioned <html> moves it): back to 0, 0.
    const box = this.host.getBoundingClientRect();
    const view = this.doc.defaultView;
    const dx = -(box.left + (view?.scrollX ?? 0));
    const dy = -(box.top + (view?.scrollY ?? 0));
    Object.assign(this.svg.style, {
      width: `${size.width}px`,
      height: `${size.height}px`,
      transform: dx || dy ? `translate(${dx}px, ${dy}px)` : "",
    });
    this.svg.setAttribute("viewBox", `0 0 ${size.width} ${size.height}`);
    if (changed) this.render();
  }

  render() {
    clearTimeout(this._timer);
    this._timer = null;
    const now = performance.now();
    this._prune(now);
    const { width, height } = this.size;
    const children = [];
    let wake = Infinity; // ms until the picture changes by itself
    for (const { stroke, updatedAt } of this.marks.values()) {
      const alpha = alphaOf(stroke, updatedAt, now);
      if (!stroke.pinned && stroke.done) {
        const fadeStart = updatedAt + (FADE_S - FADE_DURATION_S) * 1000;
        wake = Math.min(wake, Math.max(TICK_MS, fadeStart - now));
      }
      const group = drawStroke(this.doc, stroke, width, height);
      group.setAttribute("opacity", String(alpha));
      children.push(group);
    }
    if (this.laser) {
      wake = TICK_MS;
      const age = now - this.laser.at;
      const alpha = Math.min(1, (LASER_LIFETIME_MS - age) / LASER_FADE_MS);
      const group = drawLaser(this.doc, this.laser.message, width, height);
      group.setAttribute("opacity", String(Math.max(0, alpha)));
      children.push(group);
    }
    this.svg.replaceChildren(...children);
    if (wake < Infinity) this._timer = setTimeout(() => this.render(), wake);
  }

  destroy() {
    clearTimeout(this._timer);
    this._observer.disconnect();
    this.doc.defaultView?.removeEventListener("resize", this._relayout);
    this.host.remove();
    this.marks.clear();
    this.laser = null;
  }

  _prune(now) {
    for (const [id, mark] of this.marks) {
      if (alphaOf(mark.stroke, mark.updatedAt, now) <= 0) this.marks.delete(id);
    }
    if (this.laser && now - this.laser.at > LASER_LIFETIME_MS) this.laser = null;
  }
}

function alphaOf(stroke, updatedAt, now) {
  if (stroke.pinned || !stroke.done) return 1;
  const remaining = (updatedAt + FADE_S * 1000 - now) / 1000;
  return Math.max(0, Math.min(1, remaining / FADE_DURATION_S));
}

function el(doc, name, attributes) {
  const node = doc.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** A stroke as the device draws it, in document pixels (widths are fractions of the width). */
function drawStroke(doc, stroke, width, height) {
  const group = el(doc, "g", { "data-id": stroke.id, "data-tool": stroke.tool, "data-pinned": stroke.pinned });
  const points = stroke.points.map(([x, y]) => [x * width, y * height]);
  const lw = Math.max(1, Math.round(stroke.width * width));
  const color = stroke.color;
  if (stroke.tool === "pen" || stroke.tool === "highlight") {
    const highlight = stroke.tool === "highlight";
    const w = highlight ? lw * 5 : lw;
    const opacity = highlight ? HIGHLIGHT_ALPHA : 1;
    if (points.length === 1) {
      const [cx, cy] = points[0];
      group.append(el(doc, "circle", { cx, cy, r: w / 2, fill: color, "fill-opacity": opacity }));
    } else {
      group.append(
        el(doc, "polyline", {
          points: points.map((p) => p.join(",")).join(" "),
          fill: "none",
          stroke: color,
          "stroke-width": w,
          "stroke-opacity": opacity,
          "stroke-linejoin": "round",
          "stroke-linecap": highlight ? "butt" : "round",
        }),
      );
    }
  } else if (stroke.tool === "circle") {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    // The outline inside the box of the points, as PIL draws it.
    group.append(
      el(doc, "ellipse", {
        cx: (x0 + x1) / 2,
        cy: (y0 + y1) / 2,
        rx: Math.max(0.5, (x1 - x0) / 2 - lw / 2),
        ry: Math.max(0.5, (y1 - y0) / 2 - lw / 2),
        fill: "none",
        stroke: color,
        "stroke-width": lw,
      }),
    );
  } else if (stroke.tool === "arrow") {
    const [start, end] = [points[0], points[points.length - 1]];
    const angle = Math.atan2(end[1] - start[1], end[0] - start[0]);
    const head = Math.max(14, lw * 4);
    const shaft = [end[0] - head * 0.8 * Math.cos(angle), end[1] - head * 0.8 * Math.sin(angle)];
    group.append(
      el(doc, "line", {
        x1: start[0],
        y1: start[1],
        x2: shaft[0],
        y2: shaft[1],
        stroke: color,
        "stroke-width": lw,
      }),
      el(doc, "polygon", {
        points: [
          end,
          [end[0] - head * Math.cos(angle - 0.45), end[1] - head * Math.sin(angle - 0.45)],
          [end[0] - head * Math.cos(angle + 0.45), end[1] - head * Math.sin(angle + 0.45)],
        ]
          .map((p) => p.join(","))
          .join(" "),
        fill: color,
      }),
    );
  }
  return group;
}

function drawLaser(doc, laser, width, height) {
  const group = el(doc, "g", { "data-tool": "laser" });
  const [cx, cy] = [laser.x * width, laser.y * height];
  for (const [r, opacity] of [
    [16, 0.25],
    [10, 0.5],
    [6, 1],
  ]) {
    group.append(el(doc, "circle", { cx, cy, r, fill: laser.color, "fill-opacity": opacity }));
  }
  return group;
}
