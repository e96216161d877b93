import assert from "node:assert/strict";
import { type RealtimeCallbackEvent, RealtimeClient } from "../../lib/sdk/mod.ts";
import { rawClient, serveWelcome, startHub } from "../_helpers/hub.ts";
import { waitFor } from "../_helpers/wait.ts";

Deno.test("notices the server coalesces (protocol v2) reach the app one by one, as v1 sends them", async () => {
  await using server = await startHub({ limits: { rateLimit: 10_000, rateBurst: 10_000 } });
  const events: RealtimeCallbackEvent[] = [];
  const sdk = new RealtimeClient({ url: server.url });
  await sdk.connectRealtime((event) => events.push(event));
  await sdk.joinRealtime({ group: "g" });
  const v1 = await rawClient(server.url);
  await v1.request({ type: "join", group: "g" });
  const crowd = await Promise.all(Array.from({ length: 20 }, () => rawClient(server.url)));
  await Promise.all(crowd.map((c) => c.request({ type: "join", group: "g" })));
  const sdkJoins = () =>
    events.flatMap((e) => e.type === "notice" && e.code === "USER_JOINED" ? [e.sender_cid] : []);
  const rawJoins = () =>
    v1.frames.flatMap((f) => f.type === "notice" && f.code === "USER_JOINED" ? [f.sender_cid] : []);
  await waitFor(() => sdkJoins().length === 22 && rawJoins().length === 21);
  assert.deepEqual(sdkJoins().slice(1), rawJoins(), "the same notices, in the same order");
  const posted = await sdk.postRealtime("after the storm");
  assert.equal(posted.type, "success");
  await waitFor(() => events.some((e) => e.type === "message"));
  for (const client of [v1, ...crowd]) await client.close();
  sdk.closeRealtime();
});

Deno.test("a post goes out as the text of { type, message, recipient, id }, its message written once", async () => {
  const got: string[] = [];
  // Acks every request, as the server would (a join's ack names its group).
  await using server = serveWelcome((socket) => {
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.id === undefined) return;
      got.push(event.data);
      const result = frame.type === "join" ? { group: frame.group } : { delivered: 1 };
      socket.send(JSON.stringify({ type: "ack", id: frame.id, result }));
    };
  });
  const sdk = new RealtimeClient({ url: server.url });
  await sdk.connectRealtime();
  const group = 'a "quoted" \\ group é';
  await sdk.joinRealtime({ group });
  const user = crypto.randomUUID().toUpperCase();
  const messages: unknown[] = [
    "plain",
    'quotes " and \\ and \u2028 and é 🎉',
    { nested: { list: [1, 2.5, null, true, { deep: "x" }] }, 'key with "quote"': -0 },
    [],
    null,
    { toJSON: () => ({ written: "by toJSON" }) },
    { toJSON: () => undefined },
  ];
  const sent: Array<Record<string, unknown>> = [];
  for (const message of messages) {
    await sdk.postRealtime(message, user);
    await sdk.postRealtime(message, group);
    await sdk.postRealtime(message);
    for (const recipient of [user, group, undefined]) {
      sent.push({ type: "post", message, recipient });
    }
  }
  const posts = got.slice(1);
  assert.equal(posts.length, sent.length);
  posts.forEach((text, i) => {
    const id = JSON.parse(text).id;
    assert.equal(text, JSON.stringify({ ...sent[i], id }));
  });
  await sdk.closeRealtime();
});
