import assert from "node:assert/strict";
import { ReplayLog } from "../../lib/server/replay.ts";

Deno.test("a replay log gives back what the client has not acknowledged", () => {
  const log = new ReplayLog({ maxFrames: 10, maxBytes: 1_000 });
  for (const text of ["a", "b", "c", "d"]) log.record(text);
  assert.deepEqual(log.since(2), ["c", "d"]);
  log.acknowledge(3);
  assert.deepEqual(log.since(3), ["d"]);
  assert.equal(log.since(2), null, "acknowledged frames are gone");
  assert.equal(log.since(5), null, "more than was sent is impossible");
  assert.deepEqual(log.since(4), []);
});

Deno.test("a replay log is bounded in frames and bytes; a gap cannot resume", () => {
  const log = new ReplayLog({ maxFrames: 3, maxBytes: 10 });
  for (let i = 0; i < 5; i++) log.record(String(i));
  assert.equal(log.sent, 5);
  assert.deepEqual(log.since(2), ["2", "3", "4"]);
  assert.equal(log.since(1), null);
  log.record("x".repeat(9));
  assert.deepEqual(log.since(5), ["x".repeat(9)], "bytes bound the log too");
  assert.deepEqual(log.since(4), ["4", "x".repeat(9)], "exactly at the byte limit stays");
  assert.equal(log.since(3), null);
});

Deno.test("a replay log survives many frames with compaction", () => {
  const log = new ReplayLog({ maxFrames: 100, maxBytes: 1e9 });
  for (let i = 0; i < 5_000; i++) log.record(String(i));
  assert.deepEqual(log.since(4_998), ["4998", "4999"]);
  log.restartAt(42);
  assert.equal(log.sent, 42);
  assert.deepEqual(log.since(42), []);
});
