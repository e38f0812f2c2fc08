// A show's counters as the console prints them, from the library's ShowStore: shared by
// the show page (views/show.js) and the live show list (views/shows.js). The library
// counts as the analysts' `show_summary` view does (one definition: README, "One
// definition of every count"), so the console and `psql` never disagree.

import { formatCount } from "./dom.js";

/** The counters of `store` (null: none yet) as text: `{comments, claims, sold, waitlisted, paid, released}`. */
export function counterTexts(store) {
  const c = store ? store.counters() : { comments: 0, commentsExact: true, claims: 0, sold: 0, waitlisted: 0, paid: 0, released: 0 };
  return {
    // A snapshot from an older server may hold only the newest comments: then "at least".
    comments: formatCount(c.comments) + (c.commentsExact ? "" : "+"),
    commentsExact: c.commentsExact,
    claims: formatCount(c.claims),
    sold: formatCount(c.sold),
    waitlisted: formatCount(c.waitlisted),
    paid: formatCount(c.paid),
    released: formatCount(c.released),
  };
}
