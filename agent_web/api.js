// REST calls and the agent's token: login, refresh before expiry, bearer GETs.
//
// The token lives in sessionStorage, not localStorage: it should survive a reload of this tab
// (so an agent in a session comes straight back into it) but not be shared with other tabs or
// outlive the browser session on a shared support-desk PC.

const STORAGE_KEY = "mayday.agent.auth";
const REFRESH_LEAD_S = 300;
/** Refresh this long before expiry, or after 80 % of a shorter lifetime. */
const REFRESH_RETRY_S = 15;

/**
 * An error answer from the server, with its stable machine-readable code. Built like socket.js's
 * AckError so that toasts.error() reports either; they stay two classes because this one carries
 * the HTTP status and that one the event.
 */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** True for errors after which the agent has to sign in again. */
export function needsSignIn(error) {
  return error?.code === "token_expired" || error?.code === "unauthorized";
}

export class Api extends EventTarget {
  constructor(base = "") {
    super();
    this.base = base;
    this.auth = loadAuth();
    /** Seconds to add to the local clock to get the server's (only when they differ clearly). */
    this.clockOffset = 0;
    this._refreshTimer = null;
    if (this.auth) this._scheduleRefresh();
  }

  get token() {
    return this.auth?.token ?? null;
  }

  get agent() {
    return this.auth?.agent ?? null;
  }

  /** The account's role: "agent", "supervisor" or "admin" (what the sign-in answer said). */
  get role() {
    return this.auth?.role ?? "agent";
  }

  /** Server time now, in epoch seconds. */
  now() {
    return Date.now() / 1000 + this.clockOffset;
  }

  /** A stored token that has not expired yet (by the local clock). */
  hasValidToken() {
    return Boolean(this.auth && this.auth.expires_at > this.now() + 5);
  }

  async login(name, password) {
    const body = await this._request("POST", "/api/agents/login", { name, password }, false);
    this._store(body);
    return body;
  }

  async refresh() {
    const body = await this._request("POST", "/api/agents/refresh", undefined, true);
    this._store(body);
    return body;
  }

  signOut() {
    this._cancelRefresh();
    this.auth = null;
    sessionStorage.removeItem(STORAGE_KEY);
  }

  get(path) {
    return this._request("GET", path, undefined, true);
  }

  /** A bearer POST; `body` is JSON, or a Blob sent as it is with its own type (an image). */
  post(path, body) {
    return this._request("POST", path, body, true);
  }

  /** A bearer GET of something that is no JSON (a screenshot): the body as a Blob. */
  blob(path) {
    return this._request("GET", path, undefined, true, "blob");
  }

  // --- internals ------------------------------------------------------------------------------

  async _request(method, path, body, authorized, as = "json") {
    const raw = body instanceof Blob;
    const headers = { Accept: as === "json" ? "application/json" : "*/*" };
    if (body !== undefined) headers["Content-Type"] = raw ? body.type : "application/json";
    if (authorized) {
      if (!this.token) throw new ApiError(401, "unauthorized", "not signed in");
      headers.Authorization = `Bearer ${this.token}`;
    }
    let response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined || raw ? body : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch (error) {
      throw new ApiError(0, "network", `the server cannot be reached (${error.message})`);
    }
    this._noteServerClock(response);
    if (response.ok && as === "blob") return response.blob();
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const body = data?.error ?? {};
      const error = new ApiError(
        response.status,
        body.code ?? "http_" + response.status,
        body.message ?? `${method} ${path} failed with HTTP ${response.status}`,
      );
      // A refused bearer token means the agent must sign in again, whichever call noticed it.
      if (authorized && needsSignIn(error)) this._expired(error);
      throw error;
    }
    return data;
  }

  _store(body) {
    this.auth = {
      token: body.token,
      expires_at: body.expires_at,
      agent: body.agent,
      languages: body.languages ?? [],
      skills: body.skills ?? [],
      role: body.role ?? "agent",
      issued_at: this.now(),
    };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(this.auth));
    this._scheduleRefresh();
    this.dispatchEvent(new CustomEvent("token", { detail: this.auth }));
  }

  _scheduleRefresh() {
    this._cancelRefresh();
    if (!this.auth) return;
    const now = this.now();
    const lifetime = Math.max(1, this.auth.expires_at - (this.auth.issued_at ?? now));
    const lead = Math.min(REFRESH_LEAD_S, lifetime * 0.2);
    const delay = Math.max(0, this.auth.expires_at - lead - now);
    this._refreshTimer = setTimeout(() => this._refreshNow(), delay * 1000);
  }

  async _refreshNow() {
    this._refreshTimer = null;
    if (!this.auth) return;
    try {
      await this.refresh();
    } catch (error) {
      if (needsSignIn(error)) return; // _request has already signed out and said so
      // A network blip: try again shortly, as long as the token is still good.
      if (this.auth && this.auth.expires_at > this.now() + 1) {
        this._refreshTimer = setTimeout(() => this._refreshNow(), REFRESH_RETRY_S * 1000);
      } else {
        this._expired(new ApiError(401, "token_expired", "the agent token has expired; sign in again"));
      }
    }
  }

  _cancelRefresh() {
    if (this._refreshTimer !== null) clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
  }

  _expired(error) {
    if (!this.auth) return; // already signed out; say it once
    this.signOut();
    this.dispatchEvent(new CustomEvent("expired", { detail: error }));
  }

  /**
   * Queue waiting times are server timestamps. The Date header has whole-second precision, so the
   * offset is only applied when the clocks clearly disagree (on one machine it is 0).
   */
  _noteServerClock(response) {
    const header = response.headers.get("Date");
    const server = header ? Date.parse(header) / 1000 : NaN;
    if (Number.isNaN(server)) return;
    const offset = server - Date.now() / 1000;
    this.clockOffset = Math.abs(offset) > 2 ? offset : 0;
  }
}

function loadAuth() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
    return stored && typeof stored.token === "string" ? stored : null;
  } catch {
    return null;
  }
}
