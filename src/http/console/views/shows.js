// The show list: every show with its status and live counters (comments, claims), Go
// live / End buttons for operators, and the form that creates a show. The counters come
// from ONE multiplexed subscription of all listed shows (one connection, however many).

import { app } from "../app.js";
import { api, reportError } from "../api.js";
import { canOperate } from "../auth.js";
import { byId, h, timeEl } from "../dom.js";
import { indicatorStatus, openFeed } from "../feed.js";
import { showView } from "../frame.js";
import { counterTexts } from "../state.js";
import { enableWrite, resetConnection, setConnection, writeProps } from "./status.js";

/** Shows the list of shows, fetched afresh, and follows them live. */
export async function openShowList() {
  closeShowList();
  showView("shows");
  document.title = "Shows · showfeed";
  resetConnection();
  setConnection({ state: "connecting" });
  let shows;
  try {
    ({ shows } = await api("GET", "/api/shows"));
  } catch (e) {
    reportError("Loading shows", e);
    return;
  }
  renderShowList(shows);
  if (shows.length === 0) {
    setConnection({ state: "idle" });
    return;
  }
  const { client } = openFeed(
    shows.map((s) => s.id),
    {
      onInitial: (showId, store) => renderLive(showId, store),
      onChange: (showId) => renderLive(showId, app.listClient?.stores.get(showId)),
      onError: (showId, error) => markRowFailed(showId, error),
      onStatus: (status) => setConnection(indicatorStatus(status)),
    },
  );
  app.listClient = client;
}

/** Stops the show list's live counters (leaving the list, signing out). */
export function closeShowList() {
  app.listClient?.close();
  app.listClient = null;
}

function rowOf(showId) {
  return byId("show-list").querySelector(`li[data-show="${CSS.escape(showId)}"]`);
}

/** One show's row redone from its store: the counters, the status badge and its buttons. */
function renderLive(showId, store) {
  const row = rowOf(showId);
  if (!row || !store || store.seq === null) return;
  const c = counterTexts(store);
  const counts = row.querySelector(".counts");
  counts.textContent = `${c.comments} comments · ${c.claims} claims`;
  counts.dataset.comments = String(store.commentCount);
  counts.dataset.claims = String(store.counters().claims);
  const badge = row.querySelector(".badge");
  badge.textContent = store.show.status;
  badge.className = `badge status-${store.show.status}`;
  const buttons = row.querySelector(".row-actions");
  if (buttons && buttons.dataset.status !== store.show.status) buttons.replaceWith(statusButtons(store.show));
}

function markRowFailed(showId, error) {
  const counts = rowOf(showId)?.querySelector(".counts");
  if (counts) counts.textContent = error.kind === "denied" ? "not visible to this token" : "gone";
}

function renderShowList(shows) {
  const list = byId("show-list");
  byId("shows-empty").hidden = shows.length > 0;
  list.replaceChildren(
    ...shows.map((s) =>
      h(
        "li",
        { class: "card show-row", dataset: { show: s.id } },
        h("a", { class: "show-link", href: `#show=${encodeURIComponent(s.id)}` }, s.title),
        h("span", { class: `badge status-${s.status}` }, s.status),
        h("span", { class: "counts muted", "aria-label": "Comments and claims, live" }, "…"),
        h("span", { class: "muted" }, "created ", timeEl(s.created_at, true)),
        canOperate() ? statusButtons(s) : null,
      ),
    ),
  );
}

/** Go live / End buttons for a show; the feed redraws them once the change is in. */
function statusButtons(show) {
  const set = (status) => async (e) => {
    e.target.disabled = true;
    try {
      await api("PATCH", `/api/shows/${encodeURIComponent(show.id)}`, { status });
    } catch (err) {
      reportError(status === "live" ? "Going live" : "Ending the show", err);
    } finally {
      enableWrite(e.target);
    }
  };
  return h(
    "span",
    { class: "row-actions", dataset: { status: show.status } },
    show.status !== "live" ? h("button", { type: "button", ...writeProps(), onclick: set("live"), "aria-label": `Go live: ${show.title}` }, "Go live") : null,
    show.status === "live" ? h("button", { type: "button", class: "danger", ...writeProps(), onclick: set("ended"), "aria-label": `End show: ${show.title}` }, "End") : null,
  );
}

/** The create-show form's submit: creates the show and opens it. */
export async function createShow(e) {
  e.preventDefault();
  const title = byId("new-title").value.trim();
  if (!title) return;
  const live = byId("new-live").checked;
  try {
    const show = await api("POST", "/api/shows", { title, status: live ? "live" : "scheduled" });
    byId("new-title").value = "";
    location.hash = `show=${encodeURIComponent(show.id)}`;
  } catch (err) {
    reportError("Creating the show", err);
  }
}
