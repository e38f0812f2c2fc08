// Search and filters over the whole comment history, run by the server
// (`GET /api/shows/{id}/comments?q=&buyer=&only=`): while a filter is on, the feed pane
// shows its results (newest first, paged with `before`) instead of the live list, and a
// live arrival that matches is counted ("n new matching"), never slipped in out of
// place nor hidden silently. The live list keeps following the feed underneath, so
// clearing the filter shows it at once.

import { app } from "../app.js";
import { api, reportError } from "../api.js";
import { byId } from "../dom.js";
import { commentEl } from "./comments.js";

/** Results asked for per page. */
const RESULTS_PAGE = 100;

/** Wait after the last keystroke before asking the server. */
const TYPING_MS = 250;

let typingTimer = null;

/** The filter the controls describe: `{q, buyer, only}` (empty strings: off), or null. */
function currentFilter() {
  const q = byId("filter-q").value.trim();
  const buyer = byId("filter-buyer").value.trim();
  const only = byId("filter-claims").checked ? "claims" : byId("filter-unclaimed").checked ? "unclaimed_sold" : "";
  return q || buyer || only ? { q, buyer, only } : null;
}

/** Whether a comment the feed brings would be one of the filter's results. */
function matches(filter, c) {
  if (filter.q && !String(c.text).toLowerCase().includes(filter.q.toLowerCase())) return false;
  if (filter.buyer && c.author_id !== filter.buyer) return false;
  const outcome = c.claim_result?.outcome;
  if (filter.only === "claims" && outcome !== "claimed" && outcome !== "waitlisted") return false;
  if (filter.only === "unclaimed_sold" && outcome !== "refused") return false;
  return true;
}

/** Wires the search form; `/` anywhere but in a text field focuses the search box. */
export function wireSearch() {
  const form = byId("feed-filter");
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    runSearch();
  });
  for (const id of ["filter-q", "filter-buyer"]) {
    byId(id).addEventListener("input", () => {
      clearTimeout(typingTimer);
      typingTimer = setTimeout(runSearch, TYPING_MS);
    });
  }
  // The two toggles are one `only`: at most one of them is on.
  byId("filter-claims").addEventListener("change", (e) => {
    if (e.target.checked) byId("filter-unclaimed").checked = false;
    runSearch();
  });
  byId("filter-unclaimed").addEventListener("change", (e) => {
    if (e.target.checked) byId("filter-claims").checked = false;
    runSearch();
  });
  byId("filter-clear").addEventListener("click", () => {
    clearFilterControls();
    runSearch();
    byId("filter-q").focus();
  });
  byId("filter-new").addEventListener("click", runSearch);
  byId("results-more").addEventListener("click", loadMoreResults);
}

function clearFilterControls() {
  byId("filter-q").value = "";
  byId("filter-buyer").value = "";
  byId("filter-claims").checked = false;
  byId("filter-unclaimed").checked = false;
}

/** Back to the live feed with empty controls (a new show or snapshot). */
export function resetSearch() {
  clearTimeout(typingTimer);
  clearFilterControls();
  app.search = null;
  showResultsMode(false);
}

function showResultsMode(on) {
  byId("feed").hidden = on;
  byId("older").hidden = on;
  byId("older-more").hidden = on;
  byId("results").hidden = !on;
  byId("filter-status").hidden = !on;
  byId("filter-clear").hidden = !on;
  if (!on) {
    byId("results").replaceChildren();
    byId("results-more").hidden = true;
    byId("filter-new").hidden = true;
  }
}

/** Runs the filter the controls describe from its newest result (or goes back to live). */
export function runSearch() {
  clearTimeout(typingTimer);
  const filter = currentFilter();
  if (!filter || !app.showId) {
    app.search = null;
    showResultsMode(false);
    return;
  }
  app.search = { filter, rows: new Set(), fresh: 0, done: false, loading: false, last: null };
  showResultsMode(true);
  byId("results").replaceChildren();
  renderSearchStatus();
  loadMoreResults();
}

async function loadMoreResults() {
  const search = app.search;
  if (!search || search.loading || search.done) return;
  search.loading = true;
  renderSearchStatus();
  const { q, buyer, only } = search.filter;
  const query = new URLSearchParams({ limit: String(RESULTS_PAGE) });
  if (q) query.set("q", q);
  if (buyer) query.set("buyer", buyer);
  if (only) query.set("only", only);
  if (search.last) query.set("before", search.last);
  try {
    const page = await api("GET", `/api/shows/${encodeURIComponent(app.showId)}/comments?${query}`);
    if (app.search !== search) return;
    const list = byId("results");
    for (const c of page.comments) {
      if (search.rows.has(c.id)) continue;
      search.rows.add(c.id);
      // Not indexed in app.commentEls: a result is a copy; the live list keeps its own.
      const li = commentEl(c, { indexed: false });
      list.append(li);
    }
    if (page.comments.length) search.last = page.comments[page.comments.length - 1].id;
    if (page.comments.length < RESULTS_PAGE) search.done = true;
  } catch (e) {
    if (app.search === search) search.done = true;
    reportError("Searching the comments", e);
  } finally {
    search.loading = false;
    if (app.search === search) renderSearchStatus();
  }
}

function renderSearchStatus() {
  const search = app.search;
  if (!search) return;
  const n = search.rows.size;
  byId("filter-summary").textContent = search.loading && !n ? "Searching…" : `${n}${search.done ? "" : "+"} matching comment${n === 1 ? "" : "s"}, newest first.`;
  const more = byId("results-more");
  more.hidden = search.done;
  more.disabled = search.loading;
  const fresh = byId("filter-new");
  fresh.hidden = search.fresh === 0;
  fresh.textContent = `${search.fresh} new matching: show`;
}

/** A comment the live feed brought: counted when the open filter would list it. */
export function noteLiveComment({ op, row }) {
  const search = app.search;
  if (!search || op !== "insert" || search.rows.has(row.id) || !matches(search.filter, row)) return;
  search.fresh += 1;
  renderSearchStatus();
}
