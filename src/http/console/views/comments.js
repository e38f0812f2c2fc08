// The comment feed: newest first, at most RENDER_CAP rendered, claim comments tagged
// with their claim's status and with what the `sold N` did (`claim_result`).

import { app } from "../app.js";
import { byId, h, timeEl } from "../dom.js";

/** Comments rendered at most; older ones stay in memory (state.js) or the database. */
export const RENDER_CAP = 500;

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

/** The `<li>` of one comment, tagged when it made a claim; indexed in `app.commentEls`. */
export function commentEl(c) {
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
  app.commentEls.set(c.id, li);
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
 * Keeps the list equal to the newest RENDER_CAP comments of the state: the i-th `<li>` is
 * `state.comments[i]`. A new comment usually goes on top and the oldest rendered one goes.
 */
export function renderCommentChange({ row, removedAt, insertedAt }) {
  const feed = byId("feed");
  const comments = app.state.comments;
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
    app.commentEls.delete(last.dataset.id);
    last.remove();
  }
  while (feed.children.length < Math.min(RENDER_CAP, comments.length)) {
    feed.append(commentEl(comments[feed.children.length]));
  }
}
