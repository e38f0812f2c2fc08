// The items pane: the table of the show's items and the form that creates or edits one.

import { app } from "../app.js";
import { reportError, writeAndSee } from "../api.js";
import { canOperate } from "../auth.js";
import { byId, h, price } from "../dom.js";

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

/** Fills the item form with item `number` (its current values when it exists). */
export function fillItemForm(number) {
  const item = app.state?.items.get(number);
  byId("item-number").value = String(number);
  if (item) {
    byId("item-title").value = item.title;
    byId("item-price").value = (item.price_cents / 100).toFixed(2);
    byId("item-quantity").value = String(item.quantity);
  }
}

/** The item form's submit: creates or replaces the item. */
export async function saveItem(e) {
  e.preventDefault();
  const number = Number(byId("item-number").value);
  const body = {
    title: byId("item-title").value.trim(),
    price_cents: Math.round(Number(byId("item-price").value) * 100),
    quantity: Number(byId("item-quantity").value),
  };
  try {
    await writeAndSee("PUT", `/api/shows/${encodeURIComponent(app.showId)}/items/${number}`, body);
    byId("item-form").reset();
    byId("item-number").focus();
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
