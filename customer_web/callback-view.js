// The callback's two parts of the panel (view.js draws the rest): the "Call me back" offer with
// its one-line explanation, and the prompt when the callback comes ("<agent> is ready to help
// you: connect now?", Connect now / Not now, a countdown bar and the seconds left).
//
// Built from elements, texts as textContent (an agent's name is data, never markup). The prompt's
// question is an alert, said once when it appears; its countdown is not announced (a live
// countdown would talk over everything else), and focus moves to Connect now when a new ring
// shows, so that Enter or Space answers it.

const BUTTON_KEYS = [
  ["offerButton", "callback", "cb-offer-button", "callbackButton"],
  ["connect", "callbackConnect", "cb-connect", "callbackConnect"],
  ["notNow", "callbackNotNow", "cb-not-now", "callbackNotNow"],
];

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * `t`: the translator; `onAction(id)`: "callback", "callbackConnect" or "callbackNotNow".
 * Returns `{offer, prompt, render(model), focusTarget()}`: the two parts to put in the panel,
 * a render of the view model's `offer` and `ring`, and the button focus should go to first.
 */
export function createCallbackView(t, onAction) {
  const buttons = {};
  for (const [name, action, cls, key] of BUTTON_KEYS) {
    buttons[name] = el("button", { type: "button", class: cls }, t(key));
    buttons[name].addEventListener("click", () => onAction(action));
  }
  const explain = el("p", { class: "cb-offer-detail", id: "cb-offer-detail" }, t("callbackButtonDetail"));
  buttons.offerButton.setAttribute("aria-describedby", "cb-offer-detail");
  const offer = el("div", { class: "cb-offer" }, buttons.offerButton, explain);
  offer.hidden = true;

  const question = el("p", { class: "cb-ring-title", id: "cb-ring-title", role: "alert" });
  // A <progress>, not a bar sized by an inline style: a page's CSP may refuse those even in here.
  const bar = el("progress", { class: "cb-bar", max: "1000", value: "1000", "aria-hidden": "true" });
  const left = el("span", { class: "cb-left", "aria-hidden": "true" });
  const prompt = el(
    "div",
    { class: "cb-ring", role: "group", "aria-labelledby": "cb-ring-title" },
    question,
    el("div", { class: "cb-timer" }, bar, left),
    el("div", { class: "cb-ring-actions" }, buttons.connect, buttons.notNow),
  );
  prompt.hidden = true;
  let shownRing = null;

  /** Draw `model.offer` and `model.ring`; returns whether a new ring appeared (focus it). */
  function render(model) {
    offer.hidden = !model.offer;
    offer.classList.toggle("prominent", Boolean(model.offer?.prominent));
    const ring = model.ring ?? null;
    prompt.hidden = !ring;
    const fresh = Boolean(ring) && ring.ringId !== shownRing;
    shownRing = ring?.ringId ?? null;
    if (!ring) return false;
    if (fresh || question.textContent !== ring.title) question.textContent = ring.title;
    left.textContent = ring.left;
    bar.value = Math.round(1000 * Math.max(0, Math.min(1, ring.fraction)));
    return fresh;
  }

  return { offer, prompt, render, focusTarget: () => buttons.connect };
}
