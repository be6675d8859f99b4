// Text chat with the customer: chat.send out, chat.message in (for both parties' lines, ours
// included, so the list shows exactly what went into the session's record, in its order).
//
// Lines are keyed by their timeline `seq`: the same line arriving as an event and again from the
// timeline after a reload is shown once.
//
// The customer's lines are labelled "Customer · <device name>" and sit on the left; ours on the
// right; a supervisor's who joined the session (docs/protocol.md §19.3) "Supervisor · <name>". A
// supervisor's watch view (watch.js) has a panel of its own, where its own lines are "You" and the
// agent's "Agent · <name>". A customer's line that arrives while the chat is not in view (another
// tab, the window in the background) is unread: event `incoming` with `detail.seen` false, and
// the page title counts them ("(2) In session · …") until the agent looks again (event `seen`).

import { clear, formatClock, h, parts } from "./dom.js";

/** Who wrote a line that is not ours, by chat.message's `sender`. */
const SENDER_LABEL = { device: "Customer", agent: "Agent", supervisor: "Supervisor" };

export class ChatPanel extends EventTarget {
  /**
   * `isMine(message)`: whether a line is this console's own (default: the agent's); `closedText`:
   * the input's placeholder while it cannot write.
   */
  constructor({
    root, signaling, toasts,
    isMine = (message) => message.sender === "agent",
    closedText = "Chat opens during a session",
  }) {
    super();
    Object.assign(this, { signaling, toasts, root, isMine, closedText });
    this.unreadWhileAway = 0;
    Object.assign(this, parts(root, {
      list: ".chat-list", empty: ".chat-empty",
      form: ".chat-form", input: ".chat-input", sendButton: ".chat-send",
    }));
    this.sessionId = null;
    this._seen = new Set();
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      // Enter sends, Shift+Enter starts a new line.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    signaling.on("chat.message", (message) => this.add(message));
    const back = () => {
      if (!this.isSeen()) return;
      this._clearTitleCount();
      this.dispatchEvent(new CustomEvent("seen"));
    };
    window.addEventListener("focus", back);
    document.addEventListener("visibilitychange", back);
    this.setSession(null);
  }

  /** Whether the agent can see the chat now: its panel shown, the page visible and focused. */
  isSeen() {
    return !this.root.hidden && !document.hidden && document.hasFocus();
  }

  _clearTitleCount() {
    this.unreadWhileAway = 0;
    document.title = document.title.replace(/^\(\d+\) /, "");
  }

  setSession(sessionId) {
    this.sessionId = sessionId;
    this._seen.clear();
    this._clearTitleCount();
    clear(this.list);
    this.empty.hidden = false;
    this.setEnabled(Boolean(sessionId));
  }

  setEnabled(enabled) {
    this.input.disabled = !enabled;
    this.sendButton.disabled = !enabled;
    this.input.placeholder = enabled ? "Message the customer…" : this.closedText;
    this.input.title = enabled ? "Enter sends, Shift+Enter starts a new line" : "";
  }

  async send() {
    const text = this.input.value.trim();
    if (!text || !this.sessionId) return;
    this.sendButton.disabled = true;
    try {
      await this.signaling.request("chat.send", { session_id: this.sessionId, text });
      this.input.value = "";
    } catch (error) {
      this.toasts.error("Message not sent", error);
    } finally {
      this.sendButton.disabled = !this.sessionId;
      this.input.focus();
    }
  }

  /** One chat.message (or a chat entry of the timeline, converted by the session). */
  add(message) {
    if (message.session_id !== this.sessionId || this._seen.has(message.seq)) return;
    this._seen.add(message.seq);
    const mine = this.isMine(message);
    const who = (Object.hasOwn(SENDER_LABEL, message.sender) && SENDER_LABEL[message.sender]) || "Customer";
    const from = mine ? "from-agent" : Object.hasOwn(SENDER_LABEL, message.sender) && message.sender !== "device"
      ? `from-customer by-${message.sender}`
      : "from-customer";
    const item = h(
      "li",
      { class: `chat-line ${from}`, dataset: { seq: message.seq } },
      h(
        "div",
        { class: "chat-meta" },
        h("span", {
          class: "chat-sender",
          text: mine ? "You" : message.name ? `${who} · ${message.name}` : who,
        }),
        h("time", { class: "chat-time", text: formatClock(message.at) }),
      ),
      h("p", { class: "chat-text", text: message.text }),
    );
    // Keep the list in timeline order even if a history load and live lines interleave.
    const after = [...this.list.children].find((child) => Number(child.dataset.seq) > message.seq);
    this.list.insertBefore(item, after ?? null);
    this.empty.hidden = true;
    this.list.scrollTop = this.list.scrollHeight;
    if (mine) return;
    const seen = this.isSeen();
    if (!seen && (document.hidden || !document.hasFocus())) {
      this.unreadWhileAway += 1;
      document.title = `(${this.unreadWhileAway}) ${document.title.replace(/^\(\d+\) /, "")}`;
    }
    this.dispatchEvent(new CustomEvent("incoming", { detail: { ...message, seen } }));
  }
}
