import assert from "node:assert/strict";
import {
  ConnectionState,
  type RealtimeCallbackEvent,
  RealtimeClient,
  RealtimeError,
  RealtimeEvent,
} from "../../lib/sdk/mod.ts";
import { serveWelcome, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

/** Collects a client's realtime events and waits for one. */
function recorder() {
  const events: RealtimeCallbackEvent[] = [];
  const waiters = new Set<() => void>();
  return {
    events,
    callback(event: RealtimeCallbackEvent) {
      events.push(event);
      for (const wake of [...waiters]) wake();
    },
    next(match: (event: RealtimeCallbackEvent) => boolean, ms = 5_000) {
      return new Promise<RealtimeCallbackEvent>((resolve, reject) => {
        const check = () => {
          const found = events.find(match);
          if (found) {
            cleanup();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no matching event in ${ms} ms: ${JSON.stringify(events.slice(-3))}`));
        }, ms);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<RealtimeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RealtimeError, `rejected with ${error}`);
    return error;
  }
  throw new Error("expected a rejection");
}

Deno.test("two clients meet in a group and exchange group and private messages", async () => {
  await using server = await startHub();
  const ada = new RealtimeClient({ url: server.url, name: "Ada" });
  const bob = new RealtimeClient({ url: server.url, name: "Bob" });
  const adaSaw = recorder();
  const bobSaw = recorder();
  await ada.connectRealtime(adaSaw.callback);
  await bob.connectRealtime(bobSaw.callback);
  assert.deepEqual(adaSaw.events[0], {
    type: "success",
    message: "Connected to WebSocket server.",
    reconnected: false,
    resumed: false,
    isolate: server.hub.isolate,
    missedMessages: false,
  });
  assert.match(ada.user!.cid, /^cid:/);
  assert.equal(ada.user!.name, "Ada");

  assert.deepEqual(await ada.joinRealtime({ group: "lobby" }), {
    type: "success",
    message: 'Joined realtime message group: "lobby".',
  });
  await bob.joinRealtime({ group: "lobby" });
  const joined = await adaSaw.next((e) => e.type === "notice" && e.sender === bob.user!.user_id);
  assert.deepEqual(joined, {
    type: "notice",
    code: "USER_JOINED",
    message: `User "${bob.user!.user_id}" has joined the message group.`,
    sender: bob.user!.user_id,
    sender_cid: bob.user!.cid,
    sender_rid: "lobby",
    name: "Bob",
  });

  const users = await bob.getRealtimeUsers();
  assert.deepEqual(new Set(users.list.map((u) => u.cid)), new Set([ada.user!.cid, bob.user!.cid]));
  assert.equal(users.endOfList, true);
  assert.deepEqual((await bob.getRealtimeGroups()).list, [{ group: "lobby", number_of_users: 2 }]);

  const text = "100% sure: %E0%A4%A a%20b";
  assert.deepEqual(await ada.postRealtime({ text }), { type: "success", message: "Message sent." });
  for (const saw of [adaSaw, bobSaw]) {
    assert.deepEqual(await saw.next((e) => e.type === "message"), {
      type: "message",
      message: { text },
      sender: ada.user!.user_id,
      sender_cid: ada.user!.cid,
      sender_rid: "lobby",
      name: "Ada",
      code: null,
    });
  }
  await bob.postRealtime("just you", ada.user!.user_id);
  const dm = await adaSaw.next((e) => e.type === "private");
  assert.equal((dm as { message: string }).message, "just you");
  assert.equal((dm as { sender_rid: null }).sender_rid, null);
  assert.equal(bobSaw.events.filter((e) => e.type === "private").length, 0);

  await ada.closeRealtime();
  assert.deepEqual(adaSaw.events.at(-1), {
    type: "close",
    message: "WebSocket connection closed.",
  });
  await bobSaw.next((e) => e.type === "notice" && e.code === "USER_DISCONNECTED");
  await bob.closeRealtime();
});

Deno.test("connectRealtime twice returns the same connection, even while in flight", async () => {
  await using server = await startHub();
  const client = new RealtimeClient({ url: server.url });
  const [first, second] = await Promise.all([client.connectRealtime(), client.connectRealtime()]);
  assert.equal(first, second);
  assert.equal(await client.connectRealtime(), first);
  assert.equal(server.hub.counts.sockets, 1);
  await client.closeRealtime();
});

Deno.test("bad arguments are refused locally with typed errors and the connection is untouched", async () => {
  await using server = await startHub();
  const client = new RealtimeClient({ url: server.url });
  await client.connectRealtime();
  const cases: Array<[Promise<unknown>, string, RegExp]> = [
    [client.joinRealtime({ group: "bad\nname" }), "INVALID_PARAMETER", /'group'/],
    [client.joinRealtime({ group: "x".repeat(65) }), "INVALID_PARAMETER", /'group'/],
    [client.postRealtime("x".repeat(40_000), crypto.randomUUID()), "PAYLOAD_TOO_LARGE", /32768/],
    [client.postRealtime(() => 1, crypto.randomUUID()), "INVALID_PARAMETER", /JSON value/],
    [client.postRealtime("x"), "INVALID_REQUEST", /joinRealtime/],
    [client.postRealtime("x", "no such\tthing"), "INVALID_PARAMETER", /'recipient'/],
    [
      client.postRealtime("x", "not joined"),
      "INVALID_REQUEST",
      /joinRealtime\(\{ group: "not joined" \}\)/,
    ],
    [client.getRealtimeUsers(), "INVALID_PARAMETER", /pass \{ group \}/],
    [client.getRealtimeUsers({ group: "g" }, { limit: 1001 }), "INVALID_PARAMETER", /'limit'/],
  ];
  for (const [promise, code, message] of cases) {
    const error = await rejection(promise);
    assert.equal(error.code, code);
    assert.match(error.message, message);
    assert.equal(error.name, "RealtimeError");
  }
  assert.equal(client.state, ConnectionState.Connected);
  await client.joinRealtime({ group: "fine" });
  await client.closeRealtime();
});

Deno.test("server errors reject with the server's code", async () => {
  await using server = await startHub();
  const client = new RealtimeClient({ url: server.url });
  await client.connectRealtime();
  const error = await rejection(client.postRealtime("hello?", crypto.randomUUID()));
  assert.equal(error.code, "NOT_FOUND");
  assert.match(error.message, /not connected/);
  await client.closeRealtime();
});

Deno.test("every promise settles: no server, closed mid-request, not connected", async () => {
  const unreachable = new RealtimeClient({ url: "ws://127.0.0.1:9/api/realtime" });
  const refused = await rejection(unreachable.connectRealtime());
  assert.equal(refused.code, "NOT_CONNECTED");
  assert.equal(unreachable.state, ConnectionState.Disconnected);

  const idle = new RealtimeClient({ url: "ws://127.0.0.1:9/api/realtime" });
  assert.equal((await rejection(idle.joinRealtime({ group: "g" }))).code, "NOT_CONNECTED");

  await using server = await startHub();
  const client = new RealtimeClient({ url: server.url });
  await client.connectRealtime();
  const pending = client.joinRealtime({ group: "g" });
  await client.closeRealtime();
  const cancelled = await rejection(pending);
  assert.ok(["CANCELLED", "NOT_CONNECTED"].includes(cancelled.code), cancelled.code);

  const connecting = new RealtimeClient({ url: server.url });
  const attempt = connecting.connectRealtime();
  await connecting.closeRealtime();
  assert.equal((await rejection(attempt)).code, "NOT_CONNECTED");
});

Deno.test("a request the server never answers times out", async () => {
  // A server that welcomes and then ignores everything.
  await using server = serveWelcome();
  const client = new RealtimeClient({
    url: server.url,
    timeouts: { request: 200 },
  });
  await client.connectRealtime();
  const error = await rejection(client.joinRealtime({ group: "g" }));
  assert.equal(error.code, "TIMEOUT");
  await client.closeRealtime();
});

Deno.test("a listener that throws is reported and the SDK carries on", async () => {
  await using server = await startHub();
  const client = new RealtimeClient({ url: server.url });
  const seen: string[] = [];
  client.on(RealtimeEvent.Notice, () => {
    throw new Error("app bug");
  });
  const errors: unknown[] = [];
  const originalError = console.error;
  console.error = (...args: unknown[]) => errors.push(args);
  try {
    await client.connectRealtime((event) => seen.push(event.type));
    await client.joinRealtime({ group: "g" });
    await client.postRealtime("after the bug");
    await waitFor(() => seen.includes("message"), { message: "the message after the bug" });
  } finally {
    console.error = originalError;
  }
  assert.ok(seen.includes("notice"), "the other listener still got the notice");
  assert.equal(errors.length, 1);
  assert.equal(client.state, ConnectionState.Connected);
  await client.closeRealtime();
});

Deno.test("after a lost connection the client reconnects with backoff and rejoins its group", async () => {
  await using server = await startHub();
  const client = new RealtimeClient({
    url: server.url,
    timeouts: { reconnectBase: 50, reconnectMax: 200 },
  });
  const saw = recorder();
  const states: ConnectionState[] = [];
  client.on(RealtimeEvent.ConnectionStateChanged, (state) => states.push(state));
  await client.connectRealtime(saw.callback);
  await client.joinRealtime({ group: "g" });
  // Drop the socket from the server's side without a goodbye.
  for (const connection of server.hub.registry.all()) connection.socket.close(1012, "restart");
  const reconnect = await saw.next((e) => e.type === "reconnect");
  assert.equal((reconnect as { attempt: number }).attempt, 1);
  await saw.next((e) => e.type === "success" && e.reconnected);
  assert.deepEqual(states, ["connecting", "connected", "reconnecting", "connected"]);
  const users = await client.getRealtimeUsers({ group: "g" });
  assert.deepEqual(users.list.map((u) => u.cid), [client.user!.cid], "back in its group");
  await client.closeRealtime();
});

Deno.test("fetchMore continues where the previous page ended", async () => {
  await using server = await startHub();
  const clients = await Promise.all(
    Array.from({ length: 5 }, () => new RealtimeClient({ url: server.url })).map(async (c) => {
      await c.connectRealtime();
      await c.joinRealtime({ group: "g" });
      return c;
    }),
  );
  const reader = clients[0];
  const first = await reader.getRealtimeUsers({}, { limit: 2 });
  const second = await reader.getRealtimeUsers({}, { limit: 2, fetchMore: true });
  const third = await reader.getRealtimeUsers({}, { limit: 2, fetchMore: true });
  const after = await reader.getRealtimeUsers({}, { limit: 2, fetchMore: true });
  assert.deepEqual([first, second, third].map((p) => p.list.length), [2, 2, 1]);
  assert.equal(third.endOfList, true);
  assert.deepEqual(after, { list: [], startKey: "end", endOfList: true });
  const all = [first, second, third].flatMap((p) => p.list.map((u) => u.cid));
  assert.equal(new Set(all).size, 5);
  await Promise.all(clients.map((c) => c.closeRealtime()));
});

Deno.test("a client without a url outside a browser is refused with a clear error", () => {
  assert.throws(() => new RealtimeClient(), /'url' is required outside a browser/);
});
