// The customer's help widget: one script tag on a site's pages gives them a Help button that
// puts the customer in the support queue and, once an agent accepts, shows that agent the page
// (docs/cobrowse.md). This file only finds the configuration and wires the parts together:
//
//   config.js     the script tag: the server, the site key, the customer's language
//   view.js       the button and panel (shadow root; styles.js), present.js what they show
//   help.js       the help flow over the /device socket (signaling.js, visitor.js)
//   cobrowse.js   the peer connection (peer.js) and the page recording (recorder.js, masking.js,
//                 framing.js)
//
// Bundled with esbuild into one classic script (customer_web/dist/widget.js), served by the
// server as /widget.js.

import { findOwnScript, pageLocale, readConfig } from "./config.js";
import { HelpFlow } from "./help.js";
import { translator } from "./strings.js";
import { createView } from "./view.js";
import { VisitorStore } from "./visitor.js";

// A page that includes the tag twice (or a SPA that re-runs it) still gets one widget.
const LOADED = Symbol.for("mayday.widget");

function boot(script) {
  const config = readConfig(script);
  if (!config) {
    console.error("mayday widget: add data-site-key to the <script> tag that loads widget.js");
    return;
  }
  const locale = pageLocale();
  const t = translator(locale);
  let flow = null;
  const view = createView(t, locale, (id, value) => flow?.action(id, value));
  flow = new HelpFlow({
    config,
    locale,
    t,
    store: new VisitorStore(config.server, config.siteKey),
    render: view.render,
  });
  // Beside <body>, not in it: pages that replace their body (Turbo, some routers) keep the
  // widget, and no transform on <body> can become the fixed button's containing block.
  document.documentElement.append(view.host);
  window.addEventListener("pagehide", () => flow.pageHidden());
  // Back from the back/forward cache: its socket and connection were closed on the way in.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) flow.pageShown();
  });
  flow.boot();
}

if (!window[LOADED]) {
  window[LOADED] = true;
  // currentScript is only set while this script first runs: read it now, use it once the DOM is.
  const script = findOwnScript();
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => boot(script ?? findOwnScript()), { once: true });
  } else {
    boot(script ?? findOwnScript(null));
  }
}
