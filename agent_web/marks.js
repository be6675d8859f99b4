// How a mark looks: the pure drawing of strokes, the laser and the probe points the annotator
// checks in the video, and the mapping of a pointer into a replayed page's document. No state:
// the Annotator (annotate.js) decides what to draw and when.

export const HIGHLIGHT_ALPHA = 0.35; // the device's highlighter (device_agent/overlay.py)

/** A few points on the line the device draws for this mark, normalized, with "before" colours. */
export function probePoints(mark, vw, vh) {
  const points = mark.points;
  if (mark.tool === "pen" || mark.tool === "highlight") {
    const count = Math.min(6, points.length);
    const picks = [];
    for (let i = 0; i < count; i++) {
      const index = count === 1 ? 0 : Math.round((i * (points.length - 1)) / (count - 1));
      picks.push({ ...points[index], before: mark.befores[index] });
    }
    return picks;
  }
  const [a, b] = [points[0], points[points.length - 1]];
  if (mark.tool === "arrow") {
    // Along the shaft, clear of the head.
    return [0.15, 0.35, 0.55].map((t) => ({ x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t }));
  }
  // circle: the ellipse in the box of the points, its outline drawn inside the box.
  const lw = Math.max(1, Math.round(mark.width * vw));
  const cx = ((a.x + b.x) / 2) * vw;
  const cy = ((a.y + b.y) / 2) * vh;
  const rx = (Math.abs(b.x - a.x) * vw) / 2 - lw / 2;
  const ry = (Math.abs(b.y - a.y) * vh) / 2 - lw / 2;
  if (rx < 4 || ry < 4) return [];
  return [0, 0.5, 1, 1.5].map((k) => ({
    x: (cx + rx * Math.cos(k * Math.PI)) / vw,
    y: (cy + ry * Math.sin(k * Math.PI)) / vh,
  }));
}

// --- drawing, mirroring device_agent/overlay.py so the preview matches what comes back ---------

export function drawMark(ctx, mark, picture, alpha) {
  if (alpha <= 0) return;
  const vw = picture.videoWidth;
  const scale = picture.scale; // display pixels per video pixel
  const lw = Math.max(1, Math.round(mark.width * vw)) * scale;
  const at = (p) => [picture.left + p.x * picture.width, picture.top + p.y * picture.height];
  const points = mark.points.map(at);
  ctx.save();
  ctx.strokeStyle = ctx.fillStyle = mark.color;
  ctx.globalAlpha = alpha;
  ctx.lineJoin = "round";
  if (mark.tool === "pen" || mark.tool === "highlight") {
    const width = mark.tool === "highlight" ? lw * 5 : lw;
    if (mark.tool === "highlight") ctx.globalAlpha = alpha * HIGHLIGHT_ALPHA;
    if (points.length === 1) {
      ctx.beginPath();
      ctx.arc(points[0][0], points[0][1], width / 2, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.lineWidth = width;
      ctx.lineCap = mark.tool === "pen" ? "round" : "butt";
      ctx.beginPath();
      ctx.moveTo(...points[0]);
      for (const point of points.slice(1)) ctx.lineTo(...point);
      ctx.stroke();
    }
  } else if (mark.tool === "circle") {
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const rx = Math.max(0.5, (x1 - x0) / 2 - lw / 2);
    const ry = Math.max(0.5, (y1 - y0) / 2 - lw / 2);
    ctx.lineWidth = lw;
    ctx.beginPath();
    ctx.ellipse((x0 + x1) / 2, (y0 + y1) / 2, rx, ry, 0, 0, Math.PI * 2);
    ctx.stroke();
  } else if (mark.tool === "arrow") {
    const [start, end] = [points[0], points[points.length - 1]];
    const angle = Math.atan2(end[1] - start[1], end[0] - start[0]);
    const head = Math.max(14, (lw / scale) * 4) * scale;
    ctx.lineWidth = lw;
    ctx.lineCap = "butt";
    ctx.beginPath();
    ctx.moveTo(...start);
    ctx.lineTo(end[0] - head * 0.8 * Math.cos(angle), end[1] - head * 0.8 * Math.sin(angle));
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(...end);
    ctx.lineTo(end[0] - head * Math.cos(angle - 0.45), end[1] - head * Math.sin(angle - 0.45));
    ctx.lineTo(end[0] - head * Math.cos(angle + 0.45), end[1] - head * Math.sin(angle + 0.45));
    ctx.closePath();
    ctx.fill();
  }
  ctx.restore();
}

/** Our own laser position: a ring (the device's filled dot follows in the video). */
export function drawPointer(ctx, laser, picture, color) {
  const x = picture.left + laser.x * picture.width;
  const y = picture.top + laser.y * picture.height;
  ctx.save();
  ctx.strokeStyle = color;
  ctx.lineWidth = 2;
  ctx.globalAlpha = 0.9;
  ctx.beginPath();
  ctx.arc(x, y, 9, 0, Math.PI * 2);
  ctx.stroke();
  ctx.restore();
}

/**
 * Client point → {x, y} in 0..1 of the replayed document (`page` from Annotator._page). Outside
 * the page's viewport: null, unless `clamp` is set, when the point is pulled onto its edge.
 */
export function toDocument(page, clientX, clientY, clamp = false) {
  let vx = (clientX - page.left) / page.scale;
  let vy = (clientY - page.top) / page.scale;
  const inside = vx >= 0 && vx <= page.viewport.width && vy >= 0 && vy <= page.viewport.height;
  if (!inside && !clamp) return null;
  vx = Math.min(page.viewport.width, Math.max(0, vx));
  vy = Math.min(page.viewport.height, Math.max(0, vy));
  const x = Math.min(1, Math.max(0, (vx + page.scrollX) / page.width));
  const y = Math.min(1, Math.max(0, (vy + page.scrollY) / page.height));
  return { x, y };
}

export function hexToRgb(hex) {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
}

export function distance(a, b) {
  return Math.max(Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]), Math.abs(a[2] - b[2]));
}
