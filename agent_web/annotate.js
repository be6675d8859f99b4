// Drawing on the customer's screen: pen, arrow, circle, highlight and a laser pointer.
//
// Marks go to the device over the `annotations` data channel (signaling/annotations.py) in
// coordinates normalized to the picture (0..1, letterbox excluded). The device draws them over
// its real screen, so the customer sees them and they come back to us in the video.
//
// A stroke message always carries the whole stroke so far (idempotent: a lost message costs
// nothing once a later one arrives); it is resent while the pen moves (done: false, at most ~30
// per second) and once more when the pen lifts (done: true).
//
// In a co-browse session (a customer's web page, docs/cobrowse.md "Drawing") the stage shows the
// rrweb replay instead of a video, and points are normalized to the replayed page's *document*
// (x / scrollWidth, y / scrollHeight): the pointer is mapped through the replay's scale and the
// page's scroll offset. The widget draws the marks on the real page but they are not recorded, so
// the preview here is the agent's only copy: it stays (following the page's scroll) until the
// widget would have faded the mark out, and pinned marks until they are undone or cleared.
//
// The agent sees a mark at once on a local <canvas> over the video. That preview is dropped as
// soon as the video shows the mark itself (its pixels are checked at a few points of the stroke),
// or at the latest when the device would have faded it out (8 s by default), so the agent never
// looks at a stale copy drawn over what the customer really sees. Pinned marks do not fade; their
// preview goes once the video shows them. How a mark is drawn is in marks.js.

import { throttle } from "./dom.js";
import { pictureRect, round4, toPicture } from "./geometry.js";
import {
  HIGHLIGHT_ALPHA,
  distance,
  drawMark,
  drawPointer,
  hexToRgb,
  probePoints,
  toDocument,
} from "./marks.js";

export const TOOLS = ["pen", "arrow", "circle", "highlight", "laser"];
export const COLORS = [
  { value: "#ff3b30", name: "Red" },
  { value: "#ffcc00", name: "Yellow" },
  { value: "#34c759", name: "Green" },
  { value: "#0a84ff", name: "Blue" },
  { value: "#bf5af2", name: "Purple" },
];
/** Stroke widths as a fraction of the screen's width (the device multiplies by its width). */
const WIDTHS = { pen: 0.004, arrow: 0.005, circle: 0.004, highlight: 0.006 };
const SEND_INTERVAL_MS = 33; // ~30 messages per second while drawing or pointing
const MAX_POINTS = 2000; // signaling/annotations.py: Stroke.points max_length
const MIN_STEP = 0.0015; // skip pen points closer than this to the previous one
// The device's defaults (device_agent/overlay.py): marks fade out over the last second of 8 s.
const DEVICE_FADE_S = 8;
const FADE_DURATION_S = 1;
const LASER_LIFETIME_MS = 1500;
const CHECK_EVERY_MS = 200;

let nextId = 0;
const idPrefix = Math.random().toString(36).slice(2, 8);

export class Annotator extends EventTarget {
  /**
   * `replay`: the ReplayView a web page shows in on this stage (default: the agent's session's);
   * `colors`: the palette to choose from (default: COLORS; a supervisor has one colour of its own).
   */
  constructor({ stage, video, canvas, toasts, replay = null, colors = COLORS }) {
    super();
    Object.assign(this, { stage, video, canvas, toasts, replay, colors });
    this.ctx = canvas.getContext("2d");
    this.tool = "pen";
    this.color = colors[0].value;
    this.pinned = false; // new marks stay until undone or cleared instead of fading
    this.channel = null;
    this.marks = []; // sent, done strokes, oldest first (what Undo on the device would remove)
    this.drawing = null; // the stroke under the pointer
    this.laser = null; // {x, y, at} of our own pointer
    this._frame = null;
    this._lastCheck = 0;
    this._warnedClosed = 0;
    this._sendDrawing = throttle((mark) => this._sendStroke(mark), SEND_INTERVAL_MS);
    this._sendLaser = throttle((x, y) => this._send({ type: "laser", x: round4(x), y: round4(y), color: this.color }), SEND_INTERVAL_MS);
    this._probe = document.createElement("canvas");
    this._probe.width = this._probe.height = 3;
    this._probeCtx = this._probe.getContext("2d", { willReadFrequently: true });
    new ResizeObserver(() => this._resize()).observe(stage);
    video.addEventListener("resize", () => this.requestRender());
    this._resize();
  }

  setTool(tool) {
    if (!TOOLS.includes(tool)) return;
    this.finishDrawing();
    this.tool = tool;
    this.dispatchEvent(new CustomEvent("change"));
  }

  setColor(color) {
    if (!this.colors.some((c) => c.value === color)) return;
    this.color = color;
    this.dispatchEvent(new CustomEvent("change"));
  }

  setPinned(pinned) {
    this.pinned = Boolean(pinned);
    this.dispatchEvent(new CustomEvent("change"));
  }

  /** The data channel of the current peer connection (a new one after every re-offer). */
  setChannel(channel) {
    this.channel = channel;
  }

  get ready() {
    return this.channel?.readyState === "open";
  }

  // --- pointer input (routed here by the session while in Annotate mode) ----------------------

  pointerDown(event) {
    if (event.button !== 0) return false;
    if (this.tool === "laser") {
      this.pointerMove(event);
      return true;
    }
    const point = this._point(event, false);
    if (!point) return false; // in the letterbox: not on the customer's screen
    if (!this.ready) {
      this._warnClosed();
      return false;
    }
    const shaped = this.tool === "arrow" || this.tool === "circle";
    this.drawing = {
      id: `m${idPrefix}${(nextId++).toString(36)}`,
      tool: this.tool,
      color: this.color,
      width: WIDTHS[this.tool],
      pinned: this.pinned,
      points: shaped ? [point, point] : [point],
      befores: [this._sample(point.x, point.y)],
      moved: false,
      done: false,
    };
    this.requestRender();
    return true;
  }

  pointerMove(event) {
    if (this.tool === "laser") {
      const point = this._point(event, false);
      if (!point) return;
      this.laser = { ...point, at: performance.now() };
      if (this.ready) this._sendLaser(point.x, point.y);
      this.requestRender();
      return;
    }
    const mark = this.drawing;
    if (!mark) return;
    const point = this._point(event, true);
    if (!point) return;
    if (mark.tool === "arrow" || mark.tool === "circle") {
      mark.points[1] = point;
    } else {
      const last = mark.points[mark.points.length - 1];
      if (Math.hypot(point.x - last.x, point.y - last.y) < MIN_STEP || mark.points.length >= MAX_POINTS) return;
      mark.points.push(point);
      mark.befores.push(this._sample(point.x, point.y));
    }
    mark.moved = true;
    this._sendDrawing(mark);
    this.requestRender();
  }

  pointerUp() {
    this.finishDrawing();
  }

  /** Lift the pen: the last, done message; arrows and circles of no size are dropped. */
  finishDrawing() {
    const mark = this.drawing;
    if (!mark) return;
    this.drawing = null;
    this._sendDrawing.cancel();
    const [a, b] = [mark.points[0], mark.points[mark.points.length - 1]];
    const shaped = mark.tool === "arrow" || mark.tool === "circle";
    if (shaped && Math.hypot(b.x - a.x, b.y - a.y) < 0.004) {
      if (mark.sent) this._send({ type: "undo" }); // the device shows it (newest); take it back
      this.requestRender();
      return;
    }
    mark.done = true;
    mark.doneAt = performance.now();
    mark.confirmed = false;
    this._sendStroke(mark);
    this.marks.push(mark);
    this.requestRender();
  }

  pointerLeave() {
    if (this.tool === "laser") this._sendLaser.cancel();
  }

  // --- commands -------------------------------------------------------------------------------

  undo() {
    if (!this.ready) return this._warnClosed();
    this.finishDrawing();
    this._expire(performance.now());
    this.marks.pop();
    this._send({ type: "undo" });
    this.requestRender();
  }

  clear() {
    if (!this.ready) return this._warnClosed();
    this.finishDrawing();
    this.marks = [];
    this.laser = null;
    this._send({ type: "clear" });
    this.requestRender();
  }

  /** Session over: forget everything (the device clears its marks itself). */
  reset() {
    this.drawing = null;
    this.marks = [];
    this.laser = null;
    this.channel = null;
    this._sendDrawing.cancel();
    this._sendLaser.cancel();
    this.requestRender();
  }

  // --- sending --------------------------------------------------------------------------------

  _sendStroke(mark) {
    mark.sent = true;
    this._send({
      type: "stroke",
      id: mark.id,
      tool: mark.tool,
      color: mark.color,
      width: mark.width,
      points: mark.points.map((p) => [round4(p.x), round4(p.y)]),
      pinned: mark.pinned,
      done: mark.done,
    });
  }

  _send(message) {
    if (!this.ready) return this._warnClosed();
    try {
      this.channel.send(JSON.stringify(message));
    } catch (error) {
      this.toasts.error("A drawing did not reach the customer", error);
    }
  }

  _warnClosed() {
    const now = performance.now();
    if (now - this._warnedClosed < 5000) return;
    this._warnedClosed = now;
    this.toasts.show("Drawing works once the customer's screen is connected.", "warning", "Not connected yet");
  }

  // --- local preview --------------------------------------------------------------------------

  requestRender() {
    if (this._frame === null) this._frame = requestAnimationFrame(() => this._render());
  }

  _resize() {
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(this.stage.clientWidth * dpr));
    const height = Math.max(1, Math.round(this.stage.clientHeight * dpr));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.requestRender();
  }

  _render() {
    this._frame = null;
    const now = performance.now();
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this._expire(now);
    const page = this._page(); // a web page: no video to confirm marks in
    if (!page && now - this._lastCheck > CHECK_EVERY_MS) {
      this._lastCheck = now;
      for (const mark of this.marks) if (!mark.confirmed && this._videoShows(mark)) mark.confirmed = true;
    }
    if (this.laser && now - this.laser.at > LASER_LIFETIME_MS) this.laser = null;

    const picture = page ? this._pageInStage(page) : this._pictureInStage();
    let animate = false;
    if (picture) {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.save();
      if (page) {
        // Only over the replayed page's viewport, never over the bars around it.
        const clip = picture.clip;
        ctx.beginPath();
        ctx.rect(clip.left, clip.top, clip.width, clip.height);
        ctx.clip();
        if (this.marks.length || this.drawing) animate = true; // follow the page's scroll
      }
      for (const mark of this.marks) {
        if (mark.confirmed) continue;
        const alpha = mark.pinned
          ? 1
          : Math.min(1, (mark.doneAt + DEVICE_FADE_S * 1000 - now) / (FADE_DURATION_S * 1000));
        drawMark(ctx, mark, picture, alpha);
        animate = true; // waiting for the video to show it, or fading
      }
      if (this.drawing) drawMark(ctx, this.drawing, picture, 1);
      if (this.laser) {
        drawPointer(ctx, this.laser, picture, this.color);
        animate = true;
      }
      ctx.restore();
    }
    if (animate) this.requestRender();
  }

  /** Marks the device has faded out by now are gone there too (Undo must not count them). */
  _expire(now) {
    this.marks = this.marks.filter((mark) => mark.pinned || now - mark.doneAt < DEVICE_FADE_S * 1000);
  }

  /** The picture's rectangle in stage (CSS pixel) coordinates. */
  _pictureInStage() {
    const rect = pictureRect(this.video);
    if (!rect) return null;
    const stage = this.stage.getBoundingClientRect();
    return { ...rect, left: rect.left - stage.left, top: rect.top - stage.top };
  }

  _point(event, clamp) {
    const page = this._page();
    if (page) return toDocument(page, event.clientX, event.clientY, clamp);
    return toPicture(pictureRect(this.video), event.clientX, event.clientY, clamp);
  }

  // --- a co-browse session: the replayed page ---------------------------------------------------

  /**
   * The replayed page's geometry in client pixels, or null when the stage shows no page: `left`,
   * `top` of its viewport's top-left corner, `scale` (client px per page px), its `viewport`, its
   * `scrollX`/`scrollY` and its document's `width`/`height` (scrollWidth/scrollHeight).
   */
  _page() {
    const replay = this.replay ?? window.mayday?.cobrowse?.replay;
    const host = replay?.host;
    const viewport = replay?.viewport;
    const doc = replay?.document;
    if (!host || host.hidden || !viewport?.width || !doc?.documentElement) return null;
    const hostRect = host.getBoundingClientRect();
    if (!(hostRect.width > 0)) return null;
    const scale = hostRect.width / viewport.width;
    const frame = replay.replayer?.iframe;
    const inner = frame ? frame.getBoundingClientRect() : { left: 0, top: 0 };
    const root = doc.scrollingElement ?? doc.documentElement;
    const view = doc.defaultView;
    return {
      left: hostRect.left + inner.left * scale,
      top: hostRect.top + inner.top * scale,
      scale,
      viewport,
      scrollX: view?.scrollX ?? root.scrollLeft,
      scrollY: view?.scrollY ?? root.scrollTop,
      width: Math.max(1, root.scrollWidth),
      height: Math.max(1, root.scrollHeight),
    };
  }

  /** The whole replayed document as a "picture" in stage coordinates, clipped to its viewport. */
  _pageInStage(page) {
    const stage = this.stage.getBoundingClientRect();
    const left = page.left - stage.left;
    const top = page.top - stage.top;
    return {
      left: left - page.scrollX * page.scale,
      top: top - page.scrollY * page.scale,
      width: page.width * page.scale,
      height: page.height * page.scale,
      scale: page.scale,
      videoWidth: page.width, // widths are fractions of the document's width
      videoHeight: page.height,
      clip: { left, top, width: page.viewport.width * page.scale, height: page.viewport.height * page.scale },
    };
  }

  // --- does the video show it yet? ------------------------------------------------------------

  /** The average colour of 3×3 video pixels around a normalized point, or null. */
  _sample(x, y) {
    const video = this.video;
    if (video.readyState < 2 || !video.videoWidth) return null;
    const sx = Math.min(video.videoWidth - 3, Math.max(0, x * video.videoWidth - 1));
    const sy = Math.min(video.videoHeight - 3, Math.max(0, y * video.videoHeight - 1));
    try {
      this._probeCtx.drawImage(video, sx, sy, 3, 3, 0, 0, 3, 3);
      const data = this._probeCtx.getImageData(0, 0, 3, 3).data;
      const rgb = [0, 0, 0];
      for (let i = 0; i < data.length; i += 4) {
        rgb[0] += data[i];
        rgb[1] += data[i + 1];
        rgb[2] += data[i + 2];
      }
      return rgb.map((v) => v / 9);
    } catch {
      return null;
    }
  }

  /** Whether most probe points of the mark have the colour the device would have drawn there. */
  _videoShows(mark) {
    const color = hexToRgb(mark.color);
    const probes = probePoints(mark, this.video.videoWidth, this.video.videoHeight);
    let meaningful = 0;
    let matching = 0;
    for (const probe of probes) {
      const seen = this._sample(probe.x, probe.y);
      if (!seen) return false;
      let expected = color;
      let tolerance = 60;
      if (mark.tool === "highlight") {
        // Translucent: what the device draws depends on what was under it before.
        const before = probe.before;
        if (!before) continue;
        expected = before.map((v, i) => v * (1 - HIGHLIGHT_ALPHA) + color[i] * HIGHLIGHT_ALPHA);
        if (distance(before, expected) < 15) continue; // would look the same either way
        tolerance = 30;
      }
      meaningful += 1;
      if (distance(seen, expected) <= tolerance) matching += 1;
    }
    return meaningful >= 2 && matching >= Math.ceil(meaningful * 0.66);
  }
}
