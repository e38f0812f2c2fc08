// The show list: every show with its status, Go live / End buttons for operators, and
// the form that creates a show.

import { app } from "../app.js";
import { api, reportError } from "../api.js";
import { canOperate } from "../auth.js";
import { byId, h, timeEl } from "../dom.js";
import { showView } from "../frame.js";

/** Shows the list of shows, fetched afresh. */
export async function openShowList() {
  showView("shows");
  document.title = "Shows · showfeed";
  byId("conn").dataset.state = "idle";
  byId("conn-text").textContent = "Not connected to a show";
  app.connStatus = null;
  try {
    const { shows } = await api("GET", "/api/shows");
    renderShowList(shows);
  } catch (e) {
    reportError("Loading shows", e);
  }
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
        h("span", { class: "muted" }, "created ", timeEl(s.created_at, true)),
        canOperate() ? statusButtons(s, () => openShowList()) : null,
      ),
    ),
  );
}

/** Go live / End buttons for a show; `after` runs when a change succeeded. */
function statusButtons(show, after) {
  const set = (status) => async (e) => {
    e.target.disabled = true;
    try {
      await api("PATCH", `/api/shows/${encodeURIComponent(show.id)}`, { status });
      after?.();
    } catch (err) {
      reportError(status === "live" ? "Going live" : "Ending the show", err);
    } finally {
      e.target.disabled = false;
    }
  };
  return h(
    "span",
    { class: "row-actions" },
    show.status !== "live" ? h("button", { type: "button", onclick: set("live"), "aria-label": `Go live: ${show.title}` }, "Go live") : null,
    show.status === "live" ? h("button", { type: "button", class: "danger", onclick: set("ended"), "aria-label": `End show: ${show.title}` }, "End") : null,
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
