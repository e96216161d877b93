/**
 * Skapi's behaviour, word for word, through the SDK against a real hub:
 * the texts, every callback kept, `user` after close, the error events, the
 * timing rules (waiting for a connecting socket, lists without one), the
 * group search rules, and the two call faults (a callee gone while it rings;
 * a callee that never answered, named in `rtc:closed`).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type RealtimeCallbackEvent,
  RealtimeClient,
  RealtimeError,
  type RtcClosedEvent,
} from "../../lib/sdk/mod.ts";
import { serveWelcome, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

/** Records a client's realtime events; waits for one. */
function recorder() {
  const events: RealtimeCallbackEvent[] = [];
  return {
    events,
    callback: (event: RealtimeCallbackEvent) => void events.push(event),
    async next(
      match: (event: RealtimeCallbackEvent) => boolean,
      ms = 5_000,
    ): Promise<RealtimeCallbackEvent & { message?: unknown }> {
      try {
        return await waitFor(() => events.find(match), { timeout: ms, interval: 10 });
      } catch {
        throw new Error(`no matching event in ${ms} ms: ${JSON.stringify(events.slice(-3))}`);
      }
    },
  };
}

Deno.test("Skapi's texts: join, switch and leave (names with spaces), post, close", async () => {
  await using server = await startHub();
  const ada = new RealtimeClient({ url: server.url });
  const saw = recorder();
  await ada.connectRealtime(saw.callback);
  assert.equal(saw.events[0].type, "success");
  assert.equal(saw.events[0].message, "Connected to WebSocket server.");

  assert.deepEqual(await ada.joinRealtime({ group: "HelloWorld" }), {
    type: "success",
    message: 'Joined realtime message group: "HelloWorld".',
  });
  assert.deepEqual(await ada.joinRealtime({ group: "Another Group Name" }), {
    type: "success",
    message: 'Joined realtime message group: "Another Group Name".',
  });
  assert.equal(ada.group, "Another Group Name");
  assert.deepEqual(await ada.postRealtime({ msg: "Hello World!" }, "Another Group Name"), {
    type: "success",
    message: "Message sent.",
  });
  const message = await saw.next((e) => e.type === "message");
  assert.equal((message as { sender_rid: string }).sender_rid, "Another Group Name");
  const users = await ada.getRealtimeUsers({ group: "Another Group Name" });
  assert.deepEqual(users.list.map((u) => u.cid), [ada.user!.cid]);

  assert.deepEqual(await ada.joinRealtime({ group: null }), {
    type: "success",
    message: "Left realtime message group.",
  });
  // Leaving again, and `{}` (no group), leave as well, as in Skapi.
  assert.deepEqual(await ada.joinRealtime({ group: "" }), {
    type: "success",
    message: "Left realtime message group.",
  });
  await ada.joinRealtime({ group: "HelloWorld" });
  assert.deepEqual(await ada.joinRealtime({}), {
    type: "success",
    message: "Left realtime message group.",
  });
  assert.equal(ada.group, null);

  const user = ada.user;
  await ada.closeRealtime();
  assert.deepEqual(saw.events.at(-1), { type: "close", message: "WebSocket connection closed." });
  assert.deepEqual(ada.user, user, "skapi.user stays set after closeRealtime");
  assert.ok(user?.user_id && user.cid.startsWith("cid:"));
});

Deno.test("a second connectRealtime keeps one connection and every callback, each event once", async () => {
  await using server = await startHub();
  const client = new RealtimeClient({ url: server.url });
  const first = recorder();
  const second = recorder();
  const socket = await client.connectRealtime(first.callback);
  assert.equal(await client.connectRealtime(second.callback), socket);
  assert.equal(await client.connectRealtime(first.callback), socket, "the same callback again");
  assert.equal(server.hub.counts.sockets, 1);
  await client.joinRealtime({ group: "g" });
  await client.postRealtime("once", "g");
  await first.next((e) => e.type === "message");
  await second.next((e) => e.type === "message");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(first.events.filter((e) => e.type === "message").length, 1);
  assert.equal(second.events.filter((e) => e.type === "message").length, 1);
  await client.closeRealtime();
  assert.equal(second.events.at(-1)?.type, "close");
});

Deno.test("error events: unexpected close, then Skapi's reconnect text; a refused socket", async () => {
  await using server = await startHub();
  const client = new RealtimeClient({
    url: server.url,
    timeouts: { reconnectBase: 50, reconnectMax: 100 },
  });
  const saw = recorder();
  await client.connectRealtime(saw.callback);
  for (const connection of server.hub.registry.all()) connection.socket.close(1012, "restart");
  const lost = await saw.next((e) => e.type === "error");
  assert.equal(lost.message, "Skapi: WebSocket unexpected close.");
  assert.equal((lost as { code: string }).code, "NOT_CONNECTED");
  const retry = await saw.next((e) => e.type === "reconnect");
  assert.equal(retry.message, "Reconnecting to WebSocket server...1");
  const back = await saw.next((e) => e.type === "success" && e.reconnected);
  assert.equal(back.message, "Connected to WebSocket server.");
  const types = saw.events.map((e) => e.type);
  assert.ok(types.indexOf("error") < types.indexOf("reconnect"), `order: ${types}`);
  await client.closeRealtime();

  // A server that refuses the upgrade: the socket's error reaches the callback.
  const refusing = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("no", { status: 500 }),
  );
  const refused = new RealtimeClient({ url: `ws://127.0.0.1:${refusing.addr.port}/api/realtime` });
  const heard = recorder();
  await assert.rejects(refused.connectRealtime(heard.callback), RealtimeError);
  const error = await heard.next((e) => e.type === "error");
  assert.equal(error.message, "Skapi: WebSocket connection error.");
  await refusing.shutdown();
});

Deno.test("giving up reconnecting tells the callback (not only the console)", async () => {
  // A server that welcomes, then closes as speaking another protocol version: final.
  await using server = serveWelcome((socket) =>
    setTimeout(() => socket.close(4002, "Protocol version 1 is not supported"), 50)
  );
  const client = new RealtimeClient({ url: server.url });
  const saw = recorder();
  await client.connectRealtime(saw.callback);
  const gaveUp = await saw.next((e) => e.type === "error" && /Gave up/.test(String(e.message)));
  assert.match(String(gaveUp.message), /not supported/);
  assert.equal(client.state, "disconnected");
  await client.closeRealtime();
});

Deno.test("posts, joins and calls made while the socket is connecting wait for it", async () => {
  await using server = await startHub();
  const bob = new RealtimeClient({ url: server.url });
  await bob.connectRealtime();
  const ada = new RealtimeClient({ url: server.url });
  // Skapi's docs call these right after connectRealtime, without awaiting it.
  const connected = ada.connectRealtime(() => {});
  const joined = ada.joinRealtime({ group: "RTCCall" });
  const posted = ada.postRealtime("hi", bob.user!.user_id);
  // The docs' next line: a post to the group being joined, before the join's answer.
  const broadcast = ada.postRealtime({ msg: "Hello World!" }, "RTCCall");
  const calling = ada.connectRTC({ cid: bob.user!.cid, media: false, ice: [] });
  await connected;
  assert.equal((await joined).message, 'Joined realtime message group: "RTCCall".');
  assert.equal((await posted).message, "Message sent.");
  assert.equal((await broadcast).message, "Message sent.");
  const connector = await calling;
  await connector.hangup();
  assert.equal(await connector.connection, null);
  await Promise.all([ada.closeRealtime(), bob.closeRealtime()]);
});

Deno.test("lists work without a socket (over HTTP), with Skapi's search rules", async () => {
  await using server = await startHub();
  const members = await Promise.all(
    ["Hello World", "HelloWorld", "HelloWorld", "Hell"].map(async (group) => {
      const client = new RealtimeClient({ url: server.url });
      await client.connectRealtime();
      await client.joinRealtime({ group });
      return client;
    }),
  );
  const offline = new RealtimeClient({ url: server.url });
  const names = async (params: Parameters<RealtimeClient["getRealtimeGroups"]>[0]) =>
    (await offline.getRealtimeGroups(params)).list.map((row) => row.group);
  assert.deepEqual(await names(undefined), ["Hell", "Hello World", "HelloWorld"]);
  assert.deepEqual(await names({ searchFor: "group", value: "Hello" }), [], "exact by default");
  assert.deepEqual(await names({ searchFor: "group", value: "HelloWorld" }), ["HelloWorld"]);
  assert.deepEqual(await names({ searchFor: "group", value: "Hello", condition: ">=" }), [
    "Hello World",
    "HelloWorld",
  ]);
  assert.deepEqual(
    await names({ searchFor: "number_of_users", value: 2, condition: ">=" }),
    ["HelloWorld"],
  );
  const users = await offline.getRealtimeUsers({ group: "Hello World" });
  assert.deepEqual(users.list.map((u) => u.cid), [members[0].user!.cid]);
  assert.equal(offline.state, "disconnected", "no socket was opened");
  const bad = await offline.getRealtimeGroups({ searchFor: "number_of_users", value: "x" as never })
    .catch((error) => error);
  assert.ok(bad instanceof RealtimeError && bad.code === "INVALID_PARAMETER", String(bad));
  // The same rules over the socket.
  const reader = members[0];
  assert.deepEqual((await reader.getRealtimeGroups({ value: "Hello" })).list, []);
  await Promise.all(members.map((c) => c.closeRealtime()));
});

/** Two clients; `ada` rings `bob` (no peer connection is needed while it rings). */
async function ringing(server: { url: string }, timeouts = {}) {
  const ada = new RealtimeClient({ url: server.url, timeouts });
  const bob = new RealtimeClient({
    url: server.url,
    // Bob does not come back by himself after a drop.
    timeouts: { reconnectBase: 60_000, reconnectMax: 60_000 },
  });
  const adaSaw = recorder();
  const bobSaw = recorder();
  await ada.connectRealtime(adaSaw.callback);
  await bob.connectRealtime(bobSaw.callback);
  const rtc: string[] = [];
  const connector = await ada.connectRTC(
    { cid: bob.user!.cid, media: false, ice: [] },
    (e) => void rtc.push(`${e.type}:${"state" in e ? e.state : ""}`),
  );
  await bobSaw.next((e) => e.type === "rtc:incoming");
  return { ada, bob, adaSaw, bobSaw, connector, rtc };
}

Deno.test("a callee that closes while it rings ends the ring at once, and is named", async () => {
  await using server = await startHub();
  const { ada, bob, adaSaw, connector, rtc } = await ringing(server);
  const started = Date.now();
  await bob.closeRealtime();
  assert.equal(await connector.connection, null);
  const closed = await adaSaw.next((e) => e.type === "rtc:closed") as RtcClosedEvent;
  assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
  assert.equal(closed.sender, bob.user!.user_id);
  assert.equal(closed.sender_cid, bob.user!.cid);
  assert.deepEqual(closed.message, { hungup: bob.user!.user_id });
  assert.equal(closed.code, null, "the callee's SDK rejected the call as it closed");
  assert.deepEqual(rtc, ["connectionstatechange:closed"], "the caller's callback ends on closed");
  await ada.closeRealtime();
});

Deno.test("a callee whose connection is gone while it rings: the ring ends then, not at its timeout", async () => {
  await using server = await startHub({ limits: { resumeGraceMs: 300 } });
  const { ada, bob, adaSaw, connector } = await ringing(server, { ring: 30_000 });
  const started = Date.now();
  // Bob's socket dies without a goodbye; his grace runs out; he is gone.
  for (const connection of server.hub.registry.all()) {
    if (connection.cid === bob.user!.cid) connection.socket.close(1012, "gone");
  }
  assert.equal(await connector.connection, null);
  const took = Date.now() - started;
  assert.ok(took < 5_000, `the ring ended after ${took} ms (the ring timeout is 30 s)`);
  const closed = await adaSaw.next((e) => e.type === "rtc:closed") as RtcClosedEvent;
  assert.equal(closed.code, "NOT_FOUND");
  assert.equal(closed.sender, bob.user!.user_id, "named though the callee never signalled");
  await Promise.all([ada.closeRealtime(), bob.closeRealtime()]);
});

Deno.test("a ring nobody answers: rtc:closed names the callee, who never signalled back", async () => {
  await using server = await startHub();
  const { ada, bob, adaSaw, bobSaw, connector } = await ringing(server, { ring: 300 });
  assert.equal(await connector.connection, null);
  const closed = await adaSaw.next((e) => e.type === "rtc:closed") as RtcClosedEvent;
  assert.equal(closed.code, "TIMEOUT");
  assert.equal(closed.sender, bob.user!.user_id);
  assert.deepEqual(closed.message, { hungup: bob.user!.user_id });
  // The callee hears the caller's hang-up: the other side ended it.
  const told = await bobSaw.next((e) => e.type === "rtc:closed") as RtcClosedEvent;
  assert.equal(told.code, null);
  assert.equal(told.sender, ada.user!.user_id);
  await Promise.all([ada.closeRealtime(), bob.closeRealtime()]);
});
