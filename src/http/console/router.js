// Routing: the address fragment (`#code=`, `#token=`, `#show=`, `#transport=poll`) decides
// the view. Runs at start, on every hash change, and when a sign-in arrives.

import { app } from "./app.js";
import { askOtherTabsForToken, loadSession, rememberPlace, setToken, signedIn, signInWithCode, takeCodeFromUrl, takeTokenFromUrl } from "./auth.js";
import { byId } from "./dom.js";
import { expiredMessage } from "./feed.js";
import { hideAlert, showLogin, showView, showWho } from "./frame.js";
import { watchSession } from "./session.js";
import { closeShow, openShow } from "./views/show.js";
import { closeShowList, openShowList } from "./views/shows.js";
import { setConnection } from "./views/status.js";

/**
 * Redoes the page from the address: exchanges a `#code=` for a session or takes a
 * `#token=`, else finds a sign-in (the session cookie, this tab's token, another tab's,
 * or the sign-in form), then opens `#show=<id>` or the show list.
 */
export async function route() {
  closeShow();
  closeShowList();
  hideAlert();
  byId("login").hidden = true;
  const refused = await signIn();
  if (refused !== null) {
    showView(null);
    setConnection({ state: "idle" });
    showLogin(refused);
    return;
  }
  rememberPlace();
  showWho();
  watchSession();
  const showId = new URLSearchParams(location.hash.slice(1)).get("show");
  if (showId) openShow(showId);
  else openShowList();
}

/** Finds this page's sign-in; null when there is one, else what the sign-in form says. */
async function signIn() {
  // A sign-in link (a new tab, or followed inside this one: a hash change, no reload).
  const code = takeCodeFromUrl();
  if (code) {
    app.tokenRejected = false;
    const refused = await signInWithCode(code);
    if (refused) return refused;
  }
  const fromUrl = takeTokenFromUrl();
  if (fromUrl && fromUrl !== app.token) {
    app.tokenRejected = false;
    setToken(fromUrl);
  }
  if (app.mode === "session" || !app.token) {
    // The cookie, if any: the session may have ended since the page last looked.
    if (!(await loadSession()) && app.mode === "session") return expiredMessage();
  }
  if (!app.mode) {
    const shared = await askOtherTabsForToken();
    if (shared) setToken(shared);
  }
  if (!app.mode) return "Open a sign-in link, or paste it (or a token) here.";
  if (!app.claims) return "That is not a sign-in link or a valid token (a JWT has three dot-separated parts).";
  if (!signedIn()) return expiredMessage();
  return null;
}
