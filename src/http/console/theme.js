// Light or dark: the operator's choice (the top bar's toggle, kept in localStorage), else
// the system's `prefers-color-scheme`, followed live. The stylesheet keys every colour
// off `<html data-theme>`.

import { byId } from "./dom.js";

const THEME_KEY = "showfeed.theme";
const CHOICES = ["auto", "dark", "light"];
const systemDark = globalThis.matchMedia?.("(prefers-color-scheme: dark)");

function choice() {
  const stored = localStorage.getItem(THEME_KEY);
  return CHOICES.includes(stored) ? stored : "auto";
}

function apply() {
  const chosen = choice();
  const theme = chosen === "auto" ? (systemDark?.matches ? "dark" : "light") : chosen;
  document.documentElement.dataset.theme = theme;
  const button = byId("theme-toggle");
  button.textContent = `Theme: ${chosen}`;
  button.setAttribute("aria-label", `Theme: ${chosen}${chosen === "auto" ? ` (now ${theme})` : ""}. Change theme`);
}

/** Applies the stored theme, follows the system while on auto, and wires the toggle. */
export function startTheme() {
  apply();
  systemDark?.addEventListener("change", apply);
  byId("theme-toggle").addEventListener("click", () => {
    const next = CHOICES[(CHOICES.indexOf(choice()) + 1) % CHOICES.length];
    localStorage.setItem(THEME_KEY, next);
    apply();
  });
}
