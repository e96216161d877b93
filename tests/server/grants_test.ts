/**
 * Grants on every operation when tokens are on: private messages and RTC
 * signals only to people in rooms the sender's token grants (unless it says
 * `dm: true`), lists only of granted rooms, no rename over the token's
 * name, the socket closed at the token's expiry, and tokens replaced on a
 * live connection. Real hub, real sockets, real KV.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { ServerFrame } from "../../lib/protocol/mod.ts";
import { RealtimeClient, type RealtimeError } from "../../lib/sdk/mod.ts";
import { signToken } from "../../lib/server/auth.ts";
import { rawClient, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

const SECRET = "grants-secret-of-32-bytes-or-more-00";

type Frame = ServerFrame & { code?: string; message?: string; result?: unknown };

/** A raw client whose hello carries a token for `rooms`. */
async function member(
  url: string,
  rooms: string[],
  extra: { name?: string; dm?: boolean; ttl?: number; sub?: string } = {},
) {
  const sub = extra.sub ?? crypto.randomUUID();
  const token = await signToken(SECRET, { sub, rooms, name: extra.name, dm: extra.dm }, extra.ttl);
  return await rawClient(url, {}, { hello: { token } });
}

const signal = { kind: "call", call: "c1", media: { audio: true, video: false } };

Deno.test("grants: private messages and signals reach only rooms the sender's token grants", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const ada = await member(server.url, ["team-a"]);
  const mate = await member(server.url, ["team-a"]);
  const board = await member(server.url, ["secret-board-meeting"]);
  await ada.request({ type: "join", group: "team-a" });
  await mate.request({ type: "join", group: "team-a" });
  await board.request({ type: "join", group: "secret-board-meeting" });

  const ok = await ada.request({ type: "post", message: "hi", recipient: mate.welcome.user_id });
  assert.deepEqual((ok as Frame).result, { delivered: 1 });
  const refused = await ada.request({
    type: "post",
    message: "let me in",
    recipient: board.welcome.user_id,
  }) as Frame;
  assert.equal(refused.code, "UNAUTHORIZED");
  assert.match(refused.message!, /grants no room .* private messages and calls reach only/);
  const call = await ada.request({ type: "signal", to: board.welcome.cid, signal }) as Frame;
  assert.equal(call.code, "UNAUTHORIZED");
  assert.match(call.message!, /relay the call signal as the access token grants no room/);
  assert.equal((await ada.request({ type: "signal", to: mate.welcome.cid, signal })).type, "ack");
  // Nothing reached the board member.
  await board.request({ type: "groups" });
  assert.equal(board.frames.some((f) => f.type === "private" || f.type === "signal"), false);
  // Someone in no room at all is out of reach too, while a stranger is simply not found.
  const idle = await member(server.url, ["team-a"]);
  const toIdle = await ada.request({ type: "post", message: "x", recipient: idle.welcome.user_id });
  assert.equal((toIdle as Frame).code, "UNAUTHORIZED");
  const gone = await ada.request({ type: "post", message: "x", recipient: crypto.randomUUID() });
  assert.equal((gone as Frame).code, "NOT_FOUND");
  await Promise.all([ada, mate, board, idle].map((c) => c.close()));
});

Deno.test("grants: a dm: true token may write to and call anyone connected", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const support = await member(server.url, ["help"], { dm: true });
  const board = await member(server.url, ["secret-board-meeting"]);
  await board.request({ type: "join", group: "secret-board-meeting" });
  const ack = await support.request({
    type: "post",
    message: "hello",
    recipient: board.welcome.user_id,
  });
  assert.deepEqual((ack as Frame).result, { delivered: 1 });
  await board.next((f) => f.type === "private");
  assert.equal(
    (await support.request({ type: "signal", to: board.welcome.cid, signal })).type,
    "ack",
  );
  await Promise.all([support, board].map((c) => c.close()));
});

Deno.test("grants: across isolates the sender's isolate refuses what the grant does not reach, and counts right", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  const kv = await Deno.openKv(path);
  try {
    const security = { authSecret: SECRET };
    const cluster = { broadcast: false };
    await using one = await startHub({ kv, isolate: "iso-one", cluster, security });
    await using two = await startHub({ kv, isolate: "iso-two", cluster, security });
    const ada = await member(one.url, ["team-a"]);
    // One user on iso-two with two connections: one in a room Ada's token grants, one not.
    const sub = crypto.randomUUID();
    const boardroom = await member(two.url, ["secret-board-meeting", "team-a"], { sub });
    const desk = await member(two.url, ["secret-board-meeting", "team-a"], { sub });
    const secret = await member(two.url, ["secret-board-meeting"]);
    await boardroom.request({ type: "join", group: "secret-board-meeting" });
    await desk.request({ type: "join", group: "team-a" });
    await secret.request({ type: "join", group: "secret-board-meeting" });
    // iso-one's directory has heard of every move (the bus announces them).
    const directory = one.hub.cluster.directory;
    await waitFor(() =>
      directory.groupSize("team-a") === 1 && directory.groupSize("secret-board-meeting") === 2
    );

    const reached = await ada.request({ type: "post", message: "hi", recipient: sub }) as Frame;
    assert.deepEqual(reached.result, { delivered: 1 }, "only the team-a connection counts");
    await desk.next((f) => f.type === "private" && (f as Frame).message === "hi", 10_000);

    for (
      const sent of [
        { type: "post", message: "sneaky", recipient: secret.welcome.user_id },
        { type: "signal", to: secret.welcome.cid, signal },
        { type: "signal", to: boardroom.welcome.cid, signal },
      ] as const
    ) {
      const refused = await ada.request(sent) as Frame;
      assert.equal(refused.code, "UNAUTHORIZED", `${sent.type} is refused on iso-one`);
      assert.match(refused.message!, /access token grants no room .* is in/);
    }

    // A route the directory cannot answer (here: it forgot iso-two's
    // connections) asks presence, and counts only the granted rooms too.
    directory.forget("iso-two");
    directory.heard("iso-two");
    const repaired = await ada.request({ type: "post", message: "again", recipient: sub }) as Frame;
    assert.deepEqual(repaired.result, { delivered: 1 });
    await desk.next((f) => f.type === "private" && (f as Frame).message === "again", 10_000);
    const outside = await ada.request({
      type: "post",
      message: "x",
      recipient: secret.welcome.user_id,
    }) as Frame;
    assert.equal(outside.type, "error", "nothing in a granted room: not acked as delivered");

    // The refused ones never arrived anywhere.
    await ada.request({ type: "post", message: "last", recipient: sub });
    await desk.next((f) => f.type === "private" && (f as Frame).message === "last", 10_000);
    for (const client of [boardroom, secret]) {
      assert.deepEqual(
        client.frames.filter((f) => f.type === "private" || f.type === "signal"),
        [],
      );
    }
    await Promise.all([ada, boardroom, desk, secret].map((c) => c.close()));
  } finally {
    kv.close();
    await Deno.remove(path).catch(() => {});
  }
});

Deno.test("grants: rooms listed and their users shown only when the token grants them", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const board = await member(server.url, ["secret-board-meeting"]);
  const ada = await member(server.url, ["team-*"]);
  await board.request({ type: "join", group: "secret-board-meeting" });
  await ada.request({ type: "join", group: "team-a" });
  const groups = await ada.request({ type: "groups" }) as Frame;
  assert.deepEqual(
    (groups.result as { list: { group: string }[] }).list.map((r) => r.group),
    ["team-a"],
    "secret-board-meeting is not even listed",
  );
  const users = await ada.request({ type: "users", group: "secret-board-meeting" }) as Frame;
  assert.equal(users.code, "UNAUTHORIZED");
  assert.match(users.message!, /does not grant it/);
  await Promise.all([board, ada].map((c) => c.close()));
});

Deno.test("grants: rename is refused when the token carries the name", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const named = await member(server.url, ["*"], { name: "Ada Lovelace" });
  assert.equal(named.welcome.name, "Ada Lovelace");
  const renamed = await named.request({ type: "rename", name: "The CEO" }) as Frame;
  assert.equal(renamed.code, "UNAUTHORIZED");
  assert.match(renamed.message!, /access token sets the name "Ada Lovelace"/);
  const free = await member(server.url, ["*"]);
  assert.equal((await free.request({ type: "rename", name: "Bob" })).type, "ack");
  await Promise.all([named, free].map((c) => c.close()));
});

Deno.test("grants: at the token's expiry the socket is closed with the reason", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const client = await member(server.url, ["*"], { ttl: 1 });
  assert.ok(client.welcome.expires! <= Date.now() + 1_000);
  await client.request({ type: "join", group: "g" });
  const closed = await client.closed;
  assert.equal(closed.code, 4401);
  assert.match(closed.reason, /Access token expired/);
  assert.equal(server.hub.counts.sockets, 0, "and it is gone, not suspended");
});

Deno.test("grants: an auth request replaces the token on the live connection, same user only", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const sub = crypto.randomUUID();
  const client = await member(server.url, ["team-*"], { ttl: 2, sub });
  await client.request({ type: "join", group: "team-a" });
  const later = await signToken(SECRET, { sub, rooms: ["team-*"] }, 600);
  const ack = await client.request({ type: "auth", token: later }) as Frame;
  assert.ok((ack.result as { expires: number }).expires > Date.now() + 500_000);
  const other = await client.request({
    type: "auth",
    token: await signToken(SECRET, { sub: crypto.randomUUID() }),
  }) as Frame;
  assert.equal(other.code, "UNAUTHORIZED");
  assert.match(other.message!, /another user/);
  const narrower = await client.request({
    type: "auth",
    token: await signToken(SECRET, { sub, rooms: ["lobby"] }),
  }) as Frame;
  assert.match(narrower.message!, /does not grant room "team-a"/);
  await new Promise((r) => setTimeout(r, 2_500)); // past the first token's expiry
  assert.equal(client.socket.readyState, WebSocket.OPEN, "still connected");
  assert.equal((await client.request({ type: "groups" })).type, "ack");
  await client.close();
});

Deno.test("grants: a bad token in the hello closes the socket with the reason; the SDK says UNAUTHORIZED", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const url = new URL(server.url);
  url.searchParams.set("hello", "1");
  const socket = new WebSocket(url);
  socket.onopen = () => socket.send(JSON.stringify({ type: "hello", token: "not-a-jwt" }));
  const closed = await new Promise<CloseEvent>((r) => socket.onclose = r);
  assert.equal(closed.code, 4401);
  assert.match(closed.reason, /access token is rejected/);
  const expired = await signToken(SECRET, { sub: crypto.randomUUID() }, 10, Date.now() - 60_000);
  const client = new RealtimeClient({ url: server.url, token: expired });
  await assert.rejects(client.connectRealtime(), (e: RealtimeError) => {
    assert.equal(e.code, "UNAUTHORIZED");
    assert.match(e.message, /expired/);
    return true;
  });
  await client.closeRealtime();
});

Deno.test("grants: with tokens the token's sub is the identity, whatever the query or proof claim", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const sub = crypto.randomUUID();
  const victim = crypto.randomUUID();
  const token = await signToken(SECRET, { sub, rooms: ["*"] });
  const client = await rawClient(server.url, { user_id: victim }, { hello: { token } });
  assert.equal(client.welcome.user_id, sub);
  assert.equal(client.welcome.proof, undefined, "no anonymous proof with tokens");
  await client.close();
});

Deno.test("a room pass (a token without sub): each bearer is their own user, in the pass's rooms only", async () => {
  await using server = await startHub({ security: { authSecret: SECRET } });
  const pass = await signToken(SECRET, { rooms: ["board-meeting"] });
  const ada = await rawClient(server.url, {}, { hello: { token: pass } });
  const bob = await rawClient(server.url, {}, { hello: { token: pass } });
  assert.notEqual(ada.welcome.user_id, bob.welcome.user_id, "one link, two people");
  assert.ok(ada.welcome.proof, "each gets an identity proof of their own");
  await ada.request({ type: "join", group: "board-meeting" });
  await bob.request({ type: "join", group: "board-meeting" });
  const ack = await ada.request({
    type: "post",
    message: "to Bob",
    recipient: bob.welcome.user_id,
  });
  assert.deepEqual((ack as Frame).result, { delivered: 1 }, "Bob alone, not every pass holder");
  await bob.next((f) => f.type === "private");
  const elsewhere = await ada.request({ type: "join", group: "other-room" }) as Frame;
  assert.equal(elsewhere.code, "UNAUTHORIZED");
  // Ada comes back with the pass and her proof: the same user again.
  const again = await rawClient(server.url, {}, {
    hello: { token: pass, proof: ada.welcome.proof },
  });
  assert.equal(again.welcome.user_id, ada.welcome.user_id);
  // A personal token is still refreshed only by its own user's; a pass names no one.
  const refreshed = await again.request({ type: "auth", token: pass });
  assert.equal(refreshed.type, "ack");
  await Promise.all([ada, bob, again].map((c) => c.close()));
});
