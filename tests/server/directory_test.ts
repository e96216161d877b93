import assert from "node:assert/strict";
import { Directory } from "../../lib/server/directory.ts";

Deno.test("the directory places remote connections by cid, user and group", () => {
  const directory = new Directory("iso-a");
  assert.deepEqual(directory.isolates, []);
  assert.equal(directory.heard("iso-b"), true);
  assert.equal(directory.heard("iso-b"), false);
  assert.equal(directory.heard("iso-a"), false, "itself is never another isolate");
  assert.deepEqual(directory.isolates, ["iso-b"]);
  directory.place("iso-b", "cid:1", { user_id: "u1", group: null, since: 1 });
  directory.place("iso-c", "cid:2", { user_id: "u1", group: "lobby", since: 1 });
  directory.place("iso-a", "cid:3", { user_id: "u1", group: "lobby", since: 1 }); // local: ignored
  assert.equal(directory.isolateOf("cid:1"), "iso-b");
  assert.deepEqual(directory.userReach("u1").count, 2);
  assert.deepEqual(directory.userReach("u1").isolates.sort(), ["iso-b", "iso-c"]);
  assert.equal(directory.groupSize("lobby"), 1);
  // A move is a new place; the old group forgets it.
  directory.place("iso-b", "cid:1", { user_id: "u1", group: "lobby", since: 1 });
  directory.place("iso-c", "cid:2", { user_id: "u1", group: "hall", since: 1 });
  assert.equal(directory.groupSize("lobby"), 1);
  assert.equal(directory.groupSize("hall"), 1);
  directory.remove("iso-b", "cid:1");
  assert.equal(directory.isolateOf("cid:1"), undefined);
  assert.equal(directory.isGone("cid:1", "iso-b"), true, "a stale read cannot bring it back");
  assert.equal(directory.isGone("cid:1", "iso-c"), false, "a record elsewhere is a takeover");
  assert.equal(directory.groupSize("lobby"), 0);
  assert.deepEqual(directory.userReach("u1"), { isolates: ["iso-c"], count: 1 });
});

Deno.test("a takeover wins over the late lines of the isolate it was taken from", () => {
  const directory = new Directory("iso-a");
  directory.place("iso-b", "cid:1", { user_id: "u1", group: "g", since: 10 });
  directory.place("iso-c", "cid:1", { user_id: "u1", group: "g", since: 20 }); // taken over
  directory.place("iso-b", "cid:1", { user_id: "u1", group: "h", since: 10 }); // late, stale
  directory.remove("iso-b", "cid:1"); // the release's end, late
  assert.equal(directory.isolateOf("cid:1"), "iso-c");
  assert.equal(directory.isGone("cid:1", "iso-c"), false, "alive on iso-c");
  assert.equal(directory.groupSize("g"), 1);
  assert.equal(directory.groupSize("h"), 0);
  assert.equal(directory.size, 1);
});

Deno.test("liveness forgets dead isolates and their connections, not ones heard since", () => {
  const directory = new Directory("iso-a");
  directory.heard("iso-b");
  directory.heard("iso-c");
  directory.place("iso-b", "cid:1", { user_id: "u1", group: "g", since: 1 });
  directory.place("iso-c", "cid:2", { user_id: "u2", group: "g", since: 1 });
  const startedAt = performance.now();
  directory.heard("iso-c"); // spoke after the read began: kept
  const added = directory.refresh(["iso-a", "iso-d"], startedAt);
  assert.deepEqual(added, ["iso-d"]);
  assert.deepEqual([...directory.isolates].sort(), ["iso-c", "iso-d"]);
  assert.equal(directory.isolateOf("cid:1"), undefined, "iso-b's connections are gone");
  assert.equal(directory.groupSize("g"), 1);
  directory.forget("iso-c");
  assert.equal(directory.size, 0);
  assert.deepEqual(directory.isolates, ["iso-d"]);
});

Deno.test("a target's rooms narrow the reach to remote connections in those rooms", () => {
  const directory = new Directory("iso-a");
  directory.place("iso-b", "cid:1", { user_id: "u1", group: "team-red", since: 1 });
  directory.place("iso-c", "cid:2", { user_id: "u1", group: "lobby", since: 1 });
  directory.place("iso-c", "cid:3", { user_id: "u1", group: null, since: 1 });
  assert.deepEqual(directory.userReach("u1", ["team-*"]), { isolates: ["iso-b"], count: 1 });
  assert.equal(directory.userReach("u1").count, 3);
  assert.equal(directory.userReach("u1", []).count, 0);
  assert.equal(directory.isolateOf("cid:2", ["team-*"]), undefined);
  assert.equal(directory.isolateOf("cid:2", ["lobby"]), "iso-c");
  assert.equal(directory.isolateOf("cid:3", ["lobby"]), undefined, "in no room");
});
