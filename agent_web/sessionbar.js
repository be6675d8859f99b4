// The top of the session view: who the customer is (device name, what they are on, topic,
// language), how long the session has run, and the connection quality of their screen (stats.js).
// It also holds the "Hand on…" button beside End session (transfer.js opens its dialog).
//
// The name, topic and locale come from the device and are untrusted: set as text only.

import { $, formatDuration, formatLocale, h, parts } from "./dom.js";
import { QualityMeter, describeQuality } from "./stats.js";

const KIND_LABEL = { web: "Web page", device: "Device" };
const WHO_TIP = { web: "The customer, on their web page", device: "Customer's device" };
const KIND_TIP = {
  web: "Co-browsing: you see the customer's web page, rebuilt here, not a video of their screen",
  device: "The customer's device: you see its screen",
};
const WEB_QUALITY_TIP =
  "Connection: the rate of page changes arriving from the customer's browser, and the network round-trip time.";

/** An arrow going to a person: the Hand on button's icon (#i-hand-on in index.html's sprite). */
function handOnIcon() {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS("http://www.w3.org/2000/svg", "use");
  use.setAttribute("href", "#i-hand-on");
  svg.append(use);
  return svg;
}

export class SessionBar {
  /** `root` is the .session-bar; `api.now()` is the server's clock. */
  constructor({ root, api }) {
    this.api = api;
    Object.assign(this, parts(root, {
      device: ".who-device", kind: ".who-kind", topic: ".who-topic", locale: ".who-locale", duration: ".who-duration",
      quality: ".quality", rate: ".quality-rate", rtt: ".quality-rtt",
    }));
    // Beside End session: hand the customer on to a colleague or back to the queue (transfer.js).
    // On a laptop's narrow centre column only its icon shows (console.css); the name stays.
    this.handOnButton = h(
      "button",
      {
        class: "btn hand-on-button", type: "button", "aria-haspopup": "dialog", "aria-label": "Hand on…",
        title: "Hand on: to a colleague, or back to the queue, with a note for the next agent",
      },
      handOnIcon(),
      h("span", { class: "hand-on-text", text: "Hand on…" }),
    );
    $(".end-wrap", root).before(this.handOnButton);
    this._since = () => null;
    this._pc = () => null;
    this._qualityTip = this.quality.title;
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

  /** What the customer is on: "web" (a web page, co-browsing), "device" (its screen), or null. */
  setKind(kind) {
    this.kind.hidden = !kind;
    this.kind.textContent = KIND_LABEL[kind] ?? "";
    this.kind.title = KIND_TIP[kind] ?? "";
    this.device.title = WHO_TIP[kind] ?? WHO_TIP.device;
    if (kind) this.kind.dataset.kind = kind;
    this.quality.title = kind === "web" ? WEB_QUALITY_TIP : this._qualityTip;
    this.meter.source = kind === "web" ? "data" : "video";
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
