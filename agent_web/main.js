// The agent console's entry point: sign-in, then wiring the panels to one /agent socket.
//
// The console is built once per page load. Signing out (or a token that can no longer be used)
// clears the stored token and reloads the page, so no listener, timer or peer connection of the
// previous agent can survive into the next sign-in.

import { Annotator } from "./annotate.js";
import { Api, needsSignIn } from "./api.js";
import { CallbackCard } from "./callback.js";
import { CannedPicker } from "./canned.js";
import { ChatPanel } from "./chat.js";
import { CobrowseView } from "./cobrowse.js";
import { ControlButton } from "./consent.js";
import { RemoteControl } from "./control.js";
import { CustomerPanel } from "./customer.js";
import { $, Dialog, formatDuration } from "./dom.js";
import { EndMenu } from "./endmenu.js";
import { LocalMedia } from "./media.js";
import { NotesPanel } from "./notes.js";
import { Notices, Toasts } from "./notices.js";
import { PeerNotices } from "./peer.js";
import { Presence } from "./presence.js";
import { QueuePanel } from "./queue.js";
import { ReplayView } from "./replay.js";
import { RingCard } from "./ring.js";
import { ScreenView } from "./screen.js";
import { SessionController } from "./session.js";
import { SessionBar } from "./sessionbar.js";
import { Shortcuts } from "./shortcuts.js";
import { SnapshotButton } from "./snapshot.js";
import { Signaling } from "./socket.js";
import { Stage } from "./stage.js";
import { TalkBar } from "./talk.js";
import { TimelinePanel, TimelinePoller } from "./timeline.js";
import { ToolBar } from "./tools.js";
import { ViewSwitch, Wallboard, seesWallboard } from "./wallboard.js";
import { WatchView } from "./watch.js";
import { WrapUp } from "./wrapup.js";

const FLASH_KEY = "mayday.agent.flash";
const TITLE = "mayday · Agent console";

const api = new Api();
const toasts = new Toasts($("#toasts"));

// --- sign-in ----------------------------------------------------------------------------------

function showSignIn() {
  $("#console").hidden = true;
  $("#signin").hidden = false;
  const flash = sessionStorage.getItem(FLASH_KEY);
  sessionStorage.removeItem(FLASH_KEY);
  if (flash) signInError(flash);
  $("#signin-name").focus();
}

function signInError(text) {
  const error = $("#signin-error");
  error.textContent = text;
  error.hidden = !text;
}

$("#signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("#signin-name").value.trim();
  const password = $("#signin-password").value;
  if (!name || !password) {
    signInError("Enter your name and password.");
    return;
  }
  const submit = $("#signin-submit");
  submit.disabled = true;
  submit.textContent = "Signing in…";
  signInError("");
  try {
    await api.login(name, password);
    $("#signin-password").value = "";
    startConsole();
  } catch (error) {
    signInError(
      error.code === "unauthorized"
        ? "Wrong name or password."
        : `Could not sign in: ${error.message}${error.code ? ` (${error.code})` : ""}`,
    );
  } finally {
    submit.disabled = false;
    submit.textContent = "Sign in";
  }
});

/** Back to the sign-in form with a message, from a clean page. The first reason wins. */
let leaving = false;
function signOut(message = "") {
  if (leaving) return;
  leaving = true;
  api.signOut();
  if (message) sessionStorage.setItem(FLASH_KEY, message);
  location.reload();
}

// --- the console --------------------------------------------------------------------------------

/** The right-hand tabs (chat, notes, timeline). Event `change` when another tab is shown. */
class Tabs extends EventTarget {
  constructor(root) {
    super();
    this.buttons = [...root.querySelectorAll("[data-tab]")];
    this.current = "chat";
    for (const button of this.buttons) button.addEventListener("click", () => this.select(button.dataset.tab));
  }

  select(name) {
    this.current = name;
    for (const button of this.buttons) {
      const on = button.dataset.tab === name;
      button.setAttribute("aria-selected", String(on));
      $(`#panel-${button.dataset.tab}`).hidden = !on;
    }
    this.dispatchEvent(new CustomEvent("change", { detail: { tab: name } }));
  }
}

/** How long after a web customer's ring the console starts loading the replay (see "ringing"). */
const REPLAY_PRELOAD_DELAY_MS = 250;
const REASON_LABEL = {
  resolved: "Resolved",
  unresolved: "Unresolved",
  escalated: "Escalated",
  other: "Other",
  peer_lost: "Connection lost",
  agent_lost: "Your connection was lost; the customer went back to the queue",
  cancelled: "Cancelled",
  ended: "Ended",
};
const ENDED_BY = { agent: "by you", device: "by the customer", system: "by the server" };

function startConsole() {
  $("#signin").hidden = true;
  $("#console").hidden = false;
  $("#me-name").textContent = api.agent?.name ?? "";

  const signaling = new Signaling(() => api.token);
  const media = new LocalMedia();
  const notices = new Notices($("#notices"));
  const tabs = new Tabs($(".right"));
  const presence = new Presence({ root: $("#presence"), signaling, toasts });
  const queue = new QueuePanel({ root: $("#queue"), signaling, api, toasts });
  const ring = new RingCard({ root: $("#ring"), signaling, api, toasts });
  const callback = new CallbackCard({ root: $("#callback"), signaling, toasts });
  const chat = new ChatPanel({ root: $("#panel-chat"), signaling, toasts });
  const notes = new NotesPanel({ root: $("#panel-notes"), signaling, toasts });
  const timeline = new TimelinePanel({ list: $(".session-timeline"), status: $(".timeline-status"), api });
  const wrapupTimeline = new TimelinePanel({ list: $(".wrapup-timeline"), status: $(".wrapup-status"), api });

  // The session view: the stage with its picture, tools and mode, and the bar above it. The
  // session lifecycle starts and stops these pieces; they talk to each other through events.
  const view = $("#session");
  const [stageRoot, video] = [$("#stage"), $("#screen")];
  const annotator = new Annotator({ stage: stageRoot, video, canvas: $("#marks"), toasts });
  const control = new RemoteControl({ signaling, stage: stageRoot, video, toasts });
  const stage = new Stage({ root: stageRoot, view, annotator, control, toasts });
  const tools = new ToolBar({ root: $(".toolbar", view), annotator, stage });
  const screen = new ScreenView({ root: stageRoot, video, annotator });
  const replay = new ReplayView({ stage: stageRoot, below: video });
  const cobrowse = new CobrowseView({ bar: $(".page-bar", view), replay, screen, notices });
  const bar = new SessionBar({ root: $(".session-bar", view), api });
  const consent = new ControlButton({ button: $(".control-button", view), control, stage, toasts, notices });
  const talk = new TalkBar({ root: $(".session-actions", view), selfview: $("#selfview"), media, toasts });
  const endMenu = new EndMenu({ root: $(".end-wrap", view) });
  const session = new SessionController({
    view, signaling, api, toasts, notices, media, chat, notes, timeline,
    timelinePoller: new TimelinePoller({ timeline, tabs }),
    annotator, control, stage, screen, cobrowse, bar, consent, talk, endMenu,
    peerNotices: new PeerNotices({ notices, toasts }),
  });
  // The microphone starts once the picture is there: the first frame must not wait for it.
  screen.addEventListener("firstframe", () => talk.startMic());
  cobrowse.addEventListener("firstpaint", () => talk.startMic());

  // The Customer tab (who they are, their earlier sessions), the canned replies beside the chat
  // input (they only fill the input), and the screenshot button (customer.js, canned.js, snapshot.js).
  const customer = new CustomerPanel({ root: $("#panel-customer"), api, toasts });
  new CannedPicker({ form: $(".chat-form"), input: $(".chat-input"), api, toasts });
  const snapshot = new SnapshotButton({
    button: $(".snapshot-button", view), video, api, toasts, session: () => session.session?.session_id ?? null,
  });
  session.addEventListener("started", ({ detail }) => customer.setSession(detail));
  session.addEventListener("devicestatus", ({ detail }) => customer.setDeviceFacts(detail.device));
  snapshot.addEventListener("kept", () => customer.refresh());

  // Debugging, tests and benchmarks reach the pieces through one well-known name; nothing depends
  // on it. `cobrowse.stats` has the co-browsing timings (epoch ms: channelOpenAt, helloAt,
  // firstEventAt, firstSnapshotAt, firstPaintAt, lastEventAt) and counts (events, snapshots,
  // frames, chars, gaps, snapshotRequests, lastSeq); `cobrowse.replay.document` is the mirrored page.
  window.mayday = { api, signaling, session, presence, queue, ring, callback, stage, tools, consent, talk, cobrowse };

  // Connection state in the top bar.
  const conn = $("#conn");
  const connText = { connecting: "Connecting…", connected: "Connected", reconnecting: "Reconnecting…", offline: "Offline" };
  signaling.addEventListener("status", ({ detail }) => {
    conn.dataset.state = detail.state;
    $(".conn-text", conn).textContent =
      detail.state === "offline" && detail.reason ? `Offline: ${detail.reason}` : connText[detail.state];
  });
  signaling.addEventListener("refused", ({ detail }) => {
    if (needsSignIn(detail)) signOut(`${detail.message}.`);
    else toasts.error("The server refused the connection", detail);
  });
  signaling.addEventListener("replaced", () => {
    toasts.show("This console was opened in another window or tab, which took over.", "error", "Signed in elsewhere", {
      action: { label: "Use this window", run: () => signaling.connect() },
      key: "replaced",
    });
  });
  api.addEventListener("expired", ({ detail }) => signOut(`${detail?.message ?? "Your sign-in has expired"}.`));

  // Centre: idle, ringing, in session, wrap-up.
  const idle = $("#idle");
  const wrapup = $("#wrapup");
  queue.busy = () => session.active;
  const wrapUp = new WrapUp({ root: wrapup, signaling, presence, api, toasts, panels: [chat, notes, timeline, wrapupTimeline] });
  const showCentre = (view) => {
    idle.hidden = view !== "idle";
    wrapup.hidden = view !== "wrapup";
  };
  const renderIdle = () => {
    const available = presence.status === "available";
    $(".idle-title", idle).textContent = available ? "Waiting for the next customer" : "You are away";
    $(".idle-text", idle).textContent = available
      ? "Customers who match your languages and skills ring here."
      : "Switch to Available (left) to receive customers.";
    idle.dataset.status = presence.status;
  };
  presence.addEventListener("change", renderIdle);
  renderIdle();

  // A web customer ringing: the replay (rrweb and its frame) is loaded while the agent decides, so
  // that accepting does not wait for it. Not at the very moment of the ring: an accept within it
  // (a script, a quick key) would find the console busy loading; the session loads it then.
  let preload = null;
  ring.addEventListener("ringing", ({ detail }) => {
    document.title = `Incoming customer · ${TITLE}`;
    clearTimeout(preload);
    if (detail.ticket?.kind === "web" && !session.active) {
      preload = setTimeout(() => {
        if (!session.active) cobrowse.replay.preload();
      }, REPLAY_PRELOAD_DELAY_MS);
    }
  });
  ring.addEventListener("accepted", () => clearTimeout(preload));
  ring.addEventListener("over", () => {
    document.title = session.active ? `In session · ${TITLE}` : TITLE;
  });
  // A callback: the desk holds this agent while the customer is asked to connect (callback.js).
  callback.addEventListener("calling", ({ detail }) => {
    document.title = `Calling a customer back · ${TITLE}`;
    clearTimeout(preload); // the replay, loaded ahead as for a ring
    if (detail.ticket?.kind === "web" && !session.active) {
      preload = setTimeout(() => {
        if (!session.active) cobrowse.replay.preload();
      }, REPLAY_PRELOAD_DELAY_MS);
    }
  });
  callback.addEventListener("over", () => {
    document.title = session.active ? `In session · ${TITLE}` : TITLE;
  });

  session.addEventListener("started", () => {
    wrapUp.close({ clean: false });
    ring.dismiss();
    callback.dismiss();
    showCentre("session");
    tabs.select("chat");
    document.title = `In session · ${TITLE}`;
  });
  session.addEventListener("ended", ({ detail }) => {
    document.title = TITLE;
    const who = detail.session?.device?.name ?? "the customer";
    const reason = REASON_LABEL[detail.reason] ?? detail.reason;
    wrapUp.open(
      detail.session_id,
      `${reason} · ended ${ENDED_BY[detail.ended_by] ?? ""} · ${formatDuration(detail.duration)} with ${who}`,
      detail, // a customer handed on is summed up by where they went (wrapup.js)
    );
    showCentre("wrapup");
    wrapupTimeline.setSession(detail.session_id);
    wrapupTimeline.refresh();
    timeline.refresh();
    if (detail.ended_by !== "agent") {
      toasts.show(
        detail.reason === "peer_lost"
          ? `The customer's ${detail.session?.device?.kind === "web" ? "page" : "device"} did not come back.`
          : "The customer ended the session.",
        "info",
        "Session ended",
      );
    }
  });
  wrapUp.addEventListener("closed", () => {
    if (!session.active) showCentre("idle");
  });
  $(".timeline-refresh").addEventListener("click", () => timeline.refresh());

  // Unread chat lines while another tab is showing or the window is in the background.
  const unread = $(".unread");
  let unreadCount = 0;
  chat.addEventListener("incoming", ({ detail }) => {
    if (tabs.current === "chat" && detail.seen) return;
    unreadCount += 1;
    unread.textContent = String(unreadCount);
    unread.hidden = false;
  });
  const chatRead = () => {
    if (tabs.current !== "chat") return;
    unreadCount = 0;
    unread.hidden = true;
  };
  tabs.addEventListener("change", chatRead);
  chat.addEventListener("seen", chatRead);

  // Keyboard shortcuts and their help.
  const shortcuts = new Shortcuts({ isBlocked: () => stage.keysBelongToDevice() });
  const inSession = () => session.active;
  shortcuts.bind("P", "Pen", () => tools.select("pen"), inSession);
  shortcuts.bind("A", "Arrow", () => tools.select("arrow"), inSession);
  shortcuts.bind("C", "Circle", () => tools.select("circle"), inSession);
  shortcuts.bind("H", "Highlight", () => tools.select("highlight"), inSession);
  shortcuts.bind("L", "Laser pointer", () => tools.select("laser"), inSession);
  ["1", "2", "3", "4", "5"].forEach((key, index) => {
    const swatch = view.querySelectorAll(".swatch")[index];
    if (swatch) shortcuts.bind(key, `Colour: ${swatch.getAttribute("aria-label")}`, () => tools.selectColor(swatch.dataset.color), inSession);
  });
  shortcuts.bind("Z", "Undo the last mark", () => tools.undo(), inSession);
  shortcuts.bind("X", "Clear all marks", () => tools.clear(), inSession);
  shortcuts.bind("N", "Pin new marks on / off", () => tools.togglePin(), inSession);
  shortcuts.bind("K", "Switch Annotate / Control mode", () => stage.toggleMode(), inSession);
  shortcuts.bind("M", "Mute / unmute your microphone", () => talk.toggleMute(), inSession);
  shortcuts.bind("V", "Camera on / off", () => talk.toggleCamera(), inSession);
  shortcuts.bind("S", "Save a screenshot with the session", () => snapshot.take(), inSession);
  shortcuts.bind("F", "Full screen on / off", () => stage.toggleFullscreen(), inSession);
  shortcuts.bind("?", "Show this help", () => help.show());
  // The help is a modal dialog: focus stays inside while open and goes back to the opener (dom.js).
  const help = new Dialog({ root: $("#help"), initial: $("#help .help-close") });
  shortcuts.renderHelp($(".shortcut-list", help.root));
  $("#help-button").addEventListener("click", () => help.show());
  $(".help-close", help.root).addEventListener("click", () => help.close());

  $("#signout").addEventListener("click", () => {
    if (session.active) {
      toasts.show("End the session before signing out.", "warning", "Still in a session");
      return;
    }
    signaling.close();
    signOut();
  });

  // Supervisors and admins: a switch in the top bar between their own work and the wallboard. A
  // ring or a session of their own brings their work back into view (wallboard.js). From the
  // wallboard they watch and join a colleague's session (watch.js), shown in the wallboard's place;
  // their own work goes on beside it.
  if (seesWallboard(api.role)) {
    const wallboard = new Wallboard({ root: $("#wallboard"), signaling, api });
    const views = new ViewSwitch({ root: $("#view-switch"), console: $("#console"), work: $(".layout"), wallboard });
    const watch = new WatchView({ root: $("#watch"), host: $("#console"), signaling, api, toasts });
    wallboard.canWatch = true;
    wallboard.addEventListener("watch", ({ detail }) => watch.open(detail));
    watch.addEventListener("closed", ({ detail }) => {
      if (views.current !== "wallboard") return;
      (wallboard.watchButton(detail.agentId ?? "") ?? $("#wallboard-title")).focus({ preventScroll: true });
    });
    // Back at their own work, a supervisor stops watching: the customer is never told that
    // someone looks on who does not (§19.3).
    views.addEventListener("change", ({ detail }) => {
      if (detail.view === "work" && watch.isOpen) watch.leave();
    });
    ring.addEventListener("ringing", () => views.select("work"));
    callback.addEventListener("calling", () => views.select("work"));
    session.addEventListener("started", () => views.select("work"));
    views.restore();
    window.mayday.wallboard = wallboard;
    window.mayday.views = views;
    window.mayday.watch = watch;
  }

  showCentre("idle");
  signaling.connect();
  queue.load();
}

// --- boot -------------------------------------------------------------------------------------

if (api.hasValidToken()) startConsole();
else {
  api.signOut();
  showSignIn();
}
