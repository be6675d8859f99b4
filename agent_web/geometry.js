// Where the customer's picture is inside the <video> element, and mapping points both ways.
//
// The video is shown with object-fit: contain, so the picture keeps its aspect ratio and the rest
// of the element is letterbox (bars left/right or top/bottom). Protocol coordinates are 0..1 of
// the picture itself, letterbox excluded, so every mapping goes through pictureRect(). At a zoom
// (100%, 150%: stage.js) the element is the picture's own size, partly scrolled out of view, and
// the same mapping holds: points are taken from the element's box in client pixels.

/**
 * The picture's rectangle in client (viewport) pixels, or null before the first frame.
 * `scale` is display pixels per video pixel.
 */
export function pictureRect(video) {
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  const box = video.getBoundingClientRect();
  if (!vw || !vh || box.width <= 0 || box.height <= 0) return null;
  return containRect(box, vw, vh);
}

/** object-fit: contain of a `vw`×`vh` picture in `box` ({left, top, width, height}). */
export function containRect(box, vw, vh) {
  const scale = Math.min(box.width / vw, box.height / vh);
  const width = vw * scale;
  const height = vh * scale;
  return {
    left: box.left + (box.width - width) / 2,
    top: box.top + (box.height - height) / 2,
    width,
    height,
    scale,
    videoWidth: vw,
    videoHeight: vh,
  };
}

/**
 * Client point → {x, y} in 0..1 of the picture. Outside the picture (letterbox or beyond):
 * null, unless `clamp` is set, when the point is pulled onto the picture's edge.
 */
export function toPicture(rect, clientX, clientY, clamp = false) {
  if (!rect) return null;
  let x = (clientX - rect.left) / rect.width;
  let y = (clientY - rect.top) / rect.height;
  const inside = x >= 0 && x <= 1 && y >= 0 && y <= 1;
  if (!inside && !clamp) return null;
  x = Math.min(1, Math.max(0, x));
  y = Math.min(1, Math.max(0, y));
  return { x, y };
}

/** {x, y} in 0..1 of the picture → client pixels. */
export function toClient(rect, x, y) {
  return { x: rect.left + x * rect.width, y: rect.top + y * rect.height };
}

/** Round a normalized coordinate for the wire: 1/10000 is far below a pixel of any screen. */
export function round4(value) {
  return Math.round(value * 10000) / 10000;
}
