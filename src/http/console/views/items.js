// The items pane: the table of the show's items (prices in the show's currency) and the
// form that creates or edits one. The form belongs to one show: it is emptied whenever a
// show opens, so an item typed for one show can never be saved to the next.

import { app } from "../app.js";
import { reportError, writeAndSee } from "../api.js";
import { canOperate } from "../auth.js";
import { byId, h } from "../dom.js";
import { minorDigits, price, showCurrency, toDecimalText, toMinor } from "../money.js";

/** How long "Saved item #n" stays under the form. */
const SAVED_SHOWN_MS = 6000;

let savedTimer = null;

/** The table row of one item; indexed in `app.itemRows`. */
export function itemRow(item) {
  const { holders } = app.state.claimsOfItem(item.item_number);
  const tr = h(
    "tr",
    { dataset: { item: item.item_number } },
    h("td", {}, `#${item.item_number}`),
    h("td", { class: "i-title" }, item.title),
    h("td", { class: "num" }, price(item.price_cents)),
    h("td", { class: "num" }, String(item.quantity)),
    h("td", { class: "num" }, String(holders.length)),
    h("td", {}, canOperate() ? h("button", { type: "button", class: "quiet", dataset: { edit: item.item_number }, "aria-label": `Edit item ${item.item_number}` }, "Edit") : ""),
  );
  app.itemRows.set(item.item_number, tr);
  return tr;
}

/** Redoes one item's row in place (or adds or removes it). */
export function renderItemRow(number) {
  const item = app.state.items.get(number);
  const old = app.itemRows.get(number);
  if (!item) {
    old?.remove();
    app.itemRows.delete(number);
    return;
  }
  const fresh = itemRow(item);
  if (old) return old.replaceWith(fresh);
  const after = [...app.itemRows.keys()].filter((n) => n > number).sort((a, b) => a - b)[0];
  byId("items").insertBefore(fresh, after === undefined ? null : app.itemRows.get(after));
}

/** Empties the form and its confirmation (a show opens: the form is that show's alone). */
export function resetItemForm() {
  byId("item-form").reset();
  clearTimeout(savedTimer);
  byId("item-saved").textContent = "";
  renderPriceField();
}

/** The price field follows the show's currency: its label and its step (JPY 1, USD 0.01). */
export function renderPriceField() {
  const currency = showCurrency();
  byId("item-currency").textContent = currency;
  byId("item-price").step = String(10 ** -minorDigits(currency));
}

/** Fills the item form with item `number` (its current values when it exists). */
export function fillItemForm(number) {
  const item = app.state?.items.get(number);
  byId("item-number").value = String(number);
  if (item) {
    byId("item-title").value = item.title;
    byId("item-price").value = toDecimalText(item.price_cents);
    byId("item-quantity").value = String(item.quantity);
  }
}

/** The item form's submit: creates or replaces the item, then says so under the form. */
export async function saveItem(e) {
  e.preventDefault();
  const showId = app.showId;
  const number = Number(byId("item-number").value);
  const body = {
    title: byId("item-title").value.trim(),
    price_cents: toMinor(byId("item-price").value),
    quantity: Number(byId("item-quantity").value),
  };
  const existed = app.state?.items.has(number);
  try {
    await writeAndSee("PUT", `/api/shows/${encodeURIComponent(showId)}/items/${number}`, body);
    if (app.showId !== showId) return;
    byId("item-form").reset();
    byId("item-number").focus();
    const title = body.title ? ` "${body.title}"` : "";
    byId("item-saved").textContent = `${existed ? "Updated" : "Saved"} item #${number}${title}: ${price(body.price_cents)}, quantity ${body.quantity}.`;
    clearTimeout(savedTimer);
    savedTimer = setTimeout(() => (byId("item-saved").textContent = ""), SAVED_SHOWN_MS);
    const row = app.itemRows.get(number);
    row?.classList.add("fresh");
    setTimeout(() => row?.classList.remove("fresh"), 1500);
  } catch (err) {
    reportError(`Saving item ${number}`, err);
  }
}

/** The items table's click handler: Edit fills the form with that item. */
export function onItemsClick(e) {
  const button = e.target.closest("button[data-edit]");
  if (!button) return;
  fillItemForm(Number(button.dataset.edit));
  byId("item-title").focus();
}
