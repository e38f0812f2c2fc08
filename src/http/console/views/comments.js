// The comment feed: newest first, at most RENDER_CAP rendered from the store (`#feed`),
// then the older history paged in from the server on demand (`#older`); claim comments
// tagged with their claim's status and with what the `sold N` did (`claim_result`).

import { app } from "../app.js";
import { api, reportError } from "../api.js";
import { byId, h, timeEl } from "../dom.js";

/** Comments rendered at most from the store; older ones come page by page (loadOlder). */
export const RENDER_CAP = 500;

/** Comments asked for per "Load older" page. */
const OLDER_PAGE = 100;

/** Why a `sold N` made no claim, as the operator reads it. */
const REFUSALS = {
  already_holds: (n) => `already holds #${n}`,
  show_not_live: () => "show not live",
  no_such_item: (n) => `no such item #${n}`,
};

/** What a claim comment did, from the server's `claim_result`: null for plain comments. */
export function claimResultText(result) {
  if (!result) return null;
  const n = result.item_number;
  switch (result.outcome) {
    case "claimed":
      return `claimed #${n}`;
    case "waitlisted":
      return `waitlist ${result.waitlist_position}`;
    case "refused":
      return REFUSALS[result.reason] ? REFUSALS[result.reason](n) : `no claim on #${n}`;
    default:
      return null;
  }
}

/**
 * The `<li>` of one comment, tagged when it made a claim; indexed in `app.commentEls`
 * unless `indexed` is false (a search result: a copy outside the feed's lists).
 */
export function commentEl(c, { indexed = true } = {}) {
  const claim = app.state.claimOfComment(c.id);
  const result = claimResultText(c.claim_result);
  const li = h(
    "li",
    { class: "comment", dataset: { id: c.id } },
    h(
      "div",
      { class: "c-meta" },
      h("span", { class: "c-author" }, c.author_name || c.author_id),
      timeEl(c.created_at),
      result ? h("span", { class: `c-result out-${c.claim_result.outcome}`, dataset: { outcome: c.claim_result.outcome } }, result) : null,
    ),
    h("p", { class: "c-text" }, c.text),
  );
  if (indexed) app.commentEls.set(c.id, li);
  if (claim) decorateClaimComment(li, claim);
  return li;
}

function decorateClaimComment(li, claim) {
  li.classList.add("is-claim");
  li.querySelector(".c-tag")?.remove();
  const label = claim.status === "waitlisted" ? `#${claim.item_number} waitlist ${claim.waitlist_position}` : `#${claim.item_number} ${claim.status}`;
  li.querySelector(".c-meta").append(h("span", { class: `c-tag tag-${claim.status}` }, label));
}

/** Tags the rendered comment that made `claim` with the claim's current status. */
export function markClaimComment(claim) {
  if (!claim.comment_id) return;
  const li = app.commentEls.get(claim.comment_id);
  if (li) decorateClaimComment(li, claim);
}

/**
 * Keeps `#feed` equal to the newest RENDER_CAP comments of the state: the i-th `<li>` is
 * `state.comments[i]`. A new comment usually goes on top and the oldest rendered one goes;
 * once history was paged in, that one moves to the top of `#older` instead, so the two
 * lists stay one run of comments without a gap or a repeat.
 */
export function renderCommentChange({ op, row, removedAt, insertedAt }) {
  const feed = byId("feed");
  const older = byId("older");
  const comments = app.state.comments;
  const inOlder = app.commentEls.get(row.id)?.parentElement === older;
  if (inOlder && insertedAt < 0) {
    // A paged-in comment changed or went: redo it where it is.
    const old = app.commentEls.get(row.id);
    if (op === "delete") {
      old.remove();
      app.commentEls.delete(row.id);
    } else {
      old.replaceWith(commentEl(row));
    }
  } else if (inOlder) {
    app.commentEls.get(row.id).remove();
    app.commentEls.delete(row.id);
  }
  if (removedAt >= 0 && removedAt < RENDER_CAP) {
    app.commentEls.get(row.id)?.remove();
    app.commentEls.delete(row.id);
  }
  if (insertedAt >= 0 && insertedAt < RENDER_CAP) {
    const el = commentEl(row);
    const before = feed.children[insertedAt] || null;
    feed.insertBefore(el, before);
    if (insertedAt === 0) {
      el.classList.add("fresh");
      setTimeout(() => el.classList.remove("fresh"), 1500);
    }
  }
  // Trim or refill the tail so the list holds exactly min(RENDER_CAP, kept) comments.
  while (feed.children.length > Math.min(RENDER_CAP, comments.length)) {
    const last = feed.lastElementChild;
    if (app.history.started) {
      older.prepend(last);
    } else {
      app.commentEls.delete(last.dataset.id);
      last.remove();
    }
  }
  while (feed.children.length < Math.min(RENDER_CAP, comments.length)) {
    const next = comments[feed.children.length];
    const paged = app.commentEls.get(next.id);
    feed.append(paged?.parentElement === older ? paged : commentEl(next));
  }
  renderOlderControl();
}

/** Forgets the paged-in history (a new snapshot or show): `#older` starts empty again. */
export function resetHistory() {
  app.history = { started: false, loading: false, done: false, epoch: app.history.epoch + 1 };
  for (const li of byId("older").children) app.commentEls.delete(li.dataset.id);
  byId("older").replaceChildren();
  byId("older-status").textContent = "";
  renderOlderControl();
}

/** Shows "Load older" while the server may hold comments older than the last one shown. */
export function renderOlderControl() {
  const button = byId("load-older");
  const s = app.state;
  const shown = shownCount();
  button.hidden = !s || s.seq == null || app.history.done || shown === 0 || shown >= s.commentCount;
  button.disabled = app.history.loading;
}

function shownCount() {
  return byId("feed").children.length + byId("older").children.length;
}

/** "Load older": the page of comments before the last one shown, appended under it. */
export async function loadOlder() {
  const { history, showId } = app;
  if (history.loading || history.done || !app.state) return;
  const last = byId("older").lastElementChild || byId("feed").lastElementChild;
  if (!last) return;
  history.started = true;
  history.loading = true;
  const status = byId("older-status");
  status.textContent = "Loading…";
  renderOlderControl();
  try {
    const query = new URLSearchParams({ before: last.dataset.id, limit: String(OLDER_PAGE) });
    const page = await api("GET", `/api/shows/${encodeURIComponent(showId)}/comments?${query}`);
    if (app.history !== history || app.showId !== showId) return;
    const older = byId("older");
    for (const c of page.comments) {
      // Dedupe by id: a comment may already be shown (live, or moved down from the top).
      if (!app.commentEls.has(c.id)) older.append(commentEl(c));
    }
    // A short page is the show's start; so is every counted comment being shown.
    if (page.comments.length < OLDER_PAGE || shownCount() >= app.state.commentCount) history.done = true;
    status.textContent = history.done ? "Start of the show: every comment is shown." : "";
  } catch (e) {
    status.textContent = "";
    reportError("Loading older comments", e);
  } finally {
    history.loading = false;
    if (app.history === history) renderOlderControl();
  }
}
