// The connection indicator in the top bar (live, reconnecting with a countdown, polling, or
// the error that stopped the feed) and the outage banner: while the feed is not live the
// data panes are marked stale with the time of the last update, every action is paused
// with the reason, and "Retry now" reconnects without waiting out the backoff. Changes
// are announced to screen readers.

import { app } from "../app.js";
import { announce } from "../announce.js";
import { byId, localTime } from "../dom.js";
import { showAlert, showLogin } from "../frame.js";

/** States in which the page's data is current: the stream, or the long-poll fallback. */
const CURRENT = new Set(["live", "polling"]);

/**
 * Shows a status (feed.js `indicatorStatus`) in the connection indicator and the outage
 * banner; an error names its reason (a dead token brings up the sign-in form).
 */
export function setConnection(status) {
  const el = byId("conn");
  const previous = el.dataset.state;
  el.dataset.state = status.state;
  el.dataset.shared = status.shared ? "true" : "false";
  app.connStatus = status;
  if (CURRENT.has(status.state)) {
    app.everCurrent = true;
    app.lastCurrentAt = null;
  } else if (app.everCurrent && app.lastCurrentAt === null) {
    // The data on the page was current until now.
    app.lastCurrentAt = Date.now();
  }
  renderStatus();
  clearInterval(app.statusTimer);
  if (status.nextAt || isStale()) app.statusTimer = setInterval(renderStatus, 1000);
  if (previous !== status.state && previous !== "idle") {
    announce(`Connection ${connectionLabel(status, false)}`);
  }
  if (status.state === "error") {
    if (status.kind === "expired" || status.kind === "unauthorized") {
      app.tokenRejected = true;
      showLogin(status.reason);
    } else {
      showAlert(status.reason);
    }
  }
}

/** Forgets the last feed's history (another view opens): nothing on the page is stale yet. */
export function resetConnection() {
  app.everCurrent = false;
  app.lastCurrentAt = null;
}

/** True while the page shows data of a feed that is no longer current. */
function isStale() {
  const s = app.connStatus;
  return !!s && app.everCurrent && !CURRENT.has(s.state) && s.state !== "idle";
}

/** Why actions are paused (null: they are not). */
export function pauseReason() {
  return isStale() ? "Paused: the feed is not live, so this page may be out of date." : null;
}

/**
 * Props for a button that writes (spread into `h`): marked `data-write`, and disabled with
 * the reason while the feed is down, so an operator never acts on stale data.
 */
export function writeProps() {
  const reason = pauseReason();
  return reason ? { "data-write": true, disabled: true, title: reason } : { "data-write": true };
}

/** After a write: the button is usable again unless the feed went down meanwhile. */
export function enableWrite(button) {
  button.disabled = pauseReason() !== null;
}

function connectionLabel(s, withCountdown = true) {
  const next = withCountdown && s.nextAt ? `, next try in ${secondsUntil(s.nextAt)} s` : "";
  const via = s.shared ? " (via another tab)" : "";
  switch (s.state) {
    case "connecting":
      return "connecting…";
    case "live":
      return `connected${via}`;
    case "reconnecting":
      return s.reason === "offline" ? `offline: waiting for the network${via}` : `reconnecting (attempt ${s.attempt}${next})${via}`;
    case "polling":
      return `connected by the polling fallback${s.nextAt ? ` (live stream retry in ${secondsUntil(s.nextAt)} s)` : ""}${via}`;
    case "error":
      return `error: ${s.reason}`;
    default:
      return "not connected";
  }
}

function secondsUntil(at) {
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function renderStatus() {
  const s = app.connStatus;
  if (!s) return;
  const text = connectionLabel(s);
  byId("conn-text").textContent = text.charAt(0).toUpperCase() + text.slice(1);
  byId("conn").title = s.reason && s.state !== "error" ? `Last failure: ${s.reason}` : "";
  renderOutage();
}

/** The banner, the stale marking and the paused actions follow the status. */
function renderOutage() {
  const stale = isStale();
  const banner = byId("outage");
  document.body.classList.toggle("stale", stale);
  const reason = pauseReason();
  for (const button of document.querySelectorAll("[data-write]")) {
    if (reason) {
      button.disabled = true;
      button.title = reason;
    } else if (button.title.startsWith("Paused:")) {
      button.disabled = false;
      button.title = "";
    }
  }
  if (!stale) {
    banner.hidden = true;
    return;
  }
  const s = app.connStatus;
  const at = app.lastCurrentAt;
  const ago = Math.max(0, Math.round((Date.now() - at) / 1000));
  byId("outage-last").textContent = `Last update ${localTime(new Date(at).toISOString())} (${ago} s ago).`;
  byId("outage-last").dataset.at = String(at);
  byId("outage-state").textContent = `${connectionLabel(s).replace(/^./, (c) => c.toUpperCase())}.`;
  banner.dataset.nextAt = s.nextAt ? String(s.nextAt) : "";
  // An error (a refused token, a show gone) is not cured by trying again.
  byId("retry-now").hidden = s.state === "error";
  banner.hidden = false;
}

/** "Retry now": the open view's client reconnects at once. */
export function retryNow() {
  (app.client || app.listClient)?.retryNow();
  byId("outage-state").textContent = "Retrying now…";
}
