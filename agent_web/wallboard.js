// The supervisors' wallboard: who is waiting, what every agent is doing, and how today is going.
//
// Supervisors and admins see it (the sign-in answer's `role`); an agent account never does, and
// the server refuses it the events anyway. The server pushes it: opening the view sends
// wallboard.subscribe, whose ack is the whole picture, and wallboard.update brings the next
// picture whenever something changed; leaving the view sends wallboard.unsubscribe. After a
// reconnect the view subscribes again (a disconnect ends the subscription). It never polls.
//
// Clocks tick here, once a second, from the picture's timestamps. They are server time: the
// picture's `at` against this machine's clock gives the offset, so a skewed PC still counts right.
// Everything a customer or device reported (names, topics) goes into the page as text only.
//
// An agent in a session has a "Watch" button on its row: event `watch` {sessionId, agentId,
// agentName}, which opens the watch view (watch.js). The list is rebuilt with every picture; a
// Watch button that had the focus gives it to the same agent's new button.

import { $, clear, formatClock, formatDuration, formatLocale, h, parts } from "./dom.js";
import { HourChart, formatPercent } from "./wallchart.js";

const VIEW_KEY = "mayday.agent.view";

/** Whether an account with `role` sees the wallboard. */
export function seesWallboard(role) {
  return role === "supervisor" || role === "admin";
}

/** The agents' states: what the wallboard says (never colour alone), in this order of listing. */
const AGENT_STATES = {
  available: "Available",
  ringing: "Ringing",
  in_session: "In session",
  wrapup: "Wrap-up",
  away: "Away",
  offline: "Offline",
};
const SUMMARY_STATES = ["available", "ringing", "in_session", "wrapup", "away"];

const NO_DATA = "no data yet";

/** "12 s", "4 min 05 s", "1 h 02 min" for a duration in seconds; null → "–". */
export function formatSpan(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return "–";
  const total = Math.max(0, Math.round(Number(seconds)));
  if (total < 60) return `${total} s`;
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, "0")} s`;
  return `${Math.floor(total / 3600)} h ${String(Math.floor((total % 3600) / 60)).padStart(2, "0")} min`;
}

function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

function isNull(value) {
  return value === null || value === undefined;
}

/**
 * The figures' tiles: what each shows big, and the line of detail under it. `value` and `detail`
 * take a Figures object and the picture (for the service level's threshold).
 */
const TILES = [
  {
    key: "service_level",
    label: "Service level",
    value: (f) => f.service_level,
    format: formatPercent,
    detail: (f, board) => `answered within ${board.service_level_s} s`,
    more: (f) => `${f.answered_in_time ?? 0} of ${plural(f.help_requests ?? 0, "help request")} in time`,
  },
  {
    key: "help_requests",
    label: "Help requests",
    value: (f) => f.help_requests,
    format: (v) => String(v ?? 0),
    detail: (f) => `${f.answered ?? 0} answered`,
  },
  {
    key: "average_speed_of_answer",
    label: "Avg. speed of answer",
    title: "Average speed of answer: the mean wait from Help to an agent's answer",
    value: (f) => f.average_speed_of_answer_s,
    format: formatSpan,
    detail: () => "from Help to an agent",
  },
  {
    key: "abandonment_rate",
    label: "Abandonment rate",
    value: (f) => f.abandonment_rate,
    format: formatPercent,
    detail: (f) => `${f.abandoned ?? 0} of ${f.help_requests ?? 0} gave up`,
  },
  {
    key: "average_handle_time",
    label: "Avg. handle time",
    title: "Average handle time: the mean length of a session",
    value: (f) => f.average_handle_time_s,
    format: formatSpan,
    detail: () => "per session",
  },
  {
    key: "csat",
    label: "Customer rating",
    title: "Customer satisfaction (CSAT): the mean of the customers' ratings from 1 to 5",
    value: (f) => f.csat_mean,
    format: (v) => (isNull(v) ? "–" : `${Number(v).toFixed(1)} / 5`),
    detail: (f) =>
      isNull(f.csat_share_4_5)
        ? `${plural(f.ratings ?? 0, "rating")}`
        : `${formatPercent(f.csat_share_4_5)} rated 4–5 of ${f.ratings ?? 0}`,
  },
  {
    key: "first_contact_resolution",
    label: "Solved first time",
    value: (f) => f.first_contact_resolution,
    format: formatPercent,
    title: "First-contact resolution: the share of customers who said their problem was solved",
    detail: (f) => `of ${f.solved_answers ?? 0} who answered`,
  },
];

/** One figure as text, or "–" with a title (and words for screen readers) while there is none. */
function figure(className, text, missing) {
  const node = h("span", { class: `${className}${missing ? " is-missing" : ""}`, text, title: missing ? NO_DATA : null });
  if (missing) node.append(h("span", { class: "sr-only", text: ` (${NO_DATA})` }));
  return node;
}

export class Wallboard extends EventTarget {
  constructor({ root, signaling, api }) {
    super();
    Object.assign(this, { root, signaling, api });
    this.canWatch = false; // set once a watch view is wired (main.js)
    Object.assign(this, parts(root, {
      updated: ".wb-updated", problem: ".wb-problem", since: ".wb-since", tiles: ".wb-tiles",
      queueList: ".wb-queue-list", queueEmpty: ".wb-queue-empty", queueCount: ".wb-queue-count",
      queueSummary: ".wb-queue-summary", agentList: ".wb-agent-list", agentCount: ".wb-agent-count",
      agentSummary: ".wb-agent-summary",
    }));
    this.chart = new HourChart({
      root: $(".wb-chart-card", root),
      canvasBox: $(".wb-chart", root),
      table: $(".wb-hours", root),
      fallback: $(".wb-chart-empty", root),
    });
    this.board = null;
    this.isOpen = false;
    this.subscribed = false;
    this._offset = 0;
    this._clocks = [];
    this._timer = null;
    this._tiles = this._buildTiles();
    signaling.on("wallboard.update", (board) => {
      if (this.isOpen) this.render(board);
    });
    signaling.addEventListener("status", ({ detail }) => this._connection(detail.state));
  }

  /** Server time now (epoch s), by the offset the last picture showed. */
  now() {
    return Date.now() / 1000 + this._offset;
  }

  open() {
    if (this.isOpen) return;
    this.isOpen = true;
    this.root.hidden = false;
    this._timer = setInterval(() => this._tick(), 1000);
    if (this.signaling.connected) this._subscribe();
    else this._firstPaint();
  }

  close() {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.root.hidden = true;
    clearInterval(this._timer);
    this._timer = null;
    if (this.subscribed && this.signaling.connected) {
      this.signaling.request("wallboard.unsubscribe", {}, { fresh: true }).catch(() => {
        // Gone already (a disconnect unsubscribes too): nothing to undo.
      });
    }
    this.subscribed = false;
  }

  async _subscribe() {
    try {
      const ack = await this.signaling.request("wallboard.subscribe", {}, { fresh: true });
      if (!this.isOpen) {
        // Closed while the answer was on its way: do not leave the pushes running.
        this.signaling.request("wallboard.unsubscribe", {}, { fresh: true }).catch(() => {});
        return;
      }
      this.subscribed = true;
      this._problem("");
      if (ack.wallboard) this.render(ack.wallboard);
    } catch (error) {
      if (!this.isOpen) return;
      if (error.code === "offline") return; // the reconnect subscribes
      this._problem(
        error.code === "forbidden"
          ? "Your account may not see the wallboard."
          : `The wallboard is not available: ${error.message}${error.code ? ` (${error.code})` : ""}.`,
      );
    }
  }

  /** Before the socket is up: one picture over REST, so the view is not empty meanwhile. */
  async _firstPaint() {
    try {
      const board = await this.api.get("/api/wallboard");
      if (this.isOpen && !this.board) this.render(board);
    } catch {
      // The subscription on connect brings it.
    }
  }

  _connection(state) {
    this.root.dataset.connection = state;
    if (state !== "connected") {
      this.subscribed = false;
      if (this.isOpen && this.board) this._stale();
      return;
    }
    if (this.isOpen) this._subscribe();
  }

  _problem(text) {
    this.problem.textContent = text;
    this.problem.hidden = !text;
  }

  // --- drawing a picture ------------------------------------------------------------------------

  render(board) {
    if (!board || typeof board !== "object") return;
    this.board = board;
    const at = Number(board.at);
    if (Number.isFinite(at)) this._offset = at - Date.now() / 1000;
    this._clocks = [];
    const zone = board.timezone || "UTC";
    this.updated.textContent = `Live · updated ${formatClock(at, true)}`;
    this.updated.dataset.stale = "false";
    const midnight = Array.isArray(board.hours) && board.hours.length ? Number(board.hours[0].start) : null;
    this.since.textContent = midnight === null ? `(${zone})` : `since ${hourLabel(midnight, zone)} (${zone})`;
    this._renderTiles(board);
    this._renderQueue(board);
    this._renderAgents(board);
    this.chart.render(board.hours, { timezone: zone });
    this._tick();
    this.dispatchEvent(new CustomEvent("render", { detail: board }));
  }

  _stale() {
    this.updated.textContent = `Reconnecting… figures as of ${formatClock(Number(this.board.at), true)}`;
    this.updated.dataset.stale = "true";
  }

  _buildTiles() {
    const tiles = {};
    for (const tile of TILES) {
      const node = h(
        "section",
        { class: `wb-tile${tile.key === "service_level" ? " wb-tile-lead" : ""}`, dataset: { tile: tile.key }, "aria-labelledby": `wb-tile-${tile.key}` },
        h("h3", { class: "wb-tile-label", id: `wb-tile-${tile.key}`, title: tile.title ?? null, text: tile.label }),
        h("p", { class: "wb-tile-value" }),
        h("p", { class: "wb-tile-detail" }),
        h("p", { class: "wb-tile-hour" }),
      );
      this.tiles.append(node);
      tiles[tile.key] = node;
    }
    return tiles;
  }

  _renderTiles(board) {
    const today = board.today ?? {};
    const hour = board.last_hour ?? {};
    for (const tile of TILES) {
      const node = this._tiles[tile.key];
      const [value, detail, last] = [".wb-tile-value", ".wb-tile-detail", ".wb-tile-hour"].map((s) => $(s, node));
      const todays = tile.value(today);
      value.replaceChildren(figure("wb-num", tile.format(todays), isNull(todays)));
      if (tile.key === "service_level") {
        value.append(h("span", { class: "wb-num-note", text: ` ${tile.detail(today, board)}` }));
        detail.textContent = tile.more(today);
      } else {
        detail.textContent = tile.detail(today, board);
      }
      const hours = tile.value(hour);
      last.replaceChildren("Last hour: ", figure("wb-hour-num", tile.format(hours), isNull(hours)));
    }
  }

  _renderQueue(board) {
    const queue = Array.isArray(board.queue) ? board.queue : [];
    this.queueCount.textContent = String(queue.length);
    this.queueEmpty.hidden = queue.length > 0;
    clear(this.queueList);
    const target = Number(board.service_level_s ?? 0);
    const ringing = queue.filter((entry) => entry.state === "ringing").length;
    this.queueSummary.hidden = queue.length === 0;
    this.queueSummary.textContent = `${plural(queue.length, "customer")} waiting · ${ringing} ringing an agent`;
    for (const entry of queue) this.queueList.append(this._queueRow(entry, target));
  }

  _queueRow(entry, target) {
    const customer = entry.customer ?? {};
    const name = String(customer.name ?? "Customer");
    const ringing = entry.state === "ringing";
    const waited = h("span", { class: "wb-clock", title: "Waiting for" });
    const late = h("span", { class: "sr-only" });
    this._clocks.push({ node: waited, since: Number(entry.waiting_since), late, target, row: null });
    const row = h(
      "li",
      { class: `wb-row wb-queue-row${ringing ? " is-ringing" : ""}`, dataset: { ticket: entry.ticket_id, state: entry.state } },
      h("span", { class: "wb-pos", title: "Position in the queue", text: `#${entry.position}` }),
      h(
        "div",
        { class: "wb-main" },
        h("span", { class: "wb-name", title: name, text: name }),
        h(
          "span",
          { class: "wb-meta" },
          entry.topic ? h("span", { class: "tag", title: "Topic", text: entry.topic }) : null,
          h("span", { class: "wb-lang", title: "Language", text: formatLocale(entry.locale || entry.language || "") }),
          h("span", { class: "wb-kind", text: entry.kind === "callback" ? "Callback" : "Live" }),
          h("span", { class: "wb-kind", text: customer.kind === "web" ? "Web page" : "Device" }),
        ),
      ),
      h(
        "div",
        { class: "wb-side" },
        h("span", {}, waited, late),
        h("span", { class: `state state-${ringing ? "ringing" : "queued"}`, text: ringing ? "Ringing" : "Waiting" }),
      ),
    );
    this._clocks.at(-1).row = row;
    return row;
  }

  _renderAgents(board) {
    const agents = Array.isArray(board.agents) ? board.agents : [];
    // The server's order (by name) within each group; offline ones at the bottom.
    const online = agents.filter((agent) => agent.state !== "offline");
    const offline = agents.filter((agent) => agent.state === "offline");
    this.agentCount.textContent = `${online.length} / ${agents.length}`;
    this.agentCount.title = `${online.length} signed in of ${agents.length}`;
    const counts = SUMMARY_STATES.map((state) => [state, online.filter((a) => a.state === state).length]);
    this.agentSummary.textContent =
      online.length === 0
        ? "Nobody is signed in."
        : counts
            .filter(([, count]) => count > 0)
            .map(([state, count]) => `${count} ${AGENT_STATES[state].toLowerCase()}`)
            .join(" · ");
    const focused = document.activeElement?.closest?.(".wb-watch")?.dataset.agent ?? null;
    clear(this.agentList);
    for (const agent of [...online, ...offline]) this.agentList.append(this._agentRow(agent));
    if (focused) (this.watchButton(focused) ?? this.agentList.closest("section"))?.focus({ preventScroll: true });
  }

  /** The Watch button of agent `agentId`'s row, if it has one now. */
  watchButton(agentId) {
    return [...this.agentList.querySelectorAll(".wb-watch")].find((button) => button.dataset.agent === agentId) ?? null;
  }

  _watchButton(agent, name) {
    const sessionId = String(agent.session_id ?? "");
    if (!this.canWatch || agent.state !== "in_session" || !sessionId || agent.id === this.api.agent?.id) return null;
    const button = h("button", {
      class: "btn btn-small wb-watch",
      type: "button",
      "aria-label": `Watch ${name}'s session`,
      title: `Watch ${name}'s session live`,
      dataset: { agent: agent.id, session: sessionId },
      text: "Watch",
    });
    button.addEventListener("click", () =>
      this.dispatchEvent(new CustomEvent("watch", { detail: { sessionId, agentId: agent.id, agentName: name } })),
    );
    return button;
  }

  _agentRow(agent) {
    const state = AGENT_STATES[agent.state] ? agent.state : "offline";
    const name = String(agent.name ?? "");
    const clock = h("span", { class: "wb-clock", title: `${AGENT_STATES[state]} for` });
    if (isNull(agent.since)) {
      clock.textContent = "–";
      clock.title = "since before the server started";
    } else {
      this._clocks.push({ node: clock, since: Number(agent.since) });
    }
    const today = Number(agent.sessions_today ?? 0);
    return h(
      "li",
      { class: `wb-row wb-agent${state === "offline" ? " is-offline" : ""}`, dataset: { agent: agent.id, state } },
      h("span", { class: "wb-agent-dot", "aria-hidden": "true" }),
      h(
        "div",
        { class: "wb-main" },
        h("span", { class: "wb-name", title: name, text: name }),
        agent.role && agent.role !== "agent" ? h("span", { class: "wb-meta", text: agent.role === "admin" ? "Admin" : "Supervisor" }) : null,
      ),
      h(
        "div",
        { class: "wb-side wb-agent-side" },
        this._watchButton(agent, name),
        h("span", { class: `wb-state wb-state-${state}`, text: AGENT_STATES[state] }),
        clock,
      ),
      h("span", { class: "wb-today", title: "Sessions taken today", text: `${today} today` }),
    );
  }

  _tick() {
    const now = this.now();
    for (const clock of this._clocks) {
      const waited = now - clock.since;
      clock.node.textContent = formatDuration(waited);
      if (clock.row) {
        const late = clock.target > 0 && waited > clock.target;
        clock.row.classList.toggle("is-late", late);
        clock.late.textContent = late ? ` (longer than ${clock.target} s)` : "";
      }
    }
  }
}

function hourLabel(epochSeconds, timezone) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  try {
    return new Date(epochSeconds * 1000).toLocaleTimeString([], { ...options, timeZone: timezone });
  } catch {
    return new Date(epochSeconds * 1000).toLocaleTimeString([], options);
  }
}

/**
 * The switch between the agent's own work and the wallboard, in the top bar. The choice outlives
 * a reload of the tab. Event `change` {view}.
 */
export class ViewSwitch extends EventTarget {
  constructor({ root, console: consoleRoot, work, wallboard }) {
    super();
    Object.assign(this, { root, consoleRoot, work, wallboard });
    this.buttons = [...root.querySelectorAll("button[data-view]")];
    for (const button of this.buttons) button.addEventListener("click", () => this.select(button.dataset.view));
    root.hidden = false;
    this.current = null;
  }

  restore() {
    this.select(sessionStorage.getItem(VIEW_KEY) === "wallboard" ? "wallboard" : "work");
  }

  select(view) {
    if (view === this.current) return;
    this.current = view;
    sessionStorage.setItem(VIEW_KEY, view);
    for (const button of this.buttons) {
      const on = button.dataset.view === view;
      button.setAttribute("aria-pressed", String(on));
      button.classList.toggle("is-on", on);
    }
    this.consoleRoot.dataset.view = view;
    this.work.hidden = view !== "work";
    if (view === "wallboard") this.wallboard.open();
    else this.wallboard.close();
    this.dispatchEvent(new CustomEvent("change", { detail: { view } }));
  }
}
