// Small DOM and formatting helpers shared by every panel.
//
// Everything a device reports (its name, topic, locale, chat text, audit details) is untrusted.
// That is why there is deliberately no helper here that takes HTML: text goes in through
// textContent / text nodes only, and attributes named on* are refused outright.

/** The one element matching `selector`; a missing element is a bug in index.html, so throw. */
export function $(selector, root = document) {
  const found = root.querySelector(selector);
  if (!found) throw new Error(`index.html has no ${selector}`);
  return found;
}

/**
 * A panel's elements under `root`, by the names the panel gives them:
 * `parts(root, { list: ".chat-list" })` is `{ list: $(".chat-list", root) }`.
 */
export function parts(root, selectors) {
  return Object.fromEntries(Object.entries(selectors).map(([name, selector]) => [name, $(selector, root)]));
}

/**
 * Create an element. `props`: `class`, `text` (textContent), `dataset`, or plain attributes.
 * Children may be nodes or strings (strings become text nodes, never markup).
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(key) || key === "style") {
      throw new Error(`h(): ${key} is not allowed; use addEventListener / CSS classes`);
    }
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Remove every child of `node`. */
export function clear(node) {
  node.replaceChildren();
}

export function show(node, visible = true) {
  node.hidden = !visible;
}

/** "0:07", "12:05", "1:02:03" for a number of seconds (negative counts as 0). */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

/** A rough wait for people: "none", "about 40 s", "about 5 min". `null` → "unknown". */
export function formatWait(seconds) {
  if (seconds === null || seconds === undefined) return "unknown";
  if (seconds < 1) return "none";
  if (seconds < 90) return `about ${Math.round(seconds)} s`;
  return `about ${Math.round(seconds / 60)} min`;
}

/**
 * Local wall-clock time of an epoch timestamp in seconds, e.g. "14:05" (or "14:05:09"). Always
 * 24-hour: it is compact and unambiguous in the narrow timeline and chat columns.
 */
export function formatClock(epochSeconds, withSeconds = false) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (withSeconds) options.second = "2-digit";
  return new Date(epochSeconds * 1000).toLocaleTimeString([], options);
}

const languageNames =
  typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "language" }) : null;

/** "en-US" → "English (en-US)"; anything unrecognised is shown as it came. */
export function formatLocale(locale) {
  const text = String(locale ?? "");
  const language = text.split(/[-_]/)[0];
  try {
    const name = languageNames?.of(language);
    if (name && name !== language) return `${name} (${text})`;
  } catch {
    // An invalid tag: fall through and show it verbatim (as text).
  }
  return text;
}

/** Call `fn` at most once per `ms`, always delivering the latest arguments last. */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  let pending = null;
  const fire = () => {
    timer = null;
    last = performance.now();
    const args = pending;
    pending = null;
    fn(...args);
  };
  const throttled = (...args) => {
    pending = args;
    const wait = last + ms - performance.now();
    if (wait <= 0 && timer === null) fire();
    else if (timer === null) timer = setTimeout(fire, Math.max(0, wait));
  };
  throttled.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending = null;
  };
  return throttled;
}

/** Delay `fn` until `ms` have passed without another call; `.flush()` runs it now if pending. */
export function debounce(fn, ms) {
  let timer = null;
  let pending = null;
  const run = () => {
    timer = null;
    const args = pending;
    pending = null;
    return fn(...args);
  };
  const debounced = (...args) => {
    pending = args;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  debounced.flush = () => {
    if (timer === null) return undefined;
    clearTimeout(timer);
    return run();
  };
  debounced.cancel = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    pending = null;
  };
  return debounced;
}

const TABBABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The elements of `root` that Tab reaches, in order (hidden ones left out). */
export function tabbables(root) {
  return [...root.querySelectorAll(TABBABLE)].filter((node) => node.tabIndex >= 0 && node.getClientRects().length > 0);
}

/**
 * A modal dialog's keyboard behaviour. `root` is the overlay (shown and hidden), `initial` the
 * element that gets the focus on open. While open, Tab and Shift+Tab cycle inside the dialog,
 * Escape and a click on the overlay itself close it; on close the focus goes back to the element
 * that had it when the dialog opened. Event: `close`.
 */
export class Dialog extends EventTarget {
  constructor({ root, initial = null }) {
    super();
    Object.assign(this, { root, initial });
    this._opener = null;
    root.addEventListener("keydown", (event) => this._keydown(event));
    root.addEventListener("click", (event) => {
      if (event.target === root) this.close();
    });
    // Focus that gets out anyway (a click on the page behind, a screen reader's move) comes back.
    document.addEventListener("focusin", (event) => {
      if (this.open && !root.contains(event.target)) (this.initial ?? root).focus();
    });
  }

  get open() {
    return !this.root.hidden;
  }

  show() {
    if (this.open) return;
    this._opener = document.activeElement;
    this.root.hidden = false;
    (this.initial ?? tabbables(this.root)[0] ?? this.root).focus();
  }

  close() {
    if (!this.open) return;
    this.root.hidden = true;
    const opener = this._opener;
    this._opener = null;
    if (opener instanceof HTMLElement && opener.isConnected && opener !== document.body) {
      opener.focus({ preventScroll: true });
    }
    this.dispatchEvent(new CustomEvent("close"));
  }

  _keydown(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
      return;
    }
    if (event.key !== "Tab") return;
    const items = tabbables(this.root);
    if (items.length === 0) {
      event.preventDefault();
      return;
    }
    const [first, last] = [items[0], items[items.length - 1]];
    const at = items.indexOf(document.activeElement);
    if (event.shiftKey && (at <= 0)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (at === -1 || at === items.length - 1)) {
      event.preventDefault();
      first.focus();
    }
  }
}
