// Requests to the REST API with the page's sign-in (writes to the open show through its
// feed client, read-your-writes), and how a failed one is reported.

import { app } from "./app.js";
import { authHeaders, signedIn } from "./auth.js";
import { expiredMessage, rejectedMessage, warn } from "./feed.js";
import { showAlert, showLogin } from "./frame.js";

/** A failed request: HTTP status (0: no answer), the server's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** A JSON request with this page's sign-in; resolves to the response body, throws ApiError. */
export async function api(method, path, body) {
  const init = { method, headers: authHeaders(method), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached.");
  }
  const json = await r.json().catch(() => null);
  if (!r.ok) {
    const err = json?.error || {};
    throw new ApiError(r.status, err.code || "http", err.message || `HTTP ${r.status}`);
  }
  return json;
}

/** Reports a failed action: the page says it plainly, the console keeps the context. */
export function reportError(what, e) {
  warn(`${what} failed`, { status: e.status, code: e.code, message: e.message });
  if (e.status === 401) {
    app.tokenRejected = true;
    const message = signedIn() ? rejectedMessage(e.message) : expiredMessage();
    showLogin(message);
    return;
  }
  const hint = e.status === 403 ? " Your role may not do that." : "";
  showAlert(`${what} failed: ${e.message}.${hint}`);
}

/**
 * Read-your-writes: a write with this page's client, resolved once the open show's feed
 * has applied it (the answer's `seq`), so what the page shows next is the feed's result,
 * not a guess. A write the feed will not show (the show closed) just resolves.
 */
export async function writeAndSee(method, path, body) {
  const { client, showId } = app;
  const answer = await client.write(method, path, body);
  if (Number.isInteger(answer?.seq) && app.client === client) {
    await client.caughtUp(showId, answer.seq).catch(() => {});
  }
  return answer;
}
