// The live queue: who is waiting, for what, in which language, and for how long.
//
// queue.update carries the whole queue (first 200 entries) after every change; waiting times are
// counted up locally once a second from `waiting_since` (server time, see Api.now()). A customer an
// agent handed on (`handed_on`) wears a small "handed on" badge; a callback (`callback`) and a
// customer routed past their language (`widened`) wear theirs (callback.js). A callback has no
// Take: the server rings the customer for the next free agent (docs §20.3).

import { entryMarks } from "./callback.js";
import { clear, formatDuration, formatLocale, formatWait, h, parts } from "./dom.js";

// Entry layout: position | device name, topic and language | waiting time and state.

export class QueuePanel {
  constructor({ root, signaling, api, toasts }) {
    Object.assign(this, { api, signaling, toasts });
    this.busy = () => false;
    Object.assign(this, parts(root, {
      list: ".queue-list", empty: ".queue-empty", count: ".queue-count", summary: ".queue-summary",
    }));
    this._clocks = [];
    this._timer = null;
    signaling.on("queue.update", (update) => this.render(update));
  }

  async load() {
    try {
      this.render(await this.api.get("/api/queue"));
    } catch {
      // queue.update follows on connect anyway; nothing to tell the agent here.
    }
  }

  render(update) {
    const entries = Array.isArray(update.entries) ? update.entries : [];
    const length = Number(update.length ?? entries.length);
    this.count.textContent = String(length);
    const free = Number(update.agents_available ?? 0);
    // The estimate is null while no agent is staffed or too few sessions were handled to know
    // (docs §7.5): say so rather than a made-up number.
    const agentsFree = `${free} agent${free === 1 ? "" : "s"} free`;
    this.summary.textContent =
      update.estimated_wait_s === null || update.estimated_wait_s === undefined
        ? `Wait for new customers: not known yet · ${agentsFree}`
        : `Wait for new customers: ${formatWait(update.estimated_wait_s)} · ${agentsFree}`;
    clear(this.list);
    this._clocks = [];
    this.empty.hidden = entries.length > 0;
    for (const entry of entries) this.list.append(this._row(entry));
    if (length > entries.length) {
      this.list.append(h("li", { class: "queue-more", text: `and ${length - entries.length} more…` }));
    }
    this._tick();
    if (this._timer === null) this._timer = setInterval(() => this._tick(), 1000);
  }

  _row(entry) {
    const waited = h("span", { class: "queue-waited", title: "Waiting for" });
    this._clocks.push({ node: waited, since: Number(entry.waiting_since) });
    const ringing = entry.state === "ringing";
    return h(
      "li",
      { class: `queue-entry${ringing ? " is-ringing" : ""}`, dataset: { ticket: entry.ticket_id } },
      h("span", { class: "queue-position", title: "Position in the queue", text: `#${entry.position}` }),
      h(
        "div",
        { class: "queue-main" },
        h("span", { class: "queue-device", title: entry.device_name, text: entry.device_name }),
        h(
          "span",
          { class: "queue-meta" },
          h("span", { class: "tag", text: entry.topic }),
          h("span", { class: "queue-locale", title: formatLocale(entry.locale), text: entry.locale }),
          entry.handed_on ? this._handedOnBadge(entry.handed_on) : null,
          ...entryMarks(entry),
        ),
      ),
      h(
        "div",
        { class: "queue-side" },
        waited,
        h("span", { class: `state state-${ringing ? "ringing" : "queued"}`, text: ringing ? "ringing" : "waiting" }),
        ringing || entry.callback ? null : this._takeButton(entry),
      ),
    );
  }

  _handedOnBadge(handedOn) {
    const from = handedOn.from_agent?.name || "a colleague";
    const to = handedOn.to === "agent" && handedOn.to_agent ? ` to ${handedOn.to_agent.name}` : " back to the queue";
    return h("span", { class: "tag tag-handon", title: `Handed on by ${from}${to}`, text: "handed on" });
  }

  _takeButton(entry) {
    const button = h("button", {
      class: "btn btn-small queue-take",
      type: "button",
      text: "Take",
      title: "Serve this customer now",
      "aria-label": `Take ${entry.device_name} (#${entry.position}) now`,
    });
    button.addEventListener("click", () => this.take(entry, button));
    return button;
  }

  /** queue.take: serve this waiting customer now, whoever routing would ring (docs §6.2). */
  async take(entry, button) {
    if (this.busy()) {
      this.toasts.show("End your current session before taking another customer.", "warning", "Still in a session");
      return;
    }
    button.disabled = true;
    try {
      await this.signaling.request("queue.take", { ticket_id: entry.ticket_id });
    } catch (error) {
      this.toasts.error(`Could not take ${entry.device_name}`, error);
      button.disabled = false;
    }
  }

  _tick() {
    const now = this.api.now();
    for (const clock of this._clocks) clock.node.textContent = formatDuration(now - clock.since);
  }
}
