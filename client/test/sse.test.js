// The SSE parser against the HTML spec's rules, with the stream cut at every position.

import assert from "node:assert/strict";
import { test } from "node:test";

import { SseParser } from "../showfeed-client.js";

/** Parses `chunks` in order; returns the events, comments and retry values seen. */
function parse(chunks) {
  const seen = { events: [], comments: [], retries: [] };
  const parser = new SseParser({
    onEvent: (e) => seen.events.push(e),
    onComment: (c) => seen.comments.push(c),
    onRetry: (ms) => seen.retries.push(ms),
  });
  for (const chunk of chunks) parser.push(chunk);
  return { ...seen, parser };
}

/** Every way to cut `text` in two, and every character alone. */
function cuts(text) {
  const ways = [[text], [...text]];
  for (let i = 1; i < text.length; i++) ways.push([text.slice(0, i), text.slice(i)]);
  return ways;
}

const STREAM =
  "retry: 1000\n\n" +
  "id: 7\nevent: initial\ndata: {\"seq\":7}\n\n" +
  ": keep-alive\n\n" +
  "id: 8\r\nevent: comment.created\r\ndata: {\"seq\":8}\r\n\r\n" +
  "id: 9\revent: claim.updated\rdata: line one\rdata: line two\r\r";

test("events, comments and retry come out the same wherever the stream is cut", () => {
  for (const chunks of cuts(STREAM)) {
    const { events, comments, retries } = parse(chunks);
    assert.deepEqual(
      events,
      [
        { type: "initial", data: '{"seq":7}', lastEventId: "7" },
        { type: "comment.created", data: '{"seq":8}', lastEventId: "8" },
        { type: "claim.updated", data: "line one\nline two", lastEventId: "9" },
      ],
      `cut as ${JSON.stringify(chunks.slice(0, 2))}`,
    );
    assert.deepEqual(comments, [" keep-alive"]);
    assert.deepEqual(retries, [1000]);
  }
});

test("a CRLF split between two chunks ends one line, not two", () => {
  const { events } = parse(["data: a\r", "\ndata: b\r\n\r", "\n"]);
  assert.deepEqual(events, [{ type: "message", data: "a\nb", lastEventId: "" }]);
});

test("an event without data is not dispatched but its id is kept", () => {
  const { events, parser } = parse(["id: 5\nevent: x\n\n", "data: y\n\n"]);
  assert.equal(parser.lastEventId, "5");
  assert.deepEqual(events, [{ type: "message", data: "y", lastEventId: "5" }]);
});

test("an empty data line dispatches an empty string", () => {
  assert.deepEqual(parse(["data\n\n"]).events, [{ type: "message", data: "", lastEventId: "" }]);
  assert.deepEqual(parse(["data:\ndata:\n\n"]).events, [{ type: "message", data: "\n", lastEventId: "" }]);
});

test("only one space after the colon is stripped; no colon means an empty value", () => {
  const { events } = parse(["data:  two spaces\nevent\n\n"]);
  assert.deepEqual(events, [{ type: "message", data: " two spaces", lastEventId: "" }]);
});

test("retry takes ASCII digits only; unknown fields and an id with NUL are ignored", () => {
  const { retries, events, parser } = parse(["retry: 12a\nretry: -5\nretry: 250\nfoo: bar\nid: a\0b\ndata: x\n\n"]);
  assert.deepEqual(retries, [250]);
  assert.equal(parser.lastEventId, "");
  assert.equal(events.length, 1);
});

test("an incomplete event at the end is not dispatched", () => {
  assert.deepEqual(parse(["data: half"]).events, []);
  assert.deepEqual(parse(["data: half\n"]).events, []);
});

test("a large data line in many chunks arrives whole", () => {
  const big = "x".repeat(200_000);
  const text = `id: 1\nevent: initial\ndata: ${big}\n\n`;
  const chunks = [];
  for (let i = 0; i < text.length; i += 997) chunks.push(text.slice(i, i + 997));
  const { events } = parse(chunks);
  assert.equal(events.length, 1);
  assert.equal(events[0].data, big);
});
