import assert from "node:assert/strict";
import { Sequencer, type Via } from "../../../lib/server/bus/mod.ts";

function sequencer(options: { buffered?: number; holeMs?: number } = {}) {
  let now = 1_000;
  const got: Array<[string, Via]> = [];
  const skipped: Array<[number, number]> = [];
  const s = new Sequencer({
    deliver: (line, via) => got.push([line, via]),
    buffered: options.buffered ?? 100,
    holeMs: options.holeMs ?? 50,
    onSkip: (from, to) => skipped.push([from, to]),
    now: () => now,
  });
  return { s, got, skipped, tick: (ms: number) => (now += ms) };
}

Deno.test("sequencer: each seq once, in order, whichever copy comes first", () => {
  const { s, got } = sequencer();
  s.offer(1, "a");
  s.offer(3, "c"); // ahead of 2: held
  s.offer(3, "c");
  assert.equal(s.held, 1);
  assert.deepEqual(got, [["a", "channel"]]);
  assert.equal(s.accept(1, ["a", "b", "c", "d"]), true); // KV fills the hole
  assert.deepEqual(got, [["a", "channel"], ["b", "kv"], ["c", "channel"], ["d", "kv"]]);
  assert.equal(s.delivered, 4);
  assert.equal(s.held, 0);
  s.offer(2, "b");
  assert.equal(s.accept(3, ["c", "d"]), true, "already delivered: consumed");
  assert.equal(s.isDone(3, 2), true);
  assert.equal(s.isDone(4, 2), false);
  assert.equal(got.length, 4, "nothing twice");
});

Deno.test("sequencer: a hole in KV holds entries back until it has lasted holeMs, then is skipped", () => {
  const { s, got, skipped, tick } = sequencer({ holeMs: 50 });
  assert.equal(s.accept(1, ["a"]), true);
  assert.equal(s.accept(4, ["d"]), false, "2 and 3 are missing");
  tick(30);
  assert.equal(s.accept(4, ["d"]), false);
  tick(30);
  assert.equal(s.accept(4, ["d", "e"]), true, "the hole is skipped");
  assert.deepEqual(skipped, [[2, 3]]);
  assert.deepEqual(got.map(([line]) => line), ["a", "d", "e"]);
  // A new hole starts its own clock.
  assert.equal(s.accept(7, ["g"]), false);
  tick(10);
  assert.equal(s.accept(6, ["f", "g"]), true, "filled before the limit");
  assert.deepEqual(got.map(([line]) => line), ["a", "d", "e", "f", "g"]);
});

Deno.test("sequencer: the channel buffer is bounded; forget() drops what a dead sender left", () => {
  const { s, got } = sequencer({ buffered: 2 });
  s.offer(2, "b");
  s.offer(3, "c");
  s.offer(4, "d"); // no room: KV will bring it
  assert.equal(s.held, 2);
  s.forget();
  assert.equal(s.held, 0);
  s.offer(1, "a");
  assert.deepEqual(got.map(([line]) => line), ["a"]);
});
