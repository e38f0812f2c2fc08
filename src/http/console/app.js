// The page's own state, shared by the modules of the console: who is signed in, the open
// show's feed and data, and the DOM indexes the views keep so one change redoes one node.
// One object, mutated in place: the modules import it, none of them holds a copy.

/** The console's state. Everything starts empty: the router fills it. */
export const app = {
  /** How the page is signed in: "session" (the cookie), "token" (this tab's JWT), or null. */
  mode: null,
  /** The session as `GET /api/session` last told it (session mode), and the server's clock
   * minus ours when it did. */
  session: null,
  sessionSkewMs: 0,
  token: null,
  /** Who is signed in: a token's claims, or a session's (`{sub, role, shows, exp}`). */
  claims: null,
  /** True after the server answered 401 to this token: another tab's token may replace it. */
  tokenRejected: false,
  /** The open show's feed client and store (views/show.js), and DOM indexes (null on the show list). */
  client: null,
  state: null,
  /** The show list's feed client: live counters of the listed shows (views/shows.js). */
  listClient: null,
  showId: null,
  /** Rendered comment elements by comment id. */
  commentEls: new Map(),
  /** The comment history paged in under the live feed (views/comments.js): `started` once
   * the first page was asked for (from then on comments leaving the live list move down
   * into it), `loading` while a page is on its way, `done` at the show's first comment;
   * replaced (a new object) on every snapshot, so a late page for an old one is dropped. */
  history: { started: false, loading: false, done: false, epoch: 0 },
  /** The open search (views/search.js): `{filter, rows, fresh, done, loading, last}`, null: live feed. */
  search: null,
  /** The claim `j` / `k` selected on the board (shortcuts.js): `r` and `p` act on it. */
  selectedClaim: null,
  /** Claims-board groups by item number. */
  groupEls: new Map(),
  /** Items-table rows by item number. */
  itemRows: new Map(),
  /** The last connection status shown (views/status.js), and the timer redrawing its countdown. */
  connStatus: null,
  statusTimer: null,
  /** Whether this view's feed was ever current, and when it stopped being so (null: it is):
   * the outage banner's "last update" (views/status.js). */
  everCurrent: false,
  lastCurrentAt: null,
  /** The BroadcastChannel tabs share tokens on (auth.js); null where unsupported. */
  authChannel: null,
};
