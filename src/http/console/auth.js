// Sign-in and token handling: the token from the address (`#token=`), this tab's
// sessionStorage, or another tab of this origin (BroadcastChannel), and what it allows.
// The token is decoded for display and expiry only; the server verifies it.

import { app } from "./app.js";
import { decodeToken } from "/client/showfeed-client.js";

const TOKEN_KEY = "showfeed.token";

/** Takes `#token=` from the address (then removes it), else this tab's stored token. */
export function takeTokenFromUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get("token");
  if (token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    params.delete("token");
    const rest = params.toString();
    // replaceState: the token leaves the address bar and the history, and no reload.
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Makes `token` this tab's token; `share` offers it to the other tabs too. */
export function setToken(token, { share = false } = {}) {
  sessionStorage.setItem(TOKEN_KEY, token);
  app.token = token;
  app.claims = decodeToken(token);
  if (share) app.authChannel?.postMessage({ t: "token", token });
}

/**
 * Tabs of this origin share the token on request: a tab opened without one (a new tab,
 * a bookmark) asks the others before showing the sign-in form. Same origin only.
 * `onAdopted()` runs when this tab took another tab's token (the page must be redone).
 */
export function startAuthChannel(onAdopted) {
  if (typeof BroadcastChannel !== "function") return;
  app.authChannel = new BroadcastChannel("showfeed-auth");
  app.authChannel.onmessage = (e) => {
    const m = e.data || {};
    if (m.t === "ask" && app.token && tokenUsable(app.token)) {
      app.authChannel.postMessage({ t: "token", token: app.token });
    } else if (m.t === "token" && typeof m.token === "string" && m.token !== app.token) {
      // Adopt another tab's token only when ours cannot work (none, expired, rejected).
      if (!app.token || !tokenUsable(app.token) || app.tokenRejected) {
        setToken(m.token);
        app.tokenRejected = false;
        onAdopted();
      }
    }
  };
}

/** Another tab's token, or null when none answers within 300 ms. */
export function askOtherTabsForToken() {
  return new Promise((resolve) => {
    if (!app.authChannel) return resolve(null);
    const timer = setTimeout(() => {
      app.authChannel.removeEventListener("message", onMessage);
      resolve(null);
    }, 300);
    function onMessage(e) {
      if (e.data?.t === "token" && typeof e.data.token === "string") {
        clearTimeout(timer);
        app.authChannel.removeEventListener("message", onMessage);
        resolve(e.data.token);
      }
    }
    app.authChannel.addEventListener("message", onMessage);
    app.authChannel.postMessage({ t: "ask" });
  });
}

/** True for a well-formed token that has not expired (the server still checks it). */
export function tokenUsable(token) {
  const claims = decodeToken(token);
  return !!claims && (!claims.exp || claims.exp * 1000 > Date.now());
}

/** True when this token's role may change shows, claims and items. */
export function canOperate() {
  return app.claims?.role === "operator" || app.claims?.role === "admin";
}

/** Signs this tab out: the stored token is dropped (other tabs keep theirs). */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  app.token = null;
  app.claims = null;
}
