import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import type { RawClient } from "../_helpers/hub.ts";
import { CLUSTER_ENV, kvEntries, spread } from "../_helpers/cluster.ts";
import { startApp } from "../_helpers/server.ts";
import { waitFor } from "../_helpers/wait.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;

const noticeFrom = (code: string, who: RawClient) => (f: ServerFrame) =>
  f.type === "notice" && f.code === code && f.sender_cid === who.welcome.cid;

Deno.test("clients on two isolates see each other's joins, leaves, posts, privates and RTC relay", async () => {
  await using app = await startApp({ cluster: true, env: CLUSTER_ENV });
  const [[a1, a2], [b1, b2]] = await spread(app.wsUrl, 2);
  assert.notEqual(a1.welcome.isolate, b1.welcome.isolate);
  const health = await (await fetch(`${app.url}/api/health`)).json();
  assert.ok(
    [a1.welcome.isolate, b1.welcome.isolate].includes(health.isolate),
    "health names a hub",
  );

  // Joins, alternating isolates: each sees its own join first, then every later
  // one, wherever it happened. (Across isolates only each sender's own order is
  // promised: a join on this isolate may overtake an earlier one from the other.)
  for (const client of [a1, b1, a2, b2]) await client.request({ type: "join", group: "room" });
  await a1.next(noticeFrom("USER_JOINED", b2));
  await b1.next(noticeFrom("USER_JOINED", a2));
  await b1.next(noticeFrom("USER_JOINED", b2));
  const joins = (c: RawClient) =>
    c.frames.flatMap((f) => f.type === "notice" && f.code === "USER_JOINED" ? [f.sender_cid] : []);
  await waitFor(() => joins(a1).length === 4 && joins(b1).length >= 3);
  assert.equal(joins(a1)[0], a1.welcome.cid);
  assert.deepEqual(new Set(joins(a1)), new Set([a1, b1, a2, b2].map((c) => c.welcome.cid)));
  // b1 sees every later join. a1's join, sent from the other isolate just
  // before, may reach b1's isolate after b1 joined and so reach b1 too: order
  // across isolates is only per sender. Either way, each join at most once.
  const later = [b1, a2, b2].map((c) => c.welcome.cid);
  const seenByB1 = joins(b1).filter((cid) => cid !== a1.welcome.cid);
  assert.equal(seenByB1[0], b1.welcome.cid);
  assert.deepEqual(new Set(seenByB1), new Set(later));
  assert.equal(new Set(joins(b1)).size, joins(b1).length, "no join twice");

  // A broadcast from one isolate reaches all four, counted cluster-wide.
  const posted = await b1.request({ type: "post", message: { hello: "room" } });
  assert.deepEqual((posted as { result: unknown }).result, { delivered: 4 });
  for (const client of [a1, a2, b1, b2]) {
    const got = await client.next<Extract<ServerFrame, { type: "message" }>>((f) =>
      f.type === "message"
    );
    assert.equal(got.sender_cid, b1.welcome.cid);
    assert.equal(got.sender_rid, "room");
  }

  // A private message across isolates.
  const psst = await a1.request({ type: "post", message: "psst", recipient: b2.welcome.user_id });
  assert.deepEqual((psst as { result: unknown }).result, { delivered: 1 });
  const got = await b2.next<Extract<ServerFrame, { type: "private" }>>((f) => f.type === "private");
  assert.equal(got.sender_cid, a1.welcome.cid);

  // An RTC exchange relayed both ways: call, offer, answer, candidates, hangup.
  const relay = async (from: RawClient, to: RawClient, signal: Record<string, unknown>) => {
    const ack = await from.request({ type: "signal", to: to.welcome.cid, signal });
    assert.equal(ack.type, "ack", JSON.stringify(ack));
    const seen = await to.next<Extract<ServerFrame, { type: "signal" }>>((f) =>
      f.type === "signal" && JSON.stringify(f.signal) === JSON.stringify(signal)
    );
    assert.equal(seen.sender_cid, from.welcome.cid);
  };
  await relay(a1, b1, { kind: "call", call: "c1", media: { audio: true, video: false } });
  await relay(b1, a1, { kind: "accept", call: "c1" });
  await relay(a1, b1, {
    kind: "description",
    call: "c1",
    description: { type: "offer", sdp: "v=0\r\n" + "a=x\r\n".repeat(5_000) }, // 25 KB
  });
  await relay(b1, a1, {
    kind: "description",
    call: "c1",
    description: { type: "answer", sdp: "v=0\r\n" },
  });
  await relay(b1, a1, {
    kind: "candidate",
    call: "c1",
    candidate: {
      candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host",
      sdpMid: "0",
      sdpMLineIndex: 0,
    },
  });
  await relay(a1, b1, { kind: "hangup", call: "c1" });

  // Leaves and disconnects cross too; NOT_FOUND holds cluster-wide afterwards.
  await b2.request({ type: "join", group: null });
  await a1.next(noticeFrom("USER_LEFT", b2));
  await b1.close();
  const gone = await a2.next<Notice>(noticeFrom("USER_DISCONNECTED", b1));
  assert.equal(gone.sender_rid, "room");
  const missing = await a1.request({
    type: "signal",
    to: b1.welcome.cid,
    signal: { kind: "hangup", call: "c1" },
  });
  assert.equal((missing as { code: string }).code, "NOT_FOUND");
  const users = await a2.request({ type: "users", group: "room" });
  assert.deepEqual(
    new Set((users as { result: { list: { cid: string }[] } }).result.list.map((r) => r.cid)),
    new Set([a1.welcome.cid, a2.welcome.cid]),
  );
  await Promise.all([a1, a2, b2].map((c) => c.close()));
  await waitFor(async () => (await kvEntries(app.kvPath, ["parley", "inbox"])).length === 0, {
    message: "every inbox consumed",
  });
});
