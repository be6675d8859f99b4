// The Customer tab: what the server knows of the customer in this session (device name, what
// they are on, language, topic, when the device registered) and the device's earlier sessions,
// newest first, each with its date, agent, end reason, rating, notes and screenshots
// (GET /api/devices/{device_id}/sessions).
//
// Everything here came from the device or from agents' notes: untrusted, set as text only.
// Screenshots are fetched with the bearer token and shown as data: URLs (the page's CSP allows
// images from 'self' and data: only).

import { clear, formatLocale, h, parts } from "./dom.js";

const HISTORY_LIMIT = 10;
const KIND_LABEL = { web: "Web page (co-browsing)", device: "Device" };
const REASON_LABEL = {
  resolved: "Resolved",
  unresolved: "Unresolved",
  escalated: "Escalated",
  other: "Other",
  peer_lost: "Connection lost",
  agent_lost: "Agent's connection lost",
  cancelled: "Cancelled before an agent answered",
  ended: "Ended",
};
const ENDED_BY = { agent: "by the agent", device: "by the customer", system: "by the server" };

function formatDate(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleString([], {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
}

/** Rows for what the device reported about itself; each only when reported. */
function deviceFactRows(facts) {
  if (!facts) return [];
  const rows = [];
  if (facts.model) rows.push(["Model", String(facts.model)]);
  if (facts.os) rows.push(["System", String(facts.os)]);
  if (Number(facts.screen_width) > 0 && Number(facts.screen_height) > 0) {
    rows.push(["Screen", `${Number(facts.screen_width)} × ${Number(facts.screen_height)}`]);
  }
  if (Number.isFinite(facts.battery_percent)) {
    const charging = facts.charging === true ? ", charging" : facts.charging === false ? ", on battery" : "";
    rows.push(["Battery", `${Math.round(facts.battery_percent)}%${charging}`]);
  }
  if (facts.network) rows.push(["Network", String(facts.network)]);
  return rows;
}

function stars(rating) {
  return "★".repeat(rating) + "☆".repeat(Math.max(0, 5 - rating));
}

/** Read a Blob as a data: URL (allowed by the CSP, unlike blob: URLs). */
function dataUrl(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.addEventListener("load", () => resolve(reader.result));
    reader.addEventListener("error", () => reject(reader.error));
    reader.readAsDataURL(blob);
  });
}

export class CustomerPanel {
  /** `root` is #panel-customer. */
  constructor({ root, api, toasts }) {
    Object.assign(this, { root, api, toasts });
    Object.assign(this, parts(root, {
      facts: ".customer-facts", status: ".customer-status", list: ".customer-history",
    }));
    this.session = null;
    this.deviceFacts = null;
    this._history = { device: null, screenshots: 0 };
    this._loading = 0;
  }

  /** What the device says about itself (the `device` of its status message on the annotations
   *  channel: model, OS, screen, battery, network); shown with the server's facts. */
  setDeviceFacts(facts) {
    this.deviceFacts = facts && typeof facts === "object" ? facts : null;
    if (this.session) this._renderFacts(this.session, this._history.device, this._history.screenshots);
  }

  /** A session started (its session.started payload), or none (`null`). */
  setSession(data) {
    this.session = data;
    this.deviceFacts = null;
    this._history = { device: null, screenshots: 0 };
    clear(this.facts);
    clear(this.list);
    this.status.textContent = "";
    if (!data) return;
    this._renderFacts(data, null);
    this.refresh();
  }

  /** Load the device's record and history again (e.g. after a screenshot). */
  async refresh() {
    const data = this.session;
    const deviceId = data?.device?.id;
    if (!deviceId) return;
    const loading = ++this._loading;
    this.status.textContent = "Loading the customer's history…";
    try {
      const history = await this.api.get(
        `/api/devices/${encodeURIComponent(deviceId)}/sessions?limit=${HISTORY_LIMIT + 1}`,
      );
      if (loading !== this._loading || this.session !== data) return;
      const current = history.sessions.find((past) => past.id === data.session_id);
      this._history = { device: history.device, screenshots: current?.screenshots.length ?? 0 };
      this._renderFacts(data, history.device, this._history.screenshots);
      this._renderHistory(history.sessions.filter((past) => past.id !== data.session_id).slice(0, HISTORY_LIMIT));
    } catch (error) {
      if (loading !== this._loading) return;
      this.status.textContent = `The history could not be loaded: ${error.message}`;
    }
  }

  _renderFacts(data, device, screenshots = 0) {
    const kind = device?.kind ?? data.device?.kind ?? "device";
    const rows = [
      ["Name", device?.name ?? data.device?.name ?? "–"],
      ["On", KIND_LABEL[kind] ?? kind],
      ["Language", formatLocale(data.locale) || "–"],
      ["Topic", data.topic || "–"],
    ];
    rows.push(...deviceFactRows(this.deviceFacts));
    if (device?.created_at) rows.push(["Registered", formatDate(device.created_at)]);
    if (screenshots) rows.push(["Screenshots", `${screenshots} saved in this session`]);
    clear(this.facts);
    for (const [term, value] of rows) {
      this.facts.append(h("dt", { text: term }), h("dd", { text: value }));
    }
  }

  _renderHistory(sessions) {
    clear(this.list);
    this.status.textContent = sessions.length
      ? `Earlier sessions (${sessions.length}${sessions.length === HISTORY_LIMIT ? ", the newest" : ""})`
      : "No earlier sessions with this customer.";
    for (const past of sessions) this.list.append(this._entry(past));
  }

  _entry(past) {
    const reason = past.end_reason
      ? `${REASON_LABEL[past.end_reason] ?? past.end_reason}${past.ended_by ? ` ${ENDED_BY[past.ended_by] ?? ""}` : ""}`
      : "Not ended";
    const item = h("li", { class: "past" },
      h("div", { class: "past-head" },
        h("span", { class: "past-date", text: formatDate(past.created_at) }),
        past.rating ? h("span", { class: "past-rating", title: `Rated ${past.rating} of 5`, text: stars(past.rating) }) : null,
      ),
      h("div", { class: "past-meta muted" },
        h("span", { text: reason }),
        h("span", { text: past.agent ? `with ${past.agent.name}` : "no agent" }),
        past.topic ? h("span", { class: "tag", text: past.topic }) : null,
      ),
      past.notes ? h("p", { class: "past-notes", text: past.notes }) : null,
    );
    if (past.screenshots.length) {
      const shots = h("div", { class: "past-shots" });
      for (const [index, shot] of past.screenshots.entries()) {
        const button = h("button", {
          class: "btn btn-ghost past-shot", type: "button", text: `Screenshot ${index + 1}`,
          title: `Show the screenshot taken at ${formatDate(shot.at)}`,
        });
        button.addEventListener("click", () => this._show(button, shot));
        shots.append(button);
      }
      item.append(shots);
    }
    return item;
  }

  async _show(button, shot) {
    if (button.disabled) return;
    button.disabled = true;
    try {
      const path = `/api/sessions/${encodeURIComponent(shot.session_id)}/screenshots/${encodeURIComponent(shot.id)}`;
      const image = h("img", {
        class: "past-image", alt: `Screenshot taken at ${formatDate(shot.at)}`, src: await dataUrl(await this.api.blob(path)),
      });
      button.replaceWith(image);
    } catch (error) {
      button.disabled = false;
      this.toasts.error("The screenshot could not be shown", error);
    }
  }
}
