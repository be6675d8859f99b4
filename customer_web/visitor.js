// The visitor's identity: created by the server on the first Help press, kept in sessionStorage.
//
// sessionStorage, not localStorage: it lives as long as this tab, survives reloads and same-origin
// navigation (so a session resumes after them) and is gone when the tab closes, so one visitor
// identity never outlives the visit or leaks into another tab opened later.

const STORAGE_PREFIX = "mayday.visitor:";

/** A refusal of POST /api/web/visitors the customer must be told about. */
export class VisitorError extends Error {
  /** `kind`: "forbidden" (origin not allowed), "rate_limited" (with `retryAfter` s), "unreachable". */
  constructor(kind, message, retryAfter = null) {
    super(message);
    this.name = "VisitorError";
    this.kind = kind;
    this.retryAfter = retryAfter;
  }
}

/** `{device_id, device_secret, site: {name}}` for a new visitor of the site, or a VisitorError. */
export async function createVisitor(server, siteKey, locale) {
  let response;
  try {
    response = await fetch(`${server}/api/web/visitors`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ site_key: siteKey, locale }),
      // The server knows visitors by the credentials it returns, never by cookies.
      credentials: "omit",
      mode: "cors",
    });
  } catch (error) {
    // A browser hides why a cross-origin request failed. The server answers a page whose origin
    // is not on the site's list without CORS headers, which fails like a network error; if the
    // server is reachable at all (an opaque no-cors request gets through), that is the reason.
    const probe = { mode: "no-cors", credentials: "omit", cache: "no-store" };
    const reachable = await fetch(`${server}/healthz`, probe).then(
      () => true,
      () => false,
    );
    throw new VisitorError(reachable ? "forbidden" : "unreachable", String(error?.message ?? error));
  }
  const body = await response.json().catch(() => ({}));
  if (response.status === 201 && body.device_id && body.device_secret) return body;
  const message = body?.error?.message ?? `HTTP ${response.status}`;
  if (response.status === 403) throw new VisitorError("forbidden", message);
  if (response.status === 429) {
    const seconds = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
    throw new VisitorError("rate_limited", message, Number.isFinite(seconds) ? seconds : 60);
  }
  throw new VisitorError("unreachable", message);
}

/**
 * What the widget keeps for this tab, per server and site key: the credentials, whether a ticket
 * or session is open (`active`: reconnect on the next page load), and whether the panel was open.
 * Storage can be unavailable (privacy modes, sandboxed frames): then nothing is kept and the
 * widget still works on this page, only without resuming after a reload.
 */
export class VisitorStore {
  constructor(server, siteKey) {
    this.key = `${STORAGE_PREFIX}${server}|${siteKey}`;
  }

  load() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(this.key) ?? "null");
      return saved && saved.device_id && saved.device_secret ? saved : null;
    } catch {
      return null;
    }
  }

  save(record) {
    try {
      sessionStorage.setItem(this.key, JSON.stringify(record));
    } catch {
      // Storage full or unavailable: see the class comment.
    }
  }

  update(changes) {
    const saved = this.load();
    if (saved) this.save({ ...saved, ...changes });
  }

  forget() {
    try {
      sessionStorage.removeItem(this.key);
    } catch {
      // See the class comment.
    }
  }
}
