// The multiplexed stream's vector id: `<fnv1a32 of the ids>.<base-36 positions | ->`.

import assert from "node:assert/strict";
import { test } from "node:test";

import { decodeVectorId, encodeVectorId, fnv1a32, showsFingerprint } from "../showfeed-client.js";

const A = "6f1d3c52-8f0e-4c8e-9a55-3b1f2d7c9e10";
const B = "0b7e3a8e-4f61-4a8e-bb55-5b0d3c1c2f11";

test("FNV-1a 32 matches the published test vectors", () => {
  assert.equal(fnv1a32(""), 0x811c9dc5);
  assert.equal(fnv1a32("a"), 0xe40c292c);
  assert.equal(fnv1a32("foobar"), 0xbf9cf968);
  // Over UTF-8 bytes, not UTF-16 code units.
  assert.equal(fnv1a32("é"), fnv1a32("\u00e9"));
  assert.notEqual(fnv1a32("é"), fnv1a32("\u00c3\u00a9"));
});

test("an id is the fingerprint of the list in order, then base-36 positions, - for none", () => {
  const id = encodeVectorId([A, B], [12, null]);
  assert.equal(id, `${showsFingerprint([A, B])}.c.-`);
  assert.match(id, /^[0-9a-f]{8}\.c\.-$/);
  assert.equal(showsFingerprint([A, B]), fnv1a32(`${A},${B}`).toString(16).padStart(8, "0"));
  assert.notEqual(showsFingerprint([A, B]), showsFingerprint([B, A]));
  assert.equal(encodeVectorId([A], [0]), `${showsFingerprint([A])}.0`);
});

test("decoding gives back the positions", () => {
  const positions = [0, 1, 35, 36, 2 ** 40, null, Number.MAX_SAFE_INTEGER];
  const shows = positions.map((_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
  assert.deepEqual(decodeVectorId(encodeVectorId(shows, positions), shows), positions);
});

test("an id of another list, another length or garbage decodes to null", () => {
  const id = encodeVectorId([A, B], [3, 4]);
  assert.equal(decodeVectorId(id, [B, A]), null, "another order");
  assert.equal(decodeVectorId(id, [A]), null, "another list");
  const fp = showsFingerprint([A, B]);
  for (const garbage of [
    `${fp}.3`,
    `${fp}.3.4.5`,
    `${fp}.3.`,
    `${fp}.3.X`,
    `${fp}.3.-4`,
    `${fp}.3.zzzzzzzzzzzz`,
    `${fp}.3. 4`,
    "",
    "42",
    "....",
    `${fp.toUpperCase()}.3.4`,
    null,
    undefined,
    42,
  ]) {
    assert.equal(decodeVectorId(garbage, [A, B]), null, `garbage ${JSON.stringify(garbage)}`);
  }
});

test("a duplicate show in the list is still one position each (the server refuses such lists)", () => {
  const id = encodeVectorId([A, A], [1, 2]);
  assert.deepEqual(decodeVectorId(id, [A, A]), [1, 2]);
  assert.equal(decodeVectorId(id, [A]), null);
});

test("10,000 shows encode and decode in well under a second", () => {
  const shows = Array.from({ length: 10_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`);
  const positions = shows.map((_, i) => (i % 7 === 0 ? null : i * 1000));
  const started = performance.now();
  const id = encodeVectorId(shows, positions);
  assert.deepEqual(decodeVectorId(id, shows), positions);
  assert.ok(performance.now() - started < 1000);
  assert.equal(id.split(".").length, 10_001);
});
