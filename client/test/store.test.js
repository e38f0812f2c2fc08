// The state store: a snapshot, then each entity and op in seq order; what it drops, where
// it sees a gap, and the counters a dashboard shows.

import assert from "node:assert/strict";
import { test } from "node:test";

import { eventNameOf, ShowStore } from "../showfeed-client.js";

const SHOW = "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10";

function comment(id, at, text = `comment ${id}`) {
  return { id, show_id: SHOW, external_id: id, author_id: "u", author_name: "U", text, created_at: at, received_at: at };
}

function claim(id, number, status, extra = {}) {
  return {
    id,
    show_id: SHOW,
    item_number: number,
    comment_id: null,
    buyer_id: id,
    buyer_name: id,
    status,
    waitlist_position: null,
    created_at: "2026-12-04T18:00:00Z",
    updated_at: "2026-12-04T18:00:00Z",
    ...extra,
  };
}

function snapshot(seq, extra = {}) {
  return {
    seq,
    show: { id: SHOW, title: "Drop", status: "live", last_seq: seq, created_at: "2026-12-04T17:00:00Z" },
    comment_count: 2,
    comments: [comment("c2", "2026-12-04T18:00:02Z"), comment("c1", "2026-12-04T18:00:01Z")],
    claims: [claim("k1", 5, "claimed", { comment_id: "c1" })],
    items: [{ show_id: SHOW, item_number: 5, title: "Hat", price_cents: 100, quantity: 1 }],
    ...extra,
  };
}

function change(seq, entity, op, data) {
  return { seq, show_id: SHOW, entity, op, data, actor: "test", committed_at: "2026-12-04T18:00:00Z" };
}

function loaded(seq = 10) {
  const store = new ShowStore(SHOW);
  store.load(snapshot(seq));
  return store;
}

test("a snapshot fills every part of the store", () => {
  const s = loaded();
  assert.equal(s.seq, 10);
  assert.equal(s.show.title, "Drop");
  assert.deepEqual(s.comments.map((c) => c.id), ["c2", "c1"]);
  assert.equal(s.claims.get("k1").status, "claimed");
  assert.equal(s.claimOfComment("c1").id, "k1");
  assert.equal(s.items.get(5).title, "Hat");
  assert.equal(s.commentCount, 2);
  assert.deepEqual(s.counters(), { comments: 2, commentsExact: true, claims: 1, sold: 1, waitlisted: 0, paid: 0, released: 0 });
});

test("comments: insert on top, update in place, delete; the count follows", () => {
  const s = loaded();
  let r = s.offer(change(11, "comment", "insert", comment("c3", "2026-12-04T18:00:03Z")));
  assert.equal(r.outcome, "applied");
  assert.deepEqual([r.effect.removedAt, r.effect.insertedAt], [-1, 0]);
  // A late comment (older platform time) goes where its time puts it.
  r = s.offer(change(12, "comment", "insert", comment("c0", "2026-12-04T18:00:00Z")));
  assert.equal(r.effect.insertedAt, 3);
  r = s.offer(change(13, "comment", "update", comment("c2", "2026-12-04T18:00:02Z", "edited")));
  assert.deepEqual([r.effect.removedAt, r.effect.insertedAt], [1, 1]);
  assert.equal(s.comments[1].text, "edited");
  s.offer(change(14, "comment", "delete", comment("c1", "2026-12-04T18:00:01Z")));
  assert.deepEqual(s.comments.map((c) => c.id), ["c3", "c2", "c0"]);
  assert.equal(s.commentCount, 3);
  assert.equal(s.seq, 14);
});

test("claims: create, update (waitlist promoted), delete; claimsOfItem and counters follow", () => {
  const s = loaded();
  s.offer(change(11, "claim", "insert", claim("k2", 5, "waitlisted", { waitlist_position: 1 })));
  assert.deepEqual(s.counters(), { comments: 2, commentsExact: true, claims: 2, sold: 1, waitlisted: 1, paid: 0, released: 0 });
  s.offer(change(12, "claim", "update", claim("k1", 5, "released", { comment_id: "c1" })));
  const r = s.offer(change(13, "claim", "update", claim("k2", 5, "claimed", { waitlist_position: 1 })));
  assert.equal(r.effect.previous.status, "waitlisted");
  s.offer(change(14, "claim", "update", claim("k2", 5, "paid", { waitlist_position: 1 })));
  const { holders, waitlist, released } = s.claimsOfItem(5);
  assert.deepEqual([holders.map((c) => c.id), waitlist.length, released.map((c) => c.id)], [["k2"], 0, ["k1"]]);
  assert.deepEqual(s.counters(), { comments: 2, commentsExact: true, claims: 2, sold: 1, waitlisted: 0, paid: 1, released: 1 });
  assert.equal(s.claimOfComment("c1").status, "released");
  s.offer(change(15, "claim", "delete", claim("k1", 5, "released", { comment_id: "c1" })));
  assert.equal(s.claims.has("k1"), false);
  assert.equal(s.claimOfComment("c1"), null);
  assert.deepEqual(s.claimedItemNumbers(), [5]);
});

test("items and the show: create, update, delete", () => {
  const s = loaded();
  s.offer(change(11, "item", "insert", { show_id: SHOW, item_number: 7, title: "Scarf", price_cents: 900, quantity: 3 }));
  assert.equal(s.quantityOf(7), 3);
  s.offer(change(12, "item", "update", { show_id: SHOW, item_number: 7, title: "Scarf", price_cents: 900, quantity: 1 }));
  assert.equal(s.quantityOf(7), 1);
  s.offer(change(13, "item", "delete", { show_id: SHOW, item_number: 7 }));
  assert.equal(s.items.has(7), false);
  assert.equal(s.quantityOf(7), 1, "a number without an item counts as one unit");
  s.offer(change(14, "show", "update", { ...s.show, status: "ended" }));
  assert.equal(s.show.status, "ended");
});

test("a duplicate or older change is dropped, a gap is not applied, nothing before a snapshot", () => {
  const fresh = new ShowStore(SHOW);
  assert.equal(fresh.offer(change(1, "comment", "insert", comment("x", "2026-12-04T18:00:09Z"))).outcome, "early");
  assert.equal(fresh.seq, null);

  const s = loaded();
  const c11 = change(11, "comment", "insert", comment("c3", "2026-12-04T18:00:03Z"));
  assert.equal(s.offer(c11).outcome, "applied");
  assert.equal(s.offer(c11).outcome, "old", "the same change twice");
  assert.equal(s.offer(change(9, "comment", "insert", comment("c9", "2026-12-04T18:00:09Z"))).outcome, "old");
  assert.equal(s.offer(change(13, "comment", "insert", comment("c5", "2026-12-04T18:00:05Z"))).outcome, "gap");
  assert.equal(s.seq, 11);
  assert.equal(s.commentCount, 3, "neither the duplicate nor the gap counted");
  assert.deepEqual(s.comments.map((c) => c.id), ["c3", "c2", "c1"]);
});

test("a fresh snapshot replaces the state, even one behind", () => {
  const s = loaded();
  s.offer(change(11, "claim", "insert", claim("k9", 9, "claimed")));
  s.load(snapshot(30, { claims: [], comments: [], comment_count: 0 }));
  assert.equal(s.seq, 30);
  assert.equal(s.claims.size, 0);
  assert.equal(s.commentCount, 0);
  s.load(snapshot(5));
  assert.equal(s.seq, 5);
});

test("comments beyond the kept number are counted, not kept; deleting an unkept one still counts", () => {
  const s = new ShowStore(SHOW, { commentsKept: 3 });
  s.load(snapshot(1, { comment_count: 50 }));
  for (let i = 0; i < 5; i++) {
    s.offer(change(2 + i, "comment", "insert", comment(`n${i}`, `2026-12-04T19:00:0${i}Z`)));
  }
  assert.equal(s.comments.length, 3);
  assert.deepEqual(s.comments.map((c) => c.id), ["n4", "n3", "n2"]);
  assert.equal(s.commentCount, 55);
  s.offer(change(7, "comment", "delete", comment("c1", "2026-12-04T18:00:01Z")));
  assert.equal(s.commentCount, 54);
});

test("listeners hear every change; getSnapshot moves only when the store does", () => {
  const s = new ShowStore(SHOW);
  let calls = 0;
  const unsubscribe = s.subscribe(() => (calls += 1));
  const v0 = s.getSnapshot();
  s.load(snapshot(10));
  s.offer(change(11, "comment", "insert", comment("c3", "2026-12-04T18:00:03Z")));
  s.offer(change(11, "comment", "insert", comment("c3", "2026-12-04T18:00:03Z")));
  s.offer(change(15, "comment", "insert", comment("c4", "2026-12-04T18:00:04Z")));
  assert.equal(calls, 2, "a snapshot and one applied change");
  assert.equal(s.getSnapshot(), v0 + 2);
  unsubscribe();
  s.offer(change(12, "comment", "insert", comment("c4", "2026-12-04T18:00:04Z")));
  assert.equal(calls, 2);
});

test("a handed-over snapshot keeps the counts of the tab that made it", () => {
  const s = loaded();
  s.offer(change(11, "comment", "insert", comment("c3", "2026-12-04T18:00:03Z")));
  const other = new ShowStore(SHOW);
  other.load(JSON.parse(JSON.stringify(s.snapshot())));
  assert.deepEqual(other.counters(), s.counters());
  assert.equal(other.seq, 11);
  assert.deepEqual(other.comments, s.comments);
});

test("event names follow entity and op", () => {
  assert.equal(eventNameOf({ entity: "claim", op: "update" }), "claim.updated");
  assert.equal(eventNameOf({ entity: "comment", op: "insert" }), "comment.created");
  assert.equal(eventNameOf({ entity: "item", op: "delete" }), "item.deleted");
});
