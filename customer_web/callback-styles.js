// The callback parts' look (callback-view.js), a second sheet beside styles.js's in the widget's
// shadow root, applied the same way (CSSOM, so a strict CSP still shows it).

const CSS = `
.cb-offer { margin: 12px 0 0; }
.cb-offer-button { background: #fff; color: #1d4ed8; border-color: #1d4ed8; font-weight: 600; width: 100%; }
.cb-offer-button:hover { background: #eff6ff; }
.cb-offer-detail { margin: 6px 0 0; font-size: 14px; color: #424a53; }
.cb-offer.prominent { padding: 12px; border-radius: 10px; background: #eff6ff; border: 2px solid #1d4ed8; }
.cb-offer.prominent .cb-offer-button { background: #1d4ed8; color: #fff; }
.cb-offer.prominent .cb-offer-button:hover { background: #1e40af; }
.cb-ring {
  margin: 12px 0 4px;
  padding: 14px;
  border-radius: 12px;
  background: #ecfdf5;
  border: 2px solid #047857;
}
.cb-ring-title { margin: 0 0 10px; font-size: 18px; font-weight: 700; }
.cb-timer { display: flex; align-items: center; gap: 10px; margin: 0 0 12px; }
.cb-bar {
  flex: 1 1 auto;
  height: 6px;
  border: 0;
  border-radius: 3px;
  background: #d1fae5;
  overflow: hidden;
  appearance: none;
  -webkit-appearance: none;
}
.cb-bar::-webkit-progress-bar { background: #d1fae5; }
.cb-bar::-webkit-progress-value { background: #047857; }
.cb-bar::-moz-progress-bar { background: #047857; }
.cb-left { flex: none; font-size: 14px; font-variant-numeric: tabular-nums; color: #424a53; }
.cb-ring-actions { display: flex; flex-wrap: wrap; gap: 8px; }
.cb-ring-actions button { flex: 1 1 auto; }
.cb-connect { background: #047857; color: #fff; font-weight: 700; }
.cb-connect:hover { background: #065f46; }
.cb-not-now { background: #fff; color: #1b1f24; border-color: #8c959f; }
.cb-not-now:hover { background: #f3f4f6; }
@media (forced-colors: active) {
  .cb-ring, .cb-offer.prominent { border: 2px solid CanvasText; }
  .cb-bar::-webkit-progress-value { background: Highlight; }
}
`;

/** Add the callback's sheet to `shadow`, after the widget's own (styles.js adoptStyles). */
export function adoptCallbackStyles(shadow) {
  const constructable = typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype;
  if ("adoptedStyleSheets" in shadow && constructable) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
    return;
  }
  const style = document.createElement("style");
  style.textContent = CSS;
  shadow.append(style);
}
