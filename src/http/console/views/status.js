// The connection indicator in the top bar: live, reconnecting (with a countdown),
// polling, or the error that stopped the feed. Changes are announced to screen readers.

import { app } from "../app.js";
import { announce } from "../announce.js";
import { byId } from "../dom.js";
import { showAlert, showLogin } from "../frame.js";

/**
 * Shows a status (feed.js `indicatorStatus`) in the connection indicator; an error greys the
 * console and names its reason (a dead token brings up the sign-in form).
 */
export function setConnection(status) {
  const el = byId("conn");
  const previous = el.dataset.state;
  el.dataset.state = status.state;
  el.dataset.shared = status.shared ? "true" : "false";
  app.connStatus = status;
  renderConnectionText();
  clearInterval(app.statusTimer);
  if (status.nextAt) app.statusTimer = setInterval(renderConnectionText, 1000);
  if (previous !== status.state && previous !== "idle") {
    announce(`Connection ${connectionLabel(status, false)}`);
  }
  if (status.state === "error") {
    byId("console").classList.add("stale");
    if (status.kind === "expired" || status.kind === "unauthorized") {
      app.tokenRejected = true;
      showLogin(status.reason);
    } else {
      showAlert(status.reason);
    }
  } else {
    byId("console").classList.remove("stale");
  }
}

function connectionLabel(s, withCountdown = true) {
  const next = withCountdown && s.nextAt ? `, next try in ${Math.max(0, Math.ceil((s.nextAt - Date.now()) / 1000))} s` : "";
  const via = s.shared ? " (via another tab)" : "";
  switch (s.state) {
    case "connecting":
      return "connecting…";
    case "live":
      return `live${via}`;
    case "reconnecting":
      return `reconnecting (attempt ${s.attempt}${next})${via}`;
    case "polling":
      return `polling fallback${s.nextAt ? ` (live stream retry in ${Math.max(0, Math.ceil((s.nextAt - Date.now()) / 1000))} s)` : ""}${via}`;
    case "error":
      return `error: ${s.reason}`;
    default:
      return "not connected";
  }
}

function renderConnectionText() {
  const s = app.connStatus;
  if (!s) return;
  const text = connectionLabel(s);
  byId("conn-text").textContent = text.charAt(0).toUpperCase() + text.slice(1);
  byId("conn").title = s.reason && s.state !== "error" ? `Last failure: ${s.reason}` : "";
}
