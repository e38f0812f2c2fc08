// The console's entry point (the page's one script): connects the page's controls to the
// views, then routes. The connection and the show's data are the client library's
// (/client/showfeed-client.js, opened in feed.js), the rendering is in views/; see app.js
// for the state they share.
//
// Rule for all rendering: server data goes in as text (dom.js `h`, textContent), never
// as HTML. The page runs under a CSP with no inline script or style.

import { app } from "./app.js";
import { codeOf, setToken, signInWithCode, signOut, startAuthChannel } from "./auth.js";
import { byId } from "./dom.js";
import { warn } from "./feed.js";
import { hideAlert, showLogin, showView } from "./frame.js";
import { wireAlerts } from "./alerts.js";
import { route } from "./router.js";
import { watchSession } from "./session.js";
import { wireShortcuts } from "./shortcuts.js";
import { wireTabs } from "./tabs.js";
import { startTheme } from "./theme.js";
import { wireBuyers } from "./views/buyers.js";
import { hideUndo, onBoardClick, undoRelease } from "./views/claims.js";
import { loadOlder } from "./views/comments.js";
import { fillItemForm, onItemsClick, saveItem } from "./views/items.js";
import { wireSearch } from "./views/search.js";
import { closeShow, setShowStatus } from "./views/show.js";
import { closeShowList, createShow, openShowList } from "./views/shows.js";
import { retryNow, setConnection } from "./views/status.js";

function wire() {
  byId("login-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = byId("login-token").value.trim();
    if (!text) return;
    byId("login-token").value = "";
    app.tokenRejected = false;
    // A pasted sign-in link (or its code) opens a session here, on the page's current
    // place; anything else is taken for a token.
    const code = codeOf(text);
    if (code) {
      const refused = await signInWithCode(code);
      if (refused) return showLogin(refused);
    } else {
      setToken(text, { share: true });
    }
    route();
  });
  byId("signout").addEventListener("click", async () => {
    closeShow();
    closeShowList();
    const message = await signOut();
    watchSession();
    showView(null);
    setConnection({ state: "idle" });
    showLogin(message);
  });
  byId("alert-close").addEventListener("click", hideAlert);
  byId("retry-now").addEventListener("click", retryNow);
  byId("shows-refresh").addEventListener("click", openShowList);
  byId("create-show").addEventListener("submit", createShow);
  byId("board").addEventListener("click", onBoardClick);
  byId("undo-button").addEventListener("click", undoRelease);
  byId("undo-close").addEventListener("click", hideUndo);
  byId("load-older").addEventListener("click", loadOlder);
  byId("item-form").addEventListener("submit", saveItem);
  byId("item-number").addEventListener("change", (e) => fillItemForm(Number(e.target.value)));
  byId("items").addEventListener("click", onItemsClick);
  byId("go-live").addEventListener("click", setShowStatus("live"));
  byId("end-show").addEventListener("click", setShowStatus("ended"));
  wireSearch();
  wireBuyers();
  wireTabs();
  wireAlerts();
  wireShortcuts();
  window.addEventListener("hashchange", route);
  // A CSP violation means the page itself broke its own rules: say so where a developer looks.
  document.addEventListener("securitypolicyviolation", (e) => {
    warn("content security policy violation", { directive: e.violatedDirective, blocked: e.blockedURI });
    document.documentElement.dataset.cspViolations = String(Number(document.documentElement.dataset.cspViolations || 0) + 1);
  });
}

function main() {
  startTheme();
  startAuthChannel(route);
  wire();
  route();
}

main();
