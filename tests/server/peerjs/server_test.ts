/**
 * The PeerJS face over real sockets, a real hub and a real KV: what `peer`
 * 1.0.x answers, what it relays and how, its timeouts, and Parley's limits
 * and checks on top; two hubs on one KV for the cross-isolate rules.
 *
 * @module
 */
import assert from "node:assert/strict";
import { signToken } from "../../../lib/server/auth.ts";
import { PEERJS_KEYS } from "../../../lib/server/peerjs/mod.ts";
import { openPeer, peerSocket, sleep, startPeerjs } from "./_peerjs.ts";

const SECRET = "test-secret-of-32-bytes-or-more-0000";

Deno.test("PeerJS: OPEN, then OFFER/ANSWER/CANDIDATE/LEAVE relayed with src stamped", async () => {
  await using server = await startPeerjs();
  const alice = await openPeer(server.url, "alice");
  const bob = await openPeer(server.url, "bob");
  alice.send({ type: "OFFER", dst: "bob", src: "mallory", payload: { sdp: "o" }, extra: 1 });
  assert.deepEqual(await bob.next((f) => f.type === "OFFER"), {
    type: "OFFER",
    src: "alice",
    dst: "bob",
    payload: { sdp: "o" },
  });
  for (const type of ["ANSWER", "CANDIDATE", "LEAVE"] as const) {
    bob.send({ type, dst: "alice", payload: { n: type } });
    const got = await alice.next((f) => f.type === type);
    assert.deepEqual(got, { type, src: "bob", dst: "alice", payload: { n: type } });
  }
  // Unknown types are ignored, as by PeerJS: the socket stays and works.
  alice.send({ type: "SOMETHING-NEW", dst: "bob" });
  alice.send({ type: "HEARTBEAT" });
  alice.send({ type: "CANDIDATE", dst: "bob", payload: 1 });
  assert.equal((await bob.next((f) => f.type === "CANDIDATE")).type, "CANDIDATE");
  await Promise.all([alice.close(), bob.close()]);
});

Deno.test("PeerJS: refusals in PeerJS's words", async () => {
  await using server = await startPeerjs();
  const refused = async (params: Parameters<typeof peerSocket>[1]) => {
    const peer = await peerSocket(server.url, params);
    await peer.closed;
    return peer.frames;
  };
  assert.deepEqual(await refused({ id: "x", token: "t", key: "nope" }), [
    { type: "INVALID-KEY", payload: { msg: "Invalid key provided" } },
  ]);
  assert.deepEqual(await refused({ id: "x", token: null }), [
    { type: "ERROR", payload: { msg: "No id, token, or key supplied to websocket server" } },
  ]);
  const [bad] = await refused({ id: "-not an id", token: "t" });
  assert.equal(bad.type, "ERROR");
  assert.match((bad as { payload: { msg: string } }).payload.msg, /Invalid id/);
  const alice = await openPeer(server.url, "alice", "one");
  assert.deepEqual(await refused({ id: "alice", token: "two" }), [
    { type: "ID-TAKEN", payload: { msg: "ID is taken" } },
  ]);
  await alice.close();
});

Deno.test("PeerJS: the same token reconnects without OPEN; the new socket takes over", async () => {
  await using server = await startPeerjs();
  const first = await openPeer(server.url, "alice", "same");
  const again = await peerSocket(server.url, { id: "alice", token: "same" });
  assert.equal((await first.closed).code, 1000, "the old socket is let go");
  const bob = await openPeer(server.url, "bob");
  bob.send({ type: "OFFER", dst: "alice", payload: {} });
  await again.next((f) => f.type === "OFFER");
  assert.ok(!again.frames.some((f) => f.type === "OPEN"), "no OPEN on a reconnect (PeerJS)");
  await Promise.all([again.close(), bob.close()]);
});

Deno.test("PeerJS: frames for a peer not yet there wait, in order, then EXPIRE", async () => {
  await using server = await startPeerjs({ settings: { expireTimeoutMs: 1500 } });
  const alice = await openPeer(server.url, "alice");
  for (let n = 0; n < 3; n++) alice.send({ type: "CANDIDATE", dst: "late", payload: n });
  alice.send({ type: "LEAVE", dst: "late" }); // never held
  await sleep(200);
  const late = await openPeer(server.url, "late");
  await late.next((f) => f.type === "CANDIDATE" && f.payload === 2);
  assert.deepEqual(late.frames.slice(1).map((f) => "payload" in f && f.payload), [0, 1, 2]);
  const began = performance.now();
  alice.send({ type: "OFFER", dst: "never", payload: {} });
  alice.send({ type: "CANDIDATE", dst: "never", payload: {} });
  const expire = await alice.next((f) => f.type === "EXPIRE", 8_000);
  assert.deepEqual(expire, { type: "EXPIRE", src: "never", dst: "alice" });
  assert.ok(performance.now() - began >= 1400, "EXPIRE only after the expire timeout");
  await sleep(900);
  assert.equal(alice.frames.filter((f) => f.type === "EXPIRE").length, 1, "one EXPIRE per pair");
  await Promise.all([alice.close(), late.close()]);
});

Deno.test("PeerJS: a silent peer is dropped after the alive timeout; a beating one stays", async () => {
  await using server = await startPeerjs({ settings: { aliveTimeoutMs: 1500 } });
  const quiet = await openPeer(server.url, "quiet");
  const beating = await openPeer(server.url, "beating");
  const beat = setInterval(() => beating.send({ type: "HEARTBEAT" }), 150);
  try {
    assert.equal((await quiet.closed).code, 4000);
    await sleep(500);
    assert.equal(beating.socket.readyState, WebSocket.OPEN);
    // Its id is free again.
    const back = await openPeer(server.url, "quiet", "another token");
    await back.close();
  } finally {
    clearInterval(beat);
  }
  await beating.close();
});

Deno.test("PeerJS: hostile frames get ERROR and the socket is closed; nothing else breaks", async () => {
  await using server = await startPeerjs({ limits: { maxFrameBytes: 1024, rateBurst: 20 } });
  const witness = await openPeer(server.url, "witness");
  const cases: Array<[string, unknown, RegExp, number]> = [
    ["not JSON", "{nope", /must be JSON/, 1008],
    ["no type", { dst: "x" }, /'type' must be a string/, 1008],
    ["no dst", { type: "OFFER", payload: {} }, /'dst' must be a PeerJS id/, 1008],
    ["too big", { type: "OFFER", dst: "witness", payload: "x".repeat(2000) }, /too large/, 1009],
    [
      "too deep",
      {
        type: "OFFER",
        dst: "witness",
        payload: JSON.parse("[".repeat(40) + "]".repeat(40)),
      },
      /nest at most/,
      1008,
    ],
  ];
  for (const [what, frame, message, code] of cases) {
    const peer = await openPeer(server.url, "hostile");
    peer.send(frame);
    const error = await peer.next((f) => f.type === "ERROR");
    assert.match((error as { payload: { msg: string } }).payload.msg, message, what);
    assert.equal((await peer.closed).code, code, what);
  }
  const flooder = await openPeer(server.url, "flooder");
  for (let n = 0; n < 50; n++) flooder.send({ type: "HEARTBEAT" });
  await flooder.next((f) => f.type === "ERROR" && /Rate limit/.test(f.payload.msg));
  await flooder.closed;
  const binary = await openPeer(server.url, "binary");
  binary.socket.send(new Uint8Array([1, 2, 3]));
  await binary.next((f) => f.type === "ERROR" && /binary/.test(f.payload.msg));
  assert.ok(!witness.frames.some((f) => f.type !== "OPEN"), "nothing reached the witness");
  assert.equal(witness.socket.readyState, WebSocket.OPEN);
  await witness.close();
});

Deno.test("PeerJS: LEAVE without dst leaves the server and frees the id", async () => {
  await using server = await startPeerjs();
  const alice = await openPeer(server.url, "alice", "one");
  alice.send({ type: "LEAVE" });
  await alice.closed;
  const other = await openPeer(server.url, "alice", "two");
  await other.close();
});

Deno.test("PeerJS with access tokens: the token's subject is the only id it opens", async () => {
  await using server = await startPeerjs({ security: { authSecret: SECRET } });
  const sub = crypto.randomUUID();
  const token = await signToken(SECRET, { sub });
  const peer = await openPeer(server.url, sub, token);
  const refusal = async (id: string, token: string) => {
    const socket = await peerSocket(server.url, { id, token });
    await socket.closed;
    return (socket.frames[0] as { type: string; payload: { msg: string } });
  };
  const other = await refusal(crypto.randomUUID(), token);
  assert.equal(other.type, "ERROR");
  assert.match(other.payload.msg, /the id must be the access token's subject/);
  assert.match((await refusal(sub, "garbage")).payload.msg, /rejected/);
  await peer.close();
});

Deno.test("PeerJS across two hubs on one KV (BroadcastChannel off)", async (t) => {
  const kv = await Deno.openKv(":memory:");
  await using one = await startPeerjs({ kv, isolate: "iso-one" });
  await using two = await startPeerjs({ kv, isolate: "iso-two" });
  try {
    const alice = await openPeer(one.url, "alice", "a");
    const bob = await openPeer(two.url, "bob", "b");
    await t.step("frames cross, in order, src stamped", async () => {
      for (let n = 0; n < 20; n++) alice.send({ type: "CANDIDATE", dst: "bob", payload: n });
      await bob.next((f) => f.type === "CANDIDATE" && f.payload === 19);
      const got = bob.frames.filter((f) => f.type === "CANDIDATE");
      assert.deepEqual(got.map((f) => "payload" in f && f.payload), [...Array(20).keys()]);
      assert.ok(got.every((f) => "src" in f && f.src === "alice"));
      bob.send({ type: "ANSWER", dst: "alice", payload: "a" });
      await alice.next((f) => f.type === "ANSWER");
    });
    await t.step("an id held on one isolate is taken on the other", async () => {
      const again = await peerSocket(two.url, { id: "alice", token: "not a" });
      await again.closed;
      assert.equal(again.frames[0]?.type, "ID-TAKEN");
    });
    await t.step("frames wait for a peer that arrives on the other isolate", async () => {
      alice.send({ type: "OFFER", dst: "carol", payload: "early" });
      await sleep(100);
      const carol = await openPeer(two.url, "carol", "c");
      await carol.next((f) => f.type === "OFFER" && f.payload === "early", 5_000);
      await carol.close();
    });
    await t.step("the same token moves the id; the old socket is let go", async () => {
      const moved = await peerSocket(two.url, { id: "alice", token: "a" });
      await alice.closed;
      bob.send({ type: "OFFER", dst: "alice", payload: "to the new one" });
      await moved.next((f) => f.type === "OFFER" && f.payload === "to the new one");
      const claim = await kv.get<{ isolate: string }>(PEERJS_KEYS.claim("peerjs", "alice"));
      assert.equal(claim.value?.isolate, "iso-two");
      await moved.close();
    });
    await t.step("a claim is released when its peer goes", async () => {
      await bob.close();
      await sleep(100);
      assert.equal((await kv.get(PEERJS_KEYS.claim("peerjs", "bob"))).value, null);
    });
  } finally {
    await one.close();
    await two.close();
    kv.close();
  }
});

Deno.test("PeerJS sockets pass the hub's admission: origins and per-address limits", async () => {
  await using server = await startPeerjs({
    security: { allowedOrigins: ["https://app.example"], maxConnectionsPerIp: 1 },
  });
  const fromOrigin = async (origin: string, id: string) => {
    // Deno's WebSocket takes headers (the DOM type does not say so).
    const init = { headers: { origin } } as unknown as string[];
    const socket = new WebSocket(`${server.url}?key=peerjs&id=${id}&token=t`, init);
    const first = await new Promise<string>((resolve) => socket.onmessage = (e) => resolve(e.data));
    socket.close();
    return { socket, first: JSON.parse(first) };
  };
  const evil = await fromOrigin("https://evil.example", "eve");
  assert.equal(evil.first.type, "ERROR");
  assert.match(evil.first.payload.msg, /ALLOWED_ORIGINS/);
  const held = await openPeer(server.url, "alice");
  const second = await fromOrigin("https://app.example", "bob");
  assert.equal(second.first.type, "ERROR");
  assert.match(second.first.payload.msg, /has 1 open, the most it may have/);
  await held.close();
});
