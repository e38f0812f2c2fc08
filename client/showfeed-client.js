// showfeed-client: the live state of showfeed shows in a browser, exact across reconnects,
// nodes and tabs. One dependency-free ES module; see README.md for the API and the wire
// formats it relies on.
//
// How it stays exact: every change of a show carries the show's gapless `seq`. Per show,
// a change at or below the store's seq is dropped (a replay, a second source), one beyond
// seq + 1 is never applied (something was missed: resume instead), and an `initial`
// replaces the show's state. Resuming sends the positions the stores are at, so the
// server replays exactly what is missing, on whichever node answers.
//
// How it stays cheap: one tab per origin (the holder of a Web Lock) holds the one
// connection, multiplexing the union of the shows every tab wants, and rebroadcasts what
// it applies on a BroadcastChannel; the other tabs apply the same events by seq.

/** Names of the change events (`<entity>.<verb>`), as the stream and the long-poll carry them. */
export const CHANGE_EVENTS = [
  "comment.created",
  "comment.updated",
  "comment.deleted",
  "claim.created",
  "claim.updated",
  "claim.deleted",
  "item.created",
  "item.updated",
  "item.deleted",
  "show.updated",
];

const VERB = { insert: "created", update: "updated", delete: "deleted" };

/** The event name a change travels under, e.g. `claim.updated`. */
export function eventNameOf(change) {
  return `${change.entity}.${VERB[change.op] || change.op}`;
}

// ---- backoff ---------------------------------------------------------------------------

/** Default reconnect pacing: first delay, cap, and SSE failures before long-polling meanwhile. */
export const DEFAULT_BACKOFF = { firstMs: 500, maxMs: 10_000, pollAfter: 3 };

/**
 * Delay before reconnect attempt `attempt` (1-based): doubling from `firstMs`, capped at
 * `maxMs`, with jitter in [½, 1] of that so clients cut off together do not return together.
 */
export function backoffDelay(attempt, { firstMs, maxMs } = DEFAULT_BACKOFF, random = Math.random) {
  const ceiling = Math.min(maxMs, firstMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (0.5 + random() * 0.5));
}

// ---- the SSE wire format ---------------------------------------------------------------

/**
 * An incremental parser of `text/event-stream` (HTML spec, "Parsing an event stream"):
 * feed it decoded text in chunks cut anywhere; it calls `onEvent({type, data, lastEventId})`
 * per dispatched event, `onRetry(ms)` for a valid `retry:` and `onComment(text)` for a
 * comment line. Lines end at CRLF, LF or CR (a CR at a chunk's end waits for the next
 * chunk's LF). The byte-order mark is the decoder's business (TextDecoder drops it).
 */
export class SseParser {
  constructor({ onEvent, onRetry = () => {}, onComment = () => {} }) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
    this.onComment = onComment;
    /** The start of a line whose end has not arrived yet. */
    this.partial = "";
    /** The previous chunk ended in CR: a LF opening this one ends no second line. */
    this.afterCR = false;
    this.eventType = "";
    this.data = "";
    this.idBuffer = "";
    /** The last event id the stream set (kept across events, as EventSource keeps it). */
    this.lastEventId = "";
  }

  /** Parses the next piece of the stream. */
  push(text) {
    let start = 0;
    if (this.afterCR && text.charCodeAt(0) === 10) start = 1;
    this.afterCR = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.partial + text.slice(start, i);
      this.partial = "";
      if (c === 13) {
        if (i + 1 === text.length) this.afterCR = true;
        else if (text.charCodeAt(i + 1) === 10) i += 1;
      }
      start = i + 1;
      this.line(line);
    }
    this.partial += text.slice(start);
  }

  line(line) {
    if (line === "") return this.dispatch();
    if (line.charCodeAt(0) === 58) return this.onComment(line.slice(1)); // ":"
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "event") this.eventType = value;
    else if (field === "data") this.data += `${value}\n`;
    else if (field === "id" && !value.includes("\0")) this.idBuffer = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.onRetry(Number(value));
  }

  dispatch() {
    this.lastEventId = this.idBuffer;
    const { data, eventType } = this;
    this.data = "";
    this.eventType = "";
    if (data === "") return;
    this.onEvent({ type: eventType || "message", data: data.slice(0, -1), lastEventId: this.lastEventId });
  }
}

// ---- the multiplexed stream's vector id ------------------------------------------------

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
export function fnv1a32(text) {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash;
}

/** The fingerprint of a show list (request order matters): 8 lowercase hex digits. */
export function showsFingerprint(showIds) {
  return fnv1a32(showIds.join(",")).toString(16).padStart(8, "0");
}

/**
 * The SSE id of the multiplexed stream for `showIds` at `positions` (one per show, in the
 * same order: the last seq applied, or null for none, which asks a fresh `initial`):
 * `<fingerprint>.<p1>.<p2>...`, positions in base 36, `-` for none.
 */
export function encodeVectorId(showIds, positions) {
  const parts = positions.map((p) => (p == null ? "-" : p.toString(36)));
  return [showsFingerprint(showIds), ...parts].join(".");
}

/**
 * The positions a vector id holds for `showIds` (an array, null for `-`), or null when it
 * is not an id of this list (another fingerprint, another length, garbage): the server
 * ignores such an id too, and every show starts afresh.
 */
export function decodeVectorId(id, showIds) {
  if (typeof id !== "string") return null;
  const [fingerprint, ...parts] = id.split(".");
  if (fingerprint !== showsFingerprint(showIds) || parts.length !== showIds.length) return null;
  const positions = [];
  for (const part of parts) {
    if (part === "-") positions.push(null);
    else if (/^[0-9a-z]{1,11}$/.test(part)) positions.push(parseInt(part, 36));
    else return null;
  }
  return positions.every((p) => p === null || Number.isSafeInteger(p)) ? positions : null;
}

// ---- the state store -------------------------------------------------------------------

/** Comments a store keeps by default (newest first); older ones are only counted. */
export const COMMENTS_KEPT = 1000;

/** Newest first: by platform time, then id (the snapshot's own order). */
function newerFirst(a, b) {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) return tb - ta;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * One show's state: built from an `initial` snapshot, then changed by each change in seq
 * order. `offer(change)` is the exactness rule; `subscribe`/`getSnapshot` let a UI
 * framework (React's useSyncExternalStore) follow it.
 */
export class ShowStore {
  constructor(showId, { commentsKept = COMMENTS_KEPT } = {}) {
    this.showId = showId;
    this.commentsKept = commentsKept;
    /** Seq of the last change applied (the snapshot's at first); null: no state yet. */
    this.seq = null;
    this.show = null;
    /** Newest first, at most `commentsKept`. */
    this.comments = [];
    /** Claims by id (a snapshot holds every claim of the show). */
    this.claims = new Map();
    /** Claims by the id of the comment that made them. */
    this.claimByComment = new Map();
    /** Items by item_number. */
    this.items = new Map();
    /** All comments of the show (the snapshot's count, plus created, less deleted). */
    this.commentCount = 0;
    /** False when the count is a lower bound (a snapshot from an older server). */
    this.commentCountExact = true;
    /** Why this show cannot be followed (`{kind, message}`), or null. */
    this.error = null;
    /** Bumped on every change of the store: what getSnapshot returns. */
    this.version = 0;
    this.listeners = new Set();
    // Bound, so they can be handed over as they are (`useSyncExternalStore(store.subscribe, ...)`).
    this.subscribe = (listener) => {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    };
    this.getSnapshot = () => this.version;
  }

  /** Replaces everything with a snapshot `{seq, show, comment_count, comments, claims, items}`. */
  load(snap) {
    this.seq = snap.seq;
    this.show = snap.show;
    this.comments = [...(snap.comments || [])].sort(newerFirst).slice(0, this.commentsKept);
    this.claims = new Map((snap.claims || []).map((c) => [c.id, c]));
    this.claimByComment = new Map();
    for (const c of this.claims.values()) if (c.comment_id) this.claimByComment.set(c.comment_id, c);
    this.items = new Map((snap.items || []).map((i) => [i.item_number, i]));
    if (snap.meta) {
      // A snapshot handed over by another tab carries that tab's counts.
      this.commentCount = snap.meta.commentCount;
      this.commentCountExact = snap.meta.commentCountExact;
    } else if (Number.isInteger(snap.comment_count)) {
      this.commentCount = snap.comment_count;
      this.commentCountExact = true;
    } else {
      this.commentCount = this.comments.length;
      this.commentCountExact = false;
    }
    this.error = null;
    this.changed();
  }

  /** This state as a snapshot, to hand to a tab that joins. */
  snapshot() {
    return {
      seq: this.seq,
      show: this.show,
      comment_count: this.commentCount,
      comments: this.comments,
      claims: [...this.claims.values()],
      items: [...this.items.values()],
      meta: { commentCount: this.commentCount, commentCountExact: this.commentCountExact },
    };
  }

  /**
   * The exactness rule. Applies `change` if it is the next one and returns
   * `{outcome: "applied", effect}`; otherwise nothing changes and the outcome says why:
   * `"old"` (at or below seq: already applied), `"gap"` (beyond seq + 1: something is
   * missing, resume), `"early"` (no state yet: the coming `initial` covers it).
   */
  offer(change) {
    if (this.seq === null) return { outcome: "early" };
    if (change.seq <= this.seq) return { outcome: "old" };
    if (change.seq !== this.seq + 1) return { outcome: "gap" };
    const effect = this.apply(change);
    this.changed();
    return { outcome: "applied", effect };
  }

  /** Applies one change (seq already checked); returns what changed: `{entity, op, row, ...}`. */
  apply(change) {
    this.seq = change.seq;
    const { op, data: row } = change;
    switch (change.entity) {
      case "comment":
        return { entity: "comment", op, row, ...this.applyComment(op, row) };
      case "claim": {
        const previous = this.claims.get(row.id);
        if (op === "delete") this.claims.delete(row.id);
        else this.claims.set(row.id, row);
        if (previous?.comment_id && previous.comment_id !== row.comment_id) this.claimByComment.delete(previous.comment_id);
        if (row.comment_id) {
          if (op === "delete") this.claimByComment.delete(row.comment_id);
          else this.claimByComment.set(row.comment_id, row);
        }
        return { entity: "claim", op, row, previous };
      }
      case "item": {
        const previous = this.items.get(row.item_number);
        if (op === "delete") this.items.delete(row.item_number);
        else this.items.set(row.item_number, row);
        return { entity: "item", op, row, previous };
      }
      case "show":
        if (op !== "delete") this.show = row;
        return { entity: "show", op, row };
      default:
        return { entity: change.entity, op, row };
    }
  }

  /** Returns `{removedAt, insertedAt}`: positions in `comments` (-1 for none). */
  applyComment(op, row) {
    const removedAt = this.comments.findIndex((c) => c.id === row.id);
    if (removedAt >= 0) this.comments.splice(removedAt, 1);
    let insertedAt = -1;
    if (op === "delete") {
      // A comment older than those kept is still counted.
      if (removedAt >= 0 || this.commentCount > this.comments.length) this.commentCount -= 1;
    } else {
      if (op === "insert" && removedAt < 0) this.commentCount += 1;
      insertedAt = this.insertionPoint(row);
      if (insertedAt < this.commentsKept) this.comments.splice(insertedAt, 0, row);
      else insertedAt = -1;
      if (this.comments.length > this.commentsKept) this.comments.length = this.commentsKept;
    }
    return { removedAt, insertedAt };
  }

  /** Where a comment goes in the newest-first list (usually 0: it just arrived). */
  insertionPoint(row) {
    let lo = 0;
    let hi = this.comments.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newerFirst(this.comments[mid], row) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Marks the show as not followable (denied, not found, closed). */
  fail(error) {
    this.error = error;
    this.changed();
  }

  changed() {
    this.version += 1;
    for (const listener of [...this.listeners]) listener();
  }

  /** Claims of one item: holders (claimed/paid) by time, waitlist by position, released. */
  claimsOfItem(number) {
    const holders = [];
    const waitlist = [];
    const released = [];
    for (const c of this.claims.values()) {
      if (c.item_number !== number) continue;
      if (c.status === "waitlisted") waitlist.push(c);
      else if (c.status === "released") released.push(c);
      else holders.push(c);
    }
    holders.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at));
    waitlist.sort((a, b) => a.waitlist_position - b.waitlist_position);
    released.sort((a, b) => Date.parse(a.updated_at) - Date.parse(b.updated_at));
    return { holders, waitlist, released };
  }

  /** Item numbers that have claims, ascending. */
  claimedItemNumbers() {
    const numbers = new Set();
    for (const c of this.claims.values()) numbers.add(c.item_number);
    return [...numbers].sort((a, b) => a - b);
  }

  /** Units a number has: the item's quantity, or 1 without an item row (the contract). */
  quantityOf(number) {
    const item = this.items.get(number);
    return item ? item.quantity : 1;
  }

  /** The claim a comment made, or null. */
  claimOfComment(commentId) {
    return this.claimByComment.get(commentId) || null;
  }

  /** Counts for a dashboard: comments, live claims (claimed + waitlisted + paid), units sold, ... */
  counters() {
    let claimed = 0;
    let waitlisted = 0;
    let paid = 0;
    let released = 0;
    for (const c of this.claims.values()) {
      if (c.status === "claimed") claimed += 1;
      else if (c.status === "waitlisted") waitlisted += 1;
      else if (c.status === "paid") paid += 1;
      else if (c.status === "released") released += 1;
    }
    // The definitions of the analysts' `show_summary` view (sql/views/show_summary.sql):
    // `claims` is every claim made, released ones included.
    return {
      comments: this.commentCount,
      commentsExact: this.commentCountExact,
      claims: this.claims.size,
      sold: claimed + paid,
      waitlisted,
      paid,
      released,
    };
  }
}

// ---- errors and tokens -----------------------------------------------------------------

/** A failed request or a feed that stopped: HTTP `status` (0: no answer), the server's `code`. */
export class ShowfeedError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ShowfeedError";
    this.status = status;
    this.code = code;
  }
}

/** The payload of a JWT (not verified: the server does that), or null. */
export function decodeToken(token) {
  try {
    const part = token.split(".")[1];
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

function tokenExpired(token) {
  const exp = decodeToken(token)?.exp;
  return typeof exp === "number" && exp * 1000 <= Date.now();
}

/** The ShowfeedError of a failed response, from its JSON error body when it has one. */
async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not our JSON: the status alone
  }
  const e = body?.error || {};
  return new ShowfeedError(response.status, e.code || "http", e.message || `HTTP ${response.status}`);
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const UUID_ONLY = new RegExp(`^${UUID.source}$`);

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function warn(message, context) {
  console.warn(`[showfeed] ${message}`, context ?? "");
}

// ---- requests --------------------------------------------------------------------------

/** A GET URL longer than this goes as POST (the multiplexed routes take both). */
const MAX_GET_URL = 4000;

/**
 * How this client talks to the server: the base URL and the auth mode (`{token}`,
 * `{getToken}`, `{token, transport: "query"}` or `{cookie: true}`).
 */
class Http {
  constructor(baseUrl, auth) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.auth = auth;
    /** The token used last (for `getToken`: the one it gave). */
    this.token = auth.token ?? null;
  }

  get usesEventSource() {
    return this.auth.transport === "query";
  }

  /** The token to send now (asking `getToken` afresh), or null in cookie mode. */
  async currentToken() {
    if (this.auth.getToken) this.token = await this.auth.getToken();
    return this.token;
  }

  /** Fetch options with this client's credentials. */
  async init(method, headers = {}, body) {
    const token = await this.currentToken();
    const init = { method, headers: { ...headers }, cache: "no-store" };
    if (token) init.headers.Authorization = `Bearer ${token}`;
    if (this.auth.cookie) {
      init.credentials = "include";
      // The server refuses a cookie-authenticated write without it (CSRF: a form cannot
      // set a header, and another origin's fetch that sets one needs a preflight).
      if (method !== "GET" && method !== "HEAD") init.headers["X-Showfeed-CSRF"] = "1";
    }
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return init;
  }

  url(path) {
    return this.baseUrl + path;
  }

  /** A JSON request; the body of a 2xx answer, else a thrown ShowfeedError. */
  async json(method, path, body, signal) {
    const init = await this.init(method, {}, body);
    let response;
    try {
      response = await fetch(this.url(path), { ...init, signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new ShowfeedError(0, "network", "the server cannot be reached");
    }
    if (!response.ok) throw await errorOf(response);
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    const seq = response.headers.get("X-Showfeed-Seq");
    if (json && typeof json === "object" && !Array.isArray(json) && json.seq === undefined && seq !== null) {
      json.seq = Number(seq);
    }
    return json;
  }

  /**
   * The stream request for `shows` at `positions`: `{url, method, body, lastEventId}`.
   * One show uses the single-show route (its id is the plain seq); more use the
   * multiplexed one (a vector id), as POST when the list would make a long URL.
   */
  streamRequest(shows, positions) {
    if (shows.length === 1) {
      const seq = positions[0];
      return {
        url: this.url(`/api/shows/${encodeURIComponent(shows[0])}/stream`),
        method: "GET",
        lastEventId: seq == null ? null : String(seq),
      };
    }
    const lastEventId = encodeVectorId(shows, positions);
    const url = this.url(`/api/stream?shows=${shows.join(",")}`);
    if (url.length <= MAX_GET_URL || this.usesEventSource) return { url, method: "GET", lastEventId };
    return { url: this.url("/api/stream"), method: "POST", body: { shows, last_event_id: lastEventId }, lastEventId };
  }

  /**
   * One long-poll for `shows` at `positions`, waiting up to `wait` seconds: resolves to
   * `{events: [{event, data}], more}` in the stream's terms, whichever route served it.
   */
  async poll(shows, positions, wait, signal) {
    if (shows.length === 1) {
      const after = positions[0] ?? -1;
      const page = await this.json("GET", `/api/shows/${encodeURIComponent(shows[0])}/changes?after=${after}&wait=${wait}`, undefined, signal);
      const events = page.initial ? [{ event: "initial", data: page.initial }] : [];
      for (const change of page.changes) events.push({ event: eventNameOf(change), data: change });
      return { events, more: page.more };
    }
    const lastEventId = encodeVectorId(shows, positions);
    const query = `/api/changes?shows=${shows.join(",")}&last_event_id=${encodeURIComponent(lastEventId)}&wait=${wait}`;
    const page =
      this.url(query).length <= MAX_GET_URL
        ? await this.json("GET", query, undefined, signal)
        : await this.json("POST", "/api/changes", { shows, last_event_id: lastEventId, wait }, signal);
    return { events: page.events, more: false };
  }
}

// ---- the connection --------------------------------------------------------------------

/** A stream that ran this long counts as working: its drop restarts the failure count. */
const STABLE_STREAM_MS = 10_000;
/** Seconds a long-poll waits for a change. */
const POLL_WAIT_SECS = 25;

/**
 * The one connection of the leading tab: a stream (or, as a fallback, long-polls)
 * covering a set of shows, resumed from the client's stores. It calls the client's
 * `deliver(event, data)` per event, `connectionStatus(status)` as it goes,
 * `showFailed(show, error)` when one show may not be read and `fatal(error)` when none
 * can.
 */
class Connection {
  constructor(client) {
    this.client = client;
    this.http = client.http;
    this.options = client.options;
    /** The shows the current (or next) connection covers, in request order. */
    this.shows = [];
    this.running = false;
    /** Ends the open stream (fetch or EventSource); null while none is open. */
    this.closeStream = null;
    this.streamLive = false;
    this.openedAt = 0;
    /** SSE failures in a row; restarted when a stream that ran a while drops. */
    this.failures = 0;
    /** The server's `retry:` hint: the least we wait before reconnecting. */
    this.retryMs = 0;
    this.retryTimer = null;
    this.nextTryAt = null;
    this.polling = false;
    this.pollAbort = null;
    this.pollHealthy = false;
    this.offline = false;
    this.watchdog = null;
    this.lastByteAt = 0;
    /** The last status reported (shared with followers that join). */
    this.status = { state: "connecting" };
  }

  /** Covers `shows` from now on: reopens at once (resuming every show) when the set changed. */
  setShows(shows) {
    const same = shows.length === this.shows.length && shows.every((s, i) => s === this.shows[i]);
    this.shows = shows;
    if (!this.running || same) return;
    this.restart();
  }

  start() {
    this.running = true;
    this.restart();
  }

  stop() {
    this.running = false;
    this.endStream();
    this.stopPolling();
    clearTimeout(this.retryTimer);
  }

  /** Network came back: try again now rather than at the backoff's pace (a live stream stays). */
  online() {
    const wasOffline = this.offline;
    this.offline = false;
    if (this.running && (wasOffline || !this.streamLive)) this.restart();
  }

  /**
   * "Retry now": connects at once instead of waiting out the backoff (a live stream stays;
   * the failure count stays too, so a retry that fails again keeps the backoff's pace).
   */
  retryNow() {
    if (!this.running || this.streamLive) return;
    this.offline = false;
    this.restart();
  }

  /** Network gone: nothing to try until it returns (a follower's leader says the same). */
  wentOffline() {
    if (!this.running) return;
    this.offline = true;
    this.endStream();
    this.stopPolling();
    clearTimeout(this.retryTimer);
    this.report({ state: "reconnecting", attempt: this.failures, nextTryAt: null, reason: "offline" });
  }

  restart() {
    this.endStream();
    this.stopPolling();
    clearTimeout(this.retryTimer);
    if (!this.running || this.offline) return;
    if (this.shows.length === 0) return this.report({ state: "connecting", reason: "no shows" });
    if (this.options.forcePoll) return this.startPolling();
    this.report({ state: "connecting" });
    this.connect();
  }

  report(status) {
    this.client.connectionStatus(status);
  }

  positions() {
    return this.shows.map((s) => this.client.positionOf(s));
  }

  // ---- the stream ----------------------------------------------------------------------

  async connect() {
    this.endStream();
    if (!this.running || this.offline) return;
    const shows = this.shows;
    if (shows.length === 0) return;
    const request = this.http.streamRequest(shows, this.positions());
    if (this.http.usesEventSource) return this.openEventSource(request, shows);
    const abort = new AbortController();
    this.closeStream = () => abort.abort();
    try {
      const init = await this.http.init(request.method, { Accept: "text/event-stream" }, request.body);
      if (request.lastEventId !== null) init.headers["Last-Event-ID"] = request.lastEventId;
      const response = await fetch(request.url, { ...init, signal: abort.signal });
      if (abort.signal.aborted) return;
      if (!response.ok) return this.streamFailed(await errorOf(response), shows);
      this.streamOpened();
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser({
        onEvent: (e) => this.onStreamEvent(e, () => abort.abort()),
        onRetry: (ms) => (this.retryMs = ms),
      });
      for (;;) {
        const { value, done } = await reader.read();
        if (done || abort.signal.aborted) break;
        this.lastByteAt = Date.now();
        parser.push(value);
      }
      if (!abort.signal.aborted) this.streamFailed(new ShowfeedError(0, "dropped", "the stream ended"), shows);
    } catch (e) {
      if (abort.signal.aborted) return;
      const error = e instanceof ShowfeedError ? e : new ShowfeedError(0, "network", "the server cannot be reached");
      this.streamFailed(error, shows);
    }
  }

  /** EventSource (query-token auth): it cannot say why it failed, so a fetch asks. */
  openEventSource(request, shows) {
    const url = new URL(request.url, location.href);
    url.searchParams.set("access_token", this.http.token);
    if (request.lastEventId !== null) url.searchParams.set("last_event_id", request.lastEventId);
    const es = new EventSource(url);
    let closed = false;
    const close = () => {
      closed = true;
      es.close();
    };
    this.closeStream = close;
    es.onopen = () => !closed && this.streamOpened();
    const onEvent = (e) => !closed && this.onStreamEvent({ type: e.type, data: e.data }, close);
    for (const name of ["initial", "auth.expired", ...CHANGE_EVENTS]) es.addEventListener(name, onEvent);
    es.onerror = async () => {
      if (closed) return;
      close();
      this.streamFailed(await this.diagnose(request), shows);
    };
  }

  /** The status a stream request gets now (opened with fetch, then dropped at once). */
  async diagnose(request) {
    const abort = new AbortController();
    try {
      const init = await this.http.init(request.method, { Accept: "text/event-stream" }, request.body);
      const response = await fetch(request.url, { ...init, signal: abort.signal });
      const error = response.ok ? new ShowfeedError(0, "dropped", "the stream dropped") : await errorOf(response);
      abort.abort();
      return error;
    } catch {
      return new ShowfeedError(0, "network", "the server cannot be reached");
    }
  }

  streamOpened() {
    this.streamLive = true;
    this.openedAt = Date.now();
    this.lastByteAt = Date.now();
    this.stopPolling();
    this.armWatchdog();
    this.report({ state: "live" });
  }

  /**
   * The heartbeat watchdog: a stream silent (not even a keep-alive comment) for twice the
   * server's heartbeat is dead, whatever TCP says; end it and reconnect. The fetch reader
   * sees every byte; EventSource hides comments, so it runs only with the fetch reader.
   */
  armWatchdog() {
    clearInterval(this.watchdog);
    if (this.http.usesEventSource) return;
    const limit = 2 * this.options.heartbeatMs;
    this.watchdog = setInterval(() => {
      if (this.streamLive && Date.now() - this.lastByteAt > limit) {
        warn("stream silent for two heartbeats; reconnecting", { silentMs: Date.now() - this.lastByteAt });
        this.streamFailed(new ShowfeedError(0, "silent", "the stream went silent"), this.shows);
      }
    }, Math.max(250, this.options.heartbeatMs / 2));
  }

  onStreamEvent(event, close) {
    if (event.type === "auth.expired") {
      close();
      return this.client.tokenFailed(new ShowfeedError(401, "expired", "the token expired"));
    }
    let data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return warn(`unparsable ${event.type} event`, e);
    }
    if (!this.client.deliver(event.type, data)) {
      // A gap (never expected from the server): resume from what the stores hold.
      warn("gap in the stream; resuming", { event: event.type, seq: data.seq });
      close();
      this.connect();
    }
  }

  endStream() {
    clearInterval(this.watchdog);
    this.closeStream?.();
    this.closeStream = null;
    this.streamLive = false;
  }

  /** The stream could not open or dropped: a show to leave out, a fatal error, or retry later. */
  streamFailed(error, shows) {
    const wasLive = this.streamLive;
    this.endStream();
    if (!this.running || this.offline || shows !== this.shows) return;
    if (this.handleRefusal(error, shows)) return;
    const stable = wasLive && Date.now() - this.openedAt > STABLE_STREAM_MS;
    this.failures = stable ? 1 : this.failures + 1;
    // The server's `retry:` hint is honoured, but never past the backoff's cap: an operator
    // waits at most `maxMs` for the next try.
    const delay = Math.min(this.options.backoff.maxMs, Math.max(backoffDelay(this.failures, this.options.backoff), this.retryMs));
    this.nextTryAt = Date.now() + delay;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    warn("stream failed; reconnecting", { attempt: this.failures, reason: error.message, inMs: delay });
    if (this.failures >= this.options.backoff.pollAfter && !this.polling) this.startPolling();
    if (this.polling && this.pollHealthy) this.reportPolling();
    else this.report({ state: "reconnecting", attempt: this.failures, nextTryAt: this.nextTryAt, reason: error.message });
  }

  /**
   * A 401, 403 or 404: true when handled. 401 is the token's (expired or denied); a 403 or
   * 404 naming one show (the multiplexed routes name the first) drops that show and goes
   * on with the others; one that names none stops the feed.
   */
  handleRefusal(error, shows) {
    if (error.status === 401) {
      this.client.tokenFailed(error);
      return true;
    }
    if (error.status !== 403 && error.status !== 404 && error.status !== 400) return false;
    // Subscribe checks ids, so a 400 of the multiplexed routes is a list beyond the cap.
    const kind = error.status === 404 || (error.status === 400 && shows.length === 1) ? "not-found" : "denied";
    const named = error.message.match(UUID)?.[0]?.toLowerCase();
    const show = shows.length === 1 ? shows[0] : error.status === 400 ? null : shows.find((s) => s === named);
    if (show) this.client.showFailed(show, { kind, message: error.message, httpStatus: error.status });
    else this.client.fatal({ kind, message: error.message, httpStatus: error.status });
    return true;
  }

  // ---- the long-poll fallback ----------------------------------------------------------

  startPolling() {
    if (this.polling || !this.running) return;
    this.polling = true;
    this.pollHealthy = false;
    this.pollLoop();
  }

  stopPolling() {
    this.polling = false;
    this.pollHealthy = false;
    this.pollAbort?.abort();
    this.pollAbort = null;
  }

  reportPolling() {
    this.report({ state: "polling", attempt: this.failures, nextTryAt: this.options.forcePoll ? null : this.nextTryAt });
  }

  async pollLoop() {
    let failures = 0;
    while (this.polling && this.running) {
      const abort = new AbortController();
      this.pollAbort = abort;
      const shows = this.shows;
      try {
        const page = await this.http.poll(shows, this.positions(), POLL_WAIT_SECS, abort.signal);
        if (!this.polling || abort.signal.aborted) return;
        const recovered = failures > 0 || !this.pollHealthy;
        failures = 0;
        this.pollHealthy = true;
        // The server answers again: try the stream soon rather than at the backoff's pace.
        if (recovered && !this.options.forcePoll && !this.closeStream) {
          clearTimeout(this.retryTimer);
          this.nextTryAt = Date.now() + 1000;
          this.retryTimer = setTimeout(() => this.connect(), 1000);
        }
        if (!this.streamLive) this.reportPolling();
        // A gap needs nothing special here: the next poll asks from the stores' positions.
        for (const { event, data } of page.events) this.client.deliver(event, data);
      } catch (e) {
        if (abort.signal.aborted || !this.polling) return;
        if (e instanceof ShowfeedError && this.handleRefusal(e, shows)) return;
        failures += 1;
        this.pollHealthy = false;
        const delay = backoffDelay(failures, this.options.backoff);
        warn("long-poll failed", { attempt: failures, error: String(e) });
        if (!this.streamLive && !this.closeStream) {
          this.report({ state: "reconnecting", attempt: Math.max(this.failures, failures), nextTryAt: Date.now() + delay, reason: e.message });
        }
        await sleep(delay, abort.signal);
      }
    }
  }
}

// ---- sharing one connection between tabs -----------------------------------------------

/** How long a tab that joins waits for the leader's state before fetching its own. */
const FOLLOWER_PATIENCE_MS = 1500;
/** Followers repeat what they want this often; the leader forgets a tab silent for 3×. */
const WANT_LEASE_MS = 20_000;

/**
 * Web Lock `showfeed-leader:<group>` elects the tab holding the connection; BroadcastChannel
 * `showfeed:<group>` carries, from followers, what they want (`want`, `hello`, `bye`) and,
 * from the leader, each applied event (`event`), stores for tabs that join (`state`), its
 * status (`status`) and refusals of a show (`failed`). The group keeps tabs with different
 * servers or credentials apart.
 */
class TabShare {
  constructor(client, group) {
    this.client = client;
    this.id = Math.random().toString(36).slice(2);
    this.lockName = `showfeed-leader:${group}`;
    this.channel = new BroadcastChannel(`showfeed:${group}`);
    this.channel.onmessage = (e) => this.onMessage(e.data);
    this.leader = false;
    /** Leader only: what each follower wants, by tab id: `{shows, at}`. */
    this.wants = new Map();
    this.lockAbort = new AbortController();
    this.releaseLock = null;
    this.patience = null;
    // Followers renew what they want; the leader drops the wants of tabs gone silent
    // (closed without a `bye`: crashed, or killed by the browser).
    this.lease = setInterval(() => (this.leader ? this.client.unionChanged() : this.announce("want")), WANT_LEASE_MS);
  }

  start() {
    navigator.locks
      .request(this.lockName, { signal: this.lockAbort.signal }, () => this.lead())
      .catch((e) => {
        if (e.name !== "AbortError") warn("leader lock failed; this tab connects alone", e);
        if (!this.lockAbort.signal.aborted && !this.leader) this.lead();
      });
    // Until the lock says otherwise this tab follows: ask a leader (if any) for state.
    queueMicrotask(() => !this.leader && this.announce("hello"));
  }

  stop() {
    clearInterval(this.lease);
    clearTimeout(this.patience);
    if (!this.leader) this.post({ t: "bye", from: this.id });
    this.lockAbort.abort();
    this.releaseLock?.();
    this.channel.close();
  }

  /** Runs while this tab holds the lock; the promise it returns holds the lock. */
  lead() {
    if (this.lockAbort.signal.aborted) return undefined;
    this.leader = true;
    clearTimeout(this.patience);
    this.client.becameLeader();
    this.post({ t: "leader", from: this.id });
    return new Promise((resolve) => (this.releaseLock = resolve));
  }

  /** The union of the shows every tab wants (this one's first), leases not expired. */
  union(own) {
    const shows = new Set(own);
    const now = Date.now();
    for (const [tab, want] of this.wants) {
      if (now - want.at > 3 * WANT_LEASE_MS) this.wants.delete(tab);
      else for (const s of want.shows) shows.add(s);
    }
    return [...shows];
  }

  /** Follower: tells the leader what this tab wants (`hello` also asks for their state). */
  announce(t) {
    if (this.leader) return;
    const shows = this.client.wantedShows();
    this.post({ t, from: this.id, shows });
    if (t === "hello" && shows.some((s) => this.client.positionOf(s) === null)) {
      clearTimeout(this.patience);
      this.patience = setTimeout(() => this.client.catchUpAlone(), FOLLOWER_PATIENCE_MS);
    }
  }

  post(message) {
    try {
      this.channel.postMessage(message);
    } catch (e) {
      warn("could not share with other tabs", e);
    }
  }

  onMessage(m) {
    if (!m || typeof m !== "object") return;
    if (this.leader) return this.onFollowerMessage(m);
    switch (m.t) {
      case "leader":
        this.announce("want");
        break;
      case "event":
        this.client.deliverFromLeader(m.event, m.data);
        break;
      case "state":
        if (m.to === this.id) {
          clearTimeout(this.patience);
          for (const snap of m.snaps) this.client.adoptSnapshot(snap);
          this.client.leaderStatus(m.status);
        }
        break;
      case "status":
        this.client.leaderStatus(m.status);
        break;
      case "failed":
        this.client.showFailed(m.show, m.error, { fromLeader: true });
        break;
    }
  }

  onFollowerMessage(m) {
    if (m.t === "retry") return this.client.connection.retryNow();
    if (m.t === "bye") {
      this.wants.delete(m.from);
    } else if ((m.t === "want" || m.t === "hello") && Array.isArray(m.shows)) {
      this.wants.set(m.from, { shows: m.shows, at: Date.now() });
      if (m.t === "hello") {
        const snaps = m.shows.map((s) => this.client.stores.get(s)).filter((s) => s && s.seq !== null).map((s) => s.snapshot());
        this.post({ t: "state", to: m.from, snaps, status: this.client.connection.status });
      }
    } else {
      return;
    }
    this.client.unionChanged();
  }
}

// ---- the client ------------------------------------------------------------------------

/** How long the leader gathers changes of the wanted shows before reopening the stream. */
const UNION_DEBOUNCE_MS = 50;

/**
 * Creates a client. `auth`: `{token}` (fetch with `Authorization: Bearer`), `{getToken}`
 * (asked before every request, so a refreshed token is used), `{token, transport:
 * "query"}` (EventSource with `?access_token=`) or `{cookie: true}` (fetch with the
 * browser's credentials, no token). Options: `baseUrl`, `forcePoll`, `shareTabs` (true, false
 * or a group name), `heartbeatMs` (the server's HEARTBEAT_SECS in ms), `backoff`,
 * `commentsKept`.
 */
export function createClient(options) {
  return new ShowfeedClient(options);
}

export class ShowfeedClient {
  constructor({
    baseUrl = "",
    auth,
    forcePoll = false,
    shareTabs = true,
    heartbeatMs = 15_000,
    backoff = {},
    commentsKept = COMMENTS_KEPT,
  } = {}) {
    if (!auth || !(auth.token || auth.getToken || auth.cookie)) {
      throw new TypeError("createClient: auth must be {token}, {getToken}, {token, transport: 'query'} or {cookie: true}");
    }
    if (auth.transport === "query" && !auth.token) throw new TypeError("createClient: transport 'query' needs a token");
    this.http = new Http(baseUrl, auth);
    this.options = { forcePoll, heartbeatMs, backoff: { ...DEFAULT_BACKOFF, ...backoff }, commentsKept };
    /** Stores by show id: every show a subscription wants (and, leading, other tabs want). */
    this.stores = new Map();
    /** Open subscriptions of this client. */
    this.subscriptions = new Set();
    /** `caughtUp` promises waiting: `{show, seq, resolve, reject}`. */
    this.waiters = [];
    this.statusListeners = new Set();
    /** This tab's connection status (see `status`). */
    this.status = { state: "connecting" };
    /** Why the whole feed stopped (`{kind, message}`), or null. */
    this.fatalError = null;
    this.closed = false;
    this.connection = new Connection(this);
    /** A follower's view of the leader's connection status. */
    this.leaderConnection = { state: "connecting" };
    this.unionTimer = null;
    this.catchingUp = false;
    this.catchUpAgain = false;
    const sharing = shareTabs !== false && !forcePoll && typeof BroadcastChannel === "function" && globalThis.navigator?.locks;
    this.tabs = sharing ? new TabShare(this, shareGroup(this.http, shareTabs)) : null;
    this.onOnline = () => this.connection.online();
    this.onOffline = () => this.connection.wentOffline();
    globalThis.addEventListener?.("online", this.onOnline);
    globalThis.addEventListener?.("offline", this.onOffline);
    this.started = false;
  }

  /**
   * Follows one show or several: resolves the stores and calls `handlers.onInitial(showId,
   * store)` on every fresh state, `onChange(showId, change, effect)` per applied change,
   * `onStatus(status)` on connection changes and `onError(showId, error)` when a show may
   * not be followed. Shows are added to the one shared connection.
   */
  subscribe(showIds, handlers = {}) {
    if (this.closed) throw new ShowfeedError(0, "closed", "the client is closed");
    const shows = [...new Set((Array.isArray(showIds) ? showIds : [showIds]).map((s) => String(s).toLowerCase()))];
    const sub = new Subscription(this, shows, handlers);
    for (const show of shows) {
      if (this.stores.has(show)) continue;
      const store = new ShowStore(show, this.options);
      this.stores.set(show, store);
      if (!UUID_ONLY.test(show)) store.fail({ kind: "not-found", message: `${show} is not a show id`, httpStatus: 0 });
    }
    this.subscriptions.add(sub);
    if (!this.started) this.start();
    else this.wantsChanged();
    // Shows refused before (or not ids at all) are said so once the caller holds `sub`.
    queueMicrotask(() => {
      for (const show of shows) {
        const { error } = this.stores.get(show) || {};
        if (error && !sub.closed) handlers.onError?.(show, error);
      }
      this.updateStatus();
    });
    return sub;
  }

  /** Every listener gets the status now and on each change; returns the unsubscribe. */
  onStatus(listener) {
    this.statusListeners.add(listener);
    listener(this.status);
    return () => this.statusListeners.delete(listener);
  }

  /**
   * Resolves (to the store) once the store of `showId` has applied `seq`, or holds a fresh
   * `initial` at or beyond it; rejects when the show fails or the client closes. With
   * `write`, that is read-your-writes: `await client.caughtUp(show, (await write(...)).seq)`.
   */
  caughtUp(showId, seq) {
    const show = String(showId).toLowerCase();
    const store = this.stores.get(show);
    if (!store || ![...this.subscriptions].some((sub) => sub.shows.includes(show))) {
      return Promise.reject(new ShowfeedError(0, "not_subscribed", `show ${show} is not subscribed`));
    }
    if (!Number.isSafeInteger(seq)) return Promise.reject(new ShowfeedError(0, "bad_seq", `${seq} is not a seq`));
    const error = store.error || this.fatalError;
    if (error) return Promise.reject(new ShowfeedError(error.httpStatus, error.kind, error.message));
    if (store.seq !== null && store.seq >= seq) return Promise.resolve(store);
    return new Promise((resolve, reject) => this.waiters.push({ show, seq, resolve, reject }));
  }

  /**
   * A write with this client's credentials: resolves to the answer's JSON body (with `seq`
   * from `X-Showfeed-Seq` when the body lacks it); a failure throws a ShowfeedError with
   * the server's `status`, `code` and `message`.
   */
  write(method, path, body) {
    return this.http.json(method, path, body);
  }

  /**
   * Tries to reconnect now rather than at the backoff's pace (a "Retry now" button); a tab
   * following another tab's connection asks that tab to. Nothing happens while live.
   */
  retryNow() {
    if (this.closed) return;
    if (this.leading) this.connection.retryNow();
    else this.tabs.post({ t: "retry", from: this.tabs.id });
  }

  /** Ends every subscription and the connection; a leading tab hands the lock on. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.connection.stop();
    this.tabs?.stop();
    clearTimeout(this.unionTimer);
    globalThis.removeEventListener?.("online", this.onOnline);
    globalThis.removeEventListener?.("offline", this.onOffline);
    this.rejectWaiters(() => true, new ShowfeedError(0, "closed", "the client closed"));
    this.subscriptions.clear();
    this.statusListeners.clear();
  }

  // ---- internals -----------------------------------------------------------------------

  start() {
    this.started = true;
    if (this.tabs) this.tabs.start();
    else this.becameLeader();
  }

  get leading() {
    return !this.tabs || this.tabs.leader;
  }

  /** The shows this tab's subscriptions want, in first-subscribed order. */
  wantedShows() {
    const shows = new Set();
    for (const sub of this.subscriptions) for (const s of sub.shows) if (!this.stores.get(s)?.error) shows.add(s);
    return [...shows];
  }

  positionOf(show) {
    return this.stores.get(show)?.seq ?? null;
  }

  becameLeader() {
    if (this.closed) return;
    this.coverUnion();
    this.connection.start();
  }

  /**
   * Points the connection at the shows every tab wants, with a store for each (a leader
   * applies, then relays, the shows only other tabs want); stores nobody wants go.
   */
  coverUnion() {
    const union = this.tabs ? this.tabs.union(this.wantedShows()) : this.wantedShows();
    for (const show of union) if (!this.stores.has(show)) this.stores.set(show, new ShowStore(show, this.options));
    const keep = new Set(union);
    for (const sub of this.subscriptions) for (const s of sub.shows) keep.add(s);
    for (const show of this.stores.keys()) if (!keep.has(show)) this.stores.delete(show);
    this.connection.setShows(union);
  }

  /** This tab's subscriptions changed: tell the leader, or reopen (batched) if leading. */
  wantsChanged() {
    if (this.leading) return this.unionChanged();
    this.tabs.announce("hello");
  }

  unionChanged() {
    clearTimeout(this.unionTimer);
    this.unionTimer = setTimeout(() => !this.closed && this.leading && this.coverUnion(), UNION_DEBOUNCE_MS);
  }

  /**
   * One event from this tab's own connection. Applies it by seq; a leader rebroadcasts
   * what it applied. False on a gap (the caller resumes).
   */
  deliver(event, data) {
    const outcome = this.apply(event, data);
    if (outcome === "applied" && this.tabs) this.tabs.post({ t: "event", event, data });
    return outcome !== "gap";
  }

  /** An event the leader applied: the same rule here; a gap makes this tab catch up. */
  deliverFromLeader(event, data) {
    if (this.apply(event, data) === "gap") this.catchUpAlone();
  }

  /** Applies an `initial` or a change to its show's store; the outcome (see ShowStore.offer). */
  apply(event, data) {
    const show = String(event === "initial" ? data.show?.id : data.show_id).toLowerCase();
    const store = this.stores.get(show);
    if (!store) return "old";
    if (event === "initial") {
      store.load(data);
      this.settled(store);
      for (const sub of this.subscriptions) if (sub.shows.includes(show)) sub.handlers.onInitial?.(show, store);
      return "applied";
    }
    const { outcome, effect } = store.offer(data);
    if (outcome === "applied") {
      this.settled(store);
      for (const sub of this.subscriptions) if (sub.shows.includes(show)) sub.handlers.onChange?.(show, data, effect);
    }
    return outcome;
  }

  /** A snapshot handed over by the leader (for a tab that joined). */
  adoptSnapshot(snap) {
    const store = this.stores.get(String(snap.show?.id).toLowerCase());
    if (store && (store.seq === null || snap.seq > store.seq)) this.apply("initial", snap);
  }

  /** Resolves the `caughtUp` waiters this store now satisfies. */
  settled(store) {
    this.waiters = this.waiters.filter((w) => {
      if (w.show !== store.showId || store.seq < w.seq) return true;
      w.resolve(store);
      return false;
    });
  }

  rejectWaiters(match, error) {
    this.waiters = this.waiters.filter((w) => {
      if (!match(w)) return true;
      w.reject(error);
      return false;
    });
  }

  /**
   * A follower without word from the leader, or one that saw a gap: reads what its shows
   * miss once (no connection held), repeating while more is pending.
   */
  async catchUpAlone() {
    if (this.catchingUp) {
      this.catchUpAgain = true;
      return;
    }
    this.catchingUp = true;
    try {
      do {
        this.catchUpAgain = false;
        const shows = this.wantedShows();
        if (this.leading || this.closed || shows.length === 0) break;
        const page = await this.http.poll(shows, shows.map((s) => this.positionOf(s)), 0);
        for (const { event, data } of page.events) this.apply(event, data);
        if (page.more) this.catchUpAgain = true;
      } while (this.catchUpAgain);
    } catch (e) {
      if (e.status === 401) this.tokenFailed(e);
      else if (e.status >= 400 && e.status < 500) warn("catching up refused; the leader's stream says why", e);
      else {
        warn("catching up failed; retrying", e);
        setTimeout(() => this.catchUpAlone(), backoffDelay(2, this.options.backoff));
      }
    } finally {
      this.catchingUp = false;
    }
  }

  /** The connection's status (leader): this tab's, and shared with the followers. */
  connectionStatus(status) {
    this.connection.status = status;
    this.tabs?.post({ t: "status", status });
    this.updateStatus();
  }

  /** The leader's connection status, as a follower sees it (its token's failure is ours too). */
  leaderStatus(status) {
    if (!status) return;
    if (status.state === "expired" || status.state === "denied") {
      return this.fatal({ kind: status.state, message: status.reason, httpStatus: status.httpStatus });
    }
    this.leaderConnection = status;
    this.updateStatus();
  }

  /**
   * A 401 or `auth.expired`. With `getToken`, a fresh token that is not expired is tried
   * at once; otherwise the feed stops as `expired` (the token's exp passed) or `denied`.
   */
  async tokenFailed(error) {
    const before = this.http.token;
    if (this.http.auth.getToken && !this.closed) {
      try {
        const fresh = await this.http.currentToken();
        if (fresh && fresh !== before && !tokenExpired(fresh)) {
          return this.leading ? this.connection.restart() : this.catchUpAlone();
        }
      } catch (e) {
        warn("getToken failed", e);
      }
    }
    const expired = error.code === "expired" || (before && tokenExpired(before));
    const message = expired ? "the token expired" : error.message;
    this.fatal({ kind: expired ? "expired" : "denied", message, httpStatus: 401 });
  }

  /** Nothing can be read (`error`: `{kind, message, httpStatus}`): stop, reject every waiter, say why. */
  fatal(error) {
    warn("feed stopped", error);
    this.fatalError = error;
    if (this.leading) {
      this.connection.stop();
      this.tabs?.post({ t: "status", status: statusOf(error) });
    }
    this.rejectWaiters(() => true, new ShowfeedError(error.httpStatus, error.kind, error.message));
    this.updateStatus();
  }

  /** One show may not be read (403, 404): its store and waiters fail, the others go on. */
  showFailed(show, error, { fromLeader = false } = {}) {
    const store = this.stores.get(show);
    if (!store || store.error) return;
    warn("show refused", { show, ...error });
    store.fail(error);
    this.rejectWaiters((w) => w.show === show, new ShowfeedError(error.httpStatus, error.kind, error.message));
    for (const sub of this.subscriptions) if (sub.shows.includes(show)) sub.handlers.onError?.(show, error);
    if (this.leading && !fromLeader) {
      this.tabs?.post({ t: "failed", show, error });
      this.tabs?.wants.forEach((want) => (want.shows = want.shows.filter((s) => s !== show)));
      this.coverUnion();
    }
    this.updateStatus();
  }

  /**
   * This tab's status: a fatal error; else, when every show it wants failed, the first
   * failure; else the connection's (a follower's `live` is `live-via-other-tab`).
   */
  computeStatus() {
    if (this.fatalError) return statusOf(this.fatalError);
    const mine = new Set([...this.subscriptions].flatMap((s) => s.shows));
    const failed = [...mine].map((s) => this.stores.get(s)?.error).filter(Boolean);
    if (mine.size > 0 && failed.length === mine.size) return statusOf(failed[0]);
    if (this.leading) return this.connection.status;
    const s = this.leaderConnection;
    return s.state === "live" ? { ...s, state: "live-via-other-tab" } : { ...s, viaOtherTab: true };
  }

  updateStatus() {
    const next = this.computeStatus();
    const same = JSON.stringify(next) === JSON.stringify(this.status);
    this.status = next;
    if (same) return;
    for (const listener of [...this.statusListeners]) listener(next);
    for (const sub of this.subscriptions) sub.handlers.onStatus?.(next);
  }
}

/** The status of a refusal: `denied`, `not-found` or `expired`, the server's message and HTTP status. */
function statusOf({ kind, message, httpStatus }) {
  return { state: kind, reason: message, httpStatus };
}

/** Tabs share only with tabs of the same server and the same credentials. */
function shareGroup(http, shareTabs) {
  if (typeof shareTabs === "string") return shareTabs;
  const who = http.auth.cookie ? "cookie" : http.auth.getToken ? "getToken" : http.auth.token;
  return fnv1a32(`${http.baseUrl || location.origin}|${who}`).toString(16);
}

/** What `subscribe` returns: the stores of its shows, and `close()`. */
export class Subscription {
  constructor(client, shows, handlers) {
    this.client = client;
    /** The show ids, lowercase, without duplicates. */
    this.shows = shows;
    this.handlers = handlers;
    this.closed = false;
  }

  /** The store of one of this subscription's shows. */
  store(showId) {
    const show = String(showId).toLowerCase();
    if (!this.shows.includes(show)) throw new ShowfeedError(0, "not_subscribed", `show ${show} is not in this subscription`);
    return this.client.stores.get(show);
  }

  /** Stops following these shows (the connection drops those no other subscription wants). */
  close() {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    client.subscriptions.delete(this);
    if (client.closed) return;
    const still = new Set(client.wantedShows());
    client.rejectWaiters((w) => !still.has(w.show), new ShowfeedError(0, "closed", "the subscription closed"));
    client.wantsChanged();
  }
}
