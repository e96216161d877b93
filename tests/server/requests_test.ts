import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";

type ErrorFrame = Extract<ServerFrame, { type: "error" }>;
const candidate = (call: string, i: number) => ({
  kind: "candidate",
  call,
  candidate: { candidate: `candidate:${i} 1 udp 1 10.0.0.1 ${5000 + i} typ host` },
});

Deno.test("protocol v3: signals sent without id are relayed in order with no ack; acked ones still are", async () => {
  await using server = await startHub();
  const caller = await rawClient(server.url, { v: "3" });
  const callee = await rawClient(server.url, { v: "3" });
  assert.equal(caller.welcome.v, 3);
  const to = callee.welcome.cid;
  const offer = { kind: "description", call: "c1", description: { type: "offer", sdp: "v=0\r\n" } };
  caller.send({ type: "signal", to, signal: offer });
  for (let i = 0; i < 20; i++) caller.send({ type: "signal", to, signal: candidate("c1", i) });
  caller.send({ type: "signal", to, signal: { kind: "candidate", call: "c1", candidate: null } });
  // An acked request after them: once its ack is in, any answer to the others would be too.
  const ring = await caller.request({ type: "signal", to, signal: { kind: "call", call: "c2" } });
  assert.equal(ring.type, "ack");
  assert.deepEqual((ring as { result: unknown }).result, { user_id: callee.welcome.user_id });
  await callee.next((f) => f.type === "signal" && f.signal.call === "c2");
  const relayed = callee.frames.flatMap((f) => f.type === "signal" ? [f.signal] : []);
  assert.deepEqual(relayed, [
    offer,
    ...Array.from({ length: 20 }, (_, i) => candidate("c1", i)),
    { kind: "candidate", call: "c1", candidate: null },
    { kind: "call", call: "c2" },
  ]);
  const answers = caller.frames.filter((f) => f.type === "ack" || f.type === "error");
  assert.deepEqual(answers, [ring], "the unacked signals got no answer at all");
  await caller.close();
  await callee.close();
});

Deno.test("an unacked signal that cannot be relayed gets a typed error naming its call and kind", async () => {
  await using server = await startHub();
  const caller = await rawClient(server.url, { v: "3" });
  const nobody = "cid:" + "Z".repeat(24);
  caller.send({ type: "signal", to: nobody, signal: candidate("c9", 1) });
  const gone = await caller.next<ErrorFrame>((f) => f.type === "error");
  assert.equal(gone.code, "NOT_FOUND");
  assert.equal(gone.id, undefined);
  assert.deepEqual(gone.signal, { to: nobody, call: "c9", kind: "candidate" });
  assert.match(gone.message, /candidate signal.*not connected/);
  // One the gate refuses is named too, when its reference fields are usable.
  const callee = await rawClient(server.url, { v: "3" });
  const at = caller.frames.length;
  caller.send({
    type: "signal",
    to: callee.welcome.cid,
    signal: { kind: "description", call: "c8", description: { type: "nope" } },
  });
  const refused = await caller.next<ErrorFrame>((f) => f.type === "error", 5_000, at);
  assert.equal(refused.code, "INVALID_PARAMETER");
  assert.deepEqual(refused.signal, { to: callee.welcome.cid, call: "c8", kind: "description" });
  assert.equal(callee.frames.filter((f) => f.type === "signal").length, 0);
  await caller.close();
  await callee.close();
});

Deno.test("the welcome speaks the client's version: an SDK of v1 or v2 keeps its protocol", async () => {
  await using server = await startHub();
  for (const [query, v] of [[{}, 1], [{ v: "1" }, 1], [{ v: "2" }, 2], [{ v: "3" }, 3]] as const) {
    const client = await rawClient(server.url, query);
    assert.equal(client.welcome.v, v, `welcome for ${JSON.stringify(query)}`);
    await client.close();
  }
});
