// The customer's feedback after a session: the stars, "Was your problem solved?" and the optional
// comment (session.rate, docs/protocol.md §6.1). Kept apart from the help flow (help.js), whose
// `state` and socket these functions use: they only run once the session is over, so none of the
// flow's live parts (the page's connection, control) is touched here.

const COMMENT_MAX = 1000; // characters in a rating's comment (session.rate)

/**
 * The stars go at once; the card then thanks the customer, asks "Was your problem solved?" and
 * offers a comment.
 */
export async function rate(flow, rating) {
  const sessionId = flow.state.lastSessionId;
  flow.set({ phase: "rated", rating, solved: null, comment: "ask", commentError: "" });
  try {
    await flow.socket?.request("session.rate", { session_id: sessionId, rating });
  } catch (error) {
    console.warn("mayday widget: session.rate", error.message);
  }
}

/**
 * The optional Yes / No to "Was your problem solved?": the rating again, with the answer (the
 * server keeps an answer until another one comes). It may be changed until the comment is sent.
 */
export async function answerSolved(flow, answer) {
  const { phase, rating, lastSessionId, comment } = flow.state;
  if (typeof answer !== "boolean" || phase !== "rated" || !flow.socket || comment !== "ask") return;
  flow.set({ solved: answer });
  try {
    await flow.socket.request("session.rate", { session_id: lastSessionId, rating, solved: answer });
  } catch (error) {
    console.warn("mayday widget: session.rate", error.message);
  }
}

/**
 * The optional comment: the rating again, with the text (and the solved answer, if given, so the
 * agent's wrap-up keeps it). The socket stays for it until Close.
 * Returns whether it was sent, so that the view keeps the text when it was not.
 */
export async function sendComment(flow, text) {
  const comment = String(text ?? "").trim().slice(0, COMMENT_MAX);
  const { phase, rating, solved, lastSessionId } = flow.state;
  if (!comment || phase !== "rated" || !flow.socket || flow.state.comment !== "ask") return false;
  const answer = typeof solved === "boolean" ? { solved } : {};
  try {
    await flow.socket.request("session.rate", { session_id: lastSessionId, rating, comment, ...answer });
  } catch (error) {
    console.warn("mayday widget: session.rate", error.message);
    flow.set({ commentError: flow.t("commentFailed") });
    return false;
  }
  flow.set({ comment: "sent", commentError: "" });
  flow._disconnect(); // nothing more to say to the server until the next Help
  return true;
}
