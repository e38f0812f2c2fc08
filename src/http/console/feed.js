// The live connection to one show, shared by every tab of that show.
//
// One tab per show (the holder of the Web Lock `showfeed-leader-<show>`) opens the SSE
// stream and rebroadcasts what it applies on a BroadcastChannel; the others follow. So
// ten tabs use one HTTP connection, not ten of the browser's six per origin. When the
// leading tab closes, the lock passes to a follower, which resumes from its own last seq.
//
// Exactly-once, in order: every change carries the show's gapless `seq`. A change at or
// below the last applied seq is dropped (a replay, a second source); one beyond the next
// seq means something was missed, and the tab resumes from its last seq instead of
// applying it. A fresh `initial` replaces the state.
//
// Reconnects are ours, not EventSource's: EventSource cannot say why it failed (401, 403,
// 404 look like a network error) and retries forever at a fixed pace. So on error the
// EventSource is closed, the show is fetched to learn the reason, and a new EventSource
// opens with `last_event_id=` after an exponential backoff with jitter. After a few
// failures the tab long-polls `/changes` meanwhile and keeps trying SSE behind it.

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** SSE failures in a row after which the tab long-polls `/changes` meanwhile. */
const POLL_AFTER_FAILURES = 3;
/** A stream open this long counts as working: its drop restarts the failure count. */
const STABLE_STREAM_MS = 10_000;
/** Seconds a long-poll waits for a change. */
const POLL_WAIT_SECS = 25;
/** How long a new follower waits for the leader's state before fetching its own. */
const FOLLOWER_PATIENCE_MS = 1500;

const CHANGE_EVENTS = [
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

/** Delay before reconnect attempt `n` (1-based): doubling, capped, with jitter in [½, 1]. */
export function backoffDelay(n) {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.max(0, n - 1));
  return Math.round(ceiling * (0.5 + Math.random() * 0.5));
}

/** Why the feed stopped for good: needs the operator (a new token, another show). */
export class FatalError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // "expired" | "unauthorized" | "forbidden" | "not_found"
  }
}

/**
 * A show's feed. `state` is the ShowState it keeps current; callbacks:
 * `onInitial()` after the state was replaced, `onChange(effect, change, live)` after one
 * change was applied, `onStatus(status)` when the connection's status changes.
 *
 * Status: `{state: "connecting" | "live" | "reconnecting" | "polling" | "error",
 * attempt?, nextAt? (ms epoch of the next SSE try), reason?, kind?, shared (another
 * tab holds the connection)}`.
 */
export class ShowFeed {
  constructor({ showId, token, state, onInitial, onChange, onStatus, forcePoll = false }) {
    this.showId = showId;
    this.token = token;
    this.state = state;
    this.onInitial = onInitial;
    this.onChange = onChange;
    this.onStatus = onStatus;
    this.forcePoll = forcePoll;
    this.stopped = false;
    this.leader = false;
    this.status = { state: "connecting", shared: false };
    /** The open EventSource (leader only). */
    this.es = null;
    this.esLive = false;
    /** Consecutive SSE failures; restarted when a stream that ran a while drops. */
    this.failures = 0;
    /** When the current stream opened (ms epoch). */
    this.openedAt = 0;
    this.sseTimer = null;
    this.polling = false;
    /** A long-poll has succeeded since polling started or last failed. */
    this.pollHealthy = false;
    this.pollAbort = null;
    this.followerTimer = null;
    this.lockAbort = null;
    /** Resolves the held leader lock (ends `lead`). */
    this.releaseLock = null;
    this.channel = null;
  }

  start() {
    const sharing = typeof BroadcastChannel === "function" && navigator.locks && !this.forcePoll;
    if (!sharing) {
      this.lead();
      return;
    }
    this.channel = new BroadcastChannel(`showfeed-show-${this.showId}`);
    this.channel.onmessage = (e) => this.onPeerMessage(e.data);
    this.lockAbort = new AbortController();
    navigator.locks
      .request(`showfeed-leader-${this.showId}`, { signal: this.lockAbort.signal }, () =>
        this.stopped ? undefined : this.lead(),
      )
      .catch((e) => {
        if (e.name !== "AbortError") warn("leader lock failed; this tab connects alone", e);
        if (!this.stopped && !this.leader) this.lead();
      });
    // Until the lock says otherwise this tab follows: ask the leader (if any) for state.
    queueMicrotask(() => {
      if (!this.leader && !this.stopped) this.askLeaderForState();
    });
  }

  stop() {
    this.stopped = true;
    this.closeSse();
    this.stopPolling();
    clearTimeout(this.sseTimer);
    clearTimeout(this.followerTimer);
    this.lockAbort?.abort();
    this.releaseLock?.();
    this.channel?.close();
  }

  /** Another token (pasted by the operator): reconnect with it. */
  setToken(token) {
    this.token = token;
  }

  // ---- leading: the one connection -------------------------------------------------

  /** Runs while this tab holds the lock; the returned promise ends the lock. */
  lead() {
    this.leader = true;
    clearTimeout(this.followerTimer);
    this.setStatus({ state: "connecting" });
    if (this.forcePoll) this.startPolling();
    else this.connectSse();
    return new Promise((resolve) => {
      this.releaseLock = resolve;
    });
  }

  connectSse() {
    if (this.stopped) return;
    clearTimeout(this.sseTimer);
    // Never two streams: a timer and a recovering poll may both ask for one.
    this.closeSse();
    const fatal = this.tokenProblem();
    if (fatal) return this.fail(fatal);
    const params = new URLSearchParams({ access_token: this.token });
    if (this.state.seq !== null) params.set("last_event_id", String(this.state.seq));
    const es = new EventSource(`/api/shows/${encodeURIComponent(this.showId)}/stream?${params}`);
    this.es = es;
    es.onopen = () => {
      if (this.es !== es) return;
      this.esLive = true;
      this.openedAt = Date.now();
      this.stopPolling();
      this.setStatus({ state: "live" });
    };
    es.addEventListener("initial", (e) => {
      if (this.es !== es) return;
      const snap = parse(e.data, "initial");
      if (snap) this.takeInitial(snap);
    });
    const onChange = (e) => {
      if (this.es !== es) return;
      const change = parse(e.data, e.type);
      if (change && !this.take(change)) {
        // A gap (never expected from the server): resume from what we have.
        warn("gap in the stream; resuming", { have: this.state.seq, got: change.seq });
        this.closeSse();
        this.connectSse();
      }
    };
    for (const name of CHANGE_EVENTS) es.addEventListener(name, onChange);
    es.addEventListener("auth.expired", () => {
      if (this.es !== es) return;
      this.fail(new FatalError("expired", expiredMessage(this.token)));
    });
    es.onerror = () => {
      if (this.es !== es) return;
      const wasLive = this.esLive;
      this.closeSse();
      this.sseFailed(wasLive);
    };
  }

  closeSse() {
    if (this.es) this.es.close();
    this.es = null;
    this.esLive = false;
  }

  /** The stream failed or dropped: find out why, then retry later or give up. */
  async sseFailed(wasLive) {
    // A stream that ran a while starts the count afresh; one that opens and drops at
    // once (a proxy that cuts it) keeps counting, so the backoff and the fallback apply.
    const stable = wasLive && Date.now() - this.openedAt > STABLE_STREAM_MS;
    this.failures = stable ? 1 : this.failures + 1;
    const problem = await this.diagnose();
    if (this.stopped || this.es) return;
    if (problem instanceof FatalError) return this.fail(problem);
    warn("stream failed; reconnecting", {
      show: this.showId,
      attempt: this.failures,
      lastSeq: this.state.seq,
      reason: problem,
    });
    const delay = backoffDelay(this.failures);
    const nextAt = Date.now() + delay;
    clearTimeout(this.sseTimer);
    this.sseTimer = setTimeout(() => this.connectSse(), delay);
    if (this.failures >= POLL_AFTER_FAILURES && !this.polling) this.startPolling();
    if (this.polling && this.pollHealthy) {
      this.setStatus({ state: "polling", attempt: this.failures, nextAt });
    } else {
      this.setStatus({ state: "reconnecting", attempt: this.failures, nextAt, reason: problem });
    }
  }

  /** Why the show cannot be read: a FatalError, else a short reason to show. */
  async diagnose() {
    const fatal = this.tokenProblem();
    if (fatal) return fatal;
    try {
      const r = await fetch(`/api/shows/${encodeURIComponent(this.showId)}`, {
        headers: { Authorization: `Bearer ${this.token}` },
        cache: "no-store",
      });
      return (await fatalFromResponse(r, this.token)) || (r.ok ? "stream dropped" : `HTTP ${r.status}`);
    } catch {
      return "server unreachable";
    }
  }

  /** A token that is already expired fails here, before any request. */
  tokenProblem() {
    const claims = decodeToken(this.token);
    if (!claims) return new FatalError("unauthorized", "That is not a valid token.");
    if (claims.exp && claims.exp * 1000 <= Date.now()) {
      return new FatalError("expired", expiredMessage(this.token));
    }
    return null;
  }

  // ---- polling fallback --------------------------------------------------------------

  startPolling() {
    if (this.polling || this.stopped) return;
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

  async pollLoop() {
    let failures = 0;
    while (this.polling && !this.stopped) {
      const abort = new AbortController();
      this.pollAbort = abort;
      try {
        const body = await this.fetchChanges(POLL_WAIT_SECS, abort.signal);
        if (!this.polling) return;
        const recovered = failures > 0 || !this.pollHealthy;
        failures = 0;
        this.pollHealthy = true;
        if (!this.esLive) {
          // The server answers again: try the stream soon rather than at the backoff's pace.
          if (recovered && !this.forcePoll && !this.es) {
            clearTimeout(this.sseTimer);
            this.sseTimer = setTimeout(() => this.connectSse(), 1000);
            this.status.nextAt = Date.now() + 1000;
          }
          this.setStatus({ state: "polling", attempt: this.failures, nextAt: this.nextSseAt() });
        }
        if (body.gap) continue;
      } catch (e) {
        if (abort.signal.aborted || !this.polling) return;
        if (e instanceof FatalError) return this.fail(e);
        failures += 1;
        this.pollHealthy = false;
        const delay = backoffDelay(failures);
        warn("long-poll failed", { show: this.showId, attempt: failures, error: String(e) });
        if (!this.esLive && !this.es) {
          this.setStatus({ state: "reconnecting", attempt: Math.max(this.failures, failures), nextAt: Date.now() + delay, reason: "server unreachable" });
        }
        await sleep(delay);
      }
    }
  }

  nextSseAt() {
    return this.forcePoll ? null : this.status.nextAt ?? null;
  }

  /**
   * One `/changes` request after the last applied seq (or a fresh snapshot); applies what
   * it returns. Used by the polling loop and by followers that must catch up themselves.
   */
  async fetchChanges(wait, signal) {
    const fatal = this.tokenProblem();
    if (fatal) throw fatal;
    const after = this.state.seq === null ? -1 : this.state.seq;
    const r = await fetch(
      `/api/shows/${encodeURIComponent(this.showId)}/changes?after=${after}&wait=${wait}`,
      { headers: { Authorization: `Bearer ${this.token}` }, cache: "no-store", signal },
    );
    const fatalError = await fatalFromResponse(r, this.token);
    if (fatalError) throw fatalError;
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const body = await r.json();
    if (this.stopped) return body;
    if (body.initial) this.takeInitial(body.initial);
    for (const change of body.changes || []) {
      if (!this.take(change)) return { ...body, gap: true };
    }
    return body;
  }

  // ---- applying, exactly once ----------------------------------------------------------

  takeInitial(snap) {
    this.state.load(snap);
    this.onInitial();
    if (this.leader) this.post({ t: "initial", snap });
  }

  /** Applies a change if it is the next one; true unless it revealed a gap. */
  take(change, live = true) {
    const last = this.state.seq;
    if (last === null) return true; // no state yet: the coming snapshot covers it
    if (change.seq <= last) return true; // already applied
    if (change.seq !== last + 1) return false;
    const effect = this.state.apply(change);
    this.onChange(effect, change, live);
    if (this.leader) this.post({ t: "change", change });
    return true;
  }

  fail(error) {
    warn("feed stopped", { show: this.showId, kind: error.kind, reason: error.message });
    this.closeSse();
    this.stopPolling();
    clearTimeout(this.sseTimer);
    this.setStatus({ state: "error", kind: error.kind, reason: error.message });
  }

  setStatus(status) {
    this.status = { ...status, shared: !this.leader };
    this.onStatus(this.status);
    if (this.leader) this.post({ t: "status", status });
  }

  // ---- following: the other tabs -------------------------------------------------------

  post(message) {
    try {
      this.channel?.postMessage(message);
    } catch (e) {
      warn("could not share with other tabs", e);
    }
  }

  askLeaderForState() {
    this.post({ t: "hello" });
    clearTimeout(this.followerTimer);
    this.followerTimer = setTimeout(() => this.catchUpAlone(), FOLLOWER_PATIENCE_MS);
  }

  /** No word from a leader: read the show's changes once, without holding a connection. */
  async catchUpAlone() {
    if (this.leader || this.stopped) return;
    try {
      let body;
      do body = await this.fetchChanges(0);
      while (!this.stopped && !this.leader && (body.more || body.gap));
    } catch (e) {
      if (e instanceof FatalError) return this.fail(e);
      warn("follower catch-up failed; retrying", e);
      this.followerTimer = setTimeout(() => this.catchUpAlone(), backoffDelay(2));
    }
  }

  onPeerMessage(m) {
    if (this.stopped || !m || typeof m !== "object") return;
    if (this.leader) {
      // A tab joined: hand it what this tab has (if anything yet; else its `initial` follows).
      if (m.t === "hello") {
        if (this.state.seq !== null) this.post({ t: "state", snap: this.state.snapshot() });
        const { shared, ...status } = this.status;
        this.post({ t: "status", status });
      }
      return;
    }
    switch (m.t) {
      case "initial":
        clearTimeout(this.followerTimer);
        this.state.load(m.snap);
        this.onInitial();
        break;
      case "state":
        // Meant for a tab that just joined; a tab in step ignores it.
        if (this.state.seq === null || m.snap.seq > this.state.seq) {
          clearTimeout(this.followerTimer);
          this.state.load(m.snap);
          this.onInitial();
        }
        break;
      case "change":
        if (this.state.seq === null) return;
        if (!this.take(m.change)) {
          // Missed a message (joined mid-way, a leader change): catch up by seq.
          this.catchUpAlone();
        }
        break;
      case "status":
        this.status = { ...m.status, shared: true };
        this.onStatus(this.status);
        break;
    }
  }
}

/** The FatalError a response means (401, 403, 404), or null. */
async function fatalFromResponse(r, token) {
  // 400 here can only be a malformed show id in the link.
  if (r.status === 400) return new FatalError("not_found", "That link does not name a show (bad show id).");
  if (r.status !== 401 && r.status !== 403 && r.status !== 404) return null;
  let message = "";
  try {
    message = (await r.json()).error?.message || "";
  } catch {
    // a body that is not our JSON: keep the status alone
  }
  if (r.status === 401) {
    const claims = decodeToken(token);
    if (claims?.exp && claims.exp * 1000 <= Date.now()) {
      return new FatalError("expired", expiredMessage(token));
    }
    return new FatalError("unauthorized", `The server rejected this token${message ? `: ${message}` : ""}.`);
  }
  if (r.status === 403) {
    return new FatalError("forbidden", `This token may not see this show${message ? ` (${message})` : ""}.`);
  }
  return new FatalError("not_found", "Show not found: the link may be wrong, or the show is gone.");
}

/** The payload of a JWT (not verified: the server does that), or null. */
export function decodeToken(token) {
  try {
    const part = token.split(".")[1];
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const json = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
    const claims = JSON.parse(json);
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

export function expiredMessage(token) {
  const claims = decodeToken(token);
  const when = claims?.exp ? ` at ${new Date(claims.exp * 1000).toLocaleTimeString()}` : "";
  return `Your token expired${when}. Paste a new one to reconnect.`;
}

function parse(data, what) {
  try {
    return JSON.parse(data);
  } catch (e) {
    warn(`unparsable ${what} event`, e);
    return null;
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function warn(message, context) {
  console.warn(`[showfeed] ${message}`, context ?? "");
}
