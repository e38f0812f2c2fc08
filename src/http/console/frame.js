// The page frame around the views: the alert bar, the sign-in form, who is signed in,
// and which main view (show list or one show) is visible.

import { app } from "./app.js";
import { canOperate } from "./auth.js";
import { byId } from "./dom.js";

/** Shows a message in the alert bar above the page. */
export function showAlert(text) {
  byId("alert-text").textContent = text;
  byId("alert").hidden = false;
}

/** Dismisses the alert bar. */
export function hideAlert() {
  byId("alert").hidden = true;
}

/** Shows the sign-in form with `message` (why a sign-in is needed). */
export function showLogin(message) {
  byId("login").hidden = false;
  byId("login-msg").textContent = message || "";
  byId("login-msg").hidden = !message;
  byId("who").textContent = "";
  byId("signout").hidden = !app.mode;
}

/**
 * Names who is signed in, with the role and how (a session, which ends at a time the
 * page warns about, or a token), and shows the operator-only controls if the role allows.
 */
export function showWho() {
  const c = app.claims;
  const how = app.mode === "session" ? "session" : "token";
  byId("who").textContent = c ? `${c.sub} · ${c.role} · ${how}` : "";
  byId("who").dataset.mode = app.mode || "";
  byId("signout").hidden = !app.mode;
  for (const el of document.querySelectorAll("[data-operator]")) el.hidden = !canOperate();
}

/** Shows one of the main views; `null` shows none (sign-in only). */
export function showView(id) {
  for (const v of ["shows", "console"]) byId(v).hidden = v !== id;
}

/**
 * Asks in the page's own modal dialog (keyboard: Tab between the buttons, Enter chooses,
 * Escape cancels); resolves true when the operator confirms.
 */
export function confirmDialog(text, okLabel) {
  const dialog = byId("confirm");
  byId("confirm-text").textContent = text;
  byId("confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    byId("confirm-ok").focus();
  });
}
