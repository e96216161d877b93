import assert from "node:assert/strict";
import { decodeLine, encodeLine, type Line } from "../../lib/server/lines.ts";

Deno.test("every kind of bus line reads back as written", () => {
  const cid = "cid:" + "A".repeat(22);
  const user_id = crypto.randomUUID();
  const text = JSON.stringify({ type: "message", message: "tab\there" });
  const lines: Line[] = [
    { kind: "frame", target: { group: "a.b-c_d" }, text },
    { kind: "frame", target: { user_id }, text },
    { kind: "frame", target: { cid }, text },
    { kind: "frame", target: { user_id, rooms: ["team-*", "lobby"] }, text },
    { kind: "frame", target: { cid, rooms: [] }, text },
    { kind: "release", cid, received: 42 },
    { kind: "hello", reply: true },
    { kind: "hello", reply: false },
    { kind: "place", cid, user_id, group: "lobby", since: 1700000000000 },
    { kind: "place", cid, user_id, group: null, since: 5 },
    { kind: "gone", cid },
  ];
  for (const line of lines) {
    const encoded = encodeLine(line);
    assert.equal(encoded.includes("\n"), false);
    assert.deepEqual(decodeLine(encoded), line);
  }
});

Deno.test("a line this version cannot read decodes to null", () => {
  for (const line of ["", "?x", "q1", "g-no-tab", "x", "pcid:1\tuser"]) {
    assert.equal(decodeLine(line), null, JSON.stringify(line));
  }
});
