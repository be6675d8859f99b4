// Connection quality once a second from getStats(): frame rate, bitrate, round-trip time.
//
// The device sends at up to 30 fps while its screen changes and about 1 fps while it is still, so
// a low frame rate on a static screen is normal (the readout's tooltip says so); the colour of the
// readout follows the round-trip time, which is what makes remote control feel slow.
//
// A web page (co-browsing) sends no video: its changes come over data channels, so the readout is
// their bitrate instead (`source` "data").

const INTERVAL_MS = 1000;

export class QualityMeter {
  constructor(getPc, onQuality) {
    this.getPc = getPc;
    this.onQuality = onQuality;
    this.source = "video"; // or "data": what the customer's picture arrives as
    this._previous = null;
    this._timer = null;
  }

  start() {
    this.stop();
    this._timer = setInterval(() => this._sample(), INTERVAL_MS);
  }

  stop() {
    clearInterval(this._timer);
    this._timer = null;
    this._previous = null;
  }

  async _sample() {
    const pc = this.getPc();
    if (!pc || pc.connectionState === "closed") {
      this._previous = null;
      this.onQuality(null);
      return;
    }
    let report;
    try {
      report = await pc.getStats();
    } catch {
      return;
    }
    const sample = this.source === "data" ? readDataSample(report) : readSample(report);
    if (!sample) return;
    const previous = this._previous?.pc === pc && this._previous.data === sample.data ? this._previous : null;
    this._previous = { ...sample, pc };
    this.onQuality(quality(previous, sample));
  }
}

/** The numbers we need from one getStats() report. */
export function readSample(report) {
  let inbound = null;
  report.forEach((stat) => {
    if (stat.type === "inbound-rtp" && stat.kind === "video") {
      // The screen is the only video we receive; take the busiest if a browser reports more.
      if (!inbound || (stat.bytesReceived ?? 0) > (inbound.bytesReceived ?? 0)) inbound = stat;
    }
  });
  if (!inbound) return null;
  return {
    data: false,
    at: inbound.timestamp,
    bytes: inbound.bytesReceived ?? 0,
    frames: inbound.framesDecoded ?? 0,
    fps: inbound.framesPerSecond,
    width: inbound.frameWidth,
    height: inbound.frameHeight,
    rtt: selectedPair(report)?.currentRoundTripTime,
  };
}

/** Like readSample, for a session without video: the bytes received on every data channel. */
export function readDataSample(report) {
  let bytes = 0;
  let at = null;
  report.forEach((stat) => {
    if (stat.type === "data-channel") {
      bytes += stat.bytesReceived ?? 0;
      at = stat.timestamp;
    }
  });
  if (at === null) return null;
  return { at, bytes, frames: 0, fps: undefined, rtt: selectedPair(report)?.currentRoundTripTime, data: true };
}

/** The candidate pair in use: the transport's, else any nominated one that works. */
function selectedPair(report) {
  let selectedPairId = null;
  report.forEach((stat) => {
    if (stat.type === "transport" && stat.selectedCandidatePairId) selectedPairId = stat.selectedCandidatePairId;
  });
  let pair = selectedPairId ? (report.get(selectedPairId) ?? null) : null;
  if (!pair) {
    report.forEach((stat) => {
      if (stat.type === "candidate-pair" && stat.nominated && stat.state === "succeeded") pair = stat;
    });
  }
  return pair;
}

/** fps, kbit/s and ms between two samples (the first sample alone gives what it can). */
export function quality(previous, sample) {
  const seconds = previous ? (sample.at - previous.at) / 1000 : 0;
  const kbps = seconds > 0 ? ((sample.bytes - previous.bytes) * 8) / 1000 / seconds : null;
  let fps = seconds > 0 ? (sample.frames - previous.frames) / seconds : null;
  if (fps === null && typeof sample.fps === "number") fps = sample.fps;
  return {
    data: Boolean(sample.data),
    fps,
    kbps,
    rttMs: typeof sample.rtt === "number" ? sample.rtt * 1000 : null,
    width: sample.width ?? null,
    height: sample.height ?? null,
  };
}

/** {rate: "30 fps · 850 kbit/s", rtt: "4 ms RTT", level} for the session bar. */
export function describeQuality(q) {
  if (!q) return { rate: "no media yet", rtt: "", level: "none" };
  const fps = q.fps === null ? "– fps" : `${roughly(q.fps)} fps`;
  const kbps = q.kbps === null ? "– kbit/s" : `${roughly(q.kbps)} kbit/s`;
  const rtt = q.rttMs === null ? "– ms RTT" : `${Math.round(q.rttMs)} ms RTT`;
  const rate = q.data ? `page · ${kbps}` : `${fps} · ${kbps}`;
  let level = "good";
  if (q.rttMs !== null && q.rttMs > 300) level = "poor";
  else if (q.rttMs !== null && q.rttMs > 150) level = "fair";
  return { rate, rtt, level };
}

/** Whole numbers, but one decimal below 10 (a still screen sends ~1 fps and a few kbit/s). */
function roughly(value) {
  return value < 9.95 ? value.toFixed(1) : String(Math.round(value));
}
