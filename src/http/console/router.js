// Routing: the address fragment (`#token=`, `#show=`, `#transport=poll`) decides the view.
// Runs at start, on every hash change, and when a token arrives.

import { app } from "./app.js";
import { askOtherTabsForToken, setToken, takeTokenFromUrl, tokenUsable } from "./auth.js";
import { byId } from "./dom.js";
import { expiredMessage } from "./feed.js";
import { hideAlert, showLogin, showView, showWho } from "./frame.js";
import { closeShow, openShow } from "./views/show.js";
import { closeShowList, openShowList } from "./views/shows.js";
import { setConnection } from "./views/status.js";

/**
 * Redoes the page from the address: takes a `#token=`, finds a token (this tab, another
 * tab, or the sign-in form), then opens `#show=<id>` or the show list.
 */
export async function route() {
  closeShow();
  closeShowList();
  hideAlert();
  byId("login").hidden = true;
  // A link with `#token=` followed inside an open tab (a hash change, no reload).
  const fromUrl = takeTokenFromUrl();
  if (fromUrl && fromUrl !== app.token) {
    app.tokenRejected = false;
    setToken(fromUrl);
  }
  if (!app.token) {
    const shared = await askOtherTabsForToken();
    if (shared) setToken(shared);
  }
  if (!app.token) {
    showView(null);
    setConnection({ state: "idle" });
    showLogin("This console needs a token.");
    return;
  }
  if (!app.claims) {
    showView(null);
    showLogin("That is not a valid token (it should be a JWT: three dot-separated parts).");
    return;
  }
  if (!tokenUsable(app.token)) {
    showView(null);
    showLogin(expiredMessage(app.token));
    return;
  }
  showWho();
  const showId = new URLSearchParams(location.hash.slice(1)).get("show");
  if (showId) openShow(showId);
  else openShowList();
}
