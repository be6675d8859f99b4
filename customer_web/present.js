// What the panel shows for a state of the help flow: a pure function, so the flow (help.js) only
// keeps facts and the view (view.js) only draws.
//
// Phases: idle → starting → queued ⇄ ringing → connecting → active → ended → rated, and the side
// exits over (the ticket ended without a session), error (refused or unreachable) and elsewhere
// (another tab took the visitor over). `resuming` is a page load reconnecting an open ticket.

import { callbackMissed } from "./strings.js";
import { presentWaiting } from "./waiting.js";

const LIVE = new Set(["connecting", "active"]);

// Nobody online who could help (`agents_online` 0): said at once, never a wait; a wait the server
// cannot tell (null) is said to be unknown, never guessed.
function waitText(t, ticket) {
  if (ticket?.agents_online === 0) return t("nobodyAvailable");
  const seconds = ticket?.estimated_wait_s;
  if (seconds === null || seconds === undefined) return t("waitUnknown");
  if (seconds < 60) return t("waitShort");
  return t("waitMinutes", Math.round(seconds / 60));
}

/**
 * The view model: `{phase, open, live, status, detail, watchers, rating, actions, chat, comment,
 * unread}`. `watchers` (live sessions only): one line per supervisor watching or joined, always
 * shown, since the customer must know who sees the page.
 * `chat` (live sessions only): the lines and the texts around them; `comment`: the rating's
 * optional comment form, `{error}` while it is offered; `solved`: "Was your problem solved?" with
 * Yes / No, `{answer}` (true, false or null: not answered yet) while it may be answered (until the
 * comment is sent: the socket goes with it); `unread`: the collapsed button's count; `offer` and
 * `ring` (waiting only): "Call me back" and the callback's prompt (waiting.js). `now`: epoch ms,
 * for the countdowns.
 */
export function present(state, t, now = Date.now()) {
  const agent = state.session?.agent?.name || t("title");
  const model = {
    phase: state.phase,
    open: state.open,
    live: LIVE.has(state.phase),
    status: "",
    detail: "",
    watchers: [],
    rating: false,
    actions: [],
    chat: null,
    comment: null,
    solved: null,
    unread: state.open ? 0 : (state.unread ?? 0),
    offer: null,
    ring: null,
  };
  switch (state.phase) {
    case "idle":
      break;
    case "starting":
    case "resuming":
      model.status = t("starting");
      break;
    case "queued":
    case "ringing": {
      // Overflow, opening hours and the callback (waiting.js); Cancel always, but not while the
      // callback's prompt asks (it is all the panel offers then, as the consent dialog is).
      const waiting = presentWaiting(state, t, waitText, now);
      Object.assign(model, waiting);
      model.actions = waiting.ring ? [] : ["cancel"];
      break;
    }
    case "connecting":
    case "active":
      model.watchers = (state.watchers ?? []).map(({ name, mode }) =>
        t(mode === "join" ? "supervisorJoined" : "supervisorWatching", { name }),
      );
      if (state.confirming) {
        model.status = t("confirmEnd", { agent });
        model.actions = ["confirmEnd", "keepGoing"];
        break;
      }
      model.status = t(state.phase, { agent });
      model.detail = t(state.screenShared ? "screenShared" : "sharing", { agent });
      if (state.agentAway) model.detail = t("agentAway", { agent });
      // The whole screen instead of the page, where the browser can capture one (help.js).
      if (state.screenShared) model.actions = ["stopSharing", "end"];
      else if (state.canShareScreen && state.phase === "active") model.actions = ["shareScreen", "end"];
      else model.actions = ["end"];
      model.chat = {
        sessionId: state.session?.session_id ?? "",
        lines: (state.chat ?? []).map((line) => ({
          seq: line.seq,
          mine: line.mine,
          who: line.mine ? t("chatYou") : line.name || agent,
          text: line.text,
        })),
        title: t("chat", { agent }),
        empty: t("chatEmpty", { agent }),
        label: t("chatLabel", { agent }),
        error: state.chatError ?? "",
      };
      break;
    case "ended":
      model.status = state.endedBy === "agent" ? t("endedByAgent", { agent }) : t("ended");
      if (state.endReason === "peer_lost") model.status = t("endedLost");
      model.rating = true;
      model.actions = ["close"];
      break;
    case "rated":
      model.status = t("thanks");
      if (state.comment === "ask") {
        model.solved = { answer: typeof state.solved === "boolean" ? state.solved : null };
        model.comment = { error: state.commentError ?? "" };
      }
      if (state.comment === "sent") model.detail = t("commentThanks");
      model.actions = ["close"];
      break;
    case "over":
      model.status = state.endReason === "cancelled" ? t("cancelled") : t("endedLost");
      if (state.endReason === "callback_missed") model.status = callbackMissed(t, 0);
      model.actions = ["close"];
      break;
    case "error":
      model.status = state.error ?? t("unreachable");
      model.actions = state.retryable ? ["retry", "close"] : ["close"];
      break;
    case "elsewhere":
      model.status = t("elsewhere");
      model.actions = ["close"];
      break;
    default:
      model.status = t("failed", { message: state.phase });
  }
  // The socket dropped mid-flow: say so, the flow goes on when it is back.
  if (state.reconnecting && !["idle", "error", "elsewhere", "rated"].includes(state.phase)) {
    model.detail = t("reconnecting");
  }
  return model;
}
