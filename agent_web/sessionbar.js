// The top of the session view: who the customer is (device name, topic, language), how long the
// session has run, and the connection quality of their screen (stats.js).
//
// The name, topic and locale come from the device and are untrusted: set as text only.

import { formatDuration, formatLocale, parts } from "./dom.js";
import { QualityMeter, describeQuality } from "./stats.js";

export class SessionBar {
  /** `root` is the .session-bar; `api.now()` is the server's clock. */
  constructor({ root, api }) {
    this.api = api;
    Object.assign(this, parts(root, {
      device: ".who-device", topic: ".who-topic", locale: ".who-locale", duration: ".who-duration",
      quality: ".quality", rate: ".quality-rate", rtt: ".quality-rtt",
    }));
    this._since = () => null;
    this._pc = () => null;
    this._clock = null;
    this.meter = new QualityMeter(
      () => this._pc(),
      (quality) => this._showQuality(quality),
    );
  }

  /**
   * A session started (`data` is its session.started payload). `since()` is when it started in
   * server time (it may change once the server says), `pc()` the peer connection to measure.
   */
  start(data, { since, pc }) {
    this._since = since;
    this._pc = pc;
    this.device.textContent = data.device?.name ?? "Customer";
    this.topic.textContent = data.topic ?? "";
    this.locale.textContent = data.locale ?? "";
    this.locale.title = `Language: ${formatLocale(data.locale)}`;
    clearInterval(this._clock);
    this._clock = setInterval(() => this._tick(), 1000);
    this._tick();
    this.meter.start();
  }

  stop() {
    this.meter.stop();
    clearInterval(this._clock);
    this._clock = null;
  }

  _tick() {
    const since = this._since();
    if (since === null) return;
    this.duration.textContent = formatDuration(this.api.now() - since);
  }

  _showQuality(quality) {
    const { rate, rtt, level } = describeQuality(quality);
    this.rate.textContent = rate;
    this.rtt.textContent = rtt;
    this.quality.dataset.level = level;
  }
}
