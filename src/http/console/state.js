// The state of one show as the console knows it: built from an `initial` snapshot, then
// changed by each change event in seq order. Pure data, no DOM: `apply` says what changed
// so the view can update only that.

/** Comments kept in memory (the view renders fewer: see RENDER_CAP in views/comments.js). */
export const COMMENTS_KEPT = 1000;

/**
 * The server's default `initial` holds the newest 200 comments (SNAPSHOT_COMMENTS). A
 * snapshot that full may have cut older ones, so the comment count is then a lower bound.
 */
const SNAPSHOT_COMMENTS_DEFAULT = 200;

/** Newest first: by platform time, then id (the snapshot's own order). */
function newerFirst(a, b) {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  if (ta !== tb) return tb - ta;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export class ShowState {
  constructor() {
    /** Seq of the last change applied (the snapshot's seq at first); null: no state yet. */
    this.seq = null;
    this.show = null;
    /** Newest first, at most COMMENTS_KEPT. */
    this.comments = [];
    /** Claims by id (the snapshot holds every claim of the show). */
    this.claims = new Map();
    /** Claims by the id of the comment that made them (to highlight claim comments). */
    this.claimByComment = new Map();
    /** Items by item_number. */
    this.items = new Map();
    /** Comments seen: the snapshot's plus those created since, less those deleted. */
    this.commentCount = 0;
    /** False when the snapshot may have left older comments out. */
    this.commentCountExact = true;
  }

  /** Replaces everything with a snapshot `{seq, show, comments, claims, items, meta?}`. */
  load(snap) {
    this.seq = snap.seq;
    this.show = snap.show;
    this.comments = [...(snap.comments || [])].sort(newerFirst).slice(0, COMMENTS_KEPT);
    this.claims = new Map((snap.claims || []).map((c) => [c.id, c]));
    this.claimByComment = new Map();
    for (const c of this.claims.values()) if (c.comment_id) this.claimByComment.set(c.comment_id, c);
    this.items = new Map((snap.items || []).map((i) => [i.item_number, i]));
    if (snap.meta) {
      // A snapshot handed over by another tab carries that tab's counts.
      this.commentCount = snap.meta.commentCount;
      this.commentCountExact = snap.meta.commentCountExact;
    } else if (Number.isInteger(snap.comment_count)) {
      // The server's snapshot counts every comment of the show, not just those it sends.
      this.commentCount = snap.comment_count;
      this.commentCountExact = true;
    } else {
      this.commentCount = this.comments.length;
      this.commentCountExact = this.comments.length < SNAPSHOT_COMMENTS_DEFAULT;
    }
  }

  /** This state as a snapshot, to hand to a tab that joins (see feed.js). */
  snapshot() {
    return {
      seq: this.seq,
      show: this.show,
      comments: this.comments,
      claims: [...this.claims.values()],
      items: [...this.items.values()],
      meta: {
        commentCount: this.commentCount,
        commentCountExact: this.commentCountExact,
      },
    };
  }

  /**
   * Applies one change (the caller has checked its seq follows `this.seq`). Returns what
   * the view must redo: `{entity, op, row, index?, previous?}`.
   */
  apply(change) {
    this.seq = change.seq;
    const row = change.data;
    const op = change.op;
    switch (change.entity) {
      case "comment":
        return { entity: "comment", op, row, ...this.applyComment(op, row) };
      case "claim": {
        const previous = this.claims.get(row.id);
        if (op === "delete") this.claims.delete(row.id);
        else this.claims.set(row.id, row);
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
      if (removedAt >= 0 || this.commentCount > this.comments.length) this.commentCount -= 1;
    } else {
      if (op === "insert" && removedAt < 0) this.commentCount += 1;
      insertedAt = this.insertionPoint(row);
      if (insertedAt < COMMENTS_KEPT) this.comments.splice(insertedAt, 0, row);
      else insertedAt = -1;
      if (this.comments.length > COMMENTS_KEPT) this.comments.length = COMMENTS_KEPT;
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

  /** The comment that made a claim, by comment id. */
  claimOfComment(commentId) {
    return this.claimByComment.get(commentId) || null;
  }

  counters() {
    let claimed = 0;
    let waitlisted = 0;
    let paid = 0;
    for (const c of this.claims.values()) {
      if (c.status === "claimed") claimed += 1;
      else if (c.status === "waitlisted") waitlisted += 1;
      else if (c.status === "paid") paid += 1;
    }
    return {
      comments: this.commentCount,
      commentsExact: this.commentCountExact,
      claims: claimed + waitlisted + paid,
      sold: claimed + paid,
      waitlisted,
      paid,
    };
  }
}
