// One show's console: its head (title, status, Go live / End), the counters, and the
// three panes (views/comments.js, views/claims.js, views/items.js). A snapshot redoes
// everything; a change redoes only what it touches.

import { alertNewClaim } from "../alerts.js";
import { app } from "../app.js";
import { reportError, writeAndSee } from "../api.js";
import { byId } from "../dom.js";
import { indicatorStatus, openFeed } from "../feed.js";
import { confirmDialog, showView } from "../frame.js";
import { counterTexts } from "../state.js";
import { refreshBuyers, resetBuyers, scheduleBuyersRefresh } from "./buyers.js";
import { announceClaim, groupEl, renderItemGroup } from "./claims.js";
import { commentEl, markClaimComment, RENDER_CAP, renderCommentChange, renderOlderControl, resetHistory } from "./comments.js";
import { itemRow, renderItemRow, renderPriceField, resetItemForm } from "./items.js";
import { noteLiveComment, resetSearch } from "./search.js";
import { enableWrite, resetConnection, setConnection } from "./status.js";

/** Opens one show's console and starts its feed. */
export function openShow(showId) {
  showView("console");
  app.showId = showId;
  app.state = null;
  resetShowDom();
  resetConnection();
  setConnection({ state: "connecting" });
  const { client, subscription } = openFeed(showId, {
    onInitial: renderAll,
    onChange: (_, change, effect) => renderChange(effect),
    onStatus: (status) => {
      const shown = indicatorStatus(status);
      setConnection(shown);
      if (shown.kind === "not_found" || shown.kind === "forbidden") renderMissingShow(shown);
    },
  });
  app.client = client;
  app.state = subscription.store(showId);
}

/** A show that does not exist (or this sign-in may not see) says so instead of "Loading…". */
function renderMissingShow(status) {
  const title = status.kind === "not_found" ? "Show not found" : "Show not visible";
  byId("show-title").textContent = title;
  document.title = `${title} · showfeed`;
  byId("console").dataset.missing = status.kind;
  byId("feed-empty").textContent = status.reason;
}

/** Stops the open show's feed (if any) and forgets its state. */
export function closeShow() {
  app.client?.close();
  app.client = null;
  app.state = null;
  app.showId = null;
  clearInterval(app.statusTimer);
}

function resetShowDom() {
  byId("show-title").textContent = "Loading…";
  delete byId("console").dataset.missing;
  byId("feed-empty").textContent = "No comments yet.";
  byId("show-status").textContent = "";
  byId("show-status").hidden = true;
  byId("go-live").hidden = true;
  byId("end-show").hidden = true;
  byId("feed").replaceChildren();
  resetHistory();
  resetSearch();
  resetBuyers();
  resetItemForm();
  byId("board").replaceChildren();
  byId("items").replaceChildren();
  app.commentEls.clear();
  app.groupEls.clear();
  app.itemRows.clear();
  renderCounters();
}

/** A fresh snapshot: everything is rebuilt from the state. */
function renderAll() {
  const s = app.state;
  renderShowHead();
  const feed = byId("feed");
  // The history under the feed continued the old list; this snapshot may start elsewhere.
  resetHistory();
  app.commentEls.clear();
  feed.replaceChildren(...s.comments.slice(0, RENDER_CAP).map(commentEl));
  app.groupEls.clear();
  byId("board").replaceChildren(...s.claimedItemNumbers().map((n) => groupEl(n)));
  app.itemRows.clear();
  byId("items").replaceChildren(...[...s.items.values()].sort((a, b) => a.item_number - b.item_number).map(itemRow));
  renderCounters();
  renderEmptyHints();
  refreshBuyers();
}

/** One applied change: only what it touches is redone. */
function renderChange(effect) {
  switch (effect.entity) {
    case "comment":
      renderCommentChange(effect);
      noteLiveComment(effect);
      break;
    case "claim":
      renderItemGroup(effect.row.item_number);
      if (effect.previous && effect.previous.item_number !== effect.row.item_number) renderItemGroup(effect.previous.item_number);
      markClaimComment(effect.row);
      renderItemRow(effect.row.item_number);
      announceClaim(effect);
      if (effect.op === "insert") alertNewClaim(effect.row.item_number);
      scheduleBuyersRefresh();
      break;
    case "item":
      renderItemRow(effect.row.item_number);
      if (app.groupEls.has(effect.row.item_number)) renderItemGroup(effect.row.item_number);
      scheduleBuyersRefresh();
      break;
    case "show":
      renderShowHead();
      // The currency may have changed: the prices follow.
      for (const n of [...app.itemRows.keys()]) renderItemRow(n);
      scheduleBuyersRefresh();
      break;
  }
  renderCounters();
  renderEmptyHints();
}

function renderShowHead() {
  const show = app.state.show;
  if (!show) return;
  byId("show-title").textContent = show.title;
  document.title = `${show.title} · showfeed`;
  const badge = byId("show-status");
  badge.textContent = show.status;
  badge.className = `badge status-${show.status}`;
  badge.hidden = false;
  byId("go-live").hidden = show.status === "live";
  byId("end-show").hidden = show.status !== "live";
  renderPriceField();
}

function renderCounters() {
  const c = counterTexts(app.state?.seq == null ? null : app.state);
  const comments = byId("count-comments");
  comments.textContent = c.comments;
  comments.title = c.commentsExact ? "" : "At least: the snapshot holds only the newest comments.";
  byId("count-claims").textContent = c.claims;
  byId("count-sold").textContent = c.sold;
  byId("count-waitlisted").textContent = c.waitlisted;
  byId("count-paid").textContent = c.paid;
  byId("count-released").textContent = c.released;
}

function renderEmptyHints() {
  const s = app.state;
  byId("feed-empty").hidden = s.comments.length > 0;
  byId("board-empty").hidden = s.claims.size > 0;
  byId("items-empty").hidden = s.items.size > 0;
  const cap = byId("feed-cap");
  cap.hidden = s.comments.length <= RENDER_CAP;
  cap.textContent = `Showing the newest ${RENDER_CAP} comments live; Load older pages back through the rest.`;
  renderOlderControl();
}

/** A click handler setting the open show's status (`live` or `ended`); done once the feed shows it. */
export function setShowStatus(status) {
  return async (e) => {
    // Ending cannot be taken back (an ended show never goes live again): ask first.
    if (status === "ended" && !(await confirmDialog("End the show? Comments claim nothing until it goes live again.", "End show"))) return;
    e.target.disabled = true;
    try {
      await writeAndSee("PATCH", `/api/shows/${encodeURIComponent(app.showId)}`, { status });
    } catch (err) {
      reportError(status === "live" ? "Going live" : "Ending the show", err);
    } finally {
      enableWrite(e.target);
    }
  };
}
