// The widget's DOM: the Help button and the panel, in a shadow root on a host element of its own.
//
// Built once from elements (no innerHTML anywhere), then `render(model)` shows a model: every text
// goes in through textContent, so an agent's or site's name can never become markup. Buttons are
// kept across renders so that keyboard focus stays where the customer left it.

import { WIDGET_TAG } from "./masking.js";
import { adoptStyles, isolateHost } from "./styles.js";

// Action buttons: their label's key and their look. The model lists which to show, in order.
const ACTIONS = {
  cancel: ["cancel", "secondary"],
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
 * ACTIONS id, or "rate" with 1–5). Returns `{host, render(model)}`; the host is not yet in the page.
 */
export function createView(t, locale, onAction) {
  const host = document.createElement(WIDGET_TAG);
  isolateHost(host);
  const shadow = host.attachShadow({ mode: "open" });
  adoptStyles(shadow);

  const help = el("button", { type: "button", class: "help", "aria-expanded": "false", "aria-controls": "panel" });
  help.append(el("span", { class: "icon", "aria-hidden": "true" }, "?"), el("span", { class: "label" }, t("help")));

  const title = el("h2", { class: "title", id: "panel-title" }, t("title"));
  const minimize = el("button", { type: "button", class: "close", "aria-label": t("minimize"), title: t("minimize") });
  minimize.textContent = "×";
  const status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  const detail = el("p", { class: "detail" });
  const stars = el("div", { class: "stars" });
  for (let n = 1; n <= 5; n += 1) {
    const star = el("button", { type: "button", class: "star", "aria-label": t("rateStar", n) }, String(n));
    star.addEventListener("click", () => onAction("rate", n));
    stars.append(star);
  }
  const rating = el("fieldset", { class: "rating" }, el("legend", {}, t("rateQuestion")), stars);
  const actions = el("div", { class: "actions" });
  const buttons = {};
  for (const [id, [label, kind]] of Object.entries(ACTIONS)) {
    buttons[id] = el("button", { type: "button", class: kind }, t(label));
    buttons[id].addEventListener("click", () => onAction(id));
  }
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
    status,
    detail,
    rating,
    actions,
  );
  panel.hidden = true;
  const root = el("div", { class: "root", lang: locale }, panel, help);
  shadow.append(root);

  help.addEventListener("click", () => onAction("help"));
  minimize.addEventListener("click", () => onAction("minimize"));
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      onAction("minimize");
    }
  });

  let shownActions = "";
  const visible = (node) => node && node.isConnected && node.getClientRects().length > 0;

  /** `takeFocus`: the customer opened the panel just now (not a page load resuming it). */
  function render(model, { takeFocus = false } = {}) {
    const focusInPanel = panel.contains(shadow.activeElement);
    const opening = model.open && panel.hidden;
    host.dataset.phase = model.phase;
    help.setAttribute("aria-expanded", String(model.open));
    help.toggleAttribute("data-live", Boolean(model.live));
    panel.hidden = !model.open;
    status.textContent = model.status ?? "";
    detail.textContent = model.detail ?? "";
    rating.hidden = !model.rating;
    const wanted = model.actions ?? [];
    if (wanted.join() !== shownActions) {
      actions.replaceChildren(...wanted.map((id) => buttons[id]));
      shownActions = wanted.join();
    }
    if (!model.open) {
      if (focusInPanel) help.focus(); // never leave keyboard focus inside a hidden panel
      return;
    }
    // Opening the panel, or the focused button went away with the state: move focus to what the
    // customer can do now, so keyboard users are never left on <body>.
    // Focus on the panel itself (opened before it had buttons) moves on to them too.
    const onPanel = shadow.activeElement === panel;
    if ((opening && takeFocus) || onPanel || (focusInPanel && !visible(shadow.activeElement))) {
      // The rating first when it is asked for: it is what the panel is asking.
      const first = [...(model.rating ? stars.children : []), ...actions.children].find(visible);
      (first ?? panel).focus();
    }
  }

  function focusHelp() {
    help.focus();
  }

  return { host, render, focusHelp };
}
