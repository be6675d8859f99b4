// The widget's DOM: the Help button and the panel, in a shadow root on a host element of its own.
//
// Built once from elements (no innerHTML anywhere), then `render(model)` shows a model: every text
// goes in through textContent, so an agent's or site's name can never become markup. Buttons are
// kept across renders so that keyboard focus stays where the customer left it.
//
// Remote control (control.js) adds two parts: the consent dialog in the panel (who asks, Allow,
// Deny) and, while control is on, a bar at the top of the window with Stop control, outside the
// panel so that it stays visible when the panel is minimized.
//
// The chat (help.js, docs/protocol.md §6.3) is part of the panel during a session: its lines are
// set as textContent like everything else, and like everything in this shadow root it is never
// recorded (recorder.js drops even the input events rrweb would report for the chat's field).
// While the panel is collapsed, the Help button counts the agent's unread lines.
//
// Supervisors watching the session (docs/cobrowse.md §2.3) are named in the panel, a line each,
// as text like everything else, for as long as they watch.
//
// While the customer waits, "Call me back" and, when the callback comes, its prompt are
// callback-view.js's parts of the panel (docs/protocol.md §20.3).

import { adoptCallbackStyles } from "./callback-styles.js";
import { createCallbackView } from "./callback-view.js";
import { WIDGET_TAG } from "./masking.js";
import { adoptStyles, isolateHost } from "./styles.js";

// Action buttons: their label's key and their look. The model lists which to show, in order.
const ACTIONS = {
  cancel: ["cancel", "secondary"],
  shareScreen: ["shareScreen", "secondary"],
  stopSharing: ["stopSharing", "primary"],
  end: ["end", "danger"],
  confirmEnd: ["confirmYes", "danger"],
  keepGoing: ["confirmNo", "secondary"],
  retry: ["retry", "primary"],
  close: ["close", "secondary"],
};

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * `t`: the translator; `onAction(id, value)`: a button was pressed ("help", "minimize", an
 * ACTIONS id, "rate" with 1–5, "solved" with true / false, or a callback-view.js one).
 * Returns `{host, render(model)}`; the host is not yet in the page.
 */
export function createView(t, locale, onAction) {
  const host = document.createElement(WIDGET_TAG);
  isolateHost(host);
  const shadow = host.attachShadow({ mode: "open" });
  adoptStyles(shadow);
  adoptCallbackStyles(shadow);

  const help = el("button", { type: "button", class: "help", "aria-expanded": "false", "aria-controls": "panel" });
  const badge = el("span", { class: "badge", "aria-hidden": "true" });
  const unreadText = el("span", { class: "sr-only" });
  badge.hidden = true;
  help.append(
    el("span", { class: "icon", "aria-hidden": "true" }, "?"),
    el("span", { class: "label" }, t("help")),
    badge,
    unreadText,
  );
  // Said once when the count changes while the panel is collapsed (the log inside is hidden then).
  const unreadNote = el("span", { class: "sr-only", role: "status", "aria-live": "polite" });

  const title = el("h2", { class: "title", id: "panel-title" }, t("title"));
  const minimize = el("button", { type: "button", class: "close", "aria-label": t("minimize"), title: t("minimize") });
  minimize.textContent = "×";
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const detail = el("p", { class: "detail" });
  // Who else sees the page: one line per watching supervisor, said when it changes.
  const watchers = el("ul", { class: "watchers", "aria-live": "polite" });
  const stars = el("div", { class: "stars" });
  for (let n = 1; n <= 5; n += 1) {
    const star = el("button", { type: "button", class: "star", "aria-label": t("rateStar", n) }, String(n));
    star.addEventListener("click", () => onAction("rate", n));
    stars.append(star);
  }
  const rating = el("fieldset", { class: "rating" }, el("legend", {}, t("rateQuestion")), stars);
  // "Was your problem solved?" after the stars: two big toggle buttons, the answer pressed.
  const solvedYes = el("button", { type: "button", class: "answer", "data-solved": "yes", "aria-pressed": "false" });
  const solvedNo = el("button", { type: "button", class: "answer", "data-solved": "no", "aria-pressed": "false" });
  solvedYes.textContent = t("solvedYes");
  solvedNo.textContent = t("solvedNo");
  solvedYes.addEventListener("click", () => onAction("solved", true));
  solvedNo.addEventListener("click", () => onAction("solved", false));
  const solved = el(
    "fieldset",
    { class: "solved" },
    el("legend", {}, t("solvedQuestion")),
    el("div", { class: "answers" }, solvedYes, solvedNo),
  );
  solved.hidden = true;

  // The chat: a log of lines, then one field and Send (Enter sends: it is a form).
  const chatTitle = el("h3", { class: "chat-title", id: "chat-title" });
  const chatLog = el("ol", {
    class: "chat-log",
    role: "log",
    "aria-live": "polite",
    "aria-labelledby": "chat-title",
    tabindex: "0", // scrollable with the keyboard
  });
  const chatEmpty = el("p", { class: "chat-empty" });
  const chatLabel = el("label", { class: "chat-label", for: "chat-input" });
  const chatInput = el("input", {
    class: "chat-input",
    id: "chat-input",
    type: "text",
    maxlength: "2000",
    autocomplete: "off",
    enterkeyhint: "send",
    "aria-describedby": "chat-error",
  });
  const chatSend = el("button", { type: "submit", class: "send" }, t("chatSend"));
  const chatError = el("p", { class: "form-error", id: "chat-error", role: "alert" });
  const chatRow = el("div", { class: "row" }, chatInput, chatSend);
  const chatForm = el("form", { class: "chat-form" }, chatLabel, chatRow, chatError);
  const chat = el("section", { class: "chat", "aria-labelledby": "chat-title" }, chatTitle, chatEmpty, chatLog, chatForm);
  chat.hidden = true;
  // Never a page load: the form only hands its text to the flow, and keeps it if it was not sent.
  submitting(chatForm, chatInput, (text) => onAction("chatSend", text));

  // The rating's optional comment, offered with the thank-you.
  const commentLabel = el("label", { class: "comment-label", for: "comment-input" }, t("commentLabel"));
  const commentInput = el("textarea", {
    class: "comment-input",
    id: "comment-input",
    rows: "3",
    maxlength: "1000",
    "aria-describedby": "comment-error",
  });
  const commentSend = el("button", { type: "submit", class: "send" }, t("commentSend"));
  const commentError = el("p", { class: "form-error", id: "comment-error", role: "alert" });
  const commentRow = el("div", { class: "row end" }, commentSend);
  const comment = el("form", { class: "comment" }, commentLabel, commentInput, commentRow, commentError);
  comment.hidden = true;
  submitting(comment, commentInput, (text) => onAction("comment", text));
  const actions = el("div", { class: "actions" });
  const buttons = {};
  for (const [id, [label, kind]] of Object.entries(ACTIONS)) {
    buttons[id] = el("button", { type: "button", class: kind }, t(label));
    buttons[id].addEventListener("click", () => onAction(id));
  }
  const callback = createCallbackView(t, onAction); // "Call me back" and its prompt
  const consentTitle = el("h3", { class: "consent-title", id: "consent-title" });
  const consentBody = el("p", { class: "consent-body", id: "consent-body" });
  const allow = el("button", { type: "button", class: "allow", "data-control": "allow" }, t("allow"));
  const deny = el("button", { type: "button", class: "deny", "data-control": "deny" }, t("deny"));
  allow.addEventListener("click", () => onAction("allow"));
  deny.addEventListener("click", () => onAction("deny"));
  const consent = el(
    "div",
    { class: "consent", role: "group", "aria-labelledby": "consent-title", "aria-describedby": "consent-body" },
    consentTitle,
    consentBody,
    el("div", { class: "consent-actions" }, allow, deny),
  );
  consent.hidden = true;
  const barText = el("span", { class: "controlbar-text" });
  const stop = el("button", { type: "button", class: "stop", "data-control": "stop" }, t("stopControl"));
  stop.addEventListener("click", () => onAction("stopControl"));
  const bar = el("div", { class: "controlbar", role: "status", "aria-live": "polite" }, barText, stop);
  bar.hidden = true;
  const panel = el(
    "section",
    {
      class: "panel",
      id: "panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "panel-title",
      tabindex: "-1",
    },
    el("div", { class: "head" }, title, minimize),
    consent,
    callback.prompt,
    status,
    detail,
    callback.offer,
    watchers,
    chat,
    rating,
    solved,
    comment,
    actions,
  );
  panel.hidden = true;
  const root = el("div", { class: "root", lang: locale }, bar, panel, help, unreadNote);
  shadow.append(root);

  help.addEventListener("click", () => onAction("help"));
  minimize.addEventListener("click", () => onAction("minimize"));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      onAction("minimize");
    }
  });
  // What the customer types into the widget's fields is not for the page: its keyboard shortcuts
  // (listening on the document) would otherwise react to the letters of a chat line.
  for (const type of ["keydown", "keyup", "keypress"]) {
    panel.addEventListener(type, (event) => {
      if (event.target === chatInput || event.target === commentInput) event.stopPropagation();
    });
  }

  let chatShown = { sessionId: null, count: 0 };
  /** Draw the chat's lines: appended as they come, redrawn for another session. */
  function renderChat(model) {
    chat.hidden = !model;
    if (!model) return;
    chatTitle.textContent = model.title;
    chatEmpty.textContent = model.empty;
    chatEmpty.hidden = model.lines.length > 0;
    chatLog.hidden = model.lines.length === 0;
    chatLabel.textContent = model.label;
    chatError.textContent = model.error;
    if (chatShown.sessionId !== model.sessionId || model.lines.length < chatShown.count) {
      chatLog.replaceChildren();
      chatShown = { sessionId: model.sessionId, count: 0 };
    }
    const added = model.lines.slice(chatShown.count);
    if (!added.length) return;
    for (const line of added) {
      const item = el(
        "li",
        { class: line.mine ? "line mine" : "line theirs", "data-seq": String(line.seq) },
        el("span", { class: "who" }, line.who),
        el("span", { class: "text" }, line.text),
      );
      chatLog.append(item);
    }
    chatShown.count = model.lines.length;
    chatLog.scrollTop = chatLog.scrollHeight;
  }

  let shownWatchers = "";
  /** The watchers' lines, as text, redrawn only when they change (so they are said once). */
  function renderWatchers(lines) {
    const key = JSON.stringify(lines);
    if (key === shownWatchers) return;
    shownWatchers = key;
    watchers.replaceChildren(...lines.map((line) => el("li", { class: "watcher" }, line)));
  }

  let shownActions = "";
  const visible = (node) => node && node.isConnected && node.getClientRects().length > 0;

  /** `takeFocus`: the customer opened the panel just now (not a page load resuming it). */
  function render(model, { takeFocus = false } = {}) {
    const focusInPanel = panel.contains(shadow.activeElement);
    const opening = model.open && panel.hidden;
    host.dataset.phase = model.phase;
    help.setAttribute("aria-expanded", String(model.open));
    help.toggleAttribute("data-live", Boolean(model.live));
    const unread = model.open ? 0 : (model.unread ?? 0);
    const unreadLabel = unread > 0 ? t("chatUnread", unread) : "";
    badge.hidden = unread === 0;
    badge.textContent = unread === 0 ? "" : unread > 9 ? "9+" : String(unread);
    if (unreadText.textContent !== unreadLabel) {
      unreadText.textContent = unreadLabel ? `, ${unreadLabel}` : "";
      unreadNote.textContent = unreadLabel;
    }
    host.dataset.unread = String(unread);
    panel.hidden = !model.open;
    status.textContent = model.status ?? "";
    detail.textContent = model.detail ?? "";
    renderWatchers(model.watchers ?? []);
    const control = model.control ?? null;
    const asking = control?.state === "asked";
    consent.hidden = !asking;
    host.dataset.control = control?.state ?? "none";
    if (asking) {
      consentTitle.textContent = control.title;
      consentBody.textContent = control.body;
    }
    bar.hidden = !(control?.state === "granted" || control?.state === "suspended");
    bar.dataset.state = control?.state ?? "none";
    barText.textContent = bar.hidden ? "" : control.bar;
    const rung = callback.render(asking ? {} : model);
    rating.hidden = !model.rating || asking;
    renderChat(asking ? null : model.chat);
    solved.hidden = !model.solved;
    solvedYes.setAttribute("aria-pressed", String(model.solved?.answer === true));
    solvedNo.setAttribute("aria-pressed", String(model.solved?.answer === false));
    comment.hidden = !model.comment;
    commentError.textContent = model.comment?.error ?? "";
    // While the customer is asked, the dialog is all the panel offers.
    const wanted = asking ? [] : (model.actions ?? []);
    if (wanted.join() !== shownActions) {
      actions.replaceChildren(...wanted.map((id) => buttons[id]));
      shownActions = wanted.join();
    }
    if (!model.open) {
      if (focusInPanel) (bar.hidden ? help : stop).focus(); // never leave focus in a hidden panel
      return;
    }
    // Opening the panel, or the focused button went away with the state: move focus to what the
    // customer can do now, so keyboard users are never left on <body>.
    // Focus on the panel itself (opened before it had buttons) moves on to them too.
    const onPanel = shadow.activeElement === panel;
    if (rung) return callback.focusTarget().focus(); // a callback is ringing: answer it from here
    if ((opening && takeFocus) || onPanel || (focusInPanel && !visible(shadow.activeElement))) {
      // The rating first when it is asked for: it is what the panel is asking.
      // The consent dialog before anything else, Deny first: a stray Enter must not grant control.
      // After the stars, the question that follows them.
      const asked = [...(model.rating ? stars.children : []), ...(model.solved ? [solvedYes, solvedNo] : [])];
      const offered = model.offer?.prominent ? [callback.offer.firstChild] : [];
      const first = [deny, allow, callback.focusTarget(), ...asked, ...offered, ...actions.children].find(visible);
      (first ?? panel).focus();
    }
  }

  function focusHelp() {
    help.focus();
  }

  return { host, render, focusHelp };
}

/**
 * A form that hands its field's text to `send` (which resolves to whether it went out) instead of
 * loading a page; the field is emptied once it went, and keeps the text when it did not.
 */
function submitting(form, field, send) {
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = field.value.trim();
    if (!text || busy) return;
    busy = true;
    try {
      if (await send(text)) field.value = "";
    } finally {
      busy = false;
    }
    if (field.isConnected && field.getClientRects().length > 0) field.focus();
  });
}
