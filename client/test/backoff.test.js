// Reconnect pacing: doubling, capped, jittered within [½, 1] of the step.

import assert from "node:assert/strict";
import { test } from "node:test";

import { backoffDelay, DEFAULT_BACKOFF } from "../showfeed-client.js";

test("each attempt's delay lies in [½, 1] of its doubling step, capped at 10 s", () => {
  for (let attempt = 1; attempt <= 40; attempt++) {
    const step = Math.min(10_000, 500 * 2 ** (attempt - 1));
    for (const r of [0, 0.25, 0.999999]) {
      const d = backoffDelay(attempt, DEFAULT_BACKOFF, () => r);
      assert.ok(d >= step / 2 && d <= step, `attempt ${attempt}, random ${r}: ${d} not in [${step / 2}, ${step}]`);
    }
  }
  assert.equal(backoffDelay(1, DEFAULT_BACKOFF, () => 0), 250);
  assert.equal(backoffDelay(100, DEFAULT_BACKOFF, () => 0.999999), 10_000);
});

test("the jitter spreads clients: 1,000 draws of one attempt are not all alike", () => {
  const delays = new Set();
  for (let i = 0; i < 1000; i++) delays.add(backoffDelay(5));
  assert.ok(delays.size > 100, `only ${delays.size} distinct delays`);
  for (const d of delays) assert.ok(d >= 4000 && d <= 8000);
});

test("custom settings are honoured", () => {
  const custom = { firstMs: 100, maxMs: 1000, pollAfter: 2 };
  assert.equal(backoffDelay(1, custom, () => 0.999999), 100);
  assert.equal(backoffDelay(20, custom, () => 0.999999), 1000);
});
