// The wallboard's chart of today: help requests per hour as bars, the service level as a line.
//
// Drawn by uPlot (npm, served as /vendor/uPlot.esm.js). A canvas says nothing to a screen reader,
// so the same numbers are always written into a visually hidden table of the hours, which is the
// chart's text alternative (the canvas itself is aria-hidden). uPlot is imported only when the
// chart is first drawn, so an agent's console never loads it, and a missing library (no `npm ci`)
// costs the picture only: the table is then shown instead.

import { clear, h } from "./dom.js";

const HEIGHT = 230;
const PHONE_HEIGHT = 200;
const BAR = "#2a63d4";
const BAR_FILL = "rgba(42, 99, 212, 0.28)";
const LINE = "#17804a";
const AXIS = "#596477";
const GRID = "#e6eaf0";
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

let uPlotLoading = null;
function loadUPlot() {
  uPlotLoading ??= import("/vendor/uPlot.esm.js").then((module) => module.default);
  return uPlotLoading;
}

/** "14:00" for an hour's start in the server's zone (the zone the wallboard's "today" is in). */
export function hourFormat(timezone) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return new Intl.DateTimeFormat([], { ...options, timeZone: timezone || undefined });
  } catch {
    return new Intl.DateTimeFormat([], options); // a zone this browser does not know: its own
  }
}

/** "87 %" for 0.87; null (nothing decided yet) → "–". */
export function formatPercent(ratio) {
  return ratio === null || ratio === undefined || Number.isNaN(Number(ratio))
    ? "–"
    : `${Math.round(Number(ratio) * 100)} %`;
}

/**
 * The chart and its table. `render(hours, {timezone})` with the wallboard's `hours` (each hour of
 * today from midnight, oldest first); the rest of the day is drawn empty so that the bars keep
 * their width and place as the day goes on.
 */
export class HourChart {
  constructor({ root, canvasBox, table, fallback }) {
    Object.assign(this, { root, canvasBox, table, fallback });
    this.plot = null;
    this.broken = false;
    this._data = null;
    this._labels = [];
    this._resize = new ResizeObserver(() => this._fit());
    this._resize.observe(canvasBox);
  }

  render(hours, { timezone = "UTC" } = {}) {
    const format = hourFormat(timezone);
    const list = Array.isArray(hours) ? hours : [];
    this._writeTable(list, format);
    if (list.length === 0) {
      this._labels = [];
      this._data = null;
      this.fallback.hidden = false;
      this.fallback.textContent = "No help requests yet today.";
      this.canvasBox.hidden = true;
      return;
    }
    const first = Number(list[0].start);
    const slots = Math.max(24, list.length);
    const x = [];
    const requests = [];
    const level = [];
    this._labels = [];
    for (let index = 0; index < slots; index += 1) {
      const hour = list[index];
      x.push(index);
      this._labels.push(format.format(new Date(((hour ? Number(hour.start) : first + index * 3600)) * 1000)));
      requests.push(hour ? Number(hour.help_requests ?? 0) : null);
      level.push(hour && hour.service_level !== null && hour.service_level !== undefined ? hour.service_level * 100 : null);
    }
    this._data = [x, requests, level];
    this.canvasBox.hidden = this.broken;
    this.fallback.hidden = !this.broken;
    if (this.broken) return;
    this.fallback.textContent = "";
    this._draw();
  }

  async _draw() {
    let uPlot;
    try {
      uPlot = await loadUPlot();
    } catch (error) {
      console.warn("the chart library could not be loaded; showing the table", error);
      this.broken = true;
      this.canvasBox.hidden = true;
      this.table.parentElement.classList.remove("sr-only");
      return;
    }
    if (!this._data) return;
    const width = this.canvasBox.clientWidth;
    if (width === 0) return; // not shown yet: the ResizeObserver draws it once it is
    if (this.plot && this.plot.data[0].length === this._data[0].length) {
      this.plot.setData(this._data);
      return;
    }
    this.plot?.destroy();
    clear(this.canvasBox);
    this.plot = new uPlot(this._options(uPlot, width, this._data[0].length), this._data, this.canvasBox);
  }

  _fit() {
    const width = this.canvasBox.clientWidth;
    if (width === 0) return;
    if (!this.plot) {
      if (this._data && !this.broken) this._draw();
      return;
    }
    const height = this._height();
    if (this.plot.width !== width || this.plot.height !== height) this.plot.setSize({ width, height });
  }

  _height() {
    return window.matchMedia("(max-width: 600px)").matches ? PHONE_HEIGHT : HEIGHT;
  }

  _options(uPlot, width, slots) {
    const labels = () => this._labels;
    const axisFont = { font: FONT, stroke: AXIS };
    return {
      width,
      height: this._height(),
      legend: { show: false },
      cursor: { show: false },
      padding: [12, 8, 0, 4],
      scales: {
        x: { time: false, range: [-0.6, slots - 0.4] },
        count: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil((max ?? 0) * 1.15))] },
        percent: { range: [0, 100] },
      },
      axes: [
        {
          ...axisFont,
          incrs: [1, 2, 3, 4, 6, 12],
          space: 44,
          size: 28,
          grid: { show: false },
          ticks: { show: false },
          values: (_u, splits) => splits.map((index) => labels()[index] ?? ""),
        },
        {
          ...axisFont,
          scale: "count",
          incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
          size: 40,
          grid: { stroke: GRID, width: 1 },
          ticks: { show: false },
          values: (_u, splits) => splits.map((value) => String(value)),
        },
        {
          ...axisFont,
          scale: "percent",
          side: 1,
          size: 48,
          incrs: [25, 50],
          grid: { show: false },
          ticks: { show: false },
          values: (_u, splits) => splits.map((value) => `${value} %`),
        },
      ],
      series: [
        {},
        {
          label: "Help requests",
          scale: "count",
          stroke: BAR,
          fill: BAR_FILL,
          width: 1,
          paths: uPlot.paths.bars({ size: [0.62, 40], radius: 0.15 }),
          points: { show: false },
        },
        {
          label: "Service level",
          scale: "percent",
          stroke: LINE,
          width: 2.5,
          spanGaps: false,
          points: { show: true, size: 7, fill: "#ffffff", stroke: LINE, width: 2 },
        },
      ],
    };
  }

  /** The text alternative: one row per hour so far, with what the chart shows and a bit more. */
  _writeTable(hours, format) {
    const body = this.table.tBodies[0];
    clear(body);
    for (const hour of hours) {
      body.append(
        h(
          "tr",
          {},
          h("th", { scope: "row", text: format.format(new Date(Number(hour.start) * 1000)) }),
          h("td", { text: String(hour.help_requests ?? 0) }),
          h("td", { text: String(hour.answered ?? 0) }),
          h("td", { text: String(hour.abandoned ?? 0) }),
          h("td", { text: formatPercent(hour.service_level) }),
        ),
      );
    }
    if (hours.length === 0) {
      body.append(h("tr", {}, h("td", { colspan: "5", text: "No hours yet." })));
    }
  }
}
