// The console's connection to the feed: a showfeed-client (/client/showfeed-client.js, the
// library every app on this origin can use) for this tab's token, and its status in the
// terms of the connection indicator (views/status.js). Exactness, resume, tab sharing,
// backoff and the long-poll fallback all live in the library.

import { createClient, decodeToken } from "/client/showfeed-client.js";
import { app } from "./app.js";

/**
 * Opens a client for this tab's token (`#transport=poll` in the address: long-poll only)
 * and subscribes to `showIds` with `handlers` (see the library's README).
 */
export function openFeed(showIds, handlers) {
  const forcePoll = new URLSearchParams(location.hash.slice(1)).get("transport") === "poll";
  const client = createClient({ auth: { token: app.token }, forcePoll });
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
      return { state: "error", kind: "expired", reason: expiredMessage(app.token), shared };
    case "denied":
      if (s.httpStatus === 401) {
        return { state: "error", kind: "unauthorized", reason: `The server rejected this token${detail(s.reason)}.`, shared };
      }
      return { state: "error", kind: "forbidden", reason: `This token may not see this show${detail(s.reason)}.`, shared };
    case "not-found":
      return { state: "error", kind: "not_found", reason: "Show not found: the link may be wrong, or the show is gone.", shared };
    default:
      return { state: "connecting", shared };
  }
}

function detail(reason) {
  return reason ? ` (${reason})` : "";
}

export function expiredMessage(token) {
  const claims = decodeToken(token);
  const when = claims?.exp ? ` at ${new Date(claims.exp * 1000).toLocaleTimeString()}` : "";
  return `Your token expired${when}. Paste a new one to reconnect.`;
}

export function warn(message, context) {
  console.warn(`[showfeed] ${message}`, context ?? "");
}
