// Screen-reader announcements: one polite aria-live region, fed in batches.

import { byId, h } from "./dom.js";

const pendingAnnouncements = [];
let announceTimer = null;

/**
 * Queues a message for the aria-live region. Messages are batched once a second, at most
 * three read out then "and N more": a claim storm must not bury a screen-reader user.
 */
export function announce(message) {
  pendingAnnouncements.push(message);
  if (announceTimer) return;
  announceTimer = setTimeout(() => {
    announceTimer = null;
    const shown = pendingAnnouncements.splice(0, 3);
    const more = pendingAnnouncements.length;
    pendingAnnouncements.length = 0;
    const text = shown.join(". ") + (more ? `. And ${more} more.` : ".");
    const region = byId("announcer");
    region.replaceChildren(h("p", {}, text));
  }, 700);
}
