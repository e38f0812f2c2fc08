// Keyboard shortcuts of a show's console: `/` search, `j` / `k` move through the claims
// on the board, `r` release and `p` mark paid the selected claim (each still asks in the
// dialog), `?` lists them. Keys typed into a field, or with Ctrl / Alt / Meta, are the
// field's and the browser's.

import { app } from "./app.js";
import { byId } from "./dom.js";
import { selectTab } from "./tabs.js";

function typing(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function dialogOpen() {
  return byId("confirm").open || byId("help").open;
}

/** The board's claim rows, top to bottom. */
function claimRows() {
  return [...byId("board").querySelectorAll("li.claim")];
}

/** Selects (and focuses) the claim `step` rows after the selected one. */
function moveSelection(step) {
  const rows = claimRows();
  if (!rows.length) return;
  selectTab("board");
  const at = rows.findIndex((li) => li.dataset.claim === app.selectedClaim);
  const next = rows[at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + step))];
  selectClaim(next);
}

/** Marks `li` the selected claim (the one `r` and `p` act on) and focuses it. */
export function selectClaim(li) {
  for (const el of byId("board").querySelectorAll("li.claim.selected")) el.classList.remove("selected");
  app.selectedClaim = li.dataset.claim;
  li.classList.add("selected");
  li.focus();
  li.scrollIntoView({ block: "nearest" });
}

/** Clicks the selected claim's `action` button (released / paid) when it has one. */
function act(action) {
  const li = byId("board").querySelector(`li.claim[data-claim="${CSS.escape(app.selectedClaim || "")}"]`);
  const button = li?.querySelector(`button[data-action="${action}"]`);
  if (button && !button.disabled) button.click();
}

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
  if (typing(e.target)) {
    if (e.key === "Escape" && e.target.id === "filter-q") e.target.blur();
    return;
  }
  if (e.key === "?") {
    e.preventDefault();
    if (!dialogOpen()) byId("help").showModal();
    return;
  }
  if (dialogOpen() || byId("console").hidden) return;
  const handlers = {
    "/": () => {
      selectTab("feed");
      byId("filter-q").focus();
    },
    j: () => moveSelection(1),
    k: () => moveSelection(-1),
    r: () => act("released"),
    p: () => act("paid"),
  };
  const handler = handlers[e.key];
  if (!handler) return;
  e.preventDefault();
  handler();
}

export function wireShortcuts() {
  document.addEventListener("keydown", onKey);
  byId("help-open").addEventListener("click", () => byId("help").showModal());
}
