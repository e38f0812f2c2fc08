// The claims board: one group per claimed item number, holders then waitlist, with
// Mark paid / Release buttons for operators.

import { app } from "../app.js";
import { announce } from "../announce.js";
import { reportError, writeAndSee } from "../api.js";
import { canOperate } from "../auth.js";
import { byId, h, timeEl } from "../dom.js";
import { confirmDialog } from "../frame.js";
import { enableWrite, writeProps } from "./status.js";

/** One item's group on the board: holders, waitlist, released; indexed in `app.groupEls`. */
export function groupEl(number) {
  const s = app.state;
  const { holders, waitlist, released } = s.claimsOfItem(number);
  const item = s.items.get(number);
  const quantity = s.quantityOf(number);
  const sold = holders.length;
  const section = h(
    "section",
    { class: "group", dataset: { item: number }, "aria-label": `Item ${number}` },
    h(
      "h3",
      {},
      h("span", { class: "g-num" }, `#${number}`),
      " ",
      h("span", { class: "g-title" }, item?.title || ""),
      h("span", { class: `g-count ${sold >= quantity ? "full" : ""}` }, `${sold} of ${quantity} sold`),
    ),
  );
  const list = h("ol", { class: "claims" });
  for (const c of holders) list.append(claimEl(c));
  // Place in line now (1 = next): the waitlisted claims of this item with a lower
  // position, plus one; the original position stays beside it.
  waitlist.forEach((c, i) => list.append(claimEl(c, i + 1)));
  section.append(list);
  if (released.length) {
    section.append(
      h("p", { class: "released" }, "Released: ", ...released.flatMap((c, i) => [i ? ", " : "", h("span", { class: "buyer", dataset: { claim: c.id, status: c.status } }, c.buyer_name || c.buyer_id)])),
    );
  }
  app.groupEls.set(number, section);
  return section;
}

function claimEl(c, placeInLine) {
  const name = c.buyer_name || c.buyer_id;
  const status =
    c.status === "waitlisted" ? `waitlist ${c.waitlist_position}` : c.status === "paid" ? "paid" : "claimed";
  const actions = [];
  if (canOperate()) {
    if (c.status === "claimed") {
      actions.push(h("button", { type: "button", ...writeProps(), dataset: { action: "paid", claim: c.id }, "aria-label": `Mark ${name} paid for item ${c.item_number}` }, "Mark paid"));
    }
    if (c.status === "claimed" || c.status === "waitlisted") {
      actions.push(h("button", { type: "button", class: "quiet", ...writeProps(), dataset: { action: "released", claim: c.id }, "aria-label": `Release ${name}'s claim on item ${c.item_number}` }, "Release"));
    }
  }
  return h(
    "li",
    { class: `claim st-${c.status}${app.selectedClaim === c.id ? " selected" : ""}`, tabindex: "-1", dataset: { claim: c.id, status: c.status } },
    h("span", { class: "buyer" }, name),
    h("span", { class: `tag tag-${c.status}` }, status),
    placeInLine ? h("span", { class: "place", dataset: { place: placeInLine } }, `place ${placeInLine} in line`) : null,
    timeEl(c.created_at),
    actions.length ? h("span", { class: "claim-actions" }, ...actions) : null,
  );
}

/** Redoes one item's group in place (or adds or removes it), keeping keyboard focus. */
export function renderItemGroup(number) {
  const board = byId("board");
  const old = app.groupEls.get(number);
  const { holders, waitlist, released } = app.state.claimsOfItem(number);
  if (!holders.length && !waitlist.length && !released.length) {
    old?.remove();
    app.groupEls.delete(number);
    return;
  }
  const fresh = groupEl(number);
  if (old) {
    // Keep keyboard focus on the same button across the re-render where it still exists.
    const focused = old.contains(document.activeElement) ? document.activeElement.dataset : null;
    const rowFocused = focused && document.activeElement.matches("li.claim");
    old.replaceWith(fresh);
    if (rowFocused) {
      fresh.querySelector(`li.claim[data-claim="${CSS.escape(focused.claim)}"]`)?.focus();
    } else if (focused?.claim) {
      const again = fresh.querySelector(`button[data-claim="${CSS.escape(focused.claim)}"][data-action="${CSS.escape(focused.action || "")}"]`) || fresh.querySelector("button");
      again?.focus();
    }
    return;
  }
  const after = [...app.groupEls.keys()].filter((n) => n > number).sort((a, b) => a - b)[0];
  board.insertBefore(fresh, after === undefined ? null : app.groupEls.get(after));
}

/** How long the Undo bar stays after a release: the server's UNDO_WINDOW_SECS default. */
const UNDO_SHOWN_MS = 10_000;

let undoTimer = null;

/**
 * The board's click handler: Mark paid and Release buttons, each after a confirmation in
 * the page's dialog. A release then offers Undo for a few seconds; the server gives the
 * unit back only while it is still free (never one a promotion gave the next buyer), and
 * says why not.
 */
export async function onBoardClick(e) {
  const button = e.target.closest("button[data-action]");
  if (!button) return;
  const { action, claim } = button.dataset;
  const row = app.state.claims.get(claim);
  const who = row ? `${row.buyer_name || row.buyer_id}'s claim on item ${row.item_number}` : "this claim";
  const question =
    action === "paid"
      ? `Mark ${who} paid? A paid claim cannot be released.`
      : `Release ${who}? The next buyer in line gets the unit.`;
  if (!(await confirmDialog(question, action === "paid" ? "Mark paid" : "Release"))) return;
  button.disabled = true;
  try {
    // Done once this page's feed shows the result (a promotion from the waitlist, too):
    // the board is redrawn from the feed, never from a guess.
    await writeAndSee("PATCH", `/api/claims/${encodeURIComponent(claim)}`, { status: action });
    if (action === "released") offerUndo(claim, who);
  } catch (err) {
    reportError(action === "paid" ? "Marking paid" : "Releasing the claim", err);
  } finally {
    // Usually redrawn by now; still there when the write changed nothing.
    enableWrite(button);
  }
}

/** Shows "Released …  Undo" for UNDO_SHOWN_MS. */
function offerUndo(claim, who) {
  const bar = byId("undo");
  byId("undo-text").textContent = `Released ${who}.`;
  bar.dataset.claim = claim;
  bar.hidden = false;
  clearTimeout(undoTimer);
  undoTimer = setTimeout(hideUndo, UNDO_SHOWN_MS);
}

export function hideUndo() {
  clearTimeout(undoTimer);
  byId("undo").hidden = true;
}

/** The Undo button: asks the server to give the released unit back. */
export async function undoRelease() {
  const claim = byId("undo").dataset.claim;
  hideUndo();
  if (!claim) return;
  try {
    await writeAndSee("POST", `/api/claims/${encodeURIComponent(claim)}/undo-release`);
  } catch (err) {
    reportError("Undoing the release", err);
  }
}

/** Announces a new claim or a promotion from the waitlist to screen readers. */
export function announceClaim({ op, row, previous }) {
  const name = row.buyer_name || row.buyer_id;
  if (op === "insert") {
    announce(row.status === "waitlisted" ? `${name} waitlisted ${row.waitlist_position} for item ${row.item_number}` : `${name} claimed item ${row.item_number}`);
  } else if (op === "update" && previous?.status === "waitlisted" && row.status === "claimed") {
    announce(`${name} promoted to claimed on item ${row.item_number}`);
  }
}
