// The widget's look, applied inside its shadow root so the page's CSS cannot reach it and it
// cannot reach the page.
//
// Styles go in through CSSOM (a constructed sheet in adoptedStyleSheets): a page whose CSP forbids
// inline <style> still shows the widget as designed. Browsers without constructed sheets get a
// <style> element instead, which only a strict CSP would stop.

const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.root {
  font: 400 16px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: #1b1f24;
  -webkit-font-smoothing: antialiased;
}
[hidden] { display: none !important; }
button {
  font: inherit;
  margin: 0;
  cursor: pointer;
  border-radius: 10px;
  min-height: 44px;
  min-width: 44px;
  padding: 0 16px;
  border: 2px solid transparent;
}
button:focus, .panel:focus { outline: none; }
/* A two-tone ring: visible on light and dark pages alike. */
button:focus-visible {
  outline: 3px solid #ffbf47;
  outline-offset: 2px;
  box-shadow: 0 0 0 2px #0b0c0c;
}
.help {
  position: fixed;
  right: 16px;
  bottom: 16px;
  z-index: 2147483647;
  display: inline-flex;
  align-items: center;
  gap: 8px;
  min-height: 52px;
  padding: 0 22px 0 14px;
  border-radius: 26px;
  background: #1d4ed8;
  color: #fff;
  font-weight: 600;
  font-size: 17px;
  box-shadow: 0 4px 14px rgba(15, 23, 42, 0.35);
}
.help:hover { background: #1e40af; }
.help .icon {
  display: inline-grid;
  place-items: center;
  width: 26px;
  height: 26px;
  border-radius: 50%;
  background: #fff;
  color: #1d4ed8;
  font-size: 16px;
  font-weight: 700;
}
.help[data-live]::after {
  content: "";
  width: 10px;
  height: 10px;
  border-radius: 50%;
  background: #22c55e;
  box-shadow: 0 0 0 2px #fff;
}
.panel {
  position: fixed;
  right: 16px;
  bottom: 84px;
  z-index: 2147483647;
  width: min(360px, calc(100vw - 32px));
  max-height: calc(100vh - 108px);
  overflow: auto;
  padding: 16px 16px 18px;
  border-radius: 14px;
  background: #fff;
  border: 1px solid #d0d7de;
  box-shadow: 0 12px 32px rgba(15, 23, 42, 0.28);
}
.head { display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.title { margin: 0; font-size: 18px; font-weight: 700; }
.close {
  padding: 0;
  background: transparent;
  color: #57606a;
  font-size: 24px;
  line-height: 1;
}
.close:hover { background: #f3f4f6; }
.status { margin: 10px 0 4px; font-size: 17px; font-weight: 600; }
.detail { margin: 0 0 4px; color: #424a53; }
.detail:empty, .status:empty { display: none; }
/* Who else sees the page (supervisors): always there while they are, never easy to miss. */
.watchers { margin: 8px 0 4px; padding: 0; list-style: none; }
.watchers:empty { display: none; }
.watcher { margin: 0 0 4px; padding: 6px 10px; border-left: 4px solid #8a4b00; background: #fff4e5; color: #4a2800; font-weight: 600; overflow-wrap: anywhere; }
.rating { margin: 12px 0 0; border: 0; padding: 0; min-width: 0; }
.rating legend { padding: 0; margin-bottom: 8px; font-weight: 600; }
.stars { display: flex; gap: 6px; flex-wrap: wrap; }
.star {
  flex: 1 1 0;
  padding: 0;
  background: #f6f8fa;
  border-color: #d0d7de;
  color: #1b1f24;
  font-weight: 600;
}
.star:hover { background: #eaeef2; }
/* Yes / No to "Was your problem solved?": big targets, the answer given filled. */
.solved { margin: 12px 0 0; border: 0; padding: 0; min-width: 0; }
.solved legend { padding: 0; margin-bottom: 8px; font-weight: 600; }
.answers { display: flex; gap: 8px; }
.answer { flex: 1 1 0; min-height: 52px; font-size: 17px; font-weight: 600; background: #fff; color: #1b1f24; border-color: #8c959f; }
.answer:hover { background: #f3f4f6; }
.answer[aria-pressed="true"] { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
.answer[aria-pressed="true"]::before { content: "✓ " / ""; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 14px; }
.actions:empty { display: none; }
.primary { background: #1d4ed8; color: #fff; font-weight: 600; }
.primary:hover { background: #1e40af; }
.danger { background: #b91c1c; color: #fff; font-weight: 600; }
.danger:hover { background: #991b1b; }
.secondary { background: #fff; color: #1b1f24; border-color: #8c959f; }
.secondary:hover { background: #f3f4f6; }
.consent {
  margin: 12px 0 4px;
  padding: 12px;
  border-radius: 10px;
  background: #fff7e6;
  border: 2px solid #b45309;
}
.consent-title { margin: 0 0 6px; font-size: 17px; font-weight: 700; }
.consent-body { margin: 0; color: #424a53; }
.consent-actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
.consent-actions button { flex: 1 1 auto; }
/* Their own classes, not .actions/.primary/.secondary: the dialog's buttons are no flow actions. */
.allow { background: #1d4ed8; color: #fff; font-weight: 600; }
.allow:hover { background: #1e40af; }
.deny { background: #fff; color: #1b1f24; border-color: #8c959f; }
.deny:hover { background: #f3f4f6; }
.help .badge {
  display: inline-grid;
  place-items: center;
  min-width: 22px;
  height: 22px;
  padding: 0 6px;
  border-radius: 11px;
  background: #b91c1c;
  color: #fff;
  font-size: 13px;
  font-weight: 700;
  box-shadow: 0 0 0 2px #fff;
}
.sr-only {
  position: absolute;
  width: 1px;
  height: 1px;
  margin: -1px;
  padding: 0;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
  border: 0;
}
.chat { margin: 12px 0 0; border-top: 1px solid #d0d7de; padding-top: 10px; }
.chat-title { margin: 0 0 6px; font-size: 15px; font-weight: 700; }
.chat-empty { margin: 0 0 8px; color: #57606a; font-size: 15px; }
.chat-log {
  list-style: none;
  margin: 0 0 8px;
  padding: 4px;
  max-height: min(240px, 35vh);
  overflow-y: auto;
  overscroll-behavior: contain;
  display: flex;
  flex-direction: column;
  gap: 6px;
  border-radius: 10px;
  background: #f6f8fa;
}
.chat-log:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
.line {
  max-width: 85%;
  padding: 6px 10px;
  border-radius: 12px;
  overflow-wrap: anywhere;
  white-space: pre-wrap;
}
.line .who { display: block; font-size: 12px; font-weight: 700; color: #57606a; }
.line .text { display: block; font-size: 15px; }
.line.theirs { align-self: flex-start; background: #fff; border: 1px solid #d0d7de; }
.line.mine { align-self: flex-end; background: #dbeafe; border: 1px solid #93c5fd; }
.chat-label, .comment-label { display: block; margin: 0 0 4px; font-size: 14px; font-weight: 600; color: #424a53; }
.row { display: flex; gap: 8px; align-items: stretch; }
.row.end { justify-content: flex-end; margin-top: 8px; }
.chat-input, .comment-input {
  flex: 1 1 auto;
  min-width: 0;
  min-height: 44px;
  width: 100%;
  padding: 8px 10px;
  font: inherit;
  color: #1b1f24;
  background: #fff;
  border: 2px solid #8c959f;
  border-radius: 10px;
}
.comment-input { resize: vertical; min-height: 72px; }
.chat-input:focus-visible, .comment-input:focus-visible {
  outline: 3px solid #ffbf47;
  outline-offset: 1px;
  border-color: #0b0c0c;
}
.send { flex: none; background: #1d4ed8; color: #fff; font-weight: 600; }
.send:hover { background: #1e40af; }
.comment { margin: 12px 0 0; }
.form-error { margin: 6px 0 0; color: #b91c1c; font-size: 14px; font-weight: 600; }
.form-error:empty { display: none; }
.controlbar {
  position: fixed;
  top: 12px;
  left: 50%;
  transform: translateX(-50%);
  z-index: 2147483647;
  display: flex;
  align-items: center;
  gap: 12px;
  /* As wide as its text up to the viewport: centred by left 50%, it would otherwise shrink to
     half the viewport and push Stop control off a phone's screen. */
  width: max-content;
  max-width: calc(100vw - 24px);
  box-sizing: border-box;
  padding: 8px 8px 8px 16px;
  border-radius: 14px;
  background: #7c2d12;
  color: #fff;
  font-weight: 600;
  box-shadow: 0 6px 20px rgba(15, 23, 42, 0.35);
}
.controlbar[data-state="suspended"] { background: #57606a; }
/* While Stop control's bar shows at the top (up to three lines on a phone), the panel ends below it. */
:host([data-control="granted"]) .panel,
:host([data-control="suspended"]) .panel { max-height: calc(100vh - 190px); }
.stop { background: #fff; color: #991b1b; font-weight: 600; flex: none; }
.stop:hover { background: #fee2e2; }
@media (max-width: 480px) {
  .help { right: 12px; bottom: 12px; }
  .panel { right: 12px; bottom: 76px; width: calc(100vw - 24px); }
  .actions button { flex: 1 1 auto; }
  /* Long words (German, Czech, Polish) wrap inside Stop control rather than push it away. */
  .stop { flex: 0 1 auto; max-width: 50%; padding: 4px 12px; }
}
@media (prefers-reduced-motion: no-preference) {
  .panel { animation: rise 140ms ease-out; }
  @keyframes rise { from { transform: translateY(8px); opacity: 0; } to { transform: none; opacity: 1; } }
}
@media print {
  .help, .panel { display: none !important; }
}
@media (forced-colors: active) {
  .help, .panel, button, input, textarea { border: 2px solid CanvasText; }
  .help .badge { border: 2px solid CanvasText; }
}
`;

/** Give `shadow` the widget's styles. */
export function adoptStyles(shadow) {
  const constructable = typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype;
  if ("adoptedStyleSheets" in shadow && constructable) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
    return;
  }
  const style = document.createElement("style");
  style.textContent = CSS;
  shadow.append(style);
}

/**
 * Keep the page's CSS off the host element itself: outer rules beat `:host`, but not inline
 * `!important` declarations, which are set here through CSSOM (allowed by any CSP).
 */
export function isolateHost(host) {
  host.style.setProperty("all", "initial", "important");
  host.style.setProperty("display", "block", "important");
  host.style.setProperty("position", "static", "important");
  host.style.setProperty("width", "0", "important");
  host.style.setProperty("height", "0", "important");
}
