// The agent's private notes on the session, saved with session.note while typing (debounced).
//
// Each save replaces the previous notes on the server, so sending the whole text is always
// right, and a save that fails is simply retried with the next keystroke or on flush().

import { debounce, formatClock, parts } from "./dom.js";

const SAVE_AFTER_MS = 800;

export class NotesPanel {
  constructor({ root, signaling, toasts }) {
    Object.assign(this, { signaling, toasts });
    Object.assign(this, parts(root, { textarea: ".notes-text", status: ".notes-status" }));
    this.sessionId = null;
    this._saved = "";
    this._save = debounce(() => this._saveNow(), SAVE_AFTER_MS);
    this.textarea.addEventListener("input", () => {
      if (!this.sessionId) return;
      this._status("Unsaved changes…", "pending");
      this._save();
    });
    this.textarea.addEventListener("blur", () => this.flush());
    this.setSession(null);
  }

  setSession(sessionId, text = "") {
    this._save.cancel();
    this.sessionId = sessionId;
    this.textarea.value = text;
    this._saved = text;
    this.textarea.disabled = !sessionId;
    this.textarea.placeholder = sessionId
      ? "Notes for this session: what the customer needed, what you did. Saved automatically."
      : "Notes open during a session";
    this._status(sessionId ? "Saved automatically while you type" : "", "idle");
  }

  /** Save now if anything is pending (before ending the session). */
  async flush() {
    this._save.cancel();
    if (this.sessionId && this.textarea.value !== this._saved) await this._saveNow();
  }

  /** After the end the notes are kept with the record and can no longer be changed. */
  lock() {
    this._save.cancel();
    this.textarea.disabled = true;
    if (this.sessionId && this.textarea.value !== this._saved) {
      // The session ended (e.g. by the customer) before the last keystrokes were saved.
      this._status("The last changes were not saved: the session ended first.", "error");
    }
    this.sessionId = null;
  }

  async _saveNow() {
    const sessionId = this.sessionId;
    const text = this.textarea.value;
    if (!sessionId || text === this._saved) return;
    this._status("Saving…", "pending");
    try {
      await this.signaling.request("session.note", { session_id: sessionId, text });
      if (sessionId !== this.sessionId) return;
      this._saved = text;
      this._status(
        this.textarea.value === text ? `Saved at ${formatClock(Date.now() / 1000, true)}` : "Unsaved changes…",
        "ok",
      );
    } catch (error) {
      if (sessionId !== this.sessionId) return;
      this._status(`Not saved: ${error.message}`, "error");
      this.toasts.error("Notes not saved", error);
    }
  }

  _status(text, kind) {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }
}
