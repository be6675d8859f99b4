// Where the widget is and whom it talks to, read from its own <script> tag:
//
//   <script src="https://support.example/widget.js" data-site-key="site_…" async></script>
//
// The support server is the origin the script was loaded from, so a site never configures the
// server twice and the widget cannot be pointed elsewhere by anything but the tag itself.

// The server's locale pattern (docs/protocol.md §6): anything else is sent as "en".
const LOCALE = /^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$/;

/**
 * The widget's own script element. `document.currentScript` is set while a classic script first
 * runs (async included); the search is for bundlers or loaders that run it some other way.
 */
export function findOwnScript(current = document.currentScript) {
  if (current && current.dataset && current.dataset.siteKey) return current;
  for (const script of document.querySelectorAll("script[data-site-key]")) {
    let path = "";
    try {
      path = new URL(script.src, document.baseURI).pathname;
    } catch {
      continue;
    }
    if (path.endsWith("/widget.js")) return script;
  }
  return null;
}

/** `{server, siteKey}` from the script tag, or null when the tag is missing or malformed. */
export function readConfig(script) {
  if (!script) return null;
  const siteKey = (script.dataset.siteKey || "").trim();
  let server;
  try {
    server = new URL(script.src, document.baseURI).origin;
  } catch {
    return null;
  }
  if (!siteKey || !/^https?:\/\//.test(server)) return null;
  return { server, siteKey };
}

/** The customer's language: the page's `<html lang>`, else the browser's, else English. */
export function pageLocale() {
  for (const candidate of [document.documentElement.lang, navigator.language]) {
    const value = String(candidate || "").trim();
    if (LOCALE.test(value)) return value;
  }
  return "en";
}
