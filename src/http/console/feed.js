// The console's connection to the feed: a showfeed-client (/client/showfeed-client.js, the
// library every app on this origin can use) for this page's sign-in (the session cookie,
// or this tab's token; never a credential in a URL), and its status in the
// terms of the connection indicator (views/status.js). Exactness, resume, tab sharing,
// backoff and the long-poll fallback all live in the library.

import { createClient, decodeToken } from "/client/showfeed-client.js";
import { app } from "./app.js";
import { clientAuth } from "./auth.js";

/**
 * Opens a client for this page's sign-in (`#transport=poll` in the address: long-poll only)
 * and subscribes to `showIds` with `handlers` (see the library's README).
 */
export function openFeed(showIds, handlers) {
  const forcePoll = new URLSearchParams(location.hash.slice(1)).get("transport") === "poll";
  const client = createClient({ auth: clientAuth(), forcePoll });
  const subscription = client.subscribe(showIds, handlers);
  return { client, subscription };
}

/**
 * A library status as the indicator shows it: `{state: "connecting" | "live" |
 * "reconnecting" | "polling" | "error", attempt?, nextAt?, reason?, kind?, shared}`; an
 * error's `kind` (expired, unauthorized, forbidden, not_found) decides what the page offers.
 */
export function indicatorStatus(s) {
  const shared = s.state === "live-via-other-tab" || !!s.viaOtherTab;
  switch (s.state) {
    case "live":
    case "live-via-other-tab":
      return { state: "live", shared };
    case "reconnecting":
    case "polling":
      return { state: s.state, attempt: s.attempt, nextAt: s.nextTryAt, reason: s.reason, shared };
    case "expired":
      return { state: "error", kind: "expired", reason: expiredMessage(), shared };
    case "denied":
      if (s.httpStatus === 401) {
        return { state: "error", kind: "unauthorized", reason: rejectedMessage(s.reason), shared };
      }
      return { state: "error", kind: "forbidden", reason: `${app.mode === "session" ? "This sign-in" : "This token"} may not see this show${detail(s.reason)}.`, shared };
    case "not-found":
      return { state: "error", kind: "not_found", reason: "Show not found: the link may be wrong, or the show is gone.", shared };
    default:
      return { state: "connecting", shared };
  }
}

function detail(reason) {
  return reason ? ` (${reason})` : "";
}

/** Why the page's sign-in stopped working, and what brings the operator back to this place. */
export function expiredMessage() {
  if (app.mode === "session") {
    return "Your session has ended (signed out, idle too long, or past its end). Open a new sign-in link, or paste it here: this page keeps your place.";
  }
  const claims = decodeToken(app.token);
  const when = claims?.exp ? ` at ${new Date(claims.exp * 1000).toLocaleTimeString()}` : "";
  return `Your token expired${when}. Paste a new one to reconnect.`;
}

/** A 401 for a sign-in the page thought was good. */
export function rejectedMessage(reason) {
  if (app.mode === "session") return expiredMessage();
  return `The server rejected this token${detail(reason)}.`;
}

export function warn(message, context) {
  console.warn(`[showfeed] ${message}`, context ?? "");
}
