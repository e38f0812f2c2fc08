// Sign-in, two ways. Preferred: a console *session*, the `HttpOnly` cookie a sign-in
// link's one-time code (`#code=`, in the fragment, so no server log sees it) is exchanged
// for; the page never holds the credential and no request URL carries one. Fallback: a
// pasted *token* (JWT) kept in this tab's sessionStorage, shared with other tabs on request
// (BroadcastChannel), sent as `Authorization: Bearer`. Tokens are decoded for display and
// expiry only; the server verifies both.

import { app } from "./app.js";
import { decodeToken } from "/client/showfeed-client.js";

const TOKEN_KEY = "showfeed.token";
/** Where the operator was (`#show=…`), so a sign-in in a new tab goes back there. */
const PLACE_KEY = "showfeed.place";
/** The header the server requires of a cookie-authenticated write (CSRF). */
const CSRF = { "X-Showfeed-CSRF": "1" };

/** Takes `#token=` from the address (then removes it), else this tab's stored token. */
export function takeTokenFromUrl() {
  const token = takeFromUrl("token");
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  return sessionStorage.getItem(TOKEN_KEY);
}

/**
 * Takes a sign-in link's `#code=` from the address. The code leaves the address bar and
 * the history at once, before it is used, so it cannot be bookmarked or shared by accident;
 * a link with no `#show=` of its own goes back to the operator's last place.
 */
export function takeCodeFromUrl() {
  const code = takeFromUrl("code");
  if (code && !new URLSearchParams(location.hash.slice(1)).get("show")) {
    const place = localStorage.getItem(PLACE_KEY);
    if (place) history.replaceState(null, "", `${location.pathname}${location.search}#${place}`);
  }
  return code;
}

/** Removes `name` from the fragment (replaceState: no reload, no history entry) and returns it. */
function takeFromUrl(name) {
  const params = new URLSearchParams(location.hash.slice(1));
  const value = params.get(name);
  if (value) {
    params.delete(name);
    const rest = params.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
  }
  return value;
}

/** Remembers the address's place (the show, the transport) for the next sign-in. */
export function rememberPlace() {
  const params = new URLSearchParams(location.hash.slice(1));
  params.delete("code");
  params.delete("token");
  localStorage.setItem(PLACE_KEY, params.toString());
}

/**
 * A sign-in link (or its code) pasted into the form: the code, or null for anything else
 * (a token, then).
 */
export function codeOf(text) {
  const hash = text.includes("#") ? text.slice(text.indexOf("#") + 1) : "";
  const code = new URLSearchParams(hash).get("code") ?? text;
  return /^[0-9a-f]{64}$/i.test(code.trim()) ? code.trim() : null;
}

/**
 * Exchanges a sign-in code for a session (the server sets the cookie). Resolves to null
 * when signed in, else to the reason shown on the sign-in form.
 */
export async function signInWithCode(code) {
  let r;
  try {
    r = await fetch("/api/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...CSRF },
      body: JSON.stringify({ code }),
      cache: "no-store",
    });
  } catch {
    return "The server cannot be reached; open the link again when it is back.";
  }
  const json = await r.json().catch(() => null);
  if (!r.ok) return json?.error?.message || `Sign-in failed (HTTP ${r.status}).`;
  useSession(json);
  return null;
}

/**
 * The session the browser's cookie names, if any: true when there is one (it becomes this
 * page's sign-in), false when there is none or it ended.
 */
export async function loadSession() {
  let r;
  try {
    r = await fetch("/api/session", { cache: "no-store" });
  } catch {
    return false;
  }
  if (r.status !== 200) return false;
  const session = await r.json().catch(() => null);
  if (!session?.sub) return false;
  useSession(session);
  return true;
}

/** Makes `session` (the server's `GET /api/session` answer) this page's sign-in. */
function useSession(session) {
  // A token this tab kept from before must not take over on the next route.
  sessionStorage.removeItem(TOKEN_KEY);
  app.mode = "session";
  app.session = session;
  // The server's clock minus ours: the session's ends are the server's times.
  app.sessionSkewMs = Date.parse(session.now) - Date.now();
  app.token = null;
  app.claims = { sub: session.sub, role: session.role, shows: session.shows, exp: Date.parse(session.expires_at) / 1000 };
}

/** When the session ends unless it is used (ms, this browser's clock): the earlier end. */
export function sessionEndsAt() {
  const s = app.session;
  if (!s) return null;
  return Math.min(Date.parse(s.expires_at), Date.parse(s.idle_expires_at)) - (app.sessionSkewMs || 0);
}

/** Makes `token` this tab's token; `share` offers it to the other tabs too. */
export function setToken(token, { share = false } = {}) {
  sessionStorage.setItem(TOKEN_KEY, token);
  app.mode = "token";
  app.session = null;
  app.token = token;
  app.claims = decodeToken(token);
  if (share) app.authChannel?.postMessage({ t: "token", token });
}

/** Headers that authenticate a request with `method`: the token, or a session's CSRF header. */
export function authHeaders(method) {
  if (app.mode === "session") return method === "GET" || method === "HEAD" ? {} : { ...CSRF };
  return app.token ? { Authorization: `Bearer ${app.token}` } : {};
}

/** The client library's `auth` for this sign-in. */
export function clientAuth() {
  return app.mode === "session" ? { cookie: true } : { token: app.token };
}

/** True while the page has a sign-in that has not visibly ended. */
export function signedIn() {
  if (app.mode === "session") return sessionEndsAt() > Date.now();
  return !!app.token && tokenUsable(app.token);
}

/**
 * Tabs of this origin share the token on request: a tab opened without one (a new tab,
 * a bookmark) asks the others before showing the sign-in form. Same origin only.
 * `onAdopted()` runs when this tab took another tab's token (the page must be redone).
 * Sessions need no sharing: every tab of the origin sends the cookie.
 */
export function startAuthChannel(onAdopted) {
  if (typeof BroadcastChannel !== "function") return;
  app.authChannel = new BroadcastChannel("showfeed-auth");
  app.authChannel.onmessage = (e) => {
    const m = e.data || {};
    if (m.t === "ask" && app.mode === "token" && tokenUsable(app.token)) {
      app.authChannel.postMessage({ t: "token", token: app.token });
    } else if (m.t === "token" && typeof m.token === "string" && m.token !== app.token && app.mode !== "session") {
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

/** True when this sign-in's role may change shows, claims and items. */
export function canOperate() {
  return app.claims?.role === "operator" || app.claims?.role === "admin";
}

/**
 * Signs out. A session ends on the server (every node refuses its cookie, every stream it
 * opened closes); a token is only forgotten by this tab (other tabs keep theirs).
 * Resolves to what the sign-in form then says.
 */
export async function signOut() {
  const wasSession = app.mode === "session";
  if (wasSession) {
    await fetch("/api/session", { method: "DELETE", headers: { ...CSRF }, cache: "no-store" }).catch(() => {});
  }
  forget();
  return wasSession ? "Signed out: the session has ended on every node." : "Signed out. This tab forgot its token.";
}

/** Drops this page's sign-in, whichever it was. */
export function forget() {
  sessionStorage.removeItem(TOKEN_KEY);
  app.mode = null;
  app.session = null;
  app.token = null;
  app.claims = null;
}
