import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";

type Notice = Extract<ServerFrame, { type: "notice" }>;
const notices = (frames: ServerFrame[]) =>
  frames.filter((f): f is Notice => f.type === "notice").map((f) => [f.code, f.sender_cid]);

Deno.test("the welcome names the cid, the user and the isolate", async () => {
  await using server = await startHub();
  const client = await rawClient(server.url, { name: "  Ada\u0000 " });
  assert.match(client.welcome.cid, /^cid:[A-Za-z0-9_-]{22,}$/);
  assert.match(client.welcome.user_id, /^[0-9a-f-]{36}$/);
  assert.equal(client.welcome.name, "Ada");
  assert.equal(client.welcome.isolate, server.hub.isolate);
  const anonymous = await rawClient(server.url, { user_id: "not-a-uuid" });
  assert.notEqual(anonymous.welcome.user_id, "not-a-uuid");
  assert.match(anonymous.welcome.name, /^Guest /);
  await client.close();
  await anonymous.close();
});

Deno.test("join, switch and leave send Skapi's notices to the whole group, joiner included", async () => {
  await using server = await startHub();
  const a = await rawClient(server.url);
  const b = await rawClient(server.url);
  assert.deepEqual(await a.request({ type: "join", group: "red" }), {
    type: "ack",
    id: (a.frames.at(-1) as { id: number }).id,
    result: { group: "red" },
  });
  await a.next((f) => f.type === "notice");
  await b.request({ type: "join", group: "red" });
  await a.next((f) => f.type === "notice" && f.sender_cid === b.welcome.cid);
  await b.request({ type: "join", group: "blue" }); // switch
  await a.next((f) => f.type === "notice" && f.code === "USER_LEFT");
  await b.request({ type: "join", group: null }); // leave
  assert.deepEqual(notices(a.frames), [
    ["USER_JOINED", a.welcome.cid],
    ["USER_JOINED", b.welcome.cid],
    ["USER_LEFT", b.welcome.cid],
  ]);
  // Notices go to the group's members: the leaver is no longer one.
  assert.deepEqual(notices(b.frames), [
    ["USER_JOINED", b.welcome.cid], // red
    ["USER_JOINED", b.welcome.cid], // blue
  ]);
  await b.close();
  await a.close();
});

Deno.test("a closed socket is announced as USER_DISCONNECTED and leaves presence", async () => {
  await using server = await startHub();
  const a = await rawClient(server.url);
  const b = await rawClient(server.url);
  await a.request({ type: "join", group: "g" });
  await b.request({ type: "join", group: "g" });
  await b.close();
  const gone = await a.next<Notice>((f) => f.type === "notice" && f.code === "USER_DISCONNECTED");
  assert.equal(gone.sender_cid, b.welcome.cid);
  const users = await a.request({ type: "users", group: "g" });
  assert.deepEqual(
    (users as { result: { list: { cid: string }[] } }).result.list.map((row) => row.cid),
    [a.welcome.cid],
  );
  await a.close();
});

Deno.test("broadcasts reach the group (sender too) and no one else, stamped by the server", async () => {
  await using server = await startHub();
  const [a, b, outsider] = await Promise.all([0, 1, 2].map(() => rawClient(server.url)));
  await a.request({ type: "join", group: "g" });
  await b.request({ type: "join", group: "g" });
  await outsider.request({ type: "join", group: "other" });
  const ack = await a.request({ type: "post", message: { text: "100% %E0 %" } });
  assert.deepEqual((ack as { result: unknown }).result, { delivered: 2 });
  for (const client of [a, b]) {
    const got = await client.next<Extract<ServerFrame, { type: "message" }>>((f) =>
      f.type === "message"
    );
    assert.deepEqual(got, {
      type: "message",
      message: { text: "100% %E0 %" },
      sender: a.welcome.user_id,
      sender_cid: a.welcome.cid,
      sender_rid: "g",
      name: a.welcome.name,
    });
  }
  assert.equal(outsider.frames.filter((f) => f.type === "message").length, 0);
  await Promise.all([a, b, outsider].map((c) => c.close()));
});

Deno.test("private messages reach every connection of the user; NOT_FOUND when none", async () => {
  await using server = await startHub();
  const phone = await rawClient(server.url);
  const userId = phone.welcome.user_id;
  // The same person's second device presents the identity's proof.
  const laptop = await rawClient(server.url, {}, { hello: { proof: phone.welcome.proof } });
  assert.equal(laptop.welcome.user_id, userId);
  const sender = await rawClient(server.url);
  const ack = await sender.request({ type: "post", message: "psst", recipient: userId });
  assert.deepEqual((ack as { result: unknown }).result, { delivered: 2 });
  for (const device of [phone, laptop]) {
    const got = await device.next((f) => f.type === "private");
    assert.equal((got as { message: string }).message, "psst");
    assert.equal((got as { sender_cid: string }).sender_cid, sender.welcome.cid);
  }
  const shouting = await sender.request({
    type: "post",
    message: "psst",
    recipient: userId.toUpperCase(),
  });
  assert.deepEqual((shouting as { result: unknown }).result, { delivered: 2 }, "any case");
  const missing = await sender.request({
    type: "post",
    message: "x",
    recipient: crypto.randomUUID(),
  });
  assert.equal((missing as { code: string }).code, "NOT_FOUND");
  await Promise.all([phone, laptop, sender].map((c) => c.close()));
});

Deno.test("RTC signals go to exactly the cid named, with the sender stamped", async () => {
  await using server = await startHub();
  const callee = await rawClient(server.url);
  const [caller, sameUser] = await Promise.all([
    rawClient(server.url),
    rawClient(server.url, {}, { hello: { proof: callee.welcome.proof } }),
  ]);
  const signals = [
    { kind: "call", call: "c1", media: { audio: true, video: true } },
    { kind: "description", call: "c1", description: { type: "offer", sdp: "v=0\r\n" } },
    {
      kind: "candidate",
      call: "c1",
      candidate: {
        candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host",
        sdpMid: "0",
        sdpMLineIndex: 0,
      },
    },
    { kind: "candidate", call: "c1", candidate: null },
    { kind: "accept", call: "c1" },
    { kind: "hangup", call: "c1" },
  ];
  for (const signal of signals) {
    const ack = await caller.request({ type: "signal", to: callee.welcome.cid, signal });
    assert.equal(ack.type, "ack");
  }
  const got = callee.frames.filter((f) => f.type === "signal");
  assert.deepEqual(got.map((f) => (f as { signal: unknown }).signal), signals);
  assert.ok(got.every((f) => (f as { sender_cid: string }).sender_cid === caller.welcome.cid));
  assert.equal(sameUser.frames.filter((f) => f.type === "signal").length, 0);
  const unknown = await caller.request({
    type: "signal",
    to: "cid:" + "Z".repeat(24),
    signal: { kind: "hangup", call: "c1" },
  });
  assert.equal((unknown as { code: string }).code, "NOT_FOUND");
  await Promise.all([caller, callee, sameUser].map((c) => c.close()));
});

Deno.test("renames are stored and announced", async () => {
  await using server = await startHub();
  const a = await rawClient(server.url, { name: "Ada" });
  await a.request({ type: "join", group: "g" });
  const ack = await a.request({ type: "rename", name: " Countess " });
  assert.deepEqual((ack as { result: unknown }).result, { name: "Countess" });
  const notice = await a.next<Notice>((f) => f.type === "notice" && f.code === "USER_RENAMED");
  assert.equal(notice.name, "Countess");
  const users = await a.request({ type: "users", group: "g" });
  assert.equal((users as { result: { list: { name: string }[] } }).result.list[0].name, "Countess");
  await a.close();
});

Deno.test("a silent connection is closed after two heartbeats and its group told", async () => {
  await using server = await startHub({ limits: { heartbeatMs: 100, resumeGraceMs: 100 } });
  const watcher = await rawClient(server.url);
  const silent = await rawClient(server.url);
  await watcher.request({ type: "join", group: "g" });
  await silent.request({ type: "join", group: "g" });
  // The watcher answers pings; the silent one never does.
  const answer = setInterval(() => watcher.send({ type: "pong" }), 50);
  try {
    const { code, reason } = await silent.closed;
    assert.equal(code, 4000);
    assert.match(reason, /Heartbeat timeout/);
    const gone = await watcher.next<Notice>((f) =>
      f.type === "notice" && f.code === "USER_DISCONNECTED"
    );
    assert.equal(gone.sender_cid, silent.welcome.cid);
    assert.ok(watcher.frames.some((f) => f.type === "ping"), "the server pinged");
    assert.equal(watcher.socket.readyState, WebSocket.OPEN);
  } finally {
    clearInterval(answer);
  }
  await watcher.close();
});

Deno.test("hub.close() says going away to everyone and clears presence; idempotent", async () => {
  const server = await startHub();
  const a = await rawClient(server.url);
  await a.request({ type: "join", group: "g" });
  await Promise.all([server.hub.close(), server.hub.close()]);
  assert.equal((await a.closed).code, 1001);
  const left = await Array.fromAsync(server.kv.list({ prefix: ["parley"] }));
  assert.deepEqual(left, []);
  await server.close();
});
