// The panes as tabs on a phone (the stylesheet shows one pane at a time below 700 px; on
// a wide screen the tabs are hidden and every pane shows). Arrow keys move between tabs,
// as the ARIA tabs pattern has it. A new claim while another tab is shown counts on the
// Claims tab, so it is never missed.

import { byId } from "./dom.js";

const TABS = ["feed", "board", "items", "buyers"];

/** Shows pane `name` (one of TABS) and marks its tab selected. */
export function selectTab(name, { focus = false } = {}) {
  byId("console").dataset.tab = name;
  for (const t of TABS) {
    const tab = byId(`tab-${t}`);
    tab.setAttribute("aria-selected", String(t === name));
    tab.tabIndex = t === name ? 0 : -1;
    if (t === name && focus) tab.focus();
  }
  if (name === "board") clearBoardBadge();
}

/** True when the claims board is on screen (every pane shows on a wide screen). */
export function boardVisible() {
  return getComputedStyle(byId("pane-tabs")).display === "none" || byId("console").dataset.tab === "board";
}

/** Counts a new claim on the Claims tab while the board is hidden. */
export function countOnBoardTab() {
  if (boardVisible()) return;
  const badge = byId("tab-board-new");
  const n = Number(badge.dataset.count || 0) + 1;
  badge.dataset.count = String(n);
  badge.textContent = String(n);
  badge.hidden = false;
  badge.setAttribute("aria-label", `${n} new`);
}

function clearBoardBadge() {
  const badge = byId("tab-board-new");
  badge.dataset.count = "0";
  badge.hidden = true;
}

export function wireTabs() {
  const list = byId("pane-tabs");
  list.addEventListener("click", (e) => {
    const tab = e.target.closest("[data-tab]");
    if (tab) selectTab(tab.dataset.tab);
  });
  list.addEventListener("keydown", (e) => {
    const at = TABS.indexOf(byId("console").dataset.tab);
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (step === undefined && e.key !== "Home" && e.key !== "End") return;
    e.preventDefault();
    const next = e.key === "Home" ? 0 : e.key === "End" ? TABS.length - 1 : (at + step + TABS.length) % TABS.length;
    selectTab(TABS[next], { focus: true });
  });
}
