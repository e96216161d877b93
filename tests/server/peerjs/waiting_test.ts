import assert from "node:assert/strict";
import { Waiting } from "../../../lib/server/peerjs/waiting.ts";

Deno.test("waiting frames: in order per destination, taken once", () => {
  const waiting = new Waiting();
  waiting.add("bob", { src: "alice", text: "1" });
  waiting.add("bob", { src: "carol", text: "2" });
  waiting.add("dan", { src: "alice", text: "3" });
  assert.equal(waiting.size, 3);
  assert.ok(waiting.has("bob"));
  assert.deepEqual(waiting.destinations(), ["bob", "dan"]);
  assert.deepEqual(waiting.take("bob").map((f) => f.text), ["1", "2"]);
  assert.deepEqual(waiting.take("bob"), []);
  assert.equal(waiting.size, 1);
});

Deno.test("waiting frames expire after the timeout: each sender hears once per destination", () => {
  let now = 0;
  const waiting = new Waiting({ now: () => now });
  waiting.add("bob", { src: "alice", text: "1" });
  waiting.add("bob", { src: "alice", text: "2" });
  waiting.add("bob", { src: "carol", text: "3" });
  now = 4_999;
  assert.deepEqual(waiting.expire(5_000), []);
  waiting.add("eve", { src: "alice", text: "4" });
  now = 5_000;
  assert.deepEqual(waiting.expire(5_000), [{ src: "alice", dst: "bob" }, {
    src: "carol",
    dst: "bob",
  }]);
  assert.equal(waiting.size, 1);
  now = 10_000;
  assert.deepEqual(waiting.expire(5_000), [{ src: "alice", dst: "eve" }]);
  assert.equal(waiting.size, 0);
});

Deno.test("waiting frames are bounded per destination and in all", () => {
  const waiting = new Waiting({ perPeer: 2, total: 3 });
  assert.ok(waiting.add("a", { src: "x", text: "1" }));
  assert.ok(waiting.add("a", { src: "x", text: "2" }));
  assert.ok(!waiting.add("a", { src: "x", text: "3" }), "per destination");
  assert.ok(waiting.add("b", { src: "x", text: "4" }));
  assert.ok(!waiting.add("c", { src: "x", text: "5" }), "in all");
});
