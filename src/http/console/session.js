// A console session's end, made visible: the page asks the server who is signed in every
// 30 s (which also counts as use, like the open stream's own check), warns in the banner
// under the top bar once less than 5 minutes remain, and brings up the sign-in form the
// moment the session is gone, with the address (the show) left as it was, so signing in
// again returns to the same place. Tokens carry their own `exp`; their end is the feed's
// `auth.expired`.

import { app } from "./app.js";
import { loadSession, sessionEndsAt } from "./auth.js";
import { byId, localTime } from "./dom.js";
import { expiredMessage } from "./feed.js";
import { showLogin, showView } from "./frame.js";
import { closeShow } from "./views/show.js";
import { closeShowList } from "./views/shows.js";
import { setConnection } from "./views/status.js";

const CHECK_MS = 30_000;
const WARN_MS = 5 * 60_000;

let checkTimer = null;
let tickTimer = null;

/** Starts (or restarts) watching this page's session; stops for a token sign-in. */
export function watchSession() {
  clearInterval(checkTimer);
  clearInterval(tickTimer);
  render();
  if (app.mode !== "session") return;
  checkTimer = setInterval(check, CHECK_MS);
  tickTimer = setInterval(render, 1000);
}

async function check() {
  if (app.mode !== "session") return;
  // A failed request (the server away) is no verdict: the outage banner says so already.
  try {
    const r = await fetch("/api/session", { cache: "no-store" });
    if (r.status === 401) return ended();
  } catch {
    return;
  }
  await loadSession();
  render();
}

/** The warning banner, redrawn every second while the end is near. */
function render() {
  const el = byId("session-warn");
  const end = sessionEndsAt();
  if (app.mode !== "session" || end === null) {
    el.hidden = true;
    return;
  }
  const left = end - Date.now();
  if (left <= 0) return ended();
  if (left > WARN_MS) {
    el.hidden = true;
    return;
  }
  const minutes = Math.ceil(left / 60_000);
  el.textContent = `Your session ends at ${localTime(new Date(end))} (in ${minutes} min). Then open a new sign-in link; this page keeps your place.`;
  el.hidden = false;
}

/** The session is gone: the page stops and asks for a sign-in, keeping the address. */
function ended() {
  clearInterval(checkTimer);
  clearInterval(tickTimer);
  byId("session-warn").hidden = true;
  if (app.mode !== "session") return;
  closeShow();
  closeShowList();
  showView(null);
  setConnection({ state: "idle" });
  showLogin(expiredMessage());
}
