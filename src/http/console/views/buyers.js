// The Buyers pane: per buyer, the units held, the waitlist places (with the place in
// line now), the total due and paid, "Mark cart paid" (after an in-page confirmation),
// and the show's carts as CSV. The carts are not in the feed, so the pane asks
// `GET /api/shows/{id}/buyers` again (debounced) after every claim or item change.

import { app } from "../app.js";
import { api, ApiError, reportError, writeAndSee } from "../api.js";
import { authHeaders, canOperate } from "../auth.js";
import { byId, h } from "../dom.js";
import { price } from "../money.js";
import { confirmDialog } from "../frame.js";
import { enableWrite, writeProps } from "./status.js";

/** Wait after a claim or item change before asking for the carts again. */
const REFRESH_MS = 300;

let refreshTimer = null;
/** Bumped per request: an answer older than the newest asked for is dropped. */
let generation = 0;

/** Wires the pane's buttons and the confirmation dialog. */
export function wireBuyers() {
  byId("buyers").addEventListener("click", onBuyersClick);
  byId("buyers-refresh").addEventListener("click", () => refreshBuyers());
  byId("carts-csv").addEventListener("click", downloadCarts);
}

/** Empties the pane (a new show). */
export function resetBuyers() {
  clearTimeout(refreshTimer);
  generation += 1;
  byId("buyers").replaceChildren();
  byId("buyers-empty").hidden = true;
}

/** Asks for the carts again soon (a claim or an item changed). */
export function scheduleBuyersRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshBuyers, REFRESH_MS);
}

/** Fetches the carts and redraws the pane. */
export async function refreshBuyers() {
  clearTimeout(refreshTimer);
  const showId = app.showId;
  if (!showId) return;
  const mine = ++generation;
  try {
    const body = await api("GET", `/api/shows/${encodeURIComponent(showId)}/buyers`);
    if (mine !== generation || app.showId !== showId) return;
    renderBuyers(body.buyers);
  } catch (e) {
    if (mine !== generation) return;
    // Said in the pane: the carts are a side view, and a role or scope may not see them.
    if (e.status === 401) reportError("Loading the buyers", e);
    byId("buyers").replaceChildren();
    byId("buyers-empty").hidden = false;
    byId("buyers-empty").textContent = `The buyers could not be loaded: ${e.message}.`;
  }
}

function renderBuyers(buyers) {
  const list = byId("buyers");
  // Keep keyboard focus on the same buyer's button across the redraw.
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.buyer : null;
  list.replaceChildren(...buyers.map(buyerEl));
  byId("buyers-empty").hidden = buyers.length > 0;
  byId("buyers-empty").textContent = "No buyers yet: a buyer appears with their first claim.";
  if (focused) list.querySelector(`button[data-buyer="${CSS.escape(focused)}"]`)?.focus();
}

function buyerEl(b) {
  const name = b.buyer_name || b.buyer_id;
  const due = b.total_due_cents > 0;
  return h(
    "li",
    { class: "cart", dataset: { buyer: b.buyer_id } },
    h(
      "div",
      { class: "cart-head" },
      h("span", { class: "buyer" }, name),
      name !== b.buyer_id ? h("span", { class: "muted" }, b.buyer_id) : null,
      h("span", { class: "cart-due", dataset: { due: b.total_due_cents } }, `Due ${price(b.total_due_cents)}`),
      b.total_paid_cents > 0 ? h("span", { class: "muted cart-paid" }, `paid ${price(b.total_paid_cents)}`) : null,
      canOperate() && due ? h("button", { type: "button", class: "quiet", ...writeProps(), dataset: { action: "pay", buyer: b.buyer_id, name }, "aria-label": `Mark ${name}'s cart paid` }, "Mark cart paid") : null,
    ),
    b.held.length
      ? h(
          "ul",
          { class: "cart-held" },
          ...b.held.map((i) =>
            h(
              "li",
              { dataset: { claim: i.claim_id, status: i.status } },
              `#${i.item_number} `,
              h("span", { class: "g-title" }, i.title || ""),
              " ",
              h("span", { class: "num" }, i.price_cents == null ? "no price" : price(i.price_cents)),
              " ",
              h("span", { class: `tag tag-${i.status}` }, i.status),
            ),
          ),
        )
      : null,
    b.waitlist.length
      ? h(
          "ul",
          { class: "cart-wait" },
          ...b.waitlist.map((w) =>
            h(
              "li",
              { dataset: { claim: w.claim_id } },
              `#${w.item_number} `,
              h("span", { class: "tag tag-waitlisted" }, `waitlist ${w.waitlist_position}`),
              " ",
              h("span", { class: "place" }, `place ${w.place_in_line} in line`),
            ),
          ),
        )
      : null,
  );
}

async function onBuyersClick(e) {
  const button = e.target.closest("button[data-action=pay]");
  if (!button) return;
  const { buyer, name } = button.dataset;
  const due = button.closest(".cart")?.querySelector(".cart-due")?.textContent || "";
  const ok = await confirmDialog(`Mark every unit ${name} holds unpaid as paid (${due})?`, "Mark cart paid");
  if (!ok) {
    button.focus();
    return;
  }
  button.disabled = true;
  try {
    // Done once this page's feed shows the payments, then the carts are asked again.
    await writeAndSee("POST", `/api/shows/${encodeURIComponent(app.showId)}/buyers/${encodeURIComponent(buyer)}/pay`);
    await refreshBuyers();
  } catch (err) {
    reportError("Marking the cart paid", err);
  } finally {
    enableWrite(button);
  }
}

/**
 * Downloads the show's carts as CSV: fetched with the page's sign-in (the session cookie
 * or the Authorization header) and handed to the browser as a Blob URL, so no credential
 * is ever in an address.
 */
async function downloadCarts() {
  const showId = app.showId;
  if (!showId) return;
  const button = byId("carts-csv");
  button.disabled = true;
  try {
    let r;
    try {
      r = await fetch(`/api/shows/${encodeURIComponent(showId)}/carts.csv`, { headers: authHeaders("GET"), cache: "no-store" });
    } catch {
      throw new ApiError(0, "network", "The server cannot be reached");
    }
    if (!r.ok) {
      const err = (await r.json().catch(() => null))?.error || {};
      throw new ApiError(r.status, err.code || "http", err.message || `HTTP ${r.status}`);
    }
    const url = URL.createObjectURL(await r.blob());
    const a = h("a", { href: url, download: `carts-${showId}.csv`, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (err) {
    reportError("Downloading carts.csv", err);
  } finally {
    button.disabled = false;
  }
}
