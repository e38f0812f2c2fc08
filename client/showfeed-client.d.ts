// Types of showfeed-client.js (hand-written; the API's row types come from ./api.d.ts,
// generated from docs/openapi.json).

import type { components } from "./api.d.ts";

type Schemas = components["schemas"];
export type Snapshot = Schemas["Snapshot"];
export type Change = Schemas["Change"];
export type Show = Schemas["Show"];
export type Comment = Schemas["Comment"];
export type Claim = Schemas["Claim"];
export type Item = Schemas["Item"];
export type ShowId = string;

export type ChangeEventName =
  | "comment.created"
  | "comment.updated"
  | "comment.deleted"
  | "claim.created"
  | "claim.updated"
  | "claim.deleted"
  | "item.created"
  | "item.updated"
  | "item.deleted"
  | "show.updated";
export type EventName = "initial" | ChangeEventName;

export declare const CHANGE_EVENTS: readonly ChangeEventName[];
export declare function eventNameOf(change: Pick<Change, "entity" | "op">): ChangeEventName;

/** How the client authenticates. */
export type Auth =
  /** `Authorization: Bearer`, stream read with fetch. */
  | { token: string; transport?: "header" }
  /** Asked before every request (a refreshed token is used on the next one). */
  | { getToken: () => string | Promise<string> }
  /** EventSource with `?access_token=` (no heartbeat watchdog: EventSource hides keep-alives). */
  | { token: string; transport: "query" }
  /** The browser's credentials (cookies), no token. */
  | { cookie: true };

export interface BackoffOptions {
  /** First reconnect delay (ms, before jitter); default 500. */
  firstMs?: number;
  /** Largest delay (ms); default 10000. */
  maxMs?: number;
  /** SSE failures in a row before long-polling meanwhile; default 3. */
  pollAfter?: number;
}

export interface ClientOptions {
  /** The server's origin; default "" (this page's). */
  baseUrl?: string;
  auth: Auth;
  /** Long-poll only, never SSE (and no tab sharing). */
  forcePoll?: boolean;
  /** Share one connection with this origin's other tabs (true), not (false), or within a named group. */
  shareTabs?: boolean | string;
  /** The server's heartbeat (HEARTBEAT_SECS) in ms; a stream silent for twice this is reconnected. Default 15000. */
  heartbeatMs?: number;
  backoff?: BackoffOptions;
  /** Comments a store keeps (newest first); default 1000. */
  commentsKept?: number;
}

export type ConnectionState =
  | "connecting"
  | "live"
  | "live-via-other-tab"
  | "reconnecting"
  | "polling"
  | "denied"
  | "not-found"
  | "expired";

export interface Status {
  state: ConnectionState;
  /** Reconnect attempt (1-based) while `reconnecting` or `polling`. */
  attempt?: number;
  /** When the next stream attempt is due (ms since the epoch), or null (offline, polling only). */
  nextTryAt?: number | null;
  /** Why: the last failure, or the server's message for `denied`/`not-found`/`expired`. */
  reason?: string;
  /** The HTTP status behind `denied`/`not-found`/`expired` (401, 403, 404; 0: refused before asking). */
  httpStatus?: number;
  /** Set on a follower tab's non-live states (the leader tab's connection is meant). */
  viaOtherTab?: boolean;
}

export interface ShowError {
  kind: "denied" | "not-found";
  message: string;
  /** 403, 404 (400 for one show: not a show id); 0 when refused before asking (not a UUID). */
  httpStatus: number;
}

export interface Counters {
  comments: number;
  commentsExact: boolean;
  /** Every claim made, whatever its status now (released ones too): `show_summary.claims`. */
  claims: number;
  /** Units sold: claimed + paid (`show_summary.units_sold`). */
  sold: number;
  /** Waiting for a unit now. */
  waitlisted: number;
  paid: number;
  /** Released by an operator (or in SQL). */
  released: number;
}

export type Effect =
  | { entity: "comment"; op: Change["op"]; row: Comment; removedAt: number; insertedAt: number }
  | { entity: "claim"; op: Change["op"]; row: Claim; previous: Claim | undefined }
  | { entity: "item"; op: Change["op"]; row: Item; previous: Item | undefined }
  | { entity: "show"; op: Change["op"]; row: Show };

export type Outcome = "applied" | "old" | "gap" | "early";

export declare const COMMENTS_KEPT: number;

/** One show's state, kept current by the client. */
export declare class ShowStore {
  constructor(showId: ShowId, options?: { commentsKept?: number });
  readonly showId: ShowId;
  /** Seq of the last change applied; null before the first `initial`. */
  readonly seq: number | null;
  readonly show: Show | null;
  /** Newest first. */
  readonly comments: readonly Comment[];
  readonly claims: ReadonlyMap<string, Claim>;
  readonly items: ReadonlyMap<number, Item>;
  readonly commentCount: number;
  readonly commentCountExact: boolean;
  readonly error: ShowError | null;
  /** Bumped on every change; what getSnapshot returns. */
  readonly version: number;
  /** For useSyncExternalStore: bound, returns the unsubscribe. */
  subscribe: (listener: () => void) => () => void;
  /** For useSyncExternalStore: bound, changes exactly when the store does. */
  getSnapshot: () => number;
  load(snapshot: Snapshot): void;
  offer(change: Change): { outcome: Outcome; effect?: Effect };
  snapshot(): Snapshot & { meta: { commentCount: number; commentCountExact: boolean } };
  counters(): Counters;
  claimsOfItem(itemNumber: number): { holders: Claim[]; waitlist: Claim[]; released: Claim[] };
  claimedItemNumbers(): number[];
  quantityOf(itemNumber: number): number;
  claimOfComment(commentId: string): Claim | null;
}

export interface Handlers {
  onInitial?(showId: ShowId, store: ShowStore): void;
  onChange?(showId: ShowId, change: Change, effect: Effect): void;
  onStatus?(status: Status): void;
  onError?(showId: ShowId, error: ShowError): void;
}

export declare class Subscription {
  /** The show ids, lowercase, without duplicates. */
  readonly shows: readonly ShowId[];
  readonly closed: boolean;
  store(showId: ShowId): ShowStore;
  close(): void;
}

export declare class ShowfeedError extends Error {
  constructor(status: number, code: string, message: string);
  /** HTTP status; 0 when there was no answer or the feed stopped. */
  readonly status: number;
  readonly code: string;
}

export declare class ShowfeedClient {
  constructor(options: ClientOptions);
  readonly status: Status;
  subscribe(showIds: ShowId | readonly ShowId[], handlers?: Handlers): Subscription;
  /** Calls `listener` now and on every status change; returns the unsubscribe. */
  /** Reconnects now instead of at the backoff's pace (another tab's connection: asks that tab). */
  retryNow(): void;
  onStatus(listener: (status: Status) => void): () => void;
  /** Resolves once the show's store has applied `seq` (or holds an `initial` at or beyond it). */
  caughtUp(showId: ShowId, seq: number): Promise<ShowStore>;
  /** A JSON request with the client's credentials; the answer's body (with `seq` from X-Showfeed-Seq if absent). */
  write<T = unknown>(method: string, path: string, body?: unknown): Promise<T & { seq?: number }>;
  close(): void;
}

export declare function createClient(options: ClientOptions): ShowfeedClient;

export declare class SseParser {
  constructor(callbacks: {
    onEvent: (event: { type: string; data: string; lastEventId: string }) => void;
    onRetry?: (ms: number) => void;
    onComment?: (text: string) => void;
  });
  readonly lastEventId: string;
  push(text: string): void;
}

export declare const DEFAULT_BACKOFF: Required<BackoffOptions>;
export declare function backoffDelay(attempt: number, backoff?: Required<BackoffOptions>, random?: () => number): number;
export declare function fnv1a32(text: string): number;
export declare function showsFingerprint(showIds: readonly ShowId[]): string;
export declare function encodeVectorId(showIds: readonly ShowId[], positions: readonly (number | null)[]): string;
export declare function decodeVectorId(id: string, showIds: readonly ShowId[]): (number | null)[] | null;
export declare function decodeToken(token: string): Record<string, unknown> | null;
